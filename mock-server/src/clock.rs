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

    /// The current simulated time.
    pub fn now_ms(&self) -> u64 {
        let real_ms = self.real.elapsed().as_secs_f64() * 1000.0;
        // Simulated milliseconds stay far below 2^52, so the float is exact enough.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "non-negative, bounded"
        )]
        let scaled = (real_ms * self.scale) as u64;
        let advanced = *self.advanced_ms.lock().expect("clock lock");
        self.start_ms
            .saturating_add(scaled)
            .saturating_add(advanced)
    }

    /// Moves simulated time forward.
    pub fn advance(&self, by_ms: u64) -> u64 {
        {
            let mut advanced = self.advanced_ms.lock().expect("clock lock");
            *advanced = advanced.saturating_add(by_ms);
        }
        self.now_ms()
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
        assert_eq!(clock.advance(5_000), 66_000);
        assert_eq!(clock.real_until(126_000), Some(Duration::from_secs(1)));
    }

    #[test]
    fn frozen_clock_only_moves_when_advanced() {
        let real = ManualTime::default();
        let clock = VirtualClock::new(Box::new(real.clone()), 0, 0.0);
        real.0.store(10_000, Ordering::SeqCst);
        assert_eq!(clock.now_ms(), 0);
        assert_eq!(clock.real_until(1), None);
        assert_eq!(clock.advance(1), 1);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
