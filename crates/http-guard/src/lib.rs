//! The connection guard of outreach's HTTP servers, the bundled mock and the callback
//! receiver: at most N connections open (at the cap the one that has waited the longest
//! without a request in progress is closed), idle and header-read timeouts (a client that
//! sends half a request head holds nothing for long), and the accept loop that, told to
//! stop, takes no new connection and lets those open finish their request within a bound.
//!
//! Body timeouts and size limits stay each server's own: they answer with their own bodies.

mod connections;

pub use connections::{BusyGuard, Connection, Connections, Full, Limits, Watched};

use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// Put in every request's extensions: closes the request's connection without an answer
/// (the mock's dropped-connection fault).
#[derive(Debug, Clone)]
pub struct Kill(Arc<Notify>);

impl Kill {
    /// Closes the connection at once; the request's future is dropped with it.
    pub fn now(&self) {
        self.0.notify_one();
    }
}

/// What the accept loop has to say, for the server's own log.
#[derive(Debug)]
pub enum Event<'a> {
    /// A new connection was closed at once: the cap is reached and every open connection
    /// has a request in progress.
    Full { max_connections: usize },
    /// Accepting failed (out of file descriptors and the like); the loop backs off briefly.
    AcceptFailed(&'a io::Error),
}

/// Serves `app` on `listener` under `connections`' limits until `shutdown` turns true (or
/// its sender is dropped); then takes no new connection, lets each open one finish the
/// request in progress within `drain`, and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    connections: Arc<Connections>,
    mut shutdown: watch::Receiver<bool>,
    drain: Duration,
    on_event: impl Fn(Event<'_>) + Send + Sync + 'static,
) {
    let mut tasks = JoinSet::new();
    loop {
        // Finished connections' tasks, reaped so the set stays as small as what is open.
        while tasks.try_join_next().is_some() {}
        if *shutdown.borrow() {
            break;
        }
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    on_event(Event::AcceptFailed(&error));
                    // Back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Ok((id, connection)) = connections.admit() else {
            on_event(Event::Full {
                max_connections: connections.limits().max_connections,
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        tasks.spawn(serve_connection(
            stream,
            app.clone(),
            Arc::clone(&connections),
            id,
            connection,
            shutdown.clone(),
            drain,
        ));
    }
    // No new connections; those open finish what they are doing (within `drain`) and close.
    drop(listener);
    while tasks.join_next().await.is_some() {}
}

/// Serves one connection until the client closes it, it waits too long (idle, or half a
/// request head), it is evicted or killed, or the server stops (then the request in
/// progress, if any, is answered first, within `drain`).
async fn serve_connection(
    stream: TcpStream,
    app: Router,
    connections: Arc<Connections>,
    id: u64,
    connection: Arc<Connection>,
    mut shutdown: watch::Receiver<bool>,
    drain: Duration,
) {
    let kill = Arc::clone(&connection.kill);
    let handle = Kill(Arc::clone(&kill));
    let watched = Arc::clone(&connection);
    let service =
        hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(handle.clone());
            let busy = watched.busy();
            let app = app.clone();
            async move {
                let response = app
                    .oneshot(request.map(Body::new))
                    .await
                    .unwrap_or_else(|never| match never {});
                drop(busy);
                Ok::<_, Infallible>(response)
            }
        });
    let io = TokioIo::new(Watched::new(stream, Arc::clone(&connection)));
    // Our own timers cover idle connections and half-sent heads (see `connections`), so
    // hyper's header timeout, which also runs while a connection is idle, is off.
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .serve_connection(io, service);
    let mut served = std::pin::pin!(served);
    let mut drain_until = if *shutdown.borrow() {
        served.as_mut().graceful_shutdown();
        Some(tokio::time::Instant::now() + drain)
    } else {
        None
    };
    loop {
        let draining = async {
            match drain_until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = served.as_mut() => break,
            () = kill.notified() => break,
            () = connections.expired(&connection) => break,
            () = draining => break,
            _ = shutdown.changed(), if drain_until.is_none() => {
                served.as_mut().graceful_shutdown();
                drain_until = Some(tokio::time::Instant::now() + drain);
            }
        }
    }
    connections.remove(id);
}
