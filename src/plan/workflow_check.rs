//! What a reviewer must see before a run, checked against the target: the workflow exists,
//! its type fits the campaign's kind, it is active, every placeholder of its message gets a
//! value, and every rendered message stays within the 4000-character limit.

use std::io;

use voicebot_api::wire::{MAX_MESSAGE_CHARS, Workflow, WorkflowStatus, WorkflowType};

use crate::campaign::{Campaign, Kind};
use crate::plan::{Call, Header, Sink, Summary};

/// The result of checking a campaign against its workflow on a target.
#[derive(Debug, Clone, Default)]
pub struct WorkflowCheck {
    /// Where the workflow was fetched from (`the bundled mock`, or a URL).
    pub target: String,
    pub workflow: Option<Workflow>,
    /// Problems that make the campaign unfit to run, in words.
    pub problems: Vec<String>,
    /// Calls whose message would exceed the limit, and the first few (source, row, length).
    pub too_long: u64,
    pub too_long_examples: Vec<(usize, u64, usize)>,
    /// The longest rendered message, in characters.
    pub longest: usize,
}

/// A sink that gives the plan's header the words of the workflow fetched from the target
/// (the message and reply options, never its callback URL), for the settings the plan
/// records and compares; with no workflow fetched, the header as it is.
pub struct Fetched<'a> {
    pub sink: &'a mut dyn Sink,
    pub workflow: Option<&'a Workflow>,
}

impl Sink for Fetched<'_> {
    fn header(&mut self, header: &Header, campaign: &Campaign) -> io::Result<()> {
        match self.workflow {
            Some(w) => {
                let mut header = header.clone();
                header.workflow = Some(crate::plan::model::FetchedWords {
                    message: w.message.clone(),
                    response_options: w.response_options.clone(),
                });
                self.sink.header(&header, campaign)
            }
            None => self.sink.header(header, campaign),
        }
    }
    fn batch(&mut self, index: u64, timezone: &str, calls: &[Call]) -> io::Result<()> {
        self.sink.batch(index, timezone, calls)
    }
    fn skip(&mut self, skip: &crate::plan::Skip) -> io::Result<()> {
        self.sink.skip(skip)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.sink.finish(summary)
    }
    fn filtered(&mut self, skip: &crate::plan::Skip) -> io::Result<()> {
        self.sink.filtered(skip)
    }
    fn wants_filtered(&self) -> bool {
        self.sink.wants_filtered()
    }
}

pub use crate::campaign::workflow::{heard_length, placeholders, substitute};

impl WorkflowCheck {
    /// Checks the workflow fetched from the target (`None`: not found there).
    pub fn new(target: &str, campaign: &Campaign, workflow: Option<Workflow>) -> WorkflowCheck {
        let mut check = WorkflowCheck {
            target: target.to_owned(),
            ..WorkflowCheck::default()
        };
        let Some(w) = workflow else {
            check.problems.push(format!(
                "the workflow {} does not exist on {target}",
                campaign.workflow_id.as_deref().unwrap_or("(declared)")
            ));
            return check;
        };
        let expected = match campaign.kind {
            Kind::Robocall => WorkflowType::Robocall,
            Kind::Conversation => WorkflowType::Conversation,
        };
        if w.workflow_type != expected {
            check.problems.push(format!(
                "the workflow is of type {}, but the campaign places {} calls",
                w.workflow_type.as_str(),
                campaign.kind.as_str()
            ));
        }
        if w.status != WorkflowStatus::Active {
            check
                .problems
                .push(format!("the workflow is {}, not ACTIVE", w.status.as_str()));
        }
        let missing: Vec<String> = placeholders(campaign.kind, &w.message)
            .into_iter()
            .filter(|p| !campaign.variables.contains_key(p))
            .collect();
        if !missing.is_empty() {
            check.problems.push(format!(
                "the message uses {} with no value in `variables`: {}",
                if missing.len() == 1 {
                    "a placeholder"
                } else {
                    "placeholders"
                },
                missing.join(", ")
            ));
        }
        let unknown: Vec<&str> = campaign
            .opt_out_replies
            .iter()
            .filter(|r| !w.response_options.contains_key(r.as_str()))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            let options: Vec<&str> = w.response_options.keys().map(String::as_str).collect();
            check.problems.push(format!(
                "`opt_out_replies` names {} the workflow does not offer: {} (its reply options are {})",
                if unknown.len() == 1 {
                    "a reply option"
                } else {
                    "reply options"
                },
                unknown.join(", "),
                if options.is_empty() {
                    "none".to_owned()
                } else {
                    options.join(", ")
                }
            ));
        }
        check.workflow = Some(w);
        check
    }

    /// Adds the too-long problem once every call was seen.
    pub fn finish(&mut self) {
        if self.too_long > 0 {
            let examples: Vec<String> = self
                .too_long_examples
                .iter()
                .map(|(s, r, n)| format!("source {} row {r} ({n} characters)", s + 1))
                .collect();
            self.problems.push(format!(
                "{} calls would exceed the {MAX_MESSAGE_CHARS}-character message limit, e.g. {}",
                self.too_long,
                examples.join(", ")
            ));
        }
    }

    /// The message a call's patient would hear, if the workflow is known.
    pub fn heard(&self, kind: Kind, call: &Call) -> Option<String> {
        self.workflow
            .as_ref()
            .map(|w| substitute(kind, &w.message, &call.rendered.variables))
    }
}

/// Measures every rendered message while planning.
pub struct Lengths<'a> {
    pub check: &'a mut WorkflowCheck,
    pub kind: Kind,
}

impl Sink for Lengths<'_> {
    fn header(&mut self, _: &Header, _: &Campaign) -> io::Result<()> {
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, calls: &[Call]) -> io::Result<()> {
        let Some(w) = &self.check.workflow else {
            return Ok(());
        };
        for c in calls {
            let n = heard_length(self.kind, &w.message, &c.rendered.variables);
            self.check.longest = self.check.longest.max(n);
            if n > MAX_MESSAGE_CHARS {
                self.check.too_long += 1;
                if self.check.too_long_examples.len() < 3 {
                    self.check.too_long_examples.push((c.source, c.row, n));
                }
            }
        }
        Ok(())
    }
    fn skip(&mut self, _: &crate::plan::Skip) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// Measures every rendered message against its workflow: the campaign's (a check keyed
/// `None`), or in a campaign of several languages, its language's.
pub struct LanguageLengths<'a> {
    /// Each language's check, by its key.
    pub checks: Vec<(Option<&'a str>, &'a mut WorkflowCheck)>,
    pub kind: Kind,
}

impl Sink for LanguageLengths<'_> {
    fn header(&mut self, _: &Header, _: &Campaign) -> io::Result<()> {
        Ok(())
    }
    fn batch(&mut self, index: u64, timezone: &str, calls: &[Call]) -> io::Result<()> {
        // A batch is of one language.
        let language = calls.first().and_then(|c| c.language.as_deref());
        let kind = self.kind;
        if let Some((_, check)) = self.checks.iter_mut().find(|(k, _)| *k == language) {
            Lengths { check, kind }.batch(index, timezone, calls)?;
        }
        Ok(())
    }
    fn skip(&mut self, _: &crate::plan::Skip) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opt_out_reply_the_workflow_does_not_offer_is_a_problem() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("campaigns/measles-reminder.yaml");
        let mut campaign = crate::validate::check_file(&path).campaign.unwrap();
        let workflow = |options: &[&str]| Workflow {
            id: campaign.workflow_id.clone().unwrap_or_default(),
            name: "w".into(),
            description: None,
            workflow_type: WorkflowType::Robocall,
            message: "Hello".into(),
            include_reply: true,
            response_options: options
                .iter()
                .map(|o| ((*o).to_owned(), "words".to_owned()))
                .collect(),
            call_back_url: None,
            status: WorkflowStatus::Active,
            created_at: None,
            updated_at: None,
        };
        campaign.opt_out_replies = vec!["2".into()];
        let fine = WorkflowCheck::new("the mock", &campaign, Some(workflow(&["1", "2"])));
        assert!(fine.problems.is_empty(), "{:?}", fine.problems);
        campaign.opt_out_replies = vec!["2".into(), "3".into()];
        let check = WorkflowCheck::new("the mock", &campaign, Some(workflow(&["1", "2"])));
        assert_eq!(
            check.problems,
            [
                "`opt_out_replies` names a reply option the workflow does not offer: 3 (its reply options are 1, 2)"
            ]
        );
        let none = WorkflowCheck::new("the mock", &campaign, Some(workflow(&[])));
        assert!(
            none.problems[0].ends_with("(its reply options are none)"),
            "{:?}",
            none.problems
        );
    }
}
