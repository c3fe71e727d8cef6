//! Virtual time: wall time at start-up, sped up by the time scale, plus manual advances.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of real elapsed time, injectable for tests.
pub trait RealTime: Send + Sync {
    /// Real time elapsed since an arbitrary fixed origin.
    fn elapsed(&self) -> Duration;
}

/// The process's monotonic clock.
#[derive(Debug)]
pub struct SystemRealTime(Instant);

impl SystemRealTime {
    pub fn new() -> Self {
        Self(Instant::now())
    }
}

impl Default for SystemRealTime {
    fn default() -> Self {
        Self::new()
    }
}

impl RealTime for SystemRealTime {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// The latest simulated time, 9998-12-31T23:59:59Z: a year short of the last instant RFC 3339
/// can write, so a call placed then still ends (its phases last days at most) at a time that
/// can be written. Simulated time stops here instead of wrapping to 1970.
pub const MAX_MS: u64 = 253_370_764_799_000;

/// An advance that would take simulated time past [`MAX_MS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the clock cannot move past 9998-12-31T23:59:59Z: {asked_ms} ms asked, at most {room_ms} ms remain"
)]
pub struct TooFar {
    pub asked_ms: u64,
    pub room_ms: u64,
}

/// Simulated time in milliseconds since the Unix epoch.
pub struct VirtualClock {
    real: Box<dyn RealTime>,
    start_ms: u64,
    scale: f64,
    /// Milliseconds added by `advance`.
    advanced_ms: Mutex<u64>,
}

impl std::fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualClock")
            .field("start_ms", &self.start_ms)
            .field("scale", &self.scale)
            .finish_non_exhaustive()
    }
}

/// Real wall-clock milliseconds since the Unix epoch.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl VirtualClock {
    /// A clock starting at `start_ms`, running `scale` simulated seconds per real second.
    pub fn new(real: Box<dyn RealTime>, start_ms: u64, scale: f64) -> Self {
        Self {
            real,
            start_ms,
            scale,
            advanced_ms: Mutex::new(0),
        }
    }

    /// Starts now, on the system clock.
    pub fn system(scale: f64) -> Self {
        Self::new(Box::new(SystemRealTime::new()), wall_ms(), scale)
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The current simulated time, at most [`MAX_MS`].
    pub fn now_ms(&self) -> u64 {
        let advanced = *self.advanced_ms.lock().expect("clock lock");
        self.before_advances_ms()
            .saturating_add(advanced)
            .min(MAX_MS)
    }

    /// Start-up time plus scaled real time, at most [`MAX_MS`] (a huge scale, or a long run,
    /// stops there).
    fn before_advances_ms(&self) -> u64 {
        let scaled = self.real.elapsed().as_secs_f64() * 1000.0 * self.scale;
        #[expect(clippy::cast_precision_loss, reason = "a bound, compared as a float")]
        let max = MAX_MS as f64;
        let scaled = if scaled.is_finite() && scaled >= 0.0 && scaled < max {
            // Non-negative and below MAX_MS (checked just above), so the cast is exact enough.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "checked non-negative and below MAX_MS"
            )]
            let ms = scaled as u64;
            ms
        } else {
            MAX_MS
        };
        self.start_ms.saturating_add(scaled).min(MAX_MS)
    }

    /// Moves simulated time forward by `by_ms`, or refuses (and moves nothing) when that would
    /// pass [`MAX_MS`]. Returns the new time.
    pub fn advance(&self, by_ms: u64) -> Result<u64, TooFar> {
        let mut advanced = self.advanced_ms.lock().expect("clock lock");
        let now = self.before_advances_ms().saturating_add(*advanced);
        let room_ms = MAX_MS.saturating_sub(now);
        if by_ms > room_ms {
            return Err(TooFar {
                asked_ms: by_ms,
                room_ms,
            });
        }
        // Cannot overflow: `advanced + by_ms <= now + by_ms <= MAX_MS`.
        *advanced += by_ms;
        Ok(now + by_ms)
    }

    /// Real time until simulated time reaches `target_ms`, if it ever does on its own.
    pub fn real_until(&self, target_ms: u64) -> Option<Duration> {
        let now = self.now_ms();
        if target_ms <= now {
            return Some(Duration::ZERO);
        }
        if self.scale <= 0.0 {
            return None;
        }
        // Precision loss is irrelevant for a sleep.
        #[expect(clippy::cast_precision_loss, reason = "bounded wait computation")]
        let real_ms = (target_ms - now) as f64 / self.scale;
        Some(Duration::from_secs_f64(real_ms / 1000.0))
    }
}

/// RFC 3339 text of a millisecond timestamp.
pub fn rfc3339(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), |ts| ts.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A hand-driven real-time source.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct ManualTime(pub Arc<AtomicU64>);

    impl RealTime for ManualTime {
        fn elapsed(&self) -> Duration {
            Duration::from_millis(self.0.load(Ordering::SeqCst))
        }
    }

    #[test]
    fn scale_and_advance_add_up() {
        let real = ManualTime::default();
        let clock = VirtualClock::new(Box::new(real.clone()), 1_000, 60.0);
        assert_eq!(clock.now_ms(), 1_000);
        real.0.store(1_000, Ordering::SeqCst);
        assert_eq!(clock.now_ms(), 61_000);
        assert_eq!(clock.advance(5_000), Ok(66_000));
        assert_eq!(clock.real_until(126_000), Some(Duration::from_secs(1)));
    }

    #[test]
    fn frozen_clock_only_moves_when_advanced() {
        let real = ManualTime::default();
        let clock = VirtualClock::new(Box::new(real.clone()), 0, 0.0);
        real.0.store(10_000, Ordering::SeqCst);
        assert_eq!(clock.now_ms(), 0);
        assert_eq!(clock.real_until(1), None);
        assert_eq!(clock.advance(1), Ok(1));
    }

    #[test]
    fn max_ms_is_the_last_second_of_9998() {
        assert_eq!(rfc3339(MAX_MS), "9998-12-31T23:59:59Z");
    }

    // Class 20: an advance past the end of time is refused and leaves the clock as it was;
    // a huge time scale stops at the end of time instead of wrapping to 1970.
    #[test]
    fn class_20_the_clock_never_overflows() {
        let real = ManualTime::default();
        let clock = VirtualClock::new(Box::new(real.clone()), 1_000, 0.0);
        assert!(clock.advance(u64::MAX).is_err());
        assert!(clock.advance(MAX_MS).is_err());
        assert_eq!(clock.now_ms(), 1_000);
        assert_eq!(clock.advance(MAX_MS - 1_000), Ok(MAX_MS));
        assert_eq!(
            clock.advance(1),
            Err(TooFar {
                asked_ms: 1,
                room_ms: 0
            })
        );
        assert_eq!(clock.now_ms(), MAX_MS);
        let fast = VirtualClock::new(Box::new(real.clone()), 1_000, 1e300);
        real.0.store(1_000, Ordering::SeqCst);
        assert_eq!(fast.now_ms(), MAX_MS);
        assert_eq!(rfc3339(fast.now_ms()), "9998-12-31T23:59:59Z");
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
