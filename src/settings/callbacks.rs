//! Settings of `outreach callbacks`, the receiver of the service's completion callbacks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// Settings of `outreach callbacks`.
#[derive(Debug)]
pub struct CallbacksSettings {
    /// Where to listen (port 0: a free port, printed once bound).
    pub listen: SocketAddr,
    /// The ledger the callbacks are committed to.
    pub state: PathBuf,
    pub receiver: ReceiverSettings,
}

/// How the receiver serves, whatever its store.
#[derive(Debug)]
pub struct ReceiverSettings {
    pub tokens: CallbackTokens,
    pub limits: ReceiverLimits,
    /// How often kept unmatched callbacks are matched again.
    pub rematch_every: Duration,
    /// Log lines may show phone numbers.
    pub unmask: bool,
}

/// The secrets a callback's URL must carry (`POST /callbacks/{token}`): the current one, and
/// during a rotation the previous one.
#[derive(Debug)]
pub struct CallbackTokens {
    pub current: SecretString,
    pub previous: Option<SecretString>,
}

/// The fewest characters a token may have.
pub const MIN_TOKEN_CHARS: usize = 16;

/// What one client may cost the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverLimits {
    /// The largest body read (413 beyond).
    pub max_body: usize,
    /// The deepest nesting of JSON arrays and objects (400 beyond), checked before parsing.
    pub max_depth: usize,
    /// A request must arrive whole within this long of its head (408), and be committed
    /// within it (503 otherwise: the service sends it again).
    pub request_timeout: Duration,
    /// A request's head must arrive within this long of its first byte.
    pub header_read_timeout: Duration,
    /// A connection with no request in progress is closed after this long.
    pub idle_timeout: Duration,
    /// Most connections open at once (at the cap the one that waited the longest is closed).
    pub max_connections: usize,
    /// On SIGTERM or SIGINT, requests in progress are given this long to finish.
    pub drain: Duration,
}

impl Default for ReceiverLimits {
    fn default() -> Self {
        Self {
            max_body: 1024 * 1024,
            max_depth: 64,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            // Longer than HTTP clients keep idle connections (reqwest: 90 s).
            idle_timeout: Duration::from_secs(120),
            max_connections: 512,
            drain: Duration::from_secs(10),
        }
    }
}
