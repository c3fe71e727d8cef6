//! `outreach watch`: validate and plan campaigns again each time they, or the patient and
//! opt-out files they read, change; print what changed since the previous plan.
//!
//! Pieces, each testable alone:
//! - [`discover`] finds the campaign files under the given paths and the directories to watch;
//! - the file watcher (`notify` + `notify-debouncer-full`) watches **directories**, never
//!   files, each NonRecursive, and events are filtered by path: editors that save by writing a
//!   temporary file and renaming it over the original replace the inode, and a watch on the
//!   file itself would go silent after the first save;
//! - [`Coalescer`] waits for a quiet moment after the last change (the clock is passed in);
//! - [`SingleFlight`] / [`Dispatcher`] run each campaign at most once at a time, with at most
//!   one re-run queued behind a running one;
//! - a [`Step`] does the work for one campaign (validate, then plan; with `--apply --mock`,
//!   then apply to the session's mock: [`crate::watch::apply`]), off the main thread, handing
//!   each result over as it comes; the main thread alone holds state and reports.
//!
//! The watcher never places calls on a live target: half-finished edits are saved too.

pub mod apply;
pub mod discover;
pub mod flight;
pub mod quiet;
mod session;
pub mod step;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use notify::event::{AccessKind, AccessMode, EventKind, MetadataKind, ModifyKind};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use crate::report::watch::{Event, Reporter};
use crate::settings::WatchSettings;
use apply::ApplyStep;
use discover::{Root, references};
use flight::Dispatcher;
use quiet::Coalescer;
use session::{Flow, Session};
use step::{PlanStep, Step, StepOutput};

// ---------------------------------------------------------------------------------------
// The loop

/// Whether an event can change what a plan reads. Reads are reported too (inotify's open and
/// close), and a run reads every file it watches: counting them would re-run forever.
fn is_change(kind: EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_)
        | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

enum Msg {
    /// Changed paths, and when the latest of those changes happened.
    Changed(Vec<PathBuf>, Instant),
    WatchError(String),
    /// A result of a run under way (a run may hand over a plan, then its apply).
    Output(PathBuf, Box<RunResult>),
    /// A run ended; its outputs were all sent before this.
    Done(PathBuf),
    Stop,
}

/// A result of one run; the first carries the files the campaign names at that moment.
#[derive(Debug)]
pub struct RunResult {
    pub references: Option<Vec<PathBuf>>,
    pub output: StepOutput,
}

/// Shows paths relative to the working directory where they are under it.
struct Display {
    cwd: Option<PathBuf>,
}

impl Display {
    fn of(&self, path: &Path) -> String {
        self.cwd
            .as_deref()
            .and_then(|cwd| path.strip_prefix(cwd).ok())
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// Campaigns whose file or named files are among `changed`.
fn affected(
    changed: &BTreeSet<PathBuf>,
    campaigns: &BTreeSet<PathBuf>,
    deps: &BTreeMap<PathBuf, Vec<PathBuf>>,
) -> BTreeSet<PathBuf> {
    campaigns
        .iter()
        .filter(|c| {
            changed.contains(*c)
                || deps
                    .get(*c)
                    .is_some_and(|d| d.iter().any(|p| changed.contains(p)))
        })
        .cloned()
        .collect()
}

fn install_stop_handler(tx: Sender<Msg>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    // SIGTERM and SIGHUP are Ctrl-C too; listened for before the watch starts.
    let mut signals = {
        let _runtime = runtime.enter();
        crate::signals::StopSignals::new().context("cannot listen for Ctrl-C and SIGTERM")?
    };
    std::thread::spawn(move || {
        runtime.block_on(async move {
            while signals.next().await.is_ok() {
                if tx.send(Msg::Stop).is_err() {
                    return;
                }
            }
        });
    });
    Ok(())
}

/// Watches the campaigns of `settings` until Ctrl-C, reporting to `out`.
pub fn run(settings: &WatchSettings, out: &mut dyn Write) -> anyhow::Result<crate::Outcome> {
    let roots = settings
        .paths
        .iter()
        .map(|p| Root::resolve(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let display = Display {
        cwd: std::env::current_dir()
            .ok()
            .and_then(|d| std::fs::canonicalize(d).ok()),
    };
    let reporter = Reporter::new(
        settings.format,
        settings.color,
        settings.unmask,
        settings.sample,
    );
    let (tx, rx) = mpsc::channel::<Msg>();

    // The debouncer stitches renames and drops duplicate events; the quiet window is ours
    // (a short debouncer timeout, as the window counts from each event's own time).
    let watcher = start_watcher(tx.clone())?;
    install_stop_handler(tx.clone())?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let step: Arc<dyn Step> = if settings.apply {
        Arc::new(ApplyStep::start(
            settings.state.clone(),
            Arc::clone(&interrupted),
        )?)
    } else {
        Arc::new(PlanStep)
    };
    let mut session = Session::new(
        roots,
        display,
        reporter,
        watcher,
        dispatcher(step, &tx),
        Coalescer::new(Duration::from_millis(settings.debounce_ms)),
        interrupted,
    );

    session.found = session.discover(out)?;
    let names: Vec<String> = session
        .found
        .campaigns
        .iter()
        .map(|c| session.display.of(c))
        .collect();
    session.reporter.event(
        &Event::Watching {
            campaigns: &names,
            debounce_ms: settings.debounce_ms,
            apply_to: settings.apply.then_some("the session's mock server"),
        },
        out,
    )?;
    for c in &session.found.campaigns {
        session.dispatcher.request(c);
    }

    loop {
        let msg = match session.coalescer.deadline() {
            Some(d) => match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            },
            None => match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => break,
            },
        };
        if let Some(msg) = msg
            && let Flow::Stop = session.handle(msg, out)?
        {
            break;
        }
        if let Some(changed) = session.coalescer.take_due(Instant::now()) {
            session.changed(&changed, out)?;
        }
    }
    session.reporter.event(&Event::Stopped, out)?;
    Ok(crate::Outcome::Success)
}

/// Runs each campaign's step off the main thread, at most once at a time, handing every
/// result and the end of each run to the main thread through `tx`.
fn dispatcher(step: Arc<dyn Step>, tx: &Sender<Msg>) -> Dispatcher<PathBuf, ()> {
    let output_tx = tx.clone();
    let done_tx = tx.clone();
    Dispatcher::new(
        Arc::new(move |path: &PathBuf| {
            let tx = output_tx.clone();
            let mut refs = Some(references(path));
            step.run(path, &mut |output| {
                let result = RunResult {
                    references: refs.take().flatten(),
                    output,
                };
                let _ = tx.send(Msg::Output(path.clone(), Box::new(result)));
            });
        }),
        Arc::new(move |path, ()| {
            let _ = done_tx.send(Msg::Done(path));
        }),
    )
}

/// The file watcher: directories, each watched on its own.
type Watcher = notify_debouncer_full::Debouncer<
    notify::RecommendedWatcher,
    notify_debouncer_full::RecommendedCache,
>;

/// The file watcher, sending each batch of changes (with when they happened) to `tx`.
fn start_watcher(tx: Sender<Msg>) -> anyhow::Result<Watcher> {
    new_debouncer(
        Duration::from_millis(20),
        Some(Duration::from_millis(5)),
        move |result: DebounceEventResult| {
            let msg = match result {
                Ok(events) => {
                    let events: Vec<_> = events
                        .into_iter()
                        .filter(|e| is_change(e.event.kind))
                        .collect();
                    // When it happened, not when the debouncer let it go: the quiet window
                    // counts from the change itself.
                    let Some(at) = events.iter().map(|e| e.time).max() else {
                        // Only reads (our own runs read every watched file).
                        return;
                    };
                    Msg::Changed(events.into_iter().flat_map(|e| e.event.paths).collect(), at)
                }
                Err(errors) => Msg::WatchError(
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            };
            let _ = tx.send(msg);
        },
    )
    .context("cannot start the file watcher")
}

#[cfg(test)]
mod tests {
    use super::discover::discover;
    use super::flight::SingleFlight;

    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc::Receiver;

    #[test]
    fn single_flight_queues_one_rerun() {
        let mut f = SingleFlight::default();
        assert!(f.request(&"a"));
        assert!(!f.request(&"a"));
        assert!(!f.request(&"a"));
        assert!(f.request(&"b"), "other campaigns run alongside");
        assert!(f.finished(&"a"), "one re-run for the two requests");
        assert!(!f.finished(&"a"));
        assert!(!f.finished(&"b"));
        assert!(f.is_idle());
    }

    #[test]
    fn single_flight_abandon_drops_the_queued_rerun() {
        let mut f = SingleFlight::default();
        assert!(f.request(&1));
        assert!(!f.request(&1));
        f.abandon(&1);
        assert!(f.is_idle());
        assert!(f.request(&1), "a later change runs again");
    }

    /// A run function that announces each start and waits for a go-ahead, so the test
    /// decides when each run ends: no sleeps, no timing.
    struct Gate {
        started: Receiver<(u32, usize)>,
        release: Sender<()>,
        results: Receiver<(u32, usize)>,
    }

    fn gated() -> (Dispatcher<u32, usize>, Gate) {
        let (started_tx, started) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let (results_tx, results) = mpsc::channel();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let count = Arc::new(Mutex::new(0usize));
        let started_tx = Mutex::new(started_tx);
        let results_tx = Mutex::new(results_tx);
        let d = Dispatcher::new(
            Arc::new(move |k: &u32| {
                let n = {
                    let mut c = count.lock().unwrap();
                    *c += 1;
                    *c
                };
                started_tx.lock().unwrap().send((*k, n)).unwrap();
                release_rx.lock().unwrap().recv().unwrap();
                n
            }),
            Arc::new(move |k, n| results_tx.lock().unwrap().send((k, n)).unwrap()),
        );
        (
            d,
            Gate {
                started,
                release,
                results,
            },
        )
    }

    #[test]
    fn changes_during_a_run_queue_exactly_one_rerun() {
        let (mut d, gate) = gated();
        d.request(&7);
        assert_eq!(gate.started.recv().unwrap(), (7, 1));
        // Five changes arrive while the first run is under way.
        for _ in 0..5 {
            d.request(&7);
        }
        gate.release.send(()).unwrap();
        assert_eq!(gate.results.recv().unwrap(), (7, 1));
        assert!(d.finished(&7), "the queued re-run starts");
        assert_eq!(gate.started.recv().unwrap(), (7, 2));
        gate.release.send(()).unwrap();
        assert_eq!(gate.results.recv().unwrap(), (7, 2));
        assert!(!d.finished(&7), "nothing more was queued");
        assert!(d.is_idle());
        assert!(gate.started.try_recv().is_err(), "exactly two runs");
    }

    #[test]
    fn a_change_after_a_run_runs_again() {
        let (mut d, gate) = gated();
        d.request(&1);
        assert_eq!(gate.started.recv().unwrap(), (1, 1));
        gate.release.send(()).unwrap();
        assert_eq!(gate.results.recv().unwrap(), (1, 1));
        assert!(!d.finished(&1));
        d.request(&1);
        assert_eq!(gate.started.recv().unwrap(), (1, 2));
        gate.release.send(()).unwrap();
        assert_eq!(gate.results.recv().unwrap(), (1, 2));
        assert!(!d.finished(&1));
    }

    #[test]
    fn reads_are_not_changes() {
        use notify::event::{CreateKind, DataChange, RemoveKind, RenameMode};
        assert!(!is_change(EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_change(EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(!is_change(EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::AccessTime
        ))));
        for kind in [
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            EventKind::Remove(RemoveKind::File),
        ] {
            assert!(is_change(kind), "{kind:?}");
        }
    }

    #[test]
    fn coalescer_waits_for_quiet() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalescer::new(ms(100));
        assert!(c.deadline().is_none());
        c.add([PathBuf::from("a.yaml")], t0);
        c.add([PathBuf::from("b.csv")], t0 + ms(80));
        assert!(
            c.take_due(t0 + ms(150)).is_none(),
            "the window restarted at 80 ms"
        );
        let batch = c.take_due(t0 + ms(180)).unwrap();
        assert_eq!(batch.len(), 2);
        assert!(c.deadline().is_none());
        assert!(c.take_due(t0 + ms(1000)).is_none());
    }

    #[test]
    fn the_window_counts_from_the_latest_change() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalescer::new(ms(100));
        c.add([PathBuf::from("a.yaml")], t0 + ms(50));
        // A batch delivered late, about an earlier change, does not move the window back.
        c.add([PathBuf::from("b.csv")], t0);
        assert_eq!(c.deadline(), Some(t0 + ms(150)));
    }

    #[test]
    fn a_burst_is_one_batch() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalescer::new(ms(100));
        for i in 0..50 {
            c.add([PathBuf::from("a.yaml")], t0 + ms(i * 10));
            assert!(c.take_due(t0 + ms(i * 10 + 5)).is_none());
        }
        assert_eq!(c.take_due(t0 + ms(590)).unwrap().len(), 1);
    }

    #[test]
    fn changed_files_map_to_their_campaigns() {
        let campaigns: BTreeSet<PathBuf> = ["/c/a.yaml", "/c/b.yaml"].map(PathBuf::from).into();
        let deps: BTreeMap<PathBuf, Vec<PathBuf>> = [
            (
                PathBuf::from("/c/a.yaml"),
                vec![PathBuf::from("/p/shared.csv")],
            ),
            (
                PathBuf::from("/c/b.yaml"),
                vec![PathBuf::from("/p/shared.csv"), PathBuf::from("/p/b.csv")],
            ),
        ]
        .into();
        let changed = |p: &[&str]| p.iter().map(PathBuf::from).collect::<BTreeSet<_>>();
        assert_eq!(
            affected(&changed(&["/p/b.csv"]), &campaigns, &deps),
            changed(&["/c/b.yaml"])
        );
        assert_eq!(
            affected(&changed(&["/p/shared.csv"]), &campaigns, &deps),
            campaigns
        );
        assert_eq!(
            affected(&changed(&["/c/a.yaml", "/c/x.tmp"]), &campaigns, &deps),
            changed(&["/c/a.yaml"])
        );
        assert!(affected(&changed(&["/p/other.csv"]), &campaigns, &deps).is_empty());
    }

    #[test]
    fn discovery_and_references() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::write(
            root.join("sub/a.yaml"),
            "patients:\n  - file: ../data/p.csv\nexclude:\n  - file: opt.csv\n  - inline: []\n",
        )
        .unwrap();
        std::fs::write(root.join("b.yml"), "x: [").unwrap();
        std::fs::write(root.join(".git/c.yaml"), "").unwrap();
        std::fs::write(root.join("notes.txt"), "").unwrap();
        let found = discover(&[Root::Dir(root.clone())]);
        assert_eq!(
            found.campaigns,
            [root.join("b.yml"), root.join("sub/a.yaml")].into()
        );
        assert!(found.dirs.contains(&root.join("sub")));
        assert!(!found.dirs.contains(&root.join(".git")));
        assert_eq!(
            references(&root.join("sub/a.yaml")).unwrap(),
            [root.join("data/p.csv"), root.join("sub/opt.csv")]
        );
        assert!(
            references(&root.join("b.yml")).is_none(),
            "unparseable YAML"
        );

        let file = discover(&[Root::File(root.join("gone.yaml"))]);
        assert!(
            file.campaigns.is_empty(),
            "a file root that is not there now"
        );
        assert_eq!(file.dirs, [root.clone()].into());
    }
}
