//! The report's headline figures for people, listed once for the table
//! ([`crate::report::outcomes`]) and the HTML page ([`crate::report::html`]): each with its
//! words, its place in `report --format json` and its value with its unit, or what stands in
//! for a value there is none of yet ("no calls answered yet" rather than `n/a`). The CSV
//! keeps the measures' names ([`crate::report::figures::measures`]).

use crate::plan::SkipReason;
use crate::report::figures::{Figures, Planned, ReportState};
use crate::report::words;

/// One figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    /// Where the figure sits in `report --format json` (a JSON pointer).
    pub pointer: String,
    pub amount: Amount,
}

/// A figure's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Amount {
    Count(u64),
    /// Seconds, or why there are none.
    Seconds(Result<f64, &'static str>),
    /// A percentage, or why there is none.
    Percent(Result<f64, &'static str>),
}

impl Amount {
    /// The number as the JSON has it, when there is one.
    pub fn number(&self) -> Option<String> {
        match self {
            Amount::Count(n) => Some(n.to_string()),
            Amount::Seconds(v) | Amount::Percent(v) => v.ok().map(words::tenths),
        }
    }

    /// The unit written after the number (empty for a count).
    pub fn unit(&self) -> &'static str {
        match self {
            Amount::Count(_) => "",
            Amount::Seconds(_) => "s",
            Amount::Percent(_) => "%",
        }
    }

    /// Why there is no number (`no calls answered yet`), when there is none.
    pub fn missing(&self) -> Option<&'static str> {
        match self {
            Amount::Count(_) => None,
            Amount::Seconds(v) | Amount::Percent(v) => v.err(),
        }
    }
}

fn line(label: &str, pointer: &str, amount: Amount) -> Line {
    Line {
        label: label.to_owned(),
        pointer: pointer.to_owned(),
        amount,
    }
}

/// The headline figures, in the order people read them: what the plan holds, who was
/// called, how their latest calls ended, how long answered calls lasted and how many
/// succeeded.
pub fn headline(f: &Figures) -> Vec<Line> {
    let mut lines = Vec::new();
    if let Some(p) = &f.plan {
        lines.extend([
            line("patient rows read", "/plan/rows", Amount::Count(p.rows)),
            line("patients planned", "/plan/calls", Amount::Count(p.calls)),
            line("rows skipped", "/plan/skipped", Amount::Count(p.skipped)),
        ]);
    }
    lines.extend([
        line(
            "patients called",
            "/patients_called",
            Amount::Count(f.patients_called),
        ),
        line(
            "calls placed (retries included)",
            "/attempts",
            Amount::Count(f.attempts),
        ),
    ]);
    lines.extend(ReportState::ALL.map(|state| {
        line(
            words::state(state),
            &format!("/{}", state.as_str()),
            Amount::Count(f.latest.get(state)),
        )
    }));
    let answered = f.latest.get(ReportState::Answered);
    let none_answered = if answered == 0 {
        "no calls answered yet"
    } else {
        "no call lengths reported"
    };
    lines.push(line(
        "average call",
        "/average_duration",
        Amount::Seconds(f.average_duration.ok_or(none_answered)),
    ));
    lines.push(line(
        "success rate (answered of ended calls)",
        "/success_rate",
        Amount::Percent(f.success_rate.ok_or("no calls answered yet")),
    ));
    lines
}

/// The rows the plan leaves out, one line per reason, in words.
pub fn skipped(p: &Planned) -> Vec<Line> {
    p.skipped_by_reason
        .iter()
        .map(|(code, n)| {
            line(
                words::skipped_code(code),
                &format!("/plan/skipped_by_reason/{}", token(code)),
                Amount::Count(*n),
            )
        })
        .collect()
}

/// The numbers on an opt-out list (also among [`skipped`]; the page shows it on its own).
pub fn opted_out(p: &Planned) -> Line {
    line(
        words::skipped(SkipReason::OptedOut),
        "/plan/opted_out",
        Amount::Count(p.opted_out),
    )
}

/// Answered calls by the reply option chosen.
pub fn replies(f: &Figures) -> Vec<Line> {
    f.replies
        .iter()
        .map(|(option, n)| {
            line(
                &format!("chose option {option}"),
                &format!("/replies/{}", token(option)),
                Amount::Count(*n),
            )
        })
        .collect()
}

/// A JSON pointer token (RFC 6901).
pub fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_figures_say_why_in_words() {
        let lines = headline(&Figures::default());
        let avg = lines.iter().find(|l| l.pointer == "/average_duration");
        let avg = avg.unwrap();
        assert_eq!(avg.amount.number(), None);
        assert_eq!(avg.amount.missing(), Some("no calls answered yet"));
        let rate = lines.iter().find(|l| l.pointer == "/success_rate").unwrap();
        assert_eq!(rate.amount.missing(), Some("no calls answered yet"));
        assert!(lines.iter().all(|l| !l.label.contains('_')), "{lines:?}");
    }

    #[test]
    fn figures_carry_their_unit() {
        let f = Figures {
            average_duration: Some(42.0),
            success_rate: Some(66.7),
            ..Figures::default()
        };
        let lines = headline(&f);
        let shown: Vec<_> = lines
            .iter()
            .filter_map(|l| Some((l.amount.number()?, l.amount.unit())))
            .filter(|(_, unit)| !unit.is_empty())
            .collect();
        assert_eq!(shown, [("42".to_owned(), "s"), ("66.7".to_owned(), "%")]);
    }

    #[test]
    fn pointers_escape_slashes_and_tildes() {
        assert_eq!(token("patients/a~b.csv"), "patients~1a~0b.csv");
    }
}
