//! Calling windows: when calls may be placed, in the campaign's (or a source's) time zone.
//! Pure functions of an instant, so they are tested at any moment, DST changes included.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan as _};

use crate::campaign::values::Clock;
use crate::campaign::{Day, Schedule, Window};

/// A schedule ready to answer "may we call now?" in one time zone.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    windows: Vec<(Vec<Weekday>, Time, Time)>,
    not_before: Option<DateTime>,
    not_after: Option<DateTime>,
}

fn weekdays(days: &[Day]) -> Vec<Weekday> {
    let mut out = Vec::new();
    for d in days {
        let add: &[Weekday] = match d {
            Day::Monday => &[Weekday::Monday],
            Day::Tuesday => &[Weekday::Tuesday],
            Day::Wednesday => &[Weekday::Wednesday],
            Day::Thursday => &[Weekday::Thursday],
            Day::Friday => &[Weekday::Friday],
            Day::Saturday => &[Weekday::Saturday],
            Day::Sunday => &[Weekday::Sunday],
            Day::Weekdays => &[
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
            Day::Weekends => &[Weekday::Saturday, Weekday::Sunday],
            Day::EveryDay => &[
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Saturday,
                Weekday::Sunday,
            ],
        };
        for w in add {
            if !out.contains(w) {
                out.push(*w);
            }
        }
    }
    out
}

fn clock(c: Clock) -> Time {
    let minutes = c.0;
    if minutes >= 24 * 60 {
        return Time::MAX;
    }
    // Below 24 * 60, so the hour is below 24 and both fit.
    let h = i8::try_from(minutes / 60).unwrap_or(23);
    let m = i8::try_from(minutes % 60).unwrap_or(59);
    Time::new(h, m, 0, 0).unwrap_or(Time::MAX)
}

impl Calendar {
    /// The calendar of a schedule in a time zone (the campaign's, or a source's override).
    /// The schedule must have passed validation.
    pub fn new(schedule: &Schedule, timezone: &str) -> Result<Self, String> {
        let tz = TimeZone::get(timezone).map_err(|e| format!("time zone `{timezone}`: {e}"))?;
        let windows = schedule
            .windows
            .iter()
            .map(|w: &Window| {
                (
                    weekdays(&w.days),
                    clock(*w.from.value()),
                    clock(*w.until.value()),
                )
            })
            .collect();
        Ok(Calendar {
            tz,
            windows,
            not_before: schedule.not_before.as_ref().map(|b| b.value().0),
            not_after: schedule.not_after.as_ref().map(|b| b.value().0),
        })
    }

    /// Whether a call may be placed at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = at.to_zoned_datetime(self.tz.clone());
        let dt = local.datetime();
        if self.not_before.is_some_and(|nb| dt < nb) || self.not_after.is_some_and(|na| dt > na) {
            return false;
        }
        let (day, time) = (dt.date().weekday(), dt.time());
        self.windows
            .iter()
            .any(|(days, from, until)| days.contains(&day) && *from <= time && time < *until)
    }

    /// When the window containing `at` closes (if `at` is inside one).
    pub fn closes_at(&self, at: Timestamp) -> Option<Timestamp> {
        if !self.is_open(at) {
            return None;
        }
        let local = at.to_zoned_datetime(self.tz.clone());
        let date = local.date();
        let time = local.time();
        let end = self
            .windows
            .iter()
            .filter(|(days, from, until)| {
                days.contains(&date.weekday()) && *from <= time && time < *until
            })
            .map(|(_, _, until)| *until)
            .max()?;
        let mut close = self.instant(date, end);
        if let Some(na) = self.not_after {
            close = close.min(self.tz.to_timestamp(na).ok()?);
        }
        Some(close)
    }

    /// The first instant at or after `from` when calls may be placed, within a year; `None`
    /// when the schedule never opens again (past `not_after`).
    pub fn next_open(&self, from: Timestamp) -> Option<Timestamp> {
        if self.is_open(from) {
            return Some(from);
        }
        // Nothing opens before `not_before`: start the search there.
        let from = match self.not_before.and_then(|nb| self.tz.to_timestamp(nb).ok()) {
            Some(nb) if nb > from => {
                if self.is_open(nb) {
                    return Some(nb);
                }
                nb
            }
            _ => from,
        };
        let start_local = from.to_zoned_datetime(self.tz.clone());
        let mut date = start_local.date();
        for _ in 0..=366 {
            let mut starts: Vec<Timestamp> = self
                .windows
                .iter()
                .filter(|(days, _, _)| days.contains(&date.weekday()))
                .map(|(_, from_t, _)| self.instant(date, *from_t))
                .collect();
            if let Some(nb) = self.not_before
                && nb.date() == date
            {
                // The day `not_before` falls on may open mid-window.
                if let Ok(t) = self.tz.to_timestamp(nb) {
                    starts.push(t);
                }
            }
            starts.sort();
            for s in starts {
                if s >= from && self.is_open(s) {
                    return Some(s);
                }
            }
            if self.not_after.is_some_and(|na| date > na.date()) {
                return None;
            }
            date = date.checked_add(1.day()).ok()?;
        }
        None
    }

    /// A local date and time as an instant. A time skipped by a DST change resolves to the
    /// instant just after the gap; a repeated time to its first occurrence (jiff's
    /// "compatible" rule).
    fn instant(&self, date: Date, time: Time) -> Timestamp {
        let dt = date.to_datetime(time);
        self.tz
            .to_ambiguous_timestamp(dt)
            .compatible()
            .unwrap_or(Timestamp::MAX)
    }

    /// The last moment a call may be placed, `not_after`, as an instant (a time skipped by a
    /// DST change resolves as [`Calendar::instant`] does).
    pub fn ends_at(&self) -> Option<Timestamp> {
        let na = self.not_after?;
        self.tz.to_ambiguous_timestamp(na).compatible().ok()
    }

    /// `at` in this calendar's zone, for messages ([`crate::clock::human`]).
    pub fn local(&self, at: Timestamp) -> String {
        crate::clock::human(at, &self.tz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::Day;

    fn schedule(tz: &str, days: Vec<Day>, from: &str, until: &str) -> Schedule {
        Schedule {
            timezone: tz.to_owned(),
            windows: vec![Window {
                days,
                from: crate::campaign::values::Written::known(from),
                until: crate::campaign::values::Written::known(until),
            }],
            not_before: None,
            not_after: None,
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn opens_and_closes_in_the_campaign_zone() {
        let s = schedule("Africa/Lagos", vec![Day::Weekdays], "09:00", "17:00");
        let c = Calendar::new(&s, "Africa/Lagos").unwrap();
        // 2026-12-03 is a Thursday; Lagos is UTC+1.
        assert!(c.is_open(ts("2026-12-03T08:00:00Z")));
        assert!(!c.is_open(ts("2026-12-03T07:59:59Z")));
        assert!(!c.is_open(ts("2026-12-03T16:00:00Z")));
        assert_eq!(
            c.closes_at(ts("2026-12-03T10:00:00Z")),
            Some(ts("2026-12-03T16:00:00Z"))
        );
        // Friday evening → Monday 09:00 local.
        assert_eq!(
            c.next_open(ts("2026-12-04T17:00:00Z")),
            Some(ts("2026-12-07T08:00:00Z"))
        );
    }

    #[test]
    fn windows_follow_dst_changes() {
        // New York springs forward on 2026-03-08 (02:00 → 03:00): a 09:00 window opens at
        // 13:00 UTC the day after, not 14:00.
        let s = schedule("America/New_York", vec![Day::EveryDay], "09:00", "17:00");
        let c = Calendar::new(&s, "America/New_York").unwrap();
        assert_eq!(
            c.next_open(ts("2026-03-07T22:30:00Z")),
            Some(ts("2026-03-08T13:00:00Z"))
        );
        assert!(c.is_open(ts("2026-03-07T14:00:00Z"))); // 09:00 EST
        assert!(!c.is_open(ts("2026-03-08T13:59:59Z")) || c.is_open(ts("2026-03-08T13:00:00Z")));
        // A window inside the skipped hour: 02:00–04:00 on the change day opens at 03:00 EDT.
        let s = schedule("America/New_York", vec![Day::Sunday], "02:00", "04:00");
        let c = Calendar::new(&s, "America/New_York").unwrap();
        assert_eq!(
            c.next_open(ts("2026-03-08T05:00:00Z")),
            Some(ts("2026-03-08T07:00:00Z"))
        );
        assert!(c.is_open(ts("2026-03-08T07:30:00Z"))); // 03:30 EDT
        assert!(!c.is_open(ts("2026-03-08T08:00:00Z"))); // 04:00 EDT
    }

    #[test]
    fn date_bounds() {
        let mut s = schedule("Africa/Lagos", vec![Day::EveryDay], "09:00", "17:00");
        s.not_before = Some(crate::campaign::values::Written::known("2026-12-10"));
        s.not_after = Some(crate::campaign::values::Written::known("2026-12-11"));
        let c = Calendar::new(&s, "Africa/Lagos").unwrap();
        assert!(!c.is_open(ts("2026-12-09T10:00:00Z")));
        assert_eq!(
            c.next_open(ts("2026-12-01T00:00:00Z")),
            Some(ts("2026-12-10T08:00:00Z"))
        );
        assert!(c.is_open(ts("2026-12-11T15:00:00Z")));
        assert_eq!(c.next_open(ts("2026-12-11T17:00:00Z")), None);
    }
}
