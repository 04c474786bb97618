//! Child processes the tests start (the example service, Prometheus, a Pushgateway): free
//! loopback ports, output captured, killed on drop, started again when a port was taken
//! meanwhile, polled over HTTP until ready; and temporary directories.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};

/// Starts of a child whose port, free when picked, was taken before it could bind it.
pub const START_ATTEMPTS: usize = 3;
const POLL_INTERVAL: Duration = Duration::from_millis(50);

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

/// Starts a server on free loopback ports and waits until `url` answers 200 with a body
/// `ready` accepts; `spawn(attempt)` starts one and returns it, its readiness URL and what
/// the caller keeps (its addresses).
///
/// A port free when picked can be taken before the child binds it (tests run in parallel,
/// and outgoing connections take ports too); the child then exits saying so, and is
/// started again on other ports, up to `START_ATTEMPTS` times.
pub async fn start_until_ready<T>(
    client: &Client,
    timeout: Duration,
    mut spawn: impl FnMut(usize) -> (ChildProcess, String, T),
    ready: impl Fn(&str) -> bool,
) -> (ChildProcess, T) {
    let mut attempt = 1;
    loop {
        let (mut process, url, started) = spawn(attempt);
        match wait_for(client, &url, &mut process, timeout, &ready).await {
            Ok(()) => return (process, started),
            Err(_) if attempt < START_ATTEMPTS && process.port_clash() => attempt += 1,
            Err(status) => panic!(
                "{} exited ({status}) before it was ready\n{}",
                process.name,
                process.output()
            ),
        }
    }
}
