//! Fault injection: which faults hit a request, drawn from the seed and the request number.
//!
//! Before processing (no call is placed): extra latency, a closed connection, an injected
//! 5xx, an injected 429. After processing (the calls were placed): a dropped response.

use std::time::Duration;

use crate::config::{FaultRule, Latency, Route};
use crate::ids::{hash_bytes, mix};

/// What happens to a request instead of (or before) normal processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// Close the connection without a response.
    DropConnection,
    /// Answer this 5xx status.
    Error(u16),
    /// Answer 429 with this `Retry-After`.
    TooManyRequests(u32),
}

/// The faults chosen for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decision {
    pub latency: Option<Duration>,
    pub before: Option<Before>,
    /// Process the request, then close the connection instead of answering.
    pub drop_response: bool,
}

/// The active rules and their burst counters.
#[derive(Debug, Default)]
pub struct Faults {
    seed: u64,
    rules: Vec<FaultRule>,
    /// Remaining burst 429s per rule.
    bursts: Vec<u32>,
}

fn unit(hash: u64) -> f64 {
    // 53 random bits to a float in [0, 1).
    #[expect(
        clippy::cast_precision_loss,
        reason = "exactly representable: below 2^53"
    )]
    let (top, scale) = ((hash >> 11) as f64, (1u64 << 53) as f64);
    top / scale
}

impl Faults {
    pub fn new(seed: u64, rules: Vec<FaultRule>) -> Self {
        let bursts = rules.iter().map(|r| r.too_many_requests_burst).collect();
        Self {
            seed,
            rules,
            bursts,
        }
    }

    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    pub fn set(&mut self, rules: Vec<FaultRule>) {
        *self = Self::new(self.seed, rules);
    }

    pub fn add(&mut self, rule: FaultRule) {
        self.bursts.push(rule.too_many_requests_burst);
        self.rules.push(rule);
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Draws the faults of request number `seq` on `route`.
    pub fn decide(&mut self, route: Route, seq: u64) -> Decision {
        let mut decision = Decision::default();
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.route.is_some_and(|r| r != route) {
                continue;
            }
            let base = hash_bytes(
                self.seed,
                &[b"fault", &seq.to_le_bytes(), &index.to_le_bytes()],
            );
            let draw = |salt: u64| unit(mix(base ^ salt));
            if let Some(latency) = rule.latency_ms {
                let ms = match latency {
                    Latency::Fixed(ms) => ms,
                    Latency::Range([min, max]) => min + mix(base ^ 7) % (max - min + 1),
                };
                decision.latency =
                    Some(decision.latency.unwrap_or_default() + Duration::from_millis(ms));
            }
            if decision.before.is_none() {
                if draw(1) < rule.drop_connection_rate {
                    decision.before = Some(Before::DropConnection);
                } else if draw(2) < rule.error_rate {
                    let pick = usize::try_from(mix(base ^ 3) % rule.error_statuses.len() as u64)
                        .unwrap_or(0);
                    decision.before = Some(Before::Error(rule.error_statuses[pick]));
                } else if self.bursts[index] > 0 {
                    self.bursts[index] -= 1;
                    decision.before = Some(Before::TooManyRequests(rule.retry_after_secs));
                } else if draw(4) < rule.too_many_requests_rate {
                    decision.before = Some(Before::TooManyRequests(rule.retry_after_secs));
                }
            }
            if draw(5) < rule.drop_response_rate {
                decision.drop_response = true;
            }
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_respected_roughly_and_deterministically() {
        let rule = FaultRule {
            route: Some(Route::Robocall),
            error_rate: 0.5,
            ..FaultRule::default()
        };
        let mut a = Faults::new(1, vec![rule.clone()]);
        let mut b = Faults::new(1, vec![rule]);
        let errors = (0..1000)
            .filter(|seq| {
                let d = a.decide(Route::Robocall, *seq);
                assert_eq!(d, b.decide(Route::Robocall, *seq));
                matches!(d.before, Some(Before::Error(500 | 502 | 503)))
            })
            .count();
        assert!((400..600).contains(&errors), "{errors}");
        assert_eq!(a.decide(Route::Status, 1), Decision::default());
    }

    #[test]
    fn bursts_count_down() {
        let mut faults = Faults::new(
            0,
            vec![FaultRule {
                too_many_requests_burst: 2,
                retry_after_secs: 3,
                ..FaultRule::default()
            }],
        );
        assert_eq!(
            faults.decide(Route::Status, 0).before,
            Some(Before::TooManyRequests(3))
        );
        assert_eq!(
            faults.decide(Route::Robocall, 1).before,
            Some(Before::TooManyRequests(3))
        );
        assert_eq!(faults.decide(Route::Robocall, 2).before, None);
    }

    #[test]
    fn certain_faults() {
        let mut faults = Faults::new(
            0,
            vec![FaultRule {
                drop_response_rate: 1.0,
                latency_ms: Some(Latency::Range([5, 5])),
                ..FaultRule::default()
            }],
        );
        let d = faults.decide(Route::Robocall, 9);
        assert!(d.drop_response);
        assert_eq!(d.latency, Some(Duration::from_millis(5)));
        assert_eq!(d.before, None);
    }
}
