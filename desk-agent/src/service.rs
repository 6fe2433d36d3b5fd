//! The Desk gRPC service: the agent's local API for desk software and its
//! own CLI. `RecordVisit` anonymises in memory and answers only once the
//! anonymised record is durable in the outbox.

mod reports;

pub use reports::{KINDS as REPORT_KINDS, REASONS as REPORT_REASONS};

use crate::intake::Intake;
use crate::local::LocalCopy;
use crate::outbox::Outbox;
use crate::sync::LinkStatus;
use proto::desk_server::Desk;
use proto::*;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct DeskService {
    pub desk_id: String,
    pub outbox: Arc<Outbox>,
    pub local: Arc<LocalCopy>,
    pub intake: Intake,
    pub link: Arc<LinkStatus>,
    pub metrics: Arc<crate::metrics::DeskMetrics>,
    pub search: Arc<crate::search::Search>,
}

fn procedure_filter(procedure: String) -> Result<String, Status> {
    if procedure.chars().count() > 100 {
        return Err(Status::invalid_argument(
            "field `procedure`: longer than 100 characters",
        ));
    }
    Ok(procedure.trim().to_string())
}

impl DeskService {
    /// The Italian card of a procedure and, when asked and held, its
    /// translation with what is stale or missing; NOT_FOUND names the
    /// languages the desk holds.
    pub fn find_card(&self, code: &str, language: &str) -> Result<GetCardResponse, Status> {
        if code.len() > 100 || language.len() > 35 {
            return Err(Status::invalid_argument(
                "field `code` or `language`: too long",
            ));
        }
        let code = code.trim();
        let language = if language.trim().is_empty() {
            domain::card::REFERENCE_LANGUAGE.to_string()
        } else {
            domain::normalise_language_tag(language)
                .ok_or_else(|| Status::invalid_argument("field `language`: not a language tag"))?
        };
        let Some(reference) = self.local.card(code, domain::card::REFERENCE_LANGUAGE)? else {
            return Err(Status::not_found(format!(
                "questo sportello non ha la scheda di «{code}» / this desk has no card for `{code}`"
            )));
        };
        let mut response = GetCardResponse::default();
        if language != domain::card::REFERENCE_LANGUAGE {
            let Some(t) = self.local.card(code, &language)? else {
                return Err(Status::not_found(format!(
                    "la scheda di «{code}» non è disponibile in «{language}»; lingue presenti / the card is not available in `{language}`; held: {}",
                    self.local.card_languages(code)?.join(", ")
                )));
            };
            response.stale_fields = t.stale_fields(&reference);
            response.missing_fields = t.missing_fields(&reference);
            response.translation = Some(t.into());
        }
        response.reference = Some(reference.into());
        Ok(response)
    }

    /// One search over what the desk holds. Never logs the query.
    pub fn run_search(
        &self,
        query: &str,
        language: &str,
        limit: u32,
    ) -> Result<SearchResponse, Status> {
        let limit = crate::search::check_request(query, limit).map_err(Status::invalid_argument)?;
        let language = if language.trim().is_empty() {
            domain::card::REFERENCE_LANGUAGE.to_string()
        } else {
            domain::normalise_language_tag(language)
                .ok_or_else(|| Status::invalid_argument("field `language`: not a language tag"))?
        };
        let index = self.search.index()?;
        let outcome = index.search(query, &language, limit);
        Ok(SearchResponse {
            hits: outcome
                .hits
                .into_iter()
                .map(|h| SearchHit {
                    kind: h.kind.as_str().to_string(),
                    code: h.code,
                    id: h.id,
                    title: h.title,
                    language: h.language,
                    score: h.score,
                })
                .collect(),
            did_you_mean: outcome.did_you_mean,
        })
    }

    /// `run_search`, and a search that found nothing counted for the
    /// Comune (scrubbed and normalised first, `LocalCopy::note_search_miss`).
    /// For searches a person sent, not for the results shown as they type,
    /// whose half-typed words would count as misses.
    pub fn search_counted(
        &self,
        query: &str,
        language: &str,
        limit: u32,
    ) -> Result<SearchResponse, Status> {
        let found = self.run_search(query, language, limit)?;
        if found.hits.is_empty() && !query.trim().is_empty() {
            let language = domain::normalise_language_tag(language)
                .unwrap_or_else(|| domain::card::REFERENCE_LANGUAGE.to_string());
            let today = chrono::Local::now().date_naive();
            // Never the query in the log: it may hold what the scrubber missed.
            if let Err(e) = self.local.note_search_miss(query, &language, today) {
                tracing::warn!(error = %e, "could not count a search that found nothing");
            }
        }
        Ok(found)
    }

    /// The desk's copy of a template, or a refusal that lists the languages
    /// it does hold for the key.
    fn find_template(&self, key: &str, language: &str) -> Result<Template, Status> {
        if key.len() > 100 || language.len() > 35 {
            return Err(Status::invalid_argument(
                "field `key` or `language`: too long",
            ));
        }
        let language = domain::normalise_language_tag(language)
            .ok_or_else(|| Status::invalid_argument("field `language`: not a language tag"))?;
        if let Some(t) = self.local.template(key, &language)? {
            return Ok(t);
        }
        let held = self.local.template_languages(key)?;
        Err(Status::not_found(if held.is_empty() {
            format!("this desk has no template `{key}`")
        } else {
            format!(
                "template `{key}` is not available in `{language}`; this desk has it in: {}",
                held.join(", ")
            )
        }))
    }
}

#[tonic::async_trait]
impl Desk for DeskService {
    async fn record_visit(
        &self,
        req: Request<RecordVisitRequest>,
    ) -> Result<Response<RecordVisitResponse>, Status> {
        use crate::metrics::Intake;
        let req = req.into_inner();
        let request_id = domain::visit::request_id(&req.request_id).map_err(|e| {
            self.metrics.intake(Intake::Refused);
            crate::status::invalid(e)
        })?;
        let visit = req.visit.ok_or_else(|| {
            self.metrics.intake(Intake::Refused);
            Status::invalid_argument("field `visit`: missing")
        })?;
        let visit = domain::Visit::from(visit);
        let record = self
            .intake
            .anonymise(&visit, &self.desk_id, &self.local.catalogue())
            .map_err(|e| {
                self.metrics.intake(Intake::Refused);
                crate::status::invalid(e)
            })?;
        let stored = match request_id {
            Some(key) => self.outbox.append_once(&record, key).await.map(|done| {
                if done.repeat {
                    tracing::info!(
                        seq = done.seq,
                        "a repeated request_id: the first answer is given again"
                    );
                }
                (done.seq, done.record, done.repeat)
            }),
            None => self
                .outbox
                .append(&record)
                .await
                .map(|seq| (seq, proto::AnonymisedRecord::from(record.to_raw()), false)),
        };
        let (seq, record) = match stored {
            Ok((seq, record, repeat)) => {
                self.metrics.intake(if repeat {
                    Intake::Repeat
                } else {
                    Intake::Recorded
                });
                (seq, record)
            }
            Err(e) => {
                self.metrics.intake(match e {
                    crate::outbox::OutboxError::KeyReused(_)
                    | crate::outbox::OutboxError::KeyBusy(_) => Intake::Refused,
                    _ => Intake::Failed,
                });
                return Err(e.into());
            }
        };
        Ok(Response::new(RecordVisitResponse {
            id: record.id.clone(),
            seq,
            record: Some(record),
        }))
    }

    async fn list_procedures(
        &self,
        req: Request<ListProceduresRequest>,
    ) -> Result<Response<ListProceduresResponse>, Status> {
        let query = req.into_inner().query;
        if query.chars().count() > 100 {
            return Err(Status::invalid_argument(
                "field `query`: longer than 100 characters",
            ));
        }
        let (version, catalogue) = self.local.catalogue_in_force();
        let procedures = catalogue
            .search(&query)
            .into_iter()
            .map(Procedure::from)
            .collect();
        Ok(Response::new(ListProceduresResponse {
            procedures,
            version,
        }))
    }

    async fn list_guidance(
        &self,
        req: Request<ListGuidanceRequest>,
    ) -> Result<Response<ListGuidanceResponse>, Status> {
        let procedure = procedure_filter(req.into_inner().procedure)?;
        let version = self.local.guidance_version();
        let items = self
            .local
            .guidance(&procedure, chrono::Utc::now().date_naive())?;
        Ok(Response::new(ListGuidanceResponse { items, version }))
    }

    type WatchGuidanceStream =
        Pin<Box<dyn futures::Stream<Item = Result<GuidanceItem, Status>> + Send>>;

    /// The guidance in force now, then every change as it arrives from the
    /// hub (retirements included, marked `retired`).
    async fn watch_guidance(
        &self,
        req: Request<ListGuidanceRequest>,
    ) -> Result<Response<Self::WatchGuidanceStream>, Status> {
        let procedure = procedure_filter(req.into_inner().procedure)?;
        let mut versions = self.local.watch_guidance();
        let mut seen = *versions.borrow_and_update();
        let initial = self
            .local
            .guidance(&procedure, chrono::Utc::now().date_naive())?;
        let local = Arc::clone(&self.local);
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            for item in initial {
                if tx.send(Ok(item)).await.is_err() {
                    return;
                }
            }
            loop {
                tokio::select! {
                    changed = versions.changed() => {
                        if changed.is_err() {
                            return;
                        }
                    }
                    _ = tx.closed() => return,
                }
                let now = *versions.borrow_and_update();
                let items = match local.guidance_changed_since(seen, &procedure) {
                    Ok(items) => items,
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                };
                seen = items.iter().map(|i| i.version).fold(now, u64::max);
                for item in items {
                    if tx.send(Ok(item)).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn search(
        &self,
        req: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let r = req.into_inner();
        Ok(Response::new(self.search_counted(
            &r.query,
            &r.language,
            r.limit,
        )?))
    }

    async fn report_item(
        &self,
        req: Request<proto::ReportItemRequest>,
    ) -> Result<Response<proto::ReportItemResponse>, Status> {
        let report = self.report_item_now(req.into_inner()).await?;
        Ok(Response::new(proto::ReportItemResponse {
            report: Some(report),
        }))
    }

    async fn list_reports(
        &self,
        _req: Request<proto::ListReportsRequest>,
    ) -> Result<Response<proto::ListReportsResponse>, Status> {
        let local = Arc::clone(&self.local);
        let reports = tokio::task::spawn_blocking(move || local.reports())
            .await
            .map_err(crate::status::lost_task)??;
        Ok(Response::new(proto::ListReportsResponse { reports }))
    }

    async fn get_card(
        &self,
        req: Request<GetCardRequest>,
    ) -> Result<Response<GetCardResponse>, Status> {
        let r = req.into_inner();
        Ok(Response::new(self.find_card(&r.code, &r.language)?))
    }

    async fn render_handout(
        &self,
        req: Request<RenderHandoutRequest>,
    ) -> Result<Response<RenderHandoutResponse>, Status> {
        let r = req.into_inner();
        let pdf = crate::handout::render(self, &r.code, &r.language, r.additions).await?;
        Ok(Response::new(RenderHandoutResponse { pdf }))
    }

    async fn get_template(
        &self,
        req: Request<GetTemplateRequest>,
    ) -> Result<Response<Template>, Status> {
        let r = req.into_inner();
        Ok(Response::new(self.find_template(&r.key, &r.language)?))
    }

    async fn render_template(
        &self,
        req: Request<RenderTemplateRequest>,
    ) -> Result<Response<RenderTemplateResponse>, Status> {
        let r = req.into_inner();
        if r.variables.len() > 100 || r.variables.values().any(|v| v.chars().count() > 1000) {
            return Err(Status::invalid_argument(
                "field `variables`: at most 100 values of at most 1000 characters",
            ));
        }
        let template = self.find_template(&r.key, &r.language)?;
        let vars = r.variables.into_iter().collect();
        let rendered = domain::render_template(&template.body, &template.language, &vars)
            .map_err(crate::status::invalid)?;
        Ok(Response::new(RenderTemplateResponse {
            html: rendered.html,
            direction: rendered.direction.as_str().into(),
        }))
    }

    /// Queues the desk's own wording durably; the sync loop sends it to the
    /// hub, now or when the hub is next reachable.
    async fn propose_template(
        &self,
        req: Request<ProposeTemplateRequest>,
    ) -> Result<Response<ProposeTemplateResponse>, Status> {
        let r = req.into_inner();
        let ok_key = r.key.len() <= 100
            && r.key
                .split_once('/')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty());
        if !ok_key {
            return Err(Status::invalid_argument(
                "field `key`: write it as procedure/purpose, at most 100 characters",
            ));
        }
        let language = domain::normalise_language_tag(&r.language)
            .ok_or_else(|| Status::invalid_argument("field `language`: not a language tag"))?;
        // The same syntax checks the hub runs, so the operator learns of a
        // broken field now rather than from a coordinator later.
        domain::check_template(&r.body, None)
            .map_err(|e| Status::invalid_argument(format!("field `body`: {e}")))?;
        let proposal = DeskProposal {
            proposal_id: uuid::Uuid::now_v7().to_string(),
            key: r.key,
            language,
            body: r.body,
        };
        let local = Arc::clone(&self.local);
        let queued = proposal.clone();
        tokio::task::spawn_blocking(move || local.queue_proposal(&queued))
            .await
            .map_err(crate::status::lost_task)??;
        tracing::info!(proposal_id = %proposal.proposal_id, key = %proposal.key, language = %proposal.language, "template proposal queued for the hub");
        Ok(Response::new(ProposeTemplateResponse {
            proposal_id: proposal.proposal_id,
        }))
    }

    async fn get_status(
        &self,
        _: Request<GetStatusRequest>,
    ) -> Result<Response<DeskStatus>, Status> {
        let o = &self.outbox;
        let quarantine: Vec<QuarantinedRecord> = o
            .quarantine()?
            .into_iter()
            .map(|q| QuarantinedRecord {
                seq: q.seq,
                id: q.id,
                reason: q.reason,
                record: Some(q.record),
            })
            .collect();
        Ok(Response::new(DeskStatus {
            desk_id: self.desk_id.clone(),
            pending: o.pending()?,
            sent: o.sent()?,
            quarantined: quarantine.len() as u64,
            connected: self.link.connected.load(Ordering::Relaxed),
            versions: Some(Versions {
                guidance: self.local.guidance_version(),
                template: self.local.template_version()?,
                catalogue: self.local.catalogue_version(),
                card: self.local.card_version()?,
            }),
            last_seq: o.last_seq()?,
            acked_seq: o.acked_seq()?,
            quarantine,
            last_error: self.link.last_error(),
            hub_address: self.link.hub(),
            incarnation: o.incarnation().id.to_string(),
        }))
    }
}
