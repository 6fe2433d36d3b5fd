use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// Inverse of the escaping, to compare a rendering with the plain text.
fn unescape(html: &str) -> String {
    html.replace("<bdi>", "")
        .replace("</bdi>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn rebuild(ops: &[DiffOp], keep_added: bool) -> String {
    ops.iter()
        .filter_map(|op| match op {
            DiffOp::Same(s) => Some(s.as_str()),
            DiffOp::Removed(s) if !keep_added => Some(s.as_str()),
            DiffOp::Added(s) if keep_added => Some(s.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---- parsing and checks ----

#[test]
fn placeholders_tolerate_spaces_and_repeat() {
    let body = "Buongiorno {{ nome }}, l'appuntamento è il {{data}} alle {{\tora }}. {{nome}}";
    assert_eq!(placeholders(body), Ok(set(&["data", "nome", "ora"])));
}

#[test]
fn single_braces_are_text() {
    assert_eq!(placeholders("Modulo {A} e {x}, poi }"), Ok(BTreeSet::new()));
    let out = render("Modulo {A} per {{nome}}", "it", &vars(&[("nome", "Ana")]));
    assert_eq!(out.map(|r| r.html), Ok("Modulo {A} per Ana".to_owned()));
}

#[test]
fn empty_and_blank_bodies_are_refused() {
    assert_eq!(check("", None), Err(TemplateError::Empty));
    assert_eq!(check(" \n\t ", None), Err(TemplateError::Empty));
}

#[test]
fn length_limit_counts_characters() {
    let at_limit = "è".repeat(MAX_BODY_CHARS);
    assert_eq!(check(&at_limit, None), Ok(()));
    let over = "a".repeat(MAX_BODY_CHARS + 1);
    assert_eq!(
        check(&over, None),
        Err(TemplateError::TooLong {
            chars: MAX_BODY_CHARS + 1,
            max: MAX_BODY_CHARS
        })
    );
}

#[test]
fn unbalanced_braces_are_refused_with_position() {
    assert_eq!(
        check("Ciao {{nome", None),
        Err(TemplateError::Unclosed { at: 6 })
    );
    assert_eq!(
        check("Ciào {{nome {{data}}", None),
        Err(TemplateError::Unclosed { at: 6 })
    );
    assert_eq!(
        check("Ciao nome}} e {{data}}", None),
        Err(TemplateError::StrayClose { at: 10 })
    );
    assert_eq!(
        check("{{data}} e {nome}}", None),
        Err(TemplateError::StrayClose { at: 17 })
    );
    let msg = check("Ciao {{nome", None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("`{{`") && msg.contains("`}}`"), "{msg}");
}

#[test]
fn invalid_names_are_refused() {
    for bad in [
        "{{}}",
        "{{ }}",
        "{{Nome}}",
        "{{nome-cognome}}",
        "{{città}}",
        "{{a b}}",
        "{{{nome}}}",
        "{{nome\n}}",
    ] {
        let err = check(bad, None);
        assert!(
            matches!(err, Err(TemplateError::InvalidName { .. })),
            "{bad:?}: {err:?}"
        );
    }
    let long = format!("{{{{{}}}}}", "a".repeat(MAX_NAME_CHARS + 1));
    assert!(matches!(
        check(&long, None),
        Err(TemplateError::InvalidName { .. })
    ));
    let max = format!("{{{{{}}}}}", "a".repeat(MAX_NAME_CHARS));
    assert_eq!(check(&max, None), Ok(()));
    assert_eq!(check("{{n_2}} {{2n}}", None), Ok(()));
}

#[test]
fn invalid_name_message_is_short() {
    let body = format!("{{{{ {} }}}}", "x ".repeat(500));
    let msg = check(&body, None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("not a valid name") && msg.len() < 200, "{msg}");
}

#[test]
fn translation_must_match_the_reference() {
    let it = "Gentile {{nome}}, il permesso è pronto il {{data}} presso {{ufficio}}.";
    assert_eq!(
        check("Dear {{nome}}, ready on {{data}} at {{ufficio}}.", Some(it)),
        Ok(())
    );
    let err = check("Dear {{nome}}, ready at {{ufficio}} {{orario}}.", Some(it));
    assert_eq!(
        err,
        Err(TemplateError::Mismatch {
            missing: vec!["data".to_owned()],
            unknown: vec!["orario".to_owned()],
        })
    );
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.contains("{{data}}") && msg.contains("{{orario}}"),
        "{msg}"
    );
    assert!(matches!(
        check("Dear {{nome}}", Some("Gentile {{nome")),
        Err(TemplateError::Reference(_))
    ));
}

// ---- rendering ----

#[test]
fn render_escapes_text_and_values() {
    let out = render(
        "<b>Tom & Jerry</b> \"{{a}}\" '{{b}}'",
        "it",
        &vars(&[("a", "<script>x</script>"), ("b", "O'Neil & co")]),
    );
    assert_eq!(
        out,
        Ok(Rendered {
            html: "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; &quot;&lt;script&gt;x&lt;/script&gt;&quot; \
                   &#39;O&#39;Neil &amp; co&#39;"
                .to_owned(),
            direction: Direction::Ltr,
        })
    );
}

#[test]
fn missing_values_are_all_named() {
    let err = render(
        "{{nome}} {{data}} {{ora}} {{nome}}",
        "it",
        &vars(&[("data", "1")]),
    );
    assert_eq!(
        err,
        Err(TemplateError::MissingValues(vec![
            "nome".to_owned(),
            "ora".to_owned()
        ]))
    );
    let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("{{nome}}") && msg.contains("{{ora}}"), "{msg}");
}

#[test]
fn values_are_not_expanded_and_extra_values_are_ignored() {
    let out = render(
        "{{a}}",
        "it",
        &vars(&[("a", "{{b}}"), ("b", "no"), ("z", "unused")]),
    );
    assert_eq!(out.map(|r| r.html), Ok("{{b}}".to_owned()));
}

#[test]
fn arabic_and_urdu_render_rtl_with_isolates() {
    let v = vars(&[("nome", "Maria Rossi"), ("data", "12/03/2025")]);
    for lang in ["ar", "ur", "ur-PK", "ar_EG"] {
        let out = render("السيد {{nome}} — {{data}}", lang, &v);
        assert_eq!(
            out,
            Ok(Rendered {
                html: "السيد <bdi>Maria Rossi</bdi> — <bdi>12/03/2025</bdi>".to_owned(),
                direction: Direction::Rtl,
            }),
            "{lang}"
        );
    }
    let out = render("Sig. {{nome}}", "it", &v);
    assert_eq!(out.map(|r| r.html), Ok("Sig. Maria Rossi".to_owned()));
}

#[test]
fn direction_follows_language_and_script() {
    for rtl in [
        "ar",
        "AR",
        "ur",
        "fa",
        "he",
        "iw",
        "ps",
        "ckb",
        "ku-Arab",
        "pa-Arab",
        "sd",
        "yi",
        "dv",
        "ar-EG",
        "fa-IR-u-nu-latn",
        "uz-Arab-AF",
    ] {
        assert_eq!(direction(rtl), Direction::Rtl, "{rtl}");
    }
    for ltr in [
        "it", "en", "ku", "ku-Latn", "az-Latn", "pa", "ar-Latn", "zh-Hans", "", "???", "-",
        "x-arab",
    ] {
        assert_eq!(direction(ltr), Direction::Ltr, "{ltr}");
    }
    assert_eq!(Direction::Rtl.as_str(), "rtl");
    assert_eq!(Direction::Ltr.as_str(), "ltr");
}

#[test]
fn bidi_controls_in_values_are_dropped() {
    let out = render(
        "{{nome}} fine",
        "it",
        &vars(&[("nome", "a\u{202E}b\u{2066}c\u{2069}\u{200F}d")]),
    );
    assert_eq!(out.map(|r| r.html), Ok("abc\u{200F}d fine".to_owned()));
}

// ---- diff and similarity ----

#[test]
fn word_diff_merges_runs() {
    let ops = word_diff(
        "Il permesso è pronto domani in questura",
        "Il permesso di soggiorno è pronto lunedì in  questura",
    );
    assert_eq!(
        ops,
        vec![
            DiffOp::Same("Il permesso".to_owned()),
            DiffOp::Added("di soggiorno".to_owned()),
            DiffOp::Same("è pronto".to_owned()),
            DiffOp::Removed("domani".to_owned()),
            DiffOp::Added("lunedì".to_owned()),
            DiffOp::Same("in questura".to_owned()),
        ]
    );
    assert_eq!(
        diff_text(&ops),
        "Il permesso {+di soggiorno+} è pronto [-domani-] {+lunedì+} in questura"
    );
    assert_eq!(word_diff("", ""), vec![]);
    assert_eq!(word_diff("", "a b"), vec![DiffOp::Added("a b".to_owned())]);
}

#[test]
fn huge_diff_falls_back_to_lines_and_stays_correct() {
    let old: String = (0..6_000)
        .map(|i| format!("w{i}{}", if i % 10 == 9 { "\n" } else { " " }))
        .collect();
    let new: String = (0..6_000)
        .map(|i| {
            // Every third line changes, so whole lines survive the fallback.
            let w = if i % 30 == 0 {
                format!("v{i}")
            } else {
                format!("w{i}")
            };
            format!("{w}{}", if i % 10 == 9 { "\n" } else { " " })
        })
        .collect();
    let ops = word_diff(&old, &new);
    assert_eq!(words(&rebuild(&ops, false)), words(&old));
    assert_eq!(words(&rebuild(&ops, true)), words(&new));
    assert!(ops.iter().any(|op| matches!(op, DiffOp::Same(_))));
    let sim = similarity(&old, &new);
    assert!((0.0..=1.0).contains(&sim), "{sim}");
}

#[test]
fn long_texts_with_one_change_keep_a_word_diff() {
    let old: Vec<String> = (0..8_000).map(|i| format!("w{i}")).collect();
    let mut new = old.clone();
    new[4_000] = "nuovo".to_owned();
    let ops = word_diff(&old.join(" "), &new.join(" "));
    assert_eq!(
        ops,
        vec![
            DiffOp::Same(old[..4_000].join(" ")),
            DiffOp::Removed("w4000".to_owned()),
            DiffOp::Added("nuovo".to_owned()),
            DiffOp::Same(old[4_001..].join(" ")),
        ]
    );
    let sim = similarity(&old.join(" "), &new.join(" "));
    assert!((sim - 7_999.0 / 8_000.0).abs() < 1e-12, "{sim}");
}

#[test]
fn similarity_ignores_case_and_punctuation() {
    assert!((similarity("Ciao, Maria!", "ciao maria") - 1.0).abs() < 1e-12);
    assert!((similarity("a b c d", "a b x y") - 0.5).abs() < 1e-12);
    assert!(similarity("a b", "c d").abs() < 1e-12);
    assert!((similarity("", " ... ") - 1.0).abs() < 1e-12);
    assert!(similarity("", "a").abs() < 1e-12);
}

// ---- properties ----

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9_]{1,40}"
}

/// Text that cannot form `{{` or `}}` with its neighbours.
fn plain_text() -> impl Strategy<Value = String> {
    "[a-zA-Zèàé <>&\"'\n.,\u{0627}-\u{0645}]{0,12}"
}

/// A valid body: text and fields alternating, with the fields' names and
/// the text without its fields.
fn body_with(names: Vec<String>) -> impl Strategy<Value = (String, Vec<String>, Vec<String>)> {
    let n = names.len();
    (
        prop::collection::vec(plain_text(), n + 1),
        prop::collection::vec(prop::bool::ANY, n),
        Just(names),
    )
        .prop_map(move |(texts, spaced, names)| {
            let mut body = String::new();
            for (i, name) in names.iter().enumerate() {
                body.push_str(&texts[i]);
                if spaced[i] {
                    body.push_str(&format!("{{{{ {name} }}}}"));
                } else {
                    body.push_str(&format!("{{{{{name}}}}}"));
                }
            }
            body.push_str(&texts[n]);
            // Keep it non-blank so that the cases test fields, not Empty.
            body.push('.');
            let mut texts = texts;
            if let Some(last) = texts.last_mut() {
                last.push('.');
            }
            (body, names, texts)
        })
}

fn any_body() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "{{", "}}", "{", "}", " ", "a", "é", "<", "_", "\t", "\n", "\u{202E}", "{{a}}",
            "{{ b }}",
        ])
        .prop_map(str::to_owned),
        ".{0,3}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|parts| parts.concat())
}

fn fields_body(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| format!("x {{{{{n}}}}}"))
        .collect::<String>()
        + " fine"
}

proptest! {
    #[test]
    fn render_never_panics(
        body in any_body(),
        raw in ".{0,200}",
        lang in "[a-zA-Z_-]{0,12}",
        values in prop::collection::btree_map("[a-z]{1,2}", ".{0,20}", 0..6),
    ) {
        let _ = render(&body, &lang, &values);
        let _ = render(&raw, &lang, &values);
        let _ = check(&body, Some(&raw));
        let _ = placeholders(&raw);
    }

    #[test]
    fn escaping_is_complete(
        (body, names, texts) in prop::collection::vec(name(), 0..6).prop_flat_map(body_with),
        values in prop::collection::vec(".{0,30}", 6),
        rtl in prop::bool::ANY,
    ) {
        let vars: BTreeMap<String, String> = names
            .iter()
            .zip(&values)
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let out = render(&body, if rtl { "ar" } else { "it" }, &vars)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let bare = out.html.replace("<bdi>", "").replace("</bdi>", "");
        prop_assert!(!bare.contains(['<', '>', '"', '\'']), "{}", out.html);
        let mut expected = String::new();
        for (i, name) in names.iter().enumerate() {
            expected.push_str(&texts[i]);
            let value: String = vars[name]
                .chars()
                .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
                .collect();
            expected.push_str(&value);
        }
        expected.push_str(&texts[names.len()]);
        prop_assert_eq!(unescape(&out.html), expected);
        prop_assert_eq!(out.html.matches("<bdi>").count(), if rtl { names.len() } else { 0 });
    }

    #[test]
    fn placeholders_round_trip(
        (body, names, _) in prop::collection::vec(name(), 0..8).prop_flat_map(body_with),
    ) {
        prop_assert_eq!(placeholders(&body), Ok(names.into_iter().collect()));
        prop_assert_eq!(check(&body, Some(&body)), Ok(()));
    }

    #[test]
    fn translation_with_other_fields_is_refused_naming_them(
        shared in prop::collection::btree_set("s_[a-z0-9_]{0,20}", 0..4),
        only_ref in prop::collection::btree_set("r_[a-z]{1,8}", 0..3),
        only_tr in prop::collection::btree_set("t_[a-z]{1,8}", 0..3),
    ) {
        let reference = fields_body(&shared.iter().chain(&only_ref).collect::<Vec<_>>());
        let translation = fields_body(&only_tr.iter().chain(&shared).collect::<Vec<_>>());
        let result = check(&translation, Some(&reference));
        if only_ref.is_empty() && only_tr.is_empty() {
            prop_assert_eq!(result, Ok(()));
        } else {
            let missing: Vec<String> = only_ref.iter().cloned().collect();
            let unknown: Vec<String> = only_tr.iter().cloned().collect();
            let msg = result.clone().err().map(|e| e.to_string()).unwrap_or_default();
            for n in missing.iter().chain(&unknown) {
                let field = format!("{{{{{n}}}}}");
                prop_assert!(msg.contains(&field), "{}", msg);
            }
            prop_assert_eq!(result, Err(TemplateError::Mismatch { missing, unknown }));
        }
    }

    #[test]
    fn diff_rebuilds_both_texts(
        old in prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d", "Il", "è"]), 0..30),
        new in prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d", "Il", "è"]), 0..30),
        sep in prop::sample::select(vec![" ", "  ", "\n", " \t"]),
    ) {
        let (old, new) = (old.join(sep), new.join(" "));
        let ops = word_diff(&old, &new);
        prop_assert_eq!(words(&rebuild(&ops, false)), words(&old));
        prop_assert_eq!(words(&rebuild(&ops, true)), words(&new));
        let kind = |op: &DiffOp| std::mem::discriminant(op);
        prop_assert!(ops.windows(2).all(|w| kind(&w[0]) != kind(&w[1])));
        let non_empty = |op: &DiffOp| match op {
            DiffOp::Same(s) | DiffOp::Removed(s) | DiffOp::Added(s) => !s.is_empty(),
        };
        prop_assert!(ops.iter().all(non_empty));
        let sim = similarity(&old, &new);
        prop_assert!((0.0..=1.0).contains(&sim));
        prop_assert!((sim - similarity(&new, &old)).abs() < 1e-12);
        prop_assert!((similarity(&old, &old) - 1.0).abs() < 1e-12);
    }
}
