//! Writes the sample handouts to a folder, to look at them:
//! `cargo run -p handout --example write_samples -- DIR`.

#[path = "../tests/samples/mod.rs"]
mod samples;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".to_owned());
    for lang in ["it", "ar", "ur", "zh", "ti", "bn", "uk"] {
        let path = std::path::Path::new(&dir).join(format!("handout-{lang}.pdf"));
        std::fs::write(&path, handout::render(&samples::handout(lang))?)?;
        println!("{}", path.display());
    }
    Ok(())
}
