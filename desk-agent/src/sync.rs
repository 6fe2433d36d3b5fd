//! The desk's side of `Federation.Sync`: connect over mutual TLS, resume
//! from what the hub holds, keep a bounded window of unacknowledged batches,
//! apply acknowledgements to the outbox, apply what the hub pushes, send the
//! desk's queued template proposals and reports, and reconnect whenever the
//! stream breaks: to the next of the desk's hub addresses (`Rotation`), with
//! exponential backoff and jitter once every address has failed, after the
//! hub's own delay when it gives one, and slowly when a retry cannot help
//! (`Broken`).

use crate::local::LocalCopy;
use crate::outbox::{Incarnation, Outbox};
use prost::bytes::{BufMut, Bytes};
use prost::Message;
use proto::{desk_message, hub_message, DeskMessage, Hello};
use rand::Rng;
use runtime::Shutdown;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

/// What the operator and `GetStatus` see of the link to the hub.
#[derive(Default)]
pub struct LinkStatus {
    pub connected: AtomicBool,
    pub last_error: Mutex<String>,
    /// The hub address connected to, or being tried.
    pub hub: Mutex<String>,
}

impl LinkStatus {
    fn set_error(&self, e: String) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = e;
    }

    fn set_hub(&self, addr: &str) {
        let mut hub = self.hub.lock().unwrap_or_else(|p| p.into_inner());
        if *hub != addr {
            *hub = addr.to_string();
        }
    }

    pub fn hub(&self) -> String {
        self.hub.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn last_error(&self) -> String {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[derive(Clone)]
pub struct SyncConfig {
    pub desk_id: String,
    /// Tried in this order, round robin; never empty (checked with the
    /// config).
    pub hub_addresses: Vec<String>,
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub batch_records: usize,
    pub window: usize,
    pub backoff_max: Duration,
    pub max_message_bytes: usize,
    /// How often searches that found nothing are packaged and sent.
    pub misses_every: Duration,
}

const BACKOFF_START: Duration = Duration::from_millis(100);

/// The longest wait a hub's retry delay is obeyed for: a wrong or hostile
/// figure must not silence a desk for days.
const MAX_HUB_DELAY: Duration = Duration::from_secs(600);

/// Why a stream ended, which decides how long the desk waits before the
/// next one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Broken {
    /// The link failed (network, hub restart, a refusal a new stream may
    /// not meet): exponential backoff with jitter.
    Link(String),
    /// The hub asked this desk to wait (`RESOURCE_EXHAUSTED` with a
    /// `RetryInfo`): it waits that long, then reconnects.
    Throttled { wait: Duration, reason: String },
    /// Refused in a way the same resend cannot fix (`RESOURCE_EXHAUSTED`
    /// without a delay: a message over the hub's size limit). Retried only
    /// at the longest backoff, in case the hub's limit is raised.
    Permanent(String),
}

impl Broken {
    fn from_status(s: tonic::Status) -> Self {
        if s.code() != tonic::Code::ResourceExhausted {
            return Broken::Link(status_text(s));
        }
        match runtime::retry::retry_delay(&s) {
            Some(wait) => Broken::Throttled {
                wait: wait.min(MAX_HUB_DELAY),
                reason: status_text(s),
            },
            None => Broken::Permanent(format!(
                "{}; sending it again cannot help: the hub's max_message_bytes \
                 must be at least this desk's",
                status_text(s)
            )),
        }
    }

    fn text(&self) -> String {
        match self {
            Broken::Link(e) | Broken::Permanent(e) => e.clone(),
            Broken::Throttled { wait, reason } => format!(
                "the hub asked this desk to wait {} s before sending again ({reason})",
                wait.as_secs()
            ),
        }
    }

    /// How long to wait before the next stream, `failures` broken streams
    /// in a row.
    fn wait(&self, failures: u32, backoff_max: Duration) -> Duration {
        match self {
            // Full jitter keeps a hundred desks that lost the hub together
            // from coming back together.
            Broken::Link(_) => {
                let cap = BACKOFF_START
                    .saturating_mul(1u32 << failures.min(16))
                    .min(backoff_max);
                rand::rng().random_range(Duration::ZERO..=cap)
            }
            // A little jitter after the hub's delay, so that desks it held
            // back together do not return at the same instant.
            Broken::Throttled { wait, .. } => {
                *wait + rand::rng().random_range(Duration::ZERO..=*wait / 10)
            }
            Broken::Permanent(_) => backoff_max,
        }
    }
}

/// Which of the desk's hub addresses it dials next. Replicas are
/// interchangeable, so a failed connection or a broken stream moves to the
/// next address at once; only when every address has failed since the last
/// stream that got through (a full round) does the desk back off. A dead
/// first address so costs one connection attempt, not a backoff.
#[derive(Debug)]
struct Rotation {
    addresses: Vec<String>,
    current: usize,
    /// Addresses that failed since a stream last got through.
    failed: usize,
}

impl Rotation {
    fn new(addresses: Vec<String>) -> Self {
        Self {
            addresses,
            current: 0,
            failed: 0,
        }
    }

    fn current(&self) -> &str {
        self.addresses
            .get(self.current)
            .map(String::as_str)
            .unwrap_or_default()
    }

    fn reached(&mut self) {
        self.failed = 0;
    }

    /// The current address failed: moves to the next. True when that
    /// completes a round, every address having failed in turn.
    fn failed(&mut self) -> bool {
        let n = self.addresses.len().max(1);
        self.current = (self.current + 1) % n;
        self.failed += 1;
        if self.failed >= n {
            self.failed = 0;
            true
        } else {
            false
        }
    }
}

impl From<String> for Broken {
    fn from(e: String) -> Self {
        Broken::Link(e)
    }
}

impl From<&str> for Broken {
    fn from(e: &str) -> Self {
        Broken::Link(e.to_string())
    }
}

/// Runs until `shutdown` fires; then waits briefly for in-flight acks.
pub async fn run(
    config: SyncConfig,
    outbox: Arc<Outbox>,
    local: Arc<LocalCopy>,
    status: Arc<LinkStatus>,
    shutdown: Shutdown,
) {
    let mut hubs = Rotation::new(config.hub_addresses.clone());
    // Full rounds of the addresses failed in a row: what the backoff grows with.
    let mut rounds: u32 = 0;
    while !shutdown.is_fired() {
        let hub = hubs.current().to_string();
        status.set_hub(&hub);
        let mut reached = false;
        let ended = session(
            &config,
            &hub,
            &outbox,
            &local,
            &status,
            shutdown.clone(),
            &mut reached,
        )
        .await;
        status.connected.store(false, Ordering::Relaxed);
        if reached {
            hubs.reached();
            rounds = 0;
        }
        let wait = match ended {
            // A new incarnation or history: the same hub again, soon.
            Ok(()) => Broken::Link(String::new()).wait(1, config.backoff_max),
            Err(broken) => {
                let text = broken.text();
                let wait = if let Broken::Throttled { .. } = broken {
                    // The hub's delay is obeyed where it was given: another
                    // replica would only be asked to hold the same desk back.
                    broken.wait(rounds, config.backoff_max)
                } else {
                    let round = hubs.failed();
                    if round {
                        rounds = rounds.saturating_add(1);
                    }
                    match broken {
                        // Within a round, a little jitter only, so that desks
                        // leaving a dead replica together spread over a moment.
                        Broken::Link(_) if !round => {
                            rand::rng().random_range(Duration::ZERO..=BACKOFF_START)
                        }
                        _ => broken.wait(rounds, config.backoff_max),
                    }
                };
                match &broken {
                    Broken::Link(_) => {
                        tracing::warn!(hub = %hub, next = %hubs.current(), error = %text, wait_ms = wait.as_millis() as u64, "link to the hub broken");
                    }
                    Broken::Throttled { .. } => {
                        tracing::warn!(hub = %hub, error = %text, wait_ms = wait.as_millis() as u64, "the hub asked this desk to wait");
                    }
                    Broken::Permanent(_) => {
                        tracing::error!(hub = %hub, next = %hubs.current(), error = %text, "the hub refused what this desk sends; retrying slowly");
                    }
                }
                status.set_error(text);
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait() => {}
        }
    }
}

fn endpoint(config: &SyncConfig, hub: &str) -> Result<Endpoint, String> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&config.ca_pem))
        .identity(Identity::from_pem(&config.cert_pem, &config.key_pem))
        .domain_name(runtime::HUB_SERVER_NAME);
    Endpoint::from_shared(format!("https://{hub}"))
        .map_err(|e| format!("bad hub address {hub}: {e}"))?
        .tls_config(tls)
        .map_err(|e| format!("TLS set-up failed: {e}"))
        .map(|e| {
            e.connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(10))
                .keep_alive_timeout(Duration::from_secs(20))
                .keep_alive_while_idle(true)
        })
}

fn status_text(s: tonic::Status) -> String {
    format!("{:?}: {}", s.code(), s.message())
}

/// One stream to `hub`; `reached` is set once the hub has answered with its
/// `Welcome`, which is what a later break is measured from.
async fn session(
    config: &SyncConfig,
    hub: &str,
    outbox: &Outbox,
    local: &Arc<LocalCopy>,
    status: &LinkStatus,
    shutdown: Shutdown,
    reached: &mut bool,
) -> Result<(), Broken> {
    let channel = endpoint(config, hub)?
        .connect()
        .await
        .map_err(|e| format!("cannot reach the hub at {hub}: {e}"))?;
    // The hub's window is not known before its Welcome: room for the
    // desk's own, which is never exceeded below.
    let (tx, rx) = mpsc::channel(config.window + 4);
    let incarnation = outbox.incarnation();
    let hello = Hello {
        desk_id: config.desk_id.clone(),
        agent_version: env!("CARGO_PKG_VERSION").into(),
        incarnation: incarnation.id.to_string(),
        last_acked_seq: incarnation.wire(outbox.acked_seq().map_err(|e| e.to_string())?),
        guidance_version: local.guidance_version(),
        template_version: local.template_version().map_err(|e| e.to_string())?,
        catalogue_version: local.catalogue_version(),
        card_version: local.card_version().map_err(|e| e.to_string())?,
        outbox_last_seq: incarnation.wire(outbox.last_seq().map_err(|e| e.to_string())?),
        records_lost: incarnation.lost,
    };
    let send = |body| Outgoing::from(DeskMessage { body: Some(body) });
    tx.send(send(desk_message::Body::Hello(hello)))
        .await
        .map_err(|_| "stream closed")?;
    let mut inbound = open_sync(channel, config.max_message_bytes, rx)
        .await
        .map_err(Broken::from_status)?;
    let welcome = match inbound.message().await.map_err(Broken::from_status)? {
        Some(proto::HubMessage {
            body: Some(hub_message::Body::Welcome(w)),
        }) => w,
        _ => return Err("the hub did not answer Hello with Welcome".into()),
    };
    *reached = true;
    let window = window(config.window, welcome.max_unacked_batches);
    let hub_versions = welcome.hub_versions.unwrap_or_default();
    if local
        .adopt_epoch(&welcome.logs_epoch)
        .map_err(|e| e.to_string())?
    {
        tracing::warn!(
            epoch = %welcome.logs_epoch,
            "the hub's pushed content has a new history (restored from a backup); fetching it again"
        );
        return Ok(());
    }
    let Some(mut next) = resume(outbox, incarnation, welcome)? else {
        // A new incarnation: the next stream opens with it, at once.
        return Ok(());
    };
    if local
        .forget_beyond(&hub_versions)
        .map_err(|e| e.to_string())?
    {
        tracing::warn!(
            guidance = hub_versions.guidance,
            template = hub_versions.template,
            catalogue = hub_versions.catalogue,
            "the hub holds older pushed content than this desk (restored from a backup?); fetching it again"
        );
        return Ok(());
    }
    status.connected.store(true, Ordering::Relaxed);
    // A link whose records the hub refuses (its disk full, say) connects
    // again and again: its error stays shown until the hub acknowledges
    // records, and is cleared now only when there is nothing to send.
    let mut error_shown = next <= outbox.last_seq().map_err(|e| e.to_string())?;
    if !error_shown {
        status.set_error(String::new());
    }
    tracing::info!(hub = %hub, incarnation = %incarnation.id, hub_holds = incarnation.wire(next - 1), "connected to the hub");

    let mut in_flight: VecDeque<u64> = VecDeque::new();
    // What waits to be sent. The stream is written only from the select
    // below, beside the read of the hub's messages: a desk that blocked on a
    // full send while the hub blocked on a full push would wait forever,
    // both keepalives still answered.
    let mut outgoing: VecDeque<Outgoing> = VecDeque::new();
    // Proposals sent on this stream; a new stream sends every queued one
    // again, and the hub recognises a resend by its id.
    let mut proposed: HashSet<String> = HashSet::new();
    // The queue is read at the start and when a proposal is queued, not on
    // every turn of the record loop.
    let mut proposals_changed = true;
    // The same for operators' reports.
    let mut reported: HashSet<String> = HashSet::new();
    let mut reports_changed = true;
    // Searches that found nothing: packaged now (the first tick is at
    // once) and every `misses_every`; each queued batch is sent once per
    // stream until the hub acknowledges it.
    let mut misses_sent: HashSet<String> = HashSet::new();
    let mut misses_tick = tokio::time::interval(config.misses_every);
    misses_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if std::mem::take(&mut proposals_changed) {
            for p in local.queued_proposals().map_err(|e| e.to_string())? {
                if proposed.insert(p.proposal_id.clone()) {
                    outgoing.push_back(send(desk_message::Body::Proposal(p)));
                }
            }
        }
        if std::mem::take(&mut reports_changed) {
            for r in local.unsent_reports().map_err(|e| e.to_string())? {
                if reported.insert(r.report_id.clone()) {
                    outgoing.push_back(send(desk_message::Body::Report(r)));
                }
            }
        }
        while in_flight.len() < window {
            let Some(batch) = outbox
                .read_from(next, config.batch_records)
                .map_err(|e| e.to_string())?
            else {
                break;
            };
            let last = batch.last_seq;
            let message = batch.message(incarnation, outbox.last_seq().map_err(|e| e.to_string())?);
            outgoing.push_back(Outgoing(message));
            in_flight.push_back(last);
            next = last + 1;
        }
        tokio::select! {
            permit = tx.reserve(), if !outgoing.is_empty() => {
                let permit = permit.map_err(|_| "stream closed")?;
                if let Some(message) = outgoing.pop_front() {
                    permit.send(message);
                }
            }
            msg = inbound.message() => match msg.map_err(Broken::from_status)? {
                Some(proto::HubMessage { body: Some(hub_message::Body::Ack(ack)) }) => {
                    let up_to = apply_ack(outbox, incarnation, ack.up_to_seq, ack.rejected)?;
                    if std::mem::take(&mut error_shown) {
                        status.set_error(String::new());
                    }
                    while in_flight.front().is_some_and(|l| *l <= up_to) {
                        in_flight.pop_front();
                    }
                }
                Some(proto::HubMessage { body: Some(hub_message::Body::Guidance(update)) }) => {
                    outgoing.push_back(send(apply_guidance(local, update).await));
                }
                Some(proto::HubMessage { body: Some(hub_message::Body::Templates(update)) }) => {
                    outgoing.push_back(send(apply_templates(local, update).await));
                }
                Some(proto::HubMessage { body: Some(hub_message::Body::Catalogue(update)) }) => {
                    outgoing.push_back(send(apply_catalogue(local, update).await));
                }
                Some(proto::HubMessage { body: Some(hub_message::Body::Cards(update)) }) => {
                    outgoing.push_back(send(apply_cards(local, update).await));
                }
                Some(proto::HubMessage { body: Some(hub_message::Body::ProposalAck(ack)) }) => {
                    if ack.refused.is_empty() {
                        tracing::info!(proposal_id = %ack.proposal_id, "the hub holds the template proposal");
                    } else {
                        tracing::warn!(proposal_id = %ack.proposal_id, reason = %ack.refused, "the hub refused the template proposal");
                    }
                    local.drop_proposal(&ack.proposal_id).map_err(|e| e.to_string())?;
                }
                Some(proto::HubMessage { body: Some(hub_message::Body::ReportAck(ack)) }) => {
                    if ack.refused.is_empty() {
                        tracing::info!(report_id = %ack.report_id, "the hub holds the report");
                    } else {
                        tracing::warn!(report_id = %ack.report_id, reason = %ack.refused, "the hub refused the report");
                    }
                    local.report_acked(&ack.report_id, &ack.refused).map_err(|e| e.to_string())?;
                }
                Some(proto::HubMessage { body: Some(hub_message::Body::ReportStatus(update)) }) => {
                    local.apply_report_statuses(update.reports).map_err(|e| e.to_string())?;
                }
                Some(proto::HubMessage { body: Some(hub_message::Body::SearchMissesAck(ack)) }) => {
                    local.drop_search_misses(&ack.batch_id).map_err(|e| e.to_string())?;
                }
                Some(_) => {}
                None => return Err("the hub closed the stream".into()),
            },
            _ = outbox.changed.notified(), if in_flight.len() < window => {}
            _ = local.proposal_queued.notified() => proposals_changed = true,
            _ = local.report_queued.notified() => reports_changed = true,
            _ = misses_tick.tick() => {
                local.package_search_misses().map_err(|e| e.to_string())?;
                for batch in local.queued_search_misses().map_err(|e| e.to_string())? {
                    if misses_sent.insert(batch.batch_id.clone()) {
                        outgoing.push_back(send(desk_message::Body::SearchMisses(batch)));
                    }
                }
            }
            _ = shutdown.wait() => {
                drain(outbox, incarnation, &mut inbound, &mut in_flight).await;
                return Ok(());
            }
        }
    }
}

/// The desk's window on this stream: its own, or the hub's when smaller (0
/// from an older hub that does not say).
fn window(own: usize, hub: u32) -> usize {
    match usize::try_from(hub) {
        Ok(hub) if hub > 0 => own.min(hub),
        _ => own,
    }
}

/// A `DeskMessage` already encoded: record batches go out as the outbox
/// holds them (`outbox::PendingBatch`), without a decode and a re-encode.
/// Only ever encoded, never decoded.
#[derive(Debug, Default)]
struct Outgoing(Bytes);

impl From<DeskMessage> for Outgoing {
    fn from(m: DeskMessage) -> Self {
        Self(m.encode_to_vec().into())
    }
}

impl Message for Outgoing {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0 = Bytes::new();
    }
}

/// `Federation.Sync` as the generated client calls it, with a codec that
/// sends `Outgoing` as it is.
async fn open_sync(
    channel: tonic::transport::Channel,
    max_message_bytes: usize,
    rx: mpsc::Receiver<Outgoing>,
) -> Result<tonic::Streaming<proto::HubMessage>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel)
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unknown(format!("Service was not ready: {e}")))?;
    let codec = tonic_prost::ProstCodec::<Outgoing, proto::HubMessage>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/rete.v1.Federation/Sync");
    let mut request = tonic::Request::new(ReceiverStream::new(rx));
    request
        .extensions_mut()
        .insert(tonic::GrpcMethod::new("rete.v1.Federation", "Sync"));
    Ok(grpc.streaming(request, path, codec).await?.into_inner())
}

/// Stores a guidance update, then says what the desk now holds, or why it
/// could not store it.
async fn apply_guidance(
    local: &Arc<LocalCopy>,
    update: proto::GuidanceUpdate,
) -> desk_message::Body {
    let version = update.version;
    let store = Arc::clone(local);
    let result = tokio::task::spawn_blocking(move || store.apply_guidance(update)).await;
    reply(local, "guidance", version, result)
}

async fn apply_templates(
    local: &Arc<LocalCopy>,
    update: proto::TemplateUpdate,
) -> desk_message::Body {
    let version = update.version;
    let store = Arc::clone(local);
    let result = tokio::task::spawn_blocking(move || store.apply_templates(update)).await;
    reply(local, "template", version, result)
}

async fn apply_cards(local: &Arc<LocalCopy>, update: proto::CardUpdate) -> desk_message::Body {
    let version = update.version;
    let store = Arc::clone(local);
    let result = tokio::task::spawn_blocking(move || store.apply_cards(update)).await;
    reply(local, "card", version, result)
}

async fn apply_catalogue(
    local: &Arc<LocalCopy>,
    update: proto::CatalogueUpdate,
) -> desk_message::Body {
    let version = update.version;
    let store = Arc::clone(local);
    let result = tokio::task::spawn_blocking(move || store.apply_catalogue(update)).await;
    reply(local, "catalogue", version, result)
}

/// `Applied` with every version the desk now holds, or `Rejected` with why.
fn reply(
    local: &LocalCopy,
    kind: &str,
    version: u64,
    result: Result<Result<u64, crate::local::LocalError>, tokio::task::JoinError>,
) -> desk_message::Body {
    let outcome = result
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .and_then(|_| {
            let template = local.template_version().map_err(|e| e.to_string())?;
            let catalogue = local.catalogue_version();
            let card = local.card_version().map_err(|e| e.to_string())?;
            Ok((template, catalogue, card))
        });
    match outcome {
        Ok((template_version, catalogue_version, card_version)) => {
            tracing::info!(kind, version, "push applied");
            desk_message::Body::Applied(proto::Applied {
                guidance_version: local.guidance_version(),
                template_version,
                catalogue_version,
                card_version,
            })
        }
        Err(reason) => {
            tracing::warn!(kind, version, reason = %reason, "push refused");
            desk_message::Body::Rejected(proto::Rejected {
                version,
                reason,
                kind: kind.into(),
            })
        }
    }
}

/// On shutdown, gives acks already on their way a moment to arrive, so the
/// next start resends less.
async fn drain(
    outbox: &Outbox,
    incarnation: Incarnation,
    inbound: &mut tonic::Streaming<proto::HubMessage>,
    in_flight: &mut VecDeque<u64>,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while !in_flight.is_empty() {
        match tokio::time::timeout_at(deadline, inbound.message()).await {
            Ok(Ok(Some(proto::HubMessage {
                body: Some(hub_message::Body::Ack(ack)),
            }))) => {
                let Ok(up_to) = apply_ack(outbox, incarnation, ack.up_to_seq, ack.rejected) else {
                    return;
                };
                while in_flight.front().is_some_and(|l| *l <= up_to) {
                    in_flight.pop_front();
                }
            }
            Ok(Ok(Some(_))) => {}
            _ => return,
        }
    }
}

/// Where sending resumes after the hub's `Welcome`, or `None` once a new
/// incarnation has been started after the watermark because the hub's
/// count of this one cannot be taken:
/// - the hub holds more of it than the outbox (a folder restored from an
///   older copy): the visits recorded since the copy would take sequences
///   the hub holds for others. Sent again under the new incarnation, what
///   the hub had is recognised by its id (`already_held`);
/// - the hub holds less than it acknowledged (a hub restored from a backup)
///   and the outbox no longer has the records in between: they are lost,
///   and a gap is never sent.
fn resume(
    outbox: &Outbox,
    incarnation: Incarnation,
    welcome: proto::Welcome,
) -> Result<Option<u64>, String> {
    let last = outbox.last_seq().map_err(|e| e.to_string())?;
    let acked = outbox.acked_seq().map_err(|e| e.to_string())?;
    let hub_holds = incarnation.local(welcome.last_seq);
    if hub_holds > last {
        tracing::warn!(
            hub_holds = welcome.last_seq,
            outbox_holds = incarnation.wire(last),
            "the hub holds more of this outbox than it does (restored from an older copy?); starting a new incarnation"
        );
        let next = outbox.start_incarnation(0).map_err(|e| e.to_string())?;
        tracing::info!(incarnation = %next.id, "new incarnation");
        return Ok(None);
    }
    apply_ack(outbox, incarnation, welcome.last_seq, welcome.rejected)?;
    if hub_holds < acked {
        tracing::warn!(
            hub_holds = welcome.last_seq,
            acked = incarnation.wire(acked),
            "the hub holds fewer records than it acknowledged (restored from a backup?)"
        );
        if !outbox.holds(hub_holds + 1).map_err(|e| e.to_string())? {
            tracing::error!(
                lost = acked - hub_holds,
                "the records the hub lost are no longer in the outbox; starting a new incarnation"
            );
            outbox
                .start_incarnation(acked - hub_holds)
                .map_err(|e| e.to_string())?;
            return Ok(None);
        }
    }
    Ok(Some(hub_holds + 1))
}

/// Applies an acknowledgement counted in `incarnation`; the local sequence
/// it reaches.
fn apply_ack(
    outbox: &Outbox,
    incarnation: Incarnation,
    up_to: u64,
    rejected: Vec<proto::RecordRejection>,
) -> Result<u64, String> {
    let rejected: Vec<(u64, String)> = rejected
        .into_iter()
        .filter(|r| !r.already_held)
        .map(|r| (incarnation.local(r.seq), r.reason))
        .collect();
    for (seq, reason) in &rejected {
        tracing::warn!(seq, reason = %reason, "the hub refused a record; it is quarantined");
    }
    let up_to = incarnation.local(up_to);
    outbox.ack(up_to, &rejected).map_err(|e| e.to_string())?;
    Ok(up_to)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn outbox_with(dir: &std::path::Path, n: usize) -> Outbox {
        let outbox = Outbox::open(&dir.join("o"), 1 << 20).expect("open");
        for r in crate::outbox::tests::records(n) {
            outbox.append(&r).await.expect("append");
        }
        outbox.ack(n as u64, &[]).expect("ack");
        outbox
    }

    fn welcome(last_seq: u64) -> proto::Welcome {
        proto::Welcome {
            last_seq,
            ..Default::default()
        }
    }

    #[test]
    fn the_hubs_delay_is_obeyed_and_an_oversized_refusal_is_not_retried_fast() {
        let max = Duration::from_secs(10);
        let throttled = Broken::from_status(runtime::retry::exhausted_retry_after(
            "troppi lotti",
            Duration::from_secs(30),
        ));
        assert!(
            matches!(throttled, Broken::Throttled { wait, .. } if wait == Duration::from_secs(30))
        );
        let wait = throttled.wait(1, max);
        assert!(
            wait >= Duration::from_secs(30) && wait <= Duration::from_secs(33),
            "{wait:?}"
        );
        assert!(throttled.text().contains("30 s"), "{}", throttled.text());

        // A delay past reason is cut to what a desk obeys.
        let huge = Broken::from_status(runtime::retry::exhausted_retry_after(
            "x",
            Duration::from_secs(86_400),
        ));
        assert!(matches!(huge, Broken::Throttled { wait, .. } if wait == MAX_HUB_DELAY));

        // The same code without a delay: an oversized message, which the
        // same resend cannot fix.
        let oversized = Broken::from_status(tonic::Status::resource_exhausted(
            "Error, decoded message length too large",
        ));
        assert!(matches!(oversized, Broken::Permanent(_)), "{oversized:?}");
        assert_eq!(oversized.wait(1, max), max);

        let link = Broken::from_status(tonic::Status::unavailable("the hub is shutting down"));
        assert!(matches!(link, Broken::Link(_)));
        assert!(link.wait(1, max) <= BACKOFF_START * 2);
    }

    #[test]
    fn a_failed_hub_hands_over_to_the_next_and_only_a_full_round_backs_off() {
        let mut hubs = Rotation::new(vec!["a:1".into(), "b:2".into(), "c:3".into()]);
        assert_eq!(hubs.current(), "a:1");
        assert!(!hubs.failed(), "b is still to try");
        assert_eq!(hubs.current(), "b:2");
        assert!(!hubs.failed());
        assert_eq!(hubs.current(), "c:3");
        assert!(hubs.failed(), "a, b and c all failed: a round");
        assert_eq!(hubs.current(), "a:1", "round robin");

        // A stream that got through starts the round again from there.
        assert!(!hubs.failed());
        assert_eq!(hubs.current(), "b:2");
        hubs.reached();
        assert!(!hubs.failed(), "b broke: c next, no backoff");
        assert_eq!(hubs.current(), "c:3");
        assert!(!hubs.failed(), "c failed: a next");
        assert!(hubs.failed(), "b, c and a failed since b got through");
        assert_eq!(
            hubs.current(),
            "b:2",
            "the next round starts where the last stream was"
        );

        // One address: every failure is a round, as before the list.
        let mut one = Rotation::new(vec!["a:1".into()]);
        assert!(one.failed());
        assert!(one.failed());
        assert_eq!(one.current(), "a:1");
    }

    #[test]
    fn the_window_is_the_smaller_of_the_desks_and_the_hubs() {
        assert_eq!(window(8, 4), 4);
        assert_eq!(window(8, 16), 8);
        assert_eq!(window(8, 0), 8, "an older hub says nothing");
    }

    #[tokio::test]
    async fn a_hub_that_lost_what_the_outbox_still_keeps_gets_it_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        // With no window, the runs acknowledged whole (1..=31) are gone;
        // 32..=40 are still in the run being written.
        let outbox = outbox_with(dir.path(), 40).await;
        let first = outbox.incarnation();
        let next = resume(&outbox, first, welcome(35)).expect("resume");
        assert_eq!(next, Some(36));
        assert_eq!(outbox.incarnation(), first);
    }

    #[tokio::test]
    async fn a_hub_that_lost_what_the_outbox_no_longer_keeps_is_told_how_many() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = outbox_with(dir.path(), 40).await;
        let first = outbox.incarnation();
        assert!(!outbox.holds(6).expect("holds"));
        let next = resume(&outbox, first, welcome(5)).expect("resume");
        assert_eq!(next, None, "a new incarnation, on the next stream");
        let now = outbox.incarnation();
        assert_ne!(now.id, first.id);
        assert_eq!((now.base, now.lost), (40, 35));
        drop(outbox);
        let outbox = Outbox::open(&dir.path().join("o"), 1 << 20).expect("reopen");
        assert_eq!(outbox.incarnation(), now, "kept for every Hello");
    }
}
