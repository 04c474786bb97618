//! `examples/parsing_service.rs` as a real process: building and spawning it, the
//! metric names it exports, and the messages the tests send it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::{Client, StatusCode};

use super::process::{ChildProcess, free_addr, get_text, start_until_ready, wait_for};

pub const EXAMPLE: &str = "parsing_service";
/// `OBSERVE_ENVIRONMENT` of every instance the tests start.
pub const ENVIRONMENT: &str = "ci";
pub const SERVICE: &str = "parsing";

pub const PROCESSED: &str = "copilot_parsing_messages_processed_total";
pub const FAILURES: &str = "copilot_parsing_failures_total";
pub const DURATION: &str = "copilot_parsing_duration_seconds";
pub const DURATION_COUNT: &str = "copilot_parsing_duration_seconds_count";
pub const ACTIVE: &str = "copilot_parsing_active_workers_current";

/// The example's body limit (`MAX_BODY_BYTES`).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The example's executable, built once per test process.
///
/// `cargo test` builds examples only when no target is selected, so
/// `cargo test --test example_service` would find a missing or stale binary: build it
/// here, in the profile this test was built with, and take its path from cargo.
pub fn example_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_example)
}

fn build_example() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--quiet", "--example", EXAMPLE])
        .args(["--profile", &current_profile()])
        .arg("--message-format=json-render-diagnostics")
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot run cargo to build the example");
    assert!(
        output.status.success(),
        "`cargo build --example {EXAMPLE}` failed"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == EXAMPLE)
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reported no executable for example `{EXAMPLE}`"))
}

/// The cargo profile of this test executable: `target/<dir>/deps/<test>-<hash>`, where
/// `<dir>` is `debug` for the `dev` profile and the profile's name otherwise.
fn current_profile() -> String {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .expect("test executable under target/<profile>/deps");
    match dir {
        "debug" => "dev".to_owned(),
        other => other.to_owned(),
    }
}

/// The example service, running as a child process.
pub struct Service {
    pub process: ChildProcess,
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
}

impl Service {
    /// Starts an instance on free ports and waits until it is healthy (started again on
    /// other ports if one was taken meanwhile).
    pub async fn start(client: &Client) -> Service {
        Service::start_with(client, &[]).await
    }

    /// Starts an instance with extra environment variables.
    pub async fn start_with(client: &Client, env: &[(&str, String)]) -> Service {
        Service::start_limited(client, env, None).await
    }

    /// Starts an instance with extra environment variables and, if `nofile`, that limit
    /// on its open file descriptors (`ulimit -n`).
    pub async fn start_limited(
        client: &Client,
        env: &[(&str, String)],
        nofile: Option<u32>,
    ) -> Service {
        let spawn = |_attempt| {
            let Service {
                process,
                addr,
                metrics_addr,
            } = Service::spawn_with(free_addr(), free_addr(), env, nofile);
            (process, health_url(addr), (addr, metrics_addr))
        };
        let (process, (addr, metrics_addr)) =
            start_until_ready(client, STARTUP_TIMEOUT, spawn, is_healthy).await;
        Service {
            process,
            addr,
            metrics_addr,
        }
    }

    /// Starts an instance without waiting for it.
    pub fn spawn(addr: SocketAddr, metrics_addr: SocketAddr) -> Service {
        Service::spawn_with(addr, metrics_addr, &[], None)
    }

    fn spawn_with(
        addr: SocketAddr,
        metrics_addr: SocketAddr,
        env: &[(&str, String)],
        nofile: Option<u32>,
    ) -> Service {
        let mut command = match nofile {
            Some(limit) => {
                let mut shell = Command::new("sh");
                shell
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\""))
                    .arg(example_binary());
                shell
            }
            None => Command::new(example_binary()),
        };
        command
            .env("PARSING_ADDR", addr.to_string())
            .env("OBSERVE_METRICS_ADDR", metrics_addr.to_string())
            .env("OBSERVE_ENVIRONMENT", ENVIRONMENT)
            .envs(env.iter().map(|(k, v)| (k, v)));
        Service {
            process: ChildProcess::spawn(EXAMPLE, command),
            addr,
            metrics_addr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics_addr)
    }

    /// Waits until `GET /health` answers `ok`, or the process exits (`Err`).
    pub async fn wait_healthy(&mut self, client: &Client) -> Result<(), ExitStatus> {
        let url = health_url(self.addr);
        wait_for(client, &url, &mut self.process, STARTUP_TIMEOUT, is_healthy).await
    }

    /// Sends one message of `kind` from `queue(n)` and checks the response matches it.
    pub async fn send(&self, client: &Client, kind: Kind, n: usize) {
        let response = client
            .post(self.url("/parse"))
            .header("x-queue", queue(n))
            .body(kind.body(n))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /parse ({kind:?}): {e}\n{}", self.process.output()));
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_else(|e| {
            panic!(
                "POST /parse ({kind:?}): not JSON: {e}\n{}",
                self.process.output()
            )
        });
        match kind.error_type() {
            None => {
                assert_eq!(status, StatusCode::OK, "{kind:?}: {body}");
                assert_eq!(body["id"], format!("good-{n}"), "{body}");
                assert_eq!(body["words"], 3, "{body}");
            }
            Some(error_type) => {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{kind:?}: {body}");
                assert_eq!(body["error"], error_type, "{body}");
            }
        }
    }

    /// The current exposition from `/metrics`.
    pub async fn scrape(&self, client: &Client) -> String {
        get_text(client, &self.metrics_url()).await
    }
}

fn health_url(addr: SocketAddr) -> String {
    format!("http://{addr}/health")
}

/// The body too: a clash with another HTTP server on the port would look healthy on the
/// status alone.
fn is_healthy(body: &str) -> bool {
    body == "ok"
}

/// The kinds of message the tests send, and how the example must answer each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Good,
    InvalidJson,
    EmptyBody,
    TooLarge,
}

impl Kind {
    /// The `n`th message of this kind; bad kinds vary their shape with `n`.
    pub fn body(self, n: usize) -> String {
        match self {
            Kind::Good => {
                format!(r#"{{"id": "good-{n}", "source": "Email", "body": "hello world {n}"}}"#)
            }
            Kind::InvalidJson => match n % 3 {
                0 => format!(r#"{{"id": "broken-{n}", "body": "#),
                1 => "not json at all".to_owned(),
                // Valid JSON, but no `id`: not a message either.
                _ => r#"{"source": "email", "body": "no id"}"#.to_owned(),
            },
            Kind::EmptyBody => match n % 2 {
                0 => format!(r#"{{"id": "empty-{n}", "source": "email", "body": "   "}}"#),
                _ => format!(r#"{{"id": "empty-{n}", "source": "email"}}"#),
            },
            Kind::TooLarge => {
                let body = "x".repeat(MAX_BODY_BYTES + 1);
                format!(r#"{{"id": "large-{n}", "source": "email", "body": "{body}"}}"#)
            }
        }
    }

    /// The `error` of the 400 response, `None` for a good message.
    pub fn error_type(self) -> Option<&'static str> {
        match self {
            Kind::Good => None,
            Kind::InvalidJson => Some("InvalidJson"),
            Kind::EmptyBody => Some("EmptyBody"),
            Kind::TooLarge => Some("TooLarge"),
        }
    }
}

/// The queue the `n`th message of a kind comes from: two declared queues, and one the
/// convention does not know, which the service records as `_OTHER`.
pub fn queue(n: usize) -> &'static str {
    ["parsing", "chunking", "mystery"][n % 3]
}
