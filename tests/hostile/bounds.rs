//! Issue 14, class 15 (the rest): spreadsheets whose zip parts lie about their sizes, and
//! ODS sheets whose repeated rows and cells ask for more than a patient list may. Each is
//! refused by `validate` naming the file (at the campaign's `file:` line) and the limit,
//! inside the watchdog and under 500 MB, while an honest ODS file with LibreOffice's
//! trailing blank rows is planned.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::cases::campaign_text;

const MAX_RSS: u64 = 500 * 1000 * 1000;

/// `outreach args…` in `dir`: its exit code, stdout and both streams, having ended by itself
/// under 500 MB.
fn outreach(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outreach"));
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("INTRON_API_KEY")
        .env_remove("OUTREACH_DATABASE_URL")
        .args(args);
    let ran = memory_meter::run(&mut cmd, Duration::from_secs(60)).unwrap();
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();
    let out = format!("{stdout}{}", String::from_utf8_lossy(&ran.stderr));
    assert!(ran.status.is_some(), "{args:?} did not end in 60 s");
    assert!(
        ran.max_rss < MAX_RSS,
        "{args:?} peaked at {} MB",
        ran.max_rss / 1_000_000
    );
    (ran.status.and_then(|s| s.code()), stdout, out)
}

/// Validates a campaign over `file` (in `dir`): its first diagnostic, which must be
/// `source-too-large` at the `file:` line, its message holding `says`.
fn assert_too_large(dir: &Path, file: &str, says: &str) {
    std::fs::write(dir.join("c.yaml"), campaign_text(file, None, "{{name}}")).unwrap();
    let (code, stdout, out) = outreach(dir, &["validate", "--format", "json", "c.yaml"]);
    assert_eq!(code, Some(1), "{file}: {out}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let d = &doc["files"][0]["diagnostics"][0];
    assert_eq!(d["code"], "source-too-large", "{file}: {d}");
    assert_eq!(d["line"], 5, "{file}: {d}");
    let message = d["message"].as_str().unwrap();
    assert!(message.contains(file), "{file}: {d}");
    assert!(message.contains(says), "{file}: {d}");
    let (code, _, out) = outreach(dir, &["plan", "c.yaml"]);
    assert_ne!(code, Some(0), "{file}: {out}");
    assert!(
        out.contains("source-too-large") || out.contains(says),
        "{file}: {out}"
    );
}

/// A zip of these parts, deflated.
fn zip(path: &Path, parts: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in parts {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// Rewrites the uncompressed size that the zip at `path` declares for `part`, in its local
/// header and in the central directory, keeping everything else.
fn declare_size(path: &Path, part: &str, size: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut patched = 0;
    for (signature, size_at, name_len_at, name_at) in
        [(b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)]
    {
        let mut i = 0;
        while i + name_at <= bytes.len() {
            if &bytes[i..i + 4] == signature {
                let len = usize::from(u16::from_le_bytes([
                    bytes[i + name_len_at],
                    bytes[i + name_len_at + 1],
                ]));
                if bytes.get(i + name_at..i + name_at + len) == Some(part.as_bytes()) {
                    bytes[i + size_at..i + size_at + 4].copy_from_slice(&size.to_le_bytes());
                    patched += 1;
                }
            }
            i += 1;
        }
    }
    assert_eq!(patched, 2, "{part} not found twice in {}", path.display());
    std::fs::write(path, bytes).unwrap();
}

const XLSX_PARTS: [(&str, &[u8]); 4] = [
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
];

#[test]
fn class_15_a_zip_part_that_inflates_past_its_declared_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut sheet = br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>"#.to_vec();
    sheet.extend(std::iter::repeat_n(b' ', 64 * 1024 * 1024));
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    let path = dir.path().join("liar.xlsx");
    let mut parts = XLSX_PARTS.to_vec();
    parts.push(("xl/worksheets/sheet1.xml", sheet.as_slice()));
    zip(&path, &parts);
    // It says 4 KiB; it inflates to 64 MiB.
    declare_size(&path, "xl/worksheets/sheet1.xml", 4096);
    assert!(std::fs::metadata(&path).unwrap().len() < 1024 * 1024);
    assert_too_large(
        dir.path(),
        "liar.xlsx",
        "more than the 4 KiB its zip declares",
    );
}

/// An ODS file of one sheet whose `<table:table>` holds `rows`.
fn ods(path: &Path, rows: &str) {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Patients">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    zip(
        path,
        &[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("content.xml", content.as_bytes()),
            (
                "META-INF/manifest.xml",
                br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#,
            ),
        ],
    );
}

fn text_cell(text: &str, repeated: u32) -> String {
    format!(
        r#"<table:table-cell table:number-columns-repeated="{repeated}" office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
    )
}

const ODS_HEADER: &str = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>phone</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>name</text:p></table:table-cell></table:table-row>"#;

#[test]
fn class_15_ods_sheets_whose_repeats_ask_too_much_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // An honest sheet, with the blank rows and columns LibreOffice writes after the data.
    let good = format!(
        r#"{ODS_HEADER}<table:table-row>{}{}<table:table-cell table:number-columns-repeated="16382"/></table:table-row><table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#,
        text_cell("+2348031110000", 1),
        text_cell("Ada", 1)
    );
    ods(&dir.path().join("good.ods"), &good);
    std::fs::write(
        dir.path().join("c.yaml"),
        campaign_text("good.ods", None, "{{name}}"),
    )
    .unwrap();
    let (code, _, out) = outreach(dir.path(), &["plan", "c.yaml"]);
    assert_eq!(code, Some(0), "{out}");

    // A row of values repeated a million times: 100 million cells from a few hundred bytes.
    let tall = format!(
        r#"{ODS_HEADER}<table:table-row table:number-rows-repeated="1000000">{}</table:table-row>"#,
        text_cell("x", 100)
    );
    ods(&dir.path().join("tall.ods"), &tall);
    assert_too_large(dir.path(), "tall.ods", "spans 1000001 rows by 100 columns");

    // A thousand rows of one value repeated across every column: no row repeats at all.
    let wide = format!(
        "{ODS_HEADER}{}",
        format!(
            "<table:table-row>{}</table:table-row>",
            text_cell("x", 16_384)
        )
        .repeat(1000)
    );
    ods(&dir.path().join("wide.ods"), &wide);
    assert_too_large(dir.path(), "wide.ods", "by 16384 columns");
}
