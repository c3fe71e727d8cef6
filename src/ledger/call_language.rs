//! The language a call was placed in, kept with the call at write-ahead (SQLite 9,
//! Postgres 7) for the report's `by_language`: the key of the campaign's `languages:` the
//! patient was called in (`ha`, `yo`, `pcm`), never the patient's cell as written.
//!
//! `purge` keeps it: it is the campaign's grouping, as the voice is, not what the patient's
//! row said. Bounded both ways: a call is refused before it is written, and a stored value
//! refused when read, unless it is a short language tag (ASCII letters, digits and `-`, at
//! most [`MAX_CHARS`]); a refusal never quotes the value.

/// The longest language kept: BCP 47's longest well-formed tags with extensions stay
/// under it, and the campaign's keys are far shorter (`ha`, `pcm`, `en-NG`).
pub(super) const MAX_CHARS: usize = 35;

/// Why a call's language was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadLanguage {
    #[error("a call's language is {0} bytes long, more than a language tag's {MAX_CHARS}")]
    TooLong(usize),
    #[error("a call's language is not a language tag (letters, digits and `-`)")]
    NotATag,
}

/// Whether `text` is a language as the ledger keeps it.
pub(super) fn check(text: &str) -> Result<(), BadLanguage> {
    if text.len() > MAX_CHARS {
        return Err(BadLanguage::TooLong(text.len()));
    }
    let tag = !text.is_empty()
        && !text.starts_with('-')
        && !text.ends_with('-')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if tag {
        Ok(())
    } else {
        Err(BadLanguage::NotATag)
    }
}

/// Reads a stored language back; NULL reads as none (a call placed by a campaign without
/// languages, or by a build before they were kept).
pub(super) fn from_stored(text: Option<String>) -> Result<Option<String>, BadLanguage> {
    match text {
        None => Ok(None),
        Some(t) => check(&t).map(|()| Some(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_keys_are_kept_and_anything_else_refused() {
        for good in [
            "ha",
            "yo",
            "pcm",
            "en-NG",
            "zh-Hant-TW",
            &"a".repeat(MAX_CHARS),
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
            assert_eq!(
                from_stored(Some(good.to_owned())),
                Ok(Some(good.to_owned()))
            );
        }
        assert_eq!(from_stored(None), Ok(None));
        assert_eq!(
            check(&"a".repeat(MAX_CHARS + 1)),
            Err(BadLanguage::TooLong(MAX_CHARS + 1))
        );
        for bad in [
            "",
            "Hausa language",
            "ha\n",
            "-ha",
            "ha-",
            "ha_NG",
            "é",
            "ha;DROP",
            "<b>",
        ] {
            assert_eq!(check(bad), Err(BadLanguage::NotATag), "{bad:?}");
            assert!(from_stored(Some(bad.to_owned())).is_err(), "{bad:?}");
        }
        // A refusal never quotes what was stored.
        let said = check("+2348031234567 x").unwrap_err().to_string();
        assert!(!said.contains("234"), "{said}");
    }
}
