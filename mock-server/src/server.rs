//! The HTTP face of the replica: axum routes, the request middleware (faults, auth, rate
//! limits, journal, logs) and the accept loop. The `/__mock/` controls are in
//! [`crate::controls`], the callback dispatcher in [`crate::callbacks`].

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::callbacks::dispatch_callbacks;
use crate::clock::{VirtualClock, wall_ms};
use crate::config::{MockConfig, Route};
use crate::controls::{
    add_faults, advance, callbacks, calls, clear_faults, clear_journal, clock, get_faults,
    get_outcomes, health, journal, put_faults, put_outcomes, reset,
};
use crate::error::ApiError;
use crate::faults::{Before, Faults};
use crate::journal::{Journal, JournalEntry};
use crate::limiter::RateLimiter;
use crate::state::{ReplicaSettings, ReplicaState};
use crate::validate::{CallKind, parse_json};
use voicebot_api::routes;
use voicebot_api::wire::{BatchCreated, Deleted, Envelope, ErrorEnvelope};

/// Largest request body read (100 entries of 4000-character variables fit comfortably).
const MAX_BODY: usize = 4 * 1024 * 1024;
/// Callback deliveries remembered by `GET /__mock/callbacks`.
pub(crate) const MAX_DELIVERIES: usize = 1_000;

/// One callback delivery, as listed by `GET /__mock/callbacks`.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub request_id: String,
    pub url: String,
    pub attempts: u32,
    pub delivered: bool,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub time: String,
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) api_keys: Option<HashSet<String>>,
    pub(crate) callback: crate::config::CallbackConfig,
    pub(crate) replica: Mutex<ReplicaState>,
    pub(crate) clock: VirtualClock,
    pub(crate) limiter: Mutex<RateLimiter>,
    pub(crate) limiter_origin: Instant,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) journal: Mutex<Journal>,
    pub(crate) seq: AtomicU64,
    pub(crate) deliveries: Mutex<VecDeque<Delivery>>,
    pub(crate) wake: Notify,
    pub(crate) http: reqwest::Client,
    pub(crate) connections: Arc<http_guard::Connections>,
    /// How long a request's body may take to arrive (`ConnectionLimits::body_read_timeout_ms`).
    pub(crate) body_read_timeout: Duration,
    /// Requests to `/voicebot/` routes being handled now (`GET /__mock/health`).
    pub(crate) in_flight: std::sync::atomic::AtomicUsize,
    /// Only the documented endpoints are served (`MockConfig::documented_only`).
    pub(crate) documented_only: bool,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves plain data behind; keep serving.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn new(config: &MockConfig) -> anyhow::Result<Self> {
        let journal_file = match &config.journal_file {
            Some(path) => Some(
                crate::journal::open_file(path)
                    .with_context(|| format!("cannot open the journal file {}", path.display()))?,
            ),
            None => None,
        };
        let clock = VirtualClock::system(config.time_scale);
        let replica = ReplicaState::new(ReplicaSettings::from(config), clock.now_ms());
        Ok(Self {
            api_keys: (!config.api_keys.is_empty())
                .then(|| config.api_keys.iter().cloned().collect()),
            callback: config.callback,
            replica: Mutex::new(replica),
            clock,
            limiter: Mutex::new(RateLimiter::new(config.rate_limits.clone())),
            limiter_origin: Instant::now(),
            faults: Mutex::new(Faults::new(config.seed, config.faults.clone())),
            journal: Mutex::new(Journal::new(config.journal_capacity, journal_file)),
            seq: AtomicU64::new(0),
            deliveries: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_millis(config.callback.timeout_ms))
                .build()
                .context("cannot build the callback HTTP client")?,
            connections: Arc::new(http_guard::Connections::new(config.connections.guard())),
            body_read_timeout: Duration::from_millis(config.connections.body_read_timeout_ms),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            documented_only: config.documented_only,
        })
    }

    /// Checks the bearer key and the route's rate limit.
    fn admit(&self, headers: &HeaderMap, route: Option<Route>) -> Result<(), ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::new(
                401,
                "missing Authorization header; send 'Authorization: Bearer <api-key>'",
            ));
        };
        let key = value
            .to_str()
            .ok()
            .and_then(|text| text.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .filter(|key| !key.is_empty())
            .ok_or_else(|| ApiError::new(401, "Authorization must be 'Bearer <api-key>'"))?;
        if let Some(keys) = &self.api_keys
            && !keys.contains(key)
        {
            return Err(ApiError::new(401, "unknown API key"));
        }
        if let Some(route) = route {
            let mut limiter = lock(&self.limiter);
            if let Err(secs) = limiter.check(key, route, self.limiter_origin.elapsed()) {
                let limit = limiter.limit(route).unwrap_or(0);
                return Err(ApiError::new(
                    429,
                    format!(
                        "rate limit exceeded: at most {limit} requests per second on the {route} route; retry after {secs} s"
                    ),
                )
                .with_retry_after(secs));
            }
        }
        Ok(())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(ErrorEnvelope::error(self.message))).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub(crate) fn ok<T: Serialize>(message: &str, data: T) -> Response {
    axum::Json(Envelope::ok(message, data)).into_response()
}

/// Which rate-limit and fault route a request belongs to. With `documented_only`, the
/// assumed endpoints belong to none, as an unknown path: no fault or rate limit touches them.
fn classify(method: &axum::http::Method, path: &str, documented_only: bool) -> Option<Route> {
    let rest = path.strip_prefix(routes::PREFIX)?;
    match rest {
        "call" | "robocall/call" => Some(Route::Robocall),
        "convobot/call" => Some(Route::Conversation),
        _ if rest.starts_with("status/") => Some(Route::Status),
        // Of the workflow endpoints, only the create (POST) is documented.
        "workflows" if documented_only && method != axum::http::Method::POST => None,
        _ if documented_only && rest.starts_with("workflows/") => None,
        _ if rest == "workflows" || rest.starts_with("workflows/") => Some(Route::Workflows),
        _ if documented_only => None,
        _ if rest.starts_with("requests/") => Some(Route::Requests),
        _ => None,
    }
}

/// Counts a request in [`Shared::in_flight`] until dropped (answered, or its connection gone).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn count(shared: &'a Shared) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The whole body, under [`MAX_BODY`] and the body timeout; otherwise the answer (413, 408).
async fn read_body(shared: &Shared, body: Body) -> Result<Bytes, Response> {
    let timeout = shared.body_read_timeout;
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(
            ApiError::new(413, format!("the request body exceeds {MAX_BODY} bytes"))
                .into_response(),
        ),
        Err(_elapsed) => {
            let mut response = ApiError::new(
                408,
                format!(
                    "the request body did not arrive within {} ms",
                    timeout.as_millis()
                ),
            )
            .into_response();
            // The rest of the body may still come: the connection cannot serve another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(response)
        }
    }
}

/// Faults, auth, rate limit, then the handler; journals and logs every request.
async fn observe(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let time_ms = wall_ms();
    let seq = shared.seq.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let body_hint = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut entry = JournalEntry::capture(
        seq,
        time_ms,
        parts.method.clone(),
        parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path(), |pq| pq.as_str()),
        &parts.headers,
        body_hint,
    );
    let kill = parts.extensions.get::<http_guard::Kill>().cloned();
    let is_control = parts.uri.path().starts_with("/__mock/");
    let _in_flight = (!is_control).then(|| InFlight::count(&shared));
    let route = classify(&parts.method, parts.uri.path(), shared.documented_only);

    let (body, response, fault) = match read_body(&shared, body).await {
        Err(refused) => (Bytes::new(), Some(refused), None),
        Ok(body) => {
            let decision = match route {
                Some(route) if !is_control => lock(&shared.faults).decide(route, seq),
                _ => crate::faults::Decision::default(),
            };
            if let Some(latency) = decision.latency {
                tokio::time::sleep(latency).await;
            }
            let (response, fault) = match decision.before {
                Some(Before::DropConnection) => (None, Some("drop_connection")),
                Some(Before::Error(code)) => (
                    Some(
                        ApiError::new(
                            code,
                            format!("injected fault: {code} before processing; nothing was done"),
                        )
                        .into_response(),
                    ),
                    Some("error"),
                ),
                Some(Before::TooManyRequests(secs)) => (
                    Some(
                        ApiError::new(
                            429,
                            format!("rate limit exceeded (injected fault); retry after {secs} s"),
                        )
                        .with_retry_after(secs)
                        .into_response(),
                    ),
                    Some("too_many_requests"),
                ),
                None => {
                    let admitted = if is_control {
                        Ok(())
                    } else {
                        shared.admit(&parts.headers, route)
                    };
                    if let Err(error) = admitted {
                        (Some(error.into_response()), None)
                    } else {
                        let request = Request::from_parts(parts, Body::from(body.clone()));
                        let response = next.run(request).await;
                        if decision.drop_response {
                            (None, Some("drop_response"))
                        } else {
                            (Some(response), None)
                        }
                    }
                }
            };
            (body, response, fault)
        }
    };

    // `None`: the connection is closed without a response (logged as status 0).
    let status = response.as_ref().map(|r| r.status().as_u16());
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "mock_server::request",
        method = %entry.method,
        path = %entry.path(),
        status = status.unwrap_or(0),
        latency_ms = latency_us / 1000,
        fault = fault.unwrap_or("-"),
        "{} {}: {}",
        entry.method,
        entry.path(),
        Answer {
            status,
            latency_ms: latency_us / 1000,
            fault
        }
    );
    // A copy: a slice would keep hyper's whole read buffer alive for as long as the entry.
    entry.finish(&body, status, fault, latency_us);
    lock(&shared.journal).push(entry);
    match (response, kill) {
        (Some(response), _) => response,
        (None, Some(kill)) => {
            kill.now();
            // The connection task drops this future together with the connection.
            std::future::pending::<Response>().await
        }
        (None, None) => ApiError::new(
            500,
            "cannot drop a connection outside the mock's own server",
        )
        .into_response(),
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

async fn robocall(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    place(&shared, &body, CallKind::Robocall)
}

async fn conversation(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    place(&shared, &body, CallKind::Conversation)
}

fn place(shared: &Shared, body: &[u8], kind: CallKind) -> ApiResult {
    let value = parse_json(body)?;
    let now = shared.clock.now_ms();
    let (batch_id, wake) = {
        let mut replica = lock(&shared.replica);
        let before = replica.next_callback_ms();
        let batch_id = replica.place_calls(value, kind, now)?;
        (batch_id, replica.next_callback_ms() != before)
    };
    if wake {
        shared.wake.notify_one();
    }
    Ok(ok(
        "batch request created successfully",
        BatchCreated { batch_id },
    ))
}

async fn status(State(shared): State<Arc<Shared>>, Path(call_id): Path<String>) -> ApiResult {
    let now = shared.clock.now_ms();
    let status = lock(&shared.replica).call_status(&call_id, now)?;
    Ok(ok("call status found", status))
}

#[derive(Debug, Deserialize)]
struct Page {
    page: Option<u64>,
    limit: Option<u64>,
}

pub(crate) fn query<T>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::invalid(format!("invalid query string: {}", e.body_text())))
}

async fn create_workflow(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let value = parse_json(&body)?;
    let now = shared.clock.now_ms();
    let workflow = lock(&shared.replica).create_workflow(&value, now)?;
    Ok(ok("workflow created successfully", workflow))
}

async fn list_workflows(
    State(shared): State<Arc<Shared>>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let page = query(page)?;
    let list =
        lock(&shared.replica).list_workflows(page.page.unwrap_or(1), page.limit.unwrap_or(20));
    Ok(ok("workflows found", list))
}

async fn get_workflow(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let workflow = lock(&shared.replica).get_workflow(&id)?;
    Ok(ok("workflow found", workflow))
}

async fn patch_workflow(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let value = parse_json(&body)?;
    let now = shared.clock.now_ms();
    let workflow = lock(&shared.replica).patch_workflow(&id, &value, now)?;
    Ok(ok("workflow updated successfully", workflow))
}

async fn delete_workflow(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    lock(&shared.replica).delete_workflow(&id)?;
    Ok(ok("workflow deleted successfully", Deleted { id }))
}

async fn workflow_requests(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let now = shared.clock.now_ms();
    let list = lock(&shared.replica).workflow_batches(&id, now)?;
    Ok(ok("requests found", list))
}

async fn batch(State(shared): State<Arc<Shared>>, Path(batch_id): Path<String>) -> ApiResult {
    let now = shared.clock.now_ms();
    let batch = lock(&shared.replica).batch(&batch_id, now)?;
    Ok(ok("request found", batch))
}

async fn not_found(request: Request) -> ApiError {
    ApiError::not_found(format!(
        "no such endpoint: {} {}",
        request.method(),
        request.uri().path()
    ))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        405,
        format!(
            "method {} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

/// The complete router, with the observing middleware. With `documented_only`, only the
/// endpoints the documentation shows (and `/__mock/`) are routed: the assumed ones fall to
/// [`not_found`], as an unknown path does (`config::ASSUMED_ENDPOINTS` lists them).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route(routes::ROBOCALL, post(robocall))
        .route(routes::ROBOCALL_ALIAS, post(robocall))
        .route(routes::CONVERSATION, post(conversation))
        .route(routes::STATUS, get(status));
    let api = if shared.documented_only {
        // The path is routed for its documented POST; its GET answers as an unknown path
        // does (404, not the 405 of a known path with another method).
        api.route(routes::WORKFLOWS, post(create_workflow).get(not_found))
    } else {
        api.route(routes::WORKFLOWS, post(create_workflow).get(list_workflows))
            .route(
                routes::WORKFLOW,
                get(get_workflow)
                    .patch(patch_workflow)
                    .delete(delete_workflow),
            )
            .route(routes::WORKFLOW_REQUESTS, get(workflow_requests))
            .route(routes::BATCH, get(batch))
    };
    api.route("/__mock/health", get(health))
        .route("/__mock/journal", get(journal).delete(clear_journal))
        .route("/__mock/calls", get(calls))
        .route("/__mock/reset", post(reset))
        .route("/__mock/clock", get(clock))
        .route("/__mock/clock/advance", post(advance))
        .route(
            "/__mock/faults",
            get(get_faults)
                .put(put_faults)
                .post(add_faults)
                .delete(clear_faults),
        )
        .route("/__mock/outcomes", get(get_outcomes).put(put_outcomes))
        .route("/__mock/callbacks", get(callbacks))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // `observe` already read the body under MAX_BODY; axum's own 2 MB cap would answer
        // larger bodies without the envelope.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), observe))
        .with_state(shared)
}

/// How a request was answered, in a log line's words (written only when the line is shown).
struct Answer {
    status: Option<u16>,
    latency_ms: u64,
    fault: Option<&'static str>,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "{status} in {} ms", self.latency_ms)?,
            None => f.write_str("closed without an answer")?,
        }
        match self.fault {
            Some(fault) => write!(f, " (injected fault: {fault})"),
            None => Ok(()),
        }
    }
}

/// How long in-flight requests are given to finish once the mock is told to stop.
const DRAIN: Duration = Duration::from_secs(10);

async fn serve(
    listener: TcpListener,
    app: Router,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    http_guard::serve(
        listener,
        app,
        Arc::clone(&shared.connections),
        shutdown,
        DRAIN,
        |event| match event {
            http_guard::Event::Full { max_connections } => tracing::warn!(
                "closed a new connection: {max_connections} are open, each with a request in progress (--max-connections)"
            ),
            http_guard::Event::AcceptFailed(error) => {
                tracing::warn!(%error, "cannot accept a connection: {error}");
            }
        },
    )
    .await;
}

/// A mock server running in this process. Stops on `shutdown` or when dropped.
pub struct RunningMock {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RunningMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningMock")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningMock {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes connections, stops callbacks and flushes the journal file.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
        lock(&self.shared.journal).flush();
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Starts the mock on `addr` (port 0: a free port) and returns once it accepts connections.
pub async fn start(config: MockConfig, addr: SocketAddr) -> anyhow::Result<RunningMock> {
    config.validate()?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let shared = Arc::new(Shared::new(&config)?);
    let (shutdown, receiver) = watch::channel(false);
    let app = router(Arc::clone(&shared));
    let tasks = vec![
        tokio::spawn(serve(listener, app, Arc::clone(&shared), receiver.clone())),
        tokio::spawn(dispatch_callbacks(Arc::clone(&shared), receiver)),
    ];
    Ok(RunningMock {
        addr,
        shutdown,
        tasks,
        shared,
    })
}
