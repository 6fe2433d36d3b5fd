//! TLS to the database server, for a database on another machine: on when
//! `store_ca_file` names the CA that signed the server's certificate (or
//! the URL says `sslmode=require`, which then needs that file). The
//! server's certificate is always checked against that CA and the URL's
//! host name, never taken on trust; without either setting the connection
//! is plain, as to a database on the same host.

use crate::storage::StorageError;
use std::path::Path;
use std::sync::Arc;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The connector `config` needs, if any; sets `sslmode=require` when a CA
/// is given, so that a server without TLS is refused rather than used in
/// the clear.
pub(super) fn connector(
    config: &mut tokio_postgres::Config,
    ca_file: Option<&Path>,
) -> Result<Option<MakeRustlsConnect>, StorageError> {
    match (config.get_ssl_mode(), ca_file) {
        (SslMode::Disable, _) => Ok(None),
        (_, Some(ca)) => {
            config.ssl_mode(SslMode::Require);
            Ok(Some(MakeRustlsConnect::new(client_config(ca)?)))
        }
        (SslMode::Require, None) => Err(StorageError::Database(
            "sslmode=require needs store_ca_file in hub.toml: the CA certificate (PEM) that \
             signed the database server's certificate"
                .into(),
        )),
        (_, None) => Ok(None),
    }
}

fn client_config(ca: &Path) -> Result<rustls::ClientConfig, StorageError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        StorageError::Database(format!(
            "cannot read the database's CA certificate {}: {e}",
            ca.display()
        ))
    };
    let pem = std::fs::read(ca).map_err(|e| unreadable(&e))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots
            .add(cert.map_err(|e| unreadable(&e))?)
            .map_err(|e| unreadable(&e))?;
    }
    if roots.is_empty() {
        return Err(unreadable(&"it holds no PEM certificate"));
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| StorageError::Database(format!("TLS setup: {e}")))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}
