//! A hub whose database is on another machine reaches it over TLS
//! (`store_ca_file`): every connection it holds is encrypted, and a server
//! whose certificate the named CA did not sign is refused, with a message
//! that says so.

use e2e::{free_addr, path, run, Hub};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::path::Path;

/// A CA: its certificate (PEM) and what signs with it.
fn authority() -> anyhow::Result<(String, Issuer<'static, KeyPair>)> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

/// The hub's connections to `database` as the server sees them: how many
/// are encrypted and how many are not.
fn connections(database: &pgtest::Database) -> anyhow::Result<(u32, u32)> {
    let out = std::process::Command::new(pgtest::bin_dir()?.join("psql"))
        .arg(database.url_with_password())
        .args([
            "-Atc",
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
                      FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
                      WHERE a.application_name = 'rete-hub'",
        ])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    let (tls, plain) = text
        .trim()
        .split_once('|')
        .ok_or_else(|| anyhow::anyhow!("psql said {text:?}"))?;
    Ok((tls.parse()?, plain.parse()?))
}

fn set_ca(hub: &Path, ca: &Path) -> anyhow::Result<()> {
    let file = hub.join("hub.toml");
    let text = std::fs::read_to_string(&file)?;
    std::fs::write(&file, format!("store_ca_file = {:?}\n{text}", path(ca)))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_reaches_its_database_over_tls_and_refuses_a_server_it_cannot_verify(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (ca_pem, ca) = authority()?;
    let server_key = KeyPair::generate()?;
    let server_cert = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])?
        .signed_by(&server_key, &ca)?;
    let server = pgtest::Server::start_with_tls(&server_cert.pem(), &server_key.serialize_pem())?;
    let database = pgtest::Database::on(&server)?;
    let ca_file = root.path().join("db-ca.pem");
    std::fs::write(&ca_file, &ca_pem)?;

    // `hub init --store-ca-file` reaches the database over TLS already
    // (it applies the schema) and keeps the setting.
    let password_file = root.path().join("pg-password");
    runtime::secret::write_secret(&password_file, pgtest::PASSWORD.as_bytes())?;
    let first = root.path().join("first");
    let out = run(
        "hub",
        &[
            "init",
            "--data",
            path(&first),
            "--store",
            &database.url(),
            "--store-password-file",
            path(&password_file),
            "--store-ca-file",
            path(&ca_file),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(first.join("hub.toml"))?;
    assert!(config.contains("store_ca_file"), "{config}");

    let mut hub = Hub::init_on(root.path(), free_addr(), Some(database));
    set_ca(&hub.data, &ca_file)?;
    hub.start().await?;
    let database = hub.database.as_ref().expect("the hub's database");
    let (tls, plain) = connections(database)?;
    assert!(tls >= 2, "the pool and the listener, over TLS: {tls}");
    assert_eq!(plain, 0, "no connection in the clear");
    hub.terminate()?;

    // Another CA: the server is not the one the hub was told to expect.
    let (other_pem, _) = authority()?;
    std::fs::write(&ca_file, other_pem)?;
    let out = run("hub", &["verify", "--data", path(&hub.data)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert!(!stderr.contains(pgtest::PASSWORD), "{stderr}");
    Ok(())
}
