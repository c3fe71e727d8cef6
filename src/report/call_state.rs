//! The ledger's [`CallState`] in the documents reports write: by its word
//! ([`CallState::as_str`], as the ledger stores it). The ledger's type has no serde of its own;
//! these are for `#[serde(serialize_with = …)]`.

use std::collections::BTreeMap;

use serde::{Serialize as _, Serializer};

use crate::ledger::CallState;

/// One state, as its word (`"in_doubt"`).
pub fn serialize<S: Serializer>(state: &CallState, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(state.as_str())
}

/// Counts per state, as an object keyed by the state's word, in the words' order
/// (`{"accepted": 4, "answered": 2}`).
pub fn serialize_counts<S: Serializer>(
    counts: &[(CallState, u64)],
    s: S,
) -> Result<S::Ok, S::Error> {
    counts
        .iter()
        .map(|(state, n)| (state.as_str(), *n))
        .collect::<BTreeMap<_, _>>()
        .serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Row {
        #[serde(serialize_with = "serialize")]
        state: CallState,
        #[serde(serialize_with = "serialize_counts")]
        counts: Vec<(CallState, u64)>,
    }

    #[test]
    fn states_are_written_as_the_ledger_stores_them() {
        let row = Row {
            state: CallState::InDoubt,
            counts: vec![(CallState::NoAnswer, 1), (CallState::Accepted, 4)],
        };
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"state":"in_doubt","counts":{"accepted":4,"no_answer":1}}"#
        );
    }
}
