//! The `/metrics` listener: hyper's HTTP/1.1 (keep-alive as Prometheus uses it), with the
//! limits that keep a hostile or broken client from hurting the service around it:
//!
//! - at most [`Limits::max_connections`] connections: past it, the least recently active
//!   connection that is not inside a request is closed to make room (else the new one is
//!   refused), so idle connections cannot exhaust the process's file descriptors and a
//!   scraper still gets in;
//! - a request head must arrive whole within [`Limits::header_timeout`] (this also bounds
//!   how long a kept-alive connection may wait idle), and be at most [`Limits::max_head`]
//!   bytes (else 431);
//! - a connection that makes no progress either way for [`Limits::idle_timeout`] (a client
//!   that stops reading its response) is closed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::auth::MetricsAuth;
use super::render::Format;
use super::render_cache::{RENDER_SPACING, RenderCache};
use super::response::respond;
use crate::error::Error;
use crate::warn_limit::WarnLimit;

/// The listener's limits.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) header_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_head: usize,
    pub(crate) render_spacing: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(10),
            max_head: 16 * 1024,
            render_spacing: RENDER_SPACING,
        }
    }
}

/// Binds the `/metrics` address, ready for the exporter thread's runtime.
pub(crate) fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, Error> {
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| Error::MetricsListener { addr, source })?;
    Ok(listener)
}

/// Accepts connections until the runtime stops.
pub(crate) async fn serve(
    listener: TcpListener,
    limits: Limits,
    auth: MetricsAuth,
    render: fn(Format) -> String,
) {
    let server = Arc::new(Server {
        cache: RenderCache::new(render, limits.render_spacing),
        auth: Arc::new(auth),
        table: Table::default(),
        epoch: Instant::now(),
        limits,
    });
    let accept_failures = WarnLimit::new("observe: cannot accept a /metrics connection");
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                if let Some(connection) = server.admit() {
                    tokio::spawn(server.clone().connection(stream, connection));
                }
                // Else `stream` is dropped here: refused, its descriptor freed at once.
            }
            Err(error) => {
                // Out of file descriptors, say: back off rather than spin.
                accept_failures.failed(1, &error);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

struct Server {
    cache: RenderCache,
    auth: Arc<MetricsAuth>,
    table: Table,
    /// Activity times are milliseconds since this.
    epoch: Instant,
    limits: Limits,
}

/// The open connections, for the cap.
#[derive(Default)]
struct Table {
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    next_id: AtomicU64,
}

/// What the listener knows of one open connection.
struct Connection {
    id: u64,
    /// Milliseconds since the server's epoch at the last byte read or written.
    last_active: AtomicU64,
    /// Inside a request: from its head to its response.
    in_request: AtomicBool,
    /// Told to close (to make room for a newer connection).
    evict: Notify,
}

impl Server {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Registers a new connection, closing the least recently active idle one if the cap
    /// is reached; `None` if every open connection is inside a request.
    fn admit(&self) -> Option<Arc<Connection>> {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= self.limits.max_connections {
            let oldest = open
                .values()
                .filter(|c| !c.in_request.load(Ordering::Acquire))
                .min_by_key(|c| c.last_active.load(Ordering::Relaxed))
                .map(|c| c.id)?;
            if let Some(evicted) = open.remove(&oldest) {
                evicted.evict.notify_one();
            }
        }
        let connection = Arc::new(Connection {
            id: self.table.next_id.fetch_add(1, Ordering::Relaxed),
            last_active: AtomicU64::new(self.now_ms()),
            in_request: AtomicBool::new(false),
            evict: Notify::new(),
        });
        open.insert(connection.id, connection.clone());
        Some(connection)
    }

    fn forget(&self, connection: &Connection) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&connection.id);
    }

    async fn connection(self: Arc<Self>, stream: TcpStream, connection: Arc<Connection>) {
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Tracked {
            stream: Some(stream),
            connection: connection.clone(),
            server: self.clone(),
        });
        let service = {
            let server = self.clone();
            let connection = connection.clone();
            hyper::service::service_fn(move |request| {
                let server = server.clone();
                let connection = connection.clone();
                async move {
                    connection.in_request.store(true, Ordering::Release);
                    let arrived = Instant::now();
                    let response = respond(request, &server.cache, &server.auth, arrived).await;
                    connection.in_request.store(false, Ordering::Release);
                    Ok::<_, std::convert::Infallible>(response)
                }
            })
        };
        let serving = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_timeout)
            .max_buf_size(self.limits.max_head.max(8192))
            .max_header_size(self.limits.max_head)
            .keep_alive(true)
            // A client that shuts its side after the request still gets the answer.
            .half_close(true)
            .serve_connection(io, service);
        tokio::pin!(serving);
        loop {
            let mut stalled_at = self.stalled_at(&connection);
            if connection.in_request.load(Ordering::Acquire) {
                // Waiting for a render is not stalling; look again in a second.
                stalled_at = stalled_at.max(Instant::now() + Duration::from_secs(1));
            }
            tokio::select! {
                _ = serving.as_mut() => break,
                () = connection.evict.notified() => break,
                () = tokio::time::sleep_until(stalled_at) => {
                    if self.stalled_at(&connection) <= Instant::now()
                        && !connection.in_request.load(Ordering::Acquire)
                    {
                        break;
                    }
                }
            }
        }
        self.forget(&connection);
    }

    /// When the connection counts as stalled if nothing moves before.
    fn stalled_at(&self, connection: &Connection) -> Instant {
        let last = Duration::from_millis(connection.last_active.load(Ordering::Relaxed));
        self.epoch + last + self.limits.idle_timeout
    }
}

/// The connection's stream, noting when bytes move.
struct Tracked {
    stream: Option<TcpStream>,
    connection: Arc<Connection>,
    server: Arc<Server>,
}

/// At most this many closed connections linger at once (each holds a descriptor).
const LINGERING: usize = 64;
/// How long a closed connection's unread input is drained.
const LINGER: Duration = Duration::from_secs(1);
static LINGER_PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(LINGERING);

impl Drop for Tracked {
    /// A lingering close, as web servers do: closing a socket with unread input makes the
    /// kernel send a reset, which can destroy the response (a 431 for an oversized head)
    /// before the client reads it. So the write side is shut and the input drained for a
    /// moment first, when a permit allows it.
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return;
        };
        let Ok(permit) = LINGER_PERMITS.try_acquire() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _permit = permit;
                linger(stream).await;
            });
        }
    }
}

async fn linger(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let _ = stream.shutdown().await;
    let drain = async {
        let mut sink = [0u8; 4096];
        let mut left = 1usize << 20;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

impl Tracked {
    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.stream.as_mut().expect("taken only on drop"))
    }

    fn touch(&self) {
        self.connection
            .last_active
            .store(self.server.now_ms(), Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = this.stream().poll_read(cx, buf);
        if buf.filled().len() > before {
            this.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = this.stream().poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = this.stream().poll_write_vectored(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream
            .as_ref()
            .is_some_and(TcpStream::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.get_mut().stream().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.get_mut().stream().poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;
    use crate::serve::auth::parse_token;

    fn get(addr: std::net::SocketAddr, authorization: Option<&str>) -> String {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn a_bearer_token_is_required_when_configured() {
        let io = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = io.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let auth = parse_token("s3cret-token\n").unwrap();
        io.spawn(serve(listener, Limits::default(), auth, |_| {
            "up 1\n".to_owned()
        }));

        let refused = get(addr, None);
        assert!(refused.starts_with("HTTP/1.1 401 "), "{refused}");
        assert!(
            refused.contains("www-authenticate: Bearer realm=\"metrics\""),
            "{refused}"
        );
        assert!(!refused.contains("up 1"), "{refused}");
        let wrong = get(addr, Some("Bearer s3cret"));
        assert!(wrong.starts_with("HTTP/1.1 401 "), "{wrong}");
        let allowed = get(addr, Some("Bearer s3cret-token"));
        assert!(allowed.starts_with("HTTP/1.1 200 "), "{allowed}");
        assert!(allowed.ends_with("\r\n\r\nup 1\n"), "{allowed}");
        io.shutdown_background();
    }
}
