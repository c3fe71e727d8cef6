//! Validation of request bodies, with messages that name the field and the entry index.
//!
//! Bodies are checked as `serde_json::Value` rather than deserialised into the wire types, so
//! that every problem gets the contract's status code and a message naming the exact field.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiError;
use voicebot_api::wire::{
    CONVERSATION_ACCENTS, GENDERS, MAX_MESSAGE_CHARS, ROBOCALL_ACCENTS, WorkflowStatus,
    WorkflowType,
};

/// Which call endpoint a body was sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Robocall,
    Conversation,
}

/// One validated entry: one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub phone_number: String,
    pub variables: BTreeMap<String, String>,
    pub tags: Option<Map<String, Value>>,
}

/// A validated call POST (before the workflow is looked up).
#[derive(Debug, Clone, PartialEq)]
pub struct CallRequest {
    pub kind: CallKind,
    pub workflow_id: String,
    pub accent: String,
    pub gender: String,
    pub entries: Vec<Entry>,
}

/// Parses a JSON body whatever its content type; 400 when it is not JSON.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::malformed(format!("malformed JSON body: {e}")))
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::invalid("the request body must be a JSON object"))
}

fn required_string(map: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Err(ApiError::invalid(format!("{field} is required"))),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        Some(_) => Err(ApiError::invalid(format!(
            "{field} must be a non-empty string"
        ))),
    }
}

fn optional_string(map: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ApiError::invalid(format!("{field} must be a string"))),
    }
}

/// A scalar as text: strings as they are, numbers and booleans printed.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A scalar as owned text, moving strings.
fn into_text(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `+` then 7 to 15 digits, the first not 0.
pub fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Checks a call POST body: structure, sizes, accent, gender and entries. Takes the body by
/// value so that entries move their strings instead of copying them.
pub fn call_request(
    body: Value,
    kind: CallKind,
    max_params: usize,
) -> Result<CallRequest, ApiError> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::invalid("the request body must be a JSON object"));
    };
    let workflow_id = required_string(&map, "workflow_id")?;
    let params = match map.remove("workflow_params") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "workflow_params is required (phone number is required for each entry)",
            ));
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::invalid("workflow_params must be an array")),
    };
    if params.is_empty() {
        return Err(ApiError::invalid(
            "workflow_params must contain at least one entry",
        ));
    }
    if params.len() > max_params {
        return Err(ApiError::new(
            413,
            format!(
                "workflow_params has {} entries; at most {max_params} are allowed per request",
                params.len()
            ),
        ));
    }
    let (accents, default_accent): (&[&str], &str) = match kind {
        CallKind::Robocall => (
            &ROBOCALL_ACCENTS,
            voicebot_api::wire::DEFAULT_ROBOCALL_ACCENT,
        ),
        CallKind::Conversation => (&CONVERSATION_ACCENTS, CONVERSATION_ACCENTS[0]),
    };
    let accent = match optional_string(&map, "tts_voice_accent")? {
        None => default_accent.to_owned(),
        Some(accent) if accents.contains(&accent.as_str()) => accent,
        Some(accent) => {
            let kind_name = match kind {
                CallKind::Robocall => "robocall",
                CallKind::Conversation => "conversation",
            };
            return Err(ApiError::invalid(format!(
                "tts_voice_accent '{accent}' is not a {kind_name} accent; expected one of: {}",
                accents.join(", ")
            )));
        }
    };
    let gender = match optional_string(&map, "tts_voice_gender")? {
        None => voicebot_api::wire::DEFAULT_GENDER.to_owned(),
        Some(gender) if GENDERS.contains(&gender.as_str()) => gender,
        Some(gender) => {
            return Err(ApiError::invalid(format!(
                "tts_voice_gender '{gender}' must be male or female"
            )));
        }
    };
    let entries = params
        .into_iter()
        .enumerate()
        .map(|(index, item)| entry(item, index, kind))
        .collect::<Result<_, _>>()?;
    Ok(CallRequest {
        kind,
        workflow_id,
        accent,
        gender,
        entries,
    })
}

fn entry(item: Value, index: usize, kind: CallKind) -> Result<Entry, ApiError> {
    // Built only for error messages.
    let at = || format!("workflow_params[{index}]");
    let Value::Object(mut map) = item else {
        return Err(ApiError::invalid(format!("{} must be an object", at())));
    };
    let phone_number = match map.remove("phone_number") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(format!(
                "{}.phone_number is required",
                at()
            )));
        }
        Some(Value::String(phone)) => phone,
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "{}.phone_number must be a string",
                at()
            )));
        }
    };
    if !is_e164(&phone_number) {
        return Err(ApiError::invalid(format!(
            "{}.phone_number '{phone_number}' is not an E.164 number (+ then 7 to 15 digits)",
            at()
        )));
    }
    let tags = match map.remove("user_tag_identifiers") {
        None | Some(Value::Null) => None,
        Some(Value::Object(tags)) => Some(tags),
        Some(_) => {
            return Err(ApiError::invalid(format!(
                "{}.user_tag_identifiers must be an object",
                at()
            )));
        }
    };
    let mut variables = BTreeMap::new();
    match kind {
        CallKind::Robocall => match map.remove("workflow_variables") {
            None | Some(Value::Null) => {}
            Some(Value::Object(vars)) => {
                for (name, value) in vars {
                    let text = into_text(value).ok_or_else(|| {
                        ApiError::invalid(format!(
                            "{}.workflow_variables.{name} must be a string",
                            at()
                        ))
                    })?;
                    variables.insert(name, text);
                }
            }
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "{}.workflow_variables must be an object",
                    at()
                )));
            }
        },
        CallKind::Conversation => {
            // `phone_number` and `user_tag_identifiers` were removed above.
            for (name, value) in map {
                let text = into_text(value).ok_or_else(|| {
                    ApiError::invalid(format!("{}.{name} must be a string", at()))
                })?;
                variables.insert(name, text);
            }
        }
    }
    Ok(Entry {
        phone_number,
        variables,
        tags,
    })
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The message's placeholders, in order, with their byte ranges: `[name]` for ROBOCALL,
/// `{{name}}` (inner spaces allowed) for CONVERSATION.
pub fn placeholders(
    message: &str,
    workflow_type: &WorkflowType,
) -> Vec<(std::ops::Range<usize>, String)> {
    let (open, close) = match workflow_type {
        WorkflowType::Conversation => ("{{", "}}"),
        _ => ("[", "]"),
    };
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = message[from..].find(open).map(|i| i + from) {
        let inner_start = start + open.len();
        let Some(end) = message[inner_start..].find(close).map(|i| i + inner_start) else {
            break;
        };
        let name = message[inner_start..end].trim();
        if is_placeholder_name(name) {
            found.push((start..end + close.len(), name.to_owned()));
            from = end + close.len();
        } else {
            from = inner_start;
        }
    }
    found
}

/// The message as a call hears it: each placeholder replaced by its value in `variables` (a
/// JSON object of strings; one with no value is left as written), cut at
/// [`MAX_MESSAGE_CHARS`] characters. The `bool` says whether it was cut.
pub fn render(message: &str, workflow_type: &WorkflowType, variables: &Value) -> (String, bool) {
    let mut out = String::with_capacity(message.len());
    let mut from = 0;
    for (range, name) in placeholders(message, workflow_type) {
        out.push_str(&message[from..range.start]);
        match variables.get(&name).and_then(Value::as_str) {
            Some(value) => out.push_str(value),
            None => out.push_str(&message[range.clone()]),
        }
        from = range.end;
        if out.len() > MAX_MESSAGE_CHARS * 4 {
            // Enough bytes for the characters kept: the rest is never looked at.
            break;
        }
    }
    if from < message.len() && out.len() <= MAX_MESSAGE_CHARS * 4 {
        out.push_str(&message[from..]);
    }
    match out.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => {
            out.truncate(cut);
            (out, true)
        }
        None => (out, false),
    }
}

/// Checks every entry's variables against the workflow message: each placeholder needs a
/// value, and the substituted message must fit in 4000 characters (robocalls).
pub fn render_check(
    message: &str,
    workflow_type: &WorkflowType,
    entries: &[Entry],
    kind: CallKind,
) -> Result<(), ApiError> {
    let holes = placeholders(message, workflow_type);
    let fixed_chars = message.chars().count()
        - holes
            .iter()
            .map(|(range, _)| message[range.clone()].chars().count())
            .sum::<usize>();
    for (index, entry) in entries.iter().enumerate() {
        let mut chars = fixed_chars;
        for (range, name) in &holes {
            let Some(value) = entry.variables.get(name) else {
                let field = match kind {
                    CallKind::Robocall => {
                        format!("workflow_params[{index}].workflow_variables.{name}")
                    }
                    CallKind::Conversation => format!("workflow_params[{index}].{name}"),
                };
                return Err(ApiError::invalid(format!(
                    "{field} is required: the workflow message uses the placeholder {}",
                    &message[range.clone()]
                )));
            };
            chars += value.chars().count();
        }
        if kind == CallKind::Robocall && chars > MAX_MESSAGE_CHARS {
            return Err(ApiError::invalid(format!(
                "workflow_params[{index}].workflow_variables: the message is {chars} characters after substitution; at most {MAX_MESSAGE_CHARS} are allowed"
            )));
        }
    }
    Ok(())
}

/// A response option's key: the keypad digit `1` to `9`.
fn is_option_key(key: &str) -> bool {
    matches!(key.as_bytes(), [b'1'..=b'9'])
}

/// The rules across a workflow's fields, checked on the workflow a create or patch makes.
pub fn workflow_consistent(
    include_reply: bool,
    options: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    if include_reply && options.is_empty() {
        return Err(ApiError::invalid(
            "include_reply is true but there are no response_options",
        ));
    }
    Ok(())
}

/// Fields of a workflow create or patch body, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkflowFields {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub workflow_type: Option<WorkflowType>,
    pub message: Option<String>,
    pub include_reply: Option<bool>,
    pub response_options: Option<BTreeMap<String, String>>,
    pub call_back_url: Option<Option<String>>,
    pub status: Option<WorkflowStatus>,
}

/// Checks a workflow body. `create` requires `name` and `message`; PATCH bodies may also set
/// `status`.
pub fn workflow_fields(body: &Value, create: bool) -> Result<WorkflowFields, ApiError> {
    let map = object(body)?;
    let mut fields = WorkflowFields::default();
    if create {
        fields.name = Some(required_string(map, "name")?);
        fields.message = Some(required_string(map, "message")?);
    } else {
        if map.contains_key("name") {
            fields.name = Some(required_string(map, "name")?);
        }
        if map.contains_key("message") {
            fields.message = Some(required_string(map, "message")?);
        }
        if let Some(status) = optional_string(map, "status")? {
            fields.status = Some(match status.as_str() {
                "ACTIVE" => WorkflowStatus::Active,
                "INACTIVE" => WorkflowStatus::Inactive,
                _ => {
                    return Err(ApiError::invalid(format!(
                        "status '{status}' must be ACTIVE or INACTIVE"
                    )));
                }
            });
        }
    }
    if let Some(message) = &fields.message
        && message.chars().count() > MAX_MESSAGE_CHARS
    {
        return Err(ApiError::invalid(format!(
            "message must be at most {MAX_MESSAGE_CHARS} characters"
        )));
    }
    if map.contains_key("description") {
        fields.description = Some(optional_string(map, "description")?);
    }
    if let Some(kind) = optional_string(map, "workflow_type")? {
        fields.workflow_type = Some(match kind.as_str() {
            "ROBOCALL" => WorkflowType::Robocall,
            "CONVERSATION" => WorkflowType::Conversation,
            _ => {
                return Err(ApiError::invalid(format!(
                    "workflow_type '{kind}' must be ROBOCALL or CONVERSATION"
                )));
            }
        });
    } else if create {
        fields.workflow_type = Some(WorkflowType::Robocall);
    }
    match map.get("include_reply") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => fields.include_reply = Some(*b),
        Some(_) => return Err(ApiError::invalid("include_reply must be true or false")),
    }
    match map.get("response_options") {
        None | Some(Value::Null) => {
            // Older docs: option_one / option_two.
            let mut options = BTreeMap::new();
            for (field, key) in [("option_one", "1"), ("option_two", "2")] {
                if let Some(text) = optional_string(map, field)? {
                    options.insert(key.to_owned(), text);
                }
            }
            if !options.is_empty() {
                fields.response_options = Some(options);
            }
        }
        Some(Value::Object(options)) => {
            let mut parsed = BTreeMap::new();
            for (key, value) in options {
                if !is_option_key(key) {
                    return Err(ApiError::invalid(
                        "response_options keys must be \"1\" to \"9\" (the key the patient presses)",
                    ));
                }
                let text = scalar_text(value).ok_or_else(|| {
                    ApiError::invalid(format!("response_options.{key} must be a string"))
                })?;
                parsed.insert(key.clone(), text);
            }
            fields.response_options = Some(parsed);
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "response_options must be an object such as {\"1\": \"Yes\", \"2\": \"No\"}",
            ));
        }
    }
    if map.contains_key("call_back_url") {
        let url = optional_string(map, "call_back_url")?.filter(|u| !u.is_empty());
        if let Some(url) = &url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            // The URL is not echoed: a callback URL ends in the receiver's token.
            return Err(ApiError::invalid(
                "call_back_url must be an http:// or https:// URL",
            ));
        }
        fields.call_back_url = Some(url);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn robocall(body: &Value) -> Result<CallRequest, ApiError> {
        call_request(body.clone(), CallKind::Robocall, 100)
    }

    #[test]
    fn seed_body_is_valid() {
        let body = json!({
            "tts_voice_accent": "igbo", "tts_voice_gender": "female",
            "workflow_id": "9b643eb4-0799-4761-bd34-9580eb315aaf",
            "workflow_params": [{"phone_number": "+2348076960623", "workflow_variables": {"name": "James"}}]
        });
        let request = robocall(&body).unwrap();
        assert_eq!(request.entries[0].variables["name"], "James");
        assert_eq!(request.accent, "igbo");
    }

    #[test]
    fn errors_name_the_field_and_index() {
        let base = |params: Value| json!({"workflow_id": "w", "workflow_params": params});
        let err = robocall(&base(json!([{"phone_number": "+2348000000001"}, {}]))).unwrap_err();
        assert_eq!(err.status, 422);
        assert_eq!(err.message, "workflow_params[1].phone_number is required");
        let err = robocall(&base(json!([{"phone_number": "0803"}]))).unwrap_err();
        assert!(
            err.message
                .starts_with("workflow_params[0].phone_number '0803'"),
            "{}",
            err.message
        );
        let err = robocall(&json!({"workflow_params": []})).unwrap_err();
        assert_eq!(err.message, "workflow_id is required");
        let many: Vec<Value> = (0..101)
            .map(|_| json!({"phone_number": "+2348000000001"}))
            .collect();
        assert_eq!(robocall(&base(Value::Array(many))).unwrap_err().status, 413);
        let mut english = base(json!([{"phone_number": "+2348000000001"}]));
        english["tts_voice_accent"] = json!("english");
        let err = robocall(&english).unwrap_err();
        assert!(err.message.starts_with("tts_voice_accent 'english'"));
        assert!(call_request(english.clone(), CallKind::Conversation, 100).is_ok());
        let mut gender = base(json!([{"phone_number": "+2348000000001"}]));
        gender["tts_voice_gender"] = json!("other");
        assert!(
            robocall(&gender)
                .unwrap_err()
                .message
                .starts_with("tts_voice_gender")
        );
    }

    #[test]
    fn all_45_accents_and_estako() {
        assert_eq!(ROBOCALL_ACCENTS.len(), 45);
        assert!(ROBOCALL_ACCENTS.contains(&"estako"));
        assert!(!ROBOCALL_ACCENTS.contains(&"english"));
    }

    #[test]
    fn placeholders_and_length() {
        let message = "Hello [name], see you [ day ] at [time].";
        let names: Vec<_> = placeholders(message, &WorkflowType::Robocall)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(names, ["name", "day", "time"]);
        let entry = |vars: &[(&str, &str)]| Entry {
            phone_number: "+2348000000001".into(),
            variables: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            tags: None,
        };
        let ok = entry(&[("name", "A"), ("day", "Monday"), ("time", "9")]);
        let missing = entry(&[("name", "A"), ("day", "Monday")]);
        let err = render_check(
            message,
            &WorkflowType::Robocall,
            &[ok.clone(), missing],
            CallKind::Robocall,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "workflow_params[1].workflow_variables.time is required: the workflow message uses the placeholder [time]"
        );
        let long = entry(&[("name", &"x".repeat(4000)), ("day", ""), ("time", "")]);
        let err = render_check(
            message,
            &WorkflowType::Robocall,
            &[long],
            CallKind::Robocall,
        )
        .unwrap_err();
        assert!(err.message.contains("at most 4000"), "{}", err.message);
        let convo = placeholders("Hi {{ name }} and {{x}}", &WorkflowType::Conversation);
        assert_eq!(convo.len(), 2);
    }

    #[test]
    fn workflow_bodies() {
        let fields = workflow_fields(
            &json!({"name": "n", "message": "m", "option_one": "Yes", "option_two": "No"}),
            true,
        )
        .unwrap();
        assert_eq!(fields.workflow_type, Some(WorkflowType::Robocall));
        assert_eq!(fields.response_options.unwrap()["2"], "No");
        let err = workflow_fields(&json!({"message": "m"}), true).unwrap_err();
        assert_eq!(err.message, "name is required");
        let err = workflow_fields(&json!({"status": "PAUSED"}), false).unwrap_err();
        assert_eq!(err.status, 422);
        assert!(
            workflow_fields(
                &json!({"name": "n", "message": "m", "call_back_url": "ftp://x"}),
                true
            )
            .is_err()
        );
    }
}
