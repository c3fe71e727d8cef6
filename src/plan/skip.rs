//! Why a row is not called: [`SkipReason`], the stable codes of plans, reports and JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::patients::phone::PhoneProblem;
use crate::render::RenderProblem;

/// The words of an `opted-out` skip whose number is on one of the campaign's `exclude` lists
/// (a list of skipped rows names the list).
pub const ON_AN_OPT_OUT_LIST: &str = "the number is on an opt-out list";

/// Why a row is not called. `as_str` is the stable code written to plans and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    InvalidPhone,
    MissingPhone,
    NotAPhoneLine,
    CountryNotAllowed,
    PhoneStoredAsNumber,
    OptedOut,
    Duplicate,
    MissingValue,
    TemplateError,
    UnreadableRow,
    /// A `where:` filter leaves the row out (counted, not listed).
    FilteredOut,
    /// A `where:` filter needs a cell that is empty or cannot be read as its type.
    FilterUnreadable,
    /// The ledger shows the call placed already (the plan subtracts it).
    AlreadyCalled,
    /// The row's language is none the campaign maps (and it has no `default`).
    UnknownLanguage,
    /// A code this build does not know, read from a plan saved by another version.
    Other,
}

impl SkipReason {
    /// Every reason a plan of this build can hold.
    pub const ALL: [SkipReason; 14] = [
        SkipReason::InvalidPhone,
        SkipReason::MissingPhone,
        SkipReason::NotAPhoneLine,
        SkipReason::CountryNotAllowed,
        SkipReason::PhoneStoredAsNumber,
        SkipReason::OptedOut,
        SkipReason::Duplicate,
        SkipReason::MissingValue,
        SkipReason::TemplateError,
        SkipReason::UnreadableRow,
        SkipReason::FilteredOut,
        SkipReason::FilterUnreadable,
        SkipReason::AlreadyCalled,
        SkipReason::UnknownLanguage,
    ];

    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::InvalidPhone => "invalid-phone",
            SkipReason::MissingPhone => "missing-phone",
            SkipReason::NotAPhoneLine => "not-a-phone-line",
            SkipReason::CountryNotAllowed => "country-not-allowed",
            SkipReason::PhoneStoredAsNumber => "phone-stored-as-number",
            SkipReason::OptedOut => "opted-out",
            SkipReason::Duplicate => "duplicate",
            SkipReason::MissingValue => "missing-value",
            SkipReason::TemplateError => "template-error",
            SkipReason::UnreadableRow => "unreadable-row",
            SkipReason::FilteredOut => "filtered-out",
            SkipReason::FilterUnreadable => "filter-unreadable",
            SkipReason::AlreadyCalled => "already-called",
            SkipReason::UnknownLanguage => "unknown-language",
            SkipReason::Other => "other",
        }
    }

    /// The reason of a code as written in a saved plan; [`SkipReason::Other`] for a code this
    /// build does not know, so that it still counts.
    pub fn from_code(code: &str) -> Self {
        SkipReason::ALL
            .into_iter()
            .find(|r| r.as_str() == code)
            .unwrap_or(SkipReason::Other)
    }

    /// Whether the skip comes from a template (what `plan --strict` refuses).
    pub fn is_template(self) -> bool {
        matches!(self, SkipReason::MissingValue | SkipReason::TemplateError)
    }
}

impl From<&PhoneProblem> for SkipReason {
    fn from(p: &PhoneProblem) -> Self {
        match p {
            PhoneProblem::Missing => SkipReason::MissingPhone,
            PhoneProblem::Invalid | PhoneProblem::BadChar { .. } | PhoneProblem::NoCountry => {
                SkipReason::InvalidPhone
            }
            PhoneProblem::NotALine(_) => SkipReason::NotAPhoneLine,
            PhoneProblem::CountryNotAllowed(_) => SkipReason::CountryNotAllowed,
        }
    }
}

impl From<&RenderProblem> for SkipReason {
    fn from(p: &RenderProblem) -> Self {
        match p {
            RenderProblem::Missing { .. } | RenderProblem::Empty { .. } => SkipReason::MissingValue,
            RenderProblem::Failed { .. } | RenderProblem::Object { .. } => {
                SkipReason::TemplateError
            }
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SkipReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A code read back from a saved plan: any string, [`SkipReason::Other`] when unknown.
impl<'de> Deserialize<'de> for SkipReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Ok(SkipReason::from_code(&code))
    }
}

/// Counts per code as a saved plan's summary holds them, each code read as its
/// [`SkipReason`]: the codes this build does not know are counted together as `other`.
pub(crate) fn counts_by_code<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<&'static str, u64>, D::Error> {
    let mut counts = BTreeMap::new();
    for (code, n) in BTreeMap::<String, u64>::deserialize(d)? {
        *counts
            .entry(SkipReason::from_code(&code).as_str())
            .or_default() += n;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself() {
        for r in SkipReason::ALL {
            assert_eq!(SkipReason::from_code(r.as_str()), r);
        }
        assert_eq!(SkipReason::from_code("made-up"), SkipReason::Other);
    }

    /// The README's table of skip reasons lists every reason a plan can hold, and no other.
    #[test]
    fn readme_lists_every_reason() {
        let known = SkipReason::ALL
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect();
        crate::load::code::tests::assert_readme_table("and the reason:", &known);
    }

    #[test]
    fn phone_and_template_problems_keep_their_codes() {
        let codes = [
            (PhoneProblem::Missing, "missing-phone"),
            (PhoneProblem::Invalid, "invalid-phone"),
            (PhoneProblem::NoCountry, "invalid-phone"),
            (PhoneProblem::NotALine("premium-rate"), "not-a-phone-line"),
            (
                PhoneProblem::CountryNotAllowed("GH".into()),
                "country-not-allowed",
            ),
        ];
        for (p, code) in codes {
            assert_eq!(SkipReason::from(&p).as_str(), code);
        }
        let missing = RenderProblem::Missing {
            template: "name".into(),
            column: "first_name".into(),
        };
        let failed = RenderProblem::Failed {
            template: "date".into(),
            message: "not a date".into(),
        };
        assert_eq!(SkipReason::from(&missing).as_str(), "missing-value");
        assert_eq!(SkipReason::from(&failed).as_str(), "template-error");
    }
}
