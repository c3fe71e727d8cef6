//! The confirmation asked before a live run: injected, so that a run without a terminal (CI,
//! `watch --apply`) never waits on one, and tests can answer.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

/// Asks the operator a yes/no question.
pub trait Prompt: Sync {
    /// Whether anyone can be asked.
    fn available(&self) -> bool;
    /// Asks; `true` only for an explicit yes.
    fn confirm(&self, question: &str) -> bool;
}

/// Asks on the terminal: the question on standard error, the answer from standard input.
pub struct Terminal;

impl Prompt for Terminal {
    fn available(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn confirm(&self, question: &str) -> bool {
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "{question} [type yes to go on] ");
        let _ = stderr.flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).is_ok()
            && answer.trim().eq_ignore_ascii_case("yes")
    }
}

/// No one to ask: every question that needs an answer stops the run.
pub struct Nobody;

impl Prompt for Nobody {
    fn available(&self) -> bool {
        false
    }

    fn confirm(&self, _: &str) -> bool {
        false
    }
}
