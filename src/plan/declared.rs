//! A declared workflow (`workflow:` in the campaign) against the service, as Terraform shows
//! a resource against its state: absent (apply creates it), the same, changed (apply creates
//! a new workflow and rebinds the campaign to it), or edited on the service by hand since it
//! was pushed (apply refuses unless told to overwrite). Written once for `plan` and `apply`.
//!
//! The inputs are what the ledger remembers of the last push (the binding) and what the
//! service answers to the workflow GET, which the service's public docs do not list: where it
//! is not offered, the binding's digest decides, and hand edits go unchecked (said).

use similar::{ChangeTag, TextDiff};
use voicebot_api::wire::Workflow;

use crate::campaign::workflow::Comparable;

/// What the service said of the bound workflow.
#[derive(Debug, Clone)]
pub enum Service {
    /// Not asked: no target, or nothing bound to ask about.
    NotAsked,
    /// The server does not offer the workflow GET (a 404 from a server that is not the
    /// bundled mock): hand edits cannot be seen.
    NotOffered,
    /// The bundled mock (which offers the GET) has no such workflow: deleted there.
    Gone,
    Found(Box<Workflow>),
}

/// What the ledger remembers of the workflow last pushed for this campaign on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub workflow_id: String,
    pub digest: String,
    /// What was pushed, in the compared form; `None` when the ledger's copy cannot be read
    /// (then only the digest compares).
    pub pushed: Option<Comparable>,
}

/// The declared workflow against the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// No target: not compared.
    NotCompared,
    /// Nothing bound on this target: apply creates it.
    Absent,
    /// The bound workflow is no longer on the service: apply creates it again.
    Gone { workflow_id: String },
    /// The service has what the file declares. `checked`: the service's copy was read
    /// (hand edits would have been seen).
    Same { workflow_id: String, checked: bool },
    /// The file changed since the push: apply creates a new workflow and rebinds to it.
    /// `before` is what was pushed (the service's copy when it was read and is the same).
    Changed {
        workflow_id: String,
        before: Option<Comparable>,
        checked: bool,
    },
    /// The service's copy is not what was pushed: someone edited it by hand.
    HandEdited {
        workflow_id: String,
        pushed: Option<Comparable>,
        service: Comparable,
    },
}

impl Drift {
    /// The drift of `file` on a target where `bound` is the ledger's binding and `service`
    /// what the service said of it (`None` target: [`Drift::NotCompared`]).
    pub fn of(file: &Comparable, bound: Option<&Bound>, service: &Service, target: bool) -> Drift {
        if !target {
            return Drift::NotCompared;
        }
        let Some(b) = bound else {
            return Drift::Absent;
        };
        let id = b.workflow_id.clone();
        let file_same = file.digest() == b.digest;
        match service {
            Service::Gone => Drift::Gone { workflow_id: id },
            Service::Found(w) => {
                let base = file
                    .call_back_url
                    .as_deref()
                    .or(b.pushed.as_ref().and_then(|p| p.call_back_url.as_deref()));
                let theirs = Comparable::service(w, base);
                if theirs.digest() != b.digest && theirs.digest() == file.digest() {
                    // Edited on the service to what the file now says: nothing to refuse.
                    Drift::Same {
                        workflow_id: id,
                        checked: true,
                    }
                } else if theirs.digest() != b.digest {
                    Drift::HandEdited {
                        workflow_id: id,
                        pushed: b.pushed.clone(),
                        service: theirs,
                    }
                } else if file_same {
                    Drift::Same {
                        workflow_id: id,
                        checked: true,
                    }
                } else {
                    Drift::Changed {
                        workflow_id: id,
                        before: Some(theirs),
                        checked: true,
                    }
                }
            }
            Service::NotOffered | Service::NotAsked => {
                if file_same {
                    Drift::Same {
                        workflow_id: id,
                        checked: false,
                    }
                } else {
                    Drift::Changed {
                        workflow_id: id,
                        before: b.pushed.clone(),
                        checked: false,
                    }
                }
            }
        }
    }

    /// Whether apply would create a workflow (a change to review: `--detailed-exitcode`).
    pub fn creates(&self) -> bool {
        matches!(
            self,
            Drift::Absent | Drift::Gone { .. } | Drift::Changed { .. }
        )
    }

    /// Whether the plan shows something to review about the workflow.
    pub fn is_change(&self) -> bool {
        self.creates() || matches!(self, Drift::HandEdited { .. })
    }

    /// The state in one word, as JSON writes it.
    pub fn code(&self) -> &'static str {
        match self {
            Drift::NotCompared => "not-compared",
            Drift::Absent => "absent",
            Drift::Gone { .. } => "gone",
            Drift::Same { .. } => "unchanged",
            Drift::Changed { .. } => "changed",
            Drift::HandEdited { .. } => "edited-on-service",
        }
    }

    /// The workflow the campaign is bound to now, if any.
    pub fn bound_id(&self) -> Option<&str> {
        match self {
            Drift::NotCompared | Drift::Absent => None,
            Drift::Gone { workflow_id }
            | Drift::Same { workflow_id, .. }
            | Drift::Changed { workflow_id, .. }
            | Drift::HandEdited { workflow_id, .. } => Some(workflow_id),
        }
    }

    /// Whether hand edits on the service could be seen (the GET was offered).
    pub fn hand_edits_checked(&self) -> bool {
        match self {
            Drift::Same { checked, .. } | Drift::Changed { checked, .. } => *checked,
            Drift::HandEdited { .. } | Drift::Gone { .. } => true,
            Drift::NotCompared | Drift::Absent => false,
        }
    }

    /// The message before the change, for the diff: what was pushed (or is on the service).
    pub fn before(&self) -> Option<&Comparable> {
        match self {
            Drift::Changed { before, .. } => before.as_ref(),
            Drift::HandEdited { service, .. } => Some(service),
            _ => None,
        }
    }
}

impl Bound {
    /// A workflow found on the service by name, taken as if it had been pushed: what the
    /// service has is then the last push, so an identical one is bound without creating
    /// another (`outreach workflows pull` then paste), and a different one shows the diff.
    pub fn found(w: &Workflow, file: &Comparable) -> Bound {
        let theirs = Comparable::service(w, file.call_back_url.as_deref());
        Bound {
            workflow_id: w.id.clone(),
            digest: theirs.digest(),
            pushed: Some(theirs),
        }
    }
}

/// The service's workflow of the file's name to compare with when nothing is bound: one
/// identical to the file if any, else the one listed last (the newest, in the service's
/// order). Inactive workflows are never taken.
pub fn same_name<'w>(file: &Comparable, listed: &'w [Workflow]) -> Option<&'w Workflow> {
    let named: Vec<&Workflow> = listed
        .iter()
        .filter(|w| {
            w.name == file.name
                && w.status == voicebot_api::wire::WorkflowStatus::Active
                && voicebot_api::routes::is_id(&w.id)
        })
        .collect();
    let digest = file.digest();
    named
        .iter()
        .find(|w| Comparable::service(w, file.call_back_url.as_deref()).digest() == digest)
        .or(named.last())
        .copied()
}

/// The calls of this round placed before the workflow's change: they heard an earlier message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EarlierCalls {
    /// Patients called (their call placed) in this round.
    pub called: u64,
    /// Of them, how many answered.
    pub answered: u64,
}

/// A declared workflow as the plan shows it: the file's form and its drift on the target.
#[derive(Debug, Clone)]
pub struct DeclaredState {
    pub file: Comparable,
    pub drift: Drift,
    /// Where the comparison was made (`the bundled mock`, a URL).
    pub target: Option<String>,
    /// With a change, this round's patients already called with the earlier message.
    pub earlier: Option<EarlierCalls>,
    /// Nothing was bound: the workflow compared with was found on the service by its name.
    pub found_by_name: bool,
}

/// One piece of a word diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Same(String),
    Removed(String),
    Added(String),
}

/// The word diff of two messages: runs of words (with the spaces between them) kept,
/// removed or added, adjacent pieces of one kind joined. Bounded in time: past it, the
/// diff is coarser, never wrong.
pub fn word_diff(before: &str, after: &str) -> Vec<Piece> {
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_millis(200))
        .diff_words(before, after);
    let mut out: Vec<Piece> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value();
        match (out.last_mut(), change.tag()) {
            (Some(Piece::Same(s)), ChangeTag::Equal)
            | (Some(Piece::Removed(s)), ChangeTag::Delete)
            | (Some(Piece::Added(s)), ChangeTag::Insert) => s.push_str(text),
            (_, ChangeTag::Equal) => out.push(Piece::Same(text.to_owned())),
            (_, ChangeTag::Delete) => out.push(Piece::Removed(text.to_owned())),
            (_, ChangeTag::Insert) => out.push(Piece::Added(text.to_owned())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use voicebot_api::wire::{WorkflowStatus, WorkflowType};

    use super::*;

    fn file(message: &str) -> Comparable {
        Comparable {
            name: "w".into(),
            description: None,
            workflow_type: "ROBOCALL".into(),
            message: message.into(),
            include_reply: false,
            response_options: BTreeMap::new(),
            call_back_url: Some("https://o.example.org/callbacks".into()),
        }
    }

    fn service(message: &str) -> Service {
        Service::Found(Box::new(Workflow {
            id: "w1".into(),
            name: "w".into(),
            description: None,
            workflow_type: WorkflowType::Robocall,
            message: message.into(),
            include_reply: false,
            response_options: BTreeMap::new(),
            call_back_url: Some("https://o.example.org/callbacks/0123456789abcdef0123".into()),
            status: WorkflowStatus::Active,
            created_at: None,
            updated_at: None,
        }))
    }

    fn bound(message: &str) -> Bound {
        let pushed = file(message);
        Bound {
            workflow_id: "w1".into(),
            digest: pushed.digest(),
            pushed: Some(pushed),
        }
    }

    #[test]
    fn every_state_of_a_declared_workflow() {
        let f = file("Hello [name]");
        assert_eq!(
            Drift::of(&f, None, &Service::NotAsked, false),
            Drift::NotCompared
        );
        assert_eq!(Drift::of(&f, None, &Service::NotAsked, true), Drift::Absent);
        let same = bound("Hello [name]");
        assert_eq!(
            Drift::of(&f, Some(&same), &service("Hello [name]"), true),
            Drift::Same {
                workflow_id: "w1".into(),
                checked: true
            }
        );
        assert_eq!(
            Drift::of(&f, Some(&same), &Service::NotOffered, true),
            Drift::Same {
                workflow_id: "w1".into(),
                checked: false
            }
        );
        let old = bound("Hi [name]");
        let changed = Drift::of(&f, Some(&old), &service("Hi [name]"), true);
        assert!(changed.creates());
        assert_eq!(changed.before().unwrap().message, "Hi [name]");
        let unchecked = Drift::of(&f, Some(&old), &Service::NotOffered, true);
        assert!(unchecked.creates() && !unchecked.hand_edits_checked());
        // Edited on the service to the file's words: the same.
        let to_file = Drift::of(&f, Some(&old), &service("Hello [name]"), true);
        assert!(
            matches!(to_file, Drift::Same { checked: true, .. }),
            "{to_file:?}"
        );
        // Edited on the service to other words: whatever the file says.
        for b in [&same, &old] {
            let edited = Drift::of(&f, Some(b), &service("Hello [name]!!"), true);
            assert!(
                matches!(edited, Drift::HandEdited { .. }),
                "{edited:?} for {b:?}"
            );
            assert!(!edited.creates() && edited.is_change());
        }
        assert!(matches!(
            Drift::of(&f, Some(&same), &Service::Gone, true),
            Drift::Gone { .. }
        ));
    }

    #[test]
    fn a_word_diff_keeps_every_word_once() {
        let before = "Hello [name], your dose is due on [date].";
        let after = "Hello [name], your second dose is due on [date] at [clinic].";
        let pieces = word_diff(before, after);
        let (mut old, mut new) = (String::new(), String::new());
        for p in &pieces {
            match p {
                Piece::Same(s) => {
                    old.push_str(s);
                    new.push_str(s);
                }
                Piece::Removed(s) => old.push_str(s),
                Piece::Added(s) => new.push_str(s),
            }
        }
        assert_eq!((old.as_str(), new.as_str()), (before, after));
        assert!(
            pieces
                .iter()
                .any(|p| matches!(p, Piece::Added(s) if s.contains("second"))),
            "{pieces:?}"
        );
        assert!(
            !pieces
                .windows(2)
                .any(|w| std::mem::discriminant(&w[0]) == std::mem::discriminant(&w[1]))
        );
    }
}
