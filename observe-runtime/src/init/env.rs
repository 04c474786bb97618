//! The runtime's configuration from the environment: `OBSERVE_*` variables here, the
//! standard `OTEL_*` ones in `traces::otlp`.

use std::net::SocketAddr;

use super::Builder;
use crate::error::Error;
use crate::logs::LogFormat;
use crate::serve::auth::AuthSource;
#[cfg(feature = "pushgateway")]
use crate::serve::push::PushConfig;

impl Builder {
    /// The defaults, overridden by `OBSERVE_ENVIRONMENT` and `OBSERVE_METRICS_ADDR`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// // OBSERVE_ENVIRONMENT=prod OBSERVE_METRICS_ADDR=0.0.0.0:9464, then code on top:
    /// let _guard = observe::Builder::from_env()?.service_version("1.4.2").init()?;
    /// # Ok(()) }
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        let mut builder = super::builder();
        if let Some(value) = env_var("OBSERVE_ENVIRONMENT") {
            builder.environment = parse_environment(&value)?;
        }
        if let Some(value) = env_var("OBSERVE_METRICS_ADDR") {
            builder.metrics_addr = parse_metrics_addr(&value)?;
        }
        builder.metrics_auth = auth_from_env()?;
        if let Some(value) = env_var("OBSERVE_LOG_FORMAT") {
            builder.log_format = Some(LogFormat::parse(&value).ok_or(Error::InvalidEnv {
                var: "OBSERVE_LOG_FORMAT",
                value,
                reason: "expected `json` or `pretty`",
            })?);
        }
        builder.compiled_out = super::compiled_out::requested(env_var);
        #[cfg(feature = "pushgateway")]
        if let Some(url) = env_var("OBSERVE_PUSHGATEWAY_URL") {
            let mut push = PushConfig::new(url);
            push.job = env_var("OBSERVE_PUSHGATEWAY_JOB");
            if let Some(value) = env_var("OBSERVE_PUSH_INTERVAL") {
                push.interval = PushConfig::parse_interval(&value)?;
            }
            builder.push = Some(push);
        }
        builder
            .otel
            .read_env(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))?;
        Ok(builder)
    }
}

fn env_var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `RUST_LOG`, if set, must parse: a filter that silently logs nothing (or everything)
/// is worse than an error at start-up.
pub(super) fn check_log_filter() -> Result<(), Error> {
    match std::env::var("RUST_LOG") {
        Ok(value) => parse_log_filter(&value),
        Err(_) => Ok(()),
    }
}

pub(super) fn parse_log_filter(value: &str) -> Result<(), Error> {
    if crate::logs::is_valid_filter(value) {
        return Ok(());
    }
    Err(Error::InvalidEnv {
        var: "RUST_LOG",
        value: value.to_owned(),
        reason: "expected an ASCII filter such as `info` or `warn,my_crate=debug`",
    })
}

/// The credentials `/metrics` requires, from `OBSERVE_METRICS_BASIC_AUTH_FILE` or
/// `OBSERVE_METRICS_BEARER_TOKEN_FILE` (not both).
fn auth_from_env() -> Result<Option<AuthSource>, Error> {
    let basic = env_var("OBSERVE_METRICS_BASIC_AUTH_FILE");
    let bearer = env_var("OBSERVE_METRICS_BEARER_TOKEN_FILE");
    match (basic, bearer) {
        (Some(_), Some(value)) => Err(Error::InvalidEnv {
            var: "OBSERVE_METRICS_BEARER_TOKEN_FILE",
            value,
            reason: "set either OBSERVE_METRICS_BASIC_AUTH_FILE or OBSERVE_METRICS_BEARER_TOKEN_FILE, not both",
        }),
        (Some(path), None) => Ok(Some(AuthSource::BasicFile(path.into()))),
        (None, Some(path)) => Ok(Some(AuthSource::BearerFile(path.into()))),
        (None, None) => Ok(None),
    }
}

pub(super) fn parse_environment(value: &str) -> Result<String, Error> {
    let valid = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(Error::InvalidEnv {
            var: "OBSERVE_ENVIRONMENT",
            value: value.to_owned(),
            reason: "expected a short name such as `dev`, `staging` or `prod` (letters, digits, `_`, `-`)",
        })
    }
}

pub(super) fn parse_metrics_addr(value: &str) -> Result<Option<SocketAddr>, Error> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value
        .trim()
        .parse()
        .map(Some)
        .map_err(|_| Error::InvalidEnv {
            var: "OBSERVE_METRICS_ADDR",
            value: value.to_owned(),
            reason: "expected `host:port` such as `127.0.0.1:9464`, or `off`",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_addr_accepts_off_and_socket_addresses() {
        assert_eq!(parse_metrics_addr("off").unwrap(), None);
        assert_eq!(parse_metrics_addr("OFF").unwrap(), None);
        assert_eq!(
            parse_metrics_addr("127.0.0.1:9000").unwrap(),
            Some("127.0.0.1:9000".parse().unwrap())
        );
        let err = parse_metrics_addr("localhost").unwrap_err().to_string();
        assert!(err.contains("OBSERVE_METRICS_ADDR"), "{err}");
    }

    #[test]
    fn environment_must_be_a_short_name() {
        assert_eq!(parse_environment("prod").unwrap(), "prod");
        assert!(parse_environment("prod env").is_err());
    }
}
