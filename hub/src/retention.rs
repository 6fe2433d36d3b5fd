//! Retention: the hub keeps anonymised records, refusals, decided
//! proposals and decided operators' reports only as long as `[retention]` in `hub.toml` says (storage
//! limitation), then deletes them. The counts of pruned records are kept,
//! so published figures never change; their ids are kept, so a desk that
//! sends one again is told it is held. One run at start, then hourly, off
//! the async threads; every run that deleted something is audited under
//! the actor `retention`.

use crate::config::RetentionConfig;
use crate::storage::{StorageError, Store};
use chrono::{DateTime, Datelike, Duration, Months, Utc};
use std::sync::Arc;

/// The audit log's actor for what retention deletes.
pub const ACTOR: &str = "retention";

/// How often the task runs after its first run at start.
const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// What one run deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    pub records: u64,
    /// The week before which records were deleted, when records are pruned.
    pub records_before: Option<String>,
    pub refusals: u64,
    pub proposals: u64,
    pub reports: u64,
    pub search_misses: u64,
}

/// The first ISO week kept when records are kept `years` years, at `now`.
pub fn first_week_kept(years: u32, now: DateTime<Utc>) -> Option<String> {
    if years == 0 {
        return None;
    }
    let day = now
        .date_naive()
        .checked_sub_months(Months::new(years.saturating_mul(12)))?;
    // The whole week of the cutoff day is kept: records go by whole weeks,
    // never part of one.
    let week = day.iso_week();
    Some(format!("{:04}-W{:02}", week.year(), week.week()))
}

/// The policy, and how far its last run got.
#[derive(Debug, Clone)]
pub struct Retention {
    pub policy: RetentionConfig,
    /// The first week kept at the last run that pruned records. Finding
    /// records to prune reads every record, so it is done again only when
    /// the cutoff moves, once a week: a record that arrives already older
    /// than the window (a visit entered years late) waits a week at most.
    /// Kept in the store too (`Store::records_pruned`), so that a restart
    /// does not read ten million records again, filling the page cache
    /// while the hub starts serving.
    records_done: Option<String>,
}

impl Retention {
    pub fn new(policy: RetentionConfig) -> Self {
        Self {
            policy,
            records_done: None,
        }
    }

    /// Applies the policy once, at `now`.
    pub fn apply(&mut self, store: &dyn Store, now: DateTime<Utc>) -> Result<Pruned, StorageError> {
        let week = first_week_kept(self.policy.records_years, now);
        if self.records_done.is_none() {
            self.records_done = store.records_pruned()?;
        }
        let skip = week.is_some() && week == self.records_done;
        let out = run_once(store, &self.policy, now, skip)?;
        if let Some(week) = week.as_deref().filter(|_| !skip) {
            store.mark_records_pruned(week)?;
        }
        self.records_done = week;
        Ok(out)
    }
}

/// Applies the policy once, at `now`; with `skip_records`, leaves records
/// alone.
pub fn run_once(
    store: &dyn Store,
    policy: &RetentionConfig,
    now: DateTime<Utc>,
    skip_records: bool,
) -> Result<Pruned, StorageError> {
    let mut out = Pruned::default();
    let today = now.date_naive();
    // Without a window the marks would only pile up; a window set later
    // dates every older refusal from its first mark, so none goes early.
    if policy.quarantine_days > 0 {
        store.mark_refusals(&today.format("%Y-%m-%d").to_string())?;
    }
    if let Some(week) = first_week_kept(policy.records_years, now).filter(|_| !skip_records) {
        out.records = store.prune_records(&week)?;
        audit(
            store,
            "records",
            &week,
            out.records,
            &format!("records of weeks before {week} deleted; their counts are kept"),
        )?;
        out.records_before = Some(week);
    }
    if policy.quarantine_days > 0 {
        let before = today - Duration::days(i64::from(policy.quarantine_days));
        let before = before.format("%Y-%m-%d").to_string();
        out.refusals = store.prune_refusals(&before)?;
        audit(
            store,
            "refusals",
            &before,
            out.refusals,
            &format!("refusals stored before {before} deleted"),
        )?;
    }
    if policy.proposals_days > 0 {
        let before = now - Duration::days(i64::from(policy.proposals_days));
        let before = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        out.proposals = store.prune_proposals(&before)?;
        audit(
            store,
            "proposals",
            &before,
            out.proposals,
            &format!("proposals decided before {before} deleted"),
        )?;
    }
    if policy.reports_days > 0 {
        let before = now - Duration::days(i64::from(policy.reports_days));
        let before = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        out.reports = store.prune_reports(&before)?;
        audit(
            store,
            "reports",
            &before,
            out.reports,
            &format!("operators' reports decided before {before} deleted"),
        )?;
    }
    if policy.search_misses_weeks > 0 {
        let day = today - Duration::weeks(i64::from(policy.search_misses_weeks));
        let week = day.iso_week();
        let before = format!("{:04}-W{:02}", week.year(), week.week());
        out.search_misses = store.prune_misses(&before)?;
        audit(
            store,
            "search_misses",
            &before,
            out.search_misses,
            &format!("counts of searches that found nothing, of weeks before {before}, deleted"),
        )?;
    }
    Ok(out)
}

/// One audit entry for a kind whose run deleted something: `retention.KIND`
/// on `before CUTOFF`, saying how many and what.
fn audit(
    store: &dyn Store,
    kind: &str,
    cutoff: &str,
    deleted: u64,
    what: &str,
) -> Result<(), StorageError> {
    if deleted == 0 {
        return Ok(());
    }
    crate::audit::record(
        store,
        ACTOR,
        &format!("retention.{kind}"),
        &format!("before {cutoff}"),
        &format!("{deleted} {what}"),
    )
    .map(|_| ())
}

/// Runs the policy at start and then every hour until `shutdown`.
pub async fn run(store: Arc<dyn Store>, policy: RetentionConfig, shutdown: runtime::Shutdown) {
    let mut retention = Retention::new(policy);
    loop {
        let mut run = retention.clone();
        let pruned = crate::storage::blocking(&store, move |s| {
            run.apply(s, Utc::now()).map(|pruned| (run, pruned))
        })
        .await;
        match pruned {
            Ok((done, p)) => {
                retention = done;
                if p.records + p.refusals + p.proposals + p.reports + p.search_misses > 0 {
                    tracing::info!(
                        records = p.records,
                        refusals = p.refusals,
                        proposals = p.proposals,
                        reports = p.reports,
                        search_misses = p.search_misses,
                        "retention deleted what its policy no longer keeps"
                    );
                }
            }
            // Nothing is lost by waiting: the next run deletes the same.
            Err(e) => tracing::warn!(error = %e, "retention could not run; trying again later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.wait() => return,
        }
    }
}
