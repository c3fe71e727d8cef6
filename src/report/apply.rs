//! The summary of `outreach apply`, as text or JSON. The text's first line says in words what
//! happened (`done: 6 calls placed, 4 answered, …`, `nothing sent: outside the calling window
//! until Tue 1 Dec 09:00 WAT`, `stopped: the API key was refused; …`); each line under it is
//! a count that is true of the run, shown when it is not zero.

use std::io::{self, Write};

use jiff::tz::TimeZone;

use crate::apply::{ApplySummary, RunCounts, RunStatus, Stopped};
use crate::clock;
use crate::report::words::plural;

/// Writes a run's summary.
pub fn write(s: &ApplySummary, json: bool, out: &mut dyn Write) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, s)?;
        return writeln!(out);
    }
    let where_ = if s.target == "mock" {
        "the bundled mock server"
    } else {
        s.base.as_str()
    };
    writeln!(out, "{} on {where_}: {}", s.campaign, headline(s))?;
    for (label, value) in rows(s) {
        writeln!(out, "  {label:<34} {value:>8}")?;
    }
    if let Some(retries) = retries(s) {
        writeln!(out, "  {retries}")?;
    }
    writeln!(out, "Ledger: {}", s.ledger)
}

/// What happened, in words: how the run ended, and what it placed.
pub fn headline(s: &ApplySummary) -> String {
    let n = &s.counts;
    let zone = zone(&s.timezone);
    let so_far = || {
        if went_nowhere(n) {
            "nothing was sent".to_owned()
        } else {
            placed(s)
        }
    };
    // Stopped before the calls it had to send: why, then what it placed before.
    let held_back = |why: String| {
        if went_nowhere(n) {
            format!("nothing sent: {why}")
        } else {
            format!("stopped: {why}; {}", placed(s))
        }
    };
    match &s.stopped {
        Some(Stopped::NotConfirmed { .. }) => "not confirmed: nothing was sent".to_owned(),
        Some(Stopped::KeyRefused { .. }) => {
            format!("stopped: the API key was refused; {}", so_far())
        }
        Some(Stopped::Error { .. }) => format!("stopped on an error; {}", so_far()),
        Some(Stopped::Interrupted {
            signal: Some(signal),
        }) => format!("interrupted ({signal}); {}", so_far()),
        Some(Stopped::Interrupted { signal: None }) => format!("interrupted; {}", so_far()),
        Some(Stopped::LeaseLost) => format!(
            "stopped: this runner's lease ran out (it stalled for longer than --lease), and the other runners take its calls over; {}",
            so_far()
        ),
        Some(Stopped::OutsideWindow { opens, timezone }) => held_back(format!(
            "outside the calling window until {}",
            clock::human(*opens, &self::zone(timezone))
        )),
        Some(Stopped::ScheduleOver) => {
            held_back("the calling schedule is over (past not_after)".to_owned())
        }
        Some(Stopped::Paused { since }) => held_back(format!(
            "the campaign is paused (since {}; `outreach resume` lets it go on)",
            clock::human(*since, &zone)
        )),
        None => finished(s),
    }
}

/// The headline of a run that got through its due calls.
fn finished(s: &ApplySummary) -> String {
    let n = &s.counts;
    let held = held(n);
    if !went_nowhere(n) {
        let and_held = if held.is_empty() {
            String::new()
        } else {
            format!("; {}", held.join(", "))
        };
        return match (s.dry_run, s.status) {
            (true, _) => format!("dry run: {}; nothing was sent{and_held}", placed(s)),
            (false, RunStatus::Problems) => {
                format!("done, with problems: {}{and_held}", placed(s))
            }
            (false, _) => format!("done: {}{and_held}", placed(s)),
        };
    }
    if n.planned == 0 {
        return "nothing to send: the plan has no calls".to_owned();
    }
    if n.due == 0 && held.is_empty() {
        return if n.retry_later > 0 {
            "nothing due now: the next retries come due later".to_owned()
        } else if n.already_done >= n.planned {
            "nothing to send: earlier runs placed or settled every call of the plan".to_owned()
        } else {
            "nothing to send now".to_owned()
        };
    }
    if held.is_empty() {
        "nothing sent".to_owned()
    } else {
        format!("nothing sent: {}", held.join(", "))
    }
}

/// The due calls not sent for a reason of their own: `2 calls held by the frequency cap`.
fn held(n: &RunCounts) -> Vec<String> {
    [
        (n.capped, "left for a later run (max_calls)"),
        (n.capped_by_frequency, "held by the frequency cap"),
        (n.opted_out_since_plan, "opted out since the plan"),
        (n.taken_elsewhere, "taken by another runner"),
    ]
    .into_iter()
    .filter(|(v, _)| *v > 0)
    .map(|(v, what)| format!("{} {what}", plural(v, "call")))
    .collect()
}

/// Nothing went to the server, nor through a dry run.
fn went_nowhere(n: &RunCounts) -> bool {
    n.sent == 0 && n.would_send == 0
}

/// What the calls sent became: `6 calls placed, 4 answered, 1 not answered, 1 failed`.
fn placed(s: &ApplySummary) -> String {
    let n = &s.counts;
    if s.dry_run {
        return format!("{} would be placed", plural(n.would_send, "call"));
    }
    and_counts(
        format!("{} placed", plural(n.accepted, "call")),
        &[
            (n.answered, "answered"),
            (n.no_answer, "not answered"),
            (n.failed, "failed"),
            (n.unfollowed, "outcome not known yet"),
            (n.rejected, "rejected"),
            (n.not_sent, "not placed"),
            (n.in_doubt, "in doubt"),
        ],
    )
}

/// `first`, then each count that is not zero with its words: `3 placed, 1 in doubt`.
pub(crate) fn and_counts(first: String, counts: &[(u64, &str)]) -> String {
    let mut words = vec![first];
    words.extend(
        counts
            .iter()
            .filter(|(v, _)| *v > 0)
            .map(|(v, what)| format!("{v} {what}")),
    );
    words.join(", ")
}

/// The counts under the headline, each true of the run: the plan's, the due calls' and the
/// placed always, the others when they are not zero. (`sent` counts requests whatever their
/// answer; it, the requests and the 429s behind them are the JSON summary's.)
fn rows(s: &ApplySummary) -> Vec<(&'static str, u64)> {
    let n = &s.counts;
    let placed = if s.dry_run {
        ("would be placed (dry run)", n.would_send)
    } else {
        ("placed", n.accepted)
    };
    let rows = [
        (("calls in the plan", n.planned), true),
        (("placed or settled by earlier runs", n.already_done), false),
        (("due in this run", n.due), true),
        (("left for a later run (max_calls)", n.capped), false),
        (placed, true),
        (("rejected by the server", n.rejected), false),
        (("not placed (due again next run)", n.not_sent), false),
        (("in doubt (may have been placed)", n.in_doubt), false),
        (("answered", n.answered), false),
        (("failed", n.failed), false),
        (("not answered", n.no_answer), false),
        (("outcome not known yet", n.unfollowed), false),
        (("earlier calls in doubt settled", n.resolved), false),
        (("opted out since the plan", n.opted_out_since_plan), false),
        (("held by the frequency cap", n.capped_by_frequency), false),
        (("taken by another runner", n.taken_elsewhere), false),
        (("left to the others (lease lost)", n.lost_lease), false),
        (("not sent (the run stopped first)", n.not_reached), false),
    ];
    rows.into_iter()
        .filter(|((_, v), always)| *always || *v > 0)
        .map(|(row, _)| row)
        .collect()
}

/// `2 retries scheduled; the next at Tue 1 Dec 11:14 WAT`; nothing when there are none.
fn retries(s: &ApplySummary) -> Option<String> {
    let n = s.counts.retry_later;
    if n == 0 {
        return None;
    }
    let count = if n == 1 {
        "1 retry".to_owned()
    } else {
        format!("{n} retries")
    };
    Some(match s.next_retry_at {
        Some(at) => format!(
            "{count} scheduled; the next at {}",
            clock::human(at, &zone(&s.timezone))
        ),
        None => format!("{count} scheduled"),
    })
}

/// The zone a summary's times are written in (the campaign's; it exists in a valid one).
fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(counts: RunCounts, status: RunStatus, stopped: Option<Stopped>) -> ApplySummary {
        ApplySummary {
            stopped,
            ..ApplySummary::example(status, counts)
        }
    }

    fn text(s: &ApplySummary) -> String {
        let mut out = Vec::new();
        write(s, false, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A plan of `n` calls, all due.
    fn due(n: u64) -> RunCounts {
        RunCounts {
            planned: n,
            due: n,
            ..RunCounts::default()
        }
    }

    #[test]
    fn a_refused_key_is_said_and_no_call_is_counted_both_sent_and_not() {
        let counts = RunCounts {
            sent: 9,
            not_sent: 9,
            not_reached: 11,
            requests: 1,
            ..due(20)
        };
        let s = summary(
            counts,
            RunStatus::Failed,
            Some(Stopped::KeyRefused { message: None }),
        );
        assert_eq!(
            text(&s),
            "c on the bundled mock server: stopped: the API key was refused; 0 calls placed, 9 not placed
  calls in the plan                        20
  due in this run                          20
  placed                                    0
  not placed (due again next run)           9
  not sent (the run stopped first)         11
Ledger: state.db
"
        );
    }

    #[test]
    fn retries_are_counted_and_dated_for_people_or_not_said() {
        let counts = RunCounts {
            sent: 3,
            accepted: 3,
            no_answer: 3,
            retry_later: 2,
            ..due(3)
        };
        let mut s = summary(counts, RunStatus::Done, None);
        s.next_retry_at = Some("2026-12-01T10:14:30Z".parse().unwrap());
        // The time as `clock::human` writes it (`Tue 1 Dec 11:14 WAT`, the year when not this one).
        let when = clock::human(s.next_retry_at.unwrap(), &zone("Africa/Lagos"));
        assert!(when.starts_with("Tue 1 Dec") && when.ends_with("11:14 WAT"));
        assert_eq!(
            retries(&s).unwrap(),
            format!("2 retries scheduled; the next at {when}")
        );
        assert_eq!(headline(&s), "done: 3 calls placed, 3 not answered");
        s.counts.retry_later = 0;
        assert_eq!(retries(&s), None);
    }

    #[test]
    fn a_run_with_nothing_due_says_why() {
        let all_placed = RunCounts {
            already_done: 25,
            due: 0,
            ..due(25)
        };
        let s = summary(all_placed, RunStatus::Done, None);
        assert_eq!(
            headline(&s),
            "nothing to send: earlier runs placed or settled every call of the plan"
        );
        let capped = RunCounts {
            capped_by_frequency: 3,
            ..due(3)
        };
        let s = summary(capped, RunStatus::Done, None);
        assert_eq!(
            headline(&s),
            "nothing sent: 3 calls held by the frequency cap"
        );
    }

    #[test]
    fn a_run_stopped_on_the_way_says_why_and_what_it_placed_before() {
        let some = RunCounts {
            sent: 3,
            accepted: 3,
            not_reached: 2,
            ..due(5)
        };
        let paused = Stopped::Paused {
            since: "2026-12-01T08:00:00Z".parse().unwrap(),
        };
        let since = clock::human(
            "2026-12-01T08:00:00Z".parse().unwrap(),
            &zone("Africa/Lagos"),
        );
        let cases = [
            (
                Some(paused),
                format!(
                    "stopped: the campaign is paused (since {since}; `outreach resume` lets it go on); 3 calls placed"
                ),
            ),
            (
                Some(Stopped::ScheduleOver),
                "stopped: the calling schedule is over (past not_after); 3 calls placed".to_owned(),
            ),
            (
                Some(Stopped::Interrupted {
                    signal: Some("Ctrl-C"),
                }),
                "interrupted (Ctrl-C); 3 calls placed".to_owned(),
            ),
            (
                Some(Stopped::Error {
                    message: "the ledger is gone".into(),
                }),
                "stopped on an error; 3 calls placed".to_owned(),
            ),
        ];
        for (stopped, said) in cases {
            let s = summary(some.clone(), RunStatus::Failed, stopped);
            assert_eq!(headline(&s), said);
            assert!(text(&s).contains("not sent (the run stopped first)          2"));
        }
        // Before anything was sent.
        let s = summary(
            due(5),
            RunStatus::Interrupted,
            Some(Stopped::Interrupted {
                signal: Some("Ctrl-C"),
            }),
        );
        assert_eq!(headline(&s), "interrupted (Ctrl-C); nothing was sent");
    }

    #[test]
    fn a_dry_run_says_what_it_would_have_placed() {
        let counts = RunCounts {
            would_send: 3,
            ..due(3)
        };
        let mut s = summary(counts, RunStatus::Done, None);
        s.dry_run = true;
        assert_eq!(
            headline(&s),
            "dry run: 3 calls would be placed; nothing was sent"
        );
        assert!(text(&s).contains("would be placed (dry run)"));
        assert!(!text(&s).contains("  placed "));
    }
}
