//! The hints `validate` gives point the right way: each case is the bundled example with one
//! mistake a programme manager makes, and the words that must (and must not) be in its help.

use serde_json::Value;

use crate::{outreach, root};

/// The measles example with `from` replaced by `to`, in a directory of its own with its
/// patient files (the patients with one more column, whose name has a space).
fn campaign_with(from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(root().join("campaigns/measles-reminder.yaml")).unwrap();
    assert!(example.contains(from), "the example has no `{from}`");
    let text = example
        .replacen(from, to, 1)
        .replace("../schemas/", "schemas/");
    std::fs::write(dir.path().join("c.yaml"), text).unwrap();
    let patients = dir.path().join("patients");
    std::fs::create_dir(&patients).unwrap();
    for f in ["lagos-measles.csv", "opt-outs.csv"] {
        std::fs::copy(root().join("campaigns/patients").join(f), patients.join(f)).unwrap();
    }
    let csv = std::fs::read_to_string(patients.join("lagos-measles.csv")).unwrap();
    let mut spaced = String::new();
    for (i, line) in csv.lines().enumerate() {
        let extra = if i == 0 { "Next Visit" } else { "2026-12-09" };
        spaced.push_str(line);
        spaced.push(',');
        spaced.push_str(extra);
        spaced.push('\n');
    }
    std::fs::write(patients.join("lagos-measles.csv"), spaced).unwrap();
    dir
}

/// The diagnostics of `validate --format json` on the campaign.
fn diagnostics(dir: &tempfile::TempDir) -> Vec<Value> {
    let out = outreach()
        .current_dir(dir.path())
        .args(["validate", "--format", "json", "c.yaml"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["files"][0]["diagnostics"].as_array().unwrap().clone()
}

struct Case {
    from: &'static str,
    to: &'static str,
    code: &'static str,
    says: &'static [&'static str],
    not: &'static [&'static str],
}

const CASES: &[Case] = &[
    // A day's name: every allowed value, the days too, not only the groups of days.
    Case {
        from: "days: [weekdays]",
        to: "days: [Monday, Tues]",
        code: "not-allowed-value",
        says: &["did you mean `monday`?", "tuesday", "weekdays"],
        not: &[],
    },
    // A robocall's accents: never `english`, which only conversation calls have.
    Case {
        from: "accent: yoruba",
        to: "accent: englsh",
        code: "not-allowed-value",
        says: &[
            "`english` is an accent of conversation calls only",
            "yoruba",
        ],
        not: &["did you mean `english`", ", english"],
    },
    Case {
        from: "accent: yoruba",
        to: "accent: yorba",
        code: "not-allowed-value",
        says: &["did you mean `yoruba`?"],
        not: &["english"],
    },
    // A yes/no word where the field takes words of its own.
    Case {
        from: "in_doubt: hold",
        to: "in_doubt: no",
        code: "yaml-ambiguous-boolean",
        says: &["`in_doubt` takes one of: hold, resend"],
        not: &["true/false"],
    },
    // A clock time that YAML 1.1 tools read as a number.
    Case {
        from: "from: \"09:00\"",
        to: "from: 10:30",
        code: "yaml-base-60-number",
        says: &["\"10:30\""],
        not: &[],
    },
    // A column whose name has a space, written bare.
    Case {
        from: "clinic: \"{{clinic}}\"",
        to: "clinic: \"{{date Next Visit}}\"",
        code: "source-missing-column",
        says: &["`[Next Visit]`"],
        not: &[],
    },
    // A Windows path in double quotes.
    Case {
        from: "file: patients/lagos-measles.csv",
        to: "file: \"C:\\Users\\clinic\\patients.csv\"",
        code: "yaml-syntax",
        says: &["single quotes", "forward slashes"],
        not: &["is not closed"],
    },
    // A default keyed by the variable's name, not the column the template reads.
    Case {
        from: "clinic: \"{{clinic}}\"",
        to: "clinic: \"{{Clinic}}\"",
        code: "default-unused",
        says: &["did you mean `Clinic`?", "keyed by the column"],
        not: &[],
    },
    // A country's name, or its code in lower case.
    Case {
        from: "default_country: NG\n    allowed",
        to: "default_country: Nigeria\n    allowed",
        code: "bad-text",
        says: &["did you mean `NG`?"],
        not: &[],
    },
    Case {
        from: "default_country: NG\n    allowed",
        to: "default_country: ng\n    allowed",
        code: "bad-text",
        says: &["did you mean `NG`?"],
        not: &[],
    },
    // A city that is not a zone of its own, a city without its region, a typo.
    Case {
        from: "timezone: Africa/Lagos",
        to: "timezone: Africa/Kano",
        code: "unknown-timezone",
        says: &["did you mean `Africa/Lagos`?", "Nigeria"],
        not: &[],
    },
    Case {
        from: "timezone: Africa/Lagos",
        to: "timezone: Nairobi",
        code: "unknown-timezone",
        says: &["did you mean `Africa/Nairobi`?"],
        not: &[],
    },
    Case {
        from: "timezone: Africa/Lagos",
        to: "timezone: Africa/Acra",
        code: "unknown-timezone",
        says: &["did you mean `Africa/Accra`?"],
        not: &[],
    },
];

#[test]
fn hints_point_the_right_way() {
    let mut wrong = Vec::new();
    for case in CASES {
        let dir = campaign_with(case.from, case.to);
        let diags = diagnostics(&dir);
        let Some(d) = diags.iter().find(|d| d["code"] == case.code) else {
            wrong.push(format!("{}: no `{}` among {diags:?}", case.to, case.code));
            continue;
        };
        let help = d["help"].as_str().unwrap_or_default();
        for s in case.says {
            if !help.contains(s) {
                wrong.push(format!("{}: the help lacks {s:?}: {help}", case.to));
            }
        }
        for s in case.not {
            if help.contains(s) {
                wrong.push(format!("{}: the help says {s:?}: {help}", case.to));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A column with a space, written in brackets, is read as one column.
#[test]
fn a_column_with_a_space_in_brackets_is_one_column() {
    let dir = campaign_with(
        "clinic: \"{{clinic}}\"\n",
        "clinic: \"{{date [Next Visit] '%-d %B'}}\"\n",
    );
    let diags = diagnostics(&dir);
    assert!(diags.iter().all(|d| d["severity"] != "error"), "{diags:?}");
}

/// A folder, or a file that is not there, given where a campaign file belongs: every
/// command refuses it at once, in the same words, with what to give instead.
#[test]
fn a_folder_or_a_missing_file_is_refused_the_same_way_by_every_command() {
    let commands: [&[&str]; 7] = [
        &["plan"],
        &["apply", "--mock"],
        &["report"],
        &["pause"],
        &["resume"],
        &["status"],
        &["purge", "--older-than", "90d"],
    ];
    for args in commands {
        let folder = outreach().args(args).arg("campaigns").output().unwrap();
        let text = String::from_utf8_lossy(&folder.stderr);
        assert_eq!(folder.status.code(), Some(2), "{args:?}: {text}");
        assert!(
            text.contains("campaigns is a folder, not a campaign file: name one of its 5 campaigns, such as campaigns/immunisation-kano.yaml"),
            "{args:?}: {text}"
        );
        let missing = outreach()
            .args(args)
            .arg("campaigns/nope.yaml")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&missing.stderr);
        assert_eq!(missing.status.code(), Some(2), "{args:?}: {text}");
        assert!(
            text.contains("there is no file campaigns/nope.yaml: name a campaign file (`outreach init --patients PATIENTS.csv` writes one)"),
            "{args:?}: {text}"
        );
    }
}

/// `validate` with no path checks where `init` writes when there is no `campaigns/`, and
/// the top-level help starts a new user with `init`.
#[test]
fn validate_looks_where_init_writes_and_help_starts_with_init() {
    let dir = campaign_with(
        "name: measles-reminder-lagos",
        "name: measles-reminder-lagos",
    );
    let out = outreach()
        .current_dir(dir.path())
        .arg("validate")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ok: ./c.yaml"), "{text}");
    let empty = tempfile::tempdir().unwrap();
    let out = outreach()
        .current_dir(empty.path())
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "no campaign files (*.yaml, *.yml) in the current directory: write one with `outreach init --patients PATIENTS.csv`"
        )
    );
    let help = outreach().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Start with `outreach init --patients PATIENTS.csv`"),
        "{help}"
    );
    assert!(!help.contains("Start with `outreach validate`"), "{help}");
}

/// A `workflow_id` left as a placeholder is an error, located; one that is not a UUID only a
/// warning (the client accepts any non-empty id).
#[test]
fn a_placeholder_workflow_id_is_refused() {
    let id = "workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf";
    for (given, code, severity) in [
        ("REPLACE", "workflow-id-placeholder", "error"),
        ("TODO", "workflow-id-placeholder", "error"),
        ("xxx", "workflow-id-placeholder", "error"),
        ("\"<your workflow>\"", "workflow-id-placeholder", "error"),
        ("REPLACE-WITH-YOUR-ID", "workflow-id-placeholder", "error"),
        ("wf-2026-measles", "workflow-id-not-uuid", "warning"),
    ] {
        let dir = campaign_with(id, &format!("workflow_id: {given}"));
        let diags = diagnostics(&dir);
        let d = diags
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("{given}: no {code} in {diags:?}"));
        assert_eq!(d["severity"], severity, "{given}");
        assert_eq!(d["pointer"], "/workflow_id", "{given}");
        assert!(d["line"].as_u64().is_some(), "{given}: located");
    }
}
