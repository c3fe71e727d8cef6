//! Issue 15, case 7: two campaign files with one `name` share one record of calls in the
//! ledger. `validate` reports them, and `apply` refuses a file whose name the ledger has
//! recorded for another file (paths relative to the repository), unless it was moved.

use std::path::Path;
use std::process::Output;

use crate::apply::{Campaign, KEY, Mock, campaign, text};
use crate::{on_both_backends, outreach, root};

fn assert_exactly_once(mock: &Mock, c: &Campaign) {
    let mut phones: Vec<String> = mock.calls().into_iter().map(|(p, _)| p).collect();
    phones.sort_unstable();
    let mut expected = c.numbers.clone();
    expected.sort_unstable();
    assert_eq!(phones, expected, "every eligible patient exactly once");
}

/// `outreach apply` of the campaign file `file` on the campaign's ledger.
fn apply_file(c: &Campaign, file: &Path, url: &str, extra: &[&str]) -> Output {
    outreach()
        .env("INTRON_API_KEY", KEY)
        .args([
            "apply",
            "--yes",
            "--new-ledger",
            "--no-follow",
            "--api-url",
            url,
            "--state",
        ])
        .arg(c.state())
        .arg(file)
        .args(extra)
        .output()
        .unwrap()
}

/// What apply said, with the ledger's place (a temporary file, or a database URL) and the
/// temporary folder left out.
fn said(out: &Output, c: &Campaign) -> String {
    let dir = c.dir.path().display().to_string();
    let ledger = regex::Regex::new(r"the ledger \S+ as").unwrap();
    ledger
        .replace_all(&text(out), "the ledger [LEDGER] as")
        .replace(&dir, "[DIR]")
}

#[test]
fn case_7_validate_reports_campaign_files_sharing_a_name() {
    let out = outreach()
        .args(["validate", "--color", "never", "tests/fixtures/same-name"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        description => "outreach validate tests/fixtures/same-name",
    }, {
        insta::assert_snapshot!("same-name-validate", String::from_utf8_lossy(&out.stdout));
    });
    let json = outreach()
        .args(["validate", "--format", "json", "tests/fixtures/same-name"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    for file in v["files"].as_array().unwrap() {
        let d = &file["diagnostics"][0];
        assert_eq!(d["code"], "duplicate-campaign-name", "{file}");
        assert_eq!(d["pointer"], "/name", "{file}");
        assert_eq!(
            (d["line"].as_u64(), d["column"].as_u64()),
            (Some(6), Some(7))
        );
    }
    // Each file alone is valid: the problem is the pair.
    outreach()
        .args(["validate", "tests/fixtures/same-name/north-clinic.yaml"])
        .assert()
        .success();
    assert!(
        root()
            .join("tests/fixtures/same-name/south-clinic.yaml")
            .exists()
    );
}

on_both_backends! {
    fn case_7_apply_refuses_a_second_file_with_a_recorded_name_unless_moved() {
        let mock = Mock::fast();
        let c = campaign(3, "");
        std::fs::create_dir(c.dir.path().join(".git")).unwrap();
        let out = apply_file(&c, &c.path, &mock.url, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let copy = c.dir.path().join("copy.yaml");
        std::fs::copy(&c.path, &copy).unwrap();

        let refused = apply_file(&c, &copy, &mock.url, &[]);
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            description => "outreach apply copy.yaml, a second file named like campaign.yaml",
        }, {
            insta::assert_snapshot!("same-name-apply-refused", said(&refused, &c));
        });

        // Moved: the ledger takes the new file for the campaign, and nobody is called twice.
        let moved = apply_file(&c, &copy, &mock.url, &["--moved-from", "campaign.yaml"]);
        assert_eq!(moved.status.code(), Some(0), "{}", text(&moved));
        assert_exactly_once(&mock, &c);
        let old = apply_file(&c, &c.path, &mock.url, &[]);
        assert_eq!(old.status.code(), Some(2), "{}", text(&old));
        assert!(said(&old, &c).contains("recorded in the ledger [LEDGER] as copy.yaml"), "{}", text(&old));
    }
}

// Absolute paths differ between CI checkouts and runners: the same file in another checkout
// of the repository is the same campaign.
#[test]
fn case_7_the_same_file_in_another_checkout_is_the_same_campaign() {
    let mock = Mock::fast();
    let c = campaign(3, "");
    let checkout = |at: &Path| {
        std::fs::create_dir_all(at.join(".git")).unwrap();
        std::fs::create_dir_all(at.join("campaigns")).unwrap();
        for f in ["campaign.yaml", "patients.csv"] {
            std::fs::copy(c.dir.path().join(f), at.join("campaigns").join(f)).unwrap();
        }
        at.join("campaigns/campaign.yaml")
    };
    let (one, two) = (c.dir.path().join("ci-1"), c.dir.path().join("ci-2"));
    for file in [checkout(&one), checkout(&two)] {
        let out = apply_file(&c, &file, &mock.url, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    assert_exactly_once(&mock, &c);
}
