//! Words for people, in one place: plurals (`1 call`, `2 calls`, `3 batches`), and what each
//! code means where a human format prints it. JSON and CSV keep the codes
//! ([`SkipReason::as_str`], [`ReportState::as_str`]); the table, the HTML page, the printed
//! plan and the watcher say them with these words.

use crate::plan::SkipReason;
use crate::report::figures::ReportState;

/// `n` and the word, in the plural unless `n` is 1 (`batch` → `batches`).
pub fn plural(n: impl TryInto<u64>, word: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(u64::MAX);
    if n == 1 {
        format!("{n} {word}")
    } else if word.ends_with("ch")
        || word.ends_with("sh")
        || word.ends_with('s')
        || word.ends_with('x')
    {
        format!("{n} {word}es")
    } else {
        format!("{n} {word}s")
    }
}

/// The rows left out for a reason, as the label of their count
/// (`numbers from a country not allowed: 1`).
pub fn skipped(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::InvalidPhone => "numbers that are not valid",
        SkipReason::MissingPhone => "rows without a phone number",
        SkipReason::NotAPhoneLine => "numbers that are not a mobile or fixed line",
        SkipReason::CountryNotAllowed => "numbers from a country not allowed",
        SkipReason::PhoneStoredAsNumber => "numbers the spreadsheet stores as numbers",
        SkipReason::OptedOut => "numbers on an opt-out list",
        SkipReason::Duplicate => "repeats of an earlier row",
        SkipReason::MissingValue => "rows missing a value the message needs",
        SkipReason::TemplateError => "rows a template could not fill",
        SkipReason::UnreadableRow => "rows that cannot be read",
        SkipReason::FilteredOut => "rows the `where` filters leave out",
        SkipReason::FilterUnreadable => "rows a `where` filter cannot test",
        SkipReason::AlreadyCalled => "patients already called this round",
        SkipReason::UnknownLanguage => "patients in a language the campaign does not map",
        SkipReason::Other => "rows left out for a reason this version does not know",
    }
}

/// [`skipped`] of a reason's code, as plans and their summaries key their counts.
pub fn skipped_code(code: &str) -> &'static str {
    skipped(SkipReason::from_code(code))
}

/// What a report counts a call as, in words (`no_answer` → `unanswered`).
pub fn state(state: ReportState) -> &'static str {
    match state {
        ReportState::Answered => "answered",
        ReportState::Failed => "failed",
        ReportState::NoAnswer => "unanswered",
        // Counted as not reached (see `Figures::success_rate`).
        ReportState::OutcomeUnknown => "no outcome in time",
        ReportState::Completed => "completed, no per-call outcome",
        ReportState::InDoubt => "in doubt",
        ReportState::Pending => "pending",
        ReportState::Rejected => "rejected",
        ReportState::NotSent => "not sent",
    }
}

/// What a breakdown of the report counts, by its name in the CSV and the JSON.
pub fn breakdown(name: &str) -> &'static str {
    match name {
        "by_source" => "Outcomes by source",
        "by_accent" => "Outcomes by accent",
        "by_language" => "Outcomes by language",
        "by_attempt" => "Outcomes by attempt (the retry funnel)",
        _ => "Outcomes",
    }
}

/// Where calls go, by the ledger's name for the target (`mock` → `the bundled mock`).
pub fn target(id: &str) -> String {
    if id == "mock" {
        "the bundled mock".to_owned()
    } else if let Some(inner) = id.strip_prefix("dry-run:") {
        format!("a dry run against {}", target(inner))
    } else if id == crate::settings::target::LIVE_URL {
        format!("the live service ({id})")
    } else {
        id.to_owned()
    }
}

/// A figure the report rounds to a tenth, as a person reads it: `42`, `66.7`.
pub fn tenths(v: f64) -> String {
    let text = format!("{v:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_the_rest_plural() {
        assert_eq!(plural(1u64, "call"), "1 call");
        assert_eq!(plural(0u64, "call"), "0 calls");
        assert_eq!(plural(2u64, "batch"), "2 batches");
        assert_eq!(plural(1u64, "batch"), "1 batch");
        assert_eq!(plural(3usize, "error"), "3 errors");
    }

    /// Every code has words of its own, and none is printed as its code.
    #[test]
    fn every_code_has_its_own_words() {
        let mut seen = std::collections::BTreeSet::new();
        for r in SkipReason::ALL.into_iter().chain([SkipReason::Other]) {
            let words = skipped(r);
            assert!(seen.insert(words), "{r:?}: {words} said twice");
            assert!(!words.contains(r.as_str()), "{r:?}: {words}");
        }
        assert_eq!(
            skipped_code("country-not-allowed"),
            "numbers from a country not allowed"
        );
        let states: std::collections::BTreeSet<_> = ReportState::ALL.map(state).into();
        assert_eq!(states.len(), ReportState::ALL.len());
        assert!(states.iter().all(|w| !w.contains('_')));
    }

    #[test]
    fn targets_are_named() {
        assert_eq!(target("mock"), "the bundled mock");
        assert_eq!(target("dry-run:mock"), "a dry run against the bundled mock");
        assert_eq!(
            target("https://voicebot.intron.health"),
            "the live service (https://voicebot.intron.health)"
        );
        assert_eq!(target("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn tenths_drop_a_zero_tenth() {
        assert_eq!(tenths(42.0), "42");
        assert_eq!(tenths(66.66), "66.7");
        assert_eq!(tenths(52.38), "52.4");
    }
}
