//! The coordinators' dashboard: server-rendered HTML (askama, escaped by
//! default) with htmx for the live parts, served over HTTPS with the hub's
//! own certificate. Every page reads the same store and calls the same
//! action functions as the CLI and the coordinator API.

mod answer_templates;
mod audit_log;
mod auth;
mod cards;
mod chart;
mod desks;
mod gaps;
mod glossary;
mod guidance;
mod i18n;
mod login_token;
mod overview;
mod proposals;
mod recent;
mod reports;
mod session;
mod stats;

use crate::connections::Connections;
use crate::pki::Authority;
use crate::push::Push;
use crate::storage::Store;
use crate::transport::tls::Capped;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use i18n::{Lang, Texts};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::StreamExt;

pub use login_token::LoginKey;

/// The largest request body taken (a template body is at most 20,000
/// characters, which form-encoding can triple).
pub(crate) const MAX_BODY: usize = 256 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// What the pages need from the running hub.
pub struct Deps {
    pub store: Arc<dyn Store>,
    pub ca: Arc<Authority>,
    pub connections: Arc<Connections>,
    pub push: Push,
    pub data: PathBuf,
    /// Offered as the hub address in a new desk's bundle, unless
    /// `desk_addresses` lists the replicas.
    pub federation_addr: String,
    pub desk_addresses: Vec<String>,
    /// Set to the number of signed-in sessions at every sweep.
    pub sessions_gauge: prometheus_client::metrics::gauge::Gauge,
}

pub(crate) struct App {
    pub(crate) deps: Deps,
    pub(crate) sessions: session::Sessions,
    pub(crate) login_key: LoginKey,
    pub(crate) limiter: session::Limiter,
    /// Password checks running at once: one per core.
    pub(crate) verifying: Arc<tokio::sync::Semaphore>,
    /// Tables published in the last second, served again to the pages.
    pub(crate) recent: recent::Recent,
}

type Shared = Arc<App>;

/// The client's address, put on every request of its connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(overview::page))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/desks", get(desks::page).post(desks::add))
        .route("/desks/{id}/revoke", post(desks::revoke))
        .route("/guidance", get(guidance::page).post(guidance::publish))
        .route("/guidance/{id}/retire", post(guidance::retire))
        .route(
            "/templates",
            get(answer_templates::page).post(answer_templates::save),
        )
        .route("/templates/edit", get(answer_templates::editor))
        .route("/templates/check", post(answer_templates::check))
        .route("/proposals/{id}/accept", post(proposals::accept))
        .route("/proposals/{id}/decline", post(proposals::decline))
        .route("/cards", get(cards::page).post(cards::save))
        .route("/cards/edit", get(cards::editor))
        .route("/cards/check", post(cards::check))
        .route("/cards/{code}/confirm", post(cards::confirm))
        .route("/glossary", get(glossary::page).post(glossary::save))
        .route("/reports", get(reports::page))
        .route("/reports/{id}/fix", post(reports::fix))
        .route("/reports/{id}/decline", post(reports::decline))
        .route("/stats", get(stats::page))
        .route("/stats.csv", get(stats::csv))
        .route("/stats.xlsx", get(stats::xlsx))
        .route("/gaps", get(gaps::page))
        .route("/audit", get(audit_log::page))
        .route("/assets/htmx.min.js", get(htmx))
        .route("/assets/style.css", get(style))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            auth::csrf_guard,
        ))
        .layer(middleware::from_fn(common))
        .with_state(app)
}

/// The hub's TLS settings for browsers, which speak HTTP/1.1 as well as h2
/// (the hub's gRPC settings offer h2 only).
pub fn tls_config(grpc: &rustls::ServerConfig) -> Arc<rustls::ServerConfig> {
    let mut tls = grpc.clone();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(tls)
}

/// Serves the dashboard on the connections `incoming` admits until
/// `shutdown`, then lets open requests finish for a few seconds.
pub async fn serve(
    mut incoming: impl futures::Stream<Item = std::io::Result<Capped>> + Unpin,
    deps: Deps,
    login_key: LoginKey,
    shutdown: impl Future<Output = ()>,
) {
    let app = Arc::new(App {
        sessions: session::Sessions::new(Arc::clone(&deps.store)),
        deps,
        login_key,
        // Five wrong passwords a minute per address or per name, then a pause.
        limiter: session::Limiter::new(Duration::from_secs(60), 5),
        verifying: Arc::new(tokio::sync::Semaphore::new(crate::users::checks_at_once())),
        recent: recent::Recent::default(),
    });
    let sweeper = tokio::spawn(sweep(Arc::clone(&app)));
    let router = router(app);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            s = incoming.next() => match s {
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    tracing::info!(error = %e, "dashboard connection failed");
                    continue;
                }
                None => break,
            },
            _ = &mut shutdown => break,
        };
        let Ok(peer) = stream.peer_addr() else {
            continue;
        };
        let service = TowerToHyperService::new(router.clone().layer(Extension(Peer(peer))));
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "dashboard connection ended");
            }
        });
    }
    if tokio::time::timeout(DRAIN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("dashboard requests did not finish in time");
    }
    sweeper.abort();
}

/// Deletes expired sessions from the store every `SWEEP_EVERY`, and says
/// how many are left on `/metrics`; reads refuse an expired one meanwhile.
async fn sweep(app: Shared) {
    loop {
        match app.sessions.sweep().await {
            Ok(left) => {
                app.deps
                    .sessions_gauge
                    .set(i64::try_from(left).unwrap_or(i64::MAX));
            }
            Err(e) => tracing::warn!(error = %e, "cannot sweep expired dashboard sessions"),
        }
        tokio::time::sleep(session::SWEEP_EVERY).await;
    }
}

/// Security headers, the request time limit and the language cookie, for
/// every response.
async fn common(req: Request, next: Next) -> Response {
    let chosen = query_lang(req.uri().query());
    let mut resp = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "La richiesta ha impiegato troppo tempo. / The request took too long.",
        )
            .into_response(),
    };
    let h = resp.headers_mut();
    runtime::web::harden(h);
    // The dashboard is HTTPS only.
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    if let Some(lang) = chosen {
        let cookie = format!(
            "{}={}; Path=/; Secure; SameSite=Strict; Max-Age=31536000",
            i18n::COOKIE,
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
}

/// The language of a request: `?lang=` first, then the cookie, else Italian.
pub(crate) fn lang_of(parts: &axum::http::request::Parts) -> Lang {
    query_lang(parts.uri.query())
        .or_else(|| {
            session::read_cookie(&parts.headers, i18n::COOKIE).and_then(|v| Lang::parse(&v))
        })
        .unwrap_or_default()
}

async fn htmx() -> Response {
    asset(runtime::assets::HTMX_JS, "text/javascript")
}

async fn style() -> Response {
    asset(include_bytes!("../assets/style.css"), "text/css")
}

fn asset(bytes: &'static [u8], kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        bytes,
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "Pagina non trovata. / Page not found.",
    )
        .into_response()
}

/// `?done=...`: the action a page was redirected from, for its notice.
#[derive(serde::Deserialize, Default)]
pub(crate) struct Done {
    #[serde(default)]
    pub(crate) done: String,
}

/// Why a page could not be shown, as the operator reads it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = match &self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Internal(m) => {
                tracing::error!(error = %m, "dashboard request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("Errore / Error: {self}"),
        )
            .into_response()
    }
}

impl From<crate::storage::StorageError> for WebError {
    fn from(e: crate::storage::StorageError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("cannot render the page: {e}"))
    }
}

impl From<crate::admin::AdminError> for WebError {
    fn from(e: crate::admin::AdminError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<crate::stats::StatsError> for WebError {
    fn from(e: crate::stats::StatsError) -> Self {
        match e {
            crate::stats::StatsError::Storage(s) => s.into(),
            other => WebError::BadRequest(other.to_string()),
        }
    }
}

/// Builds a page from the store on the blocking pool (`storage::blocking`):
/// its reads may go to disk, which an async thread must not wait for.
pub(crate) async fn off_async<T: Send + 'static>(
    app: &Shared,
    build: impl FnOnce(&Shared) -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    let shared = Arc::clone(app);
    crate::storage::blocking(&app.deps.store, move |_| build(&shared)).await
}

/// Renders a page, or says why it could not.
pub(crate) fn render(t: &impl askama::Template) -> Result<Response, WebError> {
    Ok(Html(t.render()?).into_response())
}

/// What every signed-in page shows around its content.
pub(crate) struct Chrome {
    pub(crate) lang: Lang,
    pub(crate) t: &'static Texts,
    pub(crate) user: String,
    pub(crate) csrf: String,
    /// The section the page belongs to; none for the sign-in page.
    pub(crate) page: Option<Page>,
}

/// The sections in the navigation, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    Overview,
    Desks,
    Guidance,
    Templates,
    Cards,
    Reports,
    Stats,
    Gaps,
    Audit,
}

const NAV: [(&str, Page); 9] = [
    ("/", Page::Overview),
    ("/desks", Page::Desks),
    ("/guidance", Page::Guidance),
    ("/templates", Page::Templates),
    ("/cards", Page::Cards),
    ("/reports", Page::Reports),
    ("/stats", Page::Stats),
    ("/gaps", Page::Gaps),
    ("/audit", Page::Audit),
];

/// One link of the navigation.
pub(crate) struct NavLink {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

impl Chrome {
    pub(crate) fn new(lang: Lang, user: String, csrf: String, page: Option<Page>) -> Self {
        Self {
            lang,
            t: lang.texts(),
            user,
            csrf,
            page,
        }
    }

    pub(crate) fn nav(&self) -> Vec<NavLink> {
        NAV.iter()
            .map(|&(href, page)| NavLink {
                href,
                label: self.section(page),
                current: self.page == Some(page),
            })
            .collect()
    }

    fn section(&self, page: Page) -> &'static str {
        let t = self.t;
        match page {
            Page::Overview => t.nav_overview,
            Page::Desks => t.nav_desks,
            Page::Guidance => t.nav_guidance,
            Page::Templates => t.nav_templates,
            Page::Cards => t.nav_cards,
            Page::Reports => t.nav_reports,
            Page::Stats => t.nav_stats,
            Page::Gaps => t.nav_gaps,
            Page::Audit => t.nav_audit,
        }
    }

    /// The name of a statistics dimension; anything else is not one (the
    /// stats query refuses it before a page shows it).
    pub(crate) fn dim(&self, name: &str) -> &'static str {
        let t = self.t;
        match name {
            "family" => t.dim_family,
            "procedure" => t.dim_procedure,
            "outcome" => t.dim_outcome,
            "channel" => t.dim_channel,
            "language" => t.dim_language,
            "desk_id" => t.dim_desk_id,
            "week" => t.dim_week,
            "referral" => t.dim_referral,
            "duration_band" => t.dim_duration_band,
            "age_band" => t.dim_age_band,
            "sex" => t.dim_sex,
            "nationality" => t.dim_nationality,
            "mediator" => t.dim_mediator,
            _ => "?",
        }
    }
}
