//! The counts kept on ingest: one cube per pair of counted dimensions, each
//! split by week. Every published table has at most two dimensions plus a
//! period of weeks, so each one is a sum over a single cube (`cube_for`),
//! while a cube keyed by all twelve dimensions would hold about one cell
//! per record and cost one write per record.
//!
//! A cube's cells for one week are one sled value (`key`), rewritten whole
//! when a group commit touches that week: a few dozen values per commit
//! instead of a write per cell.

use super::{StorageError, COUNT_DIMENSIONS};
use domain::RawRecord;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

pub(crate) const DIMS: usize = COUNT_DIMENSIONS.len();
/// `week` is the first counted dimension and splits every cube.
const WEEK: usize = 0;
/// One cube per pair of the dimensions other than the week.
pub(crate) const CUBES: usize = (DIMS - 1) * (DIMS - 2) / 2;
/// The dimensions counted from the first hub version (week to
/// nationality); those added later (`mediator`) come after them.
pub(crate) const FIRST_DIMS: usize = 11;
/// The cubes of the first hub version: their numbers, which stored keys
/// carry, never change.
pub(crate) const FIRST_CUBES: usize = (FIRST_DIMS - 1) * (FIRST_DIMS - 2) / 2;

/// The dimensions (indices into `COUNT_DIMENSIONS`) of each cube: the
/// first version's pairs in their order, then, for each dimension added
/// since, its pairs with every dimension before it, so that a stored
/// cube's number keeps its meaning when a dimension is added.
const PAIRS: [(usize, usize); CUBES] = {
    let mut out = [(1, 2); CUBES];
    let (mut a, mut n) = (1, 0);
    while a < FIRST_DIMS {
        let mut b = a + 1;
        while b < FIRST_DIMS {
            out[n] = (a, b);
            n += 1;
            b += 1;
        }
        a += 1;
    }
    let mut b = FIRST_DIMS;
    while b < DIMS {
        let mut a = 1;
        while a < b {
            out[n] = (a, b);
            n += 1;
            a += 1;
        }
        b += 1;
    }
    out
};

/// Where `mediator` is in `COUNT_DIMENSIONS`.
pub(crate) const MEDIATOR: usize = FIRST_DIMS;

/// The dimensions (indices into `COUNT_DIMENSIONS`) of cube `c`.
pub(crate) fn pair(c: usize) -> (usize, usize) {
    PAIRS.get(c).copied().unwrap_or((1, 2))
}

/// The cube that answers a table over `dims` (week excluded, at most two)
/// and, for each of `dims`, whether it is the cube's first (0) or second
/// (1) dimension.
pub(crate) fn cube_for(dims: &[usize]) -> Option<(usize, Vec<usize>)> {
    if dims.len() > 2 || dims.iter().any(|d| *d == WEEK || *d >= DIMS) {
        return None;
    }
    (0..CUBES).find_map(|c| {
        let (a, b) = pair(c);
        let at: Option<Vec<usize>> = dims
            .iter()
            .map(|d| match d {
                d if *d == a => Some(0),
                d if *d == b => Some(1),
                _ => None,
            })
            .collect();
        at.filter(|at| at.len() != 2 || at[0] != at[1])
            .map(|at| (c, at))
    })
}

/// A record's value for every counted dimension, in `COUNT_DIMENSIONS` order.
pub(crate) fn values(raw: &RawRecord) -> [&str; DIMS] {
    [
        &raw.week,
        &raw.desk_id,
        &raw.procedure,
        &raw.channel,
        &raw.language,
        &raw.outcome,
        &raw.referral,
        &raw.duration_band,
        &raw.age_band,
        &raw.sex,
        &raw.nationality,
        mediator_value(&raw.mediator),
    ]
}

/// A record that does not say is counted as `unknown`, so that tables
/// name it rather than show an empty value.
fn mediator_value(text: &str) -> &str {
    if text.is_empty() {
        domain::MEDIATOR_UNKNOWN
    } else {
        text
    }
}

/// The same values, read from a checked record without copying them.
pub(crate) fn record_values(r: &domain::AnonymisedRecord) -> [&str; DIMS] {
    let [desk, week, procedure, channel, language, outcome, referral, duration, age, sex, nationality, _, _, mediator] =
        r.texts();
    [
        week,
        desk,
        procedure,
        channel,
        language,
        outcome,
        referral,
        duration,
        age,
        sex,
        nationality,
        mediator_value(mediator),
    ]
}

/// `c`, cube number, week.
pub(crate) fn key(cube: usize, week: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(week.len() + 2);
    k.push(b'c');
    k.push(cube as u8);
    k.extend_from_slice(week.as_bytes());
    k
}

/// The cube and week a stored key names.
pub(crate) fn parse_key(k: &[u8]) -> Result<(usize, String), StorageError> {
    match k {
        [b'c', cube, week @ ..] if (*cube as usize) < CUBES => {
            Ok((*cube as usize, String::from_utf8_lossy(week).into_owned()))
        }
        _ => Err(StorageError::Corrupt("counts key is damaged".into())),
    }
}

/// One week of one cube: (first value, second value) → count.
pub(crate) type Cells = BTreeMap<(String, String), u64>;

/// Cells as u16 length + bytes for each value, then the count, u64 BE.
pub(crate) fn encode(cells: &Cells) -> Vec<u8> {
    let mut out = Vec::with_capacity(cells.len() * 32);
    for ((a, b), n) in cells {
        for v in [a, b] {
            out.extend_from_slice(&(v.len() as u16).to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
        out.extend_from_slice(&n.to_be_bytes());
    }
    out
}

pub(crate) fn decode(mut bytes: &[u8]) -> Result<Cells, StorageError> {
    let mut cells = Cells::new();
    while !bytes.is_empty() {
        let a = take_text(&mut bytes)?;
        let b = take_text(&mut bytes)?;
        let n = <[u8; 8]>::try_from(take(&mut bytes, 8)?).map_err(|_| damaged())?;
        cells.insert((a, b), u64::from_be_bytes(n));
    }
    Ok(cells)
}

fn damaged() -> StorageError {
    StorageError::Corrupt("counts value is damaged".into())
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], StorageError> {
    let (head, rest) = bytes.split_at_checked(n).ok_or_else(damaged)?;
    *bytes = rest;
    Ok(head)
}

fn take_text(bytes: &mut &[u8]) -> Result<String, StorageError> {
    let len = take(bytes, 2)?;
    let len = u16::from_be_bytes([len[0], len[1]]) as usize;
    Ok(String::from_utf8_lossy(take(bytes, len)?).into_owned())
}

/// Counts of many records, added cheaply: every value is interned to a
/// small number, so a record costs one hash increment per cube on a packed
/// integer key rather than string keys.
#[derive(Default)]
pub(crate) struct Tally {
    ids: [HashMap<String, u64, BuildHasherDefault<Mix>>; DIMS],
    names: [Vec<String>; DIMS],
    cubes: Vec<HashMap<u64, u64, BuildHasherDefault<Mix>>>,
    /// Cells set aside when a dictionary filled up.
    spill: HashMap<(usize, String), Cells>,
    records: usize,
}

/// Interned ids fit in 21 bits so that three pack into a u64; a dictionary
/// that fills up is spilled to string keys and started again.
const ID_BITS: u32 = 21;

impl Tally {
    pub(crate) fn add(&mut self, raw: &RawRecord) {
        self.add_values(values(raw));
    }

    /// Counts one record by its value of every counted dimension.
    pub(crate) fn add_values(&mut self, values: [&str; DIMS]) {
        if self
            .names
            .iter()
            .any(|n| n.len() as u64 >= (1 << ID_BITS) - 1)
        {
            let records = self.records;
            let spilled = self.drain();
            self.spill = spilled;
            self.records = records;
        }
        if self.cubes.is_empty() {
            self.cubes = (0..CUBES).map(|_| HashMap::default()).collect();
        }
        let mut id = [0u64; DIMS];
        for (d, v) in values.into_iter().enumerate() {
            id[d] = match self.ids[d].get(v) {
                Some(i) => *i,
                None => {
                    let i = self.names[d].len() as u64;
                    self.ids[d].insert(v.to_owned(), i);
                    self.names[d].push(v.to_owned());
                    i
                }
            };
        }
        for (cells, (a, b)) in self.cubes.iter_mut().zip(PAIRS) {
            let packed = (id[WEEK] << (2 * ID_BITS)) | (id[a] << ID_BITS) | id[b];
            *cells.entry(packed).or_default() += 1;
        }
        self.records += 1;
    }

    pub(crate) fn records(&self) -> usize {
        self.records
    }

    /// The tallied cells of cube `c`, by week.
    pub(crate) fn cube(&self, c: usize) -> HashMap<String, Cells> {
        let mut out: HashMap<String, Cells> = HashMap::new();
        for ((cube, week), cells) in &self.spill {
            if *cube == c {
                let slot = out.entry(week.clone()).or_default();
                for (values, n) in cells {
                    *slot.entry(values.clone()).or_default() += n;
                }
            }
        }
        let Some(cells) = self.cubes.get(c) else {
            return out;
        };
        let (a, b) = pair(c);
        let mask = (1u64 << ID_BITS) - 1;
        let name = |d: usize, id: u64| self.names[d].get(id as usize).cloned().unwrap_or_default();
        for (packed, n) in cells {
            let week = name(WEEK, packed >> (2 * ID_BITS));
            let va = name(a, (packed >> ID_BITS) & mask);
            let vb = name(b, packed & mask);
            *out.entry(week).or_default().entry((va, vb)).or_default() += n;
        }
        out
    }

    /// The tallied cells grouped by (cube, week), and the tally emptied.
    pub(crate) fn drain(&mut self) -> HashMap<(usize, String), Cells> {
        let out = self.cells();
        *self = Self::default();
        out
    }

    /// The tallied cells grouped by (cube, week).
    pub(crate) fn cells(&self) -> HashMap<(usize, String), Cells> {
        (0..CUBES)
            .flat_map(|c| {
                self.cube(c)
                    .into_iter()
                    .map(move |(week, cells)| ((c, week), cells))
            })
            .collect()
    }
}

/// Multiplicative hashing for the packed keys, which are small and dense,
/// and for the interned values, which have passed the re-check: SipHash's
/// protection against chosen keys buys nothing here and would cost a third
/// of a commit's counting.
#[derive(Default)]
pub(crate) struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.write_u64(<[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes));
        }
        for b in words.remainder() {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The number of the cube over dimensions `a < b`.
fn cube_of(a: usize, b: usize) -> Option<usize> {
    PAIRS.iter().position(|p| *p == (a, b))
}

/// The cells of the cubes over `mediator`, for a store written before it
/// was counted: every record there says nothing of a mediator, so each of
/// those cubes is the margin of another dimension with `unknown` beside
/// it, read off the first version's cubes over (desk, x), which hold every
/// dimension's margin. `stored` is one stored cube-week, as `parse_key`
/// and `decode` read it; the result adds to what the caller collects.
pub(crate) fn mediator_cells_of(
    cube: usize,
    week: &str,
    cells: &Cells,
    into: &mut HashMap<(usize, String), Cells>,
) {
    let (a, b) = pair(cube);
    if cube >= FIRST_CUBES || a != 1 {
        return;
    }
    let mut add = |dim: usize, value: &str, n: u64| {
        if let Some(target) = cube_of(dim, MEDIATOR) {
            *into
                .entry((target, week.to_owned()))
                .or_default()
                .entry((value.to_owned(), domain::MEDIATOR_UNKNOWN.to_owned()))
                .or_default() += n;
        }
    };
    for ((va, vb), n) in cells {
        // (desk, procedure) gives the desks' margin too.
        if b == 2 {
            add(a, va, *n);
        }
        add(b, vb, *n);
    }
}
