//! Patients: the rows of a campaign's sources ([`source`]), their phone numbers ([`phone`])
//! and the opt-out lists ([`opt_outs`]).

pub mod opt_outs;
pub mod phone;
pub mod source;
