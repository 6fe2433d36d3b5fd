//! What every gRPC port serves beside its own service: `grpc.health.v1`,
//! server reflection in both protocol versions, and the gRPC status guide's
//! code for an oversized message.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderValue};
use std::time::Duration;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Server;
use tower_layer::{Identity, Stack};

/// The layers every gRPC server of ours runs its services behind.
pub type Layers = Stack<SizeStatus, Identity>;
pub type Router = tonic::transport::server::Router<Layers>;

/// The one server builder for every gRPC port.
pub fn server() -> Server<Layers> {
    // Keepalive pings find a silent, dead peer instead of waiting forever.
    Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .tcp_nodelay(true)
        .layer(SizeStatus)
}

/// Health (overall and for `S`) and reflection, `grpc.reflection.v1` and
/// `v1alpha`: Python's `grpcio-reflection`, older grpcurl, Evans and Postman
/// builds speak only `v1alpha`.
pub async fn standard_services<S: NamedService>(
    router: Router,
) -> Result<Router, tonic_reflection::server::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    reporter.set_serving::<S>().await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    Ok(router
        .add_service(health)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?))
}

/// Answers a message over the size limit with `RESOURCE_EXHAUSTED`, as the
/// gRPC status-code guide asks; tonic says `OUT_OF_RANGE`. Applied to the
/// whole server by [`server`], so unary answers
/// (the status in the headers) and streams (in the trailers) both get it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SizeStatus;

impl<S> tower_layer::Layer<S> for SizeStatus {
    type Service = SizeStatusService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SizeStatusService { inner }
    }
}

#[derive(Debug, Clone)]
pub struct SizeStatusService<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower_service::Service<http::Request<Body>> for SizeStatusService<S>
where
    S: tower_service::Service<http::Request<Body>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    B: http_body::Body + Unpin,
{
    type Response = http::Response<SizeStatusBody<B>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            remap(response.headers_mut());
            Ok(response.map(|inner| SizeStatusBody { inner }))
        })
    }
}

/// A response body whose trailers get the same correction as the headers.
#[derive(Debug)]
pub struct SizeStatusBody<B> {
    inner: B,
}

impl<B: http_body::Body + Unpin> http_body::Body for SizeStatusBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        polled.map(|frame| {
            frame.map(|frame| {
                frame.map(|frame| match frame.into_trailers() {
                    Ok(mut trailers) => {
                        remap(&mut trailers);
                        http_body::Frame::trailers(trailers)
                    }
                    Err(frame) => frame,
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

const OUT_OF_RANGE: &str = "11";
const RESOURCE_EXHAUSTED: &str = "8";

fn remap(headers: &mut HeaderMap) {
    let oversized = headers.get("grpc-status").and_then(|v| v.to_str().ok()) == Some(OUT_OF_RANGE)
        && headers
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|m| {
                // tonic percent-encodes the message's spaces.
                let m = m.replace("%20", " ");
                m.contains("message length too large")
            });
    if oversized {
        headers.insert("grpc-status", HeaderValue::from_static(RESOURCE_EXHAUSTED));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_size_refusal_changes_code() {
        let mut oversized = HeaderMap::new();
        oversized.insert("grpc-status", HeaderValue::from_static("11"));
        oversized.insert(
            "grpc-message",
            HeaderValue::from_static(
                "Error,%20decoded%20message%20length%20too%20large:%20found%205%20bytes",
            ),
        );
        remap(&mut oversized);
        assert_eq!(oversized["grpc-status"], "8");

        let mut other = HeaderMap::new();
        other.insert("grpc-status", HeaderValue::from_static("11"));
        other.insert(
            "grpc-message",
            HeaderValue::from_static("week out of range"),
        );
        remap(&mut other);
        assert_eq!(other["grpc-status"], "11");
    }
}

/// Checks `authorization: Bearer <token>` in constant time; `where_kept`
/// tells a caller without it where the token is (e.g. "coordinator.token
/// in the hub's data folder").
pub fn bearer_check(
    token: String,
    where_kept: &'static str,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone {
    move |req: tonic::Request<()>| {
        let presented = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                tonic::Status::unauthenticated(format!(
                    "missing `authorization: Bearer <token>` (see {where_kept})"
                ))
            })?;
        let same = presented.len() == token.len()
            && presented
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(req)
        } else {
            Err(tonic::Status::unauthenticated(format!(
                "the token is not valid (see {where_kept})"
            )))
        }
    }
}

/// Sends `authorization: Bearer <token>` with every call of a client.
#[derive(Clone)]
pub struct Bearer(pub tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    /// `None` when the token cannot travel in a header (not ASCII).
    pub fn new(token: &str) -> Option<Self> {
        format!("Bearer {}", token.trim()).parse().ok().map(Self)
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}
