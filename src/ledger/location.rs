//! Where a ledger is (`--state`, `OUTREACH_DATABASE_URL`), told apart in one place: a Postgres
//! URL (`postgres://` or `postgresql://`, its scheme in any case), a libpq connection string
//! of `KEY=VALUE` pairs (`host=… dbname=… user=… password=…`, values quoted as libpq quotes
//! them), or a SQLite file's path. Anything that could be read two ways is refused: a value
//! taken for a file when it was meant as a database would give each runner a ledger of its
//! own, and write its password to disk as a file name.
//!
//! No error here repeats the value or any part of it a password could be in; a database is
//! shown ([`PgLocation::shown`]) rebuilt from what was parsed out of it: its hosts, ports,
//! database, user and `sslmode`, never its password, `options` or other settings.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

/// A ledger location, parsed.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file.
    File(PathBuf),
    /// A Postgres database.
    Postgres(Box<PgLocation>),
}

/// A Postgres database to connect to, and how.
#[derive(Debug, Clone)]
pub struct PgLocation {
    /// The driver's settings, `sslmode` left out (outreach decides it: see [`Tls`]).
    pub(super) config: postgres::Config,
    pub(super) tls: Tls,
    shown: String,
}

/// The `sslmode` values, with libpq's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it (and the handshake succeeds), else plain; libpq's
    /// default.
    Prefer,
    /// TLS or nothing; the certificate is checked only when `sslrootcert` is given.
    Require,
    /// TLS, and a certificate issued by a trusted authority.
    VerifyCa,
    /// TLS, a certificate issued by a trusted authority, and naming the host connected to.
    VerifyFull,
}

impl SslMode {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn parse(text: &str) -> Option<SslMode> {
        [
            SslMode::Disable,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
    }
}

/// Which authorities a server's certificate is checked against (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RootCerts {
    /// None given: `verify-ca` and `verify-full` use the system's trusted roots; `prefer`
    /// and `require` check nothing.
    Unset,
    /// `sslrootcert=system`: the system's trusted roots (libpq's spelling).
    System,
    /// `sslrootcert=FILE`: the PEM certificates in that file.
    File(PathBuf),
}

/// How the connection is secured: `sslmode` and `sslrootcert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tls {
    pub(super) mode: SslMode,
    pub(super) roots: RootCerts,
}

/// The forms a ledger location takes, for every error that refuses one.
const FORMS: &str = "give a SQLite file's path (such as .outreach/state.db), a Postgres URL (postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full), or a connection string of KEY=VALUE pairs (host=HOST port=PORT dbname=DATABASE user=USER sslmode=verify-full); see docs/scale-out.md";

/// Why a ledger location was refused. None of these repeats the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("the ledger location (--state or OUTREACH_DATABASE_URL) is empty: {FORMS}")]
    Empty,
    #[error(
        "the ledger location (--state or OUTREACH_DATABASE_URL) holds a control character (a newline, a tab, an escape): {FORMS}"
    )]
    ControlCharacter,
    #[error("the ledger location (--state or OUTREACH_DATABASE_URL) is a URL{}, and outreach keeps its ledger only in a file or in Postgres: {FORMS}", scheme.as_ref().map_or_else(String::new, |s| format!(" of scheme `{s}`")))]
    OtherScheme { scheme: Option<String> },
    #[error(
        "the ledger location (--state or OUTREACH_DATABASE_URL) starts like a Postgres URL but has no `//` after its scheme: write postgres://… ({FORMS})"
    )]
    NoSlashes,
    #[error(
        "the ledger location (--state or OUTREACH_DATABASE_URL) looks like a URL without its scheme (USER:PASSWORD@HOST): write postgres://… in front, or {FORMS}"
    )]
    NoScheme,
    #[error(
        "the ledger location (--state or OUTREACH_DATABASE_URL) is a Postgres URL that cannot be read: {0}; {FORMS}"
    )]
    Url(&'static str),
    #[error(
        "the ledger location (--state or OUTREACH_DATABASE_URL) holds `=`, as a connection string does, but is not one: {0}. A file's path may not hold `=`; {FORMS}"
    )]
    Keywords(String),
    #[error(
        "the ledger location (--state or OUTREACH_DATABASE_URL) gives `{0}` more than once: give it once"
    )]
    Twice(String),
    #[error(
        "the ledger location (--state or OUTREACH_DATABASE_URL) sets `{0}`, which outreach does not support; leave it out"
    )]
    Unsupported(&'static str),
    #[error(
        "the ledger location (--state or OUTREACH_DATABASE_URL) sets `{key}` to a value it cannot take: {expected}"
    )]
    Value {
        key: &'static str,
        expected: &'static str,
    },
}

/// The keywords passed on to the driver (tokio-postgres knows them all).
const DRIVER_KEYS: [&str; 17] = [
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "options",
    "application_name",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// libpq's other keywords: known, and refused by name rather than ignored.
const UNSUPPORTED_KEYS: [&str; 23] = [
    "passfile",
    "require_auth",
    "service",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "sslcompression",
    "sslnegotiation",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "requirepeer",
    "gssencmode",
    "gsslib",
    "gssdelegation",
    "krbsrvname",
    "replication",
    "client_encoding",
    "fallback_application_name",
    "requiressl",
];

impl Location {
    /// Reads a ledger location.
    pub fn parse(value: &OsStr) -> Result<Location, LocationError> {
        let bytes = value.as_encoded_bytes();
        if bytes.is_empty() {
            return Err(LocationError::Empty);
        }
        if bytes.iter().any(u8::is_ascii_control) {
            return Err(LocationError::ControlCharacter);
        }
        let lower = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        for scheme in ["postgres", "postgresql"] {
            if let Some(rest) = lower.strip_prefix(scheme).and_then(|r| r.strip_prefix(':')) {
                if !rest.starts_with("//") {
                    return Err(LocationError::NoSlashes);
                }
                // A URL with a byte that is not UTF-8 is not one libpq reads either.
                let text = value.to_str().ok_or(LocationError::Url(
                    "it holds bytes that are not text (percent-encode them)",
                ))?;
                return PgLocation::from_params(&url_params(&text[scheme.len() + 3..])?, scheme)
                    .map(|p| Location::Postgres(Box::new(p)));
            }
        }
        if let Some(at) = lower.find("://") {
            let scheme = &lower[..at];
            let plain = !scheme.is_empty()
                && scheme.len() <= 16
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            return Err(LocationError::OtherScheme {
                scheme: plain.then(|| scheme.to_owned()),
            });
        }
        if bytes.contains(&b'=') {
            let text = value.to_str().ok_or_else(|| {
                LocationError::Keywords("it holds bytes that are not text".to_owned())
            })?;
            return PgLocation::from_params(&keyword_params(text)?, "")
                .map(|p| Location::Postgres(Box::new(p)));
        }
        // USER:PASSWORD@HOST… without a scheme: a URL someone forgot to start, never a file
        // to create under that name.
        let first = bytes.split(|b| *b == b'/').next().unwrap_or_default();
        if let Some(at) = first.iter().position(|b| *b == b'@')
            && first[..at].contains(&b':')
        {
            return Err(LocationError::NoScheme);
        }
        Ok(Location::File(PathBuf::from(value)))
    }

    /// Reads a ledger location given as a path (as the settings carry it).
    pub fn of(path: &Path) -> Result<Location, LocationError> {
        Location::parse(path.as_os_str())
    }
}

impl PgLocation {
    /// The database as printed: what was parsed out of the location, password and options
    /// left out, in the form it was given (a URL, or KEY=VALUE pairs).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The driver's settings and outreach's TLS settings from `KEY=VALUE` parameters; `scheme`
    /// is the URL's (`postgres`, `postgresql`), or empty for a connection string.
    fn from_params(params: &[(String, String)], scheme: &str) -> Result<PgLocation, LocationError> {
        let mut seen: Vec<&str> = Vec::new();
        for (key, _) in params {
            if seen.contains(&key.as_str()) {
                return Err(LocationError::Twice(key.clone()));
            }
            seen.push(key);
        }
        let get = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let tls = tls_settings(get("sslmode"), get("sslrootcert"))?;
        if let Some(db) = get("dbname")
            && (db.contains('=') || db.contains("://"))
        {
            // libpq would read a connection string out of it; the driver would not.
            return Err(LocationError::Value {
                key: "dbname",
                expected: "a database's name (a connection string inside `dbname` is not read)",
            });
        }
        let mut driver = String::new();
        for (key, value) in params {
            if key == "sslmode" || key == "sslrootcert" {
                continue;
            }
            if !DRIVER_KEYS.contains(&key.as_str()) {
                if let Some(known) = UNSUPPORTED_KEYS.iter().find(|k| **k == key) {
                    return Err(LocationError::Unsupported(known));
                }
                return Err(LocationError::Keywords(unknown_key(key)));
            }
            let _ = write!(driver, "{key}={} ", quoted(value));
        }
        let config = postgres::Config::from_str(&driver).map_err(|e| driver_error(&e))?;
        let shown = shown(scheme, params, get("sslmode").is_some().then_some(tls.mode));
        Ok(PgLocation { config, tls, shown })
    }
}

/// `sslmode` and `sslrootcert`, read as libpq reads them (the driver knows only `disable`,
/// `prefer` and `require`, and no `sslrootcert`).
fn tls_settings(mode: Option<&str>, root: Option<&str>) -> Result<Tls, LocationError> {
    let roots = match root {
        None => RootCerts::Unset,
        Some("") => {
            return Err(LocationError::Value {
                key: "sslrootcert",
                expected: "a file of PEM certificates, or `system`",
            });
        }
        Some("system") => RootCerts::System,
        Some(file) => RootCerts::File(PathBuf::from(file)),
    };
    let mode = match mode {
        Some(text) => SslMode::parse(text).ok_or(LocationError::Value {
            key: "sslmode",
            expected: "disable, prefer, require, verify-ca or verify-full",
        })?,
        // libpq: with the system's roots, verify-full unless said otherwise.
        None if roots == RootCerts::System => SslMode::VerifyFull,
        None => SslMode::Prefer,
    };
    if roots == RootCerts::System && mode != SslMode::VerifyFull {
        // libpq refuses it too: any certificate a public authority issued would do.
        return Err(LocationError::Value {
            key: "sslmode",
            expected: "verify-full with sslrootcert=system (the system's roots vouch for any host on the internet, so the host name must be checked)",
        });
    }
    Ok(Tls { mode, roots })
}

/// What an unknown keyword is called in an error: never the word itself (it could be part of
/// a password that lost its quotes), only the known keyword it is close to.
fn unknown_key(key: &str) -> String {
    let closest = DRIVER_KEYS
        .iter()
        .chain(["sslmode", "sslrootcert"].iter())
        .map(|k| (strsim::jaro_winkler(k, key), *k))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((_, k)) => format!("one of its keywords is not one outreach knows (did you mean `{k}`?)"),
        None => "one of its keywords is not one outreach knows (host, hostaddr, port, dbname, user, password, options, application_name, connect_timeout, sslmode, sslrootcert, …)".to_owned(),
    }
}

/// The driver's refusal of a setting, in words that name the setting and never its value.
fn driver_error(e: &postgres::Error) -> LocationError {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        // tokio-postgres: "invalid value for option `port`" (the key, never the value).
        if let Some(key) = text
            .strip_prefix("invalid value for option `")
            .and_then(|k| k.strip_suffix('`'))
            && let Some(key) = DRIVER_KEYS.iter().find(|k| **k == key)
        {
            return LocationError::Value {
                key,
                expected: "see the Postgres documentation of connection parameters",
            };
        }
        cause = c.source();
    }
    LocationError::Keywords("the driver cannot read its settings".to_owned())
}

/// A value quoted as libpq (and tokio-postgres) read it.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The parameters of a libpq connection string: `KEY=VALUE` pairs apart by spaces, spaces
/// allowed around `=`, a value either one word (a backslash takes the next character as it
/// is) or single-quoted (`\'` and `\\` inside).
fn keyword_params(text: &str) -> Result<Vec<(String, String)>, LocationError> {
    let bad =
        |what: &str, n: usize| LocationError::Keywords(format!("{what} (its {} pair)", ordinal(n)));
    let mut params = Vec::new();
    let mut it = text.chars().peekable();
    loop {
        while it.next_if(|c| c.is_whitespace()).is_some() {}
        if it.peek().is_none() {
            break;
        }
        let n = params.len() + 1;
        let mut key = String::new();
        while let Some(c) = it.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        while it.next_if(|c| c.is_whitespace()).is_some() {}
        if it.next() != Some('=') {
            return Err(bad("a word is not followed by `=` and a value", n));
        }
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad("a keyword is missing before `=`, or is not a word", n));
        }
        while it.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if it.next_if_eq(&'\'').is_some() {
            loop {
                match it.next() {
                    None => return Err(bad("a quoted value is not closed", n)),
                    Some('\'') => break,
                    Some('\\') => match it.next() {
                        Some(c) => value.push(c),
                        None => return Err(bad("a quoted value is not closed", n)),
                    },
                    Some(c) => value.push(c),
                }
            }
            if it.peek().is_some_and(|c| !c.is_whitespace()) {
                return Err(bad("a quoted value runs on past its closing quote", n));
            }
        } else {
            while let Some(c) = it.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    match it.next() {
                        Some(next) => value.push(next),
                        None => return Err(bad("a value ends in a lone backslash", n)),
                    }
                } else {
                    value.push(c);
                }
            }
        }
        params.push((key, value));
    }
    Ok(params)
}

/// The parameters of a Postgres URL after its `scheme://`: libpq's grammar,
/// `[USER[:PASSWORD]@][HOST[:PORT][,…]][/DATABASE][?KEY=VALUE&…]`, percent-decoded.
fn url_params(rest: &str) -> Result<Vec<(String, String)>, LocationError> {
    let mut params = Vec::new();
    // The user part ends at an `@` before the first `/` (as libpq reads it).
    let slash = rest.find('/').unwrap_or(rest.len());
    let (userinfo, rest) = match rest[..slash].matches('@').count() {
        0 => (None, rest),
        1 => {
            let (u, r) = rest.split_once('@').unwrap_or_default();
            (Some(u), r)
        }
        _ => {
            return Err(LocationError::Url(
                "it has more than one `@` before its host (percent-encode an `@` in the password as %40)",
            ));
        }
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            params.push(("user".to_owned(), decode(user)?));
        }
        if let Some(p) = password {
            params.push(("password".to_owned(), decode(p)?));
        }
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (hostspec, rest) = rest.split_at(end);
    let (dbname, query) = match rest.strip_prefix('/') {
        Some(r) => match r.split_once('?') {
            Some((d, q)) => (d, Some(q)),
            None => (r, None),
        },
        None => ("", rest.strip_prefix('?')),
    };
    // An `@` past the host is a password's that held an unescaped `/` (`user:pa/ss@host`):
    // read as a path, it would be printed as the database's name.
    if dbname.contains('@') || query.is_some_and(|q| q.contains('@')) {
        return Err(LocationError::Url(
            "it has an `@` after its host (percent-encode `/`, `?` and `@` in the password as %2F, %3F and %40)",
        ));
    }
    if !hostspec.is_empty() {
        let (hosts, ports) = host_list(hostspec)?;
        if !hosts.is_empty() {
            params.push(("host".to_owned(), hosts));
        }
        if !ports.is_empty() {
            params.push(("port".to_owned(), ports));
        }
    }
    if !dbname.is_empty() {
        params.push(("dbname".to_owned(), decode(dbname)?));
    }
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair
            .split_once('=')
            .ok_or(LocationError::Url("a parameter after `?` is not KEY=VALUE"))?;
        params.push((decode(key)?, decode(value)?));
    }
    Ok(params)
}

/// `HOST[:PORT],…` of a URL: hosts and ports as the driver reads them (comma-separated).
fn host_list(spec: &str) -> Result<(String, String), LocationError> {
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    for part in spec.split(',') {
        let (host, port) = if let Some(v6) = part.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or(LocationError::Url("an IPv6 host's `[` is not closed"))?;
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(LocationError::Url("a host in `[…]` is not an IPv6 address"));
            }
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => {
                    return Err(LocationError::Url(
                        "an IPv6 host is followed by something other than :PORT",
                    ));
                }
            };
            (addr.to_owned(), port)
        } else {
            let (h, p) = match part.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (part, None),
            };
            let host = decode(h)?;
            // A host name, or a folder holding the server's socket (`%2Frun%2Fpostgresql`).
            let name_like = host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
            if !(name_like || host.starts_with('/')) {
                return Err(LocationError::Url(
                    "a host is not a host name, an address or a socket folder (percent-encode `/`, `?`, `@` and `:` in the password)",
                ));
            }
            (host, p)
        };
        if let Some(p) = port
            && !(p.is_empty() || p.parse::<u16>().is_ok_and(|n| n > 0))
        {
            return Err(LocationError::Url(
                "a port is not a number from 1 to 65535 (percent-encode `/`, `?` and `@` in the password)",
            ));
        }
        hosts.push(host);
        ports.push(port.unwrap_or_default().to_owned());
    }
    let hosts = if hosts.iter().all(String::is_empty) {
        String::new()
    } else {
        hosts.join(",")
    };
    let ports = if ports.iter().all(String::is_empty) {
        String::new()
    } else {
        ports.join(",")
    };
    Ok((hosts, ports))
}

/// Percent-decoding; a `%` without two hex digits after it is refused, as libpq does.
fn decode(text: &str) -> Result<String, LocationError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(LocationError::Url(
                    "a `%` is not followed by two hex digits",
                ))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| LocationError::Url("a percent-encoded part is not UTF-8 text"))
}

/// The database as printed: hosts, addresses, ports, database and user, in the form given;
/// `sslmode` when it was given. Never the password, `options`, or any other setting.
fn shown(scheme: &str, params: &[(String, String)], mode: Option<SslMode>) -> String {
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| printable(v))
    };
    if scheme.is_empty() {
        let mut out = Vec::new();
        for key in ["host", "hostaddr", "port", "dbname", "user"] {
            if let Some(v) = get(key) {
                let needs_quotes = v.is_empty()
                    || v.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\');
                out.push(if needs_quotes {
                    format!("{key}={}", quoted(&v))
                } else {
                    format!("{key}={v}")
                });
            }
        }
        if let Some(m) = mode {
            out.push(format!("sslmode={}", m.as_str()));
        }
        return out.join(" ");
    }
    let mut out = format!("{scheme}://");
    if let Some(user) = get("user") {
        let _ = write!(out, "{}@", encode(&user));
    }
    let hosts: Vec<String> =
        get("host").map_or_else(Vec::new, |h| h.split(',').map(str::to_owned).collect());
    let ports: Vec<String> =
        get("port").map_or_else(Vec::new, |p| p.split(',').map(str::to_owned).collect());
    let n = hosts.len().max(ports.len());
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let host = hosts.get(i).map_or("", String::as_str);
        if host.contains(':') {
            let _ = write!(out, "[{host}]");
        } else {
            out.push_str(&encode(host));
        }
        // One port for every host is written after the last one.
        let port = if ports.len() == n {
            ports.get(i)
        } else {
            ports.first().filter(|_| i + 1 == n)
        };
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            let _ = write!(out, ":{port}");
        }
    }
    if let Some(db) = get("dbname") {
        let _ = write!(out, "/{}", encode(&db));
    }
    let mut query = Vec::new();
    if let Some(addr) = get("hostaddr") {
        query.push(format!("hostaddr={}", encode(&addr)));
    }
    if let Some(m) = mode {
        query.push(format!("sslmode={}", m.as_str()));
    }
    if !query.is_empty() {
        let _ = write!(out, "?{}", query.join("&"));
    }
    out
}

/// A parsed value fit to print: control characters (decoded from `%0A`, say) replaced.
fn printable(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// A URL part percent-encoded where it must be (what is not a letter, digit or `-._~`).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Location, LocationError> {
        Location::parse(OsStr::new(s))
    }

    fn shown_of(s: &str) -> String {
        match parse(s) {
            Ok(Location::Postgres(p)) => p.shown().to_owned(),
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn a_postgres_url_in_any_case_of_its_scheme_is_a_database() {
        for url in [
            "postgres://app@db/x",
            "POSTGRES://app@db/x",
            "PostgreSQL://app@db/x",
            "postgresql://app@db/x",
        ] {
            assert!(matches!(parse(url), Ok(Location::Postgres(_))), "{url}");
        }
        assert_eq!(shown_of("POSTGRES://app@db/x"), "postgres://app@db/x");
    }

    #[test]
    fn passwords_never_show_in_a_printed_location() {
        let cases = [
            (
                "postgres://app:s3cret@db.example:5432/outreach?sslmode=disable",
                "postgres://app@db.example:5432/outreach?sslmode=disable",
            ),
            (
                "postgresql://db/outreach?user=app&password=s3cret",
                "postgresql://app@db/outreach",
            ),
            (
                "postgres://app@localhost/outreach?options=-c%20password%3Ds3cret",
                "postgres://app@localhost/outreach",
            ),
            (
                "postgres://app:pa%2Fss%40w@db:5432/outreach",
                "postgres://app@db:5432/outreach",
            ),
            (
                "host=db port=5432 dbname=outreach user=app password=s3cret",
                "host=db port=5432 dbname=outreach user=app",
            ),
            (
                "host = db password = 's3 cret' options='-c password=s3cret'",
                "host=db",
            ),
            (
                "host=db password=s3\\ cret sslmode=require",
                "host=db sslmode=require",
            ),
        ];
        for (given, shown) in cases {
            assert_eq!(shown_of(given), shown, "{given}");
            assert!(!shown_of(given).contains("s3"), "{given}");
        }
    }

    #[test]
    fn a_connection_string_reaches_the_driver_with_its_values() {
        let Ok(Location::Postgres(p)) =
            parse("host=db port=6432 dbname='my db' user=app password='it\\'s'")
        else {
            panic!()
        };
        assert_eq!(p.config.get_dbname(), Some("my db"));
        assert_eq!(p.config.get_password(), Some(&b"it's"[..]));
        assert_eq!(p.config.get_ports(), &[6432]);
        assert_eq!(
            p.tls,
            Tls {
                mode: SslMode::Prefer,
                roots: RootCerts::Unset
            }
        );
        let Ok(Location::Postgres(p)) =
            parse("postgres://app:p%40ss@db/x?sslmode=verify-full&sslrootcert=/ca.pem")
        else {
            panic!()
        };
        assert_eq!(p.config.get_password(), Some(&b"p@ss"[..]));
        assert_eq!(
            p.tls,
            Tls {
                mode: SslMode::VerifyFull,
                roots: RootCerts::File("/ca.pem".into())
            }
        );
    }

    #[test]
    fn ambiguous_locations_are_refused_without_repeating_them() {
        let cases = [
            "",
            "mysql://app:s3cret@db/x",
            "sqlite:///tmp/s3cret.db",
            "postgres:app:s3cret@db/x",
            "app:s3cret@db/x",
            "ledger/password=s3cret.db",
            "host=db s3cret",
            "host=db password='s3cret",
            "host=db passwrd=s3cret",
            "host=db host=other password=s3cret",
            "postgres://app:s3/cret@db/x",
            "postgres://app:123/s3cret@db/x",
            "postgres://app:s3@cret@db/x",
            "postgres://app:s3cret@db/x?sslmode=verify",
            "postgres://app:s3cret@db/x?sslcert=/c.pem",
            "postgres://app:s3cret@db:port/x",
            "postgres://app:s3cret@db/x?sslrootcert=system&sslmode=require",
            "host=db password=s3cret\n",
            "host=db dbname='host=x password=s3cret'",
        ];
        for value in cases {
            let e = parse(value).expect_err(value);
            let text = e.to_string();
            assert!(!text.contains("s3"), "{value}: {text}");
            assert!(!text.contains("cret"), "{value}: {text}");
        }
        assert!(
            parse("host=db passwrd=x")
                .unwrap_err()
                .to_string()
                .contains("did you mean `password`")
        );
        // libpq reads `=` inside an unquoted value as part of it.
        let Ok(Location::Postgres(p)) = parse("host=db password=s3=cret") else {
            panic!()
        };
        assert_eq!(p.config.get_password(), Some(&b"s3=cret"[..]));
        assert!(
            parse("mysql://x")
                .unwrap_err()
                .to_string()
                .contains("`mysql`")
        );
    }

    #[test]
    fn a_plain_path_is_a_file() {
        for path in [
            ".outreach/state.db",
            "/var/lib/outreach/state.db",
            "state",
            "a b/c.db",
            "x.lock",
        ] {
            assert!(
                matches!(parse(path), Ok(Location::File(p)) if p == Path::new(path)),
                "{path}"
            );
        }
    }

    #[test]
    fn sslrootcert_system_means_verify_full() {
        let Ok(Location::Postgres(p)) = parse("host=db sslrootcert=system") else {
            panic!()
        };
        assert_eq!(
            p.tls,
            Tls {
                mode: SslMode::VerifyFull,
                roots: RootCerts::System
            }
        );
    }
}
