//! `GET /metrics` for Prometheus, in the OpenMetrics text format, on an
//! address of its own (loopback unless opened on purpose). Each process has
//! one registry, owned by whoever starts the server: no global state.

use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use tokio::net::TcpListener;

pub use prometheus_client;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Binds the metrics address, refusing a non-loopback one unless `public`.
pub async fn bind(
    addr: &str,
    public: bool,
    open_with: &'static str,
) -> Result<TcpListener, crate::listen::BindError> {
    crate::listen::bind(
        addr,
        public,
        crate::listen::Purpose {
            what: "the metrics",
            open_with,
        },
    )
    .await
}

/// Serves `registry` at `/metrics` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    shutdown: crate::Shutdown,
) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let registry = Arc::clone(&registry);
            async move {
                let mut body = String::new();
                if let Err(e) = prometheus_client::encoding::text::encode(&mut body, &registry) {
                    tracing::error!(error = %e, "metrics could not be encoded");
                    return (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "the metrics could not be encoded",
                    )
                        .into_response();
                }
                let openmetrics = headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|a| a.contains("application/openmetrics-text"));
                if openmetrics {
                    ([(header::CONTENT_TYPE, OPENMETRICS)], body).into_response()
                } else {
                    ([(header::CONTENT_TYPE, CLASSIC)], classic_text(&body)).into_response()
                }
            }
        }),
    );
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(addr = %addr, "metrics listening");
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.waited())
        .await
}

/// The OpenMetrics exposition in Prometheus's classic text format, for
/// scrapers that do not ask for OpenMetrics (and `promtool check metrics`):
/// a counter family is named as its `_total` samples, and the `# EOF` and
/// `# UNIT` lines go.
fn classic_text(openmetrics: &str) -> String {
    let lines: Vec<&str> = openmetrics.lines().collect();
    let mut out = String::with_capacity(openmetrics.len() + 64);
    let counter = |name: &str| lines.contains(&format!("# TYPE {name} counter").as_str());
    for line in &lines {
        if *line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = line
            .strip_prefix("# HELP ")
            .map(|rest| ("# HELP ", rest))
            .or_else(|| line.strip_prefix("# TYPE ").map(|rest| ("# TYPE ", rest)));
        match meta {
            Some((kind, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                if counter(name) {
                    out.push_str(&format!("{kind}{name}_total {tail}"));
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classic_text_names_counter_families_as_their_samples() {
        let om = "# HELP a_b Things.\n# TYPE a_b counter\na_b_total 3\n\
                  # HELP g Level.\n# TYPE g gauge\ng 1\n# EOF\n";
        assert_eq!(
            classic_text(om),
            "# HELP a_b_total Things.\n# TYPE a_b_total counter\na_b_total 3\n\
             # HELP g Level.\n# TYPE g gauge\ng 1\n"
        );
    }
}
