//! Dates and numbers in a language (issue 20, its first piece): `{{date d '%A %-d %B'
//! locale="ha"}}` and `{{number n locale="rw"}}` write CLDR's words and separators, which the
//! plan's sample shows a reviewer; validate refuses a language CLDR lacks and a date format
//! that would come out in English.

use std::path::Path;

use serde_json::Value;

use crate::outreach;

/// Inside the campaign's window (every day, all day) and before its dates.
const NOW: &str = "2026-12-01T10:00:00Z";

fn campaign(visit: &str, amount: &str) -> String {
    format!(
        r#"version: 1
name: languages
kind: robocall
workflow:
  name: wf-languages
  message: "Sannu [name], ranar [visit]. Kudin: [amount]."
voice:
  accent: hausa
  gender: female
round: "2027-01"
patients:
  - inline:
      - {{phone: "08031234567", name: Aisha, visit: "2027-01-15", amount: "1234567.5"}}
      - {{phone: "08051234567", name: Bello, visit: "2027-01-15", amount: "1,234"}}
    default_country: NG
variables:
  name: "{{{{name}}}}"
  visit: "{visit}"
  amount: "{amount}"
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "00:00", until: "24:00"}}]
"#
    )
}

/// Runs outreach in `dir`: the exit status, standard output, and standard error.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = outreach()
        .current_dir(dir)
        .env("OUTREACH_FAKE_NOW", NOW)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_plans_sample_speaks_the_language_of_locale() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("c.yaml"),
        campaign(
            "{{date visit '%A %-d %B' locale=\\\"ha\\\"}}",
            "{{number amount locale=\\\"rw\\\"}}",
        ),
    )
    .unwrap();
    let (code, out, _) = run(d, &["validate", "c.yaml"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out, err) = run(
        d,
        &[
            "plan", "--mock", "--unmask", "--format", "json", "c.yaml", "--state", "state.db",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc["sample"][0]["heard"], "Sannu Aisha, ranar Jummaʼa 15 Janairu. Kudin: 1.234.567,5.",
        "{doc:#}"
    );
    // `1,234` could be a thousand or one and a fraction: its row is skipped, never guessed.
    let skipped = &doc["skipped"]["template-error"];
    assert_eq!(skipped["count"], 1, "{doc:#}");
    let reason = skipped["examples"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("`amount` is not a number"), "{reason}");
    assert!(
        !reason.contains("1,234"),
        "the cell is not repeated: {reason}"
    );
    // Masked unless asked: the words are a patient's data like any other.
    let (_, masked, _) = run(
        d,
        &[
            "plan", "--mock", "--format", "json", "c.yaml", "--state", "state.db",
        ],
    );
    assert!(!masked.contains("Janairu"), "{masked}");
}

#[test]
fn validate_refuses_a_language_cldr_lacks_and_english_only_formats() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (
            "{{date visit locale=\\\"hau\\\"}}",
            "unknown-locale",
            "locale=\\\"ha\\\"",
        ),
        (
            "{{date visit locale=\\\"tw\\\"}}",
            "unknown-locale",
            "with `names:`",
        ),
        (
            "{{date visit '%c' locale=\\\"ha\\\"}}",
            "template-date-format",
            "%c",
        ),
    ];
    for (visit, code, words) in cases {
        std::fs::write(d.join("c.yaml"), campaign(visit, "{{number amount}}")).unwrap();
        let (status, out, _) = run(d, &["validate", "--format", "json", "c.yaml"]);
        assert_eq!(status, Some(1), "{visit}: {out}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        let found: Vec<&Value> = doc["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == code)
            .collect();
        assert_eq!(found.len(), 1, "{visit}: {out}");
        let text = format!("{} {}", found[0]["message"], found[0]["help"]);
        assert!(text.contains(words.trim_matches('\\')), "{visit}: {text}");
        assert_eq!(found[0]["line"], 18, "{visit}: the visit's line: {out}");
    }
}
