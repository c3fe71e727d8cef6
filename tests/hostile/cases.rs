//! One hostile input through its reader, called as a library: the campaign loader and
//! validator, the patient readers (and the plan that streams their rows), the template
//! compiler and renderer. Each checks that a refusal is located: a campaign diagnostic has
//! its line (or, for the file as a whole, is one of [`WHOLE_FILE`]); a source's error names
//! its file; a row's error names its row or line; a template's error is a diagnostic on the
//! line of the variable that holds it.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use outreach::campaign::{Campaign, PatientSource};
use outreach::load::code::Code;
use outreach::load::diagnostic::FileReport;
use outreach::plan::{self, Call, Header, Sink, Skip, Summary};
use outreach::settings::formats::ValidateFormat;

/// Problems of a campaign file as a whole, which have no line to point at.
const WHOLE_FILE: [Code; 4] = [
    Code::FileTooLarge,
    Code::UnreadableFile,
    Code::EmptyFile,
    Code::NotText,
];

/// A campaign whose patients are in `file` (with `format:` when given) and whose one
/// variable is `template`, as YAML text.
pub(crate) fn campaign_text(file: &str, format: Option<&str>, template: &str) -> String {
    let format = format.map_or_else(String::new, |f| format!("    format: {f}\n"));
    // A JSON string is a YAML double-quoted scalar: any template text fits, escaped.
    let template = serde_json::to_string(template).unwrap();
    format!(
        "version: 1
name: hostile
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: '{file}'
{format}    default_country: NG
variables:
  name: {template}
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: \"08:00\", until: \"20:00\"}}]
"
    )
}

/// Every error of a checked campaign is located, and every report format renders it.
fn assert_located(what: &str, report: &FileReport) {
    for d in report.diagnostics.iter().filter(|d| d.is_error()) {
        assert!(
            d.span.is_some() || WHOLE_FILE.contains(&d.code),
            "{what}: {} has no line: {}",
            d.code.as_str(),
            d.message
        );
    }
    let mut out = Vec::new();
    for format in [
        ValidateFormat::Human,
        ValidateFormat::Json,
        ValidateFormat::Junit,
        ValidateFormat::Github,
    ] {
        out.clear();
        outreach::report::validation::reporter(format, false)
            .validation(std::slice::from_ref(report), &mut out)
            .unwrap();
    }
}

#[derive(Default)]
struct Collect {
    calls: u64,
    skips: Vec<Skip>,
}

impl Sink for Collect {
    fn header(&mut self, _: &Header, _: &Campaign) -> io::Result<()> {
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, calls: &[Call]) -> io::Result<()> {
        self.calls += calls.len() as u64;
        Ok(())
    }
    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        self.skips.push(skip.clone());
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// Plans a valid campaign: a refusal names `file`, and every skipped row has its number.
fn plan(what: &str, campaign: &Campaign, path: &Path, file: &str) {
    let mut sink = Collect::default();
    match plan::plan(campaign, path, &mut sink) {
        Err(e) => assert!(
            e.to_string().contains(file),
            "{what}: the plan's refusal does not name {file}: {e}"
        ),
        Ok(_) => {
            for s in &sink.skips {
                // A row's number, or (a record the file cannot be read past) its line.
                assert!(
                    s.row > 0 || s.reason.contains("line "),
                    "{what}: a skip with no row: {}",
                    s.reason
                );
                assert!(!s.reason.is_empty(), "{what}: a skip with no reason");
            }
        }
    }
}

/// A campaign file's bytes: validated (and planned, when valid) from a file of their own.
pub(crate) fn campaign_bytes(what: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, bytes).unwrap();
    let checked = outreach::validate::check_file(&path);
    assert_located(what, &checked.report);
    if let Some(campaign) = checked.campaign {
        plan(what, &campaign, &path, "c.yaml");
    }
}

/// A patient file's bytes, named like `name` (its extension picks the reader): its columns
/// and every row read directly, then as the patients of a campaign that is validated and
/// planned.
pub(crate) fn patient_file(name: &str, bytes: &[u8]) {
    let ext = Path::new(name)
        .extension()
        .map_or("csv".into(), |e| e.to_string_lossy());
    let file = format!("patients.{ext}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(&file), bytes).unwrap();

    let source: PatientSource =
        serde_json::from_value(serde_json::json!({"file": file, "default_country": "NG"})).unwrap();
    match outreach::patients::source::open(&source, dir.path()) {
        Err(e) => assert!(
            e.to_string().contains(&file),
            "{name}: the refusal does not name the file: {e}"
        ),
        Ok(rows) => {
            for row in rows {
                if let Err(e) = row {
                    assert!(
                        e.number > 0 || e.message.contains("line "),
                        "{name}: a row error with neither row nor line: {}",
                        e.message
                    );
                }
            }
        }
    }

    let path = dir.path().join("c.yaml");
    let text = campaign_text(&file, None, "{{name}}");
    std::fs::write(&path, &text).unwrap();
    let checked = outreach::validate::check_text(&path, &text, dir.path());
    assert_located(name, &checked.report);
    if let Some(campaign) = checked.campaign {
        plan(name, &campaign, &path, &file);
    }
}

/// A template: parsed for its references, compiled and rendered on a row, and checked as a
/// campaign's variable.
pub(crate) fn template(what: &str, text: &str) {
    // Where a template is wrong is the campaign's line (checked below); its own error only
    // has to say what.
    if let Err(e) = outreach::render::template::references(text) {
        assert!(
            !e.message.is_empty(),
            "{what}: a syntax error that says nothing"
        );
    }
    let variables = BTreeMap::from([("greeting".to_owned(), text.to_owned())]);
    let rules = outreach::render::dates::DateRules::strict_today();
    match outreach::render::Renderer::new(&variables, &BTreeMap::new(), &BTreeMap::new(), rules) {
        Err(e) => assert!(e.contains("`greeting`"), "{what}: {e}"),
        Ok(renderer) => {
            let header = ["name", "a", "b"].map(String::from);
            let bound = renderer.bind(&header);
            let _ = bound.render(&csv::StringRecord::from(vec!["Ada", "1", ""]));
        }
    }

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.csv"),
        "phone,name,a,b\n+2348031110000,Ada,1,\n",
    )
    .unwrap();
    let path = dir.path().join("c.yaml");
    let campaign = campaign_text("p.csv", None, text);
    std::fs::write(&path, &campaign).unwrap();
    let checked = outreach::validate::check_text(&path, &campaign, dir.path());
    assert_located(what, &checked.report);
    if let Some(campaign) = checked.campaign {
        plan(what, &campaign, &path, "p.csv");
    }
}
