//! `hub replica add`: the data folder of one more hub replica, made on the
//! machine that keeps the CA key. Replicas are interchangeable only when
//! they share one store (PostgreSQL) and present themselves alike to desks,
//! the CLI and browsers, so the folder carries:
//!
//! - the CA certificate, to verify desks; never the CA key, which stays on
//!   this machine alone, so a stolen replica cannot mint desks (a replica
//!   therefore refuses to enrol one, `AdminError::NoCaKey`);
//! - a server certificate of its own, signed by the CA for the same name
//!   (`HUB_SERVER_NAME`), so desks verify it as they verify the hub;
//! - the coordinator token, so the CLI and API callers reach any replica;
//! - the dashboard's sign-in key (`dashboard.key`), so a sign-in form
//!   served by one replica is accepted by another; sessions themselves are
//!   in the store, which the replicas share, as are the coordinator
//!   accounts;
//! - `hub.toml`, with the replica's own listen addresses.

pub mod follow;

use crate::config::{DataDir, HubConfig, FILE_NAME};
use crate::dashboard::LoginKey;
use anyhow::{bail, Context};
use runtime::secret::write_secret;
use std::path::Path;

/// The listen addresses of the new replica; `None` keeps the original's
/// (usual when the replica runs on another machine).
#[derive(Debug, Default, Clone)]
pub struct Addresses {
    pub federation: Option<String>,
    pub coordinator: Option<String>,
    pub dashboard: Option<String>,
    /// Extra host names or IPs for the replica's server certificate.
    pub hosts: Vec<String>,
}

/// Writes `out` as a ready data folder for another replica of the hub in
/// `data`; the replica's configuration.
pub fn add(data: &Path, out: &Path, addresses: &Addresses) -> anyhow::Result<HubConfig> {
    for (flag, addr) in [
        ("--federation-addr", &addresses.federation),
        ("--coordinator-addr", &addresses.coordinator),
        ("--dashboard-addr", &addresses.dashboard),
    ] {
        if let Some(addr) = addr.as_deref().filter(|a| !a.is_empty()) {
            runtime::bundle::check_hub_address(addr).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
        }
    }
    let source = DataDir(data.to_path_buf());
    // The file as written, without this shell's environment overrides:
    // those belong to this machine, not to the replica.
    let mut config = HubConfig::load(data, std::iter::empty()).with_context(|| {
        format!(
            "{} non è la cartella di un hub / is not a hub data folder",
            data.display()
        )
    })?;
    let authority = crate::server::load_ca(&source)?;
    let Some(ca) = authority.ca() else {
        bail!(
            "{} non custodisce la chiave della CA: esegui `hub replica add` sulla macchina \
             che la custodisce / {} does not hold the CA key: run `hub replica add` on the \
             machine that holds it",
            data.display(),
            data.display()
        );
    };
    if out.exists()
        && std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} esiste e non è vuota: indica una cartella nuova / {} exists and is not empty: \
             give a new folder",
            out.display(),
            out.display()
        );
    }
    if let Some(a) = &addresses.federation {
        config.federation_addr = a.clone();
    }
    if let Some(a) = &addresses.coordinator {
        config.coordinator_addr = a.clone();
    }
    if let Some(a) = &addresses.dashboard {
        config.http_addr = a.clone();
    }
    let mut hosts = addresses.hosts.clone();
    hosts.extend(crate::server::certificate_host(&config.federation_addr));
    let server = ca.issue_server(&hosts)?;
    // The token and the sign-in key are read before anything is written, so that a missing file leaves no half-made folder.
    let token = std::fs::read(source.token())
        .with_context(|| format!("cannot read {}", source.token().display()))?;
    // Made now if the dashboard never ran, so that every replica starts
    // with the same key.
    LoginKey::load_or_create(data).context("cannot read the dashboard's sign-in key")?;
    let login_key = std::fs::read(LoginKey::path(data))
        .with_context(|| format!("cannot read {}", LoginKey::path(data).display()))?;

    runtime::secret::private_dir(out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    let target = DataDir(out.to_path_buf());
    std::fs::write(target.ca_cert(), authority.cert_pem())?;
    std::fs::write(target.hub_cert(), &server.cert_pem)?;
    write_secret(&target.hub_key(), server.key_pem.as_bytes())?;
    write_secret(&target.token(), &token)?;
    write_secret(&LoginKey::path(out), &login_key)?;
    // Last, since `hub.toml` is what marks a folder as a hub's.
    config.save(out)?;
    debug_assert!(!target.ca_key().exists());
    Ok(config)
}

/// What the person does next, Italian first, then English.
pub fn next_steps(data: &Path, out: &Path, config: &HubConfig) -> String {
    let (data, out) = (data.display(), out.display());
    let fed = &config.federation_addr;
    format!(
        "replica pronta in {out} (senza la chiave della CA) / replica ready in {out} (without the CA key)

Prossimi passi:
  1. Copia {out} sulla macchina della replica, nella cartella dati dell'utente
     del servizio, lasciandola leggibile solo a lui (es. `scp -rp`, poi 0700).
  2. Le repliche condividono i dati solo con uno store PostgreSQL comune
     (`store` e `store_password_file` in {FILE_NAME}); con lo store sled
     incorporato la replica avrebbe un archivio tutto suo.
  3. Avvia la replica: hub serve --data <cartella copiata>.
  4. Aggiungi il suo indirizzo federativo ({fed}) a `desk_addresses` nel
     {FILE_NAME} di questa macchina, così i nuovi bundle lo elencano, oppure
     mettilo dietro il bilanciatore (deploy/replicas/).
  5. Gli sportelli si registrano qui, dove resta la chiave della CA:
     hub desk add ID --data {data} --out ID.bundle
  6. Gli account della dashboard e le sessioni sono nello store comune: un
     account aggiunto (hub user add) vale su ogni replica.

Next steps:
  1. Copy {out} to the replica's machine, into the service user's data folder,
     readable by that user alone (e.g. `scp -rp`, then 0700).
  2. Replicas share data only through one PostgreSQL store (`store` and
     `store_password_file` in {FILE_NAME}); with the embedded sled store the
     replica would keep a store of its own.
  3. Start the replica: hub serve --data <copied folder>.
  4. Add its federation address ({fed}) to `desk_addresses` in this machine's
     {FILE_NAME}, so that new bundles list it, or put it behind the balancer
     (deploy/replicas/).
  5. Desks are enrolled here, where the CA key stays:
     hub desk add ID --data {data} --out ID.bundle
  6. Dashboard accounts and sessions are in the shared store: an account
     added (hub user add) signs in on every replica.
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_replica_gets_everything_but_the_ca_key_and_its_own_certificate() {
        let root = tempfile::tempdir().expect("tempdir");
        let (data, out) = (root.path().join("hub"), root.path().join("replica"));
        crate::server::init(&data, &HubConfig::default(), &[]).expect("init");
        let config = add(
            &data,
            &out,
            &Addresses {
                federation: Some("10.0.0.2:7700".into()),
                ..Addresses::default()
            },
        )
        .expect("replica add");
        assert_eq!(config.federation_addr, "10.0.0.2:7700");
        let (src, dst) = (DataDir(data.clone()), DataDir(out.clone()));
        assert!(!dst.ca_key().exists(), "the CA key never leaves");
        let read = |p: std::path::PathBuf| std::fs::read(p).expect("read");
        assert_eq!(read(src.ca_cert()), read(dst.ca_cert()));
        assert_eq!(read(src.token()), read(dst.token()));
        assert_eq!(read(LoginKey::path(&data)), read(LoginKey::path(&out)));
        assert_ne!(read(src.hub_key()), read(dst.hub_key()), "a key of its own");
        for secret in [dst.hub_key(), dst.token(), LoginKey::path(&out)] {
            let mode = std::fs::metadata(&secret)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", secret.display());
        }
        let back = HubConfig::load(&out, std::iter::empty()).expect("hub.toml");
        assert_eq!(back.federation_addr, "10.0.0.2:7700");
        assert_eq!(back.coordinator_addr, HubConfig::default().coordinator_addr);

        // The files load as a hub's (the e2e test verifies the
        // certificate in a TLS handshake).
        let authority = crate::server::load_ca(&dst).expect("certificate alone");
        assert!(authority.ca().is_none());
        let server = crate::pki::Issued::load(&dst.hub_cert(), &dst.hub_key()).expect("issued");
        crate::pki::server_config(authority.cert_pem(), &server, true).expect("tls");

        let bad = Addresses {
            coordinator: Some("nowhere".into()),
            ..Addresses::default()
        };
        let e = add(&data, &root.path().join("r3"), &bad).expect_err("bad address");
        assert!(
            e.to_string().starts_with("--coordinator-addr: indirizzo"),
            "{e}"
        );
        assert!(!root.path().join("r3").exists());

        // Not again into the same folder, and not from a replica.
        let again = add(&data, &out, &Addresses::default()).expect_err("not empty");
        assert!(again.to_string().contains("non è vuota"), "{again}");
        let from_replica =
            add(&out, &root.path().join("r2"), &Addresses::default()).expect_err("no CA key");
        assert!(
            from_replica
                .to_string()
                .contains("non custodisce la chiave della CA"),
            "{from_replica}"
        );
    }
}
