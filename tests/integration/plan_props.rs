//! Property test: for random patient lists, every row ends up in exactly one of "called" or
//! "skipped with a reason", and no number is called twice.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use outreach::campaign::Campaign;
use outreach::plan::{self, Call, Header, Sink, Skip, Summary};
use proptest::prelude::*;

#[derive(Default)]
struct Collect {
    calls: Vec<Call>,
    skips: Vec<Skip>,
}

impl Sink for Collect {
    fn header(&mut self, _: &Header, _: &Campaign) -> io::Result<()> {
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, calls: &[Call]) -> io::Result<()> {
        self.calls.extend_from_slice(calls);
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

fn phone() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..40).prop_map(|n| format!("0803{:07}", 1_000_000 + n)), // local, may repeat
        (0u32..40).prop_map(|n| format!("+234 805 {:03} {:04}", n % 1000, n)), // international
        Just(String::new()),
        "[0-9]{1,6}",
        Just("+233 24 123 4567".to_owned()),
        Just("not a number".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_row_is_called_or_skipped_once(
        rows in proptest::collection::vec((phone(), prop_oneof![Just(String::new()), "[A-Za-z]{1,8}"]), 0..60),
        opted in proptest::collection::vec(phone(), 0..5),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut csv = String::from("phone,name\n");
        for (p, n) in &rows {
            writeln!(csv, "\"{p}\",\"{n}\"").unwrap();
        }
        std::fs::write(dir.path().join("p.csv"), csv).unwrap();
        let mut opt = String::from("phone\n");
        for p in &opted {
            writeln!(opt, "\"{p}\"").unwrap();
        }
        std::fs::write(dir.path().join("o.csv"), opt).unwrap();
        let yaml = r#"
version: 1
name: prop
workflow_id: w
patients:
  - file: p.csv
    default_country: NG
    allowed_countries: [NG]
variables:
  name: "{{name}}"
exclude:
  - file: o.csv
    default_country: NG
    allow_invalid: 10
schedule:
  timezone: Africa/Lagos
  windows: [{days: [every_day], from: "08:00", until: "20:00"}]
delivery:
  batch_size: 7
"#;
        let campaign_path = dir.path().join("c.yaml");
        std::fs::write(&campaign_path, yaml).unwrap();
        let checked = outreach::validate::check_text(Path::new("c.yaml"), yaml, dir.path());
        let campaign = checked.campaign.expect("the campaign is valid");
        let mut sink = Collect::default();
        let summary = plan::plan(&campaign, &campaign_path, &mut sink).unwrap();

        let called: Vec<u64> = sink.calls.iter().map(|c| c.row).collect();
        let skipped: Vec<u64> = sink.skips.iter().map(|s| s.row).collect();
        let mut all: Vec<u64> = called.iter().chain(&skipped).copied().collect();
        all.sort_unstable();
        let expected: Vec<u64> = (0..rows.len() as u64).map(|i| i + 2).collect();
        prop_assert_eq!(all, expected, "each row exactly once");
        prop_assert!(sink.skips.iter().all(|s| !s.reason.is_empty()));
        let numbers: HashSet<&str> = sink.calls.iter().map(|c| c.phone.as_str()).collect();
        prop_assert_eq!(numbers.len(), sink.calls.len(), "no number called twice");
        prop_assert_eq!(summary.calls, sink.calls.len() as u64);
        prop_assert_eq!(summary.rows, rows.len() as u64);
        prop_assert!(sink.calls.iter().all(|c| c.phone.starts_with("+234")));

        // Exactly the numbers with a callable row are planned: a valid Nigerian number, not
        // opted out, with a name. A skipped row never stands in for a callable one.
        let ng = outreach::patients::phone::country("NG");
        let e164 = |p: &str, allowed: &[_]| {
            outreach::patients::phone::normalise(p, ng, allowed).ok().map(|n| n.e164)
        };
        let opted_out: HashSet<String> = opted.iter().filter_map(|p| e164(p, &[])).collect();
        let callable: HashSet<String> = rows
            .iter()
            .filter(|(_, name)| !name.is_empty())
            .filter_map(|(p, _)| e164(p, &[ng.unwrap()]))
            .filter(|n| !opted_out.contains(n))
            .collect();
        let planned: HashSet<String> = numbers.iter().map(|n| (*n).to_owned()).collect();
        prop_assert_eq!(planned, callable);
        // And every duplicate's message names a row that is called.
        let called_rows: HashSet<u64> = sink.calls.iter().map(|c| c.row).collect();
        for s in sink.skips.iter().filter(|s| s.code.as_str() == "duplicate") {
            let first: u64 = s
                .reason
                .split("row ")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|r| r.parse().ok())
                .unwrap();
            prop_assert!(called_rows.contains(&first), "{}", s.reason);
        }
    }
}
