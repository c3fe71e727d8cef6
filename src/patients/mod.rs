//! Patients: the rows of a campaign's sources ([`source`]; CSV in [`csv_file`], its text in
//! [`encoding`], spreadsheets in [`sheet`]) and where they may be ([`location`]), their phone numbers ([`phone`]),
//! the opt-out lists ([`opt_outs`]), and what the tool knows of the countries they live in
//! ([`countries`]).

pub mod countries;
pub mod csv_file;
pub mod encoding;
pub mod location;
pub mod opt_outs;
pub mod phone;
mod phone_parse;
mod record_cap;
pub mod sheet;
pub mod source;
mod unpack;
