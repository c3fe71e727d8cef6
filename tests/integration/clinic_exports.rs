//! Real clinic exports in (issue 19): a register with a title row, a workbook whose first
//! sheet is a summary, phone cells stored as numbers, and each text encoding Excel and
//! Windows write. UTF-8 and UTF-16 with a byte-order mark plan as they are; the others plan
//! with the right options and are refused without them, naming the option; `init` on each
//! writes a campaign that plans. Every fixture is made here.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::Workbook;
use serde_json::Value;

use crate::outreach;

const NAME: &str = "Asma\u{2019}u";

/// A campaign beside its patient file, reading it with `options` (YAML lines of the source).
fn campaign(dir: &Path, file: &str, options: &str) -> PathBuf {
    let mut source = format!("  - file: {file}\n");
    for line in options.lines().filter(|l| !l.trim().is_empty()) {
        source.push_str("    ");
        source.push_str(line.trim());
        source.push('\n');
    }
    let text = format!(
        "version: 1\nname: clinic-export\nworkflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf\npatients:\n{source}variables:\n  name: \"{{{{name}}}}\"\nschedule:\n  timezone: Africa/Lagos\n  windows: [{{days: [every_day], from: \"09:00\", until: \"17:00\"}}]\n"
    );
    let path = dir.join(format!("{}.yaml", file.replace('.', "-")));
    std::fs::write(&path, text).unwrap();
    path
}

struct Planned {
    code: i32,
    /// The saved plan (when it was written).
    plan: Option<Value>,
    output: String,
}

impl Planned {
    fn calls(&self) -> Vec<&Value> {
        self.plan.as_ref().map_or_else(Vec::new, |p| {
            p["batches"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|b| b["calls"].as_array().unwrap())
                .collect()
        })
    }

    /// Each call's number and the name it says.
    fn called(&self) -> Vec<(String, String)> {
        self.calls()
            .iter()
            .map(|c| {
                (
                    c["entry"]["phone_number"].as_str().unwrap().to_owned(),
                    c["entry"]["workflow_variables"]["name"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect()
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.plan.as_ref().map_or_else(Vec::new, |p| {
            p["skipped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["code"].as_str().unwrap().to_owned(),
                        s["row"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
    }
}

fn plan(campaign: &Path) -> Planned {
    let dir = campaign.parent().unwrap();
    let out = dir.join("plan.json");
    let _ = std::fs::remove_file(&out);
    let o = outreach()
        .arg("plan")
        .arg(campaign)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    Planned {
        code: o.status.code().unwrap(),
        plan: std::fs::read(&out)
            .ok()
            .map(|b| serde_json::from_slice(&b).unwrap()),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

/// `init --yes` on a patient file: its exit code, what it said, the campaign it wrote.
fn init(patients: &Path, args: &[&str]) -> (i32, String, String) {
    let out = patients.with_extension("init.yaml");
    let o = outreach()
        .arg("init")
        .arg("--patients")
        .arg(patients)
        .arg("--out")
        .arg(&out)
        .arg("--yes")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        std::fs::read_to_string(&out).unwrap_or_default(),
    )
}

/// The register as a clinic keeps it: a title, a blank row, then the header on row 3.
fn register_with_title(path: &Path) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "Gwale PHC - ANC Register, January 2027")
        .unwrap();
    for (c, h) in (0u16..).zip(["name", "phone", "next_visit"]) {
        sheet.write_string(2, c, h).unwrap();
    }
    for (r, (name, phone)) in (3u32..).zip([("Amina", "08031234567"), (NAME, "08051234567")]) {
        sheet.write_string(r, 0, name).unwrap();
        sheet.write_string(r, 1, phone).unwrap();
        sheet.write_string(r, 2, "2027-01-20").unwrap();
    }
    book.save(path).unwrap();
}

#[test]
fn a_register_with_a_title_row_is_read_from_its_header_row() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("register.xlsx");
    register_with_title(&xlsx);
    let p = plan(&campaign(
        dir.path(),
        "register.xlsx",
        "header_row: 3\ndefault_country: NG",
    ));
    assert_eq!(p.code, 0, "{}", p.output);
    assert_eq!(
        p.called(),
        [
            ("+2348031234567".to_owned(), "Amina".to_owned()),
            ("+2348051234567".to_owned(), NAME.to_owned())
        ]
    );
    // Rows keep the numbers the spreadsheet shows.
    assert_eq!(p.calls()[0]["row"], 4);
    // Without it the title is the header, and the phone column is not there.
    let p = plan(&campaign(
        dir.path(),
        "register.xlsx",
        "default_country: NG",
    ));
    assert_ne!(p.code, 0);
    assert!(p.output.contains("set `header_row`"), "{}", p.output);

    // Regression (issue 19): `init` took the title for the header, wrote
    // `phone_column: ""` and exited 1 ("a bug: please report it").
    let (code, said, text) = init(&xlsx, &[]);
    assert_eq!(code, 0, "{said}");
    assert!(text.contains("header_row: 3"), "{text}");
    assert!(text.contains("phone_column: phone"), "{text}");
    assert!(said.contains("header: row 3"), "{said}");
    assert!(!said.contains("a bug"), "{said}");
}

#[test]
fn a_title_row_and_a_units_row_in_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("register.csv"),
        "Gwale PHC - ANC Register, January 2027\n\nname,phone\n(full name),(mobile)\nAmina,08031234567\nBola,08051234567\n",
    )
    .unwrap();
    let p = plan(&campaign(
        dir.path(),
        "register.csv",
        "header_row: 3\nskip_rows: 1\ndefault_country: NG",
    ));
    assert_eq!(p.code, 0, "{}", p.output);
    assert_eq!(p.calls().len(), 2);
    assert_eq!(p.calls()[0]["row"], 5, "rows are the file's lines");
    assert!(p.skipped().is_empty(), "{:?}", p.skipped());
    // Without skip_rows the units line is a row, and not a patient's.
    let p = plan(&campaign(
        dir.path(),
        "register.csv",
        "header_row: 3\ndefault_country: NG",
    ));
    assert_eq!(p.calls().len(), 2);
    let skipped = p.skipped();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].1, 4, "{skipped:?}");
    // `init` finds a title's header by the phone numbers below it (a units line it cannot
    // tell from a header: `skip_rows` is the campaign's to say).
    std::fs::write(
        dir.path().join("titled.csv"),
        "Gwale PHC - ANC Register, January 2027\n\nname,phone\nAmina,08031234567\nBola,08051234567\n",
    )
    .unwrap();
    let (code, said, text) = init(&dir.path().join("titled.csv"), &[]);
    assert_eq!(code, 0, "{said}");
    assert!(text.contains("header_row: 3"), "{text}");
    assert!(said.contains("calls to place     2"), "{said}");
}

#[test]
fn a_summary_first_sheet_is_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("workbook.xlsx");
    let mut book = Workbook::new();
    let summary = book.add_worksheet();
    summary.set_name("Summary").unwrap();
    summary.write_string(0, 0, "clinic").unwrap();
    summary.write_string(0, 1, "patients").unwrap();
    summary.write_string(1, 0, "Gwale").unwrap();
    summary.write_number(1, 1, 120.0).unwrap();
    let register = book.add_worksheet();
    register.set_name("Register").unwrap();
    register.write_string(0, 0, "name").unwrap();
    register.write_string(0, 1, "phone").unwrap();
    register.write_string(1, 0, "Amina").unwrap();
    register.write_string(1, 1, "08031234567").unwrap();
    register.write_string(2, 0, NAME).unwrap();
    register.write_string(2, 1, "+2348051234567").unwrap();
    book.save(&xlsx).unwrap();

    let p = plan(&campaign(
        dir.path(),
        "workbook.xlsx",
        "sheet: Register\ndefault_country: NG",
    ));
    assert_eq!(p.code, 0, "{}", p.output);
    assert_eq!(p.calls().len(), 2);

    let (code, said, text) = init(&xlsx, &[]);
    assert_eq!(code, 0, "{said}");
    assert!(text.contains("sheet: Register"), "{text}");
    assert!(said.contains("the first sheet has none"), "{said}");
    // `--sheet` names it, and a sheet that is not there is refused with the ones that are.
    let (code, said, _) = init(&xlsx, &["--sheet", "Register", "--force"]);
    assert_eq!(code, 0, "{said}");
    let (code, said, _) = init(&xlsx, &["--sheet", "Patients", "--force"]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("Summary, Register"), "{said}");
}

/// Phone cells stored as numbers: national (`8031234567`) and international
/// (`2348135678901`).
fn numeric_sheet(path: &Path, numbers: &[f64]) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "name").unwrap();
    sheet.write_string(0, 1, "phone").unwrap();
    for (r, n) in (1u32..).zip(numbers) {
        sheet.write_string(r, 0, format!("Patient {r}")).unwrap();
        sheet.write_number(r, 1, *n).unwrap();
    }
    book.save(path).unwrap();
}

#[test]
fn numeric_phone_cells_are_read_only_as_the_source_says() {
    let dir = tempfile::tempdir().unwrap();
    numeric_sheet(
        &dir.path().join("national.xlsx"),
        &[8_031_234_567.0, 8_051_234_567.0],
    );
    numeric_sheet(
        &dir.path().join("international.xlsx"),
        &[2_348_135_678_901.0],
    );

    // Said nowhere: skipped, and the reason names the option.
    let p = plan(&campaign(
        dir.path(),
        "national.xlsx",
        "default_country: NG",
    ));
    assert_eq!(p.calls().len(), 0, "{}", p.output);
    assert_eq!(p.skipped()[0].0, "phone-stored-as-number");
    let reason = p.plan.as_ref().unwrap()["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("numbers_as: national"), "{reason}");

    let p = plan(&campaign(
        dir.path(),
        "national.xlsx",
        "default_country: NG\nnumbers_as: national",
    ));
    assert_eq!(p.code, 0, "{}", p.output);
    let numbers: Vec<String> = p.called().into_iter().map(|(n, _)| n).collect();
    assert_eq!(numbers, ["+2348031234567", "+2348051234567"]);

    // The same digits read as international numbers are not Nigerian ones: never guessed.
    let p = plan(&campaign(
        dir.path(),
        "national.xlsx",
        "numbers_as: international",
    ));
    assert_eq!(p.calls().len(), 0, "{}", p.output);

    let p = plan(&campaign(
        dir.path(),
        "international.xlsx",
        "numbers_as: international",
    ));
    assert_eq!(p.code, 0, "{}", p.output);
    assert_eq!(p.called()[0].0, "+2348135678901");

    // `national` needs the country whose rules put the 0 back.
    let p = plan(&campaign(
        dir.path(),
        "national.xlsx",
        "numbers_as: national",
    ));
    assert_ne!(p.code, 0);
    assert!(p.output.contains("needs `default_country`"), "{}", p.output);

    for (file, how) in [
        ("national.xlsx", "national"),
        ("international.xlsx", "international"),
    ] {
        let (code, said, text) = init(&dir.path().join(file), &["--country", "NG"]);
        assert_eq!(code, 0, "{file}: {said}");
        assert!(
            text.contains(&format!("numbers_as: {how}")),
            "{file}: {text}"
        );
        assert!(
            said.contains(&format!("`numbers_as: {how}`")),
            "{file}: {said}"
        );
    }
}

fn utf16(text: &str, big_endian: bool, mark: bool) -> Vec<u8> {
    let mut out = match (mark, big_endian) {
        (false, _) => Vec::new(),
        (true, false) => vec![0xFF, 0xFE],
        (true, true) => vec![0xFE, 0xFF],
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

/// Excel's "Unicode Text" is tab-separated UTF-16 with a byte-order mark.
const TEXT: &str = "name\tphone\nAmina\t08031234567\nAsma\u{2019}u\t08051234567\n";

#[test]
fn utf8_and_utf16_with_a_mark_plan_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let comma = TEXT.replace('\t', ",");
    for (file, bytes, options) in [
        ("plain.csv", comma.as_bytes().to_vec(), ""),
        (
            "bom.csv",
            [b"\xEF\xBB\xBF".as_slice(), comma.as_bytes()].concat(),
            "",
        ),
        ("le.txt", utf16(TEXT, false, true), "delimiter: \"\\t\""),
        ("be.txt", utf16(TEXT, true, true), "delimiter: \"\\t\""),
    ] {
        std::fs::write(dir.path().join(file), &bytes).unwrap();
        let p = plan(&campaign(
            dir.path(),
            file,
            &format!("{options}\ndefault_country: NG"),
        ));
        assert_eq!(p.code, 0, "{file}: {}", p.output);
        let names: Vec<String> = p.called().into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["Amina", NAME], "{file}");
        let (code, said, text) = init(&dir.path().join(file), &[]);
        assert_eq!(code, 0, "{file}: {said}");
        assert!(!text.contains("encoding:"), "{file}: {text}");
    }
}

#[test]
fn other_encodings_are_refused_naming_the_option_and_read_with_it() {
    let dir = tempfile::tempdir().unwrap();
    // Windows-1252: the apostrophe of Asma'u is 0x92.
    let cp1252 = b"name,phone\nAmina,08031234567\nAsma\x92u,08051234567\n".to_vec();
    let no_mark = utf16(TEXT, false, false);
    for (file, bytes, label, extra) in [
        ("windows.csv", cp1252, "windows-1252", ""),
        ("nomark.txt", no_mark, "utf-16le", "delimiter: \"\\t\""),
    ] {
        std::fs::write(dir.path().join(file), &bytes).unwrap();
        let refused = plan(&campaign(
            dir.path(),
            file,
            &format!("{extra}\ndefault_country: NG"),
        ));
        assert_ne!(refused.code, 0, "{file}: {}", refused.output);
        assert!(refused.plan.is_none(), "{file}: nothing is planned");
        assert!(
            refused.output.contains(&format!("`encoding: {label}`")),
            "{file}: {}",
            refused.output
        );
        assert!(
            refused.output.contains("source-encoding"),
            "{}",
            refused.output
        );

        let p = plan(&campaign(
            dir.path(),
            file,
            &format!("{extra}\nencoding: {label}\ndefault_country: NG"),
        ));
        assert_eq!(p.code, 0, "{file}: {}", p.output);
        let names: Vec<String> = p.called().into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["Amina", NAME], "{file}");

        let (code, said, text) = init(&dir.path().join(file), &[]);
        assert_eq!(code, 0, "{file}: {said}");
        assert!(
            text.contains(&format!("encoding: {label}")),
            "{file}: {text}"
        );
        assert!(
            said.contains(&format!("`encoding: {label}`")),
            "{file}: {said}"
        );
    }
    // An encoding this tool does not know is refused where it is written.
    std::fs::write(dir.path().join("x.csv"), "name,phone\nA,08031234567\n").unwrap();
    let p = plan(&campaign(
        dir.path(),
        "x.csv",
        "encoding: klingon\ndefault_country: NG",
    ));
    assert_ne!(p.code, 0);
    assert!(
        p.output.contains("`klingon` is not a text encoding"),
        "{}",
        p.output
    );
    // And `encoding` on a spreadsheet is a mistake.
    register_with_title(&dir.path().join("r.xlsx"));
    let p = plan(&campaign(
        dir.path(),
        "r.xlsx",
        "encoding: windows-1252\nheader_row: 3\ndefault_country: NG",
    ));
    assert!(
        p.output.contains("`encoding` only applies to CSV files"),
        "{}",
        p.output
    );
}
