//! The signals that ask a run to stop, all taken as Ctrl-C: SIGINT, and on Unix SIGTERM (CI
//! cancellations, systemd, container orchestrators) and SIGHUP (a closed terminal). Left
//! to their default, the last two end the process at once, with calls left `sending`.

use std::io;

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

    /// Waits for the next stop signal, whichever it is.
    pub async fn next(&mut self) -> io::Result<()> {
        #[cfg(unix)]
        {
            let [int, term, hup] = &mut self.unix;
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
                _ = hup.recv() => {}
            }
            Ok(())
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await
    }
}
