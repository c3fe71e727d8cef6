//! Logs go to stderr through `tracing`; `RUST_LOG` sets the level (default: warnings and
//! errors, plus this tool's own info lines).

use tracing_subscriber::EnvFilter;

/// Installs the stderr logger once. `serving` also logs the mock's requests (for `outreach
/// mock-server`); an in-process mock under `apply --mock` stays quiet.
pub fn init(serving: bool) {
    let default = if serving {
        "warn,outreach=info,mock_server=info"
    } else {
        "warn,outreach=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
