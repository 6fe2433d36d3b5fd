//! The desk's reports ("this is wrong, outdated or unclear") in tree
//! `reports` of the local copy: key = report id (UUID v7, so oldest
//! first), value = `DeskReportState` (the report, whether the hub
//! acknowledged it, where it stands). Queued durably before the operator is
//! answered; sent until acknowledged; kept afterwards so the desk can show
//! what became of each.

use super::{LocalCopy, LocalError};
use prost::Message;
use proto::{DeskReport, DeskReportState, ReportStatus};

/// Most reports a desk keeps. Past it the oldest closed one makes room; when
/// every one is still waiting, the operator is told to wait.
pub const MAX_KEPT_REPORTS: usize = 1_000;

fn decode(bytes: &[u8]) -> Option<DeskReportState> {
    match DeskReportState::decode(bytes) {
        Ok(s) => Some(s),
        Err(_) => {
            tracing::warn!("a stored report does not decode; skipped");
            None
        }
    }
}

/// Closed: the hub decided it or refused it, so nothing more will come.
fn closed(s: &DeskReportState) -> bool {
    !s.refused.is_empty()
        || s.status
            .as_ref()
            .is_some_and(|st| st.state == "fixed" || st.state == "declined")
}

/// A report the same as the newest one and made within this many seconds of
/// it is that one again: a double click, or a page reloaded after its POST.
const SAME_REPORT_SECS: u64 = 600;

/// Seconds since the epoch at which a UUID v7 was made.
fn made_at(id: &str) -> Option<u64> {
    let (secs, _) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    Some(secs)
}

fn same_words(a: &DeskReport, b: &DeskReport) -> bool {
    (&a.kind, &a.item_id, &a.language, &a.reason, &a.comment)
        == (&b.kind, &b.item_id, &b.language, &b.reason, &b.comment)
}

impl LocalCopy {
    /// Queues a report durably until the hub acknowledges it; returns the
    /// report held, which is the newest one when this repeats it.
    pub fn queue_report(&self, report: &DeskReport) -> Result<DeskReport, LocalError> {
        let one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, v)) = self.reports.last()? {
            if let Some(newest) = decode(&v).and_then(|s| s.report) {
                let close = match (made_at(&newest.report_id), made_at(&report.report_id)) {
                    (Some(then), Some(now)) => now.saturating_sub(then) <= SAME_REPORT_SECS,
                    _ => false,
                };
                if close && same_words(&newest, report) {
                    return Ok(newest);
                }
            }
        }
        if self.reports.len() >= MAX_KEPT_REPORTS {
            let oldest_closed = self.reports.iter().find_map(|kv| {
                let (k, v) = kv.ok()?;
                decode(&v).filter(closed).map(|_| k)
            });
            match oldest_closed {
                Some(k) => {
                    self.reports.remove(k)?;
                }
                None => return Err(LocalError::ReportsFull),
            }
        }
        let state = DeskReportState {
            report: Some(report.clone()),
            sent: false,
            status: None,
            refused: String::new(),
        };
        self.reports
            .insert(report.report_id.as_bytes(), state.encode_to_vec())?;
        self.db.flush()?;
        drop(one_writer);
        self.report_queued.notify_one();
        Ok(report.clone())
    }

    /// Reports the hub has not acknowledged, oldest first.
    pub fn unsent_reports(&self) -> Result<Vec<DeskReport>, LocalError> {
        let mut out = Vec::new();
        for v in self.reports.iter().values() {
            if let Some(s) = decode(&v?) {
                if !s.sent {
                    out.extend(s.report);
                }
            }
        }
        Ok(out)
    }

    /// The hub holds the report (or refused it). Not flushed on its own: an
    /// ack lost in a crash only resends a report the hub recognises by id.
    pub fn report_acked(&self, id: &str, refused: &str) -> Result<(), LocalError> {
        self.update_report(id, |s| {
            s.sent = true;
            s.refused = refused.chars().take(500).collect();
        })?;
        Ok(())
    }

    /// Where the hub says the desk's reports stand; unknown ids (a desk
    /// whose copy was lost) are ignored.
    pub fn apply_report_statuses(&self, statuses: Vec<ReportStatus>) -> Result<(), LocalError> {
        for mut status in statuses {
            status.note = status.note.chars().take(500).collect();
            let id = status.report_id.clone();
            self.update_report(&id, |s| {
                // The hub holds it, whatever became of the ack.
                s.sent = true;
                s.status = Some(status);
            })?;
        }
        self.db.flush()?;
        Ok(())
    }

    fn update_report(
        &self,
        id: &str,
        change: impl FnOnce(&mut DeskReportState),
    ) -> Result<(), LocalError> {
        let _one_writer = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let Some(held) = self.reports.get(id.as_bytes())? else {
            return Ok(());
        };
        let Some(mut state) = decode(&held) else {
            return Ok(());
        };
        change(&mut state);
        self.reports.insert(id.as_bytes(), state.encode_to_vec())?;
        Ok(())
    }

    /// Every report the desk keeps, newest first.
    pub fn reports(&self) -> Result<Vec<DeskReportState>, LocalError> {
        let mut out = Vec::new();
        for v in self.reports.iter().values() {
            out.extend(decode(&v?));
        }
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(n: u32) -> DeskReport {
        DeskReport {
            report_id: uuid::Uuid::now_v7().to_string(),
            kind: "guidance".into(),
            item_id: format!("g-{n}"),
            reason: "wrong".into(),
            ..Default::default()
        }
    }

    #[test]
    fn queued_reports_survive_a_reopen_until_acked_and_keep_their_status() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = report(1);
        {
            let local = LocalCopy::open(&dir.path().join("local")).expect("open");
            local.queue_report(&first).expect("queued");
            local.queue_report(&report(2)).expect("queued");
        }
        let local = LocalCopy::open(&dir.path().join("local")).expect("reopen");
        assert_eq!(local.unsent_reports().expect("unsent").len(), 2);
        local.report_acked(&first.report_id, "").expect("acked");
        assert_eq!(local.unsent_reports().expect("unsent").len(), 1);
        local
            .apply_report_statuses(vec![ReportStatus {
                report_id: first.report_id.clone(),
                state: "fixed".into(),
                fixed_version: 4,
                note: String::new(),
            }])
            .expect("status");
        let all = local.reports().expect("list");
        assert_eq!(all.len(), 2);
        let held = all
            .iter()
            .find(|s| s.report.as_ref().map(|r| &r.report_id) == Some(&first.report_id))
            .expect("held");
        assert!(held.sent && held.status.as_ref().is_some_and(|s| s.fixed_version == 4));
    }

    #[test]
    fn the_same_report_again_at_once_is_the_one_held() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = LocalCopy::open(&dir.path().join("local")).expect("open");
        let first = local.queue_report(&report(1)).expect("queued");
        let again = local.queue_report(&report(1)).expect("same");
        assert_eq!(again.report_id, first.report_id);
        let other = local.queue_report(&report(2)).expect("another");
        assert_ne!(other.report_id, first.report_id);
        assert_eq!(local.reports().expect("list").len(), 2);
    }

    #[test]
    fn a_full_queue_drops_the_oldest_closed_report_or_refuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = LocalCopy::open(&dir.path().join("local")).expect("open");
        let first = report(0);
        local.queue_report(&first).expect("queued");
        for n in 1..MAX_KEPT_REPORTS as u32 {
            local.queue_report(&report(n)).expect("queued");
        }
        assert!(matches!(
            local.queue_report(&report(9_999)),
            Err(LocalError::ReportsFull)
        ));
        local
            .report_acked(&first.report_id, "refused")
            .expect("acked");
        local.queue_report(&report(10_000)).expect("room made");
        assert_eq!(local.reports().expect("list").len(), MAX_KEPT_REPORTS);
    }
}
