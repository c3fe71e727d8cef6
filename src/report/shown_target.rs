//! Which target's calls a report shows when no flag names one, and the words that say so:
//! the ledger's, so that `report CAMPAIGN` after `apply --mock` shows the mock's calls
//! rather than the live service's zeros.

use crate::ledger::StateCount;
use crate::report::words;
use crate::settings::target::{LIVE_URL, TargetId};

/// The target a report shows, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownTarget {
    /// Its id, as the ledger stores it.
    pub id: String,
    pub why: Why,
}

/// Why a report shows the target it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A flag named it, and the ledger has calls of the campaign on it (or on no target).
    Asked,
    /// A flag named it; the ledger has no calls of the campaign on it, but has on these.
    AskedButElsewhere { elsewhere: Vec<(String, u64)> },
    /// No flag: the only target the ledger has calls of the campaign on.
    Only,
    /// No flag: picked among the targets the ledger has calls of the campaign on (with
    /// their calls, the one shown included).
    Picked { all: Vec<(String, u64)> },
    /// No flag, and the ledger has no call of the campaign: the live service, the default.
    NoCalls,
}

impl ShownTarget {
    /// The target shown: `asked` when a flag named one, else the one the ledger has calls of
    /// the campaign on; of several, the live service, else the server with the most calls,
    /// else the mock (calls that reached people before rehearsals). Dry runs are never
    /// picked unless asked (`--target dry-run:…`).
    pub fn pick(asked: Option<&TargetId>, counts: &[StateCount]) -> ShownTarget {
        let mut targets: Vec<(String, u64)> = Vec::new();
        for c in counts {
            if c.target.starts_with("dry-run:") {
                continue;
            }
            let n: u64 = c.counts.iter().map(|(_, n)| n).sum();
            match targets.iter_mut().find(|(t, _)| *t == c.target) {
                Some((_, total)) => *total += n,
                None => targets.push((c.target.clone(), n)),
            }
        }
        targets.sort();
        if let Some(asked) = asked {
            let id = asked.to_string();
            let on_it = counts.iter().any(|c| c.target == id);
            let why = if on_it || targets.is_empty() {
                Why::Asked
            } else {
                Why::AskedButElsewhere { elsewhere: targets }
            };
            return ShownTarget { id, why };
        }
        match targets.len() {
            0 => ShownTarget {
                id: LIVE_URL.to_owned(),
                why: Why::NoCalls,
            },
            1 => ShownTarget {
                id: targets[0].0.clone(),
                why: Why::Only,
            },
            _ => {
                let rank = |(t, n): &(String, u64)| (t == LIVE_URL, t != "mock", *n);
                let id = targets
                    .iter()
                    .max_by_key(|t| rank(t))
                    .map(|(t, _)| t.clone())
                    .unwrap_or_default();
                ShownTarget {
                    id,
                    why: Why::Picked { all: targets },
                }
            }
        }
    }

    /// What a reader is told about the choice, when there is something to tell: which
    /// target is shown and how to pick another. `None` when a flag named a target the
    /// ledger has calls on.
    pub fn note(&self) -> Option<String> {
        const HOW: &str = "pick one with --mock, --api-url URL or --target ID";
        let list = |ts: &[(String, u64)]| {
            ts.iter()
                .map(|(t, n)| format!("{t} ({})", words::plural(*n, "call")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.why {
            Why::Asked => None,
            Why::AskedButElsewhere { elsewhere } => Some(format!(
                "the ledger has no calls of this campaign on {}, only on {}: {HOW}",
                words::target(&self.id),
                list(elsewhere)
            )),
            Why::Only => Some(format!(
                "shown because the ledger has calls of this campaign only on {}",
                words::target(&self.id)
            )),
            Why::Picked { all } => Some(format!(
                "the ledger has calls of this campaign on {} targets, {}; this report shows {}: {HOW}",
                all.len(),
                list(all),
                words::target(&self.id)
            )),
            Why::NoCalls => Some("the ledger has no calls of this campaign yet".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::CallState;

    fn count(target: &str, n: u64) -> StateCount {
        StateCount {
            target: target.into(),
            campaign: "c".into(),
            round: String::new(),
            counts: vec![(CallState::Answered, n)],
        }
    }

    #[test]
    fn calls_only_on_the_mock_are_shown_and_said_so() {
        let shown = ShownTarget::pick(None, &[count("mock", 3), count("dry-run:mock", 9)]);
        assert_eq!(shown.id, "mock");
        assert_eq!(shown.why, Why::Only);
        assert!(shown.note().unwrap().contains("only on the bundled mock"));
    }

    #[test]
    fn of_several_targets_the_live_one_then_a_server_then_the_mock() {
        let live = ShownTarget::pick(
            None,
            &[count("mock", 30), count(LIVE_URL, 1), count("http://a", 5)],
        );
        assert_eq!(live.id, LIVE_URL);
        let note = live.note().unwrap();
        assert!(note.contains("on 3 targets"), "{note}");
        assert!(note.contains("mock (30 calls)"), "{note}");
        assert!(note.contains("--target ID"), "{note}");
        let server = ShownTarget::pick(
            None,
            &[
                count("mock", 30),
                count("http://a", 1),
                count("http://b", 2),
            ],
        );
        assert_eq!(server.id, "http://b");
    }

    #[test]
    fn a_flag_always_wins_and_a_target_without_calls_says_where_they_are() {
        let asked = ShownTarget::pick(Some(&TargetId::live()), &[count("mock", 2)]);
        assert_eq!(asked.id, LIVE_URL);
        let note = asked.note().unwrap();
        assert!(note.contains("only on mock (2 calls)"), "{note}");
        let on_it = ShownTarget::pick(Some(&TargetId::Mock), &[count("mock", 2)]);
        assert_eq!((on_it.id.as_str(), on_it.note()), ("mock", None));
    }

    #[test]
    fn no_calls_anywhere_is_the_live_service_and_said() {
        let shown = ShownTarget::pick(None, &[]);
        assert_eq!(shown.id, LIVE_URL);
        assert!(shown.note().is_some());
    }
}
