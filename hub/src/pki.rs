//! The hub's certificate authority: it issues the hub's server certificate and
//! one client certificate per desk, builds the TLS 1.3-only rustls server
//! configuration, reads a desk's identity out of its verified certificate and
//! writes secrets to disk with mode 0600.
//!
//! Everything uses ECDSA P-256 and the `ring` provider. aws-lc-rs needs cmake
//! and clang, which the desks' machines lack (DESIGN.md §10).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use x509_parser::extensions::GeneralName;

/// SAN every hub cert carries; desks verify the hub against this name, so the
/// hub's address (IP, DNS name, port-forward) can change without reissuing.
pub use runtime::HUB_SERVER_NAME;

const CA_COMMON_NAME: &str = "Rete Sportelli CA";
const ORGANIZATION: &str = "Rete Sportelli";
const CA_YEARS: u64 = 10;
const SERVER_YEARS: u64 = 5;
const DESK_YEARS: u64 = 3;
/// Certificates start a day in the past so that a desk whose clock runs a bit
/// behind the hub's still accepts a certificate issued a minute ago.
const BACKDATE: Duration = Duration::from_secs(24 * 60 * 60);
const MAX_DESK_ID_LEN: usize = 64;

/// What went wrong in the certificate authority. Every message names the
/// certificate, key or file concerned; none ever contains key material.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: not valid PEM: {reason}")]
    Pem { what: String, reason: String },
    #[error("{what}: {reason}")]
    BadCertificate { what: String, reason: String },
    #[error("{what}: not a usable private key: {source}")]
    BadKey {
        what: String,
        #[source]
        source: rcgen::Error,
    },
    #[error("{key} does not belong to {cert}")]
    KeyMismatch { cert: String, key: String },
    #[error("invalid desk id {0:?}: expected 1 to 64 characters of a-z, 0-9 and '-', starting with a letter or digit")]
    InvalidDeskId(String),
    #[error(
        "invalid extra host {0:?} for the hub certificate: expected a DNS name or an IP address"
    )]
    InvalidHost(String),
    #[error("the system clock is before 1970, cannot date certificates")]
    Clock,
    #[error("{what}: {source}")]
    Generate {
        what: String,
        #[source]
        source: rcgen::Error,
    },
    #[error("building the TLS server configuration: {what}: {reason}")]
    Tls { what: &'static str, reason: String },
}

/// The hub's certificate authority: its certificate and private key (PEM),
/// plus the parsed signer so that issuing does not re-parse them each time.
pub struct Ca {
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

// The key must never reach a log line, even through `{:?}` on a struct that
// holds a `Ca`.
impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// A freshly issued certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

impl Issued {
    /// Read a certificate and its key from two PEM files; errors name the file.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Issued, PkiError> {
        let cert_pem = read_text(cert_path)?;
        let key_pem = read_text(key_path)?;
        let cert_what = format!("certificate {}", cert_path.display());
        let key_what = format!("private key {}", key_path.display());
        parse_cert_chain(&cert_pem, &cert_what)?;
        parse_private_key(&key_pem, &key_what)?;
        Ok(Issued { cert_pem, key_pem })
    }
}

impl Ca {
    /// A new CA: ECDSA P-256, CN "Rete Sportelli CA", valid 10 years.
    pub fn create() -> Result<Ca, PkiError> {
        let what = || "generating the CA".to_string();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|source| {
            PkiError::Generate {
                what: what(),
                source,
            }
        })?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(CA_COMMON_NAME);
        // Path length 0: the CA signs only leaf certificates, so a leaked desk
        // key can never be turned into an intermediate CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params, CA_YEARS)?;
        let cert = params
            .self_signed(&key)
            .map_err(|source| PkiError::Generate {
                what: what(),
                source,
            })?;
        let cert_pem = cert.pem();
        let key_pem = key.serialize_pem();
        // Going through the PEM just produced keeps one code path for a new
        // and a reloaded CA, so issuing behaves the same after a restart.
        Ca::parse(
            &cert_pem,
            "the new CA certificate",
            &key_pem,
            "the new CA key",
        )
    }

    /// Rebuild the CA from its certificate and key (PEM). Refuses a
    /// certificate that is not a CA and a key that does not match it.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Ca, PkiError> {
        Ca::parse(
            cert_pem,
            "the CA certificate",
            key_pem,
            "the CA private key",
        )
    }

    /// [`Ca::from_pem`] from two files; errors name the file.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Ca, PkiError> {
        let cert_pem = read_text(cert_path)?;
        let key_pem = read_text(key_path)?;
        Ca::parse(
            &cert_pem,
            &format!("CA certificate {}", cert_path.display()),
            &key_pem,
            &format!("CA private key {}", key_path.display()),
        )
    }

    fn parse(
        cert_pem: &str,
        cert_what: &str,
        key_pem: &str,
        key_what: &str,
    ) -> Result<Ca, PkiError> {
        let certs = parse_cert_chain(cert_pem, cert_what)?;
        let [cert_der] = certs.as_slice() else {
            return Err(PkiError::BadCertificate {
                what: cert_what.to_string(),
                reason: format!("expected exactly one certificate, found {}", certs.len()),
            });
        };
        let (_, x509) = x509_parser::parse_x509_certificate(cert_der).map_err(|e| {
            PkiError::BadCertificate {
                what: cert_what.to_string(),
                reason: e.to_string(),
            }
        })?;
        if !x509.is_ca() {
            return Err(PkiError::BadCertificate {
                what: cert_what.to_string(),
                reason: "not a CA certificate (basicConstraints CA is not set)".to_string(),
            });
        }
        let key = KeyPair::from_pem(key_pem).map_err(|source| PkiError::BadKey {
            what: key_what.to_string(),
            source,
        })?;
        // rcgen signs with whatever key it is given; without this check a
        // swapped key file would yield certificates that no peer accepts,
        // and the failure would show up only at the first handshake.
        if x509.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(PkiError::KeyMismatch {
                cert: cert_what.to_string(),
                key: key_what.to_string(),
            });
        }
        let issuer =
            Issuer::from_ca_cert_der(cert_der, key).map_err(|e| PkiError::BadCertificate {
                what: cert_what.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Ca {
            cert_pem: cert_pem.to_string(),
            key_pem: key_pem.to_string(),
            issuer,
        })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA private key, PEM. A secret: write it with [`write_secret`].
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Server certificate for the hub: SANs HUB_SERVER_NAME, "localhost",
    /// 127.0.0.1, ::1 plus `extra_hosts` (DNS names or IPs), 5 years.
    pub fn issue_server(&self, extra_hosts: &[String]) -> Result<Issued, PkiError> {
        let mut sans = vec![
            SanType::DnsName(ia5(HUB_SERVER_NAME)?),
            SanType::DnsName(ia5("localhost")?),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ];
        for host in extra_hosts {
            let san = host_san(host)?;
            if !sans.contains(&san) {
                sans.push(san);
            }
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = name(HUB_SERVER_NAME);
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue_leaf(params, SERVER_YEARS, "issuing the hub server certificate")
    }

    /// Client certificate for one desk: CN = desk_id and a DNS SAN = desk_id
    /// (desk ids are validated by `valid_desk_id`), 3 years, client-auth EKU.
    pub fn issue_desk(&self, desk_id: &str) -> Result<Issued, PkiError> {
        if !valid_desk_id(desk_id) {
            return Err(PkiError::InvalidDeskId(desk_id.to_string()));
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = name(desk_id);
        params.subject_alt_names = vec![SanType::DnsName(ia5(desk_id)?)];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue_leaf(
            params,
            DESK_YEARS,
            &format!("issuing the certificate of desk {desk_id:?}"),
        )
    }

    fn issue_leaf(
        &self,
        mut params: CertificateParams,
        years: u64,
        what: &str,
    ) -> Result<Issued, PkiError> {
        let generate = |source| PkiError::Generate {
            what: what.to_string(),
            source,
        };
        // rcgen derives the serial from a hash of the subject's public key;
        // every leaf gets a fresh key, so serials are unique per CA as
        // RFC 5280 requires.
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, years)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(generate)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The CA as one hub holds it: its certificate always (to verify desks), its
/// key only on the machine that enrols desks. A replica made by `hub replica
/// add` has no key, so that a stolen replica cannot mint desks.
pub struct Authority {
    cert_pem: String,
    ca: Option<Ca>,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("holds_key", &self.ca.is_some())
            .finish_non_exhaustive()
    }
}

impl From<Ca> for Authority {
    fn from(ca: Ca) -> Self {
        Self {
            cert_pem: ca.cert_pem.clone(),
            ca: Some(ca),
        }
    }
}

impl Authority {
    /// The CA certificate alone (PEM); refused unless it is one CA
    /// certificate.
    pub fn cert_only(cert_pem: &str, what: &str) -> Result<Self, PkiError> {
        let certs = parse_cert_chain(cert_pem, what)?;
        let [der] = certs.as_slice() else {
            return Err(PkiError::BadCertificate {
                what: what.to_string(),
                reason: format!("expected exactly one certificate, found {}", certs.len()),
            });
        };
        let (_, x509) =
            x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::BadCertificate {
                what: what.to_string(),
                reason: e.to_string(),
            })?;
        if !x509.is_ca() {
            return Err(PkiError::BadCertificate {
                what: what.to_string(),
                reason: "not a CA certificate (basicConstraints CA is not set)".to_string(),
            });
        }
        Ok(Self {
            cert_pem: cert_pem.to_string(),
            ca: None,
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA with its key, when this hub holds it.
    pub fn ca(&self) -> Option<&Ca> {
        self.ca.as_ref()
    }
}

/// Desk ids: 1..=64 chars of [a-z0-9-], starting with a letter or digit.
pub fn valid_desk_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    match bytes.first() {
        Some(first) if first.is_ascii_lowercase() || first.is_ascii_digit() => {}
        _ => return false,
    }
    bytes.len() <= MAX_DESK_ID_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// rustls server config, TLS 1.3 ONLY, ALPN "h2". With `require_client_certs`
/// the client must present a cert chained to `ca_pem` (federation port);
/// without, no client auth (coordinator port).
pub fn server_config(
    ca_pem: &str,
    server: &Issued,
    require_client_certs: bool,
) -> Result<Arc<ServerConfig>, PkiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = parse_cert_chain(&server.cert_pem, "the hub server certificate")?;
    let key = parse_private_key(&server.key_pem, "the hub server key")?;
    let tls = |what: &'static str| {
        move |e: rustls::Error| PkiError::Tls {
            what,
            reason: e.to_string(),
        }
    };

    // No TLS 1.2 fallback: DESIGN.md §6 puts "no fallback" against a network
    // attacker, and every peer is our own software.
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls("TLS 1.3 with the ring provider"))?;
    let builder = if require_client_certs {
        let mut roots = RootCertStore::empty();
        for ca in parse_cert_chain(ca_pem, "the CA certificate")? {
            roots.add(ca).map_err(|e| PkiError::BadCertificate {
                what: "the CA certificate".to_string(),
                reason: e.to_string(),
            })?;
        }
        // Revocation is not done here with CRLs: the hub checks each
        // verified desk id against its desk table, which also lets it cut
        // open streams at once.
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| PkiError::Tls {
                what: "client certificate verifier",
                reason: e.to_string(),
            })?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(tls("the hub server certificate and key"))?;
    // gRPC runs over HTTP/2 only; without ALPN "h2" some clients (and
    // tonic) would refuse the connection or try HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// The desk id in a verified client certificate (DER): the CN (fallback:
/// first DNS SAN). None when absent or not a valid desk id.
pub fn desk_id_from_cert(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let from_cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let id = match from_cn {
        Some(cn) => cn,
        None => {
            let san = cert.subject_alternative_name().ok()??;
            san.value.general_names.iter().find_map(|name| match name {
                GeneralName::DNSName(dns) => Some(dns.to_string()),
                _ => None,
            })?
        }
    };
    // A present but malformed CN is refused, not skipped over to the SAN:
    // the CA never issues one, so such a certificate is not ours to trust.
    valid_desk_id(&id).then_some(id)
}

pub use runtime::secret::write_secret;

fn read_text(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn parse_cert_chain(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::Pem {
            what: what.to_string(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(PkiError::Pem {
            what: what.to_string(),
            reason: "no CERTIFICATE section found".to_string(),
        });
    }
    Ok(certs)
}

fn parse_private_key(pem: &str, what: &str) -> Result<PrivateKeyDer<'static>, PkiError> {
    // The pki-types error never echoes the key bytes, so it is safe to show.
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| PkiError::Pem {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::CommonName, common_name);
    dn
}

fn ia5(dns: &str) -> Result<rcgen::string::Ia5String, PkiError> {
    dns.try_into()
        .map_err(|_| PkiError::InvalidHost(dns.to_string()))
}

fn host_san(host: &str) -> Result<SanType, PkiError> {
    let host = host.trim();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let dns = host.strip_suffix('.').unwrap_or(host);
    if dns.is_empty() || dns.len() > 253 || !dns.split('.').all(valid_label) {
        return Err(PkiError::InvalidHost(host.to_string()));
    }
    // Name matching in webpki is case-insensitive, but a lower-case SAN keeps
    // the certificate and the operator's configuration easy to compare.
    Ok(SanType::DnsName(ia5(&dns.to_ascii_lowercase())?))
}

/// `now - BACKDATE .. now + years`, computed without a direct dependency on
/// the `time` crate: rcgen's `date_time_ymd` gives the epoch, std the offset.
fn set_validity(params: &mut CertificateParams, years: u64) -> Result<(), PkiError> {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| PkiError::Clock)?;
    let now = rcgen::date_time_ymd(1970, 1, 1) + since_epoch;
    let days = years * 365 + years / 4;
    params.not_before = now - BACKDATE;
    params.not_after = now + Duration::from_secs(days * 24 * 60 * 60);
    Ok(())
}

#[cfg(test)]
mod tests;
