//! Issue 14, hostile source files: a campaign in a pull request names files to read, and CI
//! runs `validate` and `plan` on it with the API key in its environment. Each test is named
//! after the class of problem it guards; every run is under a 60 s watchdog.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::outreach;

/// How long any one run may take before the watchdog ends it (a hang is a failure).
const WATCHDOG: Duration = Duration::from_secs(60);

/// The API key CI has in its environment: it must never be printed.
const SECRET_KEY: &str = "sk-test-SECRETkey0123456789abcdef";
/// What a file outside the repository holds: it must never be printed either.
const SECRET_LINE: &str = "DATABASE_PASSWORD=hunter2-SECRETline";

/// A repository (a folder with `.git`) holding `campaigns/c.yaml` and its patient file, with
/// a file beside the repository that no campaign may read.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("campaigns/patients")).unwrap();
        std::fs::write(
            repo.join("campaigns/patients/p.csv"),
            "phone,first_name\n+2348031234567,Ada\n",
        )
        .unwrap();
        std::fs::write(repo.join(".git/patients.csv"), format!("{SECRET_LINE}\n")).unwrap();
        std::fs::write(dir.path().join("outside.csv"), format!("{SECRET_LINE}\n")).unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("outside.csv"),
            repo.join("campaigns/patients/link.csv"),
        )
        .unwrap();
        Repo { dir }
    }

    fn campaigns(&self) -> PathBuf {
        self.dir.path().join("repo/campaigns")
    }

    /// Writes `campaigns/c.yaml` with this patient file (and opt-out list, if any).
    fn campaign(&self, patients: &str, opt_out: Option<&str>) -> PathBuf {
        let exclude = opt_out.map_or_else(String::new, |f| {
            format!("exclude:\n  - file: '{f}'\n    format: csv\n")
        });
        let text = format!(
            "version: 1
name: hostile
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: '{patients}'
    format: csv
    default_country: NG
variables:
  name: \"{{{{first_name}}}}\"
{exclude}schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: \"09:00\", until: \"17:00\"}}]
"
        );
        let path = self.campaigns().join("c.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let out = outreach()
        .current_dir(dir)
        .env("INTRON_API_KEY", SECRET_KEY)
        .env("OUTREACH_TEST_SECRET", SECRET_LINE)
        .timeout(WATCHDOG)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some(),
        "{args:?} did not end by itself within {WATCHDOG:?}"
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No secret, and nothing of the file's content, in anything printed.
fn assert_nothing_leaks(what: &str, all: &str) {
    for secret in [
        SECRET_KEY,
        "SECRETkey",
        SECRET_LINE,
        "hunter2",
        "SECRETline",
    ] {
        assert!(!all.contains(secret), "{what} printed {secret:?}:\n{all}");
    }
    // Nothing from the environment or a system file either.
    for content in ["root:x:0", "PATH=", "HOME="] {
        assert!(!all.contains(content), "{what} printed {content:?}:\n{all}");
    }
}

/// Every output format of validate, and plan: refused with the code, located at the line of
/// `file:`, and nothing leaks.
fn assert_refused(repo: &Repo, code: &str, line: u64) {
    let dir = repo.campaigns();
    for format in ["human", "json", "github", "junit"] {
        let out = run(&dir, &["validate", "--format", format, "c.yaml"]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{format}:\n{all}");
        assert!(all.contains(code), "{format} does not name {code}:\n{all}");
        assert_nothing_leaks(format, &all);
    }
    let out = run(&dir, &["validate", "--format", "json", "c.yaml"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = doc["files"][0]["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["code"] == code
            && d["line"] == line
            && d["pointer"].as_str().is_some_and(|p| p.ends_with("/file"))),
        "no {code} at line {line}: {diags:?}"
    );
    let out = run(&dir, &["plan", "c.yaml"]);
    let all = text(&out);
    assert_ne!(out.status.code(), Some(0), "plan ran:\n{all}");
    assert!(all.contains(code), "plan does not name {code}:\n{all}");
    assert_nothing_leaks("plan", &all);
}

#[test]
fn class_12_sources_outside_the_repository_are_never_read_nor_printed() {
    let repo = Repo::new();
    for file in [
        "/proc/self/environ",
        "/etc/passwd",
        "patients/link.csv",
        "../../outside.csv",
        "../.git/patients.csv",
    ] {
        repo.campaign(file, None);
        assert_refused(&repo, "source-outside", 5);
    }
    // An opt-out list is a source like any other.
    repo.campaign("patients/p.csv", Some("/proc/self/environ"));
    assert_refused(&repo, "source-outside", 11);
}

#[test]
fn class_12_allow_source_outside_lets_a_named_folder_through() {
    let repo = Repo::new();
    let elsewhere = repo.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(
        elsewhere.join("p.csv"),
        "phone,first_name\n+2348031234567,Ada\n",
    )
    .unwrap();
    repo.campaign("../../elsewhere/p.csv", None);
    let dir = repo.campaigns();
    let out = run(&dir, &["validate", "c.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--allow-source-outside"),
        "{}",
        text(&out)
    );
    let allow = elsewhere.display().to_string();
    for args in [
        &["validate", "--allow-source-outside", &allow, "c.yaml"][..],
        &["plan", "--allow-source-outside", &allow, "c.yaml"],
    ] {
        let out = run(&dir, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    }
    // Several folders may be given; one that does not exist is refused, not ignored.
    let out = run(
        &dir,
        &[
            "validate",
            "--allow-source-outside",
            "/nonexistent-outreach",
            "c.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let help = run(&dir, &["plan", "--help"]);
    assert!(text(&help).contains("--allow-source-outside"));
}

#[test]
fn class_12_column_hints_never_echo_a_one_line_secret() {
    let repo = Repo::new();
    let dir = repo.campaigns();
    // A key file, committed into the repository by mistake and named as a patient file:
    // its one line is read as a CSV header.
    for content in [
        format!("{SECRET_LINE}\n"),
        format!("{SECRET_KEY}\n"),
        format!("mobile,{SECRET_KEY},name\n"),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTRUNSRVQifQ.SECRETsignatureAbc123\n".to_owned(),
    ] {
        std::fs::write(dir.join("patients/key.csv"), &content).unwrap();
        repo.campaign("patients/key.csv", None);
        for format in ["human", "json", "github", "junit"] {
            let out = run(&dir, &["validate", "--format", format, "c.yaml"]);
            let all = text(&out);
            assert_eq!(out.status.code(), Some(1), "{format}:\n{all}");
            assert!(all.contains("source-missing-column"), "{format}:\n{all}");
            assert_nothing_leaks(format, &all);
            assert!(!all.contains("SECRET"), "{format}:\n{all}");
        }
    }
}

#[test]
fn class_12_init_says_when_the_patient_file_is_outside_the_repository() {
    let repo = Repo::new();
    let elsewhere = repo.dir.path().join("downloads");
    std::fs::create_dir(&elsewhere).unwrap();
    let patients = elsewhere.join("clinic.csv");
    std::fs::write(
        &patients,
        "phone,first_name\n+2348031234567,Ada\n+2348031234568,Bola\n",
    )
    .unwrap();
    let dir = repo.campaigns();
    let out = run(
        &dir,
        &[
            "init",
            "--yes",
            "--patients",
            &patients.display().to_string(),
            ".",
        ],
    );
    let all = text(&out);
    assert!(all.contains("outside the campaign's repository"), "{all}");
    assert!(
        all.contains(&format!(
            "--allow-source-outside {}",
            elsewhere.canonicalize().unwrap().display()
        )),
        "{all}"
    );
    assert!(all.contains("Copy it in"), "{all}");
}

/// Makes a named pipe at `path`: nothing ever writes to it, so opening it to read blocks.
fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

#[test]
fn class_18_fifos_and_devices_are_refused_without_hanging() {
    let repo = Repo::new();
    let dir = repo.campaigns();
    mkfifo(&dir.join("patients/pipe.csv"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("patients/zero.ndjson")).unwrap();

    // A FIFO as a patient file, and /dev/zero (allowed by name, and through a symlink).
    repo.campaign("patients/pipe.csv", None);
    assert_refused(&repo, "source-not-a-file", 5);
    for (file, allow) in [("/dev/zero", "/dev"), ("patients/zero.ndjson", "/dev")] {
        repo.campaign(file, None);
        for format in ["human", "json"] {
            let out = run(
                &dir,
                &[
                    "validate",
                    "-f",
                    format,
                    "--allow-source-outside",
                    allow,
                    "c.yaml",
                ],
            );
            assert_eq!(out.status.code(), Some(1), "{file}: {}", text(&out));
            assert!(
                text(&out).contains("source-not-a-file"),
                "{file}: {}",
                text(&out)
            );
        }
        let out = run(&dir, &["plan", "--allow-source-outside", allow, "c.yaml"]);
        assert_ne!(out.status.code(), Some(0), "{file}: {}", text(&out));
    }

    // A FIFO named like a campaign, in a folder validate walks, and as the campaign itself.
    repo.campaign("patients/p.csv", None);
    let walked = repo.dir.path().join("repo/walked");
    std::fs::create_dir(&walked).unwrap();
    std::fs::copy(dir.join("c.yaml"), walked.join("good.yaml")).unwrap();
    std::fs::create_dir(walked.join("patients")).unwrap();
    std::fs::copy(dir.join("patients/p.csv"), walked.join("patients/p.csv")).unwrap();
    mkfifo(&walked.join("pipe.yaml"));
    let out = run(&walked, &["validate", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pipe = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with("pipe.yaml")))
        .unwrap_or_else(|| panic!("pipe.yaml not reported: {doc}"));
    assert_eq!(pipe["diagnostics"][0]["code"], "unreadable-file", "{pipe}");
    assert!(
        pipe["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("named pipe"),
        "{pipe}"
    );
    for args in [
        &["plan", "pipe.yaml"][..],
        &["apply", "--mock", "--yes", "pipe.yaml"],
        &["apply", "--mock", "--yes", "/dev/zero"],
        &["plan", "--compare", "pipe.yaml", "good.yaml"],
        &["plan", "--compare", "/dev/zero", "good.yaml"],
    ] {
        let out = run(&walked, args);
        assert_ne!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    }
}

#[test]
fn class_18_api_key_files_are_regular_and_small() {
    let repo = Repo::new();
    let dir = repo.campaigns();
    repo.campaign("patients/p.csv", None);
    mkfifo(&dir.join("key.fifo"));
    std::fs::write(dir.join("big.key"), "k".repeat(5000)).unwrap();
    for (key, says) in [
        ("key.fifo", "named pipe"),
        ("/dev/zero", "a device"),
        ("big.key", "larger than 4 KiB"),
    ] {
        // The key is read while the flags are resolved, before anything is sent.
        let out = run(
            &dir,
            &[
                "plan",
                "--api-url",
                "http://127.0.0.1:9",
                "--api-key-file",
                key,
                "c.yaml",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{key}: {}", text(&out));
        assert!(
            text(&out).contains("cannot read the API key file"),
            "{key}: {}",
            text(&out)
        );
        assert!(text(&out).contains(says), "{key}: {}", text(&out));
        assert!(!text(&out).contains("kkkk"), "{key}: {}", text(&out));
    }
}

#[test]
fn class_18_an_endless_record_is_refused_with_its_line() {
    let repo = Repo::new();
    let dir = repo.campaigns();
    let long = "9".repeat(3 * 1024 * 1024);
    // In the header: validate refuses the source. In a row: that row and the rest are not
    // read, and plan says which line.
    std::fs::write(dir.join("patients/header.csv"), format!("phone{long}\n")).unwrap();
    std::fs::write(
        dir.join("patients/row.csv"),
        format!("phone,first_name\n+2348031234567,Ada\n\"{long}\n+2348031234568,Bola\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("patients/long.ndjson"),
        format!("{{\"phone\":\"{long}\"}}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("patients/long.json"),
        format!("[{{\"phone\":\"{long}\"}}]"),
    )
    .unwrap();
    for file in ["patients/header.csv", "patients/long.json"] {
        repo.campaign(file, None);
        let text = std::fs::read_to_string(dir.join("c.yaml")).unwrap();
        std::fs::write(
            dir.join("c.yaml"),
            text.replace("    format: csv\n    default", "    default"),
        )
        .unwrap();
        let out = run(&dir, &["validate", "--format", "json", "c.yaml"]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", self::text(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = &doc["files"][0]["diagnostics"][0];
        assert_eq!(d["code"], "source-too-large", "{file}: {d}");
        assert_eq!(d["line"], 5, "{file}: {d}");
        assert!(
            d["message"].as_str().unwrap().contains("longer than 1 MiB"),
            "{file}: {d}"
        );
    }
    repo.campaign("patients/row.csv", None);
    let out = run(&dir, &["plan", "--format", "json", "c.yaml"]);
    let all = text(&out);
    assert!(
        all.contains("the record that starts on line 3 is longer than 1 MiB"),
        "{}",
        &all[..all.len().min(4000)]
    );
    assert!(all.len() < 100_000, "the record was printed");
    repo.campaign("patients/long.ndjson", None);
    let text = std::fs::read_to_string(dir.join("c.yaml")).unwrap();
    std::fs::write(
        dir.join("c.yaml"),
        text.replace("    format: csv\n    default", "    default"),
    )
    .unwrap();
    let out = run(&dir, &["validate", "c.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", self::text(&out));
    assert!(self::text(&out).len() < 100_000, "the record was printed");
}

/// Writes a workbook of one sheet whose XML is `sheet` (the rest the least a reader needs).
fn write_xlsx(path: &Path, sheet: &[u8]) {
    use std::io::Write as _;
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, &[u8]); 5] = [
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Patients" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    for (name, bytes) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// A sheet's XML with these rows, each `(reference, inline text)`.
fn sheet_xml(cells: &[(&str, &str)], padding: usize) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (at, value) in cells {
        let row: String = at.chars().filter(char::is_ascii_digit).collect();
        write!(
            xml,
            r#"<row r="{row}"><c r="{at}" t="inlineStr"><is><t>{value}</t></is></c></row>"#
        )
        .unwrap();
    }
    xml.push_str(&" ".repeat(padding));
    xml.push_str("</sheetData></worksheet>");
    xml.into_bytes()
}

#[test]
fn class_15_spreadsheets_past_their_bounds_are_refused() {
    let repo = Repo::new();
    let dir = repo.campaigns();
    let good = dir.join("patients/good.xlsx");
    write_xlsx(
        &good,
        &sheet_xml(
            &[
                ("A1", "phone"),
                ("B1", "first_name"),
                ("A2", "+2348031234567"),
                ("B2", "Ada"),
            ],
            0,
        ),
    );
    // One cell at the far corner: a tiny file whose sheet spans 17 billion cells.
    let corner = dir.join("patients/corner.xlsx");
    write_xlsx(
        &corner,
        &sheet_xml(
            &[("A1", "phone"), ("B1", "first_name"), ("XFD1048576", "x")],
            0,
        ),
    );
    // A zip bomb: 201 MiB of nothing that packs to a few hundred KiB.
    let bomb = dir.join("patients/bomb.xlsx");
    write_xlsx(
        &bomb,
        &sheet_xml(&[("A1", "phone"), ("B1", "first_name")], 201 * 1024 * 1024),
    );
    assert!(std::fs::metadata(&corner).unwrap().len() < 4096);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2 * 1024 * 1024);

    let with = |file: &str| {
        repo.campaign(file, None);
        let text = std::fs::read_to_string(dir.join("c.yaml")).unwrap();
        std::fs::write(dir.join("c.yaml"), text.replace("    format: csv\n", "")).unwrap();
    };
    with("patients/good.xlsx");
    let out = run(&dir, &["plan", "--format", "json", "c.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    for (file, says) in [
        (
            "patients/corner.xlsx",
            "spans 1048576 rows by 16384 columns",
        ),
        ("patients/bomb.xlsx", "zip bomb"),
    ] {
        with(file);
        let out = run(&dir, &["validate", "--format", "json", "c.yaml"]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", text(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = &doc["files"][0]["diagnostics"][0];
        assert_eq!(d["code"], "source-too-large", "{file}: {d}");
        assert_eq!(d["line"], 5, "{file}: {d}");
        assert!(d["message"].as_str().unwrap().contains(says), "{file}: {d}");
        let out = run(&dir, &["plan", "c.yaml"]);
        assert_ne!(out.status.code(), Some(0), "{file}: {}", text(&out));
        assert!(
            text(&out).contains("source-too-large"),
            "{file}: {}",
            text(&out)
        );
    }
}
