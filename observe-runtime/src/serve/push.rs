//! Pushing the exposition to a Prometheus Pushgateway, for batch jobs that end before
//! anything scrapes them: on an interval, and once more when the guard is dropped.

use std::sync::mpsc::SyncSender;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::push_client::PushClient;
use crate::error::Error;
use crate::warn_limit::WarnLimit;

/// How often the exposition is pushed unless configured.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// The shortest push interval, from the environment as from the builder: below it,
/// pushes would follow each other as fast as the Pushgateway answers.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// One push's deadline; the final push waits at most this long too.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where to push: `<url>/metrics/job/<job>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PushConfig {
    pub(crate) url: String,
    /// `None`: the service name.
    pub(crate) job: Option<String>,
    pub(crate) interval: Duration,
}

impl PushConfig {
    pub(crate) fn new(url: String) -> Self {
        PushConfig {
            url,
            job: None,
            interval: DEFAULT_INTERVAL,
        }
    }

    /// `OBSERVE_PUSH_INTERVAL`'s value, such as `10s`: at least [`MIN_INTERVAL`].
    pub(crate) fn parse_interval(value: &str) -> Result<Duration, Error> {
        humantime::parse_duration(value.trim())
            .ok()
            .filter(|interval| *interval >= MIN_INTERVAL)
            .ok_or_else(|| Error::InvalidEnv {
                var: "OBSERVE_PUSH_INTERVAL",
                value: value.to_owned(),
                reason: "expected a duration of at least 100ms, such as `10s` or `500ms`",
            })
    }

    /// The interval set in code, checked against the same floor.
    pub(crate) fn check_interval(&self) -> Result<(), Error> {
        if self.interval >= MIN_INTERVAL {
            return Ok(());
        }
        Err(Error::InvalidSetting {
            setting: "Builder::push_interval",
            value: format!("{:?}", self.interval),
            reason: "expected at least 100ms (OBSERVE_PUSH_INTERVAL has the same floor)",
        })
    }

    /// The push URL for `job`, checked: plain `http` (no TLS stack is linked) and a job
    /// name that needs no escaping.
    pub(crate) fn target(&self, default_job: &str) -> Result<String, Error> {
        let job = self.job.as_deref().unwrap_or(default_job);
        let url = self.url.trim_end_matches('/');
        let valid_url = url
            .parse::<http::Uri>()
            .is_ok_and(|uri| uri.scheme_str() == Some("http") && uri.host().is_some());
        if !valid_url {
            return Err(Error::InvalidEnv {
                var: "OBSERVE_PUSHGATEWAY_URL",
                value: self.url.clone(),
                reason: "expected an http URL such as `http://127.0.0.1:9091` (https is not supported)",
            });
        }
        let valid_job = !job.is_empty()
            && job
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid_job {
            return Err(Error::InvalidEnv {
                var: "OBSERVE_PUSHGATEWAY_JOB",
                value: job.to_owned(),
                reason: "expected a job name of letters, digits, `_`, `-` or `.`",
            });
        }
        Ok(format!("{url}/metrics/job/{job}"))
    }
}

/// The running pusher; [`Pusher::shutdown`] pushes one last time.
#[derive(Debug)]
pub(crate) struct Pusher {
    finish: mpsc::UnboundedSender<SyncSender<()>>,
}

impl Pusher {
    /// Spawns the push loop on `io`, pushing `render()` to `target` every `interval`.
    pub(crate) fn start(
        target: String,
        interval: Duration,
        render: fn() -> Option<String>,
        io: &tokio::runtime::Handle,
    ) -> Self {
        let (finish, finish_rx) = mpsc::unbounded_channel();
        let _entered = io.enter();
        let client = PushClient;
        io.spawn(push_loop(client, target, interval, render, finish_rx));
        Pusher { finish }
    }

    /// Pushes the final exposition, waiting for it at most the push timeout.
    pub(crate) fn shutdown(&self) {
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        if self.finish.send(done).is_ok() && wait.recv_timeout(PUSH_TIMEOUT).is_err() {
            eprintln!("observe: the final push to the Pushgateway did not finish in time");
        }
    }
}

async fn push_loop(
    client: PushClient,
    target: String,
    interval: Duration,
    render: fn() -> Option<String>,
    mut finish: mpsc::UnboundedReceiver<SyncSender<()>>,
) {
    let failures = WarnLimit::new(format!(
        "observe: cannot push to the Pushgateway at {target}"
    ));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => push(&client, &target, render, &failures).await,
            done = finish.recv() => {
                push(&client, &target, render, &failures).await;
                if let Some(done) = done {
                    let _ = done.send(());
                }
                return;
            }
        }
    }
}

/// One `PUT` of the whole exposition (replacing the job's previous push). A failure is
/// logged (rate-limited) and the next push tries again.
async fn push(
    client: &PushClient,
    target: &str,
    render: fn() -> Option<String>,
    failures: &WarnLimit,
) {
    let Some(exposition) = render() else {
        return;
    };
    let request = http::Request::put(target)
        .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")
        .body(Bytes::from(exposition));
    let result = match request {
        Ok(request) => tokio::time::timeout(PUSH_TIMEOUT, client.send_bytes(request))
            .await
            .unwrap_or_else(|_| Err("timed out".to_owned())),
        Err(error) => Err(error.to_string()),
    };
    match result {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => failures.failed(
            1,
            &format_args!(
                "refused ({}): {}",
                response.status(),
                String::from_utf8_lossy(response.body()).trim()
            ),
        ),
        Err(error) => failures.failed(1, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_the_job_url() {
        let config = PushConfig::new("http://127.0.0.1:9091/".into());
        assert_eq!(
            config.target("parsing").unwrap(),
            "http://127.0.0.1:9091/metrics/job/parsing"
        );
    }

    #[test]
    fn intervals_have_one_floor_from_the_environment_and_from_code() {
        assert_eq!(
            PushConfig::parse_interval(" 10s ").unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(PushConfig::parse_interval("100ms").unwrap(), MIN_INTERVAL);
        for value in ["1ns", "99ms", "0s", "ten seconds", ""] {
            let error = PushConfig::parse_interval(value).unwrap_err().to_string();
            assert!(error.contains("OBSERVE_PUSH_INTERVAL"), "{error}");
        }
        let mut config = PushConfig::new("http://gw:9091".into());
        config.interval = Duration::from_nanos(1);
        let error = config.check_interval().unwrap_err().to_string();
        assert!(error.contains("Builder::push_interval(1ns)"), "{error}");
        config.interval = MIN_INTERVAL;
        config.check_interval().unwrap();
    }

    #[test]
    fn bad_urls_and_jobs_are_errors() {
        for url in ["https://gw:9091", "127.0.0.1:9091", "not a url"] {
            let error = PushConfig::new(url.into()).target("parsing").unwrap_err();
            assert!(
                error.to_string().contains("OBSERVE_PUSHGATEWAY_URL"),
                "{error}"
            );
        }
        let error = PushConfig::new("http://gw:9091".into())
            .target("a/b")
            .unwrap_err();
        assert!(
            error.to_string().contains("OBSERVE_PUSHGATEWAY_JOB"),
            "{error}"
        );
    }
}
