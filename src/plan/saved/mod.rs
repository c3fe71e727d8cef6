//! The saved plan (`plan --out`): every call as the request entry apply will send, written
//! as the rows are planned and read back by apply and `plan --compare`.
//!
//! One document, typed once (`document.rs`); one writer that streams it (`write.rs`); one
//! reader that refuses a damaged plan with the field named (`read.rs`).

mod document;
mod read;
mod write;
mod writeback;

pub use document::PlanCampaign;
pub use read::{MAX_PLAN_BYTES, SavedBatch, SavedPlan, SavedPlanError, parse, read};
pub use write::{JsonPlanWriter, entry, save_with};
