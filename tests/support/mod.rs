//! Shared by the tests that run `examples/parsing_service.rs` as a real process: building
//! and spawning it, free ports, children killed on drop, HTTP helpers, the messages sent,
//! and parsing the Prometheus exposition.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus_parse::{Scrape, Value};
use reqwest::{Client, StatusCode};

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
/// Starts of a child whose port, free when picked, was taken before it could bind it.
pub const START_ATTEMPTS: usize = 3;
const POLL_INTERVAL: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------------------
// The example binary

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

// ---------------------------------------------------------------------------------------
// Processes

/// A loopback address that was free a moment ago (bound to port 0, then released).
pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free loopback port")
}

/// A child process whose output is collected in the background (a full pipe would block
/// it), and which is killed when dropped, so a failed assertion leaves no process behind.
pub struct ChildProcess {
    name: String,
    child: Child,
    stdout: Captured,
    stderr: Captured,
}

impl ChildProcess {
    pub fn spawn(name: &str, mut command: Command) -> ChildProcess {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdout = Captured::drain(child.stdout.take().expect("piped stdout"));
        let stderr = Captured::drain(child.stderr.take().expect("piped stderr"));
        ChildProcess {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.try_wait().expect("try_wait");
        if status.is_some() {
            // The pipes close at exit: wait for the last of the output.
            self.stdout.finish();
            self.stderr.finish();
        }
        status
    }

    /// Waits up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.text()
    }

    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Both outputs, for failure messages.
    pub fn output(&self) -> String {
        format!(
            "--- {} stdout ---\n{}--- {} stderr ---\n{}",
            self.name,
            self.stdout(),
            self.name,
            self.stderr()
        )
    }

    /// Whether it exited because an address it had to bind was taken (the `EADDRINUSE`
    /// message on Linux and macOS, from Rust and from Go alike).
    pub fn port_clash(&self) -> bool {
        self.output().to_lowercase().contains("already in use")
    }

    /// Kills the process at once (no graceful shutdown) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop, as `docker stop` or Kubernetes would.
    #[cfg(unix)]
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.id());
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One output stream of a child, read to its end on a thread.
struct Captured {
    text: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Captured {
    fn drain(mut stream: impl Read + Send + 'static) -> Captured {
        let text = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&text);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Captured {
            text,
            reader: Some(reader),
        }
    }

    fn finish(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }

    fn text(&self) -> String {
        self.text.lock().unwrap().clone()
    }
}

/// The example service, running as a child process.
pub struct Service {
    pub process: ChildProcess,
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
}

impl Service {
    /// Starts an instance on free ports and waits until it is healthy.
    ///
    /// A port free when picked can be taken before the child binds it (tests run in
    /// parallel, and outgoing connections take ports too); the child then exits saying
    /// so, and is started again on other ports.
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
        let mut attempt = 1;
        loop {
            let mut service = Service::spawn_with(free_addr(), free_addr(), env, nofile);
            match service.wait_healthy(client).await {
                Ok(()) => return service,
                Err(_) if attempt < START_ATTEMPTS && service.process.port_clash() => {
                    attempt += 1;
                }
                Err(status) => panic!(
                    "the example exited ({status}) before it was healthy\n{}",
                    service.process.output()
                ),
            }
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
        // The body too: a clash with another HTTP server on the port would look healthy
        // on the status alone.
        let url = self.url("/health");
        wait_for(client, &url, &mut self.process, STARTUP_TIMEOUT, |body| {
            body == "ok"
        })
        .await
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

// ---------------------------------------------------------------------------------------
// HTTP

/// A client that never goes through a proxy from the environment (the tests only talk to
/// loopback) and never waits long for a wedged server.
pub fn http_client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("build HTTP client")
}

/// Polls `url` until it answers 200 with a body `ready` accepts; `Err` with the exit
/// status if `process` exits first. Fails after `timeout`.
pub async fn wait_for(
    client: &Client,
    url: &str,
    process: &mut ChildProcess,
    timeout: Duration,
    ready: impl Fn(&str) -> bool,
) -> Result<(), ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = process.exited() {
            return Err(status);
        }
        if let Ok(response) = client.get(url).send().await
            && response.status() == StatusCode::OK
            && response.text().await.is_ok_and(|body| ready(body.trim()))
        {
            return Ok(());
        }
        assert!(
            Instant::now() < deadline,
            "{url} not ready after {timeout:?}\n{}",
            process.output()
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The body of a `GET` that must answer 200.
pub async fn get_text(client: &Client, url: &str) -> String {
    let response = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(response.status(), StatusCode::OK, "GET {url}");
    response
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

// ---------------------------------------------------------------------------------------
// Messages

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

// ---------------------------------------------------------------------------------------
// The exposition

pub fn parse_exposition(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("parse the exposition")
}

/// The values of `metric` keyed by the values of the labels `keys`, e.g.
/// `["decode", "success"] => 10.0` for `keys = ["operation", "outcome"]`. Fails on a
/// series without one of the labels, on two series with the same key, and on histograms
/// (use `<name>_count`).
pub fn values_by(scrape: &Scrape, metric: &str, keys: &[&str]) -> BTreeMap<Vec<String>, f64> {
    let mut values = BTreeMap::new();
    for sample in scrape.samples.iter().filter(|s| s.metric == metric) {
        let key: Vec<String> = keys
            .iter()
            .map(|k| {
                sample
                    .labels
                    .get(k)
                    .unwrap_or_else(|| panic!("{metric}{{{}}} has no `{k}`", sample.labels))
                    .to_owned()
            })
            .collect();
        let value = match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            ref other => panic!("{metric}: expected a single value, got {other:?}"),
        };
        let previous = values.insert(key.clone(), value);
        assert!(previous.is_none(), "{metric}: two series for {key:?}");
    }
    values
}

/// An expected [`values_by`] result, written as `(&["decode", "success"], 10.0)` pairs.
pub fn expected(entries: &[(&[&str], f64)]) -> BTreeMap<Vec<String>, f64> {
    entries
        .iter()
        .map(|(key, value)| (key.iter().map(|s| (*s).to_owned()).collect(), *value))
        .collect()
}

// ---------------------------------------------------------------------------------------
// External tools

/// `program` on `PATH`, if it is there.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `program` on `PATH`; if it is missing, `None` after a loud SKIPPED line, or a failure
/// when `OBSERVE_REQUIRE_PROMETHEUS=1` (CI jobs that must not skip silently).
pub fn tool_or_skip(program: &str) -> Option<PathBuf> {
    if let Some(path) = find_on_path(program) {
        return Some(path);
    }
    let required = std::env::var("OBSERVE_REQUIRE_PROMETHEUS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{program} is not on PATH, and OBSERVE_REQUIRE_PROMETHEUS=1 requires it"
    );
    // Written to the process's stderr, not through `eprintln!`, which the test harness
    // captures and hides for passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!! SKIPPED: {program} not installed (set OBSERVE_REQUIRE_PROMETHEUS=1 to make this a failure) !!!!!\n"
    );
    None
}

/// `promtool check metrics` must accept the exposition without a single lint.
pub fn promtool_check(exposition: &str) {
    let Some(promtool) = tool_or_skip("promtool") else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(exposition.as_bytes())
        .expect("write to promtool");
    let output = child.wait_with_output().expect("run promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.trim().is_empty(),
        "promtool check metrics: {}\n{report}\n--- exposition ---\n{exposition}",
        output.status
    );
}

/// A fresh directory under the system's temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The queue the `n`th message of a kind comes from: two declared queues, and one the
/// convention does not know, which the service records as `_OTHER`.
pub fn queue(n: usize) -> &'static str {
    ["parsing", "chunking", "mystery"][n % 3]
}
