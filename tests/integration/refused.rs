//! Issue 14, class 6: one bad row rejected its whole batch, and the rest were never called.
//! A 422 that names an entry (`workflow_params[2]…`, the mock's form) rejects that call
//! alone, with the server's words; the others are sent again without it. Where apply can
//! read the workflow, a message over the limit is refused before anything is sent.

use serde_json::Value;

use crate::apply::{Mock, apply, campaign, text};
use crate::on_both_backends;

on_both_backends! {
    fn class_6_an_entry_the_server_refuses_is_rejected_alone_and_the_rest_are_called() {
        // A server whose workflows cannot be read (as the live service documents none), so
        // the message is not known to apply and the server's answer decides.
        let mock = Mock::start(mock_server::MockConfig {
            time_scale: 3600.0,
            documented_only: true,
            ..mock_server::MockConfig::default()
        });
        let c = campaign(5, "delivery: {batch_size: 5}\n");
        // Row 3's name makes its message longer than the 4000 characters the service takes:
        // the mock refuses the batch with a 422 naming that entry.
        let csv = c.path.with_file_name("patients.csv");
        let rows = std::fs::read_to_string(&csv).unwrap();
        let long = "N".repeat(4100);
        std::fs::write(&csv, rows.replace("Patient 2,", &format!("{long},"))).unwrap();

        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        // A rejected call is a problem the run found: exit 1.
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["counts"]["accepted"], 4, "{summary}");
        assert_eq!(summary["counts"]["rejected"], 1, "{summary}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("a call of a batch of 5 was refused by the server (422): workflow_params[2]")
                && stderr.contains("the other 4 are sent again without it"),
            "{stderr}"
        );
        let mut called: Vec<String> = mock.calls().into_iter().map(|(p, _)| p).collect();
        called.sort();
        let mut expected = c.numbers.clone();
        let refused = expected.remove(2);
        assert_eq!(called, expected, "every other patient once, the refused one never");

        // The next run places nothing again, and the refused call is not counted as placed.
        let again = apply(&c, &mock.url, &["--json", "--no-follow"]);
        let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(summary["counts"]["accepted"], 0, "{summary}");
        assert_eq!(mock.calls().len(), 4);
        let report = crate::outreach()
            .args(["report", "--format", "json", "--api-url", &mock.url, "--state"])
            .arg(c.state())
            .arg(&c.path)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&report.stdout).unwrap();
        assert_eq!(report["patients_called"], 4, "{report:#}");
        assert_eq!(report["rejected"], 1, "{report:#}");
        assert!(!called.contains(&refused));
    }
}

on_both_backends! {
    fn class_6_a_refusal_that_names_no_entry_rejects_the_batch_and_places_none() {
        let mock = Mock::fast();
        // A workflow the service does not have: a 404 for the whole request.
        let c = campaign(3, "delivery: {batch_size: 3}\n");
        let yaml = std::fs::read_to_string(&c.path).unwrap().replace(
            "workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf",
            "workflow_id: 00000000-0000-4000-8000-000000000000",
        );
        std::fs::write(&c.path, yaml).unwrap();
        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["counts"]["rejected"], 3, "{summary}");
        assert_eq!(summary["counts"]["accepted"], 0, "{summary}");
        assert!(mock.calls().is_empty());
    }
}

on_both_backends! {
    fn class_6_a_message_known_to_be_over_the_limit_is_refused_before_anything_is_sent() {
        // The mock lets apply read the workflow: its message, with row 3's name, is over
        // 4000 characters, so nobody is called and the row is named.
        let mock = Mock::fast();
        let c = campaign(5, "delivery: {batch_size: 5}\n");
        let csv = c.path.with_file_name("patients.csv");
        let rows = std::fs::read_to_string(&csv).unwrap();
        std::fs::write(&csv, rows.replace("Patient 2,", &format!("{},", "N".repeat(4100)))).unwrap();
        let out = apply(&c, &mock.url, &["--no-follow"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let said = text(&out);
        assert!(
            said.contains("1 call would exceed the 4000-character message limit")
                && said.contains("row 4")
                && said.contains("nothing was sent"),
            "{said}"
        );
        assert!(!said.contains(&"N".repeat(100)), "the value is not echoed: {said}");
        assert!(mock.calls().is_empty(), "nobody was called");
    }
}
