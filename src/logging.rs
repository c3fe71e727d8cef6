//! Logs go to stderr through `tracing`; `RUST_LOG` sets the level (default: warnings and
//! errors, plus this tool's own info lines).

use tracing_subscriber::EnvFilter;

/// Installs the stderr logger once.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,outreach=info,mock_server=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
