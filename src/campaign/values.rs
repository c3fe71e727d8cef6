//! The campaign's values written as text, read one way for every stage: clock times,
//! schedule bounds and lengths of time. The model holds them as [`Written`] values, parsed
//! once when the campaign is read: a campaign whose `retry.delay` is not a length of time
//! does not exist, so no stage parses it again or reads "no bound" for a date it cannot read.

use std::fmt;
use std::marker::PhantomData;

use jiff::SignedDuration;
use jiff::civil::DateTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A kind of value the campaign writes as text.
pub trait Textual: Sized {
    /// What the text should be, for the error: `a length of time such as 2h`.
    const EXPECTED: &'static str;
    fn parse(text: &str) -> Option<Self>;
}

/// A value as the campaign wrote it (`"2h"`, `"09:00"`, `"2026-12-01"`) and as the stages
/// read it. Written back (to a saved plan, in messages) as the text it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written<T> {
    text: String,
    value: T,
}

impl<T: Textual> Written<T> {
    /// `text`, when it is a `T`.
    pub fn new(text: &str) -> Option<Self> {
        T::parse(text).map(|value| Written {
            text: text.to_owned(),
            value,
        })
    }

    /// A value the code itself writes (a default): a bad one is a bug.
    pub(crate) fn known(text: &str) -> Self {
        Self::new(text).unwrap_or_else(|| panic!("`{text}` is not {}", T::EXPECTED))
    }
}

impl<T> Written<T> {
    pub fn value(&self) -> &T {
        &self.value
    }
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<T> fmt::Display for Written<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<T> Serialize for Written<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de, T: Textual> Deserialize<'de> for Written<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(PhantomData<T>);
        impl<T: Textual> serde::de::Visitor<'_> for Visit<T> {
            type Value = Written<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                // The value is not echoed: the error names what was expected.
                Written::new(s).ok_or_else(|| E::custom(format!("expected {}", T::EXPECTED)))
            }
        }
        d.deserialize_str(Visit(PhantomData))
    }
}

/// A length of time (`30m`, `2h`, `1d`, `1h 30m`), positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Length(pub SignedDuration);

impl Textual for Length {
    const EXPECTED: &'static str = "a length of time such as 30m, 2h or 1d";
    fn parse(text: &str) -> Option<Self> {
        parse_duration(text).map(Length)
    }
}

/// A time of day, `HH:MM` on a 24-hour clock (`24:00` is the end of the day), as minutes
/// since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Clock(pub u32);

impl Textual for Clock {
    const EXPECTED: &'static str = "a time of day such as 09:00";
    fn parse(text: &str) -> Option<Self> {
        (text.len() == 5).then_some(())?;
        parse_clock(text).map(Clock)
    }
}

/// `not_before`: a date (from its first moment) or a local date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Start(pub DateTime);

impl Textual for Start {
    const EXPECTED: &'static str =
        "a date such as 2026-12-01, or a date and local time such as 2026-12-01T09:00";
    fn parse(text: &str) -> Option<Self> {
        parse_bound(text, false).map(Start)
    }
}

/// `not_after`: a date (to its last moment) or a local date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct End(pub DateTime);

impl Textual for End {
    const EXPECTED: &'static str = Start::EXPECTED;
    fn parse(text: &str) -> Option<Self> {
        parse_bound(text, true).map(End)
    }
}

/// `HH:MM` → minutes since midnight (24:00 allowed as the end of the day).
pub fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

/// A schedule bound: a date (start or end of day) or a local date-time.
pub fn parse_bound(s: &str, end_of_day: bool) -> Option<jiff::civil::DateTime> {
    if let Ok(d) = s.parse::<jiff::civil::Date>()
        && s.len() == 10
    {
        return Some(if end_of_day {
            d.to_datetime(jiff::civil::Time::MAX)
        } else {
            d.to_datetime(jiff::civil::Time::MIN)
        });
    }
    s.parse::<jiff::civil::DateTime>().ok()
}

/// A length of time such as `30m`, `2h`, `1d` or `1h 30m`.
pub fn parse_duration(s: &str) -> Option<jiff::SignedDuration> {
    let span: jiff::Span = s.trim().parse().ok()?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .ok()?;
    (d.is_positive()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("2h"),
            Some(jiff::SignedDuration::from_hours(2))
        );
        assert_eq!(
            parse_duration("1d"),
            Some(jiff::SignedDuration::from_hours(24))
        );
        assert_eq!(
            parse_duration("30m"),
            Some(jiff::SignedDuration::from_mins(30))
        );
        assert!(parse_duration("soon").is_none());
        assert!(parse_duration("0s").is_none());
    }

    #[test]
    fn written_values_keep_their_text_and_refuse_what_they_are_not() {
        let d: Written<Length> = serde_json::from_value(serde_json::json!("1h 30m")).unwrap();
        assert_eq!(d.value().0, jiff::SignedDuration::from_mins(90));
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!("1h 30m")
        );
        let bad = serde_json::from_value::<Written<Length>>(serde_json::json!("+2348031234567"))
            .unwrap_err()
            .to_string();
        assert!(
            bad.contains("a length of time") && !bad.contains("2348031234567"),
            "{bad}"
        );
        assert!(Written::<Clock>::new("24:30").is_none());
        assert!(
            Written::<Clock>::new("9:00").is_none(),
            "HH:MM, as the schema says"
        );
        assert_eq!(Written::<Clock>::new("24:00").unwrap().value().0, 1440);
        let end = Written::<End>::new("2026-12-20").unwrap();
        let start = Written::<Start>::new("2026-12-20").unwrap();
        assert!(
            start.value().0 < end.value().0,
            "a date ends at its last moment"
        );
        assert!(Written::<Start>::new("15/1/27").is_none());
    }

    #[test]
    fn clocks() {
        assert_eq!(parse_clock("09:30"), Some(570));
        assert_eq!(parse_clock("24:00"), Some(1440));
        assert_eq!(parse_clock("24:30"), None);
    }
}
