//! Tests of the certificate authority, including real TLS handshakes over
//! loopback TCP with tokio-rustls.
#![allow(clippy::unwrap_used)]

use super::*;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use x509_parser::extensions::GeneralName;

const TIMEOUT: Duration = Duration::from_secs(10);

/// What a desk would build: trusts the CA, presents `identity` if any, and
/// verifies the hub as HUB_SERVER_NAME.
fn client_config(
    ca_pem: &str,
    identity: Option<&Issued>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in parse_cert_chain(ca_pem, "test CA").unwrap() {
        roots.add(cert).unwrap();
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots);
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                parse_cert_chain(&id.cert_pem, "test cert").unwrap(),
                parse_private_key(&id.key_pem, "test key").unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

struct Outcome {
    /// Ok(desk id from the peer certificate, if any) or the server's error.
    server: Result<Option<String>, std::io::Error>,
    /// Ok(negotiated ALPN) once a byte made the round trip, or the client's error.
    client: Result<Option<Vec<u8>>, std::io::Error>,
}

/// One connection over real loopback TCP. The client writes a byte and waits
/// for the echo: in TLS 1.3 the client's handshake finishes before the server
/// has judged the client certificate, so only the round trip shows refusal.
async fn handshake(server: Arc<ServerConfig>, client: Arc<ClientConfig>) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = TlsAcceptor::from(server).accept(tcp).await?;
        let id = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|cert| desk_id_from_cert(cert));
        let mut byte = [0u8; 1];
        tls.read_exact(&mut byte).await?;
        tls.write_all(&byte).await?;
        tls.shutdown().await?;
        Ok::<_, std::io::Error>(id)
    });
    let client_result = async {
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from(HUB_SERVER_NAME).unwrap();
        let mut tls = TlsConnector::from(client).connect(name, tcp).await?;
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        tls.write_all(b"x").await?;
        let mut byte = [0u8; 1];
        tls.read_exact(&mut byte).await?;
        assert_eq!(&byte, b"x");
        Ok::<_, std::io::Error>(alpn)
    };
    let client = tokio::time::timeout(TIMEOUT, client_result)
        .await
        .expect("client timed out");
    let server = tokio::time::timeout(TIMEOUT, server_task)
        .await
        .expect("server timed out")
        .unwrap();
    Outcome { server, client }
}

/// Both ends must fail, and the side that judged must say `reason` (the
/// rustls error's Debug form), so a test cannot pass for the wrong cause.
fn assert_refused(outcome: Outcome, why: &str, reason: &str) {
    let server = outcome.server.expect_err(&format!("server accepted {why}"));
    let client = outcome
        .client
        .expect_err(&format!("client got through {why}"));
    let both = format!("server: {server:?}; client: {client:?}");
    assert!(
        both.contains(reason),
        "{why}: expected {reason}, got {both}"
    );
}

#[tokio::test]
async fn desk_from_this_ca_connects_and_is_identified() {
    let ca = Ca::create().unwrap();
    let hub = ca.issue_server(&[]).unwrap();
    let desk = ca.issue_desk("anagrafe-01").unwrap();
    let server = server_config(ca.cert_pem(), &hub, true).unwrap();
    let client = client_config(ca.cert_pem(), Some(&desk), &[&rustls::version::TLS13]);
    let outcome = handshake(server, client).await;
    assert_eq!(outcome.server.unwrap().as_deref(), Some("anagrafe-01"));
    assert_eq!(outcome.client.unwrap().as_deref(), Some(&b"h2"[..]));
}

#[tokio::test]
async fn client_cert_from_another_ca_is_refused() {
    let ca = Ca::create().unwrap();
    let other = Ca::create().unwrap();
    let hub = ca.issue_server(&[]).unwrap();
    let intruder = other.issue_desk("anagrafe-01").unwrap();
    let server = server_config(ca.cert_pem(), &hub, true).unwrap();
    let client = client_config(ca.cert_pem(), Some(&intruder), &[&rustls::version::TLS13]);
    assert_refused(
        handshake(server, client).await,
        "a desk cert from another CA",
        "InvalidCertificate",
    );
}

#[tokio::test]
async fn tls12_only_client_is_refused() {
    let ca = Ca::create().unwrap();
    let hub = ca.issue_server(&[]).unwrap();
    let desk = ca.issue_desk("anagrafe-01").unwrap();
    let server = server_config(ca.cert_pem(), &hub, true).unwrap();
    let client = client_config(ca.cert_pem(), Some(&desk), &[&rustls::version::TLS12]);
    assert_refused(
        handshake(server, client).await,
        "a TLS 1.2 client",
        "Tls12NotOfferedOrEnabled",
    );
}

#[tokio::test]
async fn missing_client_cert_is_refused_when_required() {
    let ca = Ca::create().unwrap();
    let hub = ca.issue_server(&[]).unwrap();
    let server = server_config(ca.cert_pem(), &hub, true).unwrap();
    let client = client_config(ca.cert_pem(), None, &[&rustls::version::TLS13]);
    assert_refused(
        handshake(server, client).await,
        "a client without certificate",
        "NoCertificatesPresented",
    );
}

#[tokio::test]
async fn coordinator_port_needs_no_client_cert() {
    let ca = Ca::create().unwrap();
    let hub = ca.issue_server(&[]).unwrap();
    let server = server_config(ca.cert_pem(), &hub, false).unwrap();
    let client = client_config(ca.cert_pem(), None, &[&rustls::version::TLS13]);
    let outcome = handshake(server, client).await;
    assert_eq!(outcome.server.unwrap(), None);
    assert_eq!(outcome.client.unwrap().as_deref(), Some(&b"h2"[..]));
}

#[tokio::test]
async fn hub_server_cert_cannot_pose_as_a_desk() {
    // Same CA, valid-looking CN, but serverAuth EKU only: the client-auth
    // EKU is what keeps a stolen hub key from opening a desk stream.
    let ca = Ca::create().unwrap();
    let hub = ca.issue_server(&[]).unwrap();
    let server = server_config(ca.cert_pem(), &hub, true).unwrap();
    let client = client_config(ca.cert_pem(), Some(&hub), &[&rustls::version::TLS13]);
    assert_refused(
        handshake(server, client).await,
        "the hub cert as a client cert",
        "InvalidPurpose",
    );
}

#[tokio::test]
async fn hub_cert_from_another_ca_is_refused_by_the_desk() {
    let ca = Ca::create().unwrap();
    let rogue = Ca::create().unwrap();
    let rogue_hub = rogue.issue_server(&[]).unwrap();
    let desk = ca.issue_desk("anagrafe-01").unwrap();
    let server = server_config(rogue.cert_pem(), &rogue_hub, true).unwrap();
    let client = client_config(ca.cert_pem(), Some(&desk), &[&rustls::version::TLS13]);
    assert_refused(
        handshake(server, client).await,
        "a hub cert from another CA",
        "InvalidCertificate",
    );
}

#[tokio::test]
async fn reloaded_ca_still_issues_certs_that_verify() {
    let original = Ca::create().unwrap();
    let ca = Ca::from_pem(original.cert_pem(), original.key_pem()).unwrap();
    assert_eq!(ca.cert_pem(), original.cert_pem());
    assert_eq!(ca.key_pem(), original.key_pem());
    // Certificates from the reloaded CA must chain to the original CA cert,
    // i.e. the issuer name and key identifiers carried over exactly.
    let hub = ca.issue_server(&[]).unwrap();
    let desk = ca.issue_desk("ufficio-tributi").unwrap();
    let server = server_config(original.cert_pem(), &hub, true).unwrap();
    let client = client_config(original.cert_pem(), Some(&desk), &[&rustls::version::TLS13]);
    let outcome = handshake(server, client).await;
    assert_eq!(outcome.server.unwrap().as_deref(), Some("ufficio-tributi"));
    assert!(outcome.client.is_ok());
}

#[test]
fn from_pem_refuses_a_key_of_another_ca() {
    let a = Ca::create().unwrap();
    let b = Ca::create().unwrap();
    let err = Ca::from_pem(a.cert_pem(), b.key_pem()).unwrap_err();
    assert!(matches!(err, PkiError::KeyMismatch { .. }), "{err}");
}

#[test]
fn from_pem_refuses_a_leaf_and_garbage() {
    let ca = Ca::create().unwrap();
    let desk = ca.issue_desk("d1").unwrap();
    let err = Ca::from_pem(&desk.cert_pem, &desk.key_pem).unwrap_err();
    assert!(err.to_string().contains("not a CA"), "{err}");
    let err = Ca::from_pem("nonsense", ca.key_pem()).unwrap_err();
    assert!(err.to_string().contains("the CA certificate"), "{err}");
    let err = Ca::from_pem(ca.cert_pem(), "nonsense").unwrap_err();
    assert!(err.to_string().contains("the CA private key"), "{err}");
}

#[test]
fn load_names_the_file_that_failed() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::create().unwrap();
    let cert_path = dir.path().join("ca.pem");
    let key_path = dir.path().join("ca.key");
    std::fs::write(&cert_path, ca.cert_pem()).unwrap();
    write_secret(&key_path, b"not a key").unwrap();
    let err = Ca::load(&cert_path, &key_path).unwrap_err();
    assert!(err.to_string().contains("ca.key"), "{err}");
    write_secret(&key_path, ca.key_pem().as_bytes()).unwrap();
    assert!(Ca::load(&cert_path, &key_path).is_ok());
    let err = Ca::load(&dir.path().join("missing.pem"), &key_path).unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");

    let hub = ca.issue_server(&[]).unwrap();
    let hub_cert = dir.path().join("hub.pem");
    let hub_key = dir.path().join("hub.key");
    std::fs::write(&hub_cert, &hub.cert_pem).unwrap();
    write_secret(&hub_key, hub.key_pem.as_bytes()).unwrap();
    let loaded = Issued::load(&hub_cert, &hub_key).unwrap();
    assert_eq!(loaded.cert_pem, hub.cert_pem);
}

#[test]
fn ca_certificate_fields() {
    let ca = Ca::create().unwrap();
    let der = parse_cert_chain(ca.cert_pem(), "ca").unwrap().remove(0);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(cert.is_ca());
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap();
    assert_eq!(cn, "Rete Sportelli CA");
    let validity = cert.validity();
    let span = validity.not_after.timestamp() - validity.not_before.timestamp();
    let years = span as f64 / (365.25 * 86400.0);
    assert!((9.9..10.1).contains(&years), "CA valid {years} years");
    assert!(ca.key_pem().contains("PRIVATE KEY"));
}

fn sans(pem: &str) -> (Vec<String>, Vec<std::net::IpAddr>) {
    let der = parse_cert_chain(pem, "cert").unwrap().remove(0);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for name in &cert
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
    {
        match name {
            GeneralName::DNSName(d) => dns.push(d.to_string()),
            GeneralName::IPAddress(b) if b.len() == 4 => {
                ips.push(std::net::IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()))
            }
            GeneralName::IPAddress(b) => {
                ips.push(std::net::IpAddr::from(<[u8; 16]>::try_from(*b).unwrap()))
            }
            other => panic!("unexpected SAN {other:?}"),
        }
    }
    (dns, ips)
}

#[test]
fn server_cert_carries_default_and_extra_names() {
    let ca = Ca::create().unwrap();
    let extra = [
        "hub.comune.example".to_string(),
        "10.0.0.7".to_string(),
        "localhost".to_string(),
    ];
    let hub = ca.issue_server(&extra).unwrap();
    let (dns, ips) = sans(&hub.cert_pem);
    assert_eq!(
        dns,
        ["rete-sportelli-hub", "localhost", "hub.comune.example"]
    );
    let expected: Vec<std::net::IpAddr> = vec![
        "127.0.0.1".parse().unwrap(),
        "::1".parse().unwrap(),
        "10.0.0.7".parse().unwrap(),
    ];
    assert_eq!(ips, expected);
    for bad in ["", "bad host", "-x.example", "a..b", "è.example"] {
        let err = ca.issue_server(&[bad.to_string()]).unwrap_err();
        assert!(matches!(err, PkiError::InvalidHost(_)), "{bad:?}: {err}");
    }
}

#[test]
fn desk_cert_names_the_desk() {
    let ca = Ca::create().unwrap();
    let desk = ca.issue_desk("0-sportello").unwrap();
    let (dns, ips) = sans(&desk.cert_pem);
    assert_eq!(dns, ["0-sportello"]);
    assert!(ips.is_empty());
    let der = parse_cert_chain(&desk.cert_pem, "desk").unwrap().remove(0);
    assert_eq!(desk_id_from_cert(&der).as_deref(), Some("0-sportello"));
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert!(!cert.is_ca());
    let validity = cert.validity();
    let years = (validity.not_after.timestamp() - validity.not_before.timestamp()) as f64
        / (365.25 * 86400.0);
    assert!((2.9..3.1).contains(&years), "desk cert valid {years} years");

    for bad in ["", "Desk", "-desk", "a/b", &"a".repeat(65)] {
        let err = ca.issue_desk(bad).unwrap_err();
        assert!(matches!(err, PkiError::InvalidDeskId(_)), "{bad:?}: {err}");
    }
}

#[test]
fn desk_id_from_cert_rejects_what_is_not_a_desk() {
    let ca = Ca::create().unwrap();
    let hub = ca.issue_server(&[]).unwrap();
    let hub_der = parse_cert_chain(&hub.cert_pem, "hub").unwrap().remove(0);
    // The hub's own certificate has a valid-looking CN; the identity
    // function does not judge that, the verifier and desk table do.
    assert_eq!(
        desk_id_from_cert(&hub_der).as_deref(),
        Some(HUB_SERVER_NAME)
    );
    // A CA certificate's CN has spaces and capitals: not a desk id.
    let ca_der = parse_cert_chain(ca.cert_pem(), "ca").unwrap().remove(0);
    assert_eq!(desk_id_from_cert(&ca_der), None);
    assert_eq!(desk_id_from_cert(b"not der"), None);
    assert_eq!(desk_id_from_cert(&[]), None);
}

#[test]
fn desk_id_falls_back_to_the_first_dns_san() {
    // A certificate without a CN, as another tool might produce it.
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params =
        CertificateParams::new(vec!["desk-7".to_string(), "other".to_string()]).unwrap();
    params.distinguished_name = DistinguishedName::new();
    let cert = params.self_signed(&key).unwrap();
    assert_eq!(desk_id_from_cert(cert.der()).as_deref(), Some("desk-7"));
}

#[test]
fn valid_desk_id_table() {
    let long_ok = "a".repeat(64);
    let too_long = "a".repeat(65);
    let cases: &[(&str, bool)] = &[
        ("a", true),
        ("0", true),
        ("anagrafe-01", true),
        ("9-lives", true),
        ("desk-", true),
        ("a--b", true),
        (&long_ok, true),
        ("", false),
        (&too_long, false),
        ("-desk", false),
        ("Desk", false),
        ("desk_1", false),
        ("desk.1", false),
        ("desk 1", false),
        ("désk", false),
        ("desk\n", false),
        ("desk/../x", false),
    ];
    for (id, ok) in cases {
        assert_eq!(valid_desk_id(id), *ok, "{id:?}");
    }
}

#[test]
fn write_secret_is_0600_even_over_an_open_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.key");
    write_secret(&path, b"first").unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read(&path).unwrap(), b"first");

    // An existing world-readable file is tightened and truncated.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    write_secret(&path, b"2nd").unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read(&path).unwrap(), b"2nd");
}

#[test]
fn debug_output_never_shows_keys() {
    let ca = Ca::create().unwrap();
    let desk = ca.issue_desk("d1").unwrap();
    assert!(!format!("{ca:?}").contains("PRIVATE KEY"));
    assert!(!format!("{desk:?}").contains("PRIVATE KEY"));
}

#[test]
fn ca_can_be_shared_across_tasks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Ca>();
    assert_send_sync::<Issued>();
}
