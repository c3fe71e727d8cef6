//! A saved plan's file, synced to disk as it is written rather than all at the end.
//!
//! A plan of a million rows is about 280 MB; the kernel holds it in memory until the final
//! `fsync`, which then waited for all of it (a fifth of a second here, more on a slower
//! disk). Every [`EVERY`] bytes another thread asks the disk to catch up (`fdatasync` on a
//! second handle of the same file) while the plan goes on being written, so the final sync
//! has only the tail left. An error of any of these syncs is the save's error: on Linux a
//! failed sync's error is reported once, so none may be dropped.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

/// Bytes written between two syncs.
const EVERY: u64 = 32 << 20;

/// Dropped without [`Writeback::finish`] (a plan that failed), its thread ends by itself
/// once the sync it is in, if any, returns.
pub(super) struct Writeback {
    file: File,
    since_sync: u64,
    wake: Option<SyncSender<()>>,
    syncer: Option<JoinHandle<io::Result<()>>>,
}

impl Writeback {
    pub(super) fn new(file: File) -> io::Result<Self> {
        let other = file.try_clone()?;
        let (wake, woken) = sync_channel::<()>(1);
        let syncer = std::thread::Builder::new()
            .name("plan-sync".to_owned())
            .spawn(move || {
                for () in woken {
                    other.sync_data()?;
                }
                Ok(())
            })?;
        Ok(Writeback {
            file,
            since_sync: 0,
            wake: Some(wake),
            syncer: Some(syncer),
        })
    }

    /// The file, once every sync asked for has ended (the first error of one, if any).
    pub(super) fn finish(mut self) -> io::Result<File> {
        self.stop()?;
        Ok(self.file)
    }

    fn stop(&mut self) -> io::Result<()> {
        drop(self.wake.take());
        match self.syncer.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the plan's sync thread stopped")),
        }
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.since_sync += n as u64;
        if self.since_sync >= EVERY {
            self.since_sync = 0;
            // A sync still running covers these bytes too, or the next one will.
            if let Some(wake) = &self.wake
                && let Err(TrySendError::Disconnected(())) = wake.try_send(())
            {
                // The thread ended on an error: it is the save's.
                return Err(self
                    .stop()
                    .err()
                    .unwrap_or_else(|| io::Error::other("the plan's sync thread stopped")));
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_written_is_in_the_file_after_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        let mut w = Writeback::new(File::create(&path).unwrap()).unwrap();
        let block = vec![b'x'; 1 << 20];
        for _ in 0..70 {
            w.write_all(&block).unwrap();
        }
        let file = w.finish().unwrap();
        file.sync_all().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 70 << 20);
    }
}
