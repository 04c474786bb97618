//! Optional protection of `/metrics` when it is bound beyond loopback, in the style of the
//! Prometheus exporters' web configuration: HTTP basic auth checked against bcrypt hashes
//! (an `htpasswd -B` file: `user:$2y$…` lines), or a bearer token read from a file.
//!
//! bcrypt is slow on purpose (tens of ms at cost 10), so a scraper's credentials, once
//! verified, are remembered (compared in constant time), and verifications run one at a
//! time off the I/O thread: a client guessing passwords costs at most one thread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use http::HeaderValue;

use crate::error::Error;

/// How many distinct verified credentials are remembered.
const VERIFIED_CACHE: usize = 16;

/// Who may scrape.
#[derive(Debug, Default)]
pub(crate) enum MetricsAuth {
    /// Anyone (the default, fit for loopback).
    #[default]
    Open,
    /// `Authorization: Basic …` with a user and password matching a bcrypt hash.
    Basic(BasicUsers),
    /// `Authorization: Bearer <token>`.
    Bearer(Box<[u8]>),
}

#[derive(Debug)]
pub(crate) struct BasicUsers {
    users: Vec<(String, String)>,
    /// `Authorization` values already verified.
    verified: Mutex<Vec<Box<[u8]>>>,
    /// One bcrypt verification at a time.
    verifying: tokio::sync::Mutex<()>,
}

/// Where the credentials come from, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthSource {
    BasicFile(PathBuf),
    BearerFile(PathBuf),
}

impl AuthSource {
    /// Reads and checks the file.
    pub(crate) fn load(&self) -> Result<MetricsAuth, Error> {
        type Parse = fn(&str) -> Result<MetricsAuth, String>;
        let (path, parse): (&Path, Parse) = match self {
            AuthSource::BasicFile(path) => (path, parse_htpasswd),
            AuthSource::BearerFile(path) => (path, parse_token),
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::MetricsAuth {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        parse(&text).map_err(|reason| Error::MetricsAuth {
            path: path.to_owned(),
            reason,
        })
    }
}

/// `user:hash` lines (`htpasswd -B`), `#` comments and blank lines ignored.
pub(crate) fn parse_htpasswd(text: &str) -> Result<MetricsAuth, String> {
    let mut users = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line_no = index + 1;
        let Some((user, hash)) = line.split_once(':') else {
            return Err(format!("line {line_no}: expected `user:bcrypt-hash`"));
        };
        let is_bcrypt = ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .any(|prefix| hash.starts_with(prefix))
            && hash.len() == 60;
        if user.is_empty() || !is_bcrypt {
            return Err(format!(
                "line {line_no}: expected `user:bcrypt-hash` (make one with `htpasswd -nbB user password`)"
            ));
        }
        users.push((user.to_owned(), hash.to_owned()));
    }
    if users.is_empty() {
        return Err("no `user:bcrypt-hash` line".to_owned());
    }
    Ok(MetricsAuth::Basic(BasicUsers {
        users,
        verified: Mutex::new(Vec::new()),
        verifying: tokio::sync::Mutex::new(()),
    }))
}

/// The whole file, trimmed, is the token.
pub(crate) fn parse_token(text: &str) -> Result<MetricsAuth, String> {
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err("expected one token, without spaces".to_owned());
    }
    Ok(MetricsAuth::Bearer(token.as_bytes().into()))
}

impl MetricsAuth {
    /// The `WWW-Authenticate` challenge of a 401.
    pub(crate) fn challenge(&self) -> &'static str {
        match self {
            MetricsAuth::Bearer(_) => "Bearer realm=\"metrics\"",
            _ => "Basic realm=\"metrics\", charset=\"UTF-8\"",
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self, MetricsAuth::Open)
    }

    /// Whether a request with this `Authorization` header may scrape.
    pub(crate) async fn allows(self: &Arc<Self>, header: Option<&HeaderValue>) -> bool {
        match &**self {
            MetricsAuth::Open => true,
            MetricsAuth::Bearer(token) => header
                .and_then(|h| strip_scheme(h.as_bytes(), b"bearer "))
                .is_some_and(|given| constant_time_eq(given.trim_ascii(), token)),
            MetricsAuth::Basic(users) => {
                let Some(header) = header else { return false };
                users.allows(header.as_bytes(), self).await
            }
        }
    }
}

impl BasicUsers {
    async fn allows(&self, header: &[u8], auth: &Arc<MetricsAuth>) -> bool {
        if self.was_verified(header) {
            return true;
        }
        let Some((user, password)) = decode_basic(header) else {
            return false;
        };
        let Some(index) = self.users.iter().position(|(name, _)| *name == user) else {
            return false;
        };
        let _one_at_a_time = self.verifying.lock().await;
        let auth = auth.clone();
        let verified = tokio::task::spawn_blocking(move || {
            let MetricsAuth::Basic(users) = &*auth else {
                return false;
            };
            bcrypt::verify(password, &users.users[index].1).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if verified {
            let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= VERIFIED_CACHE {
                cache.remove(0);
            }
            cache.push(header.into());
        }
        verified
    }

    fn was_verified(&self, header: &[u8]) -> bool {
        let cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        cache.iter().any(|known| constant_time_eq(known, header))
    }
}

/// `Basic base64(user:password)` → the user and password.
pub(crate) fn decode_basic(header: &[u8]) -> Option<(String, String)> {
    let encoded = strip_scheme(header, b"basic ")?.trim_ascii();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The header's value after `scheme` (lower case, with its space), matched without case.
fn strip_scheme<'a>(header: &'a [u8], scheme: &[u8]) -> Option<&'a [u8]> {
    let head = header.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &header[scheme.len()..])
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    fn basic(user: &str, password: &str) -> HeaderValue {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        header(&format!("Basic {encoded}"))
    }

    #[tokio::test]
    async fn basic_auth_checks_the_bcrypt_hash_and_remembers_success() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let auth = Arc::new(parse_htpasswd(&format!("# scrapers\nprometheus:{hash}\n")).unwrap());
        assert!(auth.allows(Some(&basic("prometheus", "s3cret"))).await);
        assert!(auth.allows(Some(&basic("prometheus", "s3cret"))).await);
        assert!(!auth.allows(Some(&basic("prometheus", "wrong"))).await);
        assert!(!auth.allows(Some(&basic("other", "s3cret"))).await);
        assert!(!auth.allows(Some(&header("Basic !!!"))).await);
        assert!(!auth.allows(None).await);
        let MetricsAuth::Basic(users) = &*auth else {
            unreachable!()
        };
        assert_eq!(users.verified.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn bearer_token_must_match_exactly() {
        let auth = Arc::new(parse_token("  abc123\n").unwrap());
        assert!(auth.allows(Some(&header("Bearer abc123"))).await);
        assert!(auth.allows(Some(&header("bearer abc123"))).await);
        assert!(!auth.allows(Some(&header("Bearer abc12"))).await);
        assert!(!auth.allows(Some(&header("Basic abc123"))).await);
        assert!(!auth.allows(None).await);
    }

    #[test]
    fn bad_files_say_which_line() {
        assert!(
            parse_htpasswd("")
                .unwrap_err()
                .contains("no `user:bcrypt-hash`")
        );
        let err = parse_htpasswd("ok:$2y$\nbad\n").unwrap_err();
        assert!(err.starts_with("line 1:"), "{err}");
        assert!(parse_token("two words").is_err());
        assert!(parse_token("\n").is_err());
    }
}
