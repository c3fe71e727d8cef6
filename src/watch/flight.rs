//! Each campaign at most once at a time, with at most one re-run queued behind a running one.

use std::collections::BTreeMap;
use std::sync::Arc;

/// At most one run per key at a time, and at most one queued behind it: changes that arrive
/// while a run is under way are all covered by the single re-run that follows it.
#[derive(Debug)]
pub struct SingleFlight<K: Ord> {
    /// Running keys, and whether a re-run is queued.
    running: BTreeMap<K, bool>,
}

impl<K: Ord> Default for SingleFlight<K> {
    fn default() -> Self {
        SingleFlight {
            running: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> SingleFlight<K> {
    /// Asks for a run of `key`. `true`: start it now. `false`: one is running; a re-run is
    /// queued (once, however often this is called).
    pub fn request(&mut self, key: &K) -> bool {
        if let Some(queued) = self.running.get_mut(key) {
            *queued = true;
            false
        } else {
            self.running.insert(key.clone(), false);
            true
        }
    }

    /// A run of `key` ended. `true`: a re-run was queued; start it now (it counts as running).
    pub fn finished(&mut self, key: &K) -> bool {
        match self.running.get_mut(key) {
            Some(queued) if *queued => {
                *queued = false;
                true
            }
            Some(_) => {
                self.running.remove(key);
                false
            }
            None => false,
        }
    }

    /// A run of `key` ended and no re-run is wanted (stopping, or the campaign is gone).
    pub fn abandon(&mut self, key: &K) {
        self.running.remove(key);
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_empty()
    }
}

/// Starts runs on their own threads, single-flight per key; each result is handed to `done`.
pub struct Dispatcher<K: Ord, R> {
    flight: SingleFlight<K>,
    run: Arc<dyn Fn(&K) -> R + Send + Sync>,
    done: Arc<dyn Fn(K, R) + Send + Sync>,
}

impl<K, R> Dispatcher<K, R>
where
    K: Ord + Clone + Send + 'static,
    R: Send + 'static,
{
    pub fn new(
        run: Arc<dyn Fn(&K) -> R + Send + Sync>,
        done: Arc<dyn Fn(K, R) + Send + Sync>,
    ) -> Self {
        Dispatcher {
            flight: SingleFlight::default(),
            run,
            done,
        }
    }

    /// Runs `key` now, or queues one re-run if it is running.
    pub fn request(&mut self, key: &K) {
        if self.flight.request(key) {
            self.spawn(key.clone());
        }
    }

    /// Must be called with each result handed to `done`: starts the queued re-run, if any.
    /// Returns whether one was started.
    pub fn finished(&mut self, key: &K) -> bool {
        let again = self.flight.finished(key);
        if again {
            self.spawn(key.clone());
        }
        again
    }

    /// Must be called instead of [`Dispatcher::finished`] when no re-run is wanted.
    pub fn abandon(&mut self, key: &K) {
        self.flight.abandon(key);
    }

    pub fn is_idle(&self) -> bool {
        self.flight.is_idle()
    }

    fn spawn(&self, key: K) {
        let run = Arc::clone(&self.run);
        let done = Arc::clone(&self.done);
        std::thread::spawn(move || {
            let result = run(&key);
            done(key, result);
        });
    }
}
