//! One campaign, many languages (issue 20): each patient's language, read from their row,
//! picks the voice, the workflow and the words of their dates; a patient whose language the
//! campaign does not map is skipped (`unknown-language`), never called in a guessed one. The
//! requests are read back from the mock's journal.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::apply::{KEY, Mock, apply, campaign};
use crate::outreach;

/// The seeded demo robocall workflow of the mock (`workflow_id` languages call it).
const DEMO: &str = "9b643eb4-0799-4761-bd34-9580eb315aaf";

/// Each row's phone, language cell, and the language it is called in (`None`: skipped).
const ROWS: [(&str, &str, Option<&str>); 8] = [
    ("08032000001", "Hausa", Some("ha")),
    ("08032000002", "HAU", Some("ha")),
    ("08032000003", " yoruba ", Some("yo")),
    ("08032000004", "Igbo", Some("ig")),
    ("08032000005", "English", Some("en")),
    ("08032000006", "ig", Some("ig")),
    ("08032000007", "French", None),
    ("08032000008", "", None),
];

/// Friday 15 January 2027 in each language, as CLDR writes its wide names.
fn friday(language: &str) -> &'static str {
    match language {
        "ha" => "Jummaʼa 15 Janairu",
        "yo" => "Ọjọ́ Ẹtì 15 Oṣù Ṣẹ́rẹ́",
        "ig" => "Fraịdee 15 Jenụwarị",
        _ => "Friday 15 January",
    }
}

fn yaml() -> String {
    r#"version: 1
name: many-languages
kind: robocall
round: "2027-01"
language:
  column: language
  values: {Hausa: ha, HAU: ha, Yoruba: yo, Igbo: ig, English: en}
languages:
  ha:
    voice: {accent: hausa, gender: female}
    workflow: {name: ml-ha, message: "Sannu [name], ranar [visit]."}
  yo:
    voice: {accent: yoruba, gender: male}
    workflow_id: DEMO
  ig:
    voice: {accent: igbo, gender: female}
    workflow: {name: ml-ig, message: "Ndewo [name], [visit]."}
  en:
    voice: {accent: pidgin, gender: male}
    workflow: {name: ml-en, message: "Hello [name], your visit is on [visit]."}
patients:
  - file: patients.csv
    default_country: NG
variables:
  name: "{{name}}"
  visit: "{{date visit '%A %-d %B'}}"
schedule:
  timezone: Africa/Lagos
  windows: [{days: [every_day], from: "00:00", until: "24:00"}]
"#
    .replace("DEMO", DEMO)
}

fn patients() -> String {
    let mut csv = String::from("name,phone,visit,language\n");
    for (i, (phone, language, _)) in ROWS.iter().enumerate() {
        writeln!(csv, "Patient {i},{phone},2027-01-15,{language}").unwrap();
    }
    csv
}

/// The mock's workflows: id by name.
fn workflow_ids(mock: &Mock) -> BTreeMap<String, String> {
    let url = format!("{}/voicebot/v1/workflows?limit=100", mock.url);
    let listed: Value = mock.rt.block_on(async {
        let answer = reqwest::Client::new()
            .get(url)
            .bearer_auth(KEY)
            .send()
            .await;
        answer.unwrap().json().await.unwrap()
    });
    listed["data"]["workflows"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap().to_owned(),
                w["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The E.164 form of a row's number.
fn e164(local: &str) -> String {
    format!("+234{}", &local[1..])
}

/// The plan shows one sample per language, each in its words, and the unmapped rows skipped.
fn plan_shows_each_language(c: &crate::apply::Campaign, mock: &Mock) {
    let out = outreach()
        .env("INTRON_API_KEY", KEY)
        .args([
            "plan",
            "--unmask",
            "--format",
            "json",
            "--api-url",
            &mock.url,
            "--state",
        ])
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let languages = plan["languages"].as_array().unwrap();
    let keys: Vec<&str> = languages
        .iter()
        .map(|l| l["language"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["en", "ha", "ig", "yo"]);
    for l in languages {
        let key = l["language"].as_str().unwrap();
        assert_eq!(l["sample"]["variables"]["visit"], friday(key), "{l}");
        // `yo` calls the demo workflow, whose message says no date.
        let heard = l["sample"]["heard"].as_str().unwrap_or_default();
        assert!(key == "yo" || heard.contains(friday(key)), "{key}: {heard}");
    }
    let calls: BTreeMap<&str, u64> = languages
        .iter()
        .map(|l| {
            (
                l["language"].as_str().unwrap(),
                l["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        BTreeMap::from([("en", 1), ("ha", 2), ("ig", 2), ("yo", 1)])
    );
    assert_eq!(plan["skipped"]["unknown-language"]["count"], 2, "{plan}");
    let reasons: Vec<&str> = plan["skipped"]["unknown-language"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons[0].contains("says F*** (6 characters)") && !reasons[0].contains("French"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("is empty"), "{reasons:?}");
}

#[test]
fn each_patient_is_called_in_their_language_with_its_voice_workflow_and_dates() {
    let mock = Mock::fast();
    let c = campaign(1, "");
    std::fs::write(&c.path, yaml()).unwrap();
    std::fs::write(c.dir.path().join("patients.csv"), patients()).unwrap();

    let out = outreach().arg("validate").arg(&c.path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    plan_shows_each_language(&c, &mock);

    let run = apply(&c, &mock.url, &["--json"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    // The declared workflows were created, one per language; `yo` calls the demo workflow.
    let id_of = workflow_ids(&mock);
    let workflow = |language: &str| match language {
        "yo" => DEMO.to_owned(),
        other => id_of[&format!("ml-{other}")].clone(),
    };
    let voice = |language: &str| match language {
        "ha" => ("hausa", "female"),
        "yo" => ("yoruba", "male"),
        "ig" => ("igbo", "female"),
        _ => ("pidgin", "male"),
    };
    let expected: BTreeMap<String, &str> = ROWS
        .iter()
        .filter_map(|(phone, _, l)| l.map(|l| (e164(phone), l)))
        .collect();
    let mut called = BTreeMap::new();
    for request in mock.call_requests() {
        let body = &request["body"];
        let entries = body["workflow_params"].as_array().unwrap();
        let first = entries[0]["phone_number"].as_str().unwrap();
        let language = expected[first];
        assert_eq!(body["workflow_id"], workflow(language).as_str(), "{body}");
        let (accent, gender) = voice(language);
        assert_eq!(body["tts_voice_accent"], accent, "{body}");
        assert_eq!(body["tts_voice_gender"], gender, "{body}");
        for e in entries {
            let phone = e["phone_number"].as_str().unwrap().to_owned();
            assert_eq!(
                expected[&phone], language,
                "a request mixes languages: {body}"
            );
            assert_eq!(e["workflow_variables"]["visit"], friday(language), "{body}");
            called.insert(phone, language);
        }
    }
    // Everyone mapped was called once; the unmapped were not.
    assert_eq!(called, expected);

    // The report breaks the outcomes down by language and by each language's accent.
    let report = crate::apply::report_json(&c, &mock.url);
    let groups = report["by_language"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"));
    let sum = |field: &str| {
        groups
            .iter()
            .map(|g| g[field].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let total = groups
        .iter()
        .map(|g| g["total"].as_u64().unwrap_or_else(|| panic!("{g}")))
        .sum::<u64>();
    assert_eq!(total, 6, "{report}");
    assert_eq!(
        sum("answered"),
        report["answered"].as_u64().unwrap(),
        "{report}"
    );
    let accents: Vec<&str> = report["by_accent"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(accents, ["hausa", "igbo", "pidgin", "yoruba"], "{report}");
}

#[test]
fn a_language_cldr_lacks_needs_the_language_its_names_are_written_in() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("patients.csv"), patients()).unwrap();
    let lacking = yaml()
        .replace(
            "  en:\n    voice: {accent: pidgin, gender: male}",
            "  tw:\n    voice: {accent: twi, gender: male}",
        )
        .replace("English: en}", "English: tw}");
    std::fs::write(d.join("c.yaml"), &lacking).unwrap();
    let out = outreach()
        .current_dir(d)
        .args(["validate", "--format", "json", "c.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("unknown-locale") && text.contains("/languages/tw"),
        "{text}"
    );
    assert!(text.contains("names: en"), "{text}");

    // Declared, it is planned with English names and the plan says so.
    let fallback = lacking.replace(
        "  tw:\n    voice: {accent: twi, gender: male}",
        "  tw:\n    names: en\n    voice: {accent: twi, gender: male}",
    );
    std::fs::write(d.join("c.yaml"), fallback).unwrap();
    let out = outreach()
        .current_dir(d)
        .args(["plan", "--unmask", "c.yaml", "--state", "s.db"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(
            "CLDR has no month and day names for `tw`: its dates and numbers are written in `en`"
        ),
        "{text}"
    );
    assert!(
        text.contains("[tw] +2348032000005  name=Patient 4, visit=Friday 15 January"),
        "{text}"
    );
}

#[test]
fn a_campaign_of_languages_is_refused_with_its_own_voice_or_an_unmapped_language() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("patients.csv"), patients()).unwrap();
    let bad = yaml()
        .replace(
            "round: \"2027-01\"",
            "round: \"2027-01\"\nvoice: {accent: hausa}",
        )
        .replace("Igbo: ig,", "Igbo: ibo,")
        .replace("accent: igbo,", "accent: klingon,");
    std::fs::write(d.join("c.yaml"), bad).unwrap();
    let out = outreach()
        .current_dir(d)
        .args(["validate", "--format", "json", "c.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String)> = doc["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["pointer"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        ("languages-invalid", "/voice"),
        ("languages-invalid", "/language/values/Igbo"),
    ] {
        assert!(
            found.iter().any(|(c, p)| c == want.0 && p == want.1),
            "{want:?} in {found:?}"
        );
    }
    assert!(
        found.iter().any(|(_, p)| p == "/languages/ig/voice/accent"),
        "{found:?}"
    );
}

#[test]
fn a_date_format_one_of_the_campaigns_languages_cannot_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("patients.csv"), patients()).unwrap();
    let english_only = yaml().replace("'%A %-d %B'", "'%c'");
    std::fs::write(d.join("c.yaml"), english_only).unwrap();
    let out = outreach()
        .current_dir(d)
        .args(["validate", "c.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("template-date-format"), "{text}");
    assert!(text.contains("cannot be written in `ha`"), "{text}");
}

#[test]
fn a_saved_plan_whose_batch_changed_language_is_refused_and_nothing_is_sent() {
    let mock = Mock::fast();
    let c = campaign(1, "");
    std::fs::write(&c.path, yaml()).unwrap();
    std::fs::write(c.dir.path().join("patients.csv"), patients()).unwrap();
    let saved = c.dir.path().join("plan.json");
    let out = outreach()
        .args(["plan", "--out"])
        .arg(&saved)
        .arg(&c.path)
        .arg("--state")
        .arg(c.state())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(
        text.contains(r#""language":"en""#),
        "each batch records its language"
    );
    for (bad, said) in [
        (r#""language":"ha""#, "its batch's language is `ha`"),
        (r#""language":"en\n""#, "not a language tag"),
    ] {
        std::fs::write(&saved, text.replacen(r#""language":"en""#, bad, 1)).unwrap();
        let out = crate::apply::apply_input(&saved, &c, &mock.url, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(said),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(mock.call_requests().is_empty());
    }
}

#[test]
fn languages_that_clash_or_redirect_a_tag_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("patients.csv"), patients()).unwrap();
    let cases = [
        // Two keys equal but for case: a cell `en-NG` would match both.
        (
            yaml().replace(
                "  en:\n",
                "  en-ng:\n    voice: {accent: pidgin}\n    workflow_id: DEMO\n  en-NG:\n    voice: {accent: yoruba}\n    workflow_id: DEMO\n  en:\n",
            ).replace("DEMO", DEMO),
            "/languages/en-NG",
            "differ only in case",
        ),
        // A value that is another language's own tag.
        (
            yaml().replace("English: en}", "English: en, HA: en}"),
            "/language/values/HA",
            "`ha` is a language of the campaign",
        ),
        // No language at all.
        (
            {
                let y = yaml();
                let start = y.find("languages:\n").unwrap();
                let end = y.find("patients:\n").unwrap();
                format!("{}languages: {{}}\n{}", &y[..start], &y[end..])
            },
            "/languages",
            "is empty",
        ),
        // The column is missing from the patient file.
        (
            yaml().replace("column: language", "column: Language"),
            "/language/column",
            "`language.column` names",
        ),
    ];
    for (text, pointer, words) in cases {
        std::fs::write(d.join("c.yaml"), text).unwrap();
        let out = outreach()
            .current_dir(d)
            .args(["validate", "--format", "json", "c.yaml"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{pointer}");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = doc["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| {
                g["pointer"] == pointer && g["message"].as_str().unwrap_or("").contains(words)
            });
        assert!(found, "{pointer} {words}: {doc}");
    }
}

#[test]
fn a_plan_made_after_a_run_keeps_each_batch_in_one_language_and_compare_shows_a_changed_one() {
    let mock = Mock::fast();
    let c = campaign(1, "");
    std::fs::write(&c.path, yaml()).unwrap();
    std::fs::write(c.dir.path().join("patients.csv"), patients()).unwrap();
    let run = apply(&c, &mock.url, &["--json"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let before = mock.call_requests().len();
    // New patients, in two languages, after the first run.
    let mut more = patients();
    more.push_str("New 1,08032000011,2027-01-15,Hausa\nNew 2,08032000012,2027-01-15,English\n");
    std::fs::write(c.dir.path().join("patients.csv"), &more).unwrap();
    let saved = c.dir.path().join("plan.json");
    let plan = |extra: &[&str]| {
        outreach()
            .env("INTRON_API_KEY", KEY)
            .args(["plan", "--api-url", &mock.url, "--state"])
            .arg(c.state())
            .arg(&c.path)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = plan(&["--out", saved.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = crate::apply::apply_input(&saved, &c, &mock.url, &["--json"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let requests = mock.call_requests();
    let new: Vec<&Value> = requests[before..].iter().collect();
    assert_eq!(new.len(), 2, "one request per language: {new:?}");
    for r in new {
        let phone = r["body"]["workflow_params"][0]["phone_number"]
            .as_str()
            .unwrap();
        let accent = if phone.ends_with("11") {
            "hausa"
        } else {
            "pidgin"
        };
        assert_eq!(r["body"]["tts_voice_accent"], accent, "{r}");
    }
    // A patient whose language changed is a changed call in --compare.
    std::fs::write(c.dir.path().join("patients.csv"), patients()).unwrap();
    let base = c.dir.path().join("base.json");
    let fresh = |extra: &[&str]| {
        outreach()
            .args(["plan", "--unmask"])
            .arg(&c.path)
            .args(["--state", c.dir.path().join("none.db").to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(fresh(&["--out", base.to_str().unwrap()]).status.success());
    std::fs::write(
        c.dir.path().join("patients.csv"),
        patients().replace(",English\n", ",Hausa\n"),
    )
    .unwrap();
    let out = fresh(&["--compare", base.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("language: en → ha"), "{text}");
}

#[test]
fn a_hand_edited_workflow_of_one_language_stops_the_run_and_names_its_language() {
    let mock = Mock::fast();
    let c = campaign(1, "");
    std::fs::write(&c.path, yaml()).unwrap();
    std::fs::write(c.dir.path().join("patients.csv"), patients()).unwrap();
    let run = apply(&c, &mock.url, &["--json"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let id = workflow_ids(&mock)["ml-ha"].clone();
    mock.send(
        reqwest::Method::PATCH,
        &format!("/voicebot/v1/workflows/{id}"),
        &serde_json::json!({"message": "Sannu [name], zo yau."}),
    );
    // A new round: every patient is due again.
    std::fs::write(
        &c.path,
        yaml().replace("round: \"2027-01\"", "round: \"2027-02\""),
    )
    .unwrap();
    let sent = mock.call_requests().len();
    let refused = apply(&c, &mock.url, &[]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_ne!(refused.status.code(), Some(0), "{said}");
    assert!(said.contains("language `ha`: workflow `ml-ha`"), "{said}");
    assert_eq!(
        mock.call_requests().len(),
        sent,
        "no language's calls were sent"
    );
}
