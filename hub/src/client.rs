//! How the CLI reaches a running hub: the coordinator port over TLS, with the
//! token `init` wrote. `None` means no hub answers, so the CLI may open the
//! store itself ([`Way`]).

pub mod print;
mod way;

pub use way::{StatsPeriod, Way};

use crate::config::{DataDir, HubConfig};
use crate::pki::HUB_SERVER_NAME;
use anyhow::Context;
use proto::coordinator_client::CoordinatorClient;
use runtime::grpc::Bearer;
use std::time::Duration;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

pub type Client = CoordinatorClient<InterceptedService<Channel, Bearer>>;

/// The address to dial for a listen address: a wildcard means this machine.
pub fn dial_address(listen: &str) -> String {
    match listen.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_string(),
    }
}

pub async fn connect(data: &DataDir, config: &HubConfig) -> anyhow::Result<Option<Client>> {
    let ca = std::fs::read_to_string(data.ca_cert())
        .with_context(|| format!("cannot read {}", data.ca_cert().display()))?;
    let token = std::fs::read_to_string(data.token())
        .with_context(|| format!("cannot read {}", data.token().display()))?;
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .domain_name(HUB_SERVER_NAME);
    let endpoint = Endpoint::from_shared(format!(
        "https://{}",
        dial_address(&config.coordinator_addr)
    ))?
    .tls_config(tls)?
    .connect_timeout(Duration::from_secs(2));
    let channel = match endpoint.connect().await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(error = %e, "no running hub answered; using the store directly");
            return Ok(None);
        }
    };
    let bearer = Bearer::new(&token).context("coordinator.token is not valid text")?;
    Ok(Some(CoordinatorClient::with_interceptor(channel, bearer)))
}
