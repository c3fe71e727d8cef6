//! The campaign's values written as text, read one way for every stage: clock times,
//! schedule bounds and lengths of time.

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
    fn clocks() {
        assert_eq!(parse_clock("09:30"), Some(570));
        assert_eq!(parse_clock("24:00"), Some(1440));
        assert_eq!(parse_clock("24:30"), None);
    }
}
