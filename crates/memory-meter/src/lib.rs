//! Memory measured for tests.
//!
//! - [`Meter`], a global allocator for a test binary: it counts the bytes live and their peak,
//!   and refuses any one request over its limit. Refusing is the only sound way to stop an
//!   allocation on stable Rust: an infallible allocation that gets no memory aborts the
//!   process (`handle_alloc_error`), and a fallible one (`try_reserve`) reports the failure to
//!   its caller. Either way the request never happens, [`refused`] remembers its size, and the
//!   meter writes one line to stderr first, so an abort says why.
//! - [`run`], a child process under a watchdog, with its peak resident memory as the kernel
//!   counted it (`wait4`'s `ru_maxrss`: the high-water mark of the child itself, exact, not
//!   sampled).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// A counting allocator over the system's, refusing any one request over `limit` bytes.
pub struct Meter {
    limit: usize,
}

impl Meter {
    /// A meter that refuses requests over `limit` bytes.
    pub const fn new(limit: usize) -> Self {
        Meter { limit }
    }

    fn refuse(&self, size: usize) -> bool {
        if size <= self.limit {
            return false;
        }
        REFUSED.fetch_max(size, Ordering::SeqCst);
        // No allocation here: this runs inside the allocator.
        let mut line = [0u8; 96];
        let mut at = 0;
        for part in [
            &b"memory-meter: refused one allocation of "[..],
            digits(size, &mut [0u8; 20]),
            b" bytes, over the limit of ",
            digits(self.limit, &mut [0u8; 20]),
            b"\n",
        ] {
            let take = part.len().min(line.len() - at);
            line[at..at + take].copy_from_slice(&part[..take]);
            at += take;
        }
        #[expect(unsafe_code, reason = "write(2) to stderr, which needs no allocation")]
        // SAFETY: `line[..at]` is initialised memory owned by this frame.
        unsafe {
            libc::write(2, line.as_ptr().cast(), at);
        }
        true
    }

    fn grew(size: usize) {
        let live = LIVE.fetch_add(size, Ordering::SeqCst) + size;
        PEAK.fetch_max(live, Ordering::SeqCst);
    }
}

/// `n` in decimal, written into `buf` without allocating.
fn digits(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

#[expect(unsafe_code, reason = "a global allocator is an unsafe trait")]
// SAFETY: every block comes from `System` with the caller's layout and goes back to it with
// the same layout; the counters only observe sizes.
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.refuse(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if self.refuse(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (see `alloc`).
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Refused, the old block stays as it was, as `realloc`'s contract says of a null.
        if self.refuse(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                Self::grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
            }
        }
        p
    }
}

/// The bytes live now.
pub fn live() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// The most bytes live at once since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::SeqCst)
}

/// Starts a new peak from the bytes live now; returns them.
pub fn reset_peak() -> usize {
    let live = live();
    PEAK.store(live, Ordering::SeqCst);
    live
}

/// The largest request refused since the last [`clear_refused`] (0: none).
pub fn refused() -> usize {
    REFUSED.load(Ordering::SeqCst)
}

/// Forgets the refusals so far.
pub fn clear_refused() {
    REFUSED.store(0, Ordering::SeqCst);
}

/// How a child process ended.
#[derive(Debug)]
pub struct Ran {
    /// Its exit status; `None` when the watchdog ended it.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Its peak resident memory, in bytes.
    pub max_rss: u64,
}

/// The most of each output stream kept (the rest is read and dropped, so the child never
/// blocks on a full pipe).
const KEEP_OUTPUT: usize = 4 * 1024 * 1024;

fn drain(mut from: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => return kept,
                Ok(n) => {
                    let room = KEEP_OUTPUT.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&buf[..room]);
                }
            }
        }
    })
}

/// Reaps `child` if it has ended (`hang`: wait until it has), with its resource usage.
fn wait4(child: &Child, hang: bool) -> io::Result<Option<(ExitStatus, u64)>> {
    use std::os::unix::process::ExitStatusExt as _;
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let mut status = 0;
    #[expect(
        unsafe_code,
        reason = "rusage is a plain C struct, all zeroes a valid value"
    )]
    // SAFETY: `libc::rusage` holds only integers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let flags = if hang { 0 } else { libc::WNOHANG };
        #[expect(
            unsafe_code,
            reason = "wait4(2): the one call that gives one child's rusage"
        )]
        // SAFETY: both pointers are to live locals of the right types.
        let got = unsafe { libc::wait4(pid, &raw mut status, flags, &raw mut usage) };
        match got {
            0 => return Ok(None),
            p if p == pid => {
                // Linux counts ru_maxrss in KiB.
                let kib = u64::try_from(usage.ru_maxrss).unwrap_or(0);
                return Ok(Some((ExitStatus::from_raw(status), kib * 1024)));
            }
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// Runs `command` (its stdin closed, its output captured) for at most `watchdog`, then ends
/// it; returns how it ended and its peak resident memory.
pub fn run(command: &mut Command, watchdog: Duration) -> io::Result<Ran> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(
        child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?,
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("no stderr"))?,
    );
    let start = Instant::now();
    let mut timed_out = false;
    let (status, max_rss) = loop {
        if let Some(done) = wait4(&child, false)? {
            break done;
        }
        if start.elapsed() > watchdog {
            // Not reaped yet, so the pid is still this child's.
            timed_out = true;
            child.kill()?;
            break wait4(&child, true)?.ok_or_else(|| io::Error::other("no child to reap"))?;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Ran {
        status: (!timed_out).then_some(status),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        max_rss,
    })
}
