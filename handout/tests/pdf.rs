//! The handouts read back with Poppler, as a person's viewer and a screen
//! reader would: every font embedded (`pdffonts`), the card's words in every
//! script (`pdftotext`), mixed lines in logical order, the additions there,
//! markup printed as text; and the Arabic and Urdu pages drawn
//! (`pdftoppm`) into `docs/screenshots/`.
//!
//! Needs poppler-utils and, for Chinese, fonts-noto-cjk: `cargo xtask test`
//! installs both.

mod samples;

use std::path::{Path, PathBuf};
use std::process::Command;

use handout::{Addition, Column, Handout, HandoutError, Layout, Section};
use unicode_normalization::UnicodeNormalization;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs a Poppler tool on `pdf`; a missing tool names its package.
fn poppler(tool: &str, args: &[&str], pdf: &Path) -> Result<String, Box<dyn std::error::Error>> {
    // pdftotext writes to a file beside the PDF unless told `-`.
    let stdout: &[&str] = if tool == "pdftotext" { &["-"] } else { &[] };
    let out = Command::new(tool)
        .args(args)
        .arg(pdf)
        .args(stdout)
        .output()
        .map_err(|e| {
            format!("cannot run {tool} ({e}): install poppler-utils (cargo xtask test does)")
        })?;
    if !out.status.success() {
        return Err(format!("{tool} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// A PDF written for Poppler, removed when dropped. Not `tempfile`: as a
/// dev-dependency it turns on `std` in `bitflags`, which typst's tree
/// shares, and the test build would compile typst a second time.
struct Pdf {
    path: PathBuf,
}

impl Drop for Pdf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn write_pdf(handout: &Handout) -> Result<Pdf, Box<dyn std::error::Error>> {
    let rendered = handout::render_report(handout)?;
    assert!(
        rendered.missing_glyphs.is_empty(),
        "no font had {:?}",
        rendered.missing_glyphs
    );
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("handout-test-{}-{n}.pdf", std::process::id()));
    std::fs::write(&path, rendered.pdf)?;
    Ok(Pdf { path })
}

/// NFKC (Arabic presentation forms back to letters, full-width forms and
/// no-break spaces to ASCII), without joiners, with whitespace collapsed.
/// pdftotext wraps right-to-left runs in embedding marks, sometimes with no
/// space between a run and the next word: a mark counts as a space.
fn normalize(text: &str) -> String {
    let kept: String = text
        .nfkc()
        .filter(|c| !matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}'))
        .map(|c| match c {
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => ' ',
            c => c,
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every printed string of a column.
fn strings(column: &Column) -> Vec<&str> {
    let mut out = vec![column.title.as_str()];
    for s in &column.sections {
        out.push(&s.heading);
        out.extend(s.paragraphs.iter().map(String::as_str));
        out.extend(s.items.iter().map(String::as_str));
    }
    out
}

/// The words of `column` that `extracted` lacks. Words are compared, not
/// lines: the PDF breaks lines where the card has none. Chinese has no
/// spaces, so each of its strings is compared whole with all whitespace
/// removed on both sides.
fn missing_words(column: &Column, extracted: &str) -> Vec<String> {
    let text = normalize(extracted);
    let words: std::collections::HashSet<&str> = text.split(' ').map(trim_punctuation).collect();
    let unspaced: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut missing = Vec::new();
    for s in strings(column) {
        let s = normalize(s);
        if column.lang.starts_with("zh") {
            let unspaced_s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            if !unspaced.contains(&unspaced_s) {
                missing.push(s);
            }
            continue;
        }
        for w in s.split(' ').map(trim_punctuation).filter(|w| !w.is_empty()) {
            if !words.contains(w) {
                missing.push(w.to_owned());
            }
        }
    }
    missing
}

/// Punctuation that right-to-left extraction may put on the other side of
/// a word.
fn trim_punctuation(word: &str) -> &str {
    word.trim_matches(|c: char| ".,;:()!?،؛۔።፣".contains(c))
}

fn check_language(lang: &str) -> TestResult {
    let handout = samples::handout(lang);
    let pdf = write_pdf(&handout)?;

    let fonts = poppler("pdffonts", &[], &pdf.path)?;
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "pdffonts lists no font:\n{fonts}");
    for row in &rows {
        // Columns: name type encoding emb sub uni object-id; the name and
        // type have no spaces in typst's output, so the 4th field is emb.
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert!(cols.len() >= 7, "unexpected pdffonts row {row:?}");
        let emb = cols[cols.len() - 5];
        let sub = cols[cols.len() - 4];
        assert_eq!(emb, "yes", "{lang}: font not embedded: {row}");
        assert_eq!(sub, "yes", "{lang}: font not subset: {row}");
    }
    let expected_font = match lang {
        "ar" => "NotoNaskhArabic",
        "ur" => "NotoNastaliqUrdu",
        "bn" => "NotoSansBengali",
        "ti" => "NotoSansEthiopic",
        "zh" => "NotoSansCJK",
        _ => "NotoSans",
    };
    assert!(
        fonts.contains(expected_font),
        "{lang}: no {expected_font} in\n{fonts}"
    );

    let text = poppler("pdftotext", &["-enc", "UTF-8"], &pdf.path)?;
    let missing = missing_words(&handout.reference, &text);
    assert!(
        missing.is_empty(),
        "{lang}: Italian words missing: {missing:?}\n{text}"
    );
    match &handout.visitor {
        Some(visitor) if visitor.lang == "ur" => check_nastaliq_extraction(visitor, &text),
        Some(visitor) => {
            let missing = missing_words(visitor, &text);
            assert!(
                missing.is_empty(),
                "{lang}: words missing: {missing:?}\n{text}"
            );
        }
        None => {}
    }
    assert_kept_together(&drawn_lines(&pdf.path)?, lang);
    let normalized = normalize(&text);
    for addition in &handout.additions {
        assert!(
            normalized.contains(&normalize(&addition.label)),
            "{lang}: {}",
            addition.label
        );
        assert!(
            normalized.contains(&normalize(&addition.value)),
            "{lang}: {}",
            addition.value
        );
    }
    assert!(normalized.contains(&normalize(&handout.desk_name)));
    assert!(normalized.contains(&normalize(&handout.date)));
    Ok(())
}

/// No line break between "€" or "art." and its number: in every drawn
/// line, such a word has a number beside it (on either side, since a
/// right-to-left line draws the number first).
fn assert_kept_together(lines: &[Vec<String>], lang: &str) {
    let is_number = |w: &str| {
        w.trim_matches(|c: char| !c.is_ascii_digit())
            .chars()
            .any(|c| c.is_ascii_digit())
    };
    for line in lines {
        for (i, word) in line.iter().enumerate() {
            if word == "€" || word == "art." {
                let before = i.checked_sub(1).and_then(|j| line.get(j));
                let after = line.get(i + 1);
                assert!(
                    before.is_some_and(|w| is_number(w)) || after.is_some_and(|w| is_number(w)),
                    "{lang}: {word:?} parted from its number in {line:?}"
                );
            }
        }
    }
}

/// Known limit: Nastaliq sets each word's letters on a descending diagonal,
/// and pdftotext groups glyphs into lines and words by their position, so
/// it cuts Urdu words into pieces on several lines; its word comparison
/// cannot pass, with any PDF writer. What can be checked: every Urdu letter
/// of the card maps back to its character (the PDF's ToUnicode, and
/// typst-pdf's `/ActualText` for glyphs shared by several characters), and
/// the Latin words inside the Urdu text (office, amounts, law reference)
/// come back whole. The page itself is checked by eye in
/// `docs/screenshots/handout-ur.png`.
fn check_nastaliq_extraction(column: &Column, extracted: &str) {
    let text = normalize(extracted);
    let letters = |s: &str| -> std::collections::BTreeSet<char> {
        normalize(s)
            .chars()
            .filter(|c| ('\u{0600}'..='\u{06FF}').contains(c))
            .collect()
    };
    let expected: std::collections::BTreeSet<char> =
        strings(column).into_iter().flat_map(letters).collect();
    let found = letters(&text);
    let lost: Vec<&char> = expected.difference(&found).collect();
    assert!(expected.len() > 20, "the Urdu sample has too few letters");
    assert!(
        lost.is_empty(),
        "ur: letters that do not map back: {lost:?}"
    );
    for word in [
        "Questura", "286/1998", "70,46", "16,00", "marca", "bollo", "D.Lgs.",
    ] {
        assert!(text.contains(word), "ur: {word} not extracted whole");
    }
}

#[test]
fn italian_alone() -> TestResult {
    check_language("it")
}

#[test]
fn arabic() -> TestResult {
    check_language("ar")
}

#[test]
fn urdu() -> TestResult {
    check_language("ur")
}

#[test]
fn chinese() -> TestResult {
    check_language("zh")
}

#[test]
fn tigrinya() -> TestResult {
    check_language("ti")
}

#[test]
fn bengali() -> TestResult {
    check_language("bn")
}

#[test]
fn ukrainian() -> TestResult {
    check_language("uk")
}

/// Words of one line as pdftotext's TSV output gives them: left to right
/// as drawn, each word's characters in drawing order too (so an Arabic
/// word comes out reversed). Lines are keyed by (block, paragraph, line).
fn drawn_lines(pdf: &Path) -> Result<Vec<Vec<String>>, Box<dyn std::error::Error>> {
    let tsv = poppler("pdftotext", &["-tsv", "-enc", "UTF-8"], pdf)?;
    // (block, paragraph, line), then each word with its left edge.
    type Line = (String, Vec<(f64, String)>);
    let mut lines: Vec<Line> = Vec::new();
    for row in tsv.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        if f.len() < 12 || f[0] != "5" {
            continue;
        }
        let key = f[1..5].join("/");
        let left: f64 = f[6].parse()?;
        match lines.iter_mut().find(|(k, _)| *k == key) {
            Some((_, words)) => words.push((left, f[11].to_owned())),
            None => lines.push((key, vec![(left, f[11].to_owned())])),
        }
    }
    Ok(lines
        .into_iter()
        .map(|(_, mut words)| {
            words.sort_by(|a, b| a.0.total_cmp(&b.0));
            words.into_iter().map(|(_, w)| w).collect()
        })
        .collect())
}

/// `logical`, one line of a right-to-left paragraph, as the Unicode bidi
/// algorithm draws it, left to right.
fn drawn_by_bidi(logical: &str) -> String {
    let info = unicode_bidi::BidiInfo::new(logical, Some(unicode_bidi::Level::rtl()));
    let para = &info.paragraphs[0];
    info.reorder_line(para, para.range.clone()).into_owned()
}

/// A law reference and an amount inside Arabic text. The page draws the
/// line as the Unicode bidi algorithm orders it; pdftotext reports a line's
/// words as drawn, so the test compares them with the order computed by an
/// independent implementation of the algorithm (unicode-bidi): the same
/// order means the logical order is what the reader reads, right to left,
/// and what the inverse reordering gives back. (pdftotext's plain output of
/// a mixed line is its drawn order with embedding marks, not the logical
/// order; the tagged PDF keeps the logical order for screen readers.)
fn check_mixed_line(lang: &str, logical: &str) -> TestResult {
    let mut handout = samples::handout(lang);
    // Full width, so that the paragraph stays on one line.
    handout.layout = Layout::Stacked;
    handout.visitor = Some(Column {
        lang: lang.into(),
        title: "—".into(),
        sections: vec![Section {
            paragraphs: vec![logical.into()],
            ..Section::default()
        }],
    });
    let pdf = write_pdf(&handout)?;
    let lines = drawn_lines(&pdf.path)?;
    let drawn = lines
        .iter()
        .map(|words| normalize(&words.join(" ")))
        .find(|line| {
            line.contains("286/1998")
                && line.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
        })
        .ok_or_else(|| format!("no Arabic-script line with the law reference: {lines:?}"))?;
    assert_eq!(
        drawn,
        normalize(&drawn_by_bidi(logical)),
        "{lang}: mixed line drawn out of order"
    );
    Ok(())
}

#[test]
fn mixed_arabic_line_in_bidi_order() -> TestResult {
    check_mixed_line(
        "ar",
        "الأساس القانوني هو art. 5 D.Lgs. 286/1998 ويجب دفع € 70,46 قبل الموعد.",
    )
}

/// What typst would take as markup, code, math or an escape, in every kind
/// of field: printed as typed, and nothing evaluated (a `#panic` would fail
/// the render, a `#read` would fail the world).
#[test]
fn markup_in_any_field_prints_as_itself() -> TestResult {
    let tricky = [
        "#panic(\"no\")",
        "[#read(\"/etc/passwd\")]",
        "*non grassetto* _non corsivo_",
        "$x^2$ € 16,00",
        "\\u{41} \\\\ \\#",
        "#set page(width: 1cm)",
        "<etichetta> @riferimento `raw` // commento /* blocco */",
        "= non un titolo",
        "- non un elenco",
        "\"virgolette\" 'apici' -- --- ...",
    ];
    let strings: Vec<String> = tricky.iter().map(|s| (*s).to_owned()).collect();
    let handout = Handout {
        desk_name: "#Sportello [test]".into(),
        date: "$6$ *dicembre*".into(),
        reference: Column {
            lang: "it".into(),
            title: "#titolo *con* [markup]".into(),
            sections: vec![
                Section {
                    heading: "#heading \\ [x]".into(),
                    paragraphs: strings.clone(),
                    items: strings.clone(),
                    numbered: false,
                },
                Section {
                    items: strings.clone(),
                    numbered: true,
                    ..Section::default()
                },
            ],
        },
        visitor: None,
        additions: vec![Addition {
            label: "#etichetta".into(),
            value: "[#valore] $1$ \\n *x*".into(),
        }],
        layout: Layout::Auto,
    };
    let pdf = write_pdf(&handout)?;
    let text = poppler("pdftotext", &["-enc", "UTF-8"], &pdf.path)?;
    let normalized = normalize(&text);
    let mut expected: Vec<&str> = tricky.to_vec();
    expected.extend([
        "#Sportello [test]",
        "$6$ *dicembre*",
        "#titolo *con* [markup]",
        "#heading \\ [x]",
        "#etichetta",
        "[#valore] $1$ \\n *x*",
    ]);
    for s in expected {
        assert!(
            normalized.contains(&normalize(s)),
            "{s:?} not printed as typed in\n{text}"
        );
    }
    Ok(())
}

/// A right-to-left addition (the visitor's name in Arabic) and one in
/// Chinese on an Italian handout: both printed, the Chinese font found
/// because of the characters, not the language.
#[test]
fn additions_in_other_scripts() -> TestResult {
    let mut handout = samples::handout("it");
    handout.additions.push(Addition {
        label: "Nome".into(),
        value: "محمد علي".into(),
    });
    handout.additions.push(Addition {
        label: "名字".into(),
        value: "王小明".into(),
    });
    let pdf = write_pdf(&handout)?;
    let text = normalize(&poppler("pdftotext", &["-enc", "UTF-8"], &pdf.path)?);
    for s in [
        "Nome",
        "محمد",
        "علي",
        "名字",
        "王小明",
        "12 gennaio 2027, ore 9:30",
    ] {
        assert!(text.contains(&normalize(s)), "{s:?} missing in {text}");
    }
    Ok(())
}

#[test]
fn a_bad_language_code_is_refused_in_both_languages() {
    let mut handout = samples::handout("ar");
    if let Some(v) = handout.visitor.as_mut() {
        v.lang = "arabic".into();
    }
    match handout::render(&handout) {
        Err(e @ HandoutError::Language { .. }) => {
            let message = e.to_string();
            assert!(
                message.starts_with("Codice di lingua non valido"),
                "{message}"
            );
            assert!(
                message.contains("Invalid language code «arabic»"),
                "{message}"
            );
        }
        other => panic!("expected a language error, got {other:?}"),
    }
}

/// Draws the first page of the Arabic and Urdu handouts into
/// `docs/screenshots/`, where the README links them from.
#[test]
fn screenshots_of_arabic_and_urdu() -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir)?;
    for lang in ["ar", "ur"] {
        let pdf = write_pdf(&samples::handout(lang))?;
        let root = dir.join(format!("handout-{lang}"));
        let root = root.to_str().ok_or("non-UTF-8 path")?;
        let status = Command::new("pdftoppm")
            .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&pdf.path)
            .arg(root)
            .status()?;
        assert!(status.success(), "pdftoppm failed for {lang}");
        assert!(Path::new(&format!("{root}.png")).is_file());
    }
    Ok(())
}

/// The PDF's content streams, inflated.
fn content_streams(pdf: &[u8]) -> Vec<Vec<u8>> {
    use std::io::Read;
    let mut streams = Vec::new();
    let mut rest = pdf;
    while let Some(at) = find(rest, b"stream\n") {
        let body = &rest[at + b"stream\n".len()..];
        let Some(end) = find(body, b"endstream") else {
            break;
        };
        let mut inflated = Vec::new();
        if flate2::read::ZlibDecoder::new(&body[..end])
            .read_to_end(&mut inflated)
            .is_ok()
        {
            streams.push(inflated);
        }
        rest = &body[end + b"endstream".len()..];
    }
    streams
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Where pdftotext falls short (Urdu) or glyphs stand for several
/// characters (Bengali conjuncts), the text is still in
/// the PDF for copy and screen readers: typst-pdf writes a tagged PDF (a
/// structure tree, each text span marked with its `/Lang`) and wraps such
/// glyphs in `/ActualText` spans carrying their characters.
#[test]
fn tagged_text_for_copy_and_screen_readers() -> TestResult {
    // Arabic needs none of its own (lam-alef has a character of its own),
    // but is tagged.
    for (lang, min_actual_text) in [("ur", 50), ("bn", 20), ("ar", 0)] {
        let pdf = handout::render(&samples::handout(lang))?;
        assert!(
            find(&pdf, b"/StructTreeRoot").is_some(),
            "{lang}: not a tagged PDF"
        );
        let streams = content_streams(&pdf);
        let actual_text: usize = streams.iter().map(|s| count(s, b"/ActualText")).sum();
        // On the structure elements or on the marked text itself, as
        // typst-pdf sees fit.
        let lang_key = format!("/Lang({lang})");
        let tagged_lang = count(&pdf, lang_key.as_bytes())
            + streams
                .iter()
                .map(|s| count(s, lang_key.as_bytes()))
                .sum::<usize>();
        assert!(
            actual_text >= min_actual_text,
            "{lang}: {actual_text} /ActualText spans in {} streams, expected at least {min_actual_text}",
            streams.len()
        );
        assert!(tagged_lang > 0, "{lang}: no span tagged /Lang({lang})");
        // Italian is the document's language, in the catalog.
        assert!(
            find(&pdf, b"/Lang(it)").is_some(),
            "{lang}: the document is not /Lang(it)"
        );
    }
    Ok(())
}

/// A long card breaks across pages, and a translation that lacks sections
/// (not yet translated) leaves their cells empty instead of shifting the
/// rest out of line.
#[test]
fn long_cards_and_missing_sections() -> TestResult {
    let mut handout = samples::handout("ar");
    for n in 1..=6 {
        let mut section = handout.reference.sections[1].clone();
        section.heading = format!("Documenti, parte {n}");
        section.items = (1..=12)
            .map(|i| format!("Documento {n}.{i}: copia di tutte le pagine del passaporto"))
            .collect();
        handout.reference.sections.push(section);
    }
    if let Some(visitor) = handout.visitor.as_mut() {
        visitor.sections.truncate(2);
    }
    let rendered = handout::render_report(&handout)?;
    assert!(
        rendered.pages >= 2,
        "{} page(s) for a long card",
        rendered.pages
    );
    assert!(rendered.missing_glyphs.is_empty());
    let pdf = write_pdf(&handout)?;
    let text = normalize(&poppler("pdftotext", &["-enc", "UTF-8"], &pdf.path)?);
    assert!(text.contains("Documento 6.12: copia di tutte le pagine del passaporto"));
    Ok(())
}

/// A value typed in a text area keeps its line breaks, and a tab or a
/// control character does not break the render.
#[test]
fn line_breaks_and_control_characters_in_additions() -> TestResult {
    let mut handout = samples::handout("it");
    handout.additions = vec![Addition {
        label: "Da portare".into(),
        value: "marca da bollo\ncopia del passaporto\r\nfoto\ttessera\u{7}".into(),
    }];
    let pdf = write_pdf(&handout)?;
    let text = poppler("pdftotext", &["-enc", "UTF-8"], &pdf.path)?;
    let lines: Vec<String> = text.lines().map(normalize).collect();
    for expected in ["marca da bollo", "copia del passaporto"] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} not a line of its own in\n{text}"
        );
    }
    assert!(normalize(&text).contains("foto tessera"), "{text}");
    Ok(())
}
