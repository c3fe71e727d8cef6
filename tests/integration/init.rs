//! `outreach init`: a starter campaign from each example patient file and from awkward ones
//! (an unexpected phone column name, local numbers only, spreadsheets, semicolons), each of
//! which validates and plans with no edits; refusals (an existing file, no phone column).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{outreach, root};

struct Init {
    code: i32,
    stdout: String,
    stderr: String,
    campaign: PathBuf,
    text: String,
}

/// Runs `init --yes` with `args`, writing to `out`.
fn init(patients: &Path, out: &Path, args: &[&str]) -> Init {
    let o = outreach()
        .arg("init")
        .arg("--patients")
        .arg(patients)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    Init {
        code: o.status.code().unwrap(),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
        campaign: out.to_path_buf(),
        text: std::fs::read_to_string(out).unwrap_or_default(),
    }
}

/// The example patient files are outside the temporary folders campaigns are written to.
fn allow_examples() -> [std::ffi::OsString; 2] {
    [
        "--allow-source-outside".into(),
        root().join("campaigns/patients").into(),
    ]
}

/// Validates the campaign with the real binary.
fn validate(campaign: &Path) {
    let v = outreach()
        .arg("validate")
        .args(allow_examples())
        .arg(campaign)
        .output()
        .unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
}

/// Plans the campaign with the real binary: the plan summary.
fn plan(campaign: &Path) -> Value {
    let p = outreach()
        .args(["plan", "--format", "json"])
        .args(allow_examples())
        .arg(campaign)
        .output()
        .unwrap();
    assert_eq!(
        p.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&p.stderr)
    );
    serde_json::from_slice(&p.stdout).unwrap()
}

impl Init {
    /// The number of calls in the plan `init` printed (each `plan` process costs half a
    /// second of phone metadata loading in a debug build, so most tests read this one).
    fn calls(&self) -> u64 {
        let line = self
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("calls to place"))
            .unwrap_or_else(|| panic!("no plan printed: {}", self.stdout));
        line.split_whitespace().nth(3).unwrap().parse().unwrap()
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn each_example_patient_file_gives_a_campaign_that_validates_and_plans() {
    let dir = tempfile::tempdir().unwrap();
    for (file, calls) in [
        ("lagos-measles.csv", 6),
        ("refill-followup.json", 3),
        // An opt-out list is a list of numbers too.
        ("opt-outs.csv", 1),
    ] {
        let out = dir.path().join(file.replace('.', "-") + ".yaml");
        let r = init(
            &root().join("campaigns/patients").join(file),
            &out,
            &["--yes"],
        );
        assert_eq!(r.code, 0, "{file}: {}{}", r.stdout, r.stderr);
        // The patient file is not beside the campaign: init says what the other commands need.
        assert!(
            r.stdout.contains("--allow-source-outside"),
            "{file}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains("phone column (guessed): `phone` ("),
            "{file}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains("country (guessed): Nigeria (NG)"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("1 file checked: 1 valid"), "{}", r.stdout);
        assert!(r.stdout.contains("Plan for "), "{}", r.stdout);
        assert!(
            !r.stdout.contains("no terminal"),
            "--yes accepts silently: {}",
            r.stdout
        );
        // Outside a checkout, the modeline names a schema written beside the campaign.
        assert!(
            r.text
                .starts_with("# yaml-language-server: $schema=campaign.schema.json\n"),
            "{}",
            r.text
        );
        assert!(
            r.text
                .contains("workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf")
        );
        assert!(r.text.contains("timezone: Africa/Lagos"));
        validate(&r.campaign);
        let plan = plan(&r.campaign);
        assert_eq!(plan["summary"]["calls"], calls, "{file}: {plan}");
        assert_eq!(r.calls(), calls, "init printed the same plan");
    }
}

/// The schema a modeline names: its path, resolved from the campaign file's folder.
fn modeline_schema(campaign: &Path, text: &str) -> PathBuf {
    let first = text.lines().next().unwrap_or_default();
    let reference = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("no modeline: {first}"));
    assert!(
        !reference.contains("://"),
        "an address that may not exist: {reference}"
    );
    campaign.parent().unwrap().join(reference)
}

/// Issue 16: outside a checkout, the modeline named a URL that may not exist. In an empty
/// folder, init writes the schema beside the campaign (the text of `outreach schema`) and
/// names it; `--schema PATH` names (and writes) another; an existing one is kept.
#[test]
fn outside_a_checkout_the_modeline_names_a_schema_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("campaigns/patients/lagos-measles.csv"),
        dir.path().join("lagos-measles.csv"),
    )
    .unwrap();
    let published = outreach().arg("schema").output().unwrap().stdout;
    // Runs `init --yes` on the patient file in the empty folder: what it printed, and the
    // campaign's file and text.
    let init_here = |extra: &[&str], campaign: &str| {
        let o = outreach()
            .current_dir(dir.path())
            .args(["init", "--patients", "lagos-measles.csv", "--yes"])
            .args(extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {stdout}");
        let campaign = dir.path().join(campaign);
        let text = std::fs::read_to_string(&campaign).unwrap();
        (stdout, modeline_schema(&campaign, &text), text)
    };

    let (stdout, schema, _) = init_here(&[], "lagos-measles.yaml");
    assert!(
        stdout.contains("Wrote campaign.schema.json (the schema your editor reads"),
        "{stdout}"
    );
    assert_eq!(schema, dir.path().join("campaign.schema.json"));
    let written = std::fs::read(&schema).unwrap();
    serde_json::from_slice::<Value>(&written).expect("the schema parses as JSON");
    assert_eq!(written, published, "the text of `outreach schema`");

    // --schema PATH: a file of the user's choosing, named relative to the campaign.
    let given = ["campaigns", "--schema", "schemas/outreach.json"];
    let (_, schema, text) = init_here(&given, "campaigns/lagos-measles.yaml");
    assert!(
        text.starts_with("# yaml-language-server: $schema=../schemas/outreach.json\n"),
        "{text}"
    );
    assert_eq!(std::fs::read(&schema).unwrap(), published);

    // A schema already there is kept, and said to be stale when it is.
    std::fs::write(&schema, "{}").unwrap();
    let (stdout, _, _) = init_here(
        &[given.as_slice(), &["--force"]].concat(),
        "campaigns/lagos-measles.yaml",
    );
    assert!(
        stdout.contains("Kept schemas/outreach.json, which is not this version's schema: `outreach schema > schemas/outreach.json` updates it"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&schema).unwrap(), "{}");
}

#[test]
fn the_measles_file_proposes_names_dates_and_a_tag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.yaml");
    let r = init(
        &root().join("campaigns/patients/lagos-measles.csv"),
        &out,
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("no terminal to confirm on: guesses accepted"),
        "without a terminal and without --yes, init says it accepted the guesses: {}",
        r.stdout
    );
    for line in [
        "name: lagos-measles\n",
        "  first_name: \"{{title first_name}}\"",
        "  child_name: \"{{title child_name}}\"",
        "  appointment_date: \"{{date appointment_date '%A %-d %B'}}\"",
        "  clinic: \"{{clinic}}\"",
        "tags:\n  patient_id: \"{{patient_id}}\"",
        "#   clinic: REPLACE   # empty in 1 of 10 sampled rows",
        "allowed_countries: [NG]",
        "  max_calls: 10 ",
        "  in_doubt: hold",
        // The opt-out list beside the patient file is suggested, not used unreviewed.
        "# list stops everything. This one lies beside the patient file: check it, then uncomment.\n# exclude:\n#   - file: \"",
        "/campaigns/patients/opt-outs.csv\"\n",
    ] {
        assert!(r.text.contains(line), "missing {line:?} in\n{}", r.text);
    }
    // Printed plans are masked, as in `outreach plan`.
    assert!(!r.stdout.contains("08031234567"), "{}", r.stdout);
    assert!(!r.stdout.contains("Adaeze"), "{}", r.stdout);
}

#[test]
fn inside_a_checkout_paths_are_relative_to_the_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir_all(repo.join("campaigns/patients")).unwrap();
    std::fs::create_dir_all(repo.join("schemas")).unwrap();
    std::fs::copy(
        root().join("schemas/campaign.schema.json"),
        repo.join("schemas/campaign.schema.json"),
    )
    .unwrap();
    let patients = repo.join("campaigns/patients/lagos-measles.csv");
    std::fs::copy(
        root().join("campaigns/patients/lagos-measles.csv"),
        &patients,
    )
    .unwrap();
    // DIR, no --out: the campaign is DIR/<name>.yaml.
    let o = outreach()
        .arg("init")
        .arg(repo.join("campaigns"))
        .arg("--patients")
        .arg(&patients)
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let campaign = repo.join("campaigns/lagos-measles.yaml");
    let text = std::fs::read_to_string(&campaign).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema=../schemas/campaign.schema.json\n"),
        "{text}"
    );
    assert!(
        text.contains("  - file: \"patients/lagos-measles.csv\"\n"),
        "{text}"
    );
    assert!(
        !text.contains("beside the patient file"),
        "no opt-out list beside the patients: {text}"
    );
    // The whole starter campaign and what init printed, reviewed once (paths here do not
    // depend on the machine once the temporary directory is taken out).
    let printed = String::from_utf8(o.stdout)
        .unwrap()
        .replace(&repo.display().to_string(), "[DIR]");
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        description => "outreach init [DIR]/campaigns --patients [DIR]/campaigns/patients/lagos-measles.csv --yes",
    }, {
        insta::assert_snapshot!("init-lagos-measles-yaml", text);
        insta::assert_snapshot!("init-lagos-measles-output", printed);
    });
    validate(&campaign);
}

#[test]
fn a_phone_column_with_an_unexpected_name_is_found_by_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let patients = write(
        dir.path(),
        "Kano Clinic List.csv",
        "Folder No,Full Name,Contact Tel,Next Visit,Ward\n\
         1001,musa danjuma,0803 111 2233,2026-12-03,Fagge\n\
         1002,Aminu Sule,+234 803 999 8877,04/12/2026,Gwale\n\
         1003,HAUWA GARBA,0705-444-3322,2026-12-05,Fagge\n\
         1004,Sani Yusuf,08160001122,2026-12-05,\n",
    );
    let out = dir.path().join("kano.yaml");
    let r = init(&patients, &out, &["--yes"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "phone column (guessed): `Contact Tel` (100% of 4 sampled values are valid phone numbers)"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("campaign name (from the file name): kano-clinic-list"),
        "{}",
        r.stdout
    );
    for line in [
        "name: kano-clinic-list\n",
        "phone_column: \"Contact Tel\"",
        "  full_name: \"{{title [Full Name]}}\"",
        "  next_visit: \"{{date [Next Visit] '%A %-d %B'}}\"",
        "  ward: \"{{Ward}}\"",
        "  folder_no: \"{{[Folder No]}}\"",
        "# dedupe: \"Folder No\"",
        // 04/12/2026 could be read two ways: init says how, from the country.
        "  order: dmy   # guessed: day first, as in Nigeria",
    ] {
        assert!(r.text.contains(line), "missing {line:?} in\n{}", r.text);
    }
    validate(&r.campaign);
    let plan = plan(&r.campaign);
    assert_eq!(plan["summary"]["calls"], 3, "{plan}");
    assert_eq!(
        plan["summary"]["skipped_by_reason"]["missing-value"], 1,
        "{plan}"
    );
}

#[test]
fn local_numbers_only_give_the_country_under_which_they_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    let ng = write(
        dir.path(),
        "ng.csv",
        "name,mobile_no\nAda,08031234567\nTolu,0805 123 4567\nBisi,0706-555-0192\nNgozi,(0809) 876 5432\n",
    );
    let r = init(&ng, &dir.path().join("ng.yaml"), &["--yes"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "country (guessed): Nigeria (NG): 4 of 4 numbers without a country code are valid there"
        ),
        "{}",
        r.stdout
    );
    assert!(r.text.contains("default_country: NG\n"), "{}", r.text);
    assert!(r.text.contains("allowed_countries: [NG]\n"), "{}", r.text);
    assert!(r.text.contains("timezone: Africa/Lagos"), "{}", r.text);
    validate(&r.campaign);
    assert_eq!(r.calls(), 4);

    let gh = write(
        dir.path(),
        "gh.tsv",
        "name\tphone\nKofi\t024 123 4567\nAma\t0201234567\nYaw\t055 123 4567\n",
    );
    let r = init(&gh, &dir.path().join("gh.yaml"), &["--yes"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("country (guessed): Ghana (GH)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("tab-separated"), "{}", r.stdout);
    assert!(r.text.contains("delimiter: \"\\t\""), "{}", r.text);
    assert!(r.text.contains("timezone: Africa/Accra"), "{}", r.text);
    assert!(r.text.contains("accent: twi"), "{}", r.text);
    validate(&r.campaign);
    assert_eq!(r.calls(), 3);
}

#[test]
fn every_source_kind_gives_a_valid_campaign() {
    let dir = tempfile::tempdir().unwrap();
    for (file, calls) in [
        // Its phone cell stored as a number is read with `numbers_as: national` (issue 19).
        ("patients.xlsx", 3),
        ("patients.ods", 2),
        ("patients.ndjson", 2),
        // J2 lacks its medicine; J3, the same number, is called in its place.
        ("patients.json", 2),
        ("semicolon-bom-crlf.csv", 3),
    ] {
        let out = dir.path().join(file.replace('.', "-") + ".yaml");
        let r = init(
            &root().join("tests/fixtures/plan").join(file),
            &out,
            &["--yes"],
        );
        // init validates and plans what it wrote (exit 0: valid); a process each is slow.
        assert_eq!(r.code, 0, "{file}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("1 file checked: 1 valid"), "{}", r.stdout);
        assert_eq!(r.calls(), calls, "{file}: {}", r.stdout);
    }
}

#[test]
fn flags_decide_instead_of_guesses() {
    let dir = tempfile::tempdir().unwrap();
    let patients = write(
        dir.path(),
        "list.csv",
        "phone,other_phone,name\n08031234567,0241234567,Ada\n08051234567,0201234567,Tolu\n",
    );
    let r = init(
        &patients,
        &dir.path().join("c.yaml"),
        &[
            "--phone-column",
            "other_phone",
            "--country",
            "gh",
            "--name",
            "ghana-check",
            "--kind",
            "conversation",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("phone column (given): `other_phone`"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("country (given): Ghana (GH), as given"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("no terminal"),
        "every guess was decided: {}",
        r.stdout
    );
    for line in [
        "name: ghana-check\n",
        "kind: conversation\n",
        "workflow_id: 550e8400-e29b-41d4-a716-446655440000\n",
        "accent: english\n",
        "phone_column: other_phone\n",
        "default_country: GH\n",
        "`phone` left out: it holds phone numbers too",
    ] {
        assert!(r.text.contains(line), "missing {line:?} in\n{}", r.text);
    }
    assert!(
        !r.text.contains("\ntags:"),
        "conversation calls take no tags"
    );
    validate(&r.campaign);
    assert_eq!(r.calls(), 2);

    let bad = init(
        &patients,
        &dir.path().join("d.yaml"),
        &["--phone-column", "tel"],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("no such column (its columns: phone, other_phone, name)"),
        "{}",
        bad.stderr
    );
    let bad = init(
        &patients,
        &dir.path().join("d.yaml"),
        &["--name", "Not Valid"],
    );
    assert_eq!(bad.code, 2);
    let bad = init(&patients, &dir.path().join("d.yaml"), &["--country", "XX"]);
    assert_eq!(bad.code, 2);
    assert!(!dir.path().join("d.yaml").exists());
}

#[test]
fn never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let patients = root().join("campaigns/patients/refill-followup.json");
    let out = dir.path().join("refill.yaml");
    std::fs::write(&out, "# mine\n").unwrap();
    let r = init(&patients, &out, &["--yes"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("already exists: pass --force to overwrite it"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# mine\n");

    let r = init(&patients, &out, &["--yes", "--force"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.text.contains("name: refill-followup\n"));
}

#[test]
fn refuses_when_no_column_holds_phone_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let patients = write(
        dir.path(),
        "no-phones.csv",
        "id,name,visit\n12345,Ada,2026-12-03\n12346,Tolu,2026-12-04\n",
    );
    let out = dir.path().join("x.yaml");
    let r = init(&patients, &out, &["--yes"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "no column looks like phone numbers (at least 50% of a column's values must be valid numbers); tried `id` (0 of 2 valid), `name` (0 of 2 valid), `visit` (0 of 2 valid)"
        ),
        "{}",
        r.stderr
    );
    assert!(!out.exists());

    let r = init(&dir.path().join("missing.csv"), &out, &["--yes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no such patient file"), "{}", r.stderr);
    let broken = write(dir.path(), "broken.json", "[{\"phone\": ");
    let r = init(&broken, &out, &["--yes"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read the patient file"),
        "{}",
        r.stderr
    );
}

/// A Nigerian list with a `Language` column (issue 20).
fn languages_file(dir: &Path, extra: &[&str]) -> PathBuf {
    let path = dir.join("kano-languages.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(["name", "phone", "Language"]).unwrap();
    let languages = ["Hausa", "Yoruba", "English", "HAU", "Hausa", "hausa"]
        .iter()
        .chain(extra);
    for (i, language) in languages.enumerate() {
        w.write_record([
            format!("Patient {i}"),
            format!("0803123{:04}", 4000 + i),
            (*language).to_owned(),
        ])
        .unwrap();
    }
    w.flush().unwrap();
    path
}

/// The starter's language blocks un-commented, the placeholder replaced by a workflow, and
/// the top-level workflow and voice removed, as the comment above them says.
fn with_languages(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    let mut voice = false;
    for line in text.lines() {
        if line.starts_with("workflow_id:") {
            continue;
        }
        if line == "voice:" {
            voice = true;
            continue;
        }
        if voice && line.starts_with("  ") {
            continue;
        }
        voice = false;
        inside |= line == "# language:";
        inside &= !line.is_empty();
        let line = if inside {
            line.strip_prefix("# ").unwrap_or(line)
        } else {
            line
        };
        if inside && line.trim_start().starts_with("# REPLACE: `workflow_id") {
            out.push_str("    workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn a_language_column_gives_its_mapping_and_accents_commented_out() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.yaml");
    let r = init(&languages_file(dir.path(), &["Twi"]), &out, &["--yes"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "language column (guessed): `Language`, named like a language column: 7 of 7 sampled values are languages: Hausa (ha), Yoruba (yo), English (en), Twi (tw)"
        ),
        "{}",
        r.stdout
    );
    for line in [
        "# language:\n#   column: \"Language\"\n",
        "#     \"Hausa\": ha\n",
        "#     \"HAU\": ha\n",
        "#     \"Yoruba\": yo\n",
        "#     \"English\": en\n",
        "#   # default: ha\n",
        "# languages:\n#   ha:   # Hausa\n#     voice: {accent: hausa, gender: female}\n",
        "#   yo:   # Yoruba\n#     voice: {accent: yoruba, gender: female}\n",
        "#   en:   # English\n#     voice: {accent: pidgin, gender: female}   # robocall accents have no `english`",
        // CLDR has no Twi: un-commented, the campaign must say whose names it writes.
        "#   tw:   # Twi\n#     names: en   # CLDR has no Twi",
    ] {
        assert!(r.text.contains(line), "missing {line:?} in\n{}", r.text);
    }
    // As written (the blocks commented), it validates.
    validate(&r.campaign);

    // Un-commented, with a workflow for each language, it validates too.
    let edited = dir.path().join("k-languages.yaml");
    let text = with_languages(&r.text);
    assert!(
        text.contains("\nlanguage:\n  column: \"Language\"\n"),
        "{text}"
    );
    std::fs::write(&edited, &text).unwrap();
    let v = outreach().arg("validate").arg(&edited).output().unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}\n{text}",
        String::from_utf8_lossy(&v.stdout)
    );
}

#[test]
fn no_language_column_no_language_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.yaml");
    let r = init(
        &root().join("campaigns/patients/lagos-measles.csv"),
        &out,
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.text.contains("# language:"), "{}", r.text);
    assert!(!r.text.contains("languages:"), "{}", r.text);
    assert!(!r.text.contains("# Languages"), "{}", r.text);
    assert!(!r.stdout.contains("language column"), "{}", r.stdout);
}

#[test]
fn hostile_language_cells_stay_inside_the_comment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.yaml");
    let long = "y".repeat(10_000);
    let hostile = [
        "Nigerian\nPidgin",
        "x\nversion: 2",
        "# note",
        "say \"hi\"",
        "key: value",
        "\u{7}\u{1b}[2J\u{202e}",
        long.as_str(),
    ];
    let r = init(&languages_file(dir.path(), &hostile), &out, &["--yes"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let start = r.text.find("# Languages").expect("a language section");
    let section = &r.text[start..];
    let section = &section[..section.find("\n\n").unwrap()];
    assert!(
        section.lines().all(|l| l.starts_with('#')),
        "every line a comment:\n{section}"
    );
    assert!(
        section.contains("#     \"Nigerian\\nPidgin\": pcm\n"),
        "{section}"
    );
    assert!(
        section.contains("#     # \"x\\nversion: 2\": REPLACE"),
        "{section}"
    );
    assert!(
        section.contains("#     # \"\\u0007\\u001B[2J\\u202E\": REPLACE"),
        "{section}"
    );
    assert!(!section.contains(&"y".repeat(41)), "the long cell is cut");
    assert!(!r.stdout.contains('\u{1b}'), "{}", r.stdout);
    // The campaign as written still validates: nothing escaped the comment.
    validate(&r.campaign);
    // Un-commented, the values read back as written.
    let edited = dir.path().join("k-languages.yaml");
    std::fs::write(&edited, with_languages(&r.text)).unwrap();
    let v = outreach().arg("validate").arg(&edited).output().unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
}
