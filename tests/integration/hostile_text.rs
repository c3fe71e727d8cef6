//! Hostile text (issue 14): campaign files are written by whoever opens a pull request, and CI
//! runs `validate` and `plan` on them. Class 16: any line, however long and whatever it holds,
//! is shown as a bounded, inert excerpt, never a panic.

use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;

use crate::outreach;

/// A refused input ends with its located error well inside this; a hang is a failure.
const WATCHDOG: Duration = Duration::from_secs(60);

/// The most characters of any line of output (an excerpt line is at most 100 characters of
/// the file, cut marks and the gutter around them; a tab is drawn as four spaces and a wide
/// character's underline as two dashes).
const MOST_PER_LINE: usize = 500;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Runs outreach in `dir` under the watchdog: (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = outreach()
        .current_dir(dir)
        .timeout(WATCHDOG)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{args:?} did not end within {WATCHDOG:?}: {e}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A campaign that is valid until `line` is inserted after its `name`.
fn campaign_with(line: &str) -> String {
    named(&format!("name: hostile\n{line}"))
}

/// A campaign whose second line (and any after it) is `lines`, valid if they are a good name.
fn named(lines: &str) -> String {
    format!(
        r#"version: 1
{lines}
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - inline:
      - phone: "+2348031110000"
        name: Ada
    default_country: NG
variables:
  name: "{{{{name}}}}"
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "08:00", until: "20:00"}}]
"#
    )
}

/// What a reporter printed: ended (no panic), and no line of it longer than the bound.
fn assert_bounded(what: &str, code: Option<i32>, stdout: &str, stderr: &str) {
    assert!(
        matches!(code, Some(0..=2)),
        "{what}: exit {code:?}\n{}",
        stderr.chars().take(2000).collect::<String>()
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    for text in [stdout, stderr] {
        for line in text.lines() {
            let n = line.chars().count();
            assert!(
                n <= MOST_PER_LINE,
                "{what}: a line of {n} characters: {}…",
                line.chars().take(200).collect::<String>()
            );
        }
    }
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut now) = (0, 0);
    for x in text.chars() {
        now = if x == c { now + 1 } else { 0 };
        best = best.max(now);
    }
    best
}

/// A line of 70,000 characters (past the 65,535 columns miette can draw): validate and plan
/// say what is wrong and where, showing about 100 characters of the line, cut around the place.
#[test]
fn class_16_a_line_longer_than_65535_characters_is_shown_cut_around_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let long = "a".repeat(70_000);
    // A value too long for its field, and an unknown key of 70,000 characters after 100 tabs.
    write(d, "value.yaml", &named(&format!("name: {long}")));
    write(
        d,
        "key.yaml",
        &campaign_with(&format!("? {}{long}\n: 1", "\t".repeat(100))),
    );
    write(
        d,
        "syntax.yaml",
        &campaign_with(&format!("description: {long}\u{1b}[2J: {long}")),
    );
    for file in ["value.yaml", "key.yaml", "syntax.yaml"] {
        for args in [
            vec!["validate", "--color", "never", file],
            vec!["validate", "--format", "github", file],
            vec!["validate", "--format", "json", file],
            vec!["validate", "--format", "junit", file],
            vec!["plan", "--color", "never", file],
        ] {
            let (code, stdout, stderr) = run(d, &args);
            let what = args.join(" ");
            assert_bounded(&what, code, &stdout, &stderr);
            assert_ne!(code, Some(0), "{what}: refused");
            assert!(
                longest_run(&stdout, 'a') <= 100 && longest_run(&stderr, 'a') <= 100,
                "{what}: more than 100 characters of the line are shown"
            );
            assert!(
                !stdout.contains('\u{1b}'),
                "{what}: an escape reached the output"
            );
        }
        let (_, stdout, _) = run(d, &["validate", "--color", "never", file]);
        let line = if file == "value.yaml" { 2 } else { 3 };
        assert!(
            stdout.contains(&format!("[{file}:{line}:")),
            "located: {stdout}"
        );
        assert!(
            stdout.contains('…'),
            "{file}: the line is shown cut: {stdout}"
        );
    }
    let (_, stdout, _) = run(d, &["validate", "--color", "never", "syntax.yaml"]);
    assert!(stdout.contains("[syntax.yaml:3:7001"), "{stdout}");
}

/// Characters that break column arithmetic or act on a terminal: tabs, controls, combining
/// marks, right-to-left text and direction overrides, wide characters, line breaks YAML
/// counts (`\r`), and the byte-order mark.
const HOSTILE: [char; 16] = [
    'a', ' ', '\t', '\u{1b}', '\u{7f}', '\u{85}', '\u{0301}', '\u{202e}', '\u{2066}', 'ש', 'ع',
    '中', '😀', '\r', '\u{feff}', ':',
];

fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(0..HOSTILE.len(), 0..64),
        0usize..max,
    )
        .prop_map(|(pattern, len)| {
            if pattern.is_empty() {
                return "a".repeat(len);
            }
            pattern
                .iter()
                .cycle()
                .take(len)
                .map(|&i| HOSTILE[i])
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The generated corpus over the real binary: a campaign with one line of any length
    /// (up to 100,000 characters) and content, as a name, a key, a quoted name, a value no
    /// rule limits, or a line of its own.
    #[test]
    fn class_16_any_line_of_a_campaign_is_reported_without_panic(
        text in hostile_text(100_000),
        form in 0usize..5,
    ) {
        let campaign = match form {
            0 => named(&format!("name: {text}")),
            1 => campaign_with(&format!("? {text}\n: 1")),
            2 => named(&format!("name: \"{text}\"")),
            3 => campaign_with(&format!("description: {text}")),
            _ => campaign_with(&text),
        };
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "c.yaml", &campaign);
        for format in ["human", "github"] {
            let (code, stdout, stderr) =
                run(dir.path(), &["validate", "--color", "never", "--format", format, "c.yaml"]);
            assert_bounded(format, code, &stdout, &stderr);
            prop_assert!(!stdout.contains(['\u{1b}', '\u{202e}', '\u{2066}']), "{stdout}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any span over any text, rendered in every format: at the end of the file, zero-width,
    /// past the line's end or the file's, inside a character, ending before it starts.
    #[test]
    fn class_16_any_span_over_any_text_is_rendered_without_panic(
        text in hostile_text(80_000).prop_map(|t| t.replace('\u{85}', "\n")),
        lines in proptest::collection::vec("[a-z: ]{0,20}", 0..4),
        spans in proptest::collection::vec((0usize..200_000, 0usize..200_000, 0usize..10), 1..6),
    ) {
        use outreach::load::diagnostic::{Code, Diagnostic, FileReport};
        use outreach::load::yaml::{Pos, Span};
        let mut source = lines.join("\n");
        source.push('\n');
        source.push_str(&text);
        let mut report = FileReport::new(Path::new("fuzz.yaml"));
        for (start, end, line) in spans {
            let span = Span {
                start: Pos { line, column: 1, offset: start % (source.len() + 3) },
                end: Pos { line, column: 1, offset: end % (source.len() + 3) },
            };
            report.diagnostics.push(Diagnostic::error(Code::BadText, "bad").at("/x", Some(span)));
        }
        report.source = Some(source);
        for format in [
            outreach::settings::formats::ValidateFormat::Human,
            outreach::settings::formats::ValidateFormat::Json,
            outreach::settings::formats::ValidateFormat::Junit,
            outreach::settings::formats::ValidateFormat::Github,
        ] {
            let mut out = Vec::new();
            outreach::report::validation::reporter(format, false)
                .validation(std::slice::from_ref(&report), &mut out)
                .unwrap();
            let out = String::from_utf8(out).unwrap();
            assert_bounded(&format!("{format:?}"), Some(1), &out, "");
        }
    }
}

/// A campaign whose `name` variable is `template` (quoted for YAML), with one inline patient.
fn with_template(template: &str) -> String {
    let quoted = template.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        r#"version: 1
name: hostile
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - inline:
      - phone: "+2348031110000"
        name: Ada
    default_country: NG
variables:
  name: "{quoted}"
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "08:00", until: "20:00"}}]
"#
    )
}

/// Templates that are valid handlebars but would overflow its parser's stack or take minutes
/// to compile: validate names the limit and the place, and plan and apply refuse them the
/// same way, before anything is parsed or sent.
#[test]
fn class_17_templates_past_the_size_or_nesting_limit_are_refused_before_parsing() {
    let cases = [
        (
            "blocks",
            format!(
                "{}x{}",
                "{{#if name}}".repeat(2_000),
                "{{/if}}".repeat(2_000)
            ),
            "template-too-deep",
        ),
        (
            "subexpressions",
            format!(
                "{{{{upper {}name{}}}}}",
                "(upper ".repeat(3_000),
                ")".repeat(3_000)
            ),
            "template-too-deep",
        ),
        (
            "expressions",
            "{{name}}".repeat(60_000),
            "template-too-long",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (what, template, code) in cases {
        let file = format!("{what}.yaml");
        write(d, &file, &with_template(&template));

        let (exit, stdout, stderr) = run(d, &["validate", "--format", "json", &file]);
        assert_bounded(what, exit, &stdout, &stderr);
        assert_eq!(exit, Some(1), "{what}: {stdout}{stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let diagnostics = doc["files"][0]["diagnostics"].as_array().unwrap();
        let found = diagnostics
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("{what}: no {code}: {stdout}"));
        assert_eq!(found["pointer"], "/variables/name", "{what}");
        assert_eq!(
            (found["line"].as_u64(), found["column"].as_u64()),
            (Some(10), Some(9))
        );

        let (exit, stdout, stderr) = run(d, &["validate", "--color", "never", &file]);
        assert_bounded(what, exit, &stdout, &stderr);
        assert!(
            stdout.contains(&format!("[{file}:10:9]")),
            "{what}: {stdout}"
        );

        let state = d.join(format!("{what}.db"));
        for args in [
            vec!["plan", "--color", "never", &file],
            vec![
                "apply",
                "--mock",
                "--yes",
                &file,
                "--state",
                state.to_str().unwrap(),
            ],
        ] {
            let (exit, stdout, stderr) = run(d, &args);
            let said = format!("{stdout}{stderr}");
            assert_bounded(what, exit, &stdout, &stderr);
            assert_ne!(exit, Some(0), "{what}: {args:?} refuses: {said}");
            // plan shows the diagnostics; apply says to run validate.
            let named = if args[0] == "plan" {
                code
            } else {
                "not a valid campaign"
            };
            assert!(
                said.contains(named),
                "{what}: {args:?} says {named}: {said}"
            );
            assert!(!said.contains("sent"), "{what}: nothing is sent: {said}");
        }
    }
}

/// The largest template accepted (4,000 characters, nested 32 deep) plans and renders.
#[test]
fn class_17_the_largest_accepted_template_is_planned() {
    let open = "{{#if name}}".repeat(32);
    let close = "{{/if}}".repeat(32);
    let room = 4_000 - open.len() - close.len();
    let template = format!("{open}{}{close}", "{{name}}".repeat(room / 8));
    assert!(template.chars().count() <= 4_000);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "c.yaml", &with_template(&template));
    let (exit, stdout, stderr) = run(dir.path(), &["validate", "c.yaml"]);
    assert_eq!(exit, Some(0), "{stdout}{stderr}");
    let (exit, stdout, stderr) = run(
        dir.path(),
        &["plan", "--format", "json", "--unmask", "c.yaml"],
    );
    assert_eq!(exit, Some(0), "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 1, "{stdout}");
}

/// Class 7: what validate can see of blank or garbage words is refused, by plan too.
#[test]
fn class_7_blank_or_garbage_words_are_refused_before_planning() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (
            "blank-name",
            with_template("{{name}}").replace("name: Ada", "name: \"\""),
            "empty-value",
        ),
        (
            "blank-default",
            with_template("{{clinic}}")
                .replace("variables:", "defaults:\n  clinic: \" \"\nvariables:"),
            "empty-value",
        ),
        (
            "this",
            with_template("Hello {{this}}"),
            "template-whole-row",
        ),
        (
            "root",
            with_template("Hello {{@root}}"),
            "template-whole-row",
        ),
        (
            "comparison",
            with_template("{{#if (gt name \"10\")}}old{{else}}young{{/if}}"),
            "template-comparison",
        ),
    ];
    for (what, campaign, code) in cases {
        let file = format!("{what}.yaml");
        write(d, &file, &campaign);
        let (exit, stdout, stderr) = run(d, &["validate", "--format", "json", &file]);
        assert_eq!(exit, Some(1), "{what}: {stdout}{stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let found = doc["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("{what}: no {code}: {stdout}"));
        assert!(found["line"].is_u64(), "{what}: located: {found}");
        let (exit, stdout, stderr) = run(d, &["plan", "--color", "never", &file]);
        assert_ne!(exit, Some(0), "{what}: plan refuses: {stdout}{stderr}");
        assert!(
            format!("{stdout}{stderr}").contains(code),
            "{what}: {stdout}{stderr}"
        );
    }
}

/// Class 7: a variable that renders empty on a row (here, a ward that is blank or only
/// spaces) skips that row, naming the variable; nothing is sent to it. Listed under
/// `allow_empty`, it may be empty and the row is called.
#[test]
fn class_7_a_variable_that_renders_empty_skips_its_row_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "patients.csv",
        "name,phone,ward\nAda,08031234567,4\nBola,08051234567,\nChi,08061234567,\"   \"\n",
    );
    let campaign = |extra: &str| {
        format!(
            r#"version: 1
name: blank
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: patients.csv
    default_country: NG
variables:
  name: "{{{{name}}}}"
  ward: "{{{{#if ward}}}}ward {{{{ward}}}}{{{{/if}}}}"
{extra}
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "00:00", until: "23:59"}}]
"#
        )
    };
    write(d, "c.yaml", &campaign(""));
    let (exit, stdout, stderr) = run(d, &["validate", "c.yaml"]);
    assert_eq!(exit, Some(0), "{stdout}{stderr}");
    let (exit, stdout, stderr) = run(d, &["plan", "--format", "json", "c.yaml"]);
    assert_eq!(exit, Some(0), "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 1, "only Ada: {stdout}");
    assert!(stdout.contains("missing-value"), "{stdout}");
    let (_, text, _) = run(d, &["plan", "--color", "never", "c.yaml"]);
    assert!(
        text.contains("`ward` renders empty"),
        "the variable is named: {text}"
    );

    let state = d.join("state.db");
    let state = state.to_str().unwrap();
    // apply places what plan lists: Ada, once; afterwards only the blank rows are left,
    // still skipped.
    let (exit, stdout, stderr) = run(d, &["apply", "--mock", "--yes", "c.yaml", "--state", state]);
    assert_eq!(exit, Some(0), "{stdout}{stderr}");
    let (exit, stdout, stderr) = run(
        d,
        &[
            "plan", "--mock", "--format", "json", "c.yaml", "--state", state,
        ],
    );
    assert_eq!(exit, Some(0), "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 0, "{stdout}");
    assert_eq!(doc["skipped"]["missing-value"]["count"], 2, "{stdout}");

    write(d, "c.yaml", &campaign("allow_empty: [ward]"));
    let (exit, stdout, stderr) = run(d, &["plan", "--format", "json", "c.yaml"]);
    assert_eq!(exit, Some(0), "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 3, "everyone: {stdout}");
}
