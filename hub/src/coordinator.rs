//! The Coordinator gRPC service: the Comune's API at the hub, behind a bearer
//! token: desk administration, guidance, templates, proposals, the
//! catalogue, harmonisation and rollout, statistics, backup. There is no
//! record-level export: figures leave only as protected tables.

use crate::admin;
use crate::connections::Connections;
use crate::guidance;
use crate::pki::Authority;
use crate::push::Push;
use crate::storage::{blocking, Store};
use proto::coordinator_server::Coordinator;
use proto::*;
use std::pin::Pin;
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub struct CoordinatorService {
    pub store: Arc<dyn Store>,
    pub ca: Arc<Authority>,
    pub connections: Arc<Connections>,
    pub push: Push,
    /// The data folder, for the users file.
    pub data: std::path::PathBuf,
    /// `desk_addresses` in hub.toml: a new desk's bundle names these when
    /// the request names none.
    pub desk_addresses: Vec<String>,
}

/// Checks `authorization: Bearer <token>` in constant time.
pub fn bearer_check(
    token: String,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    runtime::grpc::bearer_check(token, "coordinator.token in the hub's data folder")
}

/// The actor an API call is audited under, as the hub sees it rather than
/// as the caller claims: a token holder on this machine is the hub's CLI
/// (which reads the token from the data folder), one elsewhere is `token`.
fn actor<T>(req: &Request<T>) -> &'static str {
    match req.remote_addr() {
        Some(peer) if peer.ip().is_loopback() => crate::audit::CLI,
        _ => crate::audit::TOKEN,
    }
}

#[tonic::async_trait]
impl Coordinator for CoordinatorService {
    async fn list_desks(
        &self,
        _: Request<ListDesksRequest>,
    ) -> Result<Response<ListDesksResponse>, Status> {
        let connections = Arc::clone(&self.connections);
        let rows = blocking(&self.store, move |store| {
            Ok::<_, Status>(admin::list_desks(store, Some(&connections))?)
        })
        .await?;
        let desks = rows.into_iter().map(DeskInfo::from).collect();
        Ok(Response::new(ListDesksResponse { desks }))
    }

    async fn add_desk(
        &self,
        req: Request<AddDeskRequest>,
    ) -> Result<Response<AddDeskResponse>, Status> {
        let who = actor(&req);
        let req = req.into_inner();
        // audit: desk.add (desk id)
        let ca = Arc::clone(&self.ca);
        let given = if req.hub_addresses.is_empty() && !req.hub_address.is_empty() {
            vec![req.hub_address]
        } else {
            req.hub_addresses
        };
        let addresses = admin::desk_addresses(given, &self.desk_addresses);
        let desk_id = req.desk_id.clone();
        let bundle = blocking(&self.store, move |store| {
            Ok::<_, Status>(admin::add_desk(store, &ca, &desk_id, &addresses, who)?)
        })
        .await?;
        tracing::info!(desk_id = %req.desk_id, "desk enrolled");
        Ok(Response::new(AddDeskResponse {
            bundle: bundle.to_toml().into_bytes(),
        }))
    }

    async fn revoke_desk(
        &self,
        req: Request<RevokeDeskRequest>,
    ) -> Result<Response<RevokeDeskResponse>, Status> {
        let who = actor(&req);
        let id = req.into_inner().desk_id;
        let connections = Arc::clone(&self.connections);
        let desk_id = id.clone();
        blocking(&self.store, move |store| {
            Ok::<_, Status>(admin::revoke_desk(
                store,
                Some(&connections),
                &desk_id,
                who,
            )?)
        })
        .await?;
        tracing::info!(desk_id = %id, "desk revoked");
        Ok(Response::new(RevokeDeskResponse {}))
    }

    async fn publish_guidance(
        &self,
        request: Request<PublishGuidanceRequest>,
    ) -> Result<Response<PublishGuidanceResponse>, Status> {
        let who = actor(&request);
        let item = request
            .into_inner()
            .item
            .ok_or_else(|| Status::invalid_argument("field `item` is missing"))?;
        let item = domain::GuidanceItem::try_from(item)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let catalogue = self.push.active_catalogue();
        let push = self.push.clone();
        let version = blocking(&self.store, move |store| {
            Ok::<_, Status>(guidance::publish(
                store,
                Some(&push),
                &catalogue,
                item,
                who,
            )?)
        })
        .await?;
        tracing::info!(version, "guidance published");
        Ok(Response::new(PublishGuidanceResponse { version }))
    }

    async fn retire_guidance(
        &self,
        request: Request<RetireGuidanceRequest>,
    ) -> Result<Response<PublishGuidanceResponse>, Status> {
        let who = actor(&request);
        let id = request.into_inner().id;
        let push = self.push.clone();
        let retired = id.clone();
        let version = blocking(&self.store, move |store| {
            Ok::<_, Status>(guidance::retire(store, Some(&push), &retired, who)?)
        })
        .await?;
        tracing::info!(version, id = %id, "guidance retired");
        Ok(Response::new(PublishGuidanceResponse { version }))
    }

    async fn put_template(
        &self,
        request: Request<PutTemplateRequest>,
    ) -> Result<Response<PutTemplateResponse>, Status> {
        let who = actor(&request);
        let r = request.into_inner();
        // audit: template.put (key, language, version, minor)
        let push = self.push.clone();
        let (key, language, body, minor) = (r.key.clone(), r.language.clone(), r.body, r.minor);
        let version = blocking(&self.store, move |store| {
            Ok::<_, Status>(crate::answer_templates::put(
                store,
                Some(&push),
                &key,
                &language,
                &body,
                minor,
                who,
            )?)
        })
        .await?;
        tracing::info!(version, key = %r.key, language = %r.language, "template saved");
        Ok(Response::new(PutTemplateResponse { version }))
    }

    async fn list_proposals(
        &self,
        _: Request<ListProposalsRequest>,
    ) -> Result<Response<ListProposalsResponse>, Status> {
        let proposals = blocking(&self.store, |store| {
            Ok::<_, Status>(crate::proposals::list(store)?)
        })
        .await?;
        Ok(Response::new(ListProposalsResponse {
            proposals: proposals.into_iter().map(Into::into).collect(),
        }))
    }

    async fn decide_proposal(
        &self,
        request: Request<DecideProposalRequest>,
    ) -> Result<Response<DecideProposalResponse>, Status> {
        let who = actor(&request);
        let r = request.into_inner();
        let push = self.push.clone();
        let version = blocking(&self.store, move |store| {
            Ok::<_, Status>(crate::proposals::decide(
                store,
                Some(&push),
                &r.id,
                r.accept,
                who,
            )?)
        })
        .await?;
        Ok(Response::new(DecideProposalResponse {
            template_version: version.unwrap_or_default(),
        }))
    }

    async fn list_templates(
        &self,
        _: Request<ListTemplatesRequest>,
    ) -> Result<Response<ListTemplatesResponse>, Status> {
        let listing = blocking(&self.store, |store| {
            Ok::<_, Status>(crate::harmonise::listing(store)?)
        })
        .await?;
        let listing_json = crate::transport::status::json(&listing)?;
        Ok(Response::new(ListTemplatesResponse { listing_json }))
    }

    async fn put_catalogue(
        &self,
        request: Request<PutCatalogueRequest>,
    ) -> Result<Response<PutCatalogueResponse>, Status> {
        let who = actor(&request);
        let procedures = request
            .into_inner()
            .procedures
            .into_iter()
            .map(domain::CatalogueEntry::from)
            .collect();
        let push = self.push.clone();
        let version = blocking(&self.store, move |store| {
            Ok::<_, Status>(crate::catalogue::put(store, Some(&push), procedures, who)?)
        })
        .await?;
        tracing::info!(version, "catalogue changed");
        Ok(Response::new(PutCatalogueResponse { version }))
    }

    async fn put_card(
        &self,
        request: Request<PutCardRequest>,
    ) -> Result<Response<PutCardResponse>, Status> {
        let who = actor(&request);
        let card = request
            .into_inner()
            .card
            .ok_or_else(|| Status::invalid_argument("card is missing"))?;
        let push = self.push.clone();
        let version = blocking(&self.store, move |store| {
            Ok::<_, Status>(crate::cards::put(
                store,
                Some(&push),
                domain::Card::from(card),
                who,
            )?)
        })
        .await?;
        Ok(Response::new(PutCardResponse { version }))
    }

    async fn list_reports(
        &self,
        _request: Request<proto::ListHubReportsRequest>,
    ) -> Result<Response<proto::ListHubReportsResponse>, Status> {
        let rows = blocking(&self.store, |store| {
            Ok::<_, Status>(crate::reports::rows(store)?)
        })
        .await?;
        let listing_json = serde_json::to_string(&rows)
            .map_err(|e| Status::internal(format!("the listing could not be written: {e}")))?;
        Ok(Response::new(proto::ListHubReportsResponse {
            listing_json,
        }))
    }

    async fn decide_report(
        &self,
        request: Request<proto::DecideReportRequest>,
    ) -> Result<Response<proto::DecideReportResponse>, Status> {
        let who = actor(&request);
        let r = request.into_inner();
        let push = self.push.clone();
        let decision = crate::reports::Decision::new(r.fixed, r.fixed_version, r.note);
        blocking(&self.store, move |store| {
            Ok::<_, Status>(crate::reports::decide(
                store,
                Some(&push),
                &r.id,
                decision,
                who,
            )?)
        })
        .await?;
        Ok(Response::new(proto::DecideReportResponse {}))
    }

    async fn put_glossary(
        &self,
        request: Request<proto::PutGlossaryRequest>,
    ) -> Result<Response<PutCatalogueResponse>, Status> {
        let who = actor(&request);
        let toml = request.into_inner().toml;
        let push = self.push.clone();
        let version = blocking(&self.store, move |store| {
            Ok::<_, Status>(crate::catalogue::put_glossary(
                store,
                Some(&push),
                toml,
                who,
            )?)
        })
        .await?;
        tracing::info!(version, "search glossary changed");
        Ok(Response::new(PutCatalogueResponse { version }))
    }

    async fn confirm_card(
        &self,
        request: Request<ConfirmCardRequest>,
    ) -> Result<Response<PutCardResponse>, Status> {
        let who = actor(&request);
        let code = request.into_inner().code;
        let push = self.push.clone();
        let version = blocking(&self.store, move |store| {
            let today = chrono::Utc::now().date_naive();
            Ok::<_, Status>(crate::cards::confirm(
                store,
                Some(&push),
                &code,
                who,
                today,
            )?)
        })
        .await?;
        Ok(Response::new(PutCardResponse { version }))
    }

    async fn list_cards(
        &self,
        _: Request<ListCardsRequest>,
    ) -> Result<Response<ListCardsResponse>, Status> {
        let listing = blocking(&self.store, |store| {
            let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
            Ok::<_, Status>(crate::cards::listing(store, &today)?)
        })
        .await?;
        let listing_json = crate::transport::status::json(&listing)?;
        Ok(Response::new(ListCardsResponse { listing_json }))
    }

    async fn list_gaps(
        &self,
        request: Request<proto::ListGapsRequest>,
    ) -> Result<Response<proto::ListGapsResponse>, Status> {
        let period =
            crate::stats::Period::from_args(Some(&request.into_inner().period), None, None)?;
        let gaps = blocking(&self.store, move |store| {
            let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
            Ok::<_, Status>(crate::gaps::build(store, &period, &today)?)
        })
        .await?;
        let gaps_json = crate::transport::status::json(&gaps)?;
        Ok(Response::new(proto::ListGapsResponse { gaps_json }))
    }

    async fn rollout(
        &self,
        _: Request<RolloutRequest>,
    ) -> Result<Response<RolloutResponse>, Status> {
        let connections = Arc::clone(&self.connections);
        let rollout = blocking(&self.store, move |store| {
            Ok::<_, Status>(admin::rollout(store, Some(&connections))?)
        })
        .await?;
        Ok(Response::new(rollout.into()))
    }

    async fn query_stats(
        &self,
        request: Request<QueryStatsRequest>,
    ) -> Result<Response<QueryStatsResponse>, Status> {
        let r = request.into_inner();
        let period =
            crate::stats::Period::from_args(Some(&r.period), Some(&r.from_week), Some(&r.to_week))?;
        let by_names = r.by;
        let published = blocking(&self.store, move |store| {
            let by: Vec<&str> = by_names.iter().map(String::as_str).collect();
            Ok::<_, Status>(crate::stats::query(store, &by, &period)?)
        })
        .await?;
        let cells = published
            .table
            .rows()
            .iter()
            .map(|(keys, cell)| StatsCell {
                keys: keys.clone(),
                count: crate::stats::figure(*cell),
            })
            .collect();
        let table_json = crate::transport::status::json(&published.to_json())?;
        Ok(Response::new(QueryStatsResponse {
            cells,
            table_json,
            period: published.period.clone().unwrap_or_default(),
            provisional: published.provisional,
            hidden_cells: u32::try_from(published.loss.hidden_cells).unwrap_or(u32::MAX),
            table_cells: u32::try_from(published.loss.cells).unwrap_or(u32::MAX),
            hidden_share: published.loss.hidden_share,
            recoded: published.detail.name().to_owned(),
        }))
    }

    type BackupStream = Pin<Box<dyn futures::Stream<Item = Result<BackupChunk, Status>> + Send>>;

    /// Writes the backup to a file in the data folder first, so that the
    /// store's writes wait only for the copy, never for a slow network.
    async fn backup(
        &self,
        request: Request<BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        let who = actor(&request);
        let store = Arc::clone(&self.store);
        let dir = crate::config::DataDir(self.data.clone());
        let path = tokio::task::spawn_blocking(move || {
            crate::backup::write_in_folder(&dir, store.as_ref())
        })
        .await
        .map_err(|e| Status::internal(format!("the backup stopped: {e}")))?
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "backup failed");
            Status::unavailable(format!("the hub could not write the backup: {e:#}"))
        })?;
        blocking(&self.store, move |store| {
            crate::audit::record(store, who, "hub.backup", "", "")
        })
        .await?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::task::spawn_blocking(move || crate::backup::send_chunks(&path, &tx));
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn add_user(
        &self,
        request: Request<AddUserRequest>,
    ) -> Result<Response<AddUserResponse>, Status> {
        let who = actor(&request);
        let r = request.into_inner();
        blocking(&self.store, move |store| {
            Ok::<_, Status>(crate::users::add_audited(
                store,
                &r.name,
                &r.password_hash,
                who,
            )?)
        })
        .await?;
        Ok(Response::new(AddUserResponse {}))
    }
}
