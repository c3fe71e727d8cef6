//! The receiver's routes and each request's limits. Every request goes through one handler
//! that picks the route itself, so that a wrong token, a wrong method and an unknown path are
//! answered the same 404, byte for byte.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::callbacks::payload::{self, Refused};
use crate::callbacks::redact::redact;
use crate::callbacks::store::{CallbackStore, Rejected};
use crate::callbacks::token::Tokens;
use crate::callbacks::writer::{self, Job};
use crate::settings::callbacks::{ReceiverLimits, ReceiverSettings};

/// Where callbacks are posted: `POST /callbacks/{token}`.
const CALLBACKS: &str = "/callbacks/";
/// For the reverse proxy or the orchestrator.
const HEALTH: &str = "/healthz";
/// What a 503 asks the service to wait before sending again, in seconds.
const RETRY_AFTER_SECS: u32 = 5;

/// Everything the handler shares.
struct App {
    tokens: Tokens,
    limits: ReceiverLimits,
    jobs: mpsc::Sender<Job>,
    rejected: mpsc::Sender<Rejected>,
}

/// A receiver running in this process.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
    writer: JoinHandle<()>,
    /// To count what waits for the writer, without keeping the channel open.
    jobs: mpsc::WeakSender<Job>,
    drain: Duration,
}

impl Running {
    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Callbacks read and waiting for the writer (not yet handed to the store).
    pub fn waiting(&self) -> usize {
        self.jobs
            .upgrade()
            .map_or(0, |jobs| jobs.max_capacity() - jobs.capacity())
    }

    /// Stops accepting, lets the requests in progress finish (within the drain time), and
    /// waits for the writer to commit what they handed it (within the drain time again).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        if tokio::time::timeout(self.drain, self.writer).await.is_err() {
            tracing::warn!(
                "the ledger did not finish committing within {:?}; the service will send what was not acknowledged again",
                self.drain
            );
        }
    }
}

/// Starts the receiver on `listener` with `store` behind it.
pub fn start(
    listener: TcpListener,
    settings: &ReceiverSettings,
    store: Arc<dyn CallbackStore>,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let limits = settings.limits;
    let (jobs, jobs_received) = mpsc::channel(writer::QUEUE);
    let (rejected, rejected_received) = mpsc::channel(writer::REJECTED_QUEUE);
    let weak = jobs.downgrade();
    let writer = tokio::spawn(writer::run(
        store,
        jobs_received,
        rejected_received,
        settings.rematch_every,
        settings.unmask,
    ));
    let app = Router::new().fallback(route).with_state(Arc::new(App {
        tokens: Tokens::new(&settings.tokens),
        limits,
        jobs,
        rejected,
    }));
    let connections = Arc::new(http_guard::Connections::new(http_guard::Limits {
        max_connections: limits.max_connections,
        idle_timeout: limits.idle_timeout,
        header_read_timeout: limits.header_read_timeout,
    }));
    let (shutdown, stop) = watch::channel(false);
    let server = tokio::spawn(http_guard::serve(
        listener,
        app,
        connections,
        stop,
        limits.drain,
        |event| match event {
            http_guard::Event::Full { max_connections } => tracing::warn!(
                "closed a new connection: {max_connections} are open, each with a request in progress (--max-connections)"
            ),
            http_guard::Event::AcceptFailed(error) => {
                tracing::warn!("cannot accept a connection: {error}");
            }
        },
    ));
    Ok(Running {
        addr,
        shutdown,
        server,
        writer,
        jobs: weak,
        drain: limits.drain,
    })
}

/// A JSON answer `{"key": "text"}`.
fn answer(status: StatusCode, key: &str, text: &str) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), serde_json::Value::String(text.to_owned()));
    (status, axum::Json(serde_json::Value::Object(body))).into_response()
}

fn error(status: StatusCode, text: &str) -> Response {
    answer(status, "error", text)
}

/// The answer to anything that is not a route, a wrong or missing token included.
fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

/// The connection cannot serve another request (part of a body may still be coming).
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn route(State(app): State<Arc<App>>, request: Request) -> Response {
    let path = request.uri().path();
    let method = request.method();
    if path == HEALTH && (method == Method::GET || method == Method::HEAD) {
        return answer(StatusCode::OK, "status", "ok");
    }
    if method == Method::POST
        && let Some(token) = path.strip_prefix(CALLBACKS)
        && app.tokens.accepts(token)
    {
        let length = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        return receive(&app, length, request.into_body()).await;
    }
    not_found()
}

/// A callback with the right token: read within the limits, handed to the writer, answered
/// 200 once committed.
async fn receive(app: &App, length: Option<u64>, body: Body) -> Response {
    let limits = &app.limits;
    let deadline = Instant::now() + limits.request_timeout;
    let received_at = crate::clock::now();
    let bytes =
        match tokio::time::timeout_at(deadline, read_body(body, length, limits.max_body)).await {
            Err(_elapsed) => {
                return closing(error(
                    StatusCode::REQUEST_TIMEOUT,
                    &format!(
                        "the request did not arrive within {} s",
                        limits.request_timeout.as_secs()
                    ),
                ));
            }
            Ok(Err(Unread::TooLarge)) => {
                return closing(error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the body is larger than {} bytes", limits.max_body),
                ));
            }
            Ok(Err(Unread::Broken)) => {
                return closing(error(StatusCode::BAD_REQUEST, "the body could not be read"));
            }
            Ok(Ok(bytes)) => bytes,
        };
    let received = match payload::read(&bytes, limits.max_depth, received_at) {
        Ok(received) => received,
        Err(refused) => return refuse(app, &bytes, &refused, received_at),
    };
    let (answer_to, answered) = oneshot::channel();
    let job = Job {
        received,
        answer: answer_to,
    };
    let committed = tokio::time::timeout_at(deadline, async {
        app.jobs.send(job).await.ok()?;
        answered.await.ok()
    })
    .await;
    match committed {
        Ok(Some(Ok(_))) => answer(StatusCode::OK, "status", "ok"),
        Ok(Some(Err(_)) | None) => unavailable("the callback could not be recorded now"),
        Err(_elapsed) => unavailable("the callback was not recorded in time"),
    }
}

/// 503: not committed; the service sends it again.
fn unavailable(why: &str) -> Response {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("{why}; send it again later"),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// 400 for a body that is not a callback; kept, redacted, if the writer has room.
fn refuse(app: &App, bytes: &[u8], refused: &Refused, received_at: jiff::Timestamp) -> Response {
    let reason = refused.to_string();
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    tracing::warn!(
        bytes = size,
        "refused a callback body of {size} bytes: {reason}; answered 400"
    );
    let kept = Rejected {
        received_at,
        reason: reason.clone(),
        redacted_body: redact(bytes, !matches!(refused, Refused::TooDeep(_))),
        bytes: size,
    };
    if app.rejected.try_send(kept).is_err() {
        tracing::warn!("the refused body was not kept: too many are waiting to be kept");
    }
    error(StatusCode::BAD_REQUEST, &reason)
}

/// Why a body was not read whole.
enum Unread {
    TooLarge,
    /// The client broke off or sent a malformed body.
    Broken,
}

/// The whole body, if it is at most `max` bytes (a larger `Content-Length` is refused before
/// a byte of it is read).
async fn read_body(mut body: Body, length: Option<u64>, max: usize) -> Result<Vec<u8>, Unread> {
    let length = length.unwrap_or(0);
    if length > u64::try_from(max).unwrap_or(u64::MAX) {
        return Err(Unread::TooLarge);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0).min(max));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Unread::Broken)?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > max {
                return Err(Unread::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}
