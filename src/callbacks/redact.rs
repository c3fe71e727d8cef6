//! What is kept of a body: every phone number-like value masked (any run of seven or more
//! digits, with or without `+`, spaces, dots, dashes or brackets between them), the values
//! of keys named like `phone*`, and no more than [`MAX_KEPT`] bytes.
//!
//! A body that parses as JSON is masked value by value (so a number written with `\u0033`
//! escapes is masked like one written plainly), then written again; any other body is
//! masked as text.

use std::sync::LazyLock;

use serde_json::Value;

/// The most of a body that is kept, after masking.
pub const MAX_KEPT: usize = 16 * 1024;

/// What a masked value is replaced with.
const MASK: &str = "[masked]";
/// Ends a kept body that was cut at [`MAX_KEPT`].
const CUT: &str = "…[cut]";
/// The fewest digits that make a run a phone number.
const PHONE_DIGITS: usize = 7;

/// `body`, masked and bounded. `nesting_ok` says whether it was found shallow enough to parse
/// (a body nested too deeply is masked as text, never parsed).
pub fn redact(body: &[u8], nesting_ok: bool) -> String {
    let masked = match nesting_ok
        .then(|| serde_json::from_slice::<Value>(body).ok())
        .flatten()
    {
        Some(mut value) => {
            mask_value(&mut value);
            value.to_string()
        }
        None => mask_text(&String::from_utf8_lossy(body)),
    };
    bound(masked)
}

fn is_phone_key(key: &str) -> bool {
    key.get(..5)
        .is_some_and(|start| start.eq_ignore_ascii_case("phone"))
}

fn mask_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut inner) in entries {
                if is_phone_key(&key) {
                    inner = Value::String(MASK.to_owned());
                } else {
                    mask_value(&mut inner);
                }
                map.insert(mask_digits(&key), inner);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        Value::String(text) => *text = mask_digits(text),
        Value::Number(number) => {
            let digits = number
                .to_string()
                .bytes()
                .filter(u8::is_ascii_digit)
                .count();
            if digits >= PHONE_DIGITS {
                *value = Value::String(MASK.to_owned());
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Text that is not JSON: `\u003N` escapes read as the digits they are, the values of
/// `"phone…":` keys masked, then every digit run.
fn mask_text(text: &str) -> String {
    static ESCAPED_DIGIT: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\\u003([0-9])").expect("a valid pattern"));
    static PHONE_VALUE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r#"(?i)("phone[^"]{0,64}"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)"#)
            .expect("a valid pattern")
    });
    let unescaped = ESCAPED_DIGIT.replace_all(text, "$1");
    let keyed = PHONE_VALUE.replace_all(&unescaped, format!("${{1}}\"{MASK}\""));
    mask_digits(&keyed)
}

/// Every run of [`PHONE_DIGITS`] or more digits (with `+` before, and spaces, dots, dashes,
/// slashes or brackets between them) replaced by [`MASK`].
pub fn mask_digits(text: &str) -> String {
    const SEPARATORS: &[u8] = b" -.()/";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A run: digits with separators between them, ending on a digit.
        let start = if i > 0 && bytes[i - 1] == b'+' {
            i - 1
        } else {
            i
        };
        let mut end = i;
        let mut digits = 0;
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_digit() || SEPARATORS.contains(&bytes[j])) {
            if bytes[j].is_ascii_digit() {
                digits += 1;
                end = j + 1;
            }
            j += 1;
        }
        if digits >= PHONE_DIGITS {
            // Every index here is at an ASCII byte, so a char boundary.
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
        i = end.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// At most [`MAX_KEPT`] bytes, cut at a character boundary with [`CUT`] at the end.
fn bound(mut text: String) -> String {
    if text.len() <= MAX_KEPT {
        return text;
    }
    let mut at = MAX_KEPT - CUT.len();
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text.truncate(at);
    text.push_str(CUT);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digits of a number, however it was written, are never kept.
    fn holds_number(kept: &str) -> bool {
        [
            "2348031234567",
            "8031234567",
            "803 123 4567",
            "0803-123-4567",
        ]
        .iter()
        .any(|n| kept.contains(n))
    }

    #[test]
    fn phone_numbers_in_json_are_masked_wherever_they_are() {
        let body = br#"{"request_id":"b","request_calls":[{"phone_number":"+2348031234567","note":"call 0803-123-4567 or 803 123 4567","x":2348031234567,"escaped":"\u0032\u0033\u0034\u0038\u0030\u0033\u0031\u0032\u0033\u0034\u0035\u0036\u0037"}],"+2348031234567":1,"PhoneAlt":12}"#;
        let kept = redact(body, true);
        assert!(!holds_number(&kept), "{kept}");
        assert!(!kept.contains("\"PhoneAlt\":12"), "{kept}");
        assert!(kept.contains("\"request_id\":\"b\""), "{kept}");
    }

    #[test]
    fn phone_numbers_in_text_that_is_not_json_are_masked() {
        let body = br#"{"phone_number": "+234803", "other": "+234 803 123 4567", "n": \u0032\u0033\u0034\u0038\u0030\u0033\u0031\u0032, "phone": 12345"#;
        let kept = redact(body, true);
        assert!(!holds_number(&kept), "{kept}");
        assert!(!kept.contains("+234803"), "{kept}");
        assert!(!kept.contains("12345"), "{kept}");
        assert!(!kept.contains("23480312"), "{kept}");
    }

    #[test]
    fn short_numbers_and_words_are_kept() {
        assert_eq!(
            mask_digits("reply 3 after 42 s, id ab12"),
            "reply 3 after 42 s, id ab12"
        );
        assert_eq!(mask_digits("x+2348031234567y"), "x[masked]y");
    }

    #[test]
    fn a_kept_body_is_bounded() {
        let body = format!("[\"{}\"]", "é".repeat(MAX_KEPT));
        let kept = redact(body.as_bytes(), true);
        assert!(kept.len() <= MAX_KEPT);
        assert!(kept.ends_with(CUT));
    }

    #[test]
    fn bytes_that_are_not_text_are_masked_without_a_panic() {
        let kept = redact(b"\xff\xfe+2348031234567\xff", false);
        assert!(!holds_number(&kept), "{kept}");
    }
}
