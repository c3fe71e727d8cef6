//! The secret in a callback's URL, checked in constant time. Only the tokens' SHA-256
//! digests are held: the server keeps no copy of a secret it could print, and comparing two
//! digests of 32 bytes takes the same time whatever was sent and whichever token it matches.

use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::settings::callbacks::CallbackTokens;

/// The tokens a callback's URL may carry: the current one and, during a rotation, the
/// previous one.
pub struct Tokens {
    current: [u8; 32],
    previous: Option<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(hidden)")
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl Tokens {
    pub fn new(tokens: &CallbackTokens) -> Self {
        Self {
            current: digest(tokens.current.expose_secret()),
            previous: tokens
                .previous
                .as_ref()
                .map(|previous| digest(previous.expose_secret())),
        }
    }

    /// Whether `candidate` is the current or the previous token. Both are always compared.
    pub fn accepts(&self, candidate: &str) -> bool {
        let sent = digest(candidate);
        let current = sent.ct_eq(&self.current);
        // With no previous token, a comparison that cannot succeed, so the time is the same.
        let previous = match &self.previous {
            Some(previous) => sent.ct_eq(previous),
            None => sent.ct_eq(&[0; 32]) & subtle::Choice::from(0),
        };
        (current | previous).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn the_current_and_the_previous_token_are_accepted_and_nothing_else() {
        let tokens = Tokens::new(&CallbackTokens {
            current: SecretString::from("current-token-0123456789"),
            previous: Some(SecretString::from("previous-token-0123456789")),
        });
        assert!(tokens.accepts("current-token-0123456789"));
        assert!(tokens.accepts("previous-token-0123456789"));
        assert!(!tokens.accepts("current-token-012345678"));
        assert!(!tokens.accepts(""));
        let only = Tokens::new(&CallbackTokens {
            current: SecretString::from("current-token-0123456789"),
            previous: None,
        });
        assert!(!only.accepts("previous-token-0123456789"));
        assert_eq!(format!("{only:?}"), "Tokens(hidden)");
    }
}
