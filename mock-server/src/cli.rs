//! Command-line flags (`voicebot-mock` and `outreach mock-server`) and the serve loop.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context as _;

use crate::config::{FaultRule, MockConfig, OutcomeMix, RouteLimit, Timeout};

/// Flags of the voicebot mock server. Flags override the config file, which overrides the
/// defaults.
#[derive(Debug, Clone, clap::Args)]
pub struct MockArgs {
    /// Port to listen on; 0 picks a free port.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// Address to listen on. Keep the loopback default unless the mock must be reachable from
    /// other machines.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,

    /// Accept only this API key (repeatable); other keys get 401. By default any non-empty
    /// bearer key is accepted, so the documented samples work verbatim.
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,

    /// YAML or JSON config file (`.json` is read as JSON, anything else as YAML): outcome mix,
    /// timing, faults, rate limits, seeded workflows… See the README for the format.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Seed of call outcomes, ids and fault draws [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,

    /// Simulated seconds per real second; 0 freezes time, so only `POST /__mock/clock/advance`
    /// moves it [default: 60].
    #[arg(long, value_name = "FACTOR")]
    pub time_scale: Option<f64>,

    /// Most `workflow_params` entries per request; more is a 413 [default: 100].
    #[arg(long, value_name = "N")]
    pub max_params: Option<usize>,

    /// Requests per second per API key on a route (repeatable), e.g. `robocall=20`; 0 removes
    /// the limit. Routes: robocall, conversation, status, workflows, requests
    /// [default: conversation=5].
    #[arg(long = "rate-limit", value_name = "ROUTE=N")]
    pub rate_limits: Vec<RouteLimit>,

    /// Weights of call outcomes, e.g. `answered=60,replied=20,failed=10,no_answer=10`;
    /// omitted outcomes weigh 0.
    #[arg(long, value_name = "MIX")]
    pub outcomes: Option<OutcomeMix>,

    #[arg(
        long = "fault",
        value_name = "SPEC",
        help = "A fault rule (repeatable): [ROUTE:]key=value,... with keys error_rate, \
                error_statuses (e.g. 500/503), latency_ms (N or MIN..MAX), drop_connection_rate, \
                drop_response_rate, too_many_requests_rate, too_many_requests_burst, \
                retry_after_secs. Example: robocall:error_rate=0.1,latency_ms=50..200"
    )]
    pub faults: Vec<FaultRule>,

    /// Append every request to FILE as NDJSON (owner-only; credentials redacted).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// Requests kept by the in-memory journal (`GET /__mock/journal`) [default: 10000].
    #[arg(long, value_name = "N")]
    pub journal_capacity: Option<usize>,

    /// Most connections open at once; at the cap the one idle the longest is closed to make
    /// room [default: 256].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Close a connection that sends nothing for this long after it opens or after an answer,
    /// e.g. `90s`, `500ms`, `2m` [default: 120s, longer than clients keep idle connections].
    #[arg(long, value_name = "TIME")]
    pub idle_timeout: Option<Timeout>,

    /// Close a connection whose request line and headers take longer than this to arrive
    /// [default: 10s].
    #[arg(long, value_name = "TIME")]
    pub header_read_timeout: Option<Timeout>,

    /// Answer 408 and close when a request's body takes longer than this to arrive
    /// [default: 30s].
    #[arg(long, value_name = "TIME")]
    pub body_read_timeout: Option<Timeout>,

    /// Serve only what the service's documentation shows: the endpoints the contract assumes
    /// (GET, PATCH and DELETE of workflows, a workflow's requests, GET
    /// /voicebot/v1/requests/{batch_id}) answer 404 as an unknown path does, and callbacks
    /// take the documented form (`response_options_counts` an integer). `/__mock/` stays.
    #[arg(long)]
    pub documented_only: bool,
}

impl MockArgs {
    /// The settings: defaults, then the config file, then the flags.
    pub fn to_config(&self) -> anyhow::Result<MockConfig> {
        let mut config = match &self.config {
            Some(path) => MockConfig::from_file(path)?,
            None => MockConfig::default(),
        };
        if !self.api_keys.is_empty() {
            config.api_keys.clone_from(&self.api_keys);
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(scale) = self.time_scale {
            config.time_scale = scale;
        }
        if let Some(max) = self.max_params {
            config.max_params = max;
        }
        for limit in &self.rate_limits {
            config.rate_limits.insert(limit.route, limit.per_second);
        }
        if let Some(outcomes) = self.outcomes {
            config.outcomes = outcomes;
        }
        config.faults.extend(self.faults.iter().cloned());
        if let Some(journal) = &self.journal {
            config.journal_file = Some(journal.clone());
        }
        if let Some(capacity) = self.journal_capacity {
            config.journal_capacity = capacity;
        }
        if let Some(max) = self.max_connections {
            config.connections.max_connections = max;
        }
        if let Some(timeout) = self.idle_timeout {
            config.connections.idle_timeout_ms = timeout.ms;
        }
        if let Some(timeout) = self.header_read_timeout {
            config.connections.header_read_timeout_ms = timeout.ms;
        }
        if let Some(timeout) = self.body_read_timeout {
            config.connections.body_read_timeout_ms = timeout.ms;
        }
        // A flag can turn it on; a config file's `documented_only: true` stays on without it.
        config.documented_only |= self.documented_only;
        config.validate()?;
        Ok(config)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}

/// Serves until Ctrl-C, SIGTERM or SIGHUP, then stops accepting, lets the requests in flight
/// finish (for a few seconds at most) and returns: a service manager's stop is a clean exit.
pub async fn run(args: MockArgs) -> anyhow::Result<()> {
    let config = args.to_config()?;
    // Listened for before serving, so an early stop is not lost to the default action.
    let stop = stop_signal()?;
    let mock = crate::start(config, args.addr()).await?;
    tracing::info!(url = %mock.url(), "voicebot mock listening on {}", mock.url());
    stop.await?;
    tracing::info!("stopped by a signal; finishing the requests in flight");
    mock.shutdown().await;
    Ok(())
}

#[cfg(unix)]
fn stop_signal() -> anyhow::Result<impl Future<Output = anyhow::Result<()>>> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind).with_context(|| format!("cannot listen for {name}"))
    };
    let mut int = listen(SignalKind::interrupt(), "Ctrl-C")?;
    let mut term = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut hup = listen(SignalKind::hangup(), "SIGHUP")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        Ok(())
    })
}

#[cfg(not(unix))]
fn stop_signal() -> anyhow::Result<impl Future<Output = anyhow::Result<()>>> {
    Ok(async {
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: MockArgs,
    }

    #[test]
    fn flags_override_defaults() {
        let cli = Cli::try_parse_from([
            "voicebot-mock",
            "--port",
            "0",
            "--api-key",
            "a",
            "--api-key",
            "b",
            "--rate-limit",
            "robocall=7",
            "--fault",
            "status:error_rate=1",
            "--outcomes",
            "failed=1",
            "--time-scale",
            "0",
        ])
        .unwrap();
        let config = cli.args.to_config().unwrap();
        assert_eq!(config.api_keys, ["a", "b"]);
        assert_eq!(config.rate_limits[&crate::config::Route::Robocall], 7);
        assert_eq!(config.rate_limits[&crate::config::Route::Conversation], 5);
        assert_eq!(config.faults.len(), 1);
        assert_eq!(config.outcomes.total(), 1);
        assert!(config.time_scale.abs() < f64::EPSILON);
        assert_eq!(config.max_params, 100);
        assert!(!config.documented_only);
        assert!(Cli::try_parse_from(["voicebot-mock", "--rate-limit", "nowhere=1"]).is_err());
        let documented = Cli::try_parse_from(["voicebot-mock", "--documented-only"]).unwrap();
        assert!(documented.args.to_config().unwrap().documented_only);
    }
}
