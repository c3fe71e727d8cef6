//! Signals sent to the real binaries, and `outreach mock-server` run as a process, with a
//! watchdog on every wait.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::root;

/// Longer than anything here takes on a slow, busy machine; only reached when it is wrong.
const WATCHDOG: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub(crate) enum Signal {
    Term,
}

impl Signal {
    fn flag(self) -> &'static str {
        match self {
            Signal::Term => "-TERM",
        }
    }
}

/// Sends `signal` to the process `pid`.
pub(crate) fn send(pid: u32, signal: Signal) {
    let sent = Command::new("kill")
        .args([signal.flag(), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill {} {pid}", signal.flag());
}

/// Waits for `child` to end (killing it after the watchdog); its exit code.
pub(crate) fn wait_for_exit(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not end within {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How a server ended.
pub(crate) struct Stopped {
    pub code: Option<i32>,
    pub stderr: String,
}

/// `outreach mock-server` running on a random port, its log in a file.
pub(crate) struct Server {
    child: Child,
    log: PathBuf,
    addr: String,
}

impl Server {
    /// Starts `outreach mock-server --port 0` with `extra` flags; returns once it listens.
    pub(crate) fn outreach_mock(dir: &Path, extra: &[&str]) -> Server {
        let log = dir.join("mock-server.log");
        let child = Command::new(assert_cmd::cargo::cargo_bin("outreach"))
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .args(["mock-server", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + WATCHDOG;
        let addr = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                break rest.split(['"', ' ', '\n']).next().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "the mock did not start: {text}");
            std::thread::sleep(Duration::from_millis(20));
        };
        Server { child, log, addr }
    }

    /// Sends one raw HTTP/1.1 request (it should say `Connection: close`); the whole answer.
    pub(crate) fn raw(&self, request: &str) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(WATCHDOG)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// Sends `signal` and waits for the server to end.
    pub(crate) fn stop_with(mut self, signal: Signal) -> Stopped {
        send(self.child.id(), signal);
        let code = wait_for_exit(&mut self.child);
        Stopped {
            code,
            stderr: std::fs::read_to_string(&self.log).unwrap_or_default(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
