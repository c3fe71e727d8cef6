//! One case at a time, measured: no panic, no request refused, and a peak under [`LIMIT`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError};

use crate::LIMIT;

/// Held while a case runs, so the process's peak is that case's own.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `case` (named `what` in failures) and checks it neither panicked, nor asked for more
/// than [`LIMIT`] at once, nor held more than that in all. Returns the case's result and the
/// most it held above what was live before it.
pub(crate) fn measured<T>(what: &str, case: impl FnOnce() -> T) -> (T, usize) {
    let _one = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    memory_meter::clear_refused();
    let before = memory_meter::reset_peak();
    let start = std::time::Instant::now();
    let result = catch_unwind(AssertUnwindSafe(case));
    let held = memory_meter::peak().saturating_sub(before);
    let refused = memory_meter::refused();
    // For whoever reads the log of a slow run; never asserted.
    eprintln!(
        "{what}: {:?}, {} MB held",
        start.elapsed(),
        held / 1_000_000
    );
    let result = match result {
        Ok(r) => r,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("{what}: panicked: {message}");
        }
    };
    assert_eq!(refused, 0, "{what}: asked for {refused} bytes at once");
    assert!(held < LIMIT, "{what}: held {held} bytes at once");
    (result, held)
}
