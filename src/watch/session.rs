//! One `watch` session: the state the main thread alone holds (what is watched, which files
//! each campaign reads, the last good plan of each, the quiet window, the runs under way)
//! and what it does with each message.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use notify::RecursiveMode;

use super::discover::{Discovered, Root, discover};
use super::flight::Dispatcher;
use super::quiet::Coalescer;
use super::step::StepOutput;
use super::{Display, Msg, Watcher, affected};
use crate::plan::diff::Snapshot;
use crate::report::watch::{Event, Reporter};

/// What the loop does after a message.
pub(super) enum Flow {
    Continue,
    Stop,
}

pub(super) struct Session {
    pub(super) roots: Vec<Root>,
    pub(super) display: Display,
    pub(super) reporter: Reporter,
    pub(super) watcher: Watcher,
    pub(super) dispatcher: Dispatcher<PathBuf, ()>,
    pub(super) coalescer: Coalescer,
    /// Set on Ctrl-C: an apply under way stops sending (the ledger stays consistent).
    pub(super) interrupted: Arc<AtomicBool>,
    /// The campaigns found at the last look.
    pub(super) found: Discovered,
    watched: BTreeSet<PathBuf>,
    /// The files each campaign named at its last run.
    deps: BTreeMap<PathBuf, Vec<PathBuf>>,
    last_good: BTreeMap<PathBuf, Snapshot>,
    stopping: bool,
}

impl Session {
    pub(super) fn new(
        roots: Vec<Root>,
        display: Display,
        reporter: Reporter,
        watcher: Watcher,
        dispatcher: Dispatcher<PathBuf, ()>,
        coalescer: Coalescer,
        interrupted: Arc<AtomicBool>,
    ) -> Self {
        Session {
            roots,
            display,
            reporter,
            watcher,
            dispatcher,
            coalescer,
            interrupted,
            found: Discovered::default(),
            watched: BTreeSet::new(),
            deps: BTreeMap::new(),
            last_good: BTreeMap::new(),
            stopping: false,
        }
    }

    /// The directories to watch: those of the campaigns found and of every file they name.
    fn wanted(&self, found: &Discovered) -> BTreeSet<PathBuf> {
        let mut dirs = found.dirs.clone();
        for p in self.deps.values().flatten() {
            if let Some(parent) = p.parent().filter(|d| d.is_dir()) {
                dirs.insert(parent.to_path_buf());
            }
        }
        dirs
    }

    /// Watches exactly the directories `found` needs; a directory that cannot be watched is
    /// reported, not fatal. Returns whether a directory was newly watched.
    fn sync_watches(&mut self, found: &Discovered, out: &mut dyn Write) -> anyhow::Result<bool> {
        let want = self.wanted(found);
        let mut added = false;
        for gone in self.watched.difference(&want).cloned().collect::<Vec<_>>() {
            let _ = self.watcher.unwatch(&gone);
            self.watched.remove(&gone);
        }
        for dir in want.difference(&self.watched.clone()) {
            match self.watcher.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir.clone());
                    added = true;
                }
                Err(e) => self.reporter.event(
                    &Event::WatchError {
                        message: &format!("cannot watch {}: {e}", self.display.of(dir)),
                    },
                    out,
                )?,
            }
        }
        Ok(added)
    }

    /// Looks for the campaigns again and watches what they need.
    pub(super) fn discover(&mut self, out: &mut dyn Write) -> anyhow::Result<Discovered> {
        let mut now = discover(&self.roots);
        while self.sync_watches(&now, out)? {
            // A directory that was just watched (a new subdirectory) may have gained a file
            // before its watch began: look again.
            now = discover(&self.roots);
        }
        Ok(now)
    }

    /// Acts on one message from the watcher, the signal handler or a run.
    pub(super) fn handle(&mut self, msg: Msg, out: &mut dyn Write) -> anyhow::Result<Flow> {
        match msg {
            Msg::Changed(paths, at) if !self.stopping => self.coalescer.add(paths, at),
            Msg::WatchError(message) => {
                self.reporter
                    .event(&Event::WatchError { message: &message }, out)?;
            }
            Msg::Stop => {
                if self.stopping {
                    // A second Ctrl-C: stop without waiting for the runs under way.
                    return Ok(Flow::Stop);
                }
                self.stopping = true;
                self.interrupted.store(true, Ordering::SeqCst);
                if self.dispatcher.is_idle() {
                    return Ok(Flow::Stop);
                }
            }
            Msg::Output(path, result) => {
                if self.found.campaigns.contains(&path) {
                    if let Some(refs) = result.references {
                        self.deps.insert(path.clone(), refs);
                        let found = std::mem::take(&mut self.found);
                        let synced = self.sync_watches(&found, out);
                        self.found = found;
                        synced?;
                    }
                    self.show(&path, result.output, out)?;
                }
            }
            Msg::Done(path) => {
                if self.stopping || !self.found.campaigns.contains(&path) {
                    // Stopping, or the campaign went away while it ran: no re-run.
                    self.dispatcher.abandon(&path);
                } else {
                    self.dispatcher.finished(&path);
                }
                if self.stopping && self.dispatcher.is_idle() {
                    return Ok(Flow::Stop);
                }
            }
            Msg::Changed(..) => {}
        }
        Ok(Flow::Continue)
    }

    /// After a quiet moment: campaigns added and removed are reported, and every campaign
    /// whose file or named files are among `changed` runs again.
    pub(super) fn changed(
        &mut self,
        changed: &BTreeSet<PathBuf>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let now = self.discover(out)?;
        for gone in self.found.campaigns.difference(&now.campaigns) {
            self.deps.remove(gone);
            self.last_good.remove(gone);
            let campaign = &self.display.of(gone);
            self.reporter.event(&Event::Removed { campaign }, out)?;
        }
        let added: Vec<PathBuf> = now
            .campaigns
            .difference(&self.found.campaigns)
            .cloned()
            .collect();
        for new in &added {
            let campaign = &self.display.of(new);
            self.reporter.event(&Event::Added { campaign }, out)?;
        }
        self.found = now;
        let mut todo = affected(changed, &self.found.campaigns, &self.deps);
        todo.extend(added);
        for c in &todo {
            self.dispatcher.request(c);
        }
        Ok(())
    }

    /// Reports what a step made of one campaign; a good plan becomes the one the next is
    /// compared with.
    fn show(&mut self, path: &Path, output: StepOutput, out: &mut dyn Write) -> anyhow::Result<()> {
        let shown = &self.display.of(path);
        let reporter = &self.reporter;
        match output {
            StepOutput::Invalid(mut report) => {
                report.path = PathBuf::from(shown);
                reporter.event(
                    &Event::Invalid {
                        campaign: shown,
                        report: &report,
                    },
                    out,
                )?;
            }
            StepOutput::Failed(message) => reporter.event(
                &Event::Failed {
                    campaign: shown,
                    message: &message,
                },
                out,
            )?,
            StepOutput::Planned { campaign, snapshot } => {
                let previous = self.last_good.get(path);
                let diff =
                    crate::plan::diff::diff(previous.unwrap_or(&Snapshot::default()), &snapshot);
                reporter.event(
                    &Event::Planned {
                        campaign_file: shown,
                        campaign: &campaign,
                        snapshot: &snapshot,
                        diff: &diff,
                        first: previous.is_none(),
                    },
                    out,
                )?;
                self.last_good.insert(path.to_path_buf(), snapshot);
            }
            StepOutput::Applying => {
                reporter.event(&Event::Applying { campaign: shown }, out)?;
            }
            StepOutput::Applied(Ok(applied)) => reporter.event(
                &Event::Applied {
                    campaign: shown,
                    summary: &applied.summary,
                },
                out,
            )?,
            StepOutput::Applied(Err(message)) => reporter.event(
                &Event::ApplyFailed {
                    campaign: shown,
                    message: &message,
                },
                out,
            )?,
        }
        Ok(())
    }
}
