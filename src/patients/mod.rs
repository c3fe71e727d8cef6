//! Patients: the rows of a campaign's sources ([`source`]), their phone numbers ([`phone`]),
//! the opt-out lists ([`opt_outs`]), and what the tool knows of the countries they live in
//! ([`countries`]).

pub mod countries;
pub mod opt_outs;
pub mod phone;
pub mod source;
