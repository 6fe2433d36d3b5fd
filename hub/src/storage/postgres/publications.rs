//! The publication register on PostgreSQL: table `publications`, one row
//! per registered table under its dimensions (joined by `,`; they are
//! field names) and calendar period, numbered as added, so that a table's
//! earlier entries are one index range, oldest first.

use crate::storage::postgres::{from_json, json, PostgresStore};
use crate::storage::{PublicationRegister, StorageError};
use domain::disclosure::Publication;

fn dims_key(dims: &[String]) -> String {
    dims.join(",")
}

impl PublicationRegister for PostgresStore {
    fn publications(
        &self,
        dims: &[String],
        period: Option<&str>,
    ) -> Result<Vec<Publication>, StorageError> {
        let dims = dims_key(dims);
        // Two statements rather than `IS NOT DISTINCT FROM`, which the
        // index cannot serve.
        let rows = match period {
            Some(period) => self.query(
                "SELECT publication FROM publications WHERE dims = $1 AND period = $2
                 ORDER BY seq",
                &[&dims, &period],
            )?,
            None => self.query(
                "SELECT publication FROM publications WHERE dims = $1 AND period IS NULL
                 ORDER BY seq",
                &[&dims],
            )?,
        };
        rows.into_iter().map(|r| from_json(r.get(0))).collect()
    }

    fn release_detail(&self, dims: &[String], year: i32) -> Result<Option<String>, StorageError> {
        Ok(self
            .query(
                "SELECT detail FROM release_details WHERE dims = $1 AND year = $2",
                &[&dims_key(dims), &year],
            )?
            .first()
            .map(|r| r.get(0)))
    }

    fn set_release_detail(
        &self,
        dims: &[String],
        year: i32,
        detail: &str,
    ) -> Result<(), StorageError> {
        // Committed at once: sled keeps it until the next flush, which a
        // committed row only betters.
        self.execute(
            "INSERT INTO release_details (dims, year, detail) VALUES ($1, $2, $3)
             ON CONFLICT (dims, year) DO UPDATE SET detail = EXCLUDED.detail",
            &[&dims_key(dims), &year, &detail],
        )?;
        Ok(())
    }

    fn add_publication(&self, publication: &Publication) -> Result<(), StorageError> {
        self.execute(
            "INSERT INTO publications (dims, period, publication) VALUES ($1, $2, $3)",
            &[
                &dims_key(&publication.dims),
                &publication.period,
                &json(publication)?,
            ],
        )?;
        Ok(())
    }
}
