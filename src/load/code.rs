//! The stable code of every problem `validate` reports: an enum, so a rule cannot be given a
//! code the README's table does not list (a test checks the table against [`Code::ALL`]).

use serde::Serialize;

/// What a [`super::diagnostic::Diagnostic`] is about, as a stable, documented identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    YamlSyntax,
    YamlTab,
    YamlDuplicateKey,
    YamlComplexKey,
    YamlAmbiguousBoolean,
    YamlLeadingZero,
    YamlBase60Number,
    YamlMultipleDocuments,
    YamlTooDeep,
    YamlTooManyValues,
    FileTooLarge,
    EmptyFile,
    NotText,
    UnreadableFile,
    PhoneNotText,
    UnknownKey,
    MissingKey,
    WrongType,
    NotAllowedValue,
    WrongValue,
    OutOfRange,
    TooFewItems,
    TooManyItems,
    BadText,
    AccentNotForKind,
    WorkflowIdPlaceholder,
    WorkflowIdNotUuid,
    WorkflowTwice,
    WorkflowMissing,
    MessagePlaceholderKind,
    MessagePlaceholderUnknown,
    VariableUnused,
    ResponseOptionKey,
    ReplyOptionsMismatch,
    OptOutReplyUnknown,
    CallbackUrlSecret,
    CallbackUrlInvalid,
    TagsOnConversation,
    ReservedName,
    AllowEmptyUnknown,
    SourceFileOrInline,
    SourceMissing,
    SourceUnreadable,
    SourceUnknownFormat,
    SourceNoSheet,
    SourceOptionMismatch,
    SourceMissingColumn,
    /// `list_columns` names a column twice, the phone column, or more than 20.
    ListColumnInvalid,
    LanguagesInvalid,
    SourceOutside,
    SourceNotAFile,
    SourceTooLarge,
    SourceEncoding,
    OptOutInvalidEntries,
    BadDelimiter,
    TemplateSyntax,
    TemplateUnknownHelper,
    TemplateUnsupported,
    TemplateTooLong,
    TemplateTooDeep,
    TemplateHelperArguments,
    TemplateDateFormat,
    UnknownLocale,
    TemplateWholeRow,
    TemplateComparison,
    FilterSyntax,
    FilterType,
    EmptyValue,
    UnknownTimezone,
    UnknownCountry,
    WindowOrder,
    BadDate,
    DatesOrder,
    BadDuration,
    RetryWithoutOutcomes,
    RateAboveProviderLimit,
    DefaultUnused,
    DuplicateCampaignName,
}

impl Code {
    pub const ALL: [Code; 78] = [
        Code::YamlSyntax,
        Code::YamlTab,
        Code::YamlDuplicateKey,
        Code::YamlComplexKey,
        Code::YamlAmbiguousBoolean,
        Code::YamlLeadingZero,
        Code::YamlBase60Number,
        Code::YamlMultipleDocuments,
        Code::YamlTooDeep,
        Code::YamlTooManyValues,
        Code::FileTooLarge,
        Code::EmptyFile,
        Code::NotText,
        Code::UnreadableFile,
        Code::PhoneNotText,
        Code::UnknownKey,
        Code::MissingKey,
        Code::WrongType,
        Code::NotAllowedValue,
        Code::WrongValue,
        Code::OutOfRange,
        Code::TooFewItems,
        Code::TooManyItems,
        Code::BadText,
        Code::AccentNotForKind,
        Code::WorkflowIdPlaceholder,
        Code::WorkflowIdNotUuid,
        Code::WorkflowTwice,
        Code::WorkflowMissing,
        Code::MessagePlaceholderKind,
        Code::MessagePlaceholderUnknown,
        Code::VariableUnused,
        Code::ResponseOptionKey,
        Code::ReplyOptionsMismatch,
        Code::OptOutReplyUnknown,
        Code::CallbackUrlSecret,
        Code::CallbackUrlInvalid,
        Code::TagsOnConversation,
        Code::ReservedName,
        Code::AllowEmptyUnknown,
        Code::SourceFileOrInline,
        Code::SourceMissing,
        Code::SourceUnreadable,
        Code::SourceUnknownFormat,
        Code::SourceNoSheet,
        Code::SourceOptionMismatch,
        Code::SourceMissingColumn,
        Code::ListColumnInvalid,
        Code::LanguagesInvalid,
        Code::SourceOutside,
        Code::SourceNotAFile,
        Code::SourceTooLarge,
        Code::SourceEncoding,
        Code::OptOutInvalidEntries,
        Code::BadDelimiter,
        Code::TemplateSyntax,
        Code::TemplateUnknownHelper,
        Code::TemplateUnsupported,
        Code::TemplateTooLong,
        Code::TemplateTooDeep,
        Code::TemplateHelperArguments,
        Code::TemplateDateFormat,
        Code::UnknownLocale,
        Code::TemplateWholeRow,
        Code::TemplateComparison,
        Code::FilterSyntax,
        Code::FilterType,
        Code::EmptyValue,
        Code::UnknownTimezone,
        Code::UnknownCountry,
        Code::WindowOrder,
        Code::BadDate,
        Code::DatesOrder,
        Code::BadDuration,
        Code::RetryWithoutOutcomes,
        Code::RateAboveProviderLimit,
        Code::DefaultUnused,
        Code::DuplicateCampaignName,
    ];

    /// The code as written in output and in the README (`yaml-tab`, `unknown-key`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::YamlSyntax => "yaml-syntax",
            Code::YamlTab => "yaml-tab",
            Code::YamlDuplicateKey => "yaml-duplicate-key",
            Code::YamlComplexKey => "yaml-complex-key",
            Code::YamlAmbiguousBoolean => "yaml-ambiguous-boolean",
            Code::YamlLeadingZero => "yaml-leading-zero",
            Code::YamlBase60Number => "yaml-base-60-number",
            Code::YamlMultipleDocuments => "yaml-multiple-documents",
            Code::YamlTooDeep => "yaml-too-deep",
            Code::YamlTooManyValues => "yaml-too-many-values",
            Code::FileTooLarge => "file-too-large",
            Code::EmptyFile => "empty-file",
            Code::NotText => "not-text",
            Code::UnreadableFile => "unreadable-file",
            Code::PhoneNotText => "phone-not-text",
            Code::UnknownKey => "unknown-key",
            Code::MissingKey => "missing-key",
            Code::WrongType => "wrong-type",
            Code::NotAllowedValue => "not-allowed-value",
            Code::WrongValue => "wrong-value",
            Code::OutOfRange => "out-of-range",
            Code::TooFewItems => "too-few-items",
            Code::TooManyItems => "too-many-items",
            Code::BadText => "bad-text",
            Code::AccentNotForKind => "accent-not-for-kind",
            Code::WorkflowIdPlaceholder => "workflow-id-placeholder",
            Code::WorkflowIdNotUuid => "workflow-id-not-uuid",
            Code::WorkflowTwice => "workflow-twice",
            Code::WorkflowMissing => "workflow-missing",
            Code::MessagePlaceholderKind => "message-placeholder-kind",
            Code::MessagePlaceholderUnknown => "message-placeholder-unknown",
            Code::VariableUnused => "variable-unused",
            Code::ResponseOptionKey => "response-option-key",
            Code::ReplyOptionsMismatch => "reply-options-mismatch",
            Code::OptOutReplyUnknown => "opt-out-reply-unknown",
            Code::CallbackUrlSecret => "callback-url-secret",
            Code::CallbackUrlInvalid => "callback-url-invalid",
            Code::TagsOnConversation => "tags-on-conversation",
            Code::ReservedName => "reserved-name",
            Code::AllowEmptyUnknown => "allow-empty-unknown",
            Code::SourceFileOrInline => "source-file-or-inline",
            Code::SourceMissing => "source-missing",
            Code::SourceUnreadable => "source-unreadable",
            Code::SourceUnknownFormat => "source-unknown-format",
            Code::SourceNoSheet => "source-no-sheet",
            Code::SourceOptionMismatch => "source-option-mismatch",
            Code::SourceMissingColumn => "source-missing-column",
            Code::ListColumnInvalid => "list-column-invalid",
            Code::LanguagesInvalid => "languages-invalid",
            Code::SourceOutside => "source-outside",
            Code::SourceNotAFile => "source-not-a-file",
            Code::SourceTooLarge => "source-too-large",
            Code::SourceEncoding => "source-encoding",
            Code::OptOutInvalidEntries => "opt-out-invalid-entries",
            Code::BadDelimiter => "bad-delimiter",
            Code::TemplateSyntax => "template-syntax",
            Code::TemplateUnknownHelper => "template-unknown-helper",
            Code::TemplateUnsupported => "template-unsupported",
            Code::TemplateTooLong => "template-too-long",
            Code::TemplateTooDeep => "template-too-deep",
            Code::TemplateHelperArguments => "template-helper-arguments",
            Code::TemplateDateFormat => "template-date-format",
            Code::UnknownLocale => "unknown-locale",
            Code::TemplateWholeRow => "template-whole-row",
            Code::TemplateComparison => "template-comparison",
            Code::FilterSyntax => "filter-syntax",
            Code::FilterType => "filter-type",
            Code::EmptyValue => "empty-value",
            Code::UnknownTimezone => "unknown-timezone",
            Code::UnknownCountry => "unknown-country",
            Code::WindowOrder => "window-order",
            Code::BadDate => "bad-date",
            Code::DatesOrder => "dates-order",
            Code::BadDuration => "bad-duration",
            Code::RetryWithoutOutcomes => "retry-without-outcomes",
            Code::RateAboveProviderLimit => "rate-above-provider-limit",
            Code::DefaultUnused => "default-unused",
            Code::DuplicateCampaignName => "duplicate-campaign-name",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::Code;

    #[test]
    fn codes_are_distinct_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.split('-').all(|p| !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
                "{s} is not kebab-case"
            );
        }
    }

    /// The README's table of codes lists every code, and only codes that exist.
    #[test]
    fn readme_lists_every_code() {
        let known = Code::ALL.iter().map(|c| c.as_str().to_owned()).collect();
        assert_readme_table("Codes are stable:", &known);
    }

    /// Asserts that the README's table after `marker` lists exactly `known` in its first column.
    pub(crate) fn assert_readme_table(marker: &str, known: &std::collections::BTreeSet<String>) {
        let readme = include_str!("../../README.md");
        let table = readme
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("the README has the table");
        let table = table
            .split("\n\n")
            .find(|p| p.contains("\n|---"))
            .unwrap_or_default();
        let mut listed = std::collections::BTreeSet::new();
        for line in table.lines().filter(|l| l.starts_with("| `")) {
            let first = line.split(" | ").next().unwrap_or_default();
            for part in first.split('`').skip(1).step_by(2) {
                listed.insert(part.to_owned());
            }
        }
        let missing: Vec<_> = known.difference(&listed).collect();
        let unknown: Vec<_> = listed.difference(known).collect();
        assert!(
            missing.is_empty(),
            "missing from the README's table after {marker:?}: {missing:?}"
        );
        assert!(
            unknown.is_empty(),
            "the README's table after {marker:?} lists what does not exist: {unknown:?}"
        );
    }
}
