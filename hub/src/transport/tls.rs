//! A TLS accept loop for tonic's `serve_with_incoming`: handshakes run
//! concurrently, each bounded in time, so that one slow or hostile client
//! cannot hold up the others, and failed handshakes never reach tonic.
//!
//! Connections are capped before any TLS work (`Caps`): in all, per source
//! address while not yet through the handshake, and handshakes in progress
//! in all and per source. A connection past a cap is closed at once.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;
use tokio_stream::wrappers::ReceiverStream;

type Labels = Vec<(&'static str, &'static str)>;

/// The caps of one port (`hub.toml`: `max_connections`, …).
///
/// The per-source connection cap counts only connections that have not yet
/// finished their handshake. Several desks may sit behind one address (a
/// NAT, the Comune's proxy): counting their established streams would
/// refuse the 65th desk of an office for no fault of its own, while a flood
/// from that address can only ever hold connections that never finish a
/// handshake, and those it holds for at most `handshake_timeout`. A desk
/// sharing the flood's address gets in once those time out (its backoff
/// retries); desks already connected are never touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub max_connections: usize,
    pub max_connections_per_source: usize,
    pub max_handshakes: usize,
    pub max_handshakes_per_source: usize,
    pub handshake_timeout: Duration,
}

impl Caps {
    /// No cap but the handshake's time.
    pub fn unlimited() -> Self {
        Self {
            max_connections: usize::MAX,
            max_connections_per_source: usize::MAX,
            max_handshakes: usize::MAX,
            max_handshakes_per_source: usize::MAX,
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Which cap a refused connection met (the metric's `cap` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Connections,
    ConnectionsPerSource,
    Handshakes,
    HandshakesPerSource,
}

impl Refused {
    fn label(self) -> &'static str {
        match self {
            Refused::Connections => "max_connections",
            Refused::ConnectionsPerSource => "max_connections_per_source",
            Refused::Handshakes => "max_handshakes",
            Refused::HandshakesPerSource => "max_handshakes_per_source",
        }
    }
}

#[derive(Default)]
struct Counts {
    open: usize,
    handshakes: usize,
    sources: HashMap<IpAddr, Source>,
}

#[derive(Default, Clone, Copy)]
struct Source {
    /// Connections not yet through their handshake.
    unfinished: usize,
    handshakes: usize,
}

/// The counts the caps are checked against, shared by every connection.
struct Gate {
    caps: Caps,
    counts: Mutex<Counts>,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // Every critical section is a few additions; a panic cannot leave
        // the counts half-changed.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new TCP connection from `ip`, or the cap it met.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refused> {
        let mut c = self.lock();
        if c.open >= self.caps.max_connections {
            return Err(Refused::Connections);
        }
        let source = c.sources.entry(ip).or_default();
        if source.unfinished >= self.caps.max_connections_per_source {
            return Err(Refused::ConnectionsPerSource);
        }
        source.unfinished += 1;
        c.open += 1;
        Ok(Slot {
            gate: Arc::clone(self),
            ip,
            finished: false,
        })
    }

    /// A handshake about to start for `ip` (its first message is in), or
    /// the cap it met.
    fn handshake(self: &Arc<Self>, ip: IpAddr) -> Result<Handshake, Refused> {
        let mut c = self.lock();
        if c.handshakes >= self.caps.max_handshakes {
            return Err(Refused::Handshakes);
        }
        let source = c.sources.entry(ip).or_default();
        if source.handshakes >= self.caps.max_handshakes_per_source {
            return Err(Refused::HandshakesPerSource);
        }
        source.handshakes += 1;
        c.handshakes += 1;
        Ok(Handshake {
            gate: Arc::clone(self),
            ip,
        })
    }

    /// Forgets a source once nothing of it is counted, so that the map
    /// holds only addresses with connections in their handshake.
    fn tidy(c: &mut Counts, ip: IpAddr) {
        if c.sources
            .get(&ip)
            .is_some_and(|s| s.unfinished == 0 && s.handshakes == 0)
        {
            c.sources.remove(&ip);
        }
    }
}

/// One open connection's place under the caps, held as long as it is open.
struct Slot {
    gate: Arc<Gate>,
    ip: IpAddr,
    finished: bool,
}

impl Slot {
    /// The handshake is done: the connection leaves its source's count.
    fn finished(&mut self) {
        if !std::mem::replace(&mut self.finished, true) {
            let mut c = self.gate.lock();
            if let Some(s) = c.sources.get_mut(&self.ip) {
                s.unfinished = s.unfinished.saturating_sub(1);
            }
            Gate::tidy(&mut c, self.ip);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.finished();
        let mut c = self.gate.lock();
        c.open = c.open.saturating_sub(1);
    }
}

struct Handshake {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for Handshake {
    fn drop(&mut self) {
        let mut c = self.gate.lock();
        c.handshakes = c.handshakes.saturating_sub(1);
        if let Some(s) = c.sources.get_mut(&self.ip) {
            s.handshakes = s.handshakes.saturating_sub(1);
        }
        Gate::tidy(&mut c, self.ip);
    }
}

/// A TLS connection that keeps its place under the caps until it closes.
pub struct Capped {
    inner: TlsStream<TcpStream>,
    _slot: Slot,
}

impl Capped {
    pub fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.inner.get_ref().0.peer_addr()
    }
}

impl tonic::transport::server::Connected for Capped {
    type ConnectInfo = <TlsStream<TcpStream> as tonic::transport::server::Connected>::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

impl AsyncRead for Capped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Capped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// How often a refusal is logged at most: a flood must not flood the log.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// Logs refused connections at most once per `REFUSAL_LOG_EVERY`, with how
/// many were refused since the last line.
struct RefusalLog {
    started: std::time::Instant,
    /// Milliseconds since `started` of the last line (0: none yet).
    last_ms: AtomicU64,
    unreported: AtomicU64,
}

impl RefusalLog {
    fn note(&self, port: &'static str, cap: Refused, peer: IpAddr) {
        self.unreported.fetch_add(1, Ordering::Relaxed);
        let now_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_ms.load(Ordering::Relaxed);
        let due = last == 0 || now_ms.saturating_sub(last) >= REFUSAL_LOG_EVERY.as_millis() as u64;
        if due
            && self
                .last_ms
                .compare_exchange(last, now_ms.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let refused = self.unreported.swap(0, Ordering::Relaxed);
            tracing::warn!(port, cap = cap.label(), %peer, refused, "connections closed at once: over a connection cap (one line per 10 s at most)");
        }
    }
}

/// The accept loop under `caps`; `refused` counts the connections closed
/// at once, by cap.
pub fn capped(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    caps: Caps,
    port: &'static str,
    refused: Family<Labels, Counter>,
) -> ReceiverStream<Result<Capped, std::io::Error>> {
    let gate = Arc::new(Gate {
        caps,
        counts: Mutex::new(Counts::default()),
    });
    let log = Arc::new(RefusalLog {
        started: std::time::Instant::now(),
        last_ms: AtomicU64::new(0),
        unreported: AtomicU64::new(0),
    });
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = tx.closed() => break,
            };
            let ip = peer.ip().to_canonical();
            let mut slot = match gate.admit(ip) {
                Ok(slot) => slot,
                Err(cap) => {
                    // Dropping the socket closes it before any TLS work.
                    drop(tcp);
                    refused
                        .get_or_create(&vec![("cap", cap.label()), ("port", port)])
                        .inc();
                    log.note(port, cap, ip);
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let (config, tx, gate) = (Arc::clone(&config), tx.clone(), Arc::clone(&gate));
            let (refused, log) = (refused.clone(), Arc::clone(&log));
            tokio::spawn(async move {
                let handshake = async {
                    let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp)
                        .await
                        .map_err(|e| Some(format!("not a TLS client hello: {e}")))?;
                    // The client's first message is in; the expensive part
                    // (keys, signatures, the client's certificate) starts here.
                    let _running = gate.handshake(ip).map_err(|cap| {
                        refused
                            .get_or_create(&vec![("cap", cap.label()), ("port", port)])
                            .inc();
                        log.note(port, cap, ip);
                        None
                    })?;
                    start
                        .into_stream(config)
                        .await
                        .map_err(|e| Some(e.to_string()))
                };
                match tokio::time::timeout(caps.handshake_timeout, handshake).await {
                    Ok(Ok(stream)) => {
                        slot.finished();
                        let _ = tx
                            .send(Ok(Capped {
                                inner: stream,
                                _slot: slot,
                            }))
                            .await;
                    }
                    // Over a handshake cap: counted and logged already.
                    Ok(Err(None)) => {}
                    Ok(Err(Some(e))) => tracing::info!(%peer, error = %e, "TLS handshake refused"),
                    Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(caps: Caps) -> Arc<Gate> {
        Arc::new(Gate {
            caps,
            counts: Mutex::new(Counts::default()),
        })
    }

    const CAPS: Caps = Caps {
        max_connections: 6,
        max_connections_per_source: 3,
        max_handshakes: 4,
        max_handshakes_per_source: 2,
        handshake_timeout: Duration::from_secs(1),
    };

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_source_is_capped_while_its_connections_are_unfinished() {
        let g = gate(CAPS);
        let mut held: Vec<Slot> = (0..3).map(|_| g.admit(ip(1)).expect("room")).collect();
        assert_eq!(g.admit(ip(1)).err(), Some(Refused::ConnectionsPerSource));
        // Another address is not affected.
        let other = g.admit(ip(2)).expect("another source");
        // A finished handshake (a desk behind the same NAT) frees its place
        // for the source, though the connection stays open.
        held[0].finished();
        let fourth = g.admit(ip(1)).expect("room again");
        assert_eq!(g.lock().open, 5);
        drop((held, other, fourth));
        let c = g.lock();
        assert_eq!(c.open, 0);
        assert!(c.sources.is_empty(), "nothing left to remember");
    }

    #[test]
    fn the_global_cap_counts_established_connections_too() {
        let g = gate(CAPS);
        let mut slots = Vec::new();
        for i in 0..6 {
            let mut s = g.admit(ip(i)).expect("room");
            s.finished();
            slots.push(s);
        }
        assert_eq!(g.admit(ip(9)).err(), Some(Refused::Connections));
        slots.pop();
        assert!(g.admit(ip(9)).is_ok());
    }

    #[test]
    fn handshakes_are_capped_in_all_and_per_source() {
        let g = gate(CAPS);
        let a: Vec<Handshake> = (0..2).map(|_| g.handshake(ip(1)).expect("room")).collect();
        assert_eq!(g.handshake(ip(1)).err(), Some(Refused::HandshakesPerSource));
        let b: Vec<Handshake> = (0..2).map(|_| g.handshake(ip(2)).expect("room")).collect();
        assert_eq!(g.handshake(ip(3)).err(), Some(Refused::Handshakes));
        drop(a);
        assert!(g.handshake(ip(1)).is_ok());
        drop(b);
        assert!(g.lock().sources.is_empty());
    }
}
