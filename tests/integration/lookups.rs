//! Issue 14, class 10: one failed lookup aborted the whole run ("looking up batch …: 500").
//! Lookups are retried with backoff; what stays unknown stays in doubt and the run goes on.

use serde_json::Value;

use crate::apply::{Mock, apply, campaign, text};
use crate::on_both_backends;

on_both_backends! {
    fn class_10_failed_lookups_leave_calls_in_doubt_and_the_run_goes_on() {
        let mock = Mock::fast();
        // Every answer is lost after the mock placed the calls: six calls in doubt, in six
        // batches.
        mock.set_faults(&serde_json::json!([{"route": "robocall", "drop_response_rate": 1.0}]));
        let c = campaign(6, "delivery: {batch_size: 1, requests_per_second: 50}\n");
        let first = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(first.status.code(), Some(1), "{}", text(&first));
        assert_eq!(mock.calls().len(), 6);

        // Most lookups of a batch fail now, and some still fail after the retries.
        mock.set_faults(&serde_json::json!([{"route": "requests", "error_rate": 0.9}]));
        let second = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(
            second.status.code(),
            Some(1),
            "the run went on; calls still in doubt make exit 1: {}",
            text(&second)
        );
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert!(!stderr.contains("error:"), "{stderr}");
        let summary: Value = serde_json::from_slice(&second.stdout).unwrap();
        let resolved = summary["counts"]["resolved"].as_u64().unwrap();
        let in_doubt = summary["counts"]["in_doubt"].as_u64().unwrap();
        assert_eq!(resolved + in_doubt, 6, "{summary}");
        assert!(in_doubt > 0, "some batch stayed unread: {summary}");
        assert!(
            stderr.contains("the calls in doubt it may hold stay in doubt"),
            "{stderr}"
        );
        assert_eq!(summary["counts"]["sent"], 0, "nothing sent on a guess: {summary}");

        // Once the lookups work again, the rest are found: nobody is called twice.
        mock.set_faults(&serde_json::json!([]));
        let third = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(third.status.code(), Some(0), "{}", text(&third));
        let summary: Value = serde_json::from_slice(&third.stdout).unwrap();
        assert_eq!(summary["counts"]["sent"], 0, "{summary}");
        let mut phones: Vec<String> = mock.calls().into_iter().map(|(p, _)| p).collect();
        phones.sort();
        let mut expected = c.numbers.clone();
        expected.sort();
        assert_eq!(phones, expected, "every patient exactly once");
    }
}
