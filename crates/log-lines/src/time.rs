//! The one way a time is written for people.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A time for people, everywhere (summaries, status, reports, logs): in `zone`, to the
/// minute, with the weekday and the zone's abbreviation, and the year when it is not the
/// current one there (as seen at `now`): `Tue 1 Dec 09:14 WAT`, `Thu 1 Jan 2099 00:00 WAT`.
/// Machine formats (JSON) keep RFC 3339.
pub fn human_at(at: Timestamp, zone: &TimeZone, now: Timestamp) -> String {
    let local = at.to_zoned_datetime(zone.clone());
    let this_year = now.to_zoned_datetime(zone.clone()).year();
    let format = if local.year() == this_year {
        "%a %-d %b %H:%M %Z"
    } else {
        "%a %-d %b %Y %H:%M %Z"
    };
    local.strftime(format).to_string()
}

/// The time of a log line: the machine's clock in its zone. Not outreach's clock seam
/// (`OUTREACH_FAKE_NOW`): a log says when a line was written, and the seam logs its own
/// start-up.
pub(crate) fn now_for_log() -> String {
    let now = Timestamp::now();
    human_at(now, &TimeZone::system(), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_for_people_are_local_to_the_minute_with_weekday_and_zone() {
        let lagos = TimeZone::get("Africa/Lagos").unwrap();
        let now: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let at: Timestamp = "2026-12-01T08:14:59.9Z".parse().unwrap();
        assert_eq!(human_at(at, &lagos, now), "Tue 1 Dec 09:14 WAT");
        let later: Timestamp = "2099-01-01T00:00:00+01:00".parse().unwrap();
        assert_eq!(human_at(later, &lagos, now), "Thu 1 Jan 2099 00:00 WAT");
        let nairobi = TimeZone::get("Africa/Nairobi").unwrap();
        assert_eq!(human_at(at, &nairobi, now), "Tue 1 Dec 11:14 EAT");
        // The year is the zone's: 23:30 UTC on 31 December is already next year in Lagos.
        let eve: Timestamp = "2026-12-31T23:30:00Z".parse().unwrap();
        assert_eq!(human_at(eve, &lagos, now), "Fri 1 Jan 2027 00:30 WAT");
    }
}
