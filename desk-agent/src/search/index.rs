//! The index: an `fst` map from every search key to its postings, searched
//! per query word exactly, by prefix and with a Levenshtein automaton, and
//! scored per concept (a word, or a glossary group matched in the query).

use super::normalise::{self, Token};
use domain::Glossary;
use fst::automaton::{Levenshtein, Str};
use fst::{Automaton, IntoStreamer, Map, MapBuilder, Streamer};
use std::collections::{BTreeMap, HashMap};

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Procedure,
    Card,
    Guidance,
    Template,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Procedure => "procedure",
            Kind::Card => "card",
            Kind::Guidance => "guidance",
            Kind::Template => "template",
        }
    }
}

/// One searchable item, as the desk's content gives it.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: Kind,
    /// The procedure it concerns; empty for general guidance.
    pub code: String,
    /// The item's own id: the code for procedures and cards, the guidance
    /// id, the template key.
    pub id: String,
    /// The item's language; `None` when it holds several (a procedure has
    /// its Italian and English names).
    pub language: Option<String>,
    /// Titles by language; the one in the asked language is shown, else the
    /// Italian one.
    pub titles: Vec<(String, String)>,
    /// Texts with their weight: names count more than steps.
    pub fields: Vec<(f32, String)>,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: Kind,
    pub code: String,
    pub id: String,
    pub title: String,
    pub language: String,
    pub score: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub hits: Vec<Hit>,
    pub did_you_mean: Vec<String>,
}

struct Meta {
    kind: Kind,
    code: String,
    id: String,
    language: Option<String>,
    titles: Vec<(String, String)>,
}

/// The glossary with its terms turned into search keys once, at build.
struct PreparedGlossary {
    groups: Vec<Vec<Vec<String>>>,
}

impl PreparedGlossary {
    fn new(glossary: &Glossary) -> Self {
        let groups = glossary
            .groups
            .iter()
            .map(|g| {
                g.terms
                    .iter()
                    .map(|t| {
                        normalise::tokens(t)
                            .into_iter()
                            .map(|t| t.key)
                            .collect::<Vec<_>>()
                    })
                    .filter(|keys: &Vec<String>| !keys.is_empty())
                    .collect()
            })
            .collect();
        Self { groups }
    }
}

/// While building: a term's postings (document → best field weight) and
/// how often each written form of it occurs.
type TermEntry = (BTreeMap<u32, f32>, BTreeMap<String, u32>);

pub struct Index {
    docs: Vec<Meta>,
    terms: Map<Vec<u8>>,
    postings: Vec<Vec<(u32, f32)>>,
    idf: Vec<f32>,
    surfaces: Vec<String>,
    glossary: PreparedGlossary,
}

/// How much a match counts, by how it was found.
const EXACT: f32 = 1.0;
const PREFIX: f32 = 0.8;
const PER_EDIT: f32 = 0.25;
/// A glossary synonym counts a little less than the words typed.
const SYNONYM: f32 = 0.8;
/// The item in the asked language first, when two tie.
const SAME_LANGUAGE: f64 = 1.1;
/// How much a document that answers only part of the query keeps: rare
/// words found count more than common words missed, but a document that
/// answers every word of the query comes first among equals.
const COVERAGE_FLOOR: f64 = 0.3;
/// A word of seven letters or more also finds the words that share its
/// first three quarters ("compilare" → "compilazione"), for this much.
const SHARED_ROOT: f32 = 0.6;
/// Bounds on how many index terms one query word may expand to.
const MAX_PREFIX_TERMS: usize = 30;
const MAX_FUZZY_TERMS: usize = 50;

/// One thing the query asks for: a word, or a glossary group whose term
/// appears in the query (any of its terms then answers it).
struct Concept {
    alternatives: Vec<(f32, Vec<String>)>,
    /// How many query words it stands for.
    span: usize,
}

impl Index {
    pub fn build(documents: Vec<Document>, glossary: &Glossary) -> Self {
        let mut by_term: BTreeMap<String, TermEntry> = BTreeMap::new();
        let mut docs = Vec::with_capacity(documents.len());
        for (n, d) in documents.into_iter().enumerate() {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            for (weight, text) in &d.fields {
                for Token { key, surface } in normalise::tokens(text) {
                    let (postings, surfaces) = by_term.entry(key).or_default();
                    let w = postings.entry(n).or_insert(0.0);
                    *w = w.max(*weight);
                    *surfaces.entry(surface).or_insert(0) += 1;
                }
            }
            docs.push(Meta {
                kind: d.kind,
                code: d.code,
                id: d.id,
                language: d.language,
                titles: d.titles,
            });
        }
        let total = docs.len().max(1) as f32;
        let mut builder = MapBuilder::memory();
        let mut postings = Vec::with_capacity(by_term.len());
        let mut idf = Vec::with_capacity(by_term.len());
        let mut surfaces = Vec::with_capacity(by_term.len());
        for (i, (term, (p, s))) in by_term.into_iter().enumerate() {
            // BTreeMap order is the byte order fst needs, so insert cannot fail.
            if builder.insert(&term, i as u64).is_err() {
                continue;
            }
            idf.push((1.0 + total / p.len() as f32).ln());
            postings.push(p.into_iter().collect());
            let best = s
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(s, _)| s)
                .unwrap_or_default();
            surfaces.push(best);
        }
        let terms = builder.into_map().into_fst().into_inner();
        let terms = Map::new(terms).unwrap_or_default();
        Self {
            docs,
            terms,
            postings,
            idf,
            surfaces,
            glossary: PreparedGlossary::new(glossary),
        }
    }

    pub fn documents(&self) -> usize {
        self.docs.len()
    }

    pub fn terms(&self) -> usize {
        self.postings.len()
    }

    /// Bytes held: the term dictionary, the postings and the titles.
    pub fn size_bytes(&self) -> usize {
        let fst = self.terms.as_fst().as_bytes().len();
        let postings: usize = self.postings.iter().map(|p| p.len() * 8 + 24).sum();
        let floats = self.idf.len() * 4;
        let surfaces: usize = self.surfaces.iter().map(|s| s.len() + 24).sum();
        let docs: usize = self
            .docs
            .iter()
            .map(|d| {
                d.code.len()
                    + d.id.len()
                    + d.titles
                        .iter()
                        .map(|(l, t)| l.len() + t.len() + 48)
                        .sum::<usize>()
                    + 96
            })
            .sum();
        fst + postings + floats + surfaces + docs
    }

    /// Index terms within reach of one query key, with how much each counts.
    /// `typed` is false for a glossary synonym: it is spelled right, so it
    /// is looked up exactly and by prefix, without the (costlier) automata.
    fn expand(&self, key: &str, typed: bool) -> Vec<(usize, f32)> {
        let mut found: HashMap<usize, f32> = HashMap::new();
        let mut put = |term: usize, weight: f32| {
            let w = found.entry(term).or_insert(0.0);
            *w = w.max(weight);
        };
        if let Some(t) = self.terms.get(key) {
            put(t as usize, EXACT);
        }
        let chars = key.chars().count();
        if chars >= 4 {
            let mut stream = self.terms.search(Str::new(key).starts_with()).into_stream();
            let mut n = 0;
            while let Some((_, t)) = stream.next() {
                put(t as usize, PREFIX);
                n += 1;
                if n >= MAX_PREFIX_TERMS {
                    break;
                }
            }
        }
        if !typed {
            return found.into_iter().collect();
        }
        if chars >= 7 {
            let root: String = key.chars().take((chars * 3 / 4).max(6)).collect();
            let mut stream = self
                .terms
                .search(Str::new(&root).starts_with())
                .into_stream();
            let mut n = 0;
            while let Some((_, t)) = stream.next() {
                put(t as usize, SHARED_ROOT);
                n += 1;
                if n >= MAX_PREFIX_TERMS {
                    break;
                }
            }
        }
        let edits = normalise::allowed_edits(chars);
        if edits > 0 {
            if let Ok(lev) = Levenshtein::new(key, edits) {
                let mut stream = self.terms.search(lev).into_stream();
                let mut n = 0;
                while let Some((term, t)) = stream.next() {
                    let d = normalise::distance(key, &String::from_utf8_lossy(term));
                    put(t as usize, 1.0 - PER_EDIT * d as f32);
                    n += 1;
                    if n >= MAX_FUZZY_TERMS {
                        break;
                    }
                }
            }
        }
        found.into_iter().collect()
    }

    /// Scores per document for one query key.
    fn key_scores(
        &self,
        key: &str,
        typed: bool,
        cache: &mut HashMap<(String, bool), HashMap<u32, f32>>,
    ) -> HashMap<u32, f32> {
        if let Some(s) = cache.get(&(key.to_string(), typed)) {
            return s.clone();
        }
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for (term, weight) in self.expand(key, typed) {
            let idf = self.idf[term];
            for &(doc, field) in &self.postings[term] {
                let s = scores.entry(doc).or_insert(0.0);
                *s = s.max(field * idf * weight);
            }
        }
        cache.insert((key.to_string(), typed), scores.clone());
        scores
    }

    /// The query's concepts: glossary groups found in it (a term matched
    /// word by word, each word forgiving the same typos as the index), and
    /// every other word on its own. Where two groups' terms overlap, the
    /// longer one wins ("assegni familiari" is the allowance, not the
    /// family).
    fn concepts(&self, keys: &[String]) -> Vec<Concept> {
        let same = |a: &str, b: &str| {
            a == b || {
                let edits = normalise::allowed_edits(a.chars().count().min(b.chars().count()));
                edits > 0 && normalise::distance(a, b) <= edits as usize
            }
        };
        // (group, start, len) of every group's longest match.
        let mut matches: Vec<(usize, usize, usize)> = Vec::new();
        for (g, group) in self.glossary.groups.iter().enumerate() {
            let mut matched: Option<(usize, usize)> = None;
            for term in group {
                if term.len() > keys.len() {
                    continue;
                }
                for start in 0..=keys.len() - term.len() {
                    let hit = term.iter().zip(&keys[start..]).all(|(t, k)| same(t, k));
                    if hit && matched.is_none_or(|(_, len)| term.len() > len) {
                        matched = Some((start, term.len()));
                    }
                }
            }
            if let Some((start, len)) = matched {
                matches.push((g, start, len));
            }
        }
        matches.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
        let mut covered = vec![false; keys.len()];
        let mut concepts: Vec<Concept> = Vec::new();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for (g, start, len) in matches {
            // A word in two groups ("spouse": of an EU citizen, by
            // marriage) is answered by either.
            if let Some(i) = spans.iter().position(|s| *s == (start, len)) {
                let typed = keys[start..start + len].to_vec();
                concepts[i].alternatives.extend(
                    self.glossary.groups[g]
                        .iter()
                        .filter(|t| **t != typed)
                        .map(|t| (SYNONYM, t.clone())),
                );
                continue;
            }
            if covered[start..start + len].iter().any(|c| *c) {
                continue;
            }
            spans.push((start, len));
            covered[start..start + len]
                .iter_mut()
                .for_each(|c| *c = true);
            let typed = keys[start..start + len].to_vec();
            let mut alternatives = vec![(1.0, typed.clone())];
            alternatives.extend(
                self.glossary.groups[g]
                    .iter()
                    .filter(|t| **t != typed)
                    .map(|t| (SYNONYM, t.clone())),
            );
            concepts.push(Concept {
                alternatives,
                span: len,
            });
        }
        for (key, covered) in keys.iter().zip(covered) {
            if !covered {
                concepts.push(Concept {
                    alternatives: vec![(1.0, vec![key.clone()])],
                    span: 1,
                });
            }
        }
        concepts
    }

    pub fn search(&self, query: &str, language: &str, limit: usize) -> Outcome {
        let tokens = normalise::query_tokens(query);
        if tokens.is_empty() || limit == 0 {
            return Outcome::default();
        }
        let keys: Vec<String> = tokens.iter().map(|t| t.key.clone()).collect();
        let concepts = self.concepts(&keys);
        let mut cache = HashMap::new();
        // Per document: summed concept scores and the share of the query's
        // words it answers.
        let words: usize = concepts.iter().map(|c| c.span).sum();
        let mut totals: HashMap<u32, (f32, f32)> = HashMap::new();
        for concept in &concepts {
            let mut best: HashMap<u32, (f32, f32)> = HashMap::new();
            for (weight, words) in &concept.alternatives {
                let mut sum: HashMap<u32, (f32, usize)> = HashMap::new();
                let typed = *weight >= 1.0;
                for w in words {
                    for (doc, s) in self.key_scores(w, typed, &mut cache) {
                        let e = sum.entry(doc).or_insert((0.0, 0));
                        e.0 += s;
                        e.1 += 1;
                    }
                }
                let n = words.len() as f32;
                for (doc, (s, found)) in sum {
                    let s = weight * s / n;
                    let b = best.entry(doc).or_insert((0.0, 0.0));
                    if s > b.0 {
                        *b = (s, found as f32 / n);
                    }
                }
            }
            for (doc, (s, share)) in best {
                let t = totals.entry(doc).or_insert((0.0, 0.0));
                t.0 += s;
                t.1 += share * concept.span as f32;
            }
        }
        let mut best: HashMap<(Kind, &str, &str), Hit> = HashMap::new();
        for (doc, (sum, answered)) in totals {
            let meta = &self.docs[doc as usize];
            let coverage = f64::from(answered) / words as f64;
            let mut score = f64::from(sum) * (COVERAGE_FLOOR + (1.0 - COVERAGE_FLOOR) * coverage);
            let doc_language = meta.language.as_deref();
            if doc_language.is_none_or(|l| l == language) {
                score *= SAME_LANGUAGE;
            }
            let (title_language, title) = meta
                .titles
                .iter()
                .find(|(l, _)| l == language)
                .or_else(|| meta.titles.iter().find(|(l, _)| l == "it"))
                .or(meta.titles.first())
                .cloned()
                .unwrap_or_default();
            let hit = Hit {
                kind: meta.kind,
                code: meta.code.clone(),
                id: meta.id.clone(),
                title,
                language: doc_language.map_or(title_language, str::to_string),
                score: (score * 1000.0).round() / 1000.0,
            };
            // One hit per item: a card or template held in several
            // languages shows once, in the asked language when it matched,
            // else in Italian, ranked by its best language's score.
            let preference =
                |h: &Hit| u8::from(h.language == language) * 2 + u8::from(h.language == "it");
            let slot = best.entry((meta.kind, &meta.code, &meta.id));
            slot.and_modify(|h| {
                let top = h.score.max(hit.score);
                if (preference(&hit), hit.score) > (preference(h), h.score) {
                    *h = hit.clone();
                }
                h.score = top;
            })
            .or_insert(hit);
        }
        let mut hits: Vec<Hit> = best.into_values().collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.kind.cmp(&b.kind))
                .then(a.code.cmp(&b.code))
                .then(a.id.cmp(&b.id))
        });
        hits.truncate(limit);
        let did_you_mean = if hits.is_empty() {
            self.suggestions(&tokens)
        } else {
            Vec::new()
        };
        Outcome { hits, did_you_mean }
    }

    /// For a query that found nothing: the desk's own words nearest to what
    /// was typed, reaching further than the search itself does.
    fn suggestions(&self, tokens: &[Token]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in tokens {
            let chars = t.key.chars().count();
            if chars < 3 {
                continue;
            }
            let edits = if chars < 5 { 1 } else { 2 };
            let Ok(lev) = Levenshtein::new(&t.key, edits) else {
                continue;
            };
            let mut candidates: Vec<(usize, usize, usize)> = Vec::new();
            let mut stream = self.terms.search(lev).into_stream();
            while let Some((term, i)) = stream.next() {
                let i = i as usize;
                let d = normalise::distance(&t.key, &String::from_utf8_lossy(term));
                candidates.push((d, usize::MAX - self.postings[i].len(), i));
                if candidates.len() >= MAX_FUZZY_TERMS {
                    break;
                }
            }
            candidates.sort();
            for (_, _, i) in candidates.into_iter().take(2) {
                let s = &self.surfaces[i];
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out.truncate(5);
        out
    }
}
