//! Without the system's CJK font: a Chinese handout fails with a message
//! naming the package, and every other language still renders. A test
//! binary of its own, because it changes the process's environment.

mod samples;

use handout::HandoutError;

#[test]
fn chinese_names_the_package_and_the_rest_still_renders() {
    // Only this path is searched when the variable is set.
    std::env::set_var(
        handout::CJK_FONT_ENV,
        "/nonexistent/NotoSansCJK-Regular.ttc",
    );
    match handout::render(&samples::handout("zh")) {
        Err(e @ HandoutError::CjkFontMissing { .. }) => {
            let message = e.to_string();
            assert!(
                message.starts_with("Manca il font per il cinese"),
                "{message}"
            );
            assert!(message.contains("The Chinese font is missing"), "{message}");
            assert!(message.contains("fonts-noto-cjk"), "{message}");
            assert!(
                message.contains("/nonexistent/NotoSansCJK-Regular.ttc"),
                "{message}"
            );
        }
        other => panic!("expected the missing CJK font, got {other:?}"),
    }
    for lang in ["it", "ar", "ur", "ti", "bn", "uk"] {
        let pdf = handout::render(&samples::handout(lang));
        assert!(pdf.is_ok(), "{lang}: {pdf:?}");
    }
}
