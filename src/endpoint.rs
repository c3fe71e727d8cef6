//! A [`Target`] made reachable: its base URL, its name in messages, and, for `--mock`, the
//! bundled mock started in-process and kept alive. This is the one place outside the
//! `mock-server` command that uses the mock crate.

use crate::settings::target::Target;

/// A target ready for requests.
pub struct Endpoint {
    /// The base URL, without a trailing `/`.
    pub base: String,
    /// How messages name it.
    pub name: String,
    mock: Option<InProcessMock>,
}

impl Endpoint {
    /// Starts the bundled mock for [`Target::Mock`]; other targets are only named.
    pub async fn open(target: &Target) -> anyhow::Result<Self> {
        Ok(match target {
            Target::Mock => {
                let mock = InProcessMock::start().await?;
                Endpoint {
                    base: mock.url(),
                    name: "the bundled mock".to_owned(),
                    mock: Some(mock),
                }
            }
            Target::Url(u) => Endpoint {
                base: u.as_str().to_owned(),
                name: u.as_str().to_owned(),
                mock: None,
            },
            Target::RunningMock(u) => Endpoint {
                base: u.trim_end_matches('/').to_owned(),
                name: "the watch session's mock".to_owned(),
                mock: None,
            },
        })
    }

    /// Stops the mock this endpoint started, if any.
    pub async fn close(self) {
        if let Some(m) = self.mock {
            m.shutdown().await;
        }
    }
}

/// The bundled mock, running in this process on a free loopback port.
pub struct InProcessMock(mock_server::RunningMock);

impl InProcessMock {
    /// Starts it with the contract's defaults.
    pub async fn start() -> anyhow::Result<Self> {
        let running = mock_server::start(
            mock_server::MockConfig::default(),
            ([127, 0, 0, 1], 0).into(),
        )
        .await?;
        Ok(InProcessMock(running))
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// Stops it.
    pub async fn shutdown(self) {
        self.0.shutdown().await;
    }
}
