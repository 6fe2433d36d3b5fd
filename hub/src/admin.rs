//! Desk administration (add, revoke, list), written once and called both by
//! the coordinator API of a running hub and by the CLI on a stopped one.

use crate::audit;
use crate::connections::{Connections, Kick};
use crate::pki::{self, Authority};
use crate::storage::{DeskEntry, OlderState, PushState, StorageError, Store};
use runtime::bundle::{AddressError, Bundle, BundleError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid desk id `{0}`: use 1 to 64 characters among a-z, 0-9 and '-', starting with a letter or digit")]
    InvalidDeskId(String),
    #[error(transparent)]
    InvalidAddress(#[from] AddressError),
    #[error("nessun indirizzo dell'hub per lo sportello: indicalo (--hub-address) o imposta desk_addresses in hub.toml / no hub address for the desk: give one (--hub-address) or set desk_addresses in hub.toml")]
    NoAddress,
    #[error("questa replica non custodisce la chiave della CA: registra lo sportello sulla macchina che la custodisce (hub desk add --data …) / this replica does not hold the CA key: enrol the desk on the machine that holds it (hub desk add --data …)")]
    NoCaKey,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

/// One line of `hub desks --json`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeskRow {
    pub desk_id: String,
    pub connected: bool,
    pub records: u64,
    pub last_seq: u64,
    pub rejected: u64,
    pub revoked: bool,
    pub added_at: String,
    pub last_seen: Option<String>,
    pub versions: AppliedVersions,
    pub last_rejection: Option<String>,
    /// The incarnation the desk last started (empty before it connected).
    pub incarnation: String,
    pub incarnations: u64,
    /// Set when the desk came back with an older copy of its outbox.
    pub older_state: Option<OlderState>,
    /// Records acknowledged to the desk that the hub no longer holds and the
    /// desk could not send again (a restore from a backup older than the
    /// desk keeps them): lost, and said so.
    pub records_lost: u64,
}

impl From<DeskRow> for proto::DeskInfo {
    fn from(r: DeskRow) -> Self {
        Self {
            desk_id: r.desk_id,
            connected: r.connected,
            records: r.records,
            last_seq: r.last_seq,
            revoked: r.revoked,
            last_seen: r.last_seen.unwrap_or_default(),
            versions: Some(r.versions.into()),
            last_rejection: r.last_rejection.unwrap_or_default(),
            rejected: r.rejected,
            added_at: r.added_at,
            incarnation: r.incarnation,
            incarnations: r.incarnations,
            records_lost: r.records_lost,
            older_state: r.older_state.map(|o| proto::OlderState {
                at: o.at,
                hub_held: o.hub_held,
                desk_held: o.desk_held,
            }),
        }
    }
}

/// The wire form leaves absent times empty; the row says `None`.
impl From<proto::DeskInfo> for DeskRow {
    fn from(d: proto::DeskInfo) -> Self {
        Self {
            desk_id: d.desk_id,
            connected: d.connected,
            records: d.records,
            last_seq: d.last_seq,
            rejected: d.rejected,
            revoked: d.revoked,
            added_at: d.added_at,
            last_seen: (!d.last_seen.is_empty()).then_some(d.last_seen),
            versions: d.versions.into(),
            last_rejection: (!d.last_rejection.is_empty()).then_some(d.last_rejection),
            incarnation: d.incarnation,
            incarnations: d.incarnations,
            records_lost: d.records_lost,
            older_state: d.older_state.map(|o| OlderState {
                at: o.at,
                hub_held: o.hub_held,
                desk_held: o.desk_held,
            }),
        }
    }
}

/// Versions of the pushed logs: the hub's current ones, or what a desk applied.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct AppliedVersions {
    pub guidance: u64,
    pub template: u64,
    pub catalogue: u64,
    pub card: u64,
}

impl From<&PushState> for AppliedVersions {
    fn from(s: &PushState) -> Self {
        Self {
            guidance: s.guidance,
            template: s.template,
            catalogue: s.catalogue,
            card: s.card,
        }
    }
}

impl From<AppliedVersions> for proto::Versions {
    fn from(v: AppliedVersions) -> Self {
        Self {
            guidance: v.guidance,
            template: v.template,
            catalogue: v.catalogue,
            card: v.card,
        }
    }
}

impl From<Option<proto::Versions>> for AppliedVersions {
    fn from(v: Option<proto::Versions>) -> Self {
        let v = v.unwrap_or_default();
        Self {
            guidance: v.guidance,
            template: v.template,
            catalogue: v.catalogue,
            card: v.card,
        }
    }
}

/// Which desks run the hub's current versions (`hub rollout --json`); the
/// keys are the issue's contract, scripts read them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rollout {
    pub guidance_version: u64,
    pub template_version: u64,
    pub catalogue_version: u64,
    /// Not in `hub rollout --json`, whose keys are a contract; the cards'
    /// rollout is in `hub cards --json` and on the dashboard.
    #[serde(skip)]
    pub card_version: u64,
    pub desks: Vec<RolloutRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RolloutRow {
    pub desk_id: String,
    pub connected: bool,
    pub guidance_version: u64,
    pub template_version: u64,
    pub catalogue_version: u64,
    #[serde(skip)]
    pub card_version: u64,
    pub last_rejection: Option<String>,
}

impl Rollout {
    pub fn current(&self) -> AppliedVersions {
        AppliedVersions {
            guidance: self.guidance_version,
            template: self.template_version,
            catalogue: self.catalogue_version,
            card: self.card_version,
        }
    }
}

impl RolloutRow {
    pub fn versions(&self) -> AppliedVersions {
        AppliedVersions {
            guidance: self.guidance_version,
            template: self.template_version,
            catalogue: self.catalogue_version,
            card: self.card_version,
        }
    }
}

impl From<Rollout> for proto::RolloutResponse {
    fn from(r: Rollout) -> Self {
        Self {
            current: Some(r.current().into()),
            desks: r
                .desks
                .into_iter()
                .map(|d| proto::DeskRollout {
                    versions: Some(d.versions().into()),
                    desk_id: d.desk_id,
                    connected: d.connected,
                    last_rejection: d.last_rejection.unwrap_or_default(),
                })
                .collect(),
        }
    }
}

impl From<proto::RolloutResponse> for Rollout {
    fn from(r: proto::RolloutResponse) -> Self {
        let current = AppliedVersions::from(r.current);
        Self {
            guidance_version: current.guidance,
            template_version: current.template,
            catalogue_version: current.catalogue,
            card_version: current.card,
            desks: r
                .desks
                .into_iter()
                .map(|d| {
                    let v = AppliedVersions::from(d.versions);
                    RolloutRow {
                        desk_id: d.desk_id,
                        connected: d.connected,
                        guidance_version: v.guidance,
                        template_version: v.template,
                        catalogue_version: v.catalogue,
                        card_version: v.card,
                        last_rejection: (!d.last_rejection.is_empty()).then_some(d.last_rejection),
                    }
                })
                .collect(),
        }
    }
}

pub fn rollout(
    store: &dyn Store,
    connections: Option<&Connections>,
) -> Result<Rollout, AdminError> {
    let mut desks = Vec::new();
    for d in store.desks()?.into_iter().filter(|d| !d.revoked) {
        let state = store.push_state(&d.desk_id)?;
        desks.push(RolloutRow {
            connected: connections.is_some_and(|c| c.is_connected(&d.desk_id)),
            guidance_version: state.guidance,
            template_version: state.template,
            catalogue_version: state.catalogue,
            card_version: state.card,
            last_rejection: state.last_rejection,
            desk_id: d.desk_id,
        });
    }
    Ok(Rollout {
        guidance_version: store.guidance_version()?,
        template_version: store.template_version()?,
        catalogue_version: store.catalogue_version()?,
        card_version: store.card_version()?,
        desks,
    })
}

/// The addresses a new desk's bundle names: those given with the request,
/// else the hub's `desk_addresses`.
pub fn desk_addresses(given: Vec<String>, configured: &[String]) -> Vec<String> {
    if given.is_empty() {
        configured.to_vec()
    } else {
        given
    }
}

/// Enrols a desk: issues its certificate and returns its bundle, which
/// names `hub_addresses` in the order the desk tries them.
pub fn add_desk(
    store: &dyn Store,
    ca: &Authority,
    desk_id: &str,
    hub_addresses: &[String],
    actor: &str,
) -> Result<Bundle, AdminError> {
    if !pki::valid_desk_id(desk_id) {
        return Err(AdminError::InvalidDeskId(
            desk_id.chars().take(80).collect(),
        ));
    }
    if hub_addresses.is_empty() {
        return Err(AdminError::NoAddress);
    }
    runtime::bundle::check_hub_addresses(hub_addresses)?;
    let ca = ca.ca().ok_or(AdminError::NoCaKey)?;
    if store.desk(desk_id)?.is_some() {
        return Err(StorageError::DeskExists(desk_id.into()).into());
    }
    let issued = ca.issue_desk(desk_id)?;
    store.add_desk(DeskEntry {
        desk_id: desk_id.into(),
        revoked: false,
        added_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        last_seen: None,
    })?;
    audit::record(store, actor, "desk.add", desk_id, &hub_addresses.join(", "))?;
    Ok(Bundle::new(
        desk_id.into(),
        hub_addresses.to_vec(),
        ca.cert_pem().into(),
        issued.cert_pem,
        issued.key_pem,
    ))
}

/// Revokes a desk; with `connections`, its open stream is ended at once.
pub fn revoke_desk(
    store: &dyn Store,
    connections: Option<&Connections>,
    desk_id: &str,
    actor: &str,
) -> Result<(), AdminError> {
    let mut entry = store
        .desk(desk_id)?
        .ok_or_else(|| StorageError::UnknownDesk(desk_id.into()))?;
    entry.revoked = true;
    store.put_desk(&entry)?;
    if let Some(c) = connections {
        c.kick(desk_id, Kick::Revoked);
    }
    audit::record(store, actor, "desk.revoke", desk_id, "")?;
    Ok(())
}

pub fn list_desks(
    store: &dyn Store,
    connections: Option<&Connections>,
) -> Result<Vec<DeskRow>, AdminError> {
    let desks = store.desks()?;
    let ids: Vec<&str> = desks.iter().map(|d| d.desk_id.as_str()).collect();
    let summaries = crate::incarnations::summaries(store, &ids)?;
    let mut rows = Vec::new();
    for (d, held) in desks.into_iter().zip(summaries) {
        let p = held.progress;
        let push = store.push_state(&d.desk_id)?;
        let seen = connections
            .and_then(|c| c.last_seen(&d.desk_id))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .or(d.last_seen.clone());
        rows.push(DeskRow {
            connected: connections.is_some_and(|c| c.is_connected(&d.desk_id)),
            records: p.records,
            last_seq: p.last_seq,
            rejected: p.rejected,
            revoked: d.revoked,
            added_at: d.added_at,
            last_seen: seen,
            versions: AppliedVersions::from(&push),
            last_rejection: push.last_rejection,
            incarnation: held.current,
            incarnations: held.count,
            older_state: held.older_state,
            records_lost: held.records_lost,
            desk_id: d.desk_id,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Ca;

    #[test]
    fn a_bundle_names_the_addresses_given_else_the_configured_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::storage::SledStore::open(&dir.path().join("s"), 8 << 20).expect("store");
        let ca: Authority = Ca::create().expect("ca").into();
        let configured = vec!["a.example:7700".to_string(), "b.example:7700".to_string()];

        let bundle = add_desk(
            &store,
            &ca,
            "desk-1",
            &desk_addresses(Vec::new(), &configured),
            "test",
        )
        .expect("enrolled");
        assert_eq!(bundle.hub_addresses, configured);
        assert_eq!(bundle.hub_address, "a.example:7700");

        let given = desk_addresses(vec!["[::1]:7700".into()], &configured);
        let bundle = add_desk(&store, &ca, "desk-2", &given, "test").expect("enrolled");
        assert_eq!(bundle.addresses(), ["[::1]:7700"]);

        for (bad, expected) in [
            (vec![], "nessun indirizzo dell'hub"),
            (
                vec!["hub:0".to_string()],
                "indirizzo dell'hub non valido `hub:0`",
            ),
            (
                vec!["hub:1".to_string(), "hub:1".to_string()],
                "indirizzo dell'hub ripetuto",
            ),
        ] {
            let e = add_desk(&store, &ca, "desk-3", &bad, "test").expect_err("refused");
            assert!(e.to_string().starts_with(expected), "{e}");
            assert_eq!(tonic::Status::from(e).code(), tonic::Code::InvalidArgument);
        }
        assert!(store.desk("desk-3").expect("read").is_none());
    }

    #[test]
    fn a_replica_without_the_ca_key_refuses_to_enrol() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::storage::SledStore::open(&dir.path().join("s"), 8 << 20).expect("store");
        let ca = Ca::create().expect("ca");
        let replica = Authority::cert_only(ca.cert_pem(), "ca.crt").expect("a CA certificate");
        let e = add_desk(&store, &replica, "desk-1", &["h:1".to_string()], "test")
            .expect_err("no key, no desk");
        assert!(
            e.to_string()
                .starts_with("questa replica non custodisce la chiave della CA"),
            "{e}"
        );
        let status = tonic::Status::from(e);
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert!(
            status.message().contains("hub desk add --data"),
            "{status:?}"
        );
        assert!(store.desk("desk-1").expect("read").is_none());
    }
}
