//! Everything that writes results for people and machines: validation ([`validation`]),
//! plans ([`plan`]), watch sessions ([`watch`]) and outcomes ([`outcomes`], [`html`]).

pub mod html;
pub mod outcomes;
pub mod plan;
pub mod validation;
pub mod watch;
