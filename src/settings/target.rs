//! Where calls go ([`Target`]) and how the ledger names that place ([`TargetId`]).

use std::fmt;

/// The live service's base URL.
pub const LIVE_URL: &str = "https://voicebot.intron.health";

/// Where calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The bundled mock, started in-process.
    Mock,
    /// Any voicebot-compatible server (the live service by default).
    Url(String),
    /// A bundled mock already running at this URL (`watch --apply --mock` starts one per
    /// session): recorded in the ledger as `mock`, like [`Target::Mock`], and never live.
    RunningMock(String),
}

impl Target {
    /// The name the ledger records this target's calls under.
    pub fn id(&self) -> TargetId {
        match self {
            Target::Mock | Target::RunningMock(_) => TargetId::Mock,
            Target::Url(u) => TargetId::url(u),
        }
    }

    /// Whether this is a bundled mock (started here or by the watch session).
    pub fn is_mock(&self) -> bool {
        matches!(self, Target::Mock | Target::RunningMock(_))
    }
}

/// A server's URL as messages show it: without a user or password before its host, and
/// without its query or fragment, where a key could be written (`?api_key=`).
pub fn shown_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

/// How the ledger names a target, so that calls made on one are never counted on another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetId {
    /// Any bundled mock: `mock`.
    Mock,
    /// A server, by its base URL without a trailing `/`.
    Url(String),
    /// `apply --dry-run` against a target: `dry-run:` and its id.
    DryRun(Box<TargetId>),
}

impl TargetId {
    /// A server's id, from its base URL as given.
    pub fn url(url: &str) -> Self {
        TargetId::Url(url.trim_end_matches('/').to_owned())
    }

    /// The live service's id.
    pub fn live() -> Self {
        TargetId::Url(LIVE_URL.to_owned())
    }
}

impl fmt::Display for TargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetId::Mock => f.write_str("mock"),
            TargetId::Url(u) => f.write_str(u),
            TargetId::DryRun(inner) => write!(f, "dry-run:{inner}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_what_the_ledger_has_always_recorded() {
        assert_eq!(Target::Mock.id().to_string(), "mock");
        assert_eq!(
            Target::RunningMock("http://127.0.0.1:1".into())
                .id()
                .to_string(),
            "mock"
        );
        assert_eq!(
            Target::Url("https://x.example/".into()).id().to_string(),
            "https://x.example"
        );
        assert_eq!(
            TargetId::DryRun(Box::new(TargetId::live())).to_string(),
            "dry-run:https://voicebot.intron.health"
        );
    }

    #[test]
    fn a_shown_url_keeps_no_credentials() {
        assert_eq!(
            shown_url("https://user:s3cret@voicebot.example/v1?api_key=k#x"),
            "https://voicebot.example/v1"
        );
        assert_eq!(shown_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(shown_url("host@x/p"), "x/p");
    }
}
