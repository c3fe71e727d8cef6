//! Patients: the rows of a campaign's sources ([`source`]) and where they may be
//! ([`location`]), their phone numbers ([`phone`]),
//! the opt-out lists ([`opt_outs`]), and what the tool knows of the countries they live in
//! ([`countries`]).

pub mod countries;
pub mod location;
pub mod opt_outs;
pub mod phone;
mod record_cap;
pub mod source;
mod unpack;
