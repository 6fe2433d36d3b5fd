//! A small HTTPS client for the dashboard tests: real TLS against the hub's
//! own CA, HTTP/1.1 through hyper, and a cookie jar that remembers the raw
//! `Set-Cookie` lines so tests can check their attributes.

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `csrf_token` of the first form on the page.
    pub fn csrf(&self) -> Option<String> {
        let text = self.text();
        let at = text.find(r#"name="csrf_token" value=""#)? + r#"name="csrf_token" value=""#.len();
        let rest = text.get(at..)?;
        Some(rest[..rest.find('"')?].to_string())
    }
}

#[derive(Clone)]
pub struct Web {
    addr: String,
    /// The loopback address requests come from (127.0.0.1 unless set), so
    /// that a test can play clients at several addresses.
    source: Option<std::net::IpAddr>,
    tls: tokio_rustls::TlsConnector,
    /// Cookie name → value, as a browser would send them back.
    pub jar: BTreeMap<String, String>,
}

impl Web {
    /// A client that trusts only the CA in `hub_data/ca.crt`.
    pub fn new(hub_data: &Path, addr: &str) -> anyhow::Result<Self> {
        let pem = std::fs::read(hub_data.join("ca.crt")).context("read ca.crt")?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(cert?)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self {
            addr: addr.to_string(),
            source: None,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            jar: BTreeMap::new(),
        })
    }

    /// The same client, connecting from `source` (e.g. 127.0.0.2).
    pub fn from_source(mut self, source: std::net::IpAddr) -> Self {
        self.source = Some(source);
        self
    }

    /// A new TLS connection to the dashboard, from the client's source.
    async fn connect(
        &self,
    ) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
        let tcp = match self.source {
            None => tokio::net::TcpStream::connect(&self.addr).await?,
            Some(ip) => {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(std::net::SocketAddr::new(ip, 0))?;
                socket.connect(self.addr.parse()?).await?
            }
        };
        let name = rustls::pki_types::ServerName::try_from("localhost")?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .context("TLS handshake with the dashboard")?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    async fn send(
        &self,
        sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<Response> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.addr);
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", cookies.join("; "));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        sender.ready().await?;
        let resp = sender
            .send_request(req.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let body = resp.into_body().collect().await?.to_bytes().to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<Response> {
        let mut sender = self.connect().await?;
        let out = self.send(&mut sender, method, path, headers, body).await?;
        for line in out.set_cookies() {
            let pair = line.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || line.contains("Max-Age=0") {
                    self.jar.remove(k.trim());
                } else {
                    self.jar.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
        Ok(out)
    }

    /// `n` GETs of `path` on one kept-alive connection, each as a new
    /// visitor would send it (no cookies), as a crawler or a flood does.
    pub async fn anonymous_gets(&self, path: &str, n: usize) -> anyhow::Result<Vec<Response>> {
        let anonymous = Self {
            jar: BTreeMap::new(),
            ..self.clone()
        };
        let mut sender = anonymous.connect().await?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(
                anonymous
                    .send(&mut sender, "GET", path, &[], Vec::new())
                    .await?,
            );
        }
        Ok(out)
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<Response> {
        self.request("GET", path, &[], Vec::new()).await
    }

    pub async fn post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<Response> {
        let body = form(fields);
        self.request(
            "POST",
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.into_bytes(),
        )
        .await
    }

    /// Opens the sign-in page and posts the form with its token.
    pub async fn login(&mut self, user: &str, password: &str) -> anyhow::Result<Response> {
        let page = self.get("/login").await?;
        let token = page
            .csrf()
            .context("the sign-in form carries a csrf_token")?;
        self.post_form(
            "/login",
            &[
                ("username", user),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form.
pub fn form(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// Adds a dashboard account through the CLI, the password on standard input.
pub fn add_user(hub_data: &Path, name: &str, password: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(crate::bin("hub"))
        .args(["user", "add", name, "--data", crate::path(hub_data)])
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn hub user add");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{password}");
    }
    child.wait_with_output().expect("hub user add finishes")
}

/// Turns the dashboard on in an initialised hub's `hub.toml`; returns its address.
pub fn enable_dashboard(hub_data: &Path) -> anyhow::Result<String> {
    let addr = crate::free_addr();
    let file = hub_data.join("hub.toml");
    let text = std::fs::read_to_string(&file)?;
    let text = text.replace("http_addr = \"\"", &format!("http_addr = \"{addr}\""));
    anyhow::ensure!(text.contains(&addr), "hub.toml has no http_addr key");
    std::fs::write(&file, text)?;
    Ok(addr)
}
