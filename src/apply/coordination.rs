//! Exclusive or shared runners: the pace of requests and where the next due calls come from.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;

use secrecy::SecretString;

use super::input::Loaded;
use super::input::Planned;
use super::state::{Due, Shared};
use crate::settings::ApplySettings;

/// The ledger's name for an API key's request budget on a target (its id, in its normal
/// form): a SHA-256 fingerprint of the key (the key itself is never written anywhere).
pub(super) fn key_budget_scope(target: &str, key: &SecretString) -> String {
    use secrecy::ExposeSecret as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("outreach-rate-budget\u{1f}{}", key.expose_secret()));
    let hex = digest[..12]
        .iter()
        .fold(String::with_capacity(24), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        });
    crate::settings::target::budget_scope(target, &format!("key:{hex}"))
}

/// The share of `requests_per_second` that runners on a shared ledger use together.
pub(super) const SHARED_PACE: f64 = 0.95;

/// The pace of call requests: in-process for one runner (SQLite), or a budget in the shared
/// ledger that every runner of the campaign draws on (Postgres).
pub(super) enum Pacer {
    Local(governor::DefaultDirectRateLimiter),
    /// Budgets in the ledger: the campaign's (all its runners) and the API key's (every
    /// campaign sending with it), each request costing `period` of both.
    Shared {
        scopes: [String; 2],
        period: Duration,
    },
}

impl Pacer {
    /// The pace of this run: its own limiter, or the ledger's shared budget.
    pub(super) fn new(shared: &Shared, is_shared: bool, period: Duration) -> anyhow::Result<Self> {
        let campaign = &shared.campaign;
        Ok(if is_shared {
            // 5% under the limit: the provider counts arrivals, and requests from several
            // runners reach it with different delays after their slots.
            Pacer::Shared {
                scopes: [
                    crate::settings::target::budget_scope(
                        &shared.target_id,
                        &format!("campaign:{}", campaign.name),
                    ),
                    shared.key_scope.clone(),
                ],
                period: period.div_f64(SHARED_PACE),
            }
        } else {
            let quota = governor::Quota::with_period(period)
                .context("requests_per_second is out of range")?
                .allow_burst(NonZeroU32::MIN);
            Pacer::Local(governor::RateLimiter::direct(quota))
        })
    }

    /// Waits for the next request slot.
    pub(super) async fn ready(&self, shared: &Arc<Shared>) -> anyhow::Result<()> {
        match self {
            Pacer::Local(limiter) => limiter.until_ready().await,
            Pacer::Shared { scopes, period } => {
                let (scopes, period) = (scopes.clone(), *period);
                // The slot's time is fixed where the ledger answers: the hop back to this task
                // does not delay the request past it.
                let at = shared
                    .ledger(move |l, _| {
                        let wait = l
                            .shared_only("a shared request budget")?
                            .rate_slot(&scopes, period)?;
                        Ok(tokio::time::Instant::now() + wait)
                    })
                    .await?;
                tokio::time::sleep_until(at).await;
            }
        }
        Ok(())
    }
}

/// Where the next batches come from: this run's own list (SQLite: the run holds the ledger's
/// lock), or claims on the work shared by every runner (Postgres).
pub(super) enum Queue<'a> {
    Local(BTreeMap<String, std::collections::VecDeque<Due>>),
    Shared {
        planned: HashMap<&'a str, &'a Arc<Planned>>,
        /// With a call cap: how many more calls this run may claim.
        budget: Option<usize>,
        /// Claims turned up calls this runner's plan does not have: it claims no more.
        foreign: bool,
    },
}

impl<'a> Queue<'a> {
    /// Where this run's due calls come from: its own queue per zone, or the shared ledger's
    /// work table (to which it adds the calls it found due).
    pub(super) async fn new(
        s: &ApplySettings,
        shared: &Arc<Shared>,
        loaded: &'a Loaded,
        by_zone: BTreeMap<String, VecDeque<Due>>,
        is_shared: bool,
        total: u64,
    ) -> anyhow::Result<Self> {
        let campaign = &shared.campaign;
        Ok(if is_shared {
            // Every runner adds the calls it finds due; each is added once and claimed once.
            shared
                .ledger(move |l, s| {
                    let work: Vec<(&str, u32, &str)> = by_zone
                        .values()
                        .flatten()
                        .map(|d| {
                            (
                                d.planned.call.key.as_str(),
                                d.attempt,
                                d.planned.timezone.as_str(),
                            )
                        })
                        .collect();
                    l.shared_only("shared work")?.enqueue(
                        &s.target_id,
                        &s.campaign.name,
                        &s.round,
                        &work,
                    )
                })
                .await?;
            let capped = s.max_calls.is_some() || campaign.delivery.max_calls.is_some();
            Queue::Shared {
                planned: loaded
                    .calls
                    .iter()
                    .map(|p| (p.call.key.as_str(), p))
                    .collect(),
                budget: capped.then_some(usize::try_from(total).unwrap_or(usize::MAX)),
                foreign: false,
            }
        } else {
            Queue::Local(by_zone)
        })
    }
}

impl Queue<'_> {
    /// Whether a time zone has calls left to send (so that its calling window matters).
    pub(super) async fn has_work(&self, shared: &Arc<Shared>, tz: &str) -> anyhow::Result<bool> {
        Ok(match self {
            Queue::Local(by_zone) => by_zone.get(tz).is_some_and(|q| !q.is_empty()),
            Queue::Shared { foreign: true, .. } => false,
            Queue::Shared { .. } => {
                let tz = tz.to_owned();
                shared
                    .ledger(move |l, s| {
                        l.shared_only("shared work")?.zone_has_work(
                            &s.target_id,
                            &s.campaign.name,
                            &s.round,
                            &tz,
                        )
                    })
                    .await?
            }
        })
    }

    /// Up to `n` due calls of one time zone.
    pub(super) async fn next(
        &mut self,
        shared: &Arc<Shared>,
        tz: &str,
        n: usize,
    ) -> anyhow::Result<Vec<Due>> {
        match self {
            Queue::Local(by_zone) => {
                let q = by_zone.get_mut(tz).map(|q| {
                    let k = n.min(q.len());
                    q.drain(..k).collect()
                });
                Ok(q.unwrap_or_default())
            }
            Queue::Shared {
                planned,
                budget,
                foreign,
            } => {
                let n = budget.map_or(n, |b| b.min(n));
                if n == 0 || *foreign {
                    return Ok(Vec::new());
                }
                let tz = tz.to_owned();
                let claimed = shared
                    .ledger(move |l, s| {
                        l.shared_only("claiming work")?.claim(
                            &s.run_id,
                            &s.target_id,
                            &s.campaign.name,
                            &s.round,
                            &tz,
                            n,
                        )
                    })
                    .await;
                // A run past its lease claims nothing more (issue 14, class 11).
                let Some(claimed) = shared.unless_fenced(0, claimed)? else {
                    return Ok(Vec::new());
                };
                if let Some(b) = budget {
                    *b -= claimed.len().min(*b);
                }
                shared
                    .claimed
                    .fetch_add(claimed.len() as u64, Ordering::SeqCst);
                let mut out = Vec::with_capacity(claimed.len());
                let mut unknown = Vec::new();
                for (key, attempt) in claimed {
                    match planned.get(key.as_str()) {
                        Some(p) => out.push(Due {
                            planned: Arc::clone(p),
                            attempt,
                        }),
                        None => unknown.push((key, attempt)),
                    }
                }
                if !unknown.is_empty() {
                    // Another runner planned a different version of the campaign: its calls
                    // are let go at once for the runners that have them, and this one claims
                    // no more (it would only claim them again).
                    tracing::warn!(
                        "{} claimed calls are not in this runner's plan (do all runners apply the same campaign file?); left for the others, and this runner claims no more",
                        unknown.len()
                    );
                    shared
                        .ledger(move |l, s| {
                            let unknown: Vec<(&str, u32)> =
                                unknown.iter().map(|(k, a)| (k.as_str(), *a)).collect();
                            l.shared_only("releasing work")?
                                .release_work(&s.target_id, &unknown)
                        })
                        .await?;
                    *foreign = true;
                }
                Ok(out)
            }
        }
    }
}
