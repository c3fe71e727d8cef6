//! Open connections and what each is waiting for, so that idle and half-open ones are closed
//! (idle and header-read timeouts) and no more than a cap are open at once: a few hundred
//! clients that connect and send nothing, or half a request, cannot hold the mock's file
//! descriptors. The body's timeout is the request middleware's (it answers 408).

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::config::ConnectionLimits;
use crate::server::lock;

/// What a connection waits for.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// No byte since it opened or since its last answer.
    Idle { since: Instant },
    /// The first bytes of a request head arrived; the rest has not.
    Head { since: Instant },
    /// A request is being handled (its body is read under the body timeout).
    Busy,
    /// Told to close (evicted or timed out); no longer counted against the cap.
    Closing,
}

/// One open connection.
#[derive(Debug)]
pub(crate) struct Connection {
    phase: Mutex<Phase>,
    /// Closes the connection at once when notified (eviction, or a dropped-connection fault).
    pub(crate) kill: Arc<Notify>,
}

impl Connection {
    fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Idle {
                since: Instant::now(),
            }),
            kill: Arc::new(Notify::new()),
        }
    }

    /// Bytes arrived from the client.
    fn received(&self) {
        let mut phase = lock(&self.phase);
        if let Phase::Idle { .. } = *phase {
            *phase = Phase::Head {
                since: Instant::now(),
            };
        }
    }

    /// A request head is complete and handed to the handlers; the guard marks the connection
    /// idle again when the answer is ready (or the request is dropped).
    pub(crate) fn busy(self: &Arc<Self>) -> BusyGuard {
        let mut phase = lock(&self.phase);
        if !matches!(*phase, Phase::Closing) {
            *phase = Phase::Busy;
        }
        BusyGuard(Arc::clone(self))
    }

    /// When the connection is due to be closed for waiting too long, if it waits at all.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        match *lock(&self.phase) {
            Phase::Idle { since } => Some(since + Duration::from_millis(limits.idle_timeout_ms)),
            Phase::Head { since } => {
                Some(since + Duration::from_millis(limits.header_read_timeout_ms))
            }
            Phase::Busy | Phase::Closing => None,
        }
    }

    /// Since when the connection has waited without a request in progress, if it has.
    fn waiting_since(&self) -> Option<Instant> {
        match *lock(&self.phase) {
            Phase::Idle { since } | Phase::Head { since } => Some(since),
            Phase::Busy | Phase::Closing => None,
        }
    }

    fn close(&self) {
        *lock(&self.phase) = Phase::Closing;
        self.kill.notify_one();
    }

    fn is_closing(&self) -> bool {
        matches!(*lock(&self.phase), Phase::Closing)
    }
}

/// Marks its connection idle when dropped: the answer is ready.
pub(crate) struct BusyGuard(Arc<Connection>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let mut phase = lock(&self.0.phase);
        if let Phase::Busy = *phase {
            *phase = Phase::Idle {
                since: Instant::now(),
            };
        }
    }
}

/// Why a new connection was not admitted.
#[derive(Debug)]
pub(crate) struct Full;

/// Every open connection, under the cap.
#[derive(Debug)]
pub(crate) struct Connections {
    limits: ConnectionLimits,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    next: AtomicU64,
}

impl Connections {
    pub(crate) fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            open: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        }
    }

    pub(crate) fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    /// Registers a new connection. At the cap, the one that has waited the longest without a
    /// request in progress is told to close to make room; when every one has a request in
    /// progress, the new one is refused.
    pub(crate) fn admit(&self) -> Result<(u64, Arc<Connection>), Full> {
        let mut open = lock(&self.open);
        let counted = open.values().filter(|c| !c.is_closing()).count();
        if counted >= self.limits.max_connections {
            let victim = open
                .values()
                .filter_map(|c| c.waiting_since().map(|since| (since, c)))
                .min_by_key(|(since, _)| *since)
                .map(|(_, c)| Arc::clone(c));
            match victim {
                Some(victim) => victim.close(),
                None => return Err(Full),
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection::new());
        open.insert(id, Arc::clone(&connection));
        Ok((id, connection))
    }

    pub(crate) fn remove(&self, id: u64) {
        lock(&self.open).remove(&id);
    }

    /// Waits until `connection` has waited too long (idle, or with half a request head);
    /// returns at once if it already has. Never returns while a request is in progress.
    pub(crate) async fn expired(&self, connection: &Connection) {
        // While a request is in progress nothing is due; look again this often.
        let recheck = Duration::from_millis(
            self.limits
                .idle_timeout_ms
                .min(self.limits.header_read_timeout_ms),
        );
        loop {
            match connection.deadline(&self.limits) {
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => {
                    tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
                }
                None => tokio::time::sleep(recheck).await,
            }
        }
    }
}

/// A TCP stream that tells its [`Connection`] when bytes arrive.
pub(crate) struct Watched {
    stream: TcpStream,
    connection: Arc<Connection>,
}

impl Watched {
    pub(crate) fn new(stream: TcpStream, connection: Arc<Connection>) -> Self {
        Self { stream, connection }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.connection.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: max,
            ..ConnectionLimits::default()
        }
    }

    #[test]
    fn at_the_cap_the_longest_idle_makes_room() {
        let connections = Connections::new(limits(2));
        let (_, first) = connections.admit().unwrap();
        let (_, second) = connections.admit().unwrap();
        let _busy = second.busy();
        let (_, _third) = connections.admit().unwrap();
        assert!(first.is_closing(), "the idle one was evicted");
        assert!(
            !second.is_closing(),
            "a request in progress is never evicted"
        );
    }

    #[test]
    fn when_every_connection_is_busy_a_new_one_is_refused() {
        let connections = Connections::new(limits(1));
        let (id, only) = connections.admit().unwrap();
        let guard = only.busy();
        assert!(connections.admit().is_err());
        drop(guard);
        assert!(only.deadline(connections.limits()).is_some(), "idle again");
        connections.remove(id);
        assert!(connections.admit().is_ok());
    }
}
