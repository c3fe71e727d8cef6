//! A campaign in several languages: which column says each patient's language
//! (`language:`), and for each language the voice and the message (`languages:`).
//!
//! The API takes one accent and gender per request and one workflow per request, so a
//! language is a voice and a workflow: plan groups calls into batches by language, apply
//! sends each batch with its language's voice and workflow, and the `date` and `number`
//! helpers write names in the row's language (or in the language its `names:` declares, for
//! a language CLDR lacks).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::workflow::DeclaredWorkflow;
use super::{Campaign, Voice};

/// How each patient's language is read from the patient sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageColumn {
    /// The column of every patient source that holds the patient's language, as the clinic
    /// writes it (`Hausa`, `HAU`, `ha`).
    #[schemars(length(min = 1, max = 200), example = &"language")]
    pub column: String,

    /// What the column may say, each mapped to a language of `languages:`: `{Hausa: ha,
    /// HAU: ha, Yoruba: yo}`. Matched ignoring case and surrounding blanks. A cell that is
    /// already a language of `languages:` (`ha`) needs no entry.
    #[serde(default)]
    #[schemars(example = example_values())]
    pub values: BTreeMap<String, String>,

    /// The language of a patient whose cell is empty or says something `values` does not
    /// list. Without it, such a patient is skipped (`unknown-language`), never called in a
    /// guessed language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35), example = &"en")]
    pub default: Option<String>,
}

fn example_values() -> serde_json::Value {
    serde_json::json!({"Hausa": "ha", "HAU": "ha", "Yoruba": "yo", "English": "en"})
}

/// One language of the campaign: the voice that reads its message, and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Language {
    /// The voice of this language's calls: an accent of the campaign's kind, and a gender.
    /// Robocall accents have no `english`: English calls are read in an accent such as
    /// `pidgin`.
    pub voice: Voice,

    /// The voicebot workflow of this language, written on the service. Give either this or
    /// `workflow`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1), example = &"9b643eb4-0799-4761-bd34-9580eb315aaf")]
    pub workflow_id: Option<String>,

    /// The workflow of this language, its message written here: `apply` creates it on the
    /// service as it does a campaign's `workflow:`. Its placeholders are the campaign's
    /// `variables`, shared by every language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DeclaredWorkflow")]
    pub workflow: Option<DeclaredWorkflow>,

    /// For a language whose month and weekday names CLDR does not have (such as `tw`): the
    /// language the `date` and `number` helpers write in instead, such as `en`. `plan` says
    /// so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 35), example = &"en")]
    pub names: Option<String>,
}

/// The longest language key or `names:` tag read (BCP 47's practical limit).
pub const MAX_TAG: usize = 35;

/// Whether a key of `languages:` is written as a language tag: a 2–3 letter language, then
/// `-` and 2–8 letters or digits per subtag (`ha`, `pcm`, `en-NG`).
pub fn is_tag(key: &str) -> bool {
    let mut parts = key.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    key.len() <= MAX_TAG
        && (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The voice and workflow a call is placed with: the campaign's own, or its language's.
#[derive(Debug, Clone, Copy)]
pub struct Speaker<'a> {
    /// The key of `languages:`, or `None` for a campaign of one language.
    pub language: Option<&'a str>,
    pub voice: &'a Voice,
    pub workflow_id: Option<&'a str>,
    pub workflow: Option<&'a DeclaredWorkflow>,
}

impl Speaker<'_> {
    /// The language as the ledger's workflow bindings key it (`""` for none).
    pub fn binding_language(&self) -> &str {
        self.language.unwrap_or("")
    }

    /// How the speaker is named in words: `` `ha` `` or nothing.
    pub fn label(&self) -> String {
        self.language.map_or_else(String::new, |l| format!("`{l}`"))
    }
}

impl Campaign {
    /// Whether the campaign calls each patient in their own language.
    pub fn has_languages(&self) -> bool {
        !self.languages.is_empty()
    }

    /// Every voice-and-workflow the campaign calls with: one per language, or its own.
    pub fn speakers(&self) -> Vec<Speaker<'_>> {
        if self.languages.is_empty() {
            return vec![Speaker {
                language: None,
                voice: &self.voice,
                workflow_id: self.workflow_id.as_deref(),
                workflow: self.workflow.as_ref(),
            }];
        }
        self.languages
            .iter()
            .map(|(key, l)| l.speaker(key))
            .collect()
    }

    /// The speaker of a call's language (`None`: the campaign's own). A language the
    /// campaign does not have gives `None`: a saved plan is checked against the campaign
    /// before this is asked.
    pub fn speaker(&self, language: Option<&str>) -> Option<Speaker<'_>> {
        match language {
            None if self.languages.is_empty() => self.speakers().into_iter().next(),
            None => None,
            Some(key) => self
                .languages
                .get_key_value(key)
                .map(|(key, l)| l.speaker(key)),
        }
    }
}

impl Language {
    /// This language's voice and workflow, keyed `key`.
    fn speaker<'a>(&'a self, key: &'a str) -> Speaker<'a> {
        Speaker {
            language: Some(key),
            voice: &self.voice,
            workflow_id: self.workflow_id.as_deref(),
            workflow: self.workflow.as_ref(),
        }
    }
}

impl Campaign {
    /// The campaign as one of its languages sees it: that language's voice and workflow as
    /// the campaign's own, and no languages. For the checks written for a campaign of one
    /// language (a workflow fetched and checked, a declared workflow's state).
    pub fn in_language(&self, key: &str) -> Option<Campaign> {
        let language = self.languages.get(key)?;
        let mut one = self.clone();
        one.voice = language.voice.clone();
        one.workflow_id.clone_from(&language.workflow_id);
        one.workflow.clone_from(&language.workflow);
        one.language = None;
        one.languages.clear();
        Some(one)
    }
}

/// A patient's language as the campaign reads it from their cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading<'a> {
    /// A key of `languages:`.
    Language(&'a str),
    /// Nothing the campaign maps, and no `default`: the words say what the cell held.
    Unknown(String),
}

/// The campaign's languages, ready to read each row's cell: the mapping's keys folded once.
#[derive(Debug, Clone)]
pub struct LanguageReader<'a> {
    /// Folded cell → language key.
    values: BTreeMap<String, &'a str>,
    default: Option<&'a str>,
    column: &'a str,
}

impl<'a> LanguageReader<'a> {
    /// The reader of a campaign with languages; `None` without.
    pub fn new(campaign: &'a Campaign) -> Option<Self> {
        let column = campaign.language.as_ref()?;
        let key_of = |l: &str| campaign.languages.get_key_value(l).map(|(k, _)| k.as_str());
        let mut values = BTreeMap::new();
        for key in campaign.languages.keys() {
            values.insert(fold(key), key.as_str());
        }
        for (written, language) in &column.values {
            if let Some(key) = key_of(language) {
                values.insert(fold(written), key);
            }
        }
        Some(LanguageReader {
            values,
            default: column.default.as_deref().and_then(key_of),
            column: &column.column,
        })
    }

    /// The column it reads.
    pub fn column(&self) -> &'a str {
        self.column
    }

    /// The language of a row whose language cell is `cell` (`None`: the source has no such
    /// column, which validate refuses).
    pub fn read(&self, cell: Option<&str>) -> Reading<'a> {
        let cell = cell.unwrap_or("");
        if let Some(key) = self.values.get(&fold(cell)) {
            return Reading::Language(key);
        }
        if let Some(key) = self.default {
            return Reading::Language(key);
        }
        let column = self.column;
        Reading::Unknown(if cell.trim().is_empty() {
            format!("its `{column}` is empty and the campaign's `language:` has no `default`")
        } else {
            // The cell is patient data (and, were `column:` the wrong one, could be a name
            // or a number): only its first letter and length are said.
            let first: String = cell.trim().chars().take(1).collect();
            let n = cell.trim().chars().count();
            format!(
                "its `{column}` says {}*** ({n} characters), which `language.values` does not map to a language of the campaign, and `language:` has no `default`",
                crate::load::diagnostic::inert(&first)
            )
        })
    }
}

/// A cell as it is matched: trimmed, lower case. Validate folds with it too, so that what it
/// calls a clash is what the reader would confuse.
pub fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_short_lower_case_languages_with_subtags() {
        for good in ["ha", "pcm", "en-NG", "yo", "sr-Latn"] {
            assert!(is_tag(good), "{good}");
        }
        for bad in [
            "", "h", "Hausa", "HA", "english", "en_NG", "en-", "ha-x", "a-bc",
        ] {
            assert!(!is_tag(bad), "{bad}");
        }
        assert!(!is_tag(&format!("en-{}", "a".repeat(40))));
    }
}
