//! Renders of the exposition shared between scrapes, so that scraping costs bounded CPU
//! whatever the scrape rate. A scrape is answered with the first render that *started
//! after it arrived*, so it sees every call made before it; renders run one at a time, off
//! the I/O thread, and renders of one format start at least `spacing` apart. Scrapes
//! arriving together share one render, and its gzip form is compressed at most once. Each
//! format (Prometheus text, OpenMetrics) has its own latest render, so a scraper of one
//! never waits on the other's spacing: at most two renders per `spacing`.

use std::io::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::render::Format;

/// The least time between the starts of two renders: at most 10 renders a second, however
/// many clients scrape how often.
pub(crate) const RENDER_SPACING: Duration = Duration::from_millis(100);

/// One render, with its gzip form once a scraper asked for it.
#[derive(Debug)]
pub(crate) struct Rendered {
    started: Instant,
    text: Bytes,
    gzip: OnceLock<Bytes>,
}

impl Rendered {
    pub(crate) fn text(&self) -> &Bytes {
        &self.text
    }

    pub(crate) fn gzip(&self) -> Option<&Bytes> {
        self.gzip.get()
    }
}

/// The latest render of each format and the lock that makes renders one at a time.
#[derive(Debug)]
pub(crate) struct RenderCache {
    render: fn(Format) -> String,
    spacing: Duration,
    /// A fair (FIFO) lock: scrapes waiting for a render are served in arrival order.
    /// Indexed by [`slot`].
    latest: tokio::sync::Mutex<[Option<Arc<Rendered>>; 2]>,
}

/// Where a format's latest render is kept.
fn slot(format: Format) -> usize {
    match format {
        Format::Prometheus => 0,
        Format::OpenMetrics => 1,
    }
}

impl RenderCache {
    pub(crate) fn new(render: fn(Format) -> String, spacing: Duration) -> Self {
        RenderCache {
            render,
            spacing,
            latest: tokio::sync::Mutex::new([None, None]),
        }
    }

    /// A render in `format` started at or after `arrived`, compressed too if `gzip`.
    /// `None` if the render could not run (the runtime is stopping, or the render
    /// panicked).
    pub(crate) async fn get(
        &self,
        arrived: Instant,
        format: Format,
        gzip: bool,
    ) -> Option<Arc<Rendered>> {
        let mut renders = self.latest.lock().await;
        let latest = &mut renders[slot(format)];
        let rendered = match latest.as_ref() {
            Some(rendered) if rendered.started >= arrived => rendered.clone(),
            previous => {
                if let Some(previous) = previous {
                    tokio::time::sleep_until(previous.started + self.spacing).await;
                }
                let started = Instant::now();
                let render = self.render;
                let text = tokio::task::spawn_blocking(move || render(format))
                    .await
                    .ok()?;
                let rendered = Arc::new(Rendered {
                    started,
                    text: Bytes::from(text),
                    gzip: OnceLock::new(),
                });
                *latest = Some(rendered.clone());
                rendered
            }
        };
        if gzip && rendered.gzip.get().is_none() {
            // Under the lock: one compression per render at most.
            let text = rendered.text.clone();
            let compressed = tokio::task::spawn_blocking(move || compress(&text))
                .await
                .ok()?;
            let _ = rendered.gzip.set(compressed);
        }
        drop(renders);
        Some(rendered)
    }
}

/// gzip at the fast level: an exposition compresses about 10× even so.
pub(crate) fn compress(text: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 8 + 64),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(text);
    Bytes::from(encoder.finish().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static RENDERS: AtomicUsize = AtomicUsize::new(0);

    fn counting_render(format: Format) -> String {
        let n = RENDERS.fetch_add(1, Ordering::SeqCst) + 1;
        std::thread::sleep(Duration::from_millis(5));
        format!("{format:?} renders {n}\n")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_scrapes_share_renders_and_each_sees_a_fresh_one() {
        let cache = Arc::new(RenderCache::new(counting_render, Duration::from_millis(50)));
        let started = std::time::Instant::now();
        let mut scrapes = Vec::new();
        // 200 scrapes over ~300 ms: unshared, 200 renders.
        for i in 0..200u64 {
            let cache = cache.clone();
            scrapes.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_micros(i * 1500)).await;
                let arrived = Instant::now();
                let rendered = cache
                    .get(arrived, Format::Prometheus, i % 2 == 0)
                    .await
                    .unwrap();
                assert!(
                    rendered.started >= arrived,
                    "a render older than the scrape"
                );
                if i % 2 == 0 {
                    let mut text = String::new();
                    flate2::read::GzDecoder::new(&rendered.gzip().unwrap()[..])
                        .read_to_string(&mut text)
                        .unwrap();
                    assert_eq!(text.as_bytes(), &rendered.text()[..]);
                }
            }));
        }
        for scrape in scrapes {
            scrape.await.unwrap();
        }
        let renders = RENDERS.load(Ordering::SeqCst);
        let elapsed = started.elapsed();
        // One render per 50 ms at most, plus the first.
        let bound = (elapsed.as_millis() / 50 + 2) as usize;
        assert!(
            renders <= bound,
            "{renders} renders in {elapsed:?} (bound {bound})"
        );
        assert!(renders >= 2, "{renders}");
    }

    fn by_format(format: Format) -> String {
        format!("{format:?}\n")
    }

    /// Each format is rendered in its own form and kept apart: a scrape of one never gets
    /// the other's text, and within the spacing each gets its format's shared render.
    #[tokio::test]
    async fn each_format_has_its_own_render() {
        let cache = RenderCache::new(by_format, Duration::from_secs(60));
        let arrived = Instant::now();
        let text = cache.get(arrived, Format::Prometheus, false).await.unwrap();
        let open = cache.get(arrived, Format::OpenMetrics, true).await.unwrap();
        assert_eq!(&text.text()[..], b"Prometheus\n");
        assert_eq!(&open.text()[..], b"OpenMetrics\n");
        assert!(open.gzip().is_some() && text.gzip().is_none());
        let again = cache
            .get(arrived, Format::OpenMetrics, false)
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&open, &again), "shared, not rendered again");
    }
}
