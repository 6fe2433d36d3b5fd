//! The record ids the hub holds, in memory, so that refusing an id already
//! held costs no disk read. 16 bytes per record (a sorted array) plus a
//! small hash set of the newest: about 16 MiB per million records held,
//! rebuilt at open from the ids each segment carries.

use std::collections::HashSet;

/// Ids are merged into the sorted array once this many are waiting, so the
/// hash set (about 40 bytes an id) stays small.
const MERGE_AT: usize = 1 << 16;

#[derive(Default)]
pub(crate) struct IdIndex {
    sorted: Vec<u128>,
    recent: HashSet<u128>,
}

impl IdIndex {
    /// The index over `ids`, and how many of them were repeated.
    pub(crate) fn from_ids(mut ids: Vec<u128>) -> (Self, usize) {
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        let repeated = before - ids.len();
        ids.shrink_to_fit();
        (
            Self {
                sorted: ids,
                recent: HashSet::new(),
            },
            repeated,
        )
    }

    pub(crate) fn contains(&self, id: u128) -> bool {
        self.recent.contains(&id) || self.sorted.binary_search(&id).is_ok()
    }

    pub(crate) fn insert(&mut self, id: u128) {
        self.recent.insert(id);
        if self.recent.len() >= MERGE_AT {
            self.merge();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }

    /// Merges the recent ids into the sorted array in place, from the back,
    /// so that no second copy of the array is ever needed.
    fn merge(&mut self) {
        let mut fresh: Vec<u128> = self.recent.drain().collect();
        fresh.sort_unstable();
        let old = self.sorted.len();
        self.sorted.reserve_exact(fresh.len());
        self.sorted.resize(old + fresh.len(), 0);
        let (mut i, mut j) = (old, fresh.len());
        for k in (0..old + fresh.len()).rev() {
            if j == 0 {
                break;
            }
            if i > 0 && self.sorted[i - 1] > fresh[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = fresh[j - 1];
                j -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_ids_stay_found_and_absent_ones_are_not() {
        let (mut index, repeated) = IdIndex::from_ids(vec![9, 3, 3, 7]);
        assert_eq!(repeated, 1);
        let fresh: Vec<u128> = (0..(MERGE_AT as u128 * 2 + 5)).map(|i| i * 2).collect();
        for id in &fresh {
            index.insert(*id);
        }
        assert!(index.recent.len() < MERGE_AT, "a merge must have happened");
        assert!(index.sorted.windows(2).all(|w| w[0] < w[1]));
        for id in fresh.iter().chain(&[3, 7, 9]) {
            assert!(index.contains(*id), "{id} lost");
        }
        for id in [1u128, 5, 11, 13, u128::MAX] {
            assert!(!index.contains(id), "{id} wrongly held");
        }
        assert_eq!(index.len(), fresh.len() + 3);
    }
}
