//! Patients: the rows of a campaign's sources ([`source`]) and their phone numbers
//! ([`phone`]).

pub mod phone;
pub mod source;
