//! The signals that ask a run to stop, all taken as Ctrl-C: SIGINT, and on Unix SIGTERM (CI
//! cancellations, systemd, container orchestrators) and SIGHUP (a closed terminal). Left
//! to their default, the last two end the process at once, with calls left `sending`.

use std::io;

/// Which stop signal came, for the words that report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT: Ctrl-C at the terminal.
    Interrupt,
    Terminate,
    Hangup,
}

impl StopSignal {
    /// As people know it: `Ctrl-C`, `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "Ctrl-C",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Hangup => "SIGHUP",
        }
    }
}

/// Listens for the stop signals from creation on (create it before the work starts, so a
/// signal that comes early is not lost to the default action). Needs a tokio runtime.
#[derive(Debug)]
pub struct StopSignals {
    #[cfg(unix)]
    unix: [tokio::signal::unix::Signal; 3],
}

impl StopSignals {
    pub fn new() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                unix: [
                    signal(SignalKind::interrupt())?,
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::hangup())?,
                ],
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the next stop signal, and says which it was.
    pub async fn next(&mut self) -> io::Result<StopSignal> {
        #[cfg(unix)]
        {
            let [int, term, hup] = &mut self.unix;
            Ok(tokio::select! {
                _ = int.recv() => StopSignal::Interrupt,
                _ = term.recv() => StopSignal::Terminate,
                _ = hup.recv() => StopSignal::Hangup,
            })
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c()
            .await
            .map(|()| StopSignal::Interrupt)
    }
}
