//! When a plan's calls can go: the calling windows, the next one to open, the last moment
//! `not_after` allows, whether the schedule is over, and how many calls one run places
//! (`delivery.max_calls`). Worked out at one instant, so that it is tested at any moment.

use jiff::Timestamp;
use serde::Serialize;

use crate::campaign::Campaign;
use crate::campaign::windows::Calendar;

/// When the calls of a plan made at `now` can go, in the campaign's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// The campaign's time zone (a source may have its own: its calls follow it).
    pub timezone: String,
    /// The calling windows, as written (`weekdays 09:00–17:00`).
    pub windows: Vec<String>,
    /// Inside a window now: when it closes.
    pub open_until: Option<Timestamp>,
    /// The next time a window opens (now, when one is open); `None` when the schedule is
    /// over.
    pub next_opens: Option<Timestamp>,
    /// The last moment a call may be placed (`not_after`), if the campaign has one.
    pub last_call: Option<Timestamp>,
    /// `not_after` as written.
    pub not_after: Option<String>,
    /// No window opens again, in any of the plan's time zones: past `not_after`.
    pub over: bool,
    /// `delivery.max_calls`.
    pub max_calls: Option<u64>,
}

impl Timing {
    /// The timing of `campaign` at `now`.
    pub fn at(campaign: &Campaign, now: Timestamp) -> Timing {
        let schedule = &campaign.schedule;
        let calendar = Calendar::new(schedule, &schedule.timezone).ok();
        // Every zone the plan's calls are placed in: the schedule is over only when it is
        // over in each of them.
        let zones = std::iter::once(schedule.timezone.as_str()).chain(
            campaign
                .patients
                .iter()
                .filter_map(|p| p.timezone.as_deref()),
        );
        let over = zones
            .filter_map(|z| Calendar::new(schedule, z).ok())
            .all(|c| c.next_open(now).is_none());
        Timing {
            timezone: schedule.timezone.clone(),
            windows: schedule
                .windows
                .iter()
                .map(crate::plan::settings::window)
                .collect(),
            open_until: calendar.as_ref().and_then(|c| c.closes_at(now)),
            next_opens: calendar.as_ref().and_then(|c| c.next_open(now)),
            last_call: calendar.as_ref().and_then(Calendar::ends_at),
            not_after: schedule.not_after.as_ref().map(|n| n.text().to_owned()),
            over,
            max_calls: campaign.delivery.max_calls,
        }
    }

    /// How many of `calls` one run places: all of them, or `max_calls`.
    pub fn in_one_run(&self, calls: u64) -> u64 {
        self.max_calls.map_or(calls, |m| m.min(calls))
    }

    /// `at` for people, in the campaign's zone.
    pub fn human(&self, at: Timestamp) -> String {
        let zone = jiff::tz::TimeZone::get(&self.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        crate::clock::human(at, &zone)
    }

    /// The sentence that says the schedule is over, when it is.
    pub fn over_sentence(&self) -> Option<String> {
        if !self.over {
            return None;
        }
        let when = match (&self.not_after, self.last_call) {
            (Some(text), Some(at)) => format!("not_after {text} ({}) has passed", self.human(at)),
            _ => "no calling window opens again".to_owned(),
        };
        Some(format!(
            "the campaign's schedule is over: {when}, so a live run places none of these calls; change schedule.not_after (and round, to call everyone again) to run it"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Campaign {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("campaigns/measles-reminder.yaml");
        crate::validate::check_file(&path).campaign.unwrap()
    }

    #[test]
    fn the_next_window_the_last_call_and_the_end() {
        let c = example();
        // Tuesday 1 December 2026, 08:00 in Lagos: the weekday window opens at 09:00.
        let t = Timing::at(&c, "2026-12-01T07:00:00Z".parse().unwrap());
        assert!(!t.over);
        assert_eq!(t.open_until, None);
        assert_eq!(t.next_opens, Some("2026-12-01T08:00:00Z".parse().unwrap()));
        assert_eq!(
            t.last_call,
            Some("2026-12-20T22:59:59.999999999Z".parse().unwrap())
        );
        assert_eq!(t.windows, ["weekdays 09:00–17:00", "saturday 10:00–13:00"]);
        assert_eq!(t.in_one_run(9386), 5000);
        assert_eq!(t.in_one_run(6), 6);
        // At 10:00 the window is open until 17:00.
        let t = Timing::at(&c, "2026-12-01T09:00:00Z".parse().unwrap());
        assert_eq!(t.open_until, Some("2026-12-01T16:00:00Z".parse().unwrap()));
        assert_eq!(t.next_opens, Some("2026-12-01T09:00:00Z".parse().unwrap()));
        // After not_after: over.
        let t = Timing::at(&c, "2026-12-21T09:00:00Z".parse().unwrap());
        assert!(t.over);
        assert_eq!(t.next_opens, None);
        let said = t.over_sentence().unwrap();
        assert!(said.contains("not_after 2026-12-20 ("), "{said}");
    }
}
