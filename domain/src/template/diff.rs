//! Word diff and similarity, for harmonising translations against a changed
//! Italian text and for spotting near-duplicate templates.
//!
//! Words are runs of non-whitespace; whitespace is not part of the diff
//! (a re-wrapped paragraph is not a change), so each op holds its words
//! joined by single spaces and the ops rebuild both texts word for word.

/// One run of a word diff; adjacent runs are never of the same kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffOp {
    Same(String),
    Removed(String),
    Added(String),
}

/// Most LCS table cells computed at once (16 MB of `u32`): past it the
/// quadratic table would stall a hub sharing two cores, so the diff drops
/// to whole lines, and past that to "all removed, all added". Common
/// leading and trailing words are matched first and cost nothing, so only
/// the changed middle counts: two 5,000-word texts differing in one
/// paragraph still get a word diff.
const CELL_BUDGET: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Same,
    Removed,
    Added,
}

/// Word-level diff of `old` into `new` (longest common subsequence of
/// words); case and punctuation count as changes.
pub fn word_diff(old: &str, new: &str) -> Vec<DiffOp> {
    let a: Vec<&str> = old.split_whitespace().collect();
    let b: Vec<&str> = new.split_whitespace().collect();
    let mut out = Ops::default();
    if let Some(steps) = align(&a, &b) {
        for (kind, i) in steps {
            out.push(kind, if kind == Kind::Added { b[i] } else { a[i] });
        }
        return out.0;
    }
    // Lines keep a paragraph that survived intact visible as kept even
    // when the words are too many to align one by one.
    let lines = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect()
    };
    let (la, lb) = (lines(old), lines(new));
    match align(&la, &lb) {
        Some(steps) => {
            for (kind, i) in steps {
                out.push(kind, if kind == Kind::Added { &lb[i] } else { &la[i] });
            }
        }
        None => {
            out.push(Kind::Removed, &a.join(" "));
            out.push(Kind::Added, &b.join(" "));
        }
    }
    out.0
}

/// `kept [-removed-] {+added+}`, the notation of `git diff --word-diff`.
pub fn diff_text(ops: &[DiffOp]) -> String {
    ops.iter()
        .map(|op| match op {
            DiffOp::Same(s) => s.clone(),
            DiffOp::Removed(s) => format!("[-{s}-]"),
            DiffOp::Added(s) => format!("{{+{s}+}}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How alike two texts are, from 0 (no word in common) to 1 (the same
/// words in the same order): `2 × common words / (words in a + words in
/// b)`, ignoring case and punctuation so that a fixed comma or capital does
/// not look like a different text. Two texts without words are alike (1).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (wa, wb) = (folded_words(a), folded_words(b));
    let total = wa.len() + wb.len();
    if total == 0 {
        return 1.0;
    }
    let common = match align(&wa, &wb) {
        Some(steps) => steps.iter().filter(|(k, _)| *k == Kind::Same).count(),
        // Too large to align: at least the common ends are certain.
        None => common_prefix(&wa, &wb) + common_suffix(&wa, &wb),
    };
    let ratio = (2 * common) as f64 / total as f64;
    ratio.clamp(0.0, 1.0)
}

fn folded_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Appends runs, merging a run into the previous one of the same kind.
#[derive(Default)]
struct Ops(Vec<DiffOp>);

impl Ops {
    fn push(&mut self, kind: Kind, text: &str) {
        if text.is_empty() {
            return;
        }
        let last = match (self.0.last_mut(), kind) {
            (Some(DiffOp::Same(s)), Kind::Same)
            | (Some(DiffOp::Removed(s)), Kind::Removed)
            | (Some(DiffOp::Added(s)), Kind::Added) => s,
            _ => {
                self.0.push(match kind {
                    Kind::Same => DiffOp::Same(text.to_owned()),
                    Kind::Removed => DiffOp::Removed(text.to_owned()),
                    Kind::Added => DiffOp::Added(text.to_owned()),
                });
                return;
            }
        };
        last.push(' ');
        last.push_str(text);
    }
}

fn common_prefix<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn common_suffix<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Steps turning `a` into `b`, each with the index of its unit (in `b` for
/// `Added`, in `a` otherwise), preferring removals first within a change;
/// `None` when the changed middle exceeds [`CELL_BUDGET`].
fn align<T: PartialEq>(a: &[T], b: &[T]) -> Option<Vec<(Kind, usize)>> {
    let pre = common_prefix(a, b);
    let suf = common_suffix(&a[pre..], &b[pre..]);
    let (ma, mb) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let (n, m) = (ma.len(), mb.len());
    let cells = (n + 1).checked_mul(m + 1)?;
    if cells > CELL_BUDGET {
        return None;
    }
    // lcs[i * w + j] = length of the LCS of ma[i..] and mb[j..]; computing
    // suffixes lets the walk below go forwards.
    let w = m + 1;
    let mut lcs = vec![0u32; cells];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * w + j] = if ma[i] == mb[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let mut steps: Vec<(Kind, usize)> = (0..pre).map(|i| (Kind::Same, i)).collect();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && ma[i] == mb[j] {
            steps.push((Kind::Same, pre + i));
            i += 1;
            j += 1;
        } else if j == m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
            steps.push((Kind::Removed, pre + i));
            i += 1;
        } else {
            steps.push((Kind::Added, pre + j));
            j += 1;
        }
    }
    steps.extend((a.len() - suf..a.len()).map(|i| (Kind::Same, i)));
    Some(steps)
}
