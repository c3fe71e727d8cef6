//! Everything that writes results for people and machines: validation ([`validation`]),
//! plans ([`plan`]), watch sessions ([`watch`]), the ledger's state ([`status`]) and outcomes
//! ([`figures`], written by [`outcomes`] and [`html`], in words by [`headline`]). Each JSON document they write is a
//! [`document::Document`].

pub mod apply;
pub mod call_state;
pub mod declared;
pub mod document;
pub mod excerpt;
pub mod figures;
pub mod headline;
pub mod html;
pub mod ledger;
pub mod list_file;
pub mod mask;
pub mod outcomes;
pub mod patient_list;
pub mod plan;
pub mod progress;
pub mod shown_target;
pub mod skipped_list;
pub mod status;
pub mod sync;
pub mod validation;
pub mod watch;
pub mod words;
pub mod workflows;
