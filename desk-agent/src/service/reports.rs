//! `Desk.ReportItem`: an operator says an item the desk holds is wrong,
//! outdated or unclear. The item is looked up so that the report names the
//! version the operator saw; the comment is scrubbed like a visit's notes
//! before anything is stored, and never logged.

use super::DeskService;
use proto::{DeskReport, ReportItemRequest};
use std::sync::Arc;
use tonic::Status;

pub const KINDS: [&str; 4] = ["card", "guidance", "template", "procedure"];
pub const REASONS: [&str; 3] = ["wrong", "outdated", "unclear"];

const MAX_ITEM_BYTES: usize = 200;
/// 1,000 characters of at most four bytes each.
const MAX_COMMENT_BYTES: usize = domain::scrub::MAX_COMMENT_CHARS * 4;

fn invalid(message: String) -> Status {
    Status::invalid_argument(message)
}

impl DeskService {
    /// Checks, scrubs and queues a report durably; returns exactly what will
    /// leave the desk.
    pub async fn report_item_now(&self, r: ReportItemRequest) -> Result<DeskReport, Status> {
        if !KINDS.contains(&r.kind.as_str()) {
            return Err(invalid(format!(
                "campo `kind`: deve essere card, guidance, template o procedure / field `kind`: must be one of {}",
                KINDS.join(", ")
            )));
        }
        if !REASONS.contains(&r.reason.as_str()) {
            return Err(invalid(format!(
                "campo `reason`: deve essere wrong (sbagliato), outdated (non aggiornato) o unclear (poco chiaro) / field `reason`: must be one of {}",
                REASONS.join(", ")
            )));
        }
        let item_id = r.item_id.trim();
        if item_id.is_empty() || item_id.len() > MAX_ITEM_BYTES {
            return Err(invalid(format!(
                "campo `item_id`: da 1 a {MAX_ITEM_BYTES} byte / field `item_id`: 1 to {MAX_ITEM_BYTES} bytes"
            )));
        }
        let language = if r.language.trim().is_empty() {
            domain::card::REFERENCE_LANGUAGE.to_string()
        } else if r.language.len() > 35 {
            return Err(invalid("field `language`: too long".into()));
        } else {
            domain::normalise_language_tag(&r.language)
                .ok_or_else(|| invalid("field `language`: not a language tag".into()))?
        };
        if r.comment.len() > MAX_COMMENT_BYTES
            || r.comment.chars().count() > domain::scrub::MAX_COMMENT_CHARS
        {
            return Err(invalid(format!(
                "campo `comment`: al massimo {} caratteri / field `comment`: at most {} characters",
                domain::scrub::MAX_COMMENT_CHARS,
                domain::scrub::MAX_COMMENT_CHARS
            )));
        }
        let comment = domain::scrub_comment(&r.comment)
            .map_err(|e| invalid(format!("campo / field `comment`: {e}")))?;
        let (code, item_version) = self.held_item(&r.kind, item_id, &language)?;
        let report = DeskReport {
            report_id: uuid::Uuid::now_v7().to_string(),
            kind: r.kind,
            code,
            item_id: item_id.to_string(),
            language,
            item_version,
            reason: r.reason,
            comment,
        };
        let local = Arc::clone(&self.local);
        let report = tokio::task::spawn_blocking(move || local.queue_report(&report))
            .await
            .map_err(crate::status::lost_task)??;
        tracing::info!(report_id = %report.report_id, kind = %report.kind, item = %report.item_id, reason = %report.reason, "report queued for the hub");
        Ok(report)
    }

    /// The procedure an item concerns and the version the desk holds, or
    /// NOT_FOUND in words.
    fn held_item(&self, kind: &str, id: &str, language: &str) -> Result<(String, u64), Status> {
        let missing = |what: &str| {
            Status::not_found(format!(
                "questo sportello non ha {what} «{id}» / this desk does not hold the {kind} `{id}`"
            ))
        };
        match kind {
            "card" => {
                let card = self.local.card(id, language)?.ok_or_else(|| {
                    Status::not_found(format!(
                        "questo sportello non ha la scheda «{id}» in «{language}» / this desk holds no card `{id}` in `{language}`"
                    ))
                })?;
                Ok((card.code, card.version))
            }
            "guidance" => {
                let item = self
                    .local
                    .guidance_item(id)?
                    .ok_or_else(|| missing("l'indicazione"))?;
                let code = item.procedures.first().cloned().unwrap_or_default();
                Ok((code, item.version))
            }
            "template" => {
                let t = self.local.template(id, language)?.ok_or_else(|| {
                    Status::not_found(format!(
                        "questo sportello non ha la risposta «{id}» in «{language}» / this desk holds no template `{id}` in `{language}`"
                    ))
                })?;
                let code = id.split('/').next().unwrap_or_default().to_string();
                Ok((code, t.version))
            }
            _ => {
                let (version, catalogue) = self.local.catalogue_in_force();
                if !catalogue.contains(id) {
                    return Err(missing("la procedura"));
                }
                Ok((id.to_string(), version))
            }
        }
    }
}
