//! `outreach report --format html`: the page's figures equal `--format json`'s, and the page
//! renders in headless Chromium with no script error, no network request and no chart
//! without its numbers.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::apply::{Campaign, Mock, apply, campaign};
use crate::outreach;

/// Runs `outreach report` with extra arguments; returns standard output.
fn report(c: &Campaign, url: &str, extra: &[&str]) -> Vec<u8> {
    let out = outreach()
        .args(["report", "--api-url", url, "--state"])
        .arg(c.state())
        .arg(&c.path)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&amp;", "&")
}

/// Every `data-measure="POINTER"` of the page with the text of its element.
fn measures(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("data-measure=\"") {
        rest = &rest[i + "data-measure=\"".len()..];
        let end = rest.find('"').unwrap();
        let pointer = unescape(&rest[..end]);
        let open = rest.find('>').unwrap();
        let text_end = rest[open + 1..].find('<').unwrap();
        out.push((
            pointer,
            unescape(rest[open + 1..open + 1 + text_end].trim()),
        ));
        rest = &rest[open + 1..];
    }
    out
}

/// JSON pointers of every number in a document.
fn numbers(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Number(_) => out.push(at.to_owned()),
        Value::Object(m) => {
            for (k, v) in m {
                numbers(
                    v,
                    &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                numbers(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Checks that the page shows exactly the JSON's figures, and all of them.
pub(crate) fn assert_same_figures(html: &str, json: &Value) {
    let shown = measures(html);
    assert!(!shown.is_empty(), "no data-measure in the page");
    for (pointer, text) in &shown {
        let v = json
            .pointer(pointer)
            .unwrap_or_else(|| panic!("the page shows {pointer}, which the JSON lacks"));
        match v {
            Value::Null => assert!(
                text == "n/a" || text.is_empty(),
                "{pointer}: {text:?} where the JSON has null"
            ),
            Value::Number(n) => assert_eq!(
                text.parse::<f64>().ok(),
                n.as_f64(),
                "{pointer}: the page says {text:?}, the JSON {n}"
            ),
            Value::String(s) => assert_eq!(text, s, "{pointer}"),
            other => panic!("{pointer}: the page shows a {other}"),
        }
    }
    let mut wanted = Vec::new();
    numbers(json, "", &mut wanted);
    for pointer in wanted.iter().filter(|p| *p != "/version") {
        assert!(
            shown.iter().any(|(p, _)| p == pointer),
            "the JSON's {pointer} is not on the page"
        );
    }
}

/// What must hold of the page's text: no script, nothing fetched, every chart with a table.
pub(crate) fn static_problems(html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lower = html.to_ascii_lowercase();
    for banned in [
        "<script", "src=", "href=", "url(", "<link", "@import", "<iframe", "<img", "<object",
        "<embed",
    ] {
        if lower.contains(banned) {
            problems.push(format!("the page contains `{banned}`"));
        }
    }
    // Addresses may appear as text (the target is one), never inside a tag.
    for tag in lower.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if tag.contains("http:") || tag.contains("https:") || tag.contains("//") {
            problems.push(format!("an address in a tag: <{tag}>"));
        }
    }
    let svgs = html.matches("<svg").count();
    let mut charted = 0;
    for figure in html.split("<figure").skip(1) {
        let figure = &figure[..figure.find("</figure>").unwrap_or(figure.len())];
        if figure.contains("<svg") {
            charted += figure.matches("<svg").count();
            if !figure.contains("<table")
                || !figure.contains("data-measure=") && !figure.contains("nothing recorded")
            {
                problems.push("a chart without a table of its numbers".to_owned());
            }
        }
    }
    if charted != svgs {
        problems.push(format!(
            "{} charts outside a figure with their numbers",
            svgs - charted
        ));
    }
    problems
}

#[test]
fn the_html_report_shows_the_same_figures_as_json() {
    let mock = Mock::fast();
    let c = campaign(
        2000,
        "exclude:\n  - file: opt-outs.csv\n    default_country: NG\ndelivery: {batch_size: 100, requests_per_second: 100, concurrency: 2}\n",
    );
    // Skips of several kinds: opted out, invalid numbers, a duplicate.
    std::fs::write(
        c.dir.path().join("opt-outs.csv"),
        "phone\n08032000000\n08032000001\n08032000002\n",
    )
    .unwrap();
    let csv = c.dir.path().join("patients.csv");
    let mut rows = std::fs::read_to_string(&csv).unwrap();
    rows.push_str("X1,Bad,12345\nX2,Twice,08032000010\nX3,Empty,\n");
    std::fs::write(&csv, rows).unwrap();

    let out = apply(&c, &mock.url, &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value =
        serde_json::from_slice(&report(&c, &mock.url, &["--format", "json"])).unwrap();
    assert_eq!(json["plan"]["calls"], 1997);
    assert_eq!(json["plan"]["opted_out"], 3);
    assert_eq!(json["patients_called"], 1997);
    let by_state: u64 = ["answered", "failed", "no_answer", "in_doubt", "pending"]
        .iter()
        .map(|k| json[k].as_u64().unwrap())
        .sum();
    assert_eq!(by_state, 1997);
    assert!(
        json["answered"].as_u64().unwrap() > 0 && json["no_answer"].as_u64().unwrap() > 0,
        "the mock's outcome mix: {json}"
    );
    let timeline: u64 = json["timeline"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["calls"]["total"].as_u64().unwrap())
        .sum();
    assert_eq!(
        timeline,
        json["attempts"].as_u64().unwrap(),
        "every call in one bucket"
    );

    let page = c.dir.path().join("report.html");
    let said = report(
        &c,
        &mock.url,
        &["--format", "html", "--out", page.to_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&said).contains("report.html"));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_same_figures(&html, &json);
    assert_eq!(static_problems(&html), Vec::<String>::new());

    // The CSV agrees too, on the headline and the breakdowns.
    let csv = String::from_utf8(report(&c, &mock.url, &["--format", "csv"])).unwrap();
    for (measure, pointer) in [
        ("planned", "/plan/calls"),
        ("opted_out", "/plan/opted_out"),
        ("answered", "/answered"),
        ("unanswered", "/no_answer"),
        ("by_attempt.1.total", "/by_attempt/1/total"),
        ("by_accent.yoruba.failed", "/by_accent/yoruba/failed"),
        (
            "by_source.patients.csv.answered",
            "/by_source/patients.csv/answered",
        ),
    ] {
        let line = csv
            .lines()
            .find(|l| l.split(',').nth(3) == Some(measure))
            .unwrap_or_else(|| panic!("no {measure} in the CSV"));
        assert_eq!(
            line.rsplit(',').next().unwrap(),
            json.pointer(pointer).unwrap().to_string(),
            "{measure}"
        );
    }
}

#[test]
fn the_page_checks_catch_a_script_a_fetch_and_a_chart_without_numbers() {
    let bad = r#"<html><body><figure class="chart"><svg></svg></figure><img src="https://example.org/x.png"><script>x()</script></body></html>"#;
    let problems = static_problems(bad);
    assert!(
        problems.iter().any(|p| p.contains("<script")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("https://example.org")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("without a table")),
        "{problems:?}"
    );
}

/// Headless Chromium, or why not. In CI (`CI` set) it must be there.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("OUTREACH_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the browser test: {} is missing (.ci/run installs Debian's chromium)",
        path.display()
    );
    #[expect(
        clippy::print_stderr,
        reason = "tells a developer how to run the skipped test"
    )]
    {
        eprintln!(
            "skipping the browser test: no {} (apt-get install chromium, or set OUTREACH_CHROMIUM)",
            path.display()
        );
    }
    None
}

/// A Chromium driven through the DevTools protocol over a pipe (`--remote-debugging-pipe`,
/// file descriptors 3 and 4, given by `sh` from two FIFOs).
struct Browser {
    child: std::process::Child,
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next: u64,
    /// Every event received so far.
    events: Vec<Value>,
    _dir: tempfile::TempDir,
}

impl Browser {
    fn start(chromium: &Path) -> Browser {
        let dir = tempfile::tempdir().unwrap();
        let (input, output) = (dir.path().join("in"), dir.path().join("out"));
        for fifo in [&input, &output] {
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(fifo)
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let script = format!(
            "exec '{}' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
             --disable-background-networking --disable-component-update --disable-sync \
             --hide-scrollbars --user-data-dir='{}' --remote-debugging-pipe about:blank 3<'{}' 4>'{}'",
            chromium.display(),
            dir.path().join("profile").display(),
            input.display(),
            output.display()
        );
        let child = std::process::Command::new("sh")
            .args(["-c", &script])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let to = std::fs::OpenOptions::new()
            .write(true)
            .open(&input)
            .unwrap();
        let mut reader = std::fs::File::open(&output).unwrap();
        let (tx, from) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 1 << 16];
            while let Ok(n) = reader.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|b| *b == 0) {
                    let message: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice(&message[..end])
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Browser {
            child,
            to,
            from,
            next: 0,
            events: Vec::new(),
            _dir: dir,
        }
    }

    fn next_message(&mut self) -> Value {
        let m = self
            .from
            .recv_timeout(Duration::from_secs(60))
            .expect("Chromium answers within a minute");
        self.events.push(m.clone());
        m
    }

    /// Sends a command and waits for its answer.
    fn call(&mut self, session: Option<&str>, method: &str, params: &Value) -> Value {
        self.next += 1;
        let mut m = json!({"id": self.next, "method": method, "params": params});
        if let Some(s) = session {
            m["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&m).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        loop {
            let reply = self.next_message();
            if reply["id"] == self.next {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a browser saw of a page.
struct Seen {
    problems: Vec<String>,
    screenshot: Vec<u8>,
    /// The page printed with its own `@page` rules.
    pdf: Vec<u8>,
}

/// Loads a page, collects script errors, requests other than the page itself, failed
/// loads, charts without their numbers; takes a screenshot at 1240×1754 (A4 at 150 dpi).
fn look_at(chromium: &Path, page: &Path) -> Seen {
    use base64::Engine as _;
    let mut b = Browser::start(chromium);
    let target = b.call(None, "Target.createTarget", &json!({"url": "about:blank"}));
    let attached = b.call(
        None,
        "Target.attachToTarget",
        &json!({"targetId": target["targetId"], "flatten": true}),
    );
    let session = attached["sessionId"].as_str().unwrap().to_owned();
    let s = Some(session.as_str());
    for domain in [
        "Runtime.enable",
        "Log.enable",
        "Network.enable",
        "Page.enable",
    ] {
        b.call(s, domain, &json!({}));
    }
    b.call(
        s,
        "Emulation.setDeviceMetricsOverride",
        &json!({"width": 1240, "height": 1754, "deviceScaleFactor": 1, "mobile": false}),
    );
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let start = b.events.len();
    b.call(s, "Page.navigate", &json!({"url": url}));
    while !b.events[start..]
        .iter()
        .any(|e| e["method"] == "Page.loadEventFired")
    {
        b.next_message();
    }
    let check = b.call(
        s,
        "Runtime.evaluate",
        &json!({"returnByValue": true, "expression": r"
            [...document.querySelectorAll('svg')].filter(svg => {
              const figure = svg.closest('figure');
              const table = figure && figure.querySelector('table');
              return !table || (table.querySelectorAll('td[data-measure]').length === 0
                                && !table.textContent.includes('nothing recorded'));
            }).length"}),
    );
    let shot = b.call(s, "Page.captureScreenshot", &json!({"format": "png"}));
    let pdf = b.call(
        s,
        "Page.printToPDF",
        &json!({"preferCSSPageSize": true, "printBackground": true}),
    );
    let mut problems = Vec::new();
    let unlabelled = check["result"]["value"].as_u64().unwrap_or(u64::MAX);
    if unlabelled > 0 {
        problems.push(format!("{unlabelled} charts without their numbers"));
    }
    for e in &b.events {
        let p = &e["params"];
        match e["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                problems.push(format!("script error: {}", p["exceptionDetails"]));
            }
            Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                problems.push(format!(
                    "console error: {}",
                    p["entry"]["text"].as_str().unwrap_or_default()
                ));
            }
            Some("Network.loadingFailed") => {
                problems.push(format!(
                    "failed request: {}",
                    p["errorText"].as_str().unwrap_or_default()
                ));
            }
            Some("Network.requestWillBeSent") if p["request"]["url"] != url.as_str() => {
                problems.push(format!(
                    "request for {}",
                    p["request"]["url"].as_str().unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    let screenshot = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap_or_default())
        .unwrap();
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(pdf["data"].as_str().unwrap_or_default())
        .unwrap();
    Seen {
        problems,
        screenshot,
        pdf,
    }
}

#[test]
fn the_example_campaigns_report_renders_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let campaign = "campaigns/measles-reminder.yaml";
    let applied = outreach()
        .args(["apply", campaign, "--mock", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(
        applied.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let page = dir.path().join("report.html");
    outreach()
        .args([
            "report", campaign, "--mock", "--format", "html", "--by", "clinic", "--state",
        ])
        .arg(&state)
        .arg("--out")
        .arg(&page)
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    // `--by clinic`: one more chart, with its table, for the patients by clinic.
    assert!(
        html.contains(r#"<section id="by-column-0">"#),
        "the chart by clinic"
    );
    assert!(html.contains("Outcomes by clinic"));
    let json = outreach()
        .args([
            "report", campaign, "--mock", "--format", "json", "--by", "clinic", "--state",
        ])
        .arg(&state)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        json["by_column"][0]["groups"]
            .as_array()
            .is_some_and(|g| g.len() > 1),
        "{json}"
    );
    assert_same_figures(&html, &json);
    assert_eq!(static_problems(&html), Vec::<String>::new());
    let seen = look_at(&chromium, &page);
    assert_eq!(seen.problems, Vec::<String>::new());
    assert!(seen.screenshot.starts_with(b"\x89PNG"), "a PNG screenshot");
    // It prints on A4 (595 × 842 points), by its own @page rule.
    let pdf = String::from_utf8_lossy(&seen.pdf);
    let media = pdf
        .split("/MediaBox [0 0 ")
        .nth(1)
        .expect("a PDF with a page size");
    let size: Vec<f64> = media
        .split(']')
        .next()
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(
        (size[0] - 595.3).abs() < 2.0 && (size[1] - 841.9).abs() < 2.0,
        "A4 pages: {size:?}"
    );
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-example.png");
    std::fs::write(&shot, &seen.screenshot).unwrap();
    // `OUTREACH_UPDATE_SCREENSHOT=1 cargo test report_html` refreshes the README's picture.
    if std::env::var_os("OUTREACH_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(
            crate::root().join("docs/report-example.png"),
            &seen.screenshot,
        )
        .unwrap();
    }

    // The checks see what they look for: a page with a script error, a request and a chart
    // without numbers fails all three.
    let bad = dir.path().join("bad.html");
    std::fs::write(
        &bad,
        r#"<!DOCTYPE html><html><body><figure><svg></svg></figure><img src="http://127.0.0.1:9/x.png"><script>undefinedFunction()</script></body></html>"#,
    )
    .unwrap();
    let seen = look_at(&chromium, &bad);
    let all = seen.problems.join("\n");
    assert!(all.contains("script error"), "{all}");
    assert!(
        all.contains("request for http://127.0.0.1:9/x.png"),
        "{all}"
    );
    assert!(all.contains("failed request"), "{all}");
    assert!(all.contains("1 charts without their numbers"), "{all}");
}

#[test]
fn calls_in_doubt_are_listed_masked_unless_unmask() {
    let mock = Mock::fast();
    mock.set_faults(&json!([{"route": "robocall", "drop_response_rate": 1.0}]));
    let c = campaign(3, "delivery: {batch_size: 3}\n");
    let out = apply(&c, &mock.url, &["--no-follow"]);
    assert_eq!(out.status.code(), Some(1), "in doubt");
    let masked = String::from_utf8(report(&c, &mock.url, &["--format", "html"])).unwrap();
    let json: Value =
        serde_json::from_slice(&report(&c, &mock.url, &["--format", "json"])).unwrap();
    assert_eq!(json["in_doubt"], 3);
    assert_same_figures(&masked, &json);
    assert!(masked.contains("Still pending or in doubt (3)"));
    for number in &c.numbers {
        assert!(!masked.contains(number.as_str()), "{number} is masked");
        assert!(
            masked.contains(&number[number.len() - 4..]),
            "its last digits show"
        );
    }
    let unmasked =
        String::from_utf8(report(&c, &mock.url, &["--format", "html", "--unmask"])).unwrap();
    for number in &c.numbers {
        assert!(
            unmasked.contains(number.as_str()),
            "--unmask shows {number}"
        );
    }
}
