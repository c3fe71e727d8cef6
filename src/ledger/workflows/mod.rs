//! Which service workflow a campaign's declared workflow is bound to (issue 18, "workflows
//! as code"): `apply` creates the workflow on the service and records here the id it got,
//! keyed by (target, campaign, workflow name, language), with the digest and the JSON of
//! what it pushed. Every workflow ever bound for a key is kept too (`workflow_pushes`), so
//! that old ids stay known: calls still queued on an old workflow, in-doubt calls placed on
//! it. Bindings are not patient data: `purge` keeps them.
//!
//! The rules are written once, over [`BindingTx`]: each store (`sqlite.rs`, `postgres.rs`
//! in this folder) gives the few statements they need inside one transaction.
//!
//! - A binding is a compare-and-set: it is written only while the key is still bound to
//!   the workflow the caller read (or to none), so that two runners on one Postgres ledger
//!   never both think they bound it. The loser changes nothing and reads again.
//! - What is bound is checked before any statement: a digest that is not a lower-case hex
//!   SHA-256, `pushed` that is not JSON or is over [`PUSHED_MAX`] bytes (refused, never
//!   cut), an empty or oversized id or key field. The refusal quotes none of it.

mod postgres;
mod sqlite;

use jiff::Timestamp;

pub(super) use postgres::PgWorkflows;
pub(super) use sqlite::SqliteWorkflows;

/// At most this many bytes of pushed JSON are kept per binding; more is refused.
pub const PUSHED_MAX: usize = 64 * 1024;

/// At most this many bytes in a workflow id or a key's field.
pub const FIELD_MAX: usize = 4096;

/// What a declared workflow is bound under: the target (its `TargetId` text, as the calls
/// record it), the campaign, the workflow's name, and its language (`""` when the campaign
/// has one language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingKey<'a> {
    pub target: &'a str,
    pub campaign: &'a str,
    pub workflow_name: &'a str,
    pub language: &'a str,
}

/// The service workflow a key is bound to, and what was pushed to create it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowBinding {
    /// The id the service gave the workflow.
    pub workflow_id: String,
    /// The lower-case hex SHA-256 the caller computed of what it pushed.
    pub digest: String,
    /// The JSON pushed, the callback token already removed by the caller; at most
    /// [`PUSHED_MAX`] bytes.
    pub pushed: String,
    pub bound_at: Timestamp,
}

/// Why a binding was refused before anything was written. Quotes none of what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingProblem {
    #[error(
        "the workflow pushed is {len} bytes of JSON, more than the {max} bytes the ledger keeps"
    )]
    PushedTooLarge { len: usize, max: usize },
    #[error("what was pushed is not JSON")]
    PushedNotJson,
    #[error("its digest is not a lower-case hex SHA-256 (64 characters, 0-9 and a-f)")]
    BadDigest,
    #[error("its {field} is empty")]
    Empty { field: &'static str },
    #[error("its {field} is {len} bytes, more than {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
}

/// A [`BindingKey`] owned, for a store that runs the statements on another thread.
#[derive(Debug, Clone)]
pub(super) struct OwnedKey {
    target: String,
    campaign: String,
    workflow_name: String,
    language: String,
}

impl OwnedKey {
    pub(super) fn of(key: &BindingKey<'_>) -> OwnedKey {
        OwnedKey {
            target: key.target.to_owned(),
            campaign: key.campaign.to_owned(),
            workflow_name: key.workflow_name.to_owned(),
            language: key.language.to_owned(),
        }
    }

    pub(super) fn key(&self) -> BindingKey<'_> {
        BindingKey {
            target: &self.target,
            campaign: &self.campaign,
            workflow_name: &self.workflow_name,
            language: &self.language,
        }
    }
}

/// What a store does for the bindings, inside one transaction.
pub(super) trait BindingTx {
    type Error;
    /// The binding of `key`, if any.
    fn binding(&mut self, key: &BindingKey<'_>) -> Result<Option<WorkflowBinding>, Self::Error>;
    /// Binds `key`, when it is bound to nothing; whether it did.
    fn insert(
        &mut self,
        key: &BindingKey<'_>,
        binding: &WorkflowBinding,
    ) -> Result<bool, Self::Error>;
    /// Binds `key` again, when it is bound to `previous`; whether it did.
    fn replace(
        &mut self,
        key: &BindingKey<'_>,
        previous: &str,
        binding: &WorkflowBinding,
    ) -> Result<bool, Self::Error>;
    /// Adds `binding` to the workflows bound for `key`, after those before it.
    fn record_push(
        &mut self,
        key: &BindingKey<'_>,
        binding: &WorkflowBinding,
    ) -> Result<(), Self::Error>;
    /// Every workflow id bound for `target` and `campaign`, the most recently bound first.
    fn bound_ids(&mut self, target: &str, campaign: &str) -> Result<Vec<String>, Self::Error>;
}

/// Refuses what must not be bound, before any statement runs.
pub(super) fn check(key: &BindingKey<'_>, binding: &WorkflowBinding) -> Result<(), BindingProblem> {
    let fields = [
        ("target", key.target, false),
        ("campaign", key.campaign, false),
        ("workflow name", key.workflow_name, false),
        // One language: the key's language is empty.
        ("language", key.language, true),
        ("workflow id", binding.workflow_id.as_str(), false),
    ];
    for (field, text, may_be_empty) in fields {
        if text.is_empty() && !may_be_empty {
            return Err(BindingProblem::Empty { field });
        }
        if text.len() > FIELD_MAX {
            return Err(BindingProblem::TooLong {
                field,
                len: text.len(),
                max: FIELD_MAX,
            });
        }
    }
    let digest = binding.digest.as_bytes();
    if digest.len() != 64
        || !digest
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(BindingProblem::BadDigest);
    }
    // The size first: a large text is refused before it is parsed.
    if binding.pushed.len() > PUSHED_MAX {
        return Err(BindingProblem::PushedTooLarge {
            len: binding.pushed.len(),
            max: PUSHED_MAX,
        });
    }
    if serde_json::from_str::<serde::de::IgnoredAny>(&binding.pushed).is_err() {
        return Err(BindingProblem::PushedNotJson);
    }
    Ok(())
}

/// Binds `key` to `binding` if it is still bound to `previous` (`None`: to nothing), and
/// records the workflow among those bound for it; whether it did (if not, nothing changed).
pub(super) fn bind<T: BindingTx>(
    tx: &mut T,
    key: &BindingKey<'_>,
    previous: Option<&str>,
    binding: &WorkflowBinding,
) -> Result<bool, T::Error> {
    let bound = match previous {
        None => tx.insert(key, binding)?,
        Some(previous) => tx.replace(key, previous, binding)?,
    };
    if bound {
        tx.record_push(key, binding)?;
    }
    Ok(bound)
}

#[cfg(test)]
mod tests;
