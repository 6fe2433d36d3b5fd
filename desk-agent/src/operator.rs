//! The operator page: plain HTTP on loopback, server-rendered (askama,
//! auto-escaping: guidance and template text are untrusted), htmx and one
//! small script for the live parts, every asset embedded in the binary.
//!
//! Every page calls the agent's own `Desk` service in-process, so recording
//! a visit here is `RecordVisit` (intake, then the flushed outbox), guidance
//! is `ListGuidance`/`WatchGuidance`, the answer is `RenderTemplate`, the
//! status is `GetStatus`: the page adds words, never a second path.

mod answer;
mod assets;
mod card;
mod chrome;
mod guidance;
mod language;
mod live;
mod panel;
mod record;
mod reports;
mod respond;
mod search;
mod status;
pub mod texts;
pub mod visit_form;

use crate::service::DeskService;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use runtime::Shutdown;
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// Largest form body; the longest field (notes) is 2,000 characters.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// Binds the page's listener, refusing a non-loopback address unless the
/// operator opened it explicitly (`public`).
pub async fn bind(addr: &str, public: bool) -> Result<TcpListener, runtime::listen::BindError> {
    runtime::listen::bind(
        addr,
        public,
        runtime::listen::Purpose {
            what: "the operator page",
            open_with: "--http-public (or set http_public = true in agent.toml)",
        },
    )
    .await
}

/// What every handler shares.
#[derive(Clone)]
pub struct Operator {
    desk: Arc<DeskService>,
    scrub_notes: bool,
    /// Guidance items (id, version) the operator marked as read; in memory,
    /// so after a restart everything in force shows as new once more.
    read: Arc<Mutex<HashSet<(String, u64)>>>,
    /// Ends the live streams at shutdown, so the server can finish.
    stop: Shutdown,
    public: bool,
}

impl Operator {
    pub fn new(desk: Arc<DeskService>, scrub_notes: bool, public: bool, stop: Shutdown) -> Self {
        Self {
            desk,
            scrub_notes,
            read: Arc::default(),
            stop,
            public,
        }
    }

    fn is_read(&self, id: &str, version: u64) -> bool {
        self.read
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(id.to_string(), version))
    }

    fn mark_read(&self, id: String, version: u64) {
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: a desk sees a few hundred items a year, not millions.
        if read.len() < 10_000 {
            read.insert((id, version));
        }
    }
}

pub fn router(state: Operator) -> Router {
    Router::new()
        .route("/", get(record::record_page).post(record::record_visit))
        .route("/pannello", get(panel::panel))
        .route("/indicazioni", get(guidance::guidance_page))
        .route("/indicazioni/letto", post(guidance::mark_read))
        .route("/indicazioni/eventi", get(live::guidance_events))
        .route(
            "/risposta",
            get(answer::answer_page).post(answer::answer_filled),
        )
        .route("/risposta/proponi", post(answer::propose))
        .route("/scheda", get(card::card_page))
        .route("/scheda/volantino", post(card::handout_pdf))
        .route("/cerca", get(search::search_page).post(search::search_sent))
        .route("/cerca/risultati", post(search::search_results))
        .route("/segnala", post(reports::report_sent))
        .route("/segnalazioni", get(reports::reports_page))
        .route("/stato", get(status::status_page))
        .route("/lingua", get(language::switch_language))
        .route("/assets/{name}", get(assets::asset))
        .fallback(respond::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            same_origin,
        ))
        .layer(axum::middleware::from_fn(runtime::web::hardened))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Another web site open in the operator's browser could post forms to
/// 127.0.0.1, and a rebound DNS name could read the page: refuse a `Host`
/// that is not loopback (unless the page is public) and a form whose
/// `Origin` is another site.
async fn same_origin(State(op): State<Operator>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !op.public && !is_loopback_host(&host) {
        return (
            StatusCode::FORBIDDEN,
            "Host non ammesso: la pagina dello sportello risponde solo su 127.0.0.1 / \
             host not allowed: the operator page answers on loopback only",
        )
            .into_response();
    }
    if req.method() == Method::POST {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|h| h.to_str().ok());
        if let Some(origin) = origin {
            if origin != format!("http://{host}") {
                return (
                    StatusCode::FORBIDDEN,
                    "Modulo rifiutato: inviato da un altro sito / form refused: sent from another site",
                )
                    .into_response();
            }
        }
    }
    next.run(req).await
}

fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Serves the page until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    state: Operator,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_pass() {
        assert!(is_loopback_host("127.0.0.1:7711"));
        assert!(is_loopback_host("localhost:7711"));
        assert!(is_loopback_host("[::1]:7711"));
        assert!(!is_loopback_host("evil.example:7711"));
        assert!(!is_loopback_host("192.168.1.5:7711"));
        assert!(!is_loopback_host(""));
    }

    #[tokio::test]
    async fn a_public_address_needs_the_explicit_flag() {
        let err = bind("0.0.0.0:0", false).await.expect_err("refused");
        assert!(err.to_string().contains("--http-public"), "{err}");
        assert!(bind("127.0.0.1:0", false).await.is_ok());
    }
}
