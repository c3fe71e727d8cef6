//! A callback's body read into a [`Received`]: its nesting checked before any parser sees it,
//! then parsed into the wire's `CallbackPayload`; what is wrong said in words that quote
//! nothing of the body (serde's own messages can hold a value, a phone number among them).

use std::time::Duration;

use voicebot_api::wire::{CallStatus, CallbackPayload};

use crate::callbacks::redact::redact;
use crate::callbacks::store::{Received, ReceivedCall};

/// Why a body is not a callback the receiver can record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the body nests deeper than {0} levels of JSON arrays and objects")]
    TooDeep(usize),
    #[error("the body is not JSON ({0})")]
    NotJson(String),
    #[error("the body is JSON but not a completion callback: {0}")]
    Shape(String),
}

/// Whether `body` nests no deeper than `max` arrays and objects, counted on its bytes (so a
/// body a million brackets deep costs one pass and no recursion).
pub fn nesting_within(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Reads a callback's body: nesting, then JSON, then shape.
pub fn read(
    body: &[u8],
    max_depth: usize,
    received_at: jiff::Timestamp,
) -> Result<Received, Refused> {
    if !nesting_within(body, max_depth) {
        return Err(Refused::TooDeep(max_depth));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let payload: CallbackPayload =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| refusal(&e))?;
    deserializer
        .end()
        .map_err(|e| Refused::NotJson(format!("line {}, column {}", e.line(), e.column())))?;
    if payload.request_id.trim().is_empty() {
        return Err(Refused::Shape("`request_id` is empty".to_owned()));
    }
    Ok(Received {
        received_at,
        stats_json: serde_json::to_string(&payload.stats)
            .map_err(|_| Refused::Shape("`stats` cannot be written again".to_owned()))?,
        calls: (!payload.request_calls.is_empty())
            .then(|| payload.request_calls.iter().map(call).collect()),
        batch_id: payload.request_id,
        redacted_body: redact(body, true),
    })
}

/// The words of a parse error: where, and what kind, never a value. Paths hold only the
/// payload's own field names and indices (unknown keys are ignored, never parsed).
fn refusal(error: &serde_path_to_error::Error<serde_json::Error>) -> Refused {
    let inner = error.inner();
    let at = format!("line {}, column {}", inner.line(), inner.column());
    match inner.classify() {
        serde_json::error::Category::Io
        | serde_json::error::Category::Syntax
        | serde_json::error::Category::Eof => Refused::NotJson(at),
        serde_json::error::Category::Data => {
            let path = error.path().to_string();
            // serde's "missing field `x`" names one of the payload's own fields.
            let message = inner.to_string();
            if let Some(field) = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                let whole = if path == "." {
                    field.to_owned()
                } else {
                    format!("{path}.{field}")
                };
                Refused::Shape(format!("`{whole}` is missing ({at})"))
            } else if path == "." {
                Refused::Shape(format!(
                    "it is not a JSON object with the callback's fields ({at})"
                ))
            } else {
                Refused::Shape(format!("`{path}` has the wrong type ({at})"))
            }
        }
    }
}

fn call(status: &CallStatus) -> ReceivedCall {
    ReceivedCall {
        key: status
            .user_tag_identifiers
            .as_ref()
            .and_then(|tags| tags.get(crate::plan::KEY_TAG))
            .and_then(|key| key.as_str())
            .map(ToOwned::to_owned),
        phone: status.phone_number.clone(),
        call_id: Some(status.call_id.clone()).filter(|id| !id.is_empty()),
        state: crate::apply::call_outcome(&status.processing_status),
        reply: status.reply.clone(),
        duration: status.call_duration_in_seconds.map(Duration::from_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::CallState;

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::UNIX_EPOCH
    }

    #[test]
    fn a_documented_callback_reads_with_its_calls() {
        let body = br#"{"request_id":"b-1","status":"COMPLETED","integrator_id":"i",
            "stats":{"total_calls":2,"completed_calls":1,"timeout_calls":1,"replied_calls":1,
                     "response_options_counts":1,"avg_duration":12.5,"success_rate":50.0},
            "request_calls":[
              {"call_id":"c1","phone_number":"+2348031234567","processing_status":"VOICE_CALL_PROCESSED",
               "call_duration_in_seconds":12,"reply":"1","user_tag_identifiers":{"outreach_key":"k1"}},
              {"call_id":"c2","phone_number":"+2348031234568","processing_status":"VOICE_CALL_TIMEOUT"}]}"#;
        let received = read(body, 64, now()).unwrap();
        assert_eq!(received.batch_id, "b-1");
        let calls = received.calls.unwrap();
        assert_eq!(calls[0].key.as_deref(), Some("k1"));
        assert_eq!(calls[0].state, Some(CallState::Answered));
        assert_eq!(calls[0].duration, Some(Duration::from_secs(12)));
        assert_eq!(calls[1].key, None);
        assert_eq!(calls[1].state, Some(CallState::NoAnswer));
        assert!(!received.redacted_body.contains("8031234567"));
        assert!(!received.stats_json.contains("8031234567"));
    }

    #[test]
    fn per_option_counts_read_as_the_mock_sends_them() {
        let body = br#"{"request_id":"b","status":"COMPLETED",
            "stats":{"total_calls":1,"replied_calls":1,"response_options_counts":{"1":1}}}"#;
        let received = read(body, 64, now()).unwrap();
        let stats: serde_json::Value = serde_json::from_str(&received.stats_json).unwrap();
        assert_eq!(
            stats["response_options_counts"],
            serde_json::json!({"1": 1})
        );
    }

    // One item without a call id (the field is in every [doc] sample, but nothing says it is
    // always sent) refused the whole callback, and with it the outcomes of every other call.
    #[test]
    fn an_item_without_a_call_id_is_read_with_the_others() {
        let body = br#"{"request_id":"b","status":"COMPLETED","request_calls":[
            {"call_id":"c1","phone_number":"+2348031234567","processing_status":"VOICE_CALL_PROCESSED"},
            {"phone_number":"+2348031234568","processing_status":"VOICE_CALL_TIMEOUT"}]}"#;
        let calls = read(body, 64, now()).unwrap().calls.unwrap();
        assert_eq!(calls[0].call_id.as_deref(), Some("c1"));
        assert_eq!(calls[1].call_id, None);
        assert_eq!(calls[1].phone.as_deref(), Some("+2348031234568"));
        assert_eq!(calls[1].state, Some(CallState::NoAnswer));
    }

    #[test]
    fn a_callback_without_calls_has_none() {
        let received = read(br#"{"request_id":"b","status":"COMPLETED"}"#, 64, now()).unwrap();
        assert_eq!(received.calls, None);
    }

    #[test]
    fn refusals_quote_nothing_of_the_body() {
        for body in [
            &br#"{"request_id": "+2348031234567", "status": 2348031234567}"#[..],
            br#"{"request_id": "b", "status": "x", "request_calls": [{"call_id": "+2348031234567"}]}"#,
            br#"{"request_id": "b", "status": "x", "request_calls": [{"phone_number": "+2348031234567"}]}"#,
            br#"{"request_id": +2348031234567"#,
            br#"["+2348031234567"]"#,
            br#"{"request_id":"b","status":"x"} +2348031234567"#,
        ] {
            let refused = read(body, 64, now()).unwrap_err();
            assert!(
                !refused.to_string().contains("8031234567"),
                "{refused}"
            );
        }
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(nesting_within(br#"{"a":"[[[[[[[["}"#, 2));
        assert!(!nesting_within(b"[[[", 2));
        assert!(nesting_within(br#"{"a":"\"[[[["}"#, 1));
        let deep = "[".repeat(1_000_000);
        assert_eq!(read(deep.as_bytes(), 64, now()), Err(Refused::TooDeep(64)));
    }
}
