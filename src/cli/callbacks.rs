//! The flags of `outreach callbacks`, and how they and the environment become its settings.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};

use crate::settings::callbacks::{
    CallbackTokens, CallbacksSettings, MIN_TOKEN_CHARS, ReceiverLimits, ReceiverSettings,
};

/// The environment variable that holds the current token.
pub(super) const TOKEN_ENV: &str = "OUTREACH_CALLBACK_TOKEN";
/// The environment variable that holds the previous token, during a rotation.
const PREVIOUS_TOKEN_ENV: &str = "OUTREACH_CALLBACK_TOKEN_PREVIOUS";

// The flags of `outreach callbacks` (its help text is the variant's).
#[derive(Debug, clap::Args)]
pub struct CallbacksArgs {
    /// The address to listen on, such as 127.0.0.1:8787 behind a reverse proxy on the same
    /// machine (port 0: a free port, printed once bound).
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// The ledger the outcomes are written to: a SQLite file (default: .outreach/state.db
    /// here), or a shared Postgres database (postgres://…).
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "OUTREACH_DATABASE_URL",
        hide_env_values = true
    )]
    pub state: Option<PathBuf>,
    /// Read the token from this file, readable by its owner only (otherwise from
    /// OUTREACH_CALLBACK_TOKEN). At least 16 characters of letters, digits, - . _ ~.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Read the previous token, still accepted during a rotation, from this file (otherwise
    /// from OUTREACH_CALLBACK_TOKEN_PREVIOUS, if set).
    #[arg(long, value_name = "FILE")]
    pub previous_token_file: Option<PathBuf>,
    /// The largest body accepted (413 beyond), such as 1MiB, 512KiB or 65536.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = size)]
    pub max_body: usize,
    /// The deepest nesting of JSON arrays and objects accepted (400 beyond), checked before
    /// the body is parsed.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub max_depth: u16,
    /// A request must arrive whole within this long (408), and be committed within it (503:
    /// the service sends it again).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub request_timeout: Duration,
    /// A request's line and headers must arrive within this long of their first byte, or the
    /// connection is closed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub header_read_timeout: Duration,
    /// A connection with no request in progress is closed after this long.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = duration)]
    pub idle_timeout: Duration,
    /// Most connections open at once; at the cap the one that has waited the longest without
    /// a request in progress is closed to make room.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,
    /// On SIGTERM or SIGINT, how long the requests in progress are given to finish.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub drain_timeout: Duration,
    /// How often callbacks kept unmatched (their batch not in the ledger yet) are matched
    /// again.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub rematch_every: Duration,
    /// Show the phone numbers of each callback's calls in the log.
    #[arg(long)]
    pub unmask: bool,
}

/// A length of time: `30s`, `500ms`, `2m`; from a millisecond to a day.
fn duration(text: &str) -> Result<Duration, String> {
    crate::campaign::values::parse_duration(text)
        .and_then(|d| Duration::try_from(d).ok())
        .filter(|d| *d >= Duration::from_millis(1) && *d <= Duration::from_secs(86_400))
        .ok_or_else(|| "write a length of time from 1ms to 1d, such as 30s or 500ms".to_owned())
}

/// A size in bytes: `1MiB`, `512KiB` or a number of bytes; from 1 byte to 64 MiB.
fn size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let unit = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "k" => 1024,
        "MiB" | "M" => 1024 * 1024,
        _ => return Err("write a size such as 1MiB, 512KiB or 65536 (bytes)".to_owned()),
    };
    number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|n| (1..=64 * 1024 * 1024).contains(n))
        .ok_or_else(|| "write a size from 1 byte to 64MiB, such as 1MiB".to_owned())
}

/// A token file holds one token: anything larger is not one (and is not read whole).
const MAX_TOKEN_FILE_BYTES: u64 = 4096;

/// A token from `file`, else from the environment variable `env`. Its text is never part of
/// a message.
pub(super) fn token(file: Option<&Path>, env: &str) -> anyhow::Result<Option<SecretString>> {
    let token = match file {
        Some(path) => {
            let shown = path.display();
            let mode = std::fs::metadata(path)
                .with_context(|| format!("cannot read the token file {shown}"))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "the token file {shown} can be read by other users: make it readable by its owner only (chmod 600 {shown})"
                );
            }
            let text = crate::load::input_file::read_text(path, MAX_TOKEN_FILE_BYTES)
                .with_context(|| format!("cannot read the token file {shown}"))?;
            let token = text.trim();
            if token.is_empty() {
                anyhow::bail!("the token file {shown} is empty");
            }
            SecretString::from(token.to_owned())
        }
        None => match std::env::var(env) {
            Ok(text) if !text.trim().is_empty() => SecretString::from(text.trim().to_owned()),
            _ => return Ok(None),
        },
    };
    let text = token.expose_secret();
    let from = file.map_or_else(|| env.to_owned(), |p| p.display().to_string());
    if text.chars().count() < MIN_TOKEN_CHARS {
        anyhow::bail!(
            "the callback token in {from} is shorter than {MIN_TOKEN_CHARS} characters: use a long random one, such as the output of `openssl rand -hex 32`"
        );
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        anyhow::bail!(
            "the callback token in {from} holds characters a URL would have to escape: use only letters, digits and - . _ ~ (such as the output of `openssl rand -hex 32`)"
        );
    }
    Ok(Some(token))
}

pub(super) fn resolve(args: CallbacksArgs) -> anyhow::Result<CallbacksSettings> {
    let CallbacksArgs {
        listen,
        state,
        token_file,
        previous_token_file,
        max_body,
        max_depth,
        request_timeout,
        header_read_timeout,
        idle_timeout,
        max_connections,
        drain_timeout,
        rematch_every,
        unmask,
    } = args;
    let current = token(token_file.as_deref(), TOKEN_ENV)?.with_context(|| {
        format!(
            "outreach callbacks needs a token, the secret in the callback URL: set {TOKEN_ENV} or give --token-file FILE (at least {MIN_TOKEN_CHARS} characters, such as the output of `openssl rand -hex 32`)"
        )
    })?;
    let previous = token(previous_token_file.as_deref(), PREVIOUS_TOKEN_ENV)?;
    Ok(CallbacksSettings {
        listen,
        state: super::resolve::state_for(state, None)?,
        receiver: ReceiverSettings {
            tokens: CallbackTokens { current, previous },
            limits: ReceiverLimits {
                max_body,
                max_depth: usize::from(max_depth),
                request_timeout,
                header_read_timeout,
                idle_timeout,
                max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
                drain: drain_timeout,
            },
            rematch_every,
            unmask,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_as_written() {
        assert_eq!(size("1MiB"), Ok(1024 * 1024));
        assert_eq!(size("512KiB"), Ok(512 * 1024));
        assert_eq!(size("65536"), Ok(65536));
        assert!(size("0").is_err());
        assert!(size("1GiB").is_err());
        assert!(size("-1").is_err());
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(duration("0s").is_err());
        assert!(duration("soon").is_err());
    }
}
