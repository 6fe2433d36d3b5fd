//! A tapping proxy for the federation link: it terminates the desk's
//! mutual TLS with a server certificate for the hub's name issued by the
//! hub's own CA (read from the hub's data folder, as only a test can), opens
//! its own mutual-TLS connection to the hub with the desk's client
//! certificate from its enrollment bundle, forwards both ways and keeps
//! every plaintext byte, so a test can search what the desk really sends.

use anyhow::{anyhow, Context};
use rcgen::{CertificateParams, DnType, Issuer, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The name the desk checks the hub's certificate against.
pub const HUB_SERVER_NAME: &str = "rete-sportelli-hub";

/// Plaintext seen on one tapped connection, each direction apart.
#[derive(Debug, Default, Clone)]
pub struct Connection {
    pub desk_to_hub: Vec<u8>,
    pub hub_to_desk: Vec<u8>,
}

/// Every connection the tap relayed, in the order they were opened.
#[derive(Debug, Default, Clone)]
pub struct Recording {
    pub connections: Vec<Connection>,
}

/// The HTTP/2 frames of one direction of a connection with their DATA
/// payloads joined stream by stream: the gRPC messages whole, even when a
/// message was cut across frames (between which the raw bytes hold frame
/// headers). The client preface, if any, is skipped.
pub fn http2_data(bytes: &[u8]) -> Vec<u8> {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut rest = bytes.strip_prefix(PREFACE).unwrap_or(bytes);
    let mut streams: std::collections::BTreeMap<u32, Vec<u8>> = Default::default();
    while let [a, b, c, kind, flags, s0, s1, s2, s3, tail @ ..] = rest {
        let len = (usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c);
        let Some(payload) = tail.get(..len) else {
            break;
        };
        if *kind == 0 {
            let stream = u32::from_be_bytes([*s0 & 0x7f, *s1, *s2, *s3]);
            // PADDED: a length byte, then padding after the data.
            let data = if flags & 0x8 != 0 {
                let pad = payload.first().map_or(0, |p| usize::from(*p));
                payload.get(1..len.saturating_sub(pad)).unwrap_or_default()
            } else {
                payload
            };
            streams.entry(stream).or_default().extend_from_slice(data);
        }
        rest = tail.get(len..).unwrap_or_default();
    }
    streams.into_values().flatten().collect()
}

pub struct Tap {
    /// Where desks should connect instead of the hub.
    pub addr: String,
    recording: Arc<Mutex<Recording>>,
    task: tokio::task::JoinHandle<()>,
}

impl Tap {
    /// Starts the proxy on a loopback port in front of the hub at
    /// `hub_addr`, with the hub's CA from `hub_data` and the desk identity
    /// from the enrollment `bundle`.
    pub async fn start(hub_data: &Path, hub_addr: &str, bundle: &Path) -> anyhow::Result<Tap> {
        let ca_pem =
            std::fs::read_to_string(hub_data.join("ca.crt")).context("hub CA certificate")?;
        let ca_key = std::fs::read_to_string(hub_data.join("ca.key")).context("hub CA key")?;
        let bundle: toml::Value = toml::from_str(&std::fs::read_to_string(bundle)?)?;
        let field = |name: &str| {
            bundle
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("the bundle has no {name}"))
        };
        let (desk_cert, desk_key) = (field("cert_pem")?, field("key_pem")?);

        // A server certificate for the hub's name, from the hub's own CA.
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, KeyPair::from_pem(&ca_key)?)?;
        let mut params = CertificateParams::new(vec![HUB_SERVER_NAME.to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, HUB_SERVER_NAME);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let cert = params.signed_by(&key, &issuer)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(c?)?;
        }
        let roots = Arc::new(roots);
        let verifier =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone()).build()?;
        let mut server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())?,
            )?;
        server.alpn_protocols = vec![b"h2".to_vec()];
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(desk_cert.as_bytes()).collect::<Result<_, _>>()?;
        let mut client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, PrivateKeyDer::from_pem_slice(desk_key.as_bytes())?)?;
        client.alpn_protocols = vec![b"h2".to_vec()];

        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let recording = Arc::new(Mutex::new(Recording::default()));
        let acceptor = TlsAcceptor::from(Arc::new(server));
        let connector = TlsConnector::from(Arc::new(client));
        let hub_addr = hub_addr.to_owned();
        let rec = recording.clone();
        let task = tokio::spawn(async move {
            while let Ok((desk, _)) = listener.accept().await {
                let (acceptor, connector, hub_addr, rec) = (
                    acceptor.clone(),
                    connector.clone(),
                    hub_addr.clone(),
                    rec.clone(),
                );
                tokio::spawn(async move {
                    // A failed handshake on either side just drops this
                    // connection; the desk retries with backoff.
                    let _ = relay(desk, &acceptor, &connector, &hub_addr, rec).await;
                });
            }
        });
        Ok(Tap {
            addr,
            recording,
            task,
        })
    }

    /// A copy of what has been recorded so far.
    pub fn recording(&self) -> Recording {
        self.recording
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    desk: TcpStream,
    acceptor: &TlsAcceptor,
    connector: &TlsConnector,
    hub_addr: &str,
    recording: Arc<Mutex<Recording>>,
) -> anyhow::Result<()> {
    let desk = acceptor.accept(desk).await?;
    let hub = TcpStream::connect(hub_addr).await?;
    let hub = connector
        .connect(ServerName::try_from(HUB_SERVER_NAME)?, hub)
        .await?;
    let index = match recording.lock() {
        Ok(mut r) => {
            r.connections.push(Connection::default());
            r.connections.len() - 1
        }
        Err(_) => return Ok(()),
    };
    let (desk_read, desk_write) = tokio::io::split(desk);
    let (hub_read, hub_write) = tokio::io::split(hub);
    let up = pump(desk_read, hub_write, recording.clone(), index, true);
    let down = pump(hub_read, desk_write, recording, index, false);
    // Either side closing ends the link, as it would without the tap.
    tokio::select! {
        r = up => r,
        r = down => r,
    }
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    recording: Arc<Mutex<Recording>>,
    index: usize,
    upward: bool,
) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            to.shutdown().await?;
            return Ok(());
        }
        let bytes = buf.get(..n).unwrap_or_default();
        if let Some(c) = recording
            .lock()
            .ok()
            .as_mut()
            .and_then(|r| r.connections.get_mut(index))
        {
            if upward {
                c.desk_to_hub.extend_from_slice(bytes);
            } else {
                c.hub_to_desk.extend_from_slice(bytes);
            }
        }
        to.write_all(bytes).await?;
        to.flush().await?;
    }
}
