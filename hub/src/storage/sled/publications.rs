//! The publication register in sled: one tree, `publications`, keyed by
//! the dimensions joined by 0x1f, then (for tables released on the
//! calendar) 0x1d and the period's name, then a 0x1e separator and a
//! sequence number (u64 BE), so that the earlier entries of one table and
//! period are one prefix scan, oldest first, and a query reads only the
//! periods it is computed from. Entries from before the calendar have no
//! period part and are their own prefix. Values are the entries as JSON.

use super::SledStore;
use crate::storage::{PublicationRegister, StorageError};
use domain::disclosure::Publication;

const TREE: &str = "publications";
/// The recoding level fixed per dimensions and ISO year, keyed as the
/// register is, with the year as the period.
const DETAILS: &str = "release_details";
const DIM_SEP: u8 = 0x1f;
const END: u8 = 0x1e;
const PERIOD_SEP: u8 = 0x1d;

fn prefix(dims: &[String], period: Option<&str>) -> Vec<u8> {
    let mut key = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        if i > 0 {
            key.push(DIM_SEP);
        }
        key.extend_from_slice(d.as_bytes());
    }
    if let Some(period) = period {
        key.push(PERIOD_SEP);
        key.extend_from_slice(period.as_bytes());
    }
    key.push(END);
    key
}

impl SledStore {
    /// Every register entry, each table's in order (`hub migrate`).
    pub(crate) fn export_publications(&self) -> Result<Vec<Publication>, StorageError> {
        let tree = self.db().open_tree(TREE)?;
        tree.iter()
            .map(|item| {
                let (_, value) = item?;
                serde_json::from_slice(&value)
                    .map_err(|e| StorageError::Corrupt(format!("publication register entry: {e}")))
            })
            .collect()
    }

    /// Every recoding level fixed: dimensions, year, level.
    pub(crate) fn export_release_details(
        &self,
    ) -> Result<Vec<(Vec<String>, i32, String)>, StorageError> {
        let tree = self.db().open_tree(DETAILS)?;
        let mut out = Vec::new();
        for item in tree.iter() {
            let (key, value) = item?;
            let key = key.strip_suffix(&[END]).unwrap_or(&key);
            let mut parts = key.splitn(2, |b| *b == PERIOD_SEP);
            let dims = parts
                .next()
                .unwrap_or_default()
                .split(|b| *b == DIM_SEP)
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .collect();
            let year = parts
                .next()
                .and_then(|y| std::str::from_utf8(y).ok()?.parse().ok())
                .ok_or_else(|| StorageError::Corrupt("release detail key without a year".into()))?;
            out.push((dims, year, String::from_utf8_lossy(&value).into_owned()));
        }
        Ok(out)
    }
}

impl PublicationRegister for SledStore {
    fn publications(
        &self,
        dims: &[String],
        period: Option<&str>,
    ) -> Result<Vec<Publication>, StorageError> {
        let tree = self.db().open_tree(TREE)?;
        tree.scan_prefix(prefix(dims, period))
            .map(|item| {
                let (_, value) = item?;
                serde_json::from_slice(&value)
                    .map_err(|e| StorageError::Corrupt(format!("publication register entry: {e}")))
            })
            .collect()
    }

    fn release_detail(&self, dims: &[String], year: i32) -> Result<Option<String>, StorageError> {
        let tree = self.db().open_tree(DETAILS)?;
        Ok(tree
            .get(prefix(dims, Some(&year.to_string())))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    fn set_release_detail(
        &self,
        dims: &[String],
        year: i32,
        detail: &str,
    ) -> Result<(), StorageError> {
        let tree = self.db().open_tree(DETAILS)?;
        let _w = self.writing();
        tree.insert(prefix(dims, Some(&year.to_string())), detail.as_bytes())?;
        Ok(())
    }

    fn add_publication(&self, publication: &Publication) -> Result<(), StorageError> {
        let tree = self.db().open_tree(TREE)?;
        let value = serde_json::to_vec(publication)
            .map_err(|e| StorageError::Corrupt(format!("publication register entry: {e}")))?;
        let mut key = prefix(&publication.dims, publication.period.as_deref());
        // Sequence numbers are per table shape; callers serialise
        // publishing (`hub::stats`), so the last key plus one is free.
        let next = match tree.scan_prefix(&key).keys().next_back() {
            Some(last) => {
                let last = last?;
                let tail = last.get(key.len()..).unwrap_or_default();
                let bytes: [u8; 8] = tail.try_into().map_err(|_| {
                    StorageError::Corrupt("publication register key without a sequence".into())
                })?;
                u64::from_be_bytes(bytes) + 1
            }
            None => 0,
        };
        key.extend_from_slice(&next.to_be_bytes());
        {
            let _w = self.writing();
            tree.insert(key, value)?;
        }
        // A plain flush, not the counts checkpoint of `Store::flush`.
        self.flush_serialised()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::disclosure::{CountTable, Options};

    fn entry(dims: &[&str], counts: &[(&str, u64)]) -> Publication {
        let table = CountTable::from_cells(
            dims.iter().copied(),
            counts.iter().map(|(v, n)| (vec![(*v).to_owned()], *n)),
        )
        .expect("table");
        domain::disclosure::protect_linked(&table, &table, &[], Options::default())
            .expect("protect")
            .entry
            .expect("a first table is registered")
    }

    #[test]
    fn the_register_keeps_entries_per_shape_in_order_across_a_reopen() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let first = entry(&["nationality"], &[("MA", 12), ("AL", 3)]);
        let second = entry(&["nationality"], &[("MA", 14), ("AL", 3)]);
        let other = entry(&["outcome"], &[("answered", 9)]);
        let mut november = entry(&["nationality"], &[("MA", 9)]);
        november.period = Some("2026-11".to_owned());
        {
            let store = SledStore::open(dir.path(), 8 << 20).expect("open");
            for p in [&first, &november, &other, &second] {
                store.add_publication(p).expect("add");
            }
        }
        let store = SledStore::open(dir.path(), 8 << 20).expect("reopen");
        let nationality = vec!["nationality".to_owned()];
        assert_eq!(
            store.publications(&nationality, None).expect("read"),
            vec![first, second]
        );
        assert_eq!(
            store
                .publications(&["outcome".to_owned()], None)
                .expect("read"),
            vec![other]
        );
        assert_eq!(
            store.publications(&["sex".to_owned()], None).expect("read"),
            vec![]
        );
        // A calendar period is its own prefix, apart from the entries from
        // before the calendar and from periods whose name starts the same.
        assert_eq!(
            store
                .publications(&nationality, Some("2026-11"))
                .expect("read"),
            vec![november]
        );
        assert_eq!(
            store
                .publications(&nationality, Some("2026-1"))
                .expect("read"),
            vec![]
        );
    }
}
