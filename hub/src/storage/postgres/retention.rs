//! Retention of what is not a record, on PostgreSQL: refusals by the day
//! they were noted, and decided proposals, whose ids stay known.

use crate::storage::postgres::PostgresStore;
use crate::storage::StorageError;

impl PostgresStore {
    /// Dates the refusals not yet dated with `day`, once per day: the
    /// sled store's daily marks, as a column. A second run on the same day
    /// leaves the refusals since the first for the next day's, as on sled.
    pub(in crate::storage::postgres) fn note_refusals(
        &self,
        day: &str,
    ) -> Result<(), StorageError> {
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let first = tx
                .execute(
                    "INSERT INTO refusal_days (day) VALUES ($1) ON CONFLICT DO NOTHING",
                    &[&day],
                )
                .await?;
            if first == 1 {
                tx.execute(
                    "UPDATE refusals SET noted_on = $1 WHERE noted_on IS NULL",
                    &[&day],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes the refusals noted on a day before `before_day`, and the
    /// days older than the newest of those, as sled drops its older marks.
    pub(in crate::storage::postgres) fn prune_noted_refusals(
        &self,
        before_day: &str,
    ) -> Result<u64, StorageError> {
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // Byte order, as `YYYY-MM-DD` sorts and as sled compares.
            let removed = tx
                .execute(
                    "DELETE FROM refusals WHERE noted_on COLLATE \"C\" < $1",
                    &[&before_day],
                )
                .await?;
            tx.execute(
                "DELETE FROM refusal_days WHERE day COLLATE \"C\" < (
                     SELECT max(day COLLATE \"C\") FROM refusal_days
                     WHERE day COLLATE \"C\" < $1)",
                &[&before_day],
            )
            .await?;
            tx.commit().await?;
            Ok(removed)
        })
    }

    /// Deletes the proposals decided before `decided_before` (RFC 3339);
    /// open ones stay whatever their age. A deleted proposal's id stays in
    /// `pruned_proposals` with its desk, so that a desk sending it again is
    /// answered as for one held (`insert_proposal`).
    pub(in crate::storage::postgres) fn prune_decided_proposals(
        &self,
        decided_before: &str,
    ) -> Result<u64, StorageError> {
        let cutoff = crate::storage::DecidedBefore::parse(decided_before)?;
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let rows = tx
                .query("SELECT id, body FROM proposals FOR UPDATE", &[])
                .await?;
            let mut gone: (Vec<String>, Vec<String>) = Default::default();
            for r in rows {
                let p: domain::TemplateProposal =
                    crate::storage::entries::decode("proposal", r.get::<_, &[u8]>(1))?;
                if cutoff.covers(&p.state, &p.decided_at) {
                    gone.0.push(r.get(0));
                    gone.1.push(p.desk_id);
                }
            }
            // Both in one transaction: the id is known either way.
            tx.execute(
                "INSERT INTO pruned_proposals (id, desk_id)
                 SELECT * FROM unnest($1::text[], $2::text[])
                 ON CONFLICT (id) DO NOTHING",
                &[&gone.0, &gone.1],
            )
            .await?;
            let removed = tx
                .execute("DELETE FROM proposals WHERE id = ANY($1)", &[&gone.0])
                .await?;
            tx.commit().await?;
            Ok(removed)
        })
    }
}
