//! Per-key, per-route token buckets in real time. Capacity equals the per-second limit.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::config::Route;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Duration,
}

/// Buckets keyed by (API key, route). Time is passed in, so tests drive it by hand.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limits: BTreeMap<Route, u32>,
    buckets: HashMap<(String, Route), Bucket>,
}

/// Most buckets kept before idle (full) ones are dropped, so random keys cannot grow memory.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    pub fn new(limits: BTreeMap<Route, u32>) -> Self {
        Self {
            limits,
            buckets: HashMap::new(),
        }
    }

    /// The per-second limit of `route`, if any.
    pub fn limit(&self, route: Route) -> Option<u32> {
        self.limits.get(&route).copied().filter(|n| *n > 0)
    }

    /// Takes a token, or says how many whole seconds to wait (at least 1).
    pub fn check(&mut self, key: &str, route: Route, now: Duration) -> Result<(), u32> {
        let Some(limit) = self.limit(route) else {
            return Ok(());
        };
        let rate = f64::from(limit);
        if self.buckets.len() >= MAX_BUCKETS {
            self.buckets.retain(|_, bucket| {
                bucket.tokens + (now.saturating_sub(bucket.last)).as_secs_f64() * rate < rate
            });
        }
        let bucket = self
            .buckets
            .entry((key.to_owned(), route))
            .or_insert(Bucket {
                tokens: rate,
                last: now,
            });
        let refill = now.saturating_sub(bucket.last).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(rate);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            // A wait of at most one second per token: small positive number.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "bounded, positive"
            )]
            let secs = wait.ceil().max(1.0) as u32;
            Err(secs)
        }
    }

    pub fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_of_capacity_then_429_then_refill() {
        let mut limiter = RateLimiter::new(BTreeMap::from([(Route::Conversation, 5)]));
        let t0 = Duration::from_secs(100);
        for _ in 0..5 {
            assert_eq!(limiter.check("k", Route::Conversation, t0), Ok(()));
        }
        assert_eq!(limiter.check("k", Route::Conversation, t0), Err(1));
        // Other keys and unlimited routes are independent.
        assert_eq!(limiter.check("other", Route::Conversation, t0), Ok(()));
        assert_eq!(limiter.check("k", Route::Robocall, t0), Ok(()));
        // One token comes back after 1/5 s.
        let later = t0 + Duration::from_millis(200);
        assert_eq!(limiter.check("k", Route::Conversation, later), Ok(()));
        assert_eq!(limiter.check("k", Route::Conversation, later), Err(1));
    }
}
