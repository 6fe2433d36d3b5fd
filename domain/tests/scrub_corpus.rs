//! The scrubber against a corpus of realistic operator notes
//! (`tests/corpus/notes.jsonl`, written by `tests/corpus/gen_notes.py`):
//! every labelled piece of personal data must be replaced (recall 100%),
//! and the rest of the note must survive (precision, reported and bounded
//! below), the keep-list items verbatim.
//!
//! Spans in the corpus are byte offsets into the UTF-8 text.

use std::collections::BTreeMap;
use std::ops::Range;

use domain::scrub::{find_personal_data_with_names, scrub, Kind};
use serde::Deserialize;

#[derive(Deserialize)]
struct Note {
    text: String,
    names: Vec<String>,
    spans: Vec<Span>,
    keep: Vec<String>,
}

#[derive(Deserialize)]
struct Span {
    start: usize,
    end: usize,
    kind: String,
}

const MIN_PRECISION: f64 = 0.97;
const MIN_NOTES: usize = 700;

fn corpus() -> Vec<Note> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/notes.jsonl");
    let text = std::fs::read_to_string(path).expect("the notes corpus is in the repository");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}", i + 1)))
        .collect()
}

fn covered(spans: &[Range<usize>], at: usize) -> bool {
    spans.iter().any(|s| s.contains(&at))
}

#[test]
fn corpus_recall_is_total_and_precision_high() {
    let notes = corpus();
    assert!(notes.len() >= MIN_NOTES, "only {} notes", notes.len());
    let mut missed = Vec::new();
    let mut wrong_kind = BTreeMap::<String, usize>::new();
    let mut per_kind = BTreeMap::<String, usize>::new();
    let (mut kept, mut other) = (0usize, 0usize);
    let mut over_scrubbed = Vec::new();
    let mut lost_keep = Vec::new();
    for (line, note) in notes.iter().enumerate() {
        let names: Vec<&str> = note.names.iter().map(String::as_str).collect();
        let found = find_personal_data_with_names(&note.text, &names);
        let found_spans: Vec<Range<usize>> = found.iter().map(|f| f.span.clone()).collect();
        let out = scrub(&note.text, &names);
        let labelled: Vec<Range<usize>> = note.spans.iter().map(|s| s.start..s.end).collect();
        for s in &note.spans {
            let piece = note
                .text
                .get(s.start..s.end)
                .expect("spans on char boundaries");
            assert!(
                Kind::from_label(&s.kind).is_some(),
                "line {}: kind {}",
                line + 1,
                s.kind
            );
            *per_kind.entry(s.kind.clone()).or_default() += 1;
            let whole = (s.start..s.end).all(|at| covered(&found_spans, at));
            if !whole || out.contains(piece) {
                missed.push(format!(
                    "line {}: {} {piece:?} in {:?} -> {out:?}",
                    line + 1,
                    s.kind,
                    note.text
                ));
            }
            let kind_ok = found.iter().any(|f| {
                f.span.start <= s.start && s.end <= f.span.end && f.kind.as_str() == s.kind
            });
            if whole && !kind_ok {
                *wrong_kind.entry(s.kind.clone()).or_default() += 1;
            }
        }
        // Precision over the characters that are not personal data (blank
        // space aside): the share left as written.
        let mut lost_here = String::new();
        for (at, c) in note.text.char_indices() {
            if c.is_whitespace() || covered(&labelled, at) {
                continue;
            }
            other += 1;
            if covered(&found_spans, at) {
                lost_here.push(c);
            } else {
                kept += 1;
            }
        }
        if !lost_here.is_empty() {
            over_scrubbed.push(format!(
                "line {}: lost {lost_here:?} in {:?}",
                line + 1,
                note.text
            ));
        }
        for k in &note.keep {
            if !out.contains(k.as_str()) {
                lost_keep.push(format!("line {}: {k:?} -> {out:?}", line + 1));
            }
        }
    }
    let precision = kept as f64 / other.max(1) as f64;
    println!(
        "notes: {}, labelled spans: {}, per kind: {per_kind:?}",
        notes.len(),
        per_kind.values().sum::<usize>()
    );
    let spans = per_kind.values().sum::<usize>();
    println!(
        "recall: {:.4} ({} of {spans} spans replaced), {} missed",
        (spans - missed.len()) as f64 / spans.max(1) as f64,
        spans - missed.len(),
        missed.len()
    );
    println!(
        "precision: {precision:.4} ({kept} of {other} non-personal characters kept), notes with over-scrubbing: {}",
        over_scrubbed.len()
    );
    println!("findings of another kind than labelled: {wrong_kind:?}");
    for o in over_scrubbed.iter().take(20) {
        println!("  {o}");
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
    assert!(
        lost_keep.is_empty(),
        "keep-list items lost:\n{}",
        lost_keep.join("\n")
    );
    assert!(
        precision >= MIN_PRECISION,
        "precision {precision:.4} < {MIN_PRECISION}"
    );
}
