//! The mock's settings: defaults from the contract, a YAML/JSON config file, flags on top.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use voicebot_api::wire::{Workflow, WorkflowType};

pub use voicebot_api::seed::{
    SEED_CONVERSATION_WORKFLOW, SEED_ROBOCALL_WORKFLOW, seeded_workflows,
};

/// Everything the mock can be told at start-up. `Default` is the contract's behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// Accepted API keys. Empty: any non-empty bearer key is accepted.
    pub api_keys: Vec<String>,
    /// Seed of outcomes, ids and fault draws.
    pub seed: u64,
    /// Simulated seconds per real second (0 freezes time except `/__mock/clock/advance`).
    pub time_scale: f64,
    /// Most `workflow_params` entries per request; more is a 413.
    pub max_params: usize,
    /// Requests per second per API key and route; a route absent here is not limited.
    pub rate_limits: BTreeMap<Route, u32>,
    /// Weights of the call outcomes.
    pub outcomes: OutcomeMix,
    /// Simulated durations of the call phases.
    pub timing: CallTiming,
    /// Faults active from the start.
    pub faults: Vec<FaultRule>,
    /// Workflows present at start and after `/__mock/reset`.
    pub workflows: Vec<Workflow>,
    /// Entries kept by the in-memory journal (a ring buffer).
    pub journal_capacity: usize,
    /// Append every journal entry to this file as NDJSON.
    pub journal_file: Option<PathBuf>,
    /// Callback delivery.
    pub callback: CallbackConfig,
    /// `integrator_id` of callback payloads.
    pub integrator_id: String,
    /// Timeouts and the cap that keep idle or half-open connections from exhausting the server.
    pub connections: ConnectionLimits,
    /// Serve only what the service's documentation shows: every endpoint the contract marks
    /// [ours] answers 404 as an unknown path does (see [`ASSUMED_ENDPOINTS`]), and callback
    /// payloads take the documented sample's form.
    pub documented_only: bool,
}

/// The endpoints the contract (`docs/voicebot-api.md`) marks [ours]: this project's guess at
/// paths the documentation names without showing them. With `documented_only` each answers
/// 404, exactly as an unknown path does.
pub const ASSUMED_ENDPOINTS: [(&str, &str); 6] = [
    ("GET", "/voicebot/v1/workflows"),
    ("GET", "/voicebot/v1/workflows/{id}"),
    ("PATCH", "/voicebot/v1/workflows/{id}"),
    ("DELETE", "/voicebot/v1/workflows/{id}"),
    ("GET", "/voicebot/v1/workflows/{id}/requests"),
    ("GET", "/voicebot/v1/requests/{batch_id}"),
];

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            seed: 0,
            time_scale: 60.0,
            max_params: 100,
            rate_limits: BTreeMap::from([(Route::Conversation, 5)]),
            outcomes: OutcomeMix::default(),
            timing: CallTiming::default(),
            faults: Vec::new(),
            workflows: seeded_workflows(),
            journal_capacity: 10_000,
            journal_file: None,
            callback: CallbackConfig::default(),
            integrator_id: "intron-mock-integrator".to_owned(),
            connections: ConnectionLimits::default(),
            documented_only: false,
        }
    }
}

/// Problems in a config file or flag value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid setting {field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl MockConfig {
    /// Reads a config file: JSON if the name ends in `.json`, YAML otherwise.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        let parsed: Result<Self, String> = if is_json {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            serde_saphyr::from_str(&text).map_err(|e| e.to_string())
        };
        let config = parsed.map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges that serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.time_scale.is_finite() || self.time_scale < 0.0 {
            return Err(invalid("time_scale", "must be a finite number >= 0"));
        }
        if self.max_params == 0 {
            return Err(invalid("max_params", "must be at least 1"));
        }
        if self.journal_capacity == 0 {
            return Err(invalid("journal_capacity", "must be at least 1"));
        }
        if self.api_keys.iter().any(String::is_empty) {
            return Err(invalid("api_keys", "keys must not be empty"));
        }
        if self.time_scale > MAX_TIME_SCALE {
            return Err(invalid(
                "time_scale",
                format!("must be at most {MAX_TIME_SCALE} (simulated seconds per real second)"),
            ));
        }
        self.outcomes.validate()?;
        self.timing.validate()?;
        self.callback.validate()?;
        self.connections.validate()?;
        for (index, fault) in self.faults.iter().enumerate() {
            fault
                .validate()
                .map_err(|message| invalid(format!("faults[{index}]"), message))?;
            if self.documented_only && fault.route == Some(Route::Requests) {
                return Err(invalid(
                    format!("faults[{index}].route"),
                    NOT_SERVED_WHEN_DOCUMENTED,
                ));
            }
        }
        if self.documented_only && self.rate_limits.contains_key(&Route::Requests) {
            return Err(invalid("rate_limits.requests", NOT_SERVED_WHEN_DOCUMENTED));
        }
        for (index, workflow) in self.workflows.iter().enumerate() {
            if workflow.id.is_empty() || workflow.name.is_empty() || workflow.message.is_empty() {
                return Err(invalid(
                    format!("workflows[{index}]"),
                    "id, name and message must not be empty",
                ));
            }
            if matches!(workflow.workflow_type, WorkflowType::Unknown(_)) {
                return Err(invalid(
                    format!("workflows[{index}].workflow_type"),
                    "must be ROBOCALL or CONVERSATION",
                ));
            }
        }
        Ok(())
    }
}

/// Why a setting for the `requests` route is refused with `documented_only`.
const NOT_SERVED_WHEN_DOCUMENTED: &str = "the requests route (GET /voicebot/v1/requests/{batch_id}) is an assumed endpoint, \
     not served with documented_only; remove the setting or documented_only";

/// An API route, as named in rate limits and faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `POST /voicebot/v1/call` and `POST /voicebot/v1/robocall/call`.
    Robocall,
    /// `POST /voicebot/v1/convobot/call`.
    Conversation,
    /// `GET /voicebot/v1/status/{call_id}`.
    Status,
    /// Everything under `/voicebot/v1/workflows`.
    Workflows,
    /// `GET /voicebot/v1/requests/{batch_id}`.
    Requests,
}

impl Route {
    pub const ALL: [Route; 5] = [
        Route::Robocall,
        Route::Conversation,
        Route::Status,
        Route::Workflows,
        Route::Requests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Robocall => "robocall",
            Route::Conversation => "conversation",
            Route::Status => "status",
            Route::Workflows => "workflows",
            Route::Requests => "requests",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Route::ALL
            .into_iter()
            .find(|route| route.as_str() == text)
            .ok_or_else(|| {
                format!("unknown route '{text}'; expected robocall, conversation, status, workflows or requests")
            })
    }
}

/// `--rate-limit ROUTE=N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteLimit {
    pub route: Route,
    pub per_second: u32,
}

impl FromStr for RouteLimit {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (route, limit) = text
            .split_once('=')
            .ok_or_else(|| format!("expected ROUTE=N, got '{text}'"))?;
        Ok(Self {
            route: route.trim().parse()?,
            per_second: limit
                .trim()
                .parse()
                .map_err(|_| format!("'{limit}' is not a whole number of requests per second"))?,
        })
    }
}

/// Relative weights of the final states a call can reach. In a file or a PUT, omitted
/// outcomes weigh 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeMix {
    /// `VOICE_CALL_PROCESSED` without a reply.
    #[serde(default)]
    pub answered: u32,
    /// `VOICE_CALL_PROCESSED` with a reply, when the workflow has `include_reply` and
    /// `response_options`; otherwise counted as answered.
    #[serde(default)]
    pub replied: u32,
    /// `VOICE_CALL_FAILED`.
    #[serde(default)]
    pub failed: u32,
    /// `VOICE_CALL_TIMEOUT`.
    #[serde(default, alias = "timeout")]
    pub no_answer: u32,
}

impl Default for OutcomeMix {
    fn default() -> Self {
        Self {
            answered: 60,
            replied: 20,
            failed: 10,
            no_answer: 10,
        }
    }
}

impl OutcomeMix {
    pub fn total(&self) -> u64 {
        u64::from(self.answered)
            + u64::from(self.replied)
            + u64::from(self.failed)
            + u64::from(self.no_answer)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.total() == 0 {
            return Err(invalid("outcomes", "at least one weight must be positive"));
        }
        Ok(())
    }
}

impl FromStr for OutcomeMix {
    type Err = String;
    /// `answered=60,replied=20,failed=10,no_answer=10`; omitted outcomes weigh 0.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut mix = OutcomeMix {
            answered: 0,
            replied: 0,
            failed: 0,
            no_answer: 0,
        };
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("expected OUTCOME=WEIGHT, got '{pair}'"))?;
            let weight: u32 = value
                .trim()
                .parse()
                .map_err(|_| format!("weight '{value}' is not a whole number"))?;
            match key.trim() {
                "answered" => mix.answered = weight,
                "replied" => mix.replied = weight,
                "failed" => mix.failed = weight,
                "no_answer" | "timeout" => mix.no_answer = weight,
                other => {
                    return Err(format!(
                        "unknown outcome '{other}'; expected answered, replied, failed or no_answer"
                    ));
                }
            }
        }
        if mix.total() == 0 {
            return Err("at least one weight must be positive".to_owned());
        }
        Ok(mix)
    }
}

/// Simulated durations in seconds, each an inclusive `[min, max]` range drawn per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallTiming {
    /// Time spent `VOICE_CALL_QUEUED`.
    pub queued_secs: [u32; 2],
    /// Ringing before the call is answered or fails (part of `VOICE_CALL_PROCESSING`).
    pub ringing_secs: [u32; 2],
    /// Talk time of an answered call: its `call_duration_in_seconds`.
    pub talk_secs: [u32; 2],
    /// Ringing before an unanswered call times out.
    pub no_answer_after_secs: u32,
}

impl Default for CallTiming {
    fn default() -> Self {
        Self {
            queued_secs: [1, 10],
            ringing_secs: [5, 25],
            talk_secs: [10, 90],
            no_answer_after_secs: 45,
        }
    }
}

impl CallTiming {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, [min, max]) in [
            ("timing.queued_secs", self.queued_secs),
            ("timing.ringing_secs", self.ringing_secs),
            ("timing.talk_secs", self.talk_secs),
        ] {
            if min > max {
                return Err(invalid(field, "min must not exceed max"));
            }
            if max > 86_400 {
                return Err(invalid(field, "at most one day"));
            }
        }
        if self.no_answer_after_secs > 86_400 {
            return Err(invalid("timing.no_answer_after_secs", "at most one day"));
        }
        Ok(())
    }
}

/// Callback delivery settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackConfig {
    /// Retries after a failed first attempt (non-2xx or transport error).
    pub retries: u32,
    /// Backoff before the first retry, doubled for each further retry (real milliseconds).
    pub backoff_ms: u64,
    /// Timeout of one attempt (real milliseconds).
    pub timeout_ms: u64,
}

impl Default for CallbackConfig {
    fn default() -> Self {
        Self {
            retries: 3,
            backoff_ms: 500,
            timeout_ms: 5_000,
        }
    }
}

impl CallbackConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.retries > 100 {
            return Err(invalid("callback.retries", "at most 100"));
        }
        if self.backoff_ms > MAX_WAIT_MS {
            return Err(invalid(
                "callback.backoff_ms",
                format!("at most {MAX_WAIT_MS} (ten minutes)"),
            ));
        }
        if self.timeout_ms == 0 || self.timeout_ms > MAX_WAIT_MS {
            return Err(invalid(
                "callback.timeout_ms",
                format!("from 1 to {MAX_WAIT_MS} (ten minutes)"),
            ));
        }
        Ok(())
    }
}

/// The largest time scale: a million simulated seconds (11 days) per real second.
pub const MAX_TIME_SCALE: f64 = 1_000_000.0;
/// The longest wait any setting may ask for, in milliseconds: ten minutes.
pub const MAX_WAIT_MS: u64 = 600_000;

/// How long a connection may wait on its client, and how many may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// Most connections open at once. At the cap, the connection idle the longest is closed
    /// to make room; when none is idle, the new connection is closed at once.
    pub max_connections: usize,
    /// A connection that sent no byte since it opened or since its last answer is closed
    /// after this many milliseconds.
    pub idle_timeout_ms: u64,
    /// A request's line and headers must arrive within this many milliseconds of their first
    /// byte, or the connection is closed.
    pub header_read_timeout_ms: u64,
    /// A request's body must arrive within this many milliseconds of its headers, or it is
    /// answered 408 and the connection closed.
    pub body_read_timeout_ms: u64,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            // Longer than clients keep an idle connection (reqwest: 90 s), so a client
            // closes its idle connection before the mock does and never sends on one
            // that is being closed.
            idle_timeout_ms: 120_000,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
        }
    }
}

impl ConnectionLimits {
    /// The limits the connection guard holds connections to (the body's is the mock's own).
    pub fn guard(&self) -> http_guard::Limits {
        http_guard::Limits {
            max_connections: self.max_connections,
            idle_timeout: std::time::Duration::from_millis(self.idle_timeout_ms),
            header_read_timeout: std::time::Duration::from_millis(self.header_read_timeout_ms),
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_connections == 0 || self.max_connections > 100_000 {
            return Err(invalid("connections.max_connections", "from 1 to 100000"));
        }
        for (field, ms) in [
            ("connections.idle_timeout_ms", self.idle_timeout_ms),
            (
                "connections.header_read_timeout_ms",
                self.header_read_timeout_ms,
            ),
            (
                "connections.body_read_timeout_ms",
                self.body_read_timeout_ms,
            ),
        ] {
            if ms == 0 || ms > MAX_WAIT_MS {
                return Err(invalid(
                    field,
                    format!("from 1 to {MAX_WAIT_MS} ms (ten minutes)"),
                ));
            }
        }
        Ok(())
    }
}

/// A length of time given on the command line: `500ms`, `10s`, `2m`, or a number of seconds.
/// Held in milliseconds, from 1 ms to [`MAX_WAIT_MS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout {
    pub ms: u64,
}

impl FromStr for Timeout {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (number, unit_ms) = if let Some(n) = text.strip_suffix("ms") {
            (n, 1)
        } else if let Some(n) = text.strip_suffix('s') {
            (n, 1_000)
        } else if let Some(n) = text.strip_suffix('m') {
            (n, 60_000)
        } else {
            (text, 1_000)
        };
        let ms = number
            .trim()
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_ms))
            .filter(|ms| (1..=MAX_WAIT_MS).contains(ms))
            .ok_or_else(|| {
                format!(
                    "'{text}' is not a length of time from 1ms to 10m (a whole number with ms, s or m)"
                )
            })?;
        Ok(Self { ms })
    }
}

/// Extra latency: a fixed number of milliseconds or a `[min, max]` range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Latency {
    Fixed(u64),
    Range([u64; 2]),
}

/// One fault rule. Shares are probabilities in `[0, 1]`, drawn per request from the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRule {
    /// The route it applies to; absent: every `/voicebot/` route.
    pub route: Option<Route>,
    /// Share of requests answered with one of `error_statuses`, before processing.
    pub error_rate: f64,
    /// Statuses of injected errors, picked per request.
    pub error_statuses: Vec<u16>,
    /// Extra latency added before processing.
    pub latency_ms: Option<Latency>,
    /// Share of requests whose connection is closed before processing (no response).
    pub drop_connection_rate: f64,
    /// Share of requests processed normally whose response is then dropped.
    pub drop_response_rate: f64,
    /// Share of requests answered 429, before processing.
    pub too_many_requests_rate: f64,
    /// The next N requests are answered 429, before processing.
    pub too_many_requests_burst: u32,
    /// `Retry-After` of injected 429s, in seconds.
    pub retry_after_secs: u32,
}

impl Default for FaultRule {
    fn default() -> Self {
        Self {
            route: None,
            error_rate: 0.0,
            error_statuses: vec![500, 502, 503],
            latency_ms: None,
            drop_connection_rate: 0.0,
            drop_response_rate: 0.0,
            too_many_requests_rate: 0.0,
            too_many_requests_burst: 0,
            retry_after_secs: 1,
        }
    }
}

impl FaultRule {
    pub fn validate(&self) -> Result<(), String> {
        for (field, share) in [
            ("error_rate", self.error_rate),
            ("drop_connection_rate", self.drop_connection_rate),
            ("drop_response_rate", self.drop_response_rate),
            ("too_many_requests_rate", self.too_many_requests_rate),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("{field} must be between 0 and 1, got {share}"));
            }
        }
        if self.error_statuses.is_empty() {
            return Err("error_statuses must not be empty".to_owned());
        }
        if let Some(bad) = self
            .error_statuses
            .iter()
            .find(|s| !(500..=599).contains(*s) && **s != 401)
        {
            return Err(format!(
                "error_statuses must be 5xx codes or 401 (a revoked key), got {bad}"
            ));
        }
        if let Some(Latency::Range([min, max])) = self.latency_ms
            && min > max
        {
            return Err("latency_ms range: min must not exceed max".to_owned());
        }
        if matches!(self.latency_ms, Some(Latency::Fixed(ms) | Latency::Range([_, ms])) if ms > 600_000)
        {
            return Err("latency_ms must be at most 600000".to_owned());
        }
        Ok(())
    }
}

impl FromStr for FaultRule {
    type Err = String;
    /// `[ROUTE:]key=value,...`, e.g. `robocall:error_rate=0.2,error_statuses=500/503,latency_ms=50..200`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut rule = FaultRule::default();
        let pairs = match text.split_once(':') {
            Some((route, rest)) if !route.contains('=') => {
                rule.route = Some(route.trim().parse()?);
                rest
            }
            _ => text,
        };
        let share = |value: &str| -> Result<f64, String> {
            value
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("'{value}' is not a number"))
        };
        let whole = |value: &str| -> Result<u64, String> {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("'{value}' is not a whole number"))
        };
        for pair in pairs.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got '{pair}'"))?;
            match key.trim() {
                "error_rate" => rule.error_rate = share(value)?,
                "error_statuses" => {
                    rule.error_statuses = value
                        .split('/')
                        .map(|s| whole(s).and_then(|n| u16::try_from(n).map_err(|e| e.to_string())))
                        .collect::<Result<_, _>>()?;
                }
                "latency_ms" => {
                    rule.latency_ms = Some(match value.split_once("..") {
                        Some((min, max)) => Latency::Range([whole(min)?, whole(max)?]),
                        None => Latency::Fixed(whole(value)?),
                    });
                }
                "drop_connection_rate" => rule.drop_connection_rate = share(value)?,
                "drop_response_rate" => rule.drop_response_rate = share(value)?,
                "too_many_requests_rate" => rule.too_many_requests_rate = share(value)?,
                "too_many_requests_burst" => {
                    rule.too_many_requests_burst =
                        u32::try_from(whole(value)?).map_err(|e| e.to_string())?;
                }
                "retry_after_secs" => {
                    rule.retry_after_secs =
                        u32::try_from(whole(value)?).map_err(|e| e.to_string())?;
                }
                other => return Err(format!("unknown fault setting '{other}'")),
            }
        }
        rule.validate()?;
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_spec_parses() {
        let rule: FaultRule =
            "robocall:error_rate=0.5,error_statuses=502/503,latency_ms=10..20,drop_response_rate=0.1"
                .parse()
                .unwrap();
        assert_eq!(rule.route, Some(Route::Robocall));
        assert!((rule.error_rate - 0.5).abs() < f64::EPSILON);
        assert_eq!(rule.error_statuses, vec![502, 503]);
        assert_eq!(rule.latency_ms, Some(Latency::Range([10, 20])));
        assert!("error_rate=2".parse::<FaultRule>().is_err());
        assert!("nowhere:error_rate=0.1".parse::<FaultRule>().is_err());
        let all: FaultRule = "too_many_requests_burst=3".parse().unwrap();
        assert_eq!(all.route, None);
        assert_eq!(all.too_many_requests_burst, 3);
    }

    #[test]
    fn outcome_mix_parses() {
        let mix: OutcomeMix = "answered=1,no_answer=3".parse().unwrap();
        assert_eq!(mix.total(), 4);
        assert!("answered=0".parse::<OutcomeMix>().is_err());
    }

    // Class 20: every length of time is checked before any arithmetic is done with it.
    #[test]
    fn class_20_lengths_of_time_are_bounded() {
        assert_eq!("500ms".parse::<Timeout>(), Ok(Timeout { ms: 500 }));
        assert_eq!("10s".parse::<Timeout>(), Ok(Timeout { ms: 10_000 }));
        assert_eq!("2m".parse::<Timeout>(), Ok(Timeout { ms: 120_000 }));
        assert_eq!("3".parse::<Timeout>(), Ok(Timeout { ms: 3_000 }));
        for bad in [
            "0",
            "0ms",
            "11m",
            "18446744073709551615s",
            "-1s",
            "1.5s",
            "soon",
            "",
        ] {
            assert!(bad.parse::<Timeout>().is_err(), "{bad}");
        }
        let mut config = MockConfig::default();
        config.timing.no_answer_after_secs = u32::MAX;
        assert!(config.validate().is_err());
        let mut config = MockConfig::default();
        config.callback.backoff_ms = u64::MAX;
        assert!(config.validate().is_err());
        let config = MockConfig {
            time_scale: 1e300,
            ..MockConfig::default()
        };
        assert!(config.validate().is_err());
        let mut config = MockConfig::default();
        config.connections.idle_timeout_ms = 0;
        assert!(config.validate().is_err());
        assert!(MockConfig::default().validate().is_ok());
    }

    #[test]
    fn yaml_and_json_config_files_load() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("mock.yaml");
        std::fs::write(
            &yaml,
            "seed: 7\noutcomes: {answered: 1, failed: 1}\nrate_limits: {robocall: 10}\nfaults:\n  - route: status\n    error_rate: 0.5\n    latency_ms: [1, 5]\n",
        )
        .unwrap();
        let config = MockConfig::from_file(&yaml).unwrap();
        assert_eq!(config.seed, 7);
        assert_eq!(config.outcomes.replied, 0);
        assert_eq!(config.rate_limits.get(&Route::Robocall), Some(&10));
        assert_eq!(config.faults[0].latency_ms, Some(Latency::Range([1, 5])));
        let json = dir.path().join("mock.json");
        std::fs::write(&json, r#"{"seed": 9, "time_scale": 0}"#).unwrap();
        let config = MockConfig::from_file(&json).unwrap();
        assert_eq!(config.seed, 9);
        assert_eq!(config.workflows.len(), 2);
        std::fs::write(&json, r#"{"sede": 9}"#).unwrap();
        assert!(MockConfig::from_file(&json).is_err());
        std::fs::write(&yaml, "documented_only: true\n").unwrap();
        assert!(MockConfig::from_file(&yaml).unwrap().documented_only);
        assert!(!MockConfig::default().documented_only);
    }

    #[test]
    fn documented_only_refuses_settings_for_a_route_it_does_not_serve() {
        let mut config = MockConfig {
            documented_only: true,
            ..MockConfig::default()
        };
        assert!(config.validate().is_ok());
        config.rate_limits.insert(Route::Requests, 3);
        let refused = config.validate().unwrap_err().to_string();
        assert!(refused.contains("rate_limits.requests"), "{refused}");
        config.rate_limits.remove(&Route::Requests);
        config.faults.push("requests:error_rate=1".parse().unwrap());
        let refused = config.validate().unwrap_err().to_string();
        assert!(refused.contains("faults[0].route"), "{refused}");
        config.faults = vec!["status:error_rate=1".parse().unwrap()];
        assert!(config.validate().is_ok());
    }
}
