//! Where calls go ([`Target`]) and how the ledger names that place ([`TargetId`]).

use std::fmt;

/// The live service's base URL.
pub const LIVE_URL: &str = "https://voicebot.intron.health";

/// Where calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The bundled mock, started in-process.
    Mock,
    /// Any voicebot-compatible server (the live service by default), by its base URL in its
    /// normal form.
    Url(ApiUrl),
    /// A bundled mock already running at this URL (`watch --apply --mock` starts one per
    /// session): recorded in the ledger as `mock`, like [`Target::Mock`], and never live.
    RunningMock(String),
}

impl Target {
    /// The name the ledger records this target's calls under.
    pub fn id(&self) -> TargetId {
        match self {
            Target::Mock | Target::RunningMock(_) => TargetId::Mock,
            Target::Url(u) => TargetId::Url(u.clone()),
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

/// An API base URL in its normal form, so that one server is one target however its URL is
/// spelt: scheme and host in lower case (an international host name as punycode, an IP
/// address in its usual form, as the `url` crate reads them), no default port (80 for
/// `http`, 443 for `https`), no trailing `/`; the path kept as written (paths are
/// case-sensitive). Every target id of a server is made from one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiUrl(String);

/// Why a URL given as an API base URL is refused. Each message shows the URL without what
/// could be a secret (see [`shown_url`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadApiUrl {
    #[error(
        "the API URL `{shown}` is not a URL ({reason}): write it as https://HOST, with any path after it"
    )]
    NotAUrl { shown: String, reason: String },
    #[error(
        "the API URL `{shown}` is not an http:// or https:// URL: write it as https://HOST, with any path after it"
    )]
    Scheme { shown: String },
    #[error(
        "the API URL `{shown}` has a user name or password before its host: outreach never sends credentials in a URL (the API key goes in INTRON_API_KEY or --api-key-file); give the URL without them"
    )]
    Credentials { shown: String },
    #[error(
        "the API URL `{shown}` has a query (`?…`): an API base URL has none (the API key goes in INTRON_API_KEY or --api-key-file); give the URL without it"
    )]
    Query { shown: String },
    #[error(
        "the API URL `{shown}` has a fragment (`#…`): an API base URL has none; give the URL without it"
    )]
    Fragment { shown: String },
}

impl ApiUrl {
    /// The live service's base URL (already in its normal form: a test holds it so).
    pub fn live() -> Self {
        ApiUrl(LIVE_URL.to_owned())
    }

    /// A base URL as given (`--api-url`), in its normal form; refused when it is not an
    /// http(s) URL, or carries credentials, a query or a fragment.
    pub fn parse(given: &str) -> Result<ApiUrl, BadApiUrl> {
        let shown = || shown_url(given);
        let url = reqwest::Url::parse(given).map_err(|e| BadApiUrl::NotAUrl {
            shown: shown(),
            reason: e.to_string(),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(BadApiUrl::Credentials { shown: shown() });
        }
        if url.query().is_some() {
            return Err(BadApiUrl::Query { shown: shown() });
        }
        if url.fragment().is_some() {
            return Err(BadApiUrl::Fragment { shown: shown() });
        }
        normal(&url).ok_or_else(|| BadApiUrl::Scheme { shown: shown() })
    }

    /// The URL, in its normal form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The normal form of a parsed http(s) URL's scheme, host, port and path (`None` for any
/// other scheme). What else the URL holds is the caller's to refuse or leave out.
fn normal(url: &reqwest::Url) -> Option<ApiUrl> {
    let scheme = url.scheme();
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    // `url` writes the host in lower case (punycode for international names) and forgets
    // a port that is the scheme's default.
    let host = url.host_str()?;
    let port = url.port().map_or_else(String::new, |p| format!(":{p}"));
    let path = url.path().trim_end_matches('/');
    Some(ApiUrl(format!("{scheme}://{host}{port}{path}")))
}

/// How the ledger names a target, so that calls made on one are never counted on another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetId {
    /// Any bundled mock: `mock`.
    Mock,
    /// A server, by its base URL in its normal form.
    Url(ApiUrl),
    /// `apply --dry-run` against a target: `dry-run:` and its id.
    DryRun(Box<TargetId>),
}

impl TargetId {
    /// A server's id, from its base URL as given (see [`ApiUrl::parse`]).
    pub fn url(url: &str) -> Result<Self, BadApiUrl> {
        ApiUrl::parse(url).map(TargetId::Url)
    }

    /// A target named as the ledger stores it and `status` prints it (`mock`,
    /// `dry-run:…`, a server's URL, in any spelling of it).
    pub fn stored(id: &str) -> Result<Self, BadApiUrl> {
        let id = id.trim();
        if id == "mock" {
            return Ok(TargetId::Mock);
        }
        if let Some(inner) = id.strip_prefix("dry-run:") {
            return Ok(TargetId::DryRun(Box::new(TargetId::stored(inner)?)));
        }
        TargetId::url(id)
    }

    /// The live service's id.
    pub fn live() -> Self {
        TargetId::Url(ApiUrl::live())
    }
}

impl fmt::Display for TargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetId::Mock => f.write_str("mock"),
            TargetId::Url(u) => f.write_str(u.as_str()),
            TargetId::DryRun(inner) => write!(f, "dry-run:{inner}"),
        }
    }
}

/// The normal form of a target id a ledger has stored (written by any build): `mock` as it
/// is, `dry-run:` and the normal form of what follows, a server's URL in its normal form
/// ([`ApiUrl`]). An older build took `--api-url` as written, so a stored URL may carry a
/// user and password (not part of which server it is: left out, which also takes the
/// password out of the ledger) or a fragment (never sent: left out). `None` for an id that
/// names no server this build can reach (not an http(s) URL, or with a query, which this
/// build refuses): the ledger keeps it as written.
pub fn normal_stored(id: &str) -> Option<String> {
    if id == "mock" {
        return Some(id.to_owned());
    }
    if let Some(inner) = id.strip_prefix("dry-run:") {
        return normal_stored(inner).map(|n| format!("dry-run:{n}"));
    }
    let url = reqwest::Url::parse(id).ok()?;
    if url.query().is_some() {
        return None;
    }
    normal(&url).map(|u| u.0)
}

/// What separates a request budget's target from what it budgets (see [`budget_scope`]).
const SCOPE_SEPARATOR: char = '\u{1f}';

/// The ledger's name for a request budget of a target: `TARGET`, a separator, and what the
/// budget is of (`campaign:NAME`, `key:FINGERPRINT`).
pub fn budget_scope(target: &str, of: &str) -> String {
    format!("{target}{SCOPE_SEPARATOR}{of}")
}

/// A budget scope's target and what it is of (see [`budget_scope`]); `None` when it has no
/// separator. A target id never holds one: in a URL it is percent-encoded.
pub fn split_budget_scope(scope: &str) -> Option<(&str, &str)> {
    scope.split_once(SCOPE_SEPARATOR)
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
            Target::Url(ApiUrl::parse("https://x.example/").unwrap())
                .id()
                .to_string(),
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

    #[test]
    fn a_target_named_as_status_prints_it_is_that_target() {
        for id in [
            "mock",
            "dry-run:mock",
            "https://voicebot.intron.health",
            "dry-run:http://127.0.0.1:8080",
        ] {
            assert_eq!(TargetId::stored(id).unwrap().to_string(), id);
        }
        assert_eq!(
            TargetId::stored("HTTP://127.0.0.1:8080/")
                .unwrap()
                .to_string(),
            "http://127.0.0.1:8080"
        );
        assert!(TargetId::stored("mok").is_err());
    }

    fn id(url: &str) -> String {
        TargetId::url(url).unwrap().to_string()
    }

    // Issue 14, class 4: one server is one target however its URL is spelt.
    #[test]
    fn spellings_of_one_server_are_one_target() {
        for spelling in [
            "https://api.example.org",
            "https://api.example.org/",
            "HTTPS://API.Example.org:443/",
            "https://api.example.org:443",
            "https://api.example.org//",
            " https://api.example.org ",
        ] {
            assert_eq!(id(spelling), "https://api.example.org", "{spelling}");
        }
        assert_eq!(id("http://127.0.0.1:80/"), "http://127.0.0.1");
        assert_eq!(id("HTTP://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_eq!(id("http://LocalHost:8080"), "http://localhost:8080");
        assert_eq!(
            id("https://Host.example/V1/Calls/"),
            "https://host.example/V1/Calls"
        );
        assert_eq!(
            id("https://host.example/v1/./x/../y"),
            "https://host.example/v1/y"
        );
        assert_eq!(id("http://[::1]:80/"), "http://[::1]");
        // International host names as punycode, as the `url` crate writes them.
        assert_eq!(
            id("https://BÜCHER.example/"),
            "https://xn--bcher-kva.example"
        );
        assert_eq!(
            id("https://xn--bcher-kva.example"),
            "https://xn--bcher-kva.example"
        );
        // The live service's id is its URL's normal form.
        assert_eq!(TargetId::live(), TargetId::url(LIVE_URL).unwrap());
    }

    #[test]
    fn other_servers_ports_schemes_and_paths_are_other_targets() {
        let ids = [
            "https://api.example.org",
            "http://api.example.org",
            "https://api.example.org:8443",
            "https://api.example.org:80",
            "http://api.example.org:443",
            "https://api2.example.org",
            "https://api.example.org/v1",
            "https://api.example.org/V1",
        ]
        .map(id);
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
        assert_eq!(ids[3], "https://api.example.org:80");
        assert_eq!(ids[4], "http://api.example.org:443");
    }

    #[test]
    fn credentials_queries_and_fragments_are_refused_without_showing_a_secret() {
        let refused = |url: &str| TargetId::url(url).unwrap_err();
        for url in [
            "https://user:s3cret@api.example.org",
            "https://:s3cret@api.example.org/",
            "https://s3cret@api.example.org",
        ] {
            let e = refused(url);
            assert!(matches!(e, BadApiUrl::Credentials { .. }), "{url}: {e:?}");
            let text = e.to_string();
            assert!(!text.contains("s3cret"), "{text}");
            assert!(text.contains("https://api.example.org"), "{text}");
        }
        let e = refused("https://api.example.org/v1?api_key=s3cret");
        assert!(matches!(e, BadApiUrl::Query { .. }), "{e:?}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(matches!(
            refused("https://api.example.org?"),
            BadApiUrl::Query { .. }
        ));
        let e = refused("https://api.example.org/#s3cret");
        assert!(matches!(e, BadApiUrl::Fragment { .. }), "{e:?}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        for url in [
            "ftp://api.example.org",
            "file:///etc/passwd",
            "mailto:a@b.example",
        ] {
            assert!(matches!(refused(url), BadApiUrl::Scheme { .. }), "{url}");
        }
        for url in ["api.example.org", "", "https://", "http://exa mple.org"] {
            assert!(matches!(refused(url), BadApiUrl::NotAUrl { .. }), "{url}");
        }
    }

    #[test]
    fn stored_ids_are_read_into_their_normal_form() {
        assert_eq!(normal_stored("mock").as_deref(), Some("mock"));
        assert_eq!(
            normal_stored("dry-run:mock").as_deref(),
            Some("dry-run:mock")
        );
        assert_eq!(
            normal_stored("dry-run:HTTPS://API.Example.org:443/").as_deref(),
            Some("dry-run:https://api.example.org")
        );
        assert_eq!(
            normal_stored("HTTPS://API.Example.org:443/").as_deref(),
            Some("https://api.example.org")
        );
        // An older build took credentials and fragments as written: neither names another
        // server.
        assert_eq!(
            normal_stored("https://user:s3cret@api.example.org/#x").as_deref(),
            Some("https://api.example.org")
        );
        // A query is refused now: kept as written, as is what is not a URL.
        assert_eq!(normal_stored("https://api.example.org/?t=1"), None);
        assert_eq!(normal_stored("live"), None);
        assert_eq!(normal_stored("ftp://api.example.org"), None);
    }

    #[test]
    fn a_budget_scope_splits_back_into_its_target() {
        let scope = budget_scope("https://api.example.org", "campaign:c");
        assert_eq!(
            split_budget_scope(&scope),
            Some(("https://api.example.org", "campaign:c"))
        );
        assert_eq!(split_budget_scope("no separator"), None);
    }

    /// URLs of a few hosts, ports and paths, each spelt in one of many ways.
    fn server() -> impl proptest::strategy::Strategy<Value = (String, Option<u16>, String, bool)> {
        use proptest::prelude::*;
        (
            prop::sample::select(vec![
                "api.example.org",
                "voicebot.intron.health",
                "127.0.0.1",
                "h-1.example",
            ]),
            prop::option::of(prop::sample::select(vec![80u16, 443, 8080, 8443])),
            prop::sample::select(vec!["", "/v1", "/V1", "/v1/calls", "/a/b"]),
            any::<bool>(),
        )
            .prop_map(|(h, p, path, tls)| (h.to_owned(), p, path.to_owned(), tls))
    }

    /// One spelling of a server: scheme and host in any case, its default port written or
    /// not, any number of trailing slashes.
    fn spelling(
        (host, port, path, tls): &(String, Option<u16>, String, bool),
        upper: &[bool],
        default_port: bool,
        slashes: usize,
    ) -> String {
        let cased = |s: &str| -> String {
            s.chars()
                .zip(upper.iter().cycle())
                .map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c })
                .collect()
        };
        let scheme = if *tls { "https" } else { "http" };
        let port = match port {
            Some(p) => format!(":{p}"),
            None if default_port => format!(":{}", if *tls { 443 } else { 80 }),
            None => String::new(),
        };
        format!(
            "{}://{}{port}{path}{}",
            cased(scheme),
            cased(host),
            "/".repeat(slashes)
        )
    }

    proptest::proptest! {
        #[test]
        fn the_normal_form_is_idempotent_and_one_per_server(
            s in server(),
            upper in proptest::collection::vec(proptest::bool::ANY, 1..8),
            other_upper in proptest::collection::vec(proptest::bool::ANY, 1..8),
            default_port in proptest::bool::ANY,
            slashes in 0usize..3,
            other_slashes in 0usize..3,
        ) {
            let a = id(&spelling(&s, &upper, default_port, slashes));
            let b = id(&spelling(&s, &other_upper, !default_port, other_slashes));
            proptest::prop_assert_eq!(&a, &b);
            proptest::prop_assert_eq!(&id(&a), &a);
            proptest::prop_assert_eq!(normal_stored(&a), Some(a.clone()));
            proptest::prop_assert!(!a.ends_with('/'));
        }

        #[test]
        fn different_servers_are_different_targets(
            s in server(),
            t in server(),
            upper in proptest::collection::vec(proptest::bool::ANY, 1..8),
        ) {
            let same = |x: &(String, Option<u16>, String, bool)| {
                let default = if x.3 { 443 } else { 80 };
                (x.0.clone(), x.1.filter(|p| *p != default), x.2.clone(), x.3)
            };
            let (a, b) = (id(&spelling(&s, &upper, false, 0)), id(&spelling(&t, &[false], false, 1)));
            proptest::prop_assert_eq!(a == b, same(&s) == same(&t), "{} {}", a, b);
        }

        // Whatever a hostile --api-url holds: no panic, and an accepted one is normal.
        #[test]
        fn any_text_is_refused_or_normal(text in "\\PC{0,40}", tail in "[a-zA-Z0-9:/@?#%.\\[\\]-]{0,20}") {
            for given in [text.clone(), format!("https://{tail}"), format!("http://{text}")] {
                if let Ok(u) = ApiUrl::parse(&given) {
                    proptest::prop_assert_eq!(ApiUrl::parse(u.as_str()), Ok(u.clone()));
                    proptest::prop_assert_eq!(normal_stored(u.as_str()), Some(u.as_str().to_owned()));
                }
                let _ = normal_stored(&given);
            }
        }
    }
}
