//! The `/__mock/` controls: health, the journal, the calls, reset, the clock, faults,
//! outcomes and the callbacks delivered. Never part of the voicebot API.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::config::{FaultRule, OutcomeMix};
use crate::error::ApiError;
use crate::server::{ApiResult, Delivery, Shared, lock, ok, query};
use crate::validate::parse_json;

pub(crate) async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let calls = lock(&shared.replica).call_count();
    let in_flight = shared.in_flight.load(std::sync::atomic::Ordering::SeqCst);
    ok(
        "mock is running",
        json!({"calls": calls, "in_flight": in_flight}),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct Since {
    since: Option<u64>,
    limit: Option<usize>,
}

pub(crate) async fn journal(
    State(shared): State<Arc<Shared>>,
    since: Result<Query<Since>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let since = query(since)?;
    let journal = lock(&shared.journal);
    let entries = journal.since(since.since.unwrap_or(0), since.limit.unwrap_or(usize::MAX));
    Ok(ok(
        "journal",
        json!({
            "capacity": journal.capacity(),
            "dropped": journal.dropped(),
            "entries": entries,
        }),
    ))
}

pub(crate) async fn clear_journal(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.journal).clear();
    ok("journal cleared", json!({}))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Offset {
    offset: Option<usize>,
    limit: Option<usize>,
}

pub(crate) async fn calls(
    State(shared): State<Arc<Shared>>,
    offset: Result<Query<Offset>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let offset = query(offset)?;
    let now = shared.clock.now_ms();
    let replica = lock(&shared.replica);
    let from = offset.offset.unwrap_or(0);
    let calls = replica.mock_calls(from, offset.limit.unwrap_or(10_000).min(100_000), now);
    Ok(ok(
        "calls",
        json!({"total": replica.call_count(), "offset": from, "calls": calls}),
    ))
}

pub(crate) async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    let now = shared.clock.now_ms();
    lock(&shared.replica).reset(now);
    lock(&shared.journal).clear();
    lock(&shared.limiter).clear();
    lock(&shared.deliveries).clear();
    shared.wake.notify_one();
    ok("mock state reset", json!({}))
}

pub(crate) fn clock_view(shared: &Shared) -> Value {
    let now = shared.clock.now_ms();
    json!({"now": rfc3339(now), "now_ms": now, "time_scale": shared.clock.scale()})
}

pub(crate) async fn clock(State(shared): State<Arc<Shared>>) -> Response {
    ok("clock", clock_view(&shared))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Advance {
    seconds: Option<f64>,
    ms: Option<u64>,
}

/// Moves the virtual clock. Every refusal is a 400 that leaves the clock as it was: a body
/// that is not `{"seconds": N}` or `{"ms": N}`, a negative, fractional-ms or non-finite
/// number, or a jump past the end of time (see [`crate::clock::MAX_MS`]).
pub(crate) async fn advance(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let value = parse_json(&body)?;
    let advance: Advance = serde_json::from_value(value).map_err(|e| {
        ApiError::malformed(format!(
            "expected {{\"seconds\": N}} or {{\"ms\": N}} (N >= 0): {e}"
        ))
    })?;
    let by_ms = match (advance.seconds, advance.ms) {
        (Some(secs), None) => seconds_to_ms(secs)?,
        (None, Some(ms)) => ms,
        _ => {
            return Err(ApiError::malformed(
                "send exactly one of seconds (a number >= 0) or ms (a whole number >= 0)",
            ));
        }
    };
    shared
        .clock
        .advance(by_ms)
        .map_err(|e| ApiError::malformed(e.to_string()))?;
    shared.wake.notify_one();
    Ok(ok("clock advanced", clock_view(&shared)))
}

/// Seconds to whole milliseconds, refusing what no clock can hold.
fn seconds_to_ms(secs: f64) -> Result<u64, ApiError> {
    let ms = (secs * 1000.0).round();
    #[expect(clippy::cast_precision_loss, reason = "a bound, compared as a float")]
    let max = crate::clock::MAX_MS as f64;
    if !(ms.is_finite() && (0.0..=max).contains(&ms)) {
        return Err(ApiError::malformed(format!(
            "seconds must be a number from 0 to {}",
            crate::clock::MAX_MS / 1000
        )));
    }
    // Checked above: a whole number from 0 to MAX_MS, which u64 holds exactly.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked non-negative and at most MAX_MS"
    )]
    let ms = ms as u64;
    Ok(ms)
}

pub(crate) fn faults_view(shared: &Shared) -> Value {
    json!({"faults": lock(&shared.faults).rules()})
}

pub(crate) async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    ok("faults", faults_view(&shared))
}

pub(crate) fn parse_rules(value: Value) -> Result<Vec<FaultRule>, ApiError> {
    let list = match value {
        Value::Object(mut map) if map.contains_key("faults") => {
            map.remove("faults").unwrap_or(Value::Null)
        }
        other => other,
    };
    let rules: Vec<FaultRule> = match list {
        Value::Array(_) => serde_json::from_value(list),
        single => serde_json::from_value(single).map(|rule| vec![rule]),
    }
    .map_err(|e| ApiError::invalid(format!("invalid fault rule: {e}")))?;
    for (index, rule) in rules.iter().enumerate() {
        rule.validate()
            .map_err(|e| ApiError::invalid(format!("faults[{index}]: {e}")))?;
    }
    Ok(rules)
}

pub(crate) async fn put_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let rules = parse_rules(parse_json(&body)?)?;
    lock(&shared.faults).set(rules);
    Ok(ok("faults replaced", faults_view(&shared)))
}

pub(crate) async fn add_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let rules = parse_rules(parse_json(&body)?)?;
    {
        let mut faults = lock(&shared.faults);
        for rule in rules {
            faults.add(rule);
        }
    }
    Ok(ok("faults added", faults_view(&shared)))
}

pub(crate) async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.faults).set(Vec::new());
    ok("faults cleared", faults_view(&shared))
}

pub(crate) async fn get_outcomes(State(shared): State<Arc<Shared>>) -> Response {
    ok("outcomes", lock(&shared.replica).outcomes())
}

pub(crate) async fn put_outcomes(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let mix: OutcomeMix = serde_json::from_value(parse_json(&body)?)
        .map_err(|e| ApiError::invalid(format!("invalid outcome mix: {e}")))?;
    mix.validate()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    lock(&shared.replica).set_outcomes(mix);
    Ok(ok("outcomes replaced", mix))
}

pub(crate) async fn callbacks(State(shared): State<Arc<Shared>>) -> Response {
    let deliveries: Vec<Delivery> = lock(&shared.deliveries).iter().cloned().collect();
    ok("callbacks", json!({"deliveries": deliveries}))
}
