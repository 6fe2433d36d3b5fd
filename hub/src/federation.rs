//! The `Federation.Sync` stream: a desk's identity from its certificate, the
//! `Hello`/`Welcome` resume handshake, the hub's re-check of every record,
//! and acknowledgements sent only once the group commit is durable and the
//! desk's rate allows (`rate.rs`); a desk that sends far past its window of
//! unacknowledged batches is refused with a retry delay.

mod rate;

pub use rate::{DeskRates, Rate};

use crate::connections::{Connections, Kick};
use crate::group_commit::GroupCommit;
use crate::pki;
use crate::push::{self, Push};
use crate::storage::{on_store, AppendOutcome, DeskAppend, PushState, Store};
use domain::RawRecord;
use futures::stream::{FuturesOrdered, StreamExt};
use proto::federation_server::Federation;
use proto::{
    desk_message, hub_message, BatchAck, DeskMessage, HubMessage, RecordRejection, ReportStatus,
    Welcome,
};
use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Limits a desk's stream is held to.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_batch_records: usize,
    pub max_unacked_batches: usize,
    pub hello_timeout: Duration,
}

/// How far past its window a desk may send before it is refused: twice the
/// window. A desk that keeps to the window the Welcome tells it never comes
/// near; one whose acks are held back by its rate still fits.
const FLOOD_FACTOR: usize = 2;

/// What a desk refused for sending past its window is told to wait: long
/// enough that a broken agent does not hammer the hub, short enough that a
/// fixed one is back within a minute.
const FLOOD_RETRY: Duration = Duration::from_secs(30);

pub struct FederationService {
    pub store: Arc<dyn Store>,
    pub group_commit: GroupCommit,
    pub connections: Arc<Connections>,
    pub limits: Limits,
    /// Every desk's rate limit; shared by its successive streams.
    pub rates: Arc<DeskRates>,
    pub push: Push,
    pub shutdown: runtime::Shutdown,
    pub metrics: Arc<crate::metrics::HubMetrics>,
}

type Committed = (
    Result<Result<AppendOutcome, String>, oneshot::error::RecvError>,
    Instant,
);

#[tonic::async_trait]
impl Federation for FederationService {
    type SyncStream = Pin<Box<dyn futures::Stream<Item = Result<HubMessage, Status>> + Send>>;

    async fn sync(
        &self,
        request: Request<Streaming<DeskMessage>>,
    ) -> Result<Response<Self::SyncStream>, Status> {
        let cert_id = request
            .peer_certs()
            .and_then(|certs| certs.first().and_then(|c| pki::desk_id_from_cert(c)))
            .ok_or_else(|| {
                Status::unauthenticated("no desk certificate was presented on this connection")
            })?;
        let mut inbound = request.into_inner();
        let hello = match tokio::time::timeout(self.limits.hello_timeout, inbound.message()).await {
            Ok(Ok(Some(DeskMessage {
                body: Some(desk_message::Body::Hello(h)),
            }))) => h,
            Ok(Ok(_)) => return Err(Status::invalid_argument("the stream must open with Hello")),
            Ok(Err(status)) => return Err(status),
            Err(_) => {
                return Err(Status::deadline_exceeded(
                    "no Hello within the allowed time",
                ))
            }
        };
        if hello.desk_id != cert_id {
            // What a peer sends is echoed bounded and escaped, never whole.
            let claimed = bounded(&hello.desk_id);
            tracing::warn!(cert = %cert_id, %claimed, "desk claimed another identity");
            return Err(Status::permission_denied(format!(
                "Hello names desk `{claimed}` but the certificate belongs to `{cert_id}`"
            )));
        }
        let Handshake {
            joined,
            told,
            rejected,
            logs_epoch,
        } = {
            let (desk_id, hello) = (cert_id.clone(), hello.clone());
            on_store(&self.store, move |store| handshake(store, &desk_id, &hello)).await?
        };
        if joined.started {
            self.metrics.incarnations_started.inc();
        }
        if joined.older_state {
            self.metrics.older_state_returns.inc();
        }
        self.metrics.records_lost.inc_by(joined.newly_lost);
        let (incarnation, progress) = (joined.incarnation, joined.progress);
        let (tx, rx) = mpsc::channel(self.limits.max_unacked_batches + 8);
        let tx = ToDesk(tx);
        let welcome = Welcome {
            last_seq: told,
            hub_versions: Some(proto::Versions {
                guidance: self.push.guidance_version(),
                template: self.push.template_version(),
                catalogue: self.push.catalogue_version(),
                card: self.push.card_version(),
            }),
            rejected: to_wire(rejected),
            logs_epoch,
            max_unacked_batches: u32::try_from(self.limits.max_unacked_batches).unwrap_or(u32::MAX),
        };
        let _ = tx.send(Ok(msg(hub_message::Body::Welcome(welcome)))).await;
        tracing::info!(desk_id = %cert_id, incarnation = %incarnation.id, last_seq = progress.last_seq, agent = %hello.agent_version, "desk connected");

        self.connections
            .report_outbox(&cert_id, hello.outbox_last_seq);
        // The desk reports what it holds; that is what it has applied.
        {
            let desk_id = cert_id.clone();
            let held = (
                hello.guidance_version,
                hello.template_version,
                hello.catalogue_version,
                hello.card_version,
            );
            on_store(&self.store, move |store| {
                let mut state = store.push_state(&desk_id)?;
                (state.guidance, state.template, state.catalogue, state.card) = held;
                store.put_push_state(&desk_id, &state)
            })
            .await?;
        }
        let session = Session {
            guidance_held: hello.guidance_version,
            guidance: self.push.watch_guidance(),
            templates_held: hello.template_version,
            templates: self.push.watch_templates(),
            catalogue_held: hello.catalogue_version,
            catalogue: self.push.watch_catalogue(),
            cards_held: hello.card_version,
            cards: self.push.watch_cards(),
            reports: self.push.watch_reports(),
            reports_told: HashMap::new(),
            push: self.push.clone(),
            store: Arc::clone(&self.store),
            desk_id: cert_id,
            incarnation: incarnation.number,
            next_seq: progress.last_seq + 1,
            group_commit: self.group_commit.clone(),
            connections: Arc::clone(&self.connections),
            limits: self.limits.clone(),
            rates: Arc::clone(&self.rates),
            metrics: Arc::clone(&self.metrics),
            tx,
        };
        tokio::spawn(session.run(inbound, self.shutdown.clone()));
        Ok(Response::new(Box::pin(
            ReceiverStream::new(rx).map(|item| *item),
        )))
    }
}

/// What the handshake reads and writes before the Welcome.
struct Handshake {
    joined: crate::incarnations::Joined,
    /// The last sequence the Welcome says the hub holds.
    told: u64,
    rejected: Vec<(u64, String)>,
    logs_epoch: String,
}

/// The store's part of the handshake, in one call so that a remote store
/// takes one trip to the blocking pool for it.
fn handshake(store: &dyn Store, desk_id: &str, hello: &proto::Hello) -> Result<Handshake, Status> {
    match store.desk(desk_id)? {
        None => {
            return Err(Status::permission_denied(format!(
                "desk `{desk_id}` is not enrolled at this hub"
            )))
        }
        Some(d) if d.revoked => {
            return Err(Status::permission_denied(format!(
                "desk `{desk_id}` has been revoked"
            )))
        }
        Some(_) => {}
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let incarnation = hello.incarnation.chars().take(64).collect::<String>();
    let joined = crate::incarnations::join(
        store,
        desk_id,
        &incarnation,
        hello.outbox_last_seq,
        hello.records_lost,
        &now,
    )?;
    let held = joined.progress.last_seq;
    // Refusals the desk may have missed because an ack was lost in a crash
    // (from a point the desk chooses: bounded, so that a Welcome always
    // fits in a message). Past the bound, the Welcome names the last
    // listed refusal as what the hub holds: the desk sends the rest
    // again, and the acks of those resends carry their refusals.
    let mut rejected = store.rejections(
        desk_id,
        joined.incarnation.number,
        hello.last_acked_seq,
        held,
        MAX_WELCOME_REJECTIONS + 1,
    )?;
    let told = if rejected.len() > MAX_WELCOME_REJECTIONS {
        rejected.truncate(MAX_WELCOME_REJECTIONS);
        rejected.last().map_or(held, |(seq, _)| *seq)
    } else {
        held
    };
    Ok(Handshake {
        joined,
        told,
        rejected,
        logs_epoch: store.logs_epoch()?,
    })
}

struct Session {
    guidance_held: u64,
    guidance: watch::Receiver<u64>,
    templates_held: u64,
    templates: watch::Receiver<u64>,
    catalogue_held: u64,
    catalogue: watch::Receiver<u64>,
    cards_held: u64,
    cards: watch::Receiver<u64>,
    /// Decisions on reports, and what this stream told its desk of each.
    reports: watch::Receiver<u64>,
    reports_told: HashMap<String, ReportStatus>,
    push: Push,
    store: Arc<dyn Store>,
    desk_id: String,
    /// The number of the incarnation this stream carries.
    incarnation: u32,
    /// The lowest sequence not yet sent on this stream: a batch may repeat
    /// what the hub holds, never skip past it.
    next_seq: u64,
    group_commit: GroupCommit,
    connections: Arc<Connections>,
    limits: Limits,
    rates: Arc<DeskRates>,
    metrics: Arc<crate::metrics::HubMetrics>,
    tx: ToDesk,
}

/// A stream's queue of messages to its desk. The items are boxed because
/// a channel allocates its slots 32 at a time and keeps them while it
/// lives: an unboxed `Result<HubMessage, Status>` is over a hundred bytes,
/// which made 3.9 KiB in every connected desk's channel even when idle
/// (heaptrack of `bench connections`; 1.2 KiB boxed).
struct ToDesk(mpsc::Sender<Box<Result<HubMessage, Status>>>);

impl ToDesk {
    /// `Err` once the desk is gone.
    async fn send(&self, item: Result<HubMessage, Status>) -> Result<(), ()> {
        self.0.send(Box::new(item)).await.map_err(|_| ())
    }
}

/// A durable batch whose ack waits for the desk's rate.
struct Held {
    outcome: AppendOutcome,
    ready: Instant,
}

impl Session {
    async fn run(mut self, mut inbound: Streaming<DeskMessage>, shutdown: runtime::Shutdown) {
        let mut registration = self.connections.register(&self.desk_id);
        // A revocation between the check in `sync` and this registration
        // found no stream to end; look again now that it would.
        let desk_id = self.desk_id.clone();
        let desk = on_store(&self.store, move |store| store.desk(&desk_id)).await;
        if matches!(desk, Ok(Some(d)) if d.revoked) {
            let status =
                Status::permission_denied(format!("desk `{}` has been revoked", self.desk_id));
            let _ = self.tx.send(Err(status)).await;
            return;
        }
        // Submitted and not yet durable, in order; then durable and waiting
        // for the desk's rate. Their sum is what the desk has unacked.
        let mut pending: FuturesOrdered<Pin<Box<dyn futures::Future<Output = Committed> + Send>>> =
            FuturesOrdered::new();
        let mut held: VecDeque<Held> = VecDeque::new();
        let flood = self.limits.max_unacked_batches * FLOOD_FACTOR;
        self.guidance.mark_changed();
        self.templates.mark_changed();
        self.catalogue.mark_changed();
        self.cards.mark_changed();
        self.reports.mark_changed();
        // The arms' futures are boxed: this task lives as long as its desk is
        // connected, and inline they took room in its state machine for every
        // idle desk, for work that runs now and then (heaptrack: 3.7 KiB a
        // task inline, 2.9 KiB boxed).
        let end: Option<Status> = loop {
            tokio::select! {
                biased;
                _ = registration.kicked.changed() => {
                    let why = registration.kicked.borrow().clone();
                    break Some(match why {
                        Some(Kick::Revoked) => Status::permission_denied(format!("desk `{}` has been revoked", self.desk_id)),
                        _ => Status::aborted("replaced by a newer connection from the same desk"),
                    });
                }
                _ = shutdown.wait() => break Some(Status::unavailable("the hub is shutting down; reconnect shortly")),
                changed = self.guidance.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    match Box::pin(self.send_guidance()).await {
                        Ok(true) => {}
                        Ok(false) => break None,
                        Err(status) => break Some(status),
                    }
                }
                changed = self.templates.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    match Box::pin(self.send_templates()).await {
                        Ok(true) => {}
                        Ok(false) => break None,
                        Err(status) => break Some(status),
                    }
                }
                changed = self.catalogue.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    match Box::pin(self.send_catalogue()).await {
                        Ok(true) => {}
                        Ok(false) => break None,
                        Err(status) => break Some(status),
                    }
                }
                changed = self.reports.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    match Box::pin(self.send_report_statuses()).await {
                        Ok(true) => {}
                        Ok(false) => break None,
                        Err(status) => break Some(status),
                    }
                }
                changed = self.cards.changed() => {
                    if changed.is_err() {
                        continue;
                    }
                    match Box::pin(self.send_cards()).await {
                        Ok(true) => {}
                        Ok(false) => break None,
                        Err(status) => break Some(status),
                    }
                }
                Some((done, ready)) = pending.next(), if !pending.is_empty() => {
                    match done {
                        Ok(Ok(outcome)) => {
                            if ready > Instant::now() {
                                self.metrics.acks_delayed.inc();
                            }
                            held.push_back(Held { outcome, ready });
                            if !Box::pin(self.send_ready(&mut held)).await {
                                break None;
                            }
                        }
                        Ok(Err(e)) => break Some(Status::unavailable(e)),
                        Err(_) => break Some(Status::unavailable("the hub is shutting down; reconnect shortly")),
                    }
                }
                _ = tokio::time::sleep_until(held.front().map_or_else(Instant::now, |h| h.ready)), if !held.is_empty() => {
                    if !Box::pin(self.send_ready(&mut held)).await {
                        break None;
                    }
                }
                // Read one batch past the tolerated overflow, so that a desk
                // that ignores its window is seen and refused rather than
                // left waiting on HTTP/2 flow control.
                next = inbound.message(), if pending.len() + held.len() <= flood => {
                    match next {
                        Ok(Some(DeskMessage { body: Some(desk_message::Body::Batch(batch)) })) => {
                            let unacked = pending.len() + held.len();
                            if unacked >= flood {
                                self.metrics.floods_refused.inc();
                                tracing::warn!(desk_id = %self.desk_id, unacked, window = self.limits.max_unacked_batches, "desk sent far past its window; stream refused");
                                break Some(runtime::retry::exhausted_retry_after(
                                    format!(
                                        "this desk sent {} batches without waiting for their acknowledgement, \
                                         while the hub allows {}: wait {} seconds, then reconnect \
                                         and keep to the window the hub gives in Welcome",
                                        unacked + 1,
                                        self.limits.max_unacked_batches,
                                        FLOOD_RETRY.as_secs()
                                    ),
                                    FLOOD_RETRY,
                                ));
                            }
                            let bytes = prost::Message::encoded_len(&batch);
                            match self.check(batch) {
                                Ok(append) => {
                                    let records = append.last_seq + 1 - append.first_seq;
                                    let ready = self.rates.reserve(&self.desk_id, records, bytes as u64);
                                    match Box::pin(self.group_commit.submit(append, bytes)).await {
                                        Ok(commit) => pending.push_back(Box::pin(async move {
                                            (commit.await, ready)
                                        })),
                                        Err(e) => break Some(Status::unavailable(e)),
                                    }
                                }
                                Err(status) => break Some(status),
                            }
                        }
                        Ok(Some(DeskMessage { body: Some(desk_message::Body::Hello(_)) })) => {
                            break Some(Status::invalid_argument("Hello may only open the stream"));
                        }
                        Ok(Some(DeskMessage { body: Some(desk_message::Body::Applied(applied)) })) => {
                            Box::pin(self.note_push(move |s| {
                                s.guidance = applied.guidance_version;
                                s.template = applied.template_version;
                                s.catalogue = applied.catalogue_version;
                                s.card = applied.card_version;
                            }))
                            .await;
                        }
                        Ok(Some(DeskMessage { body: Some(desk_message::Body::Rejected(r)) })) => {
                            let (kind, reason) = (bounded(&r.kind), bounded(&r.reason));
                            tracing::warn!(desk_id = %self.desk_id, %kind, version = r.version, %reason, "desk refused a push");
                            let text = format!("{kind} v{}: {reason}", r.version);
                            Box::pin(self.note_push(move |s| s.last_rejection = Some(text))).await;
                        }
                        Ok(Some(DeskMessage { body: Some(desk_message::Body::Report(r)) })) => {
                            if !Box::pin(self.receive_report(r)).await {
                                break None;
                            }
                        }
                        Ok(Some(DeskMessage { body: Some(desk_message::Body::SearchMisses(m)) })) => {
                            if !Box::pin(self.receive_search_misses(m)).await {
                                break None;
                            }
                        }
                        Ok(Some(DeskMessage { body: Some(desk_message::Body::Proposal(p)) })) => {
                            if !Box::pin(self.receive_proposal(p)).await {
                                break None;
                            }
                        }
                        Ok(Some(DeskMessage { body: None })) => {
                            break Some(Status::invalid_argument("empty message"));
                        }
                        Ok(None) => break None,
                        Err(status) => {
                            tracing::warn!(desk_id = %self.desk_id, code = ?status.code(), error = %status.message(), "bad frame from desk");
                            break Some(status);
                        }
                    }
                }
            }
        };
        // Whatever ended the stream, batches already submitted are acknowledged
        // if the desk is still listening, so it need not resend them; the
        // rate no longer matters once the stream is ending.
        let mut outcomes: Vec<AppendOutcome> = held.into_iter().map(|h| h.outcome).collect();
        while let Some((done, _)) = pending.next().await {
            // An ack covers every sequence before it: none after a failure.
            let Ok(Ok(outcome)) = done else { break };
            outcomes.push(outcome);
        }
        for outcome in outcomes {
            let ack = BatchAck {
                up_to_seq: outcome.up_to_seq,
                rejected: to_wire(outcome.rejected),
            };
            if self
                .tx
                .send(Ok(msg(hub_message::Body::Ack(ack))))
                .await
                .is_err()
            {
                break;
            }
        }
        if let Some(status) = end {
            tracing::info!(desk_id = %self.desk_id, code = ?status.code(), reason = %status.message(), "desk stream ended by the hub");
            let _ = self.tx.send(Err(status)).await;
        } else {
            tracing::info!(desk_id = %self.desk_id, "desk disconnected");
        }
        drop(registration);
        let store = Arc::clone(&self.store);
        let desk_id = self.desk_id.clone();
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let saved = tokio::task::spawn_blocking(move || store.mark_seen(&desk_id, &now)).await;
        if let Ok(Err(e)) = saved {
            tracing::warn!(desk_id = %self.desk_id, error = %e, "could not store when the desk was last seen");
        }
    }

    /// Acknowledges every held batch whose time has come, in order; `false`
    /// once the desk is gone.
    async fn send_ready(&self, held: &mut VecDeque<Held>) -> bool {
        let now = Instant::now();
        while held.front().is_some_and(|h| h.ready <= now) {
            let Some(h) = held.pop_front() else { break };
            let ack = BatchAck {
                up_to_seq: h.outcome.up_to_seq,
                rejected: to_wire(h.outcome.rejected),
            };
            if self
                .tx
                .send(Ok(msg(hub_message::Body::Ack(ack))))
                .await
                .is_err()
            {
                return false;
            }
            self.connections.acked(&self.desk_id);
        }
        true
    }

    /// Sends the desk every guidance entry it lacks; `false` once the desk
    /// is gone.
    async fn send_guidance(&mut self) -> Result<bool, Status> {
        let held = self.guidance_held;
        let updates = on_store(&self.store, move |s| push::guidance_updates(s, held)).await?;
        let bodies = updates
            .into_iter()
            .map(|u| (u.version, hub_message::Body::Guidance(u)));
        Ok(send_in_order(&self.tx, bodies, &mut self.guidance_held).await)
    }

    /// Sends the desk every template entry it lacks; `false` once the desk
    /// is gone.
    async fn send_templates(&mut self) -> Result<bool, Status> {
        let held = self.templates_held;
        let updates = on_store(&self.store, move |s| push::template_updates(s, held)).await?;
        let bodies = updates
            .into_iter()
            .map(|u| (u.version, hub_message::Body::Templates(u)));
        Ok(send_in_order(&self.tx, bodies, &mut self.templates_held).await)
    }

    /// Sends the desk every catalogue change set it lacks; `false` once the
    /// desk is gone.
    async fn send_catalogue(&mut self) -> Result<bool, Status> {
        let held = self.catalogue_held;
        let updates = on_store(&self.store, move |s| push::catalogue_updates(s, held)).await?;
        let bodies = updates
            .into_iter()
            .map(|u| (u.version, hub_message::Body::Catalogue(u)));
        Ok(send_in_order(&self.tx, bodies, &mut self.catalogue_held).await)
    }

    /// Sends the desk every card entry it lacks; `false` once the desk is
    /// gone.
    async fn send_cards(&mut self) -> Result<bool, Status> {
        let held = self.cards_held;
        let updates = on_store(&self.store, move |s| push::card_updates(s, held)).await?;
        let bodies = updates
            .into_iter()
            .map(|u| (u.version, hub_message::Body::Cards(u)));
        Ok(send_in_order(&self.tx, bodies, &mut self.cards_held).await)
    }

    /// Stores a desk's proposal and acknowledges it, stored or refused with
    /// the reason, so the desk can drop it from its queue; `false` once the
    /// desk is gone.
    async fn receive_proposal(&self, p: proto::DeskProposal) -> bool {
        let id = p.proposal_id.chars().take(64).collect::<String>();
        let store = Arc::clone(&self.store);
        let desk_id = self.desk_id.clone();
        let stored = tokio::task::spawn_blocking(move || {
            crate::proposals::receive(store.as_ref(), &desk_id, p)
        })
        .await;
        let refused = match stored {
            Ok(Ok(_)) => String::new(),
            // Not acknowledged: the desk keeps it and sends it again on its
            // next connection.
            Ok(Err(crate::proposals::ProposalError::Storage(e))) => {
                tracing::error!(desk_id = %self.desk_id, error = %e, "could not store a template proposal");
                return true;
            }
            Err(e) => {
                tracing::error!(desk_id = %self.desk_id, error = %e, "could not store a template proposal");
                return true;
            }
            Ok(Err(e)) => {
                tracing::warn!(desk_id = %self.desk_id, error = %e, "template proposal refused");
                e.to_string()
            }
        };
        let ack = proto::ProposalAck {
            proposal_id: id,
            refused,
        };
        self.tx
            .send(Ok(msg(hub_message::Body::ProposalAck(ack))))
            .await
            .is_ok()
    }

    /// Stores a desk's report and acknowledges it, stored or refused with
    /// the reason, so the desk stops resending it; `false` once the desk is
    /// gone. The comment is never logged.
    async fn receive_report(&mut self, r: proto::DeskReport) -> bool {
        let id = r.report_id.chars().take(64).collect::<String>();
        let store = Arc::clone(&self.store);
        let desk_id = self.desk_id.clone();
        let stored = tokio::task::spawn_blocking(move || {
            crate::reports::receive(store.as_ref(), &desk_id, r)
        })
        .await;
        let (refused, held) = match stored {
            Ok(Ok(held)) => (String::new(), Some(held)),
            // Not acknowledged: the desk keeps it and sends it again on its
            // next connection.
            Ok(Err(crate::reports::ReportError::Storage(e))) => {
                tracing::error!(desk_id = %self.desk_id, error = %e, "could not store an operator report");
                return true;
            }
            Err(e) => {
                tracing::error!(desk_id = %self.desk_id, error = %e, "could not store an operator report");
                return true;
            }
            Ok(Err(e)) => {
                tracing::warn!(desk_id = %self.desk_id, error = %e, "operator report refused");
                (e.to_string(), None)
            }
        };
        let ack = proto::ReportAck {
            report_id: id,
            refused,
        };
        if self
            .tx
            .send(Ok(msg(hub_message::Body::ReportAck(ack))))
            .await
            .is_err()
        {
            return false;
        }
        // A report held from before (a resend) may be decided already: the
        // desk learns where it stands without waiting for the next decision.
        match held {
            Some(r) if r.state != crate::reports::OPEN => {
                self.send_statuses(vec![crate::reports::status(&r)]).await
            }
            _ => true,
        }
    }

    /// Sends the desk where each of its reports stands, those this stream
    /// has not told it yet; `false` once the desk is gone.
    async fn send_report_statuses(&mut self) -> Result<bool, Status> {
        let store = Arc::clone(&self.store);
        let desk_id = self.desk_id.clone();
        let all =
            tokio::task::spawn_blocking(move || crate::reports::statuses(store.as_ref(), &desk_id))
                .await
                .map_err(|e| {
                    Status::internal(format!("reading the desk's reports stopped: {e}"))
                })??;
        let changed: Vec<ReportStatus> = all
            .into_iter()
            .filter(|s| self.reports_told.get(&s.report_id) != Some(s))
            .collect();
        Ok(self.send_statuses(changed).await)
    }

    async fn send_statuses(&mut self, changed: Vec<ReportStatus>) -> bool {
        // A desk holds at most a thousand reports of a few hundred bytes
        // of status each; chunks keep each message small all the same.
        for chunk in changed.chunks(200) {
            let update = proto::ReportStatusUpdate {
                reports: chunk.to_vec(),
            };
            if self
                .tx
                .send(Ok(msg(hub_message::Body::ReportStatus(update))))
                .await
                .is_err()
            {
                return false;
            }
            for s in chunk {
                self.reports_told.insert(s.report_id.clone(), s.clone());
            }
        }
        true
    }

    /// Stores a desk's counts of searches that found nothing and
    /// acknowledges them, unless the store failed (then the desk sends the
    /// batch again on its next stream). A batch refused whole is
    /// acknowledged too: the same resend would be refused again. False
    /// when the stream is gone.
    async fn receive_search_misses(&self, batch: proto::SearchMisses) -> bool {
        let batch_id = batch.batch_id.chars().take(64).collect::<String>();
        let store = Arc::clone(&self.store);
        let received =
            tokio::task::spawn_blocking(move || crate::misses::receive(store.as_ref(), &batch))
                .await;
        match received {
            Ok(Ok(r)) => {
                if r.dropped > 0 {
                    // Never the queries: only how many were dropped.
                    tracing::warn!(desk_id = %self.desk_id, dropped = r.dropped, "search misses dropped by the check");
                }
            }
            Ok(Err(crate::misses::MissError::Invalid(reason))) => {
                tracing::warn!(desk_id = %self.desk_id, %reason, "search misses refused");
            }
            Ok(Err(crate::misses::MissError::Storage(e))) => {
                tracing::error!(desk_id = %self.desk_id, error = %e, "could not store search misses");
                return true;
            }
            Err(e) => {
                tracing::error!(desk_id = %self.desk_id, error = %e, "could not store search misses");
                return true;
            }
        }
        let ack = proto::SearchMissesAck { batch_id };
        self.tx
            .send(Ok(msg(hub_message::Body::SearchMissesAck(ack))))
            .await
            .is_ok()
    }

    async fn note_push(&self, change: impl FnOnce(&mut PushState) + Send + 'static) {
        let desk_id = self.desk_id.clone();
        let result = on_store(&self.store, move |store| {
            let mut s = store.push_state(&desk_id)?;
            change(&mut s);
            store.put_push_state(&desk_id, &s)
        })
        .await;
        if let Err(e) = result {
            tracing::warn!(desk_id = %self.desk_id, error = %e, "could not store the desk's push state");
        }
    }

    /// Re-checks every record of a batch; a bad record is refused alone, a
    /// malformed batch ends the stream.
    fn check(&mut self, batch: proto::RecordBatch) -> Result<DeskAppend, Status> {
        let n = batch.records.len();
        if n == 0 {
            return Err(Status::invalid_argument("empty batch"));
        }
        if n > self.limits.max_batch_records {
            return Err(Status::invalid_argument(format!(
                "batch of {n} records exceeds the limit of {} records",
                self.limits.max_batch_records
            )));
        }
        if batch.first_seq == 0 {
            return Err(Status::invalid_argument("first_seq must be 1 or more"));
        }
        let last_seq = batch
            .first_seq
            .checked_add(n as u64 - 1)
            .ok_or_else(|| Status::invalid_argument("sequence numbers overflow"))?;
        if batch.first_seq > self.next_seq {
            tracing::warn!(desk_id = %self.desk_id, expected = self.next_seq, first_seq = batch.first_seq, "batch skips sequences");
            return Err(Status::failed_precondition(format!(
                "the batch starts at sequence {} but the next one the hub expects is {}: \
                 a desk may not skip sequences",
                batch.first_seq, self.next_seq
            )));
        }
        self.next_seq = self.next_seq.max(last_seq + 1);
        self.connections
            .report_outbox(&self.desk_id, batch.outbox_last_seq);
        let mut append = DeskAppend {
            desk_id: self.desk_id.clone(),
            incarnation: self.incarnation,
            first_seq: batch.first_seq,
            last_seq,
            accepted: Vec::with_capacity(n),
            rejected: Vec::new(),
        };
        let catalogue = self.push.recheck_catalogue();
        for (seq, record) in (batch.first_seq..).zip(batch.records) {
            match domain::recheck(RawRecord::from(record), &self.desk_id, &catalogue) {
                Ok(r) => append.accepted.push((seq, r)),
                Err(e) => append.rejected.push((seq, e.to_string())),
            }
        }
        if !append.rejected.is_empty() {
            tracing::warn!(desk_id = %self.desk_id, rejected = append.rejected.len(), "records refused by the hub's re-check");
        }
        self.connections.touch(&self.desk_id);
        Ok(append)
    }
}

/// Sends pushed updates in log order, moving `held` past each one sent;
/// `false` once the desk is gone.
async fn send_in_order(
    tx: &ToDesk,
    updates: impl IntoIterator<Item = (u64, hub_message::Body)>,
    held: &mut u64,
) -> bool {
    for (version, body) in updates {
        if tx.send(Ok(msg(body))).await.is_err() {
            return false;
        }
        *held = version;
    }
    true
}

fn msg(body: hub_message::Body) -> HubMessage {
    HubMessage { body: Some(body) }
}

/// The stores keep rejections as `(seq, reason)`; the wire as messages.
fn to_wire(rejected: Vec<(u64, String)>) -> Vec<RecordRejection> {
    rejected.into_iter().map(RecordRejection::from).collect()
}

/// Most refusals one Welcome lists: with the hub's own reasons (a few
/// hundred bytes at most) well under a message's size.
const MAX_WELCOME_REJECTIONS: usize = 1000;

/// Most characters of a peer's own text the hub keeps or logs.
const MAX_PEER_TEXT: usize = 300;

/// A peer's text as the hub keeps, logs and echoes it: at most
/// `MAX_PEER_TEXT` characters, control characters escaped.
fn bounded(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_PEER_TEXT)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().count() > MAX_PEER_TEXT {
        out.push('…');
    }
    out
}
