//! Open connections and what each is waiting for, so that idle and half-open ones are closed
//! (idle and header-read timeouts) and no more than a cap are open at once: a few hundred
//! clients that connect and send nothing, or half a request, cannot hold the server's file
//! descriptors. The body's timeout is each server's own (it answers 408).

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// How long a connection may wait on its client, and how many may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most connections open at once. At the cap, the connection idle the longest is closed
    /// to make room; when none is idle, the new connection is closed at once.
    pub max_connections: usize,
    /// A connection that sent no byte since it opened or since its last answer is closed
    /// after this long.
    pub idle_timeout: Duration,
    /// A request's line and headers must arrive within this long of their first byte, or
    /// the connection is closed.
    pub header_read_timeout: Duration,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain data behind; keep serving.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

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
pub struct Connection {
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
    pub fn busy(self: &Arc<Self>) -> BusyGuard {
        let mut phase = lock(&self.phase);
        if !matches!(*phase, Phase::Closing) {
            *phase = Phase::Busy;
        }
        BusyGuard(Arc::clone(self))
    }

    /// When the connection is due to be closed for waiting too long, if it waits at all.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        match *lock(&self.phase) {
            Phase::Idle { since } => Some(since + limits.idle_timeout),
            Phase::Head { since } => Some(since + limits.header_read_timeout),
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
pub struct BusyGuard(Arc<Connection>);

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
pub struct Full;

/// Every open connection, under the cap.
#[derive(Debug)]
pub struct Connections {
    limits: Limits,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    next: AtomicU64,
}

impl Connections {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            open: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Registers a new connection. At the cap, the one that has waited the longest without a
    /// request in progress is told to close to make room; when every one has a request in
    /// progress, the new one is refused.
    pub fn admit(&self) -> Result<(u64, Arc<Connection>), Full> {
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

    pub fn remove(&self, id: u64) {
        lock(&self.open).remove(&id);
    }

    /// Waits until `connection` has waited too long (idle, or with half a request head);
    /// returns at once if it already has. Never returns while a request is in progress.
    pub async fn expired(&self, connection: &Connection) {
        // While a request is in progress nothing is due; look again this often.
        let recheck = self
            .limits
            .idle_timeout
            .min(self.limits.header_read_timeout);
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
pub struct Watched {
    stream: TcpStream,
    connection: Arc<Connection>,
}

impl Watched {
    pub fn new(stream: TcpStream, connection: Arc<Connection>) -> Self {
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

    fn limits(max: usize) -> Limits {
        Limits {
            max_connections: max,
            idle_timeout: Duration::from_secs(120),
            header_read_timeout: Duration::from_secs(10),
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
