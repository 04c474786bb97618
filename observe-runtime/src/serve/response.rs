//! What the `/metrics` listener answers, as HTTP says: `GET`/`HEAD /metrics` the exposition
//! (in OpenMetrics when `Accept` prefers it, gzip when the scraper accepts it), other paths
//! 404, other methods 405 with `Allow`, a URL longer than [`MAX_URI`] 414, and 401 with a
//! challenge when credentials are required. Heads too large (431), malformed (400) or too
//! slow are hyper's to refuse.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;

use super::auth::MetricsAuth;
use super::openmetrics::{self, prefers_openmetrics};
use super::render::Format;
use super::render_cache::RenderCache;

/// Longest request target served; a scrape's is `/metrics` and perhaps a short query.
pub(crate) const MAX_URI: usize = 4 * 1024;

const EXPOSITION_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Where a request goes, from its method and target alone.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Route {
    Metrics,
    NotFound,
    MethodNotAllowed,
    UriTooLong,
}

pub(crate) fn route(method: &Method, target: &str) -> Route {
    if target.len() > MAX_URI {
        return Route::UriTooLong;
    }
    let path = target.split('?').next().unwrap_or("");
    match *method {
        Method::GET | Method::HEAD if path == "/metrics" => Route::Metrics,
        Method::GET | Method::HEAD => Route::NotFound,
        _ => Route::MethodNotAllowed,
    }
}

/// Whether `Accept-Encoding` admits gzip: `gzip` or `*` listed without `q=0`.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let wanted = name.eq_ignore_ascii_case("gzip") || name == "*";
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            wanted && quality > 0.0
        })
}

/// Answers one request. `arrived` is when its head was read: the render it gets started
/// after that.
pub(crate) async fn respond<B>(
    request: Request<B>,
    cache: &RenderCache,
    auth: &Arc<MetricsAuth>,
    arrived: tokio::time::Instant,
) -> Response<Full<Bytes>> {
    let target = request.uri().path_and_query().map_or("", |p| p.as_str());
    match route(request.method(), target) {
        Route::UriTooLong => plain(
            StatusCode::URI_TOO_LONG,
            "the URL is too long: metrics are served on /metrics\n",
        ),
        Route::NotFound => plain(
            StatusCode::NOT_FOUND,
            "not found: metrics are served on /metrics\n",
        ),
        Route::MethodNotAllowed => {
            let mut response = plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "only GET and HEAD /metrics are served\n",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        }
        Route::Metrics => {
            if !auth
                .allows(request.headers().get(header::AUTHORIZATION))
                .await
            {
                let mut response = plain(StatusCode::UNAUTHORIZED, "unauthorized\n");
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(auth.challenge()),
                );
                return response;
            }
            let format = if prefers_openmetrics(request.headers()) {
                Format::OpenMetrics
            } else {
                Format::Prometheus
            };
            exposition(cache, format, accepts_gzip(request.headers()), arrived).await
        }
    }
}

async fn exposition(
    cache: &RenderCache,
    format: Format,
    gzip: bool,
    arrived: tokio::time::Instant,
) -> Response<Full<Bytes>> {
    let Some(rendered) = cache.get(arrived, format, gzip).await else {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the exposition could not be rendered\n",
        );
    };
    let body = match rendered.gzip().filter(|_| gzip) {
        Some(compressed) => compressed.clone(),
        None => rendered.text().clone(),
    };
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    let content_type = match format {
        Format::Prometheus => EXPOSITION_TYPE,
        Format::OpenMetrics => openmetrics::CONTENT_TYPE,
    };
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("accept, accept-encoding"),
    );
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in accept {
            map.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn routes_by_method_and_path() {
        assert_eq!(route(&Method::GET, "/metrics"), Route::Metrics);
        assert_eq!(route(&Method::HEAD, "/metrics?x=1"), Route::Metrics);
        assert_eq!(route(&Method::GET, "/health"), Route::NotFound);
        assert_eq!(route(&Method::GET, "/metrics/"), Route::NotFound);
        assert_eq!(route(&Method::POST, "/metrics"), Route::MethodNotAllowed);
        let long = format!("/metrics?{}", "a".repeat(MAX_URI));
        assert_eq!(route(&Method::GET, &long), Route::UriTooLong);
    }

    #[test]
    fn gzip_is_negotiated_with_quality_values() {
        assert!(accepts_gzip(&headers(&["gzip"])));
        // What Prometheus sends.
        assert!(accepts_gzip(&headers(&["gzip"])));
        assert!(accepts_gzip(&headers(&["br, GZIP;q=0.5"])));
        assert!(accepts_gzip(&headers(&["identity", "*"])));
        assert!(!accepts_gzip(&headers(&["gzip;q=0"])));
        assert!(!accepts_gzip(&headers(&["identity"])));
        assert!(!accepts_gzip(&headers(&[])));
        assert!(!accepts_gzip(&headers(&["gzipx"])));
    }
}
