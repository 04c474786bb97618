//! The example service under a low limit of file descriptors (`ulimit -n 256`) while a
//! client holds 600 connections to `/metrics`, idle or with a head that never ends: the
//! listener's connection cap keeps the service's own port answering, and a scrape still
//! gets in. (Before the cap, 1 100 idle connections under the usual 1 024 silenced
//! `/health` for as long as they were held.)

mod support;

use std::io::Write;
use std::net::TcpStream;

use support::example::{Kind, PROCESSED, Service};
use support::exposition::Exposition;
use support::process::http_client;

const NOFILE: u32 = 256;
const HOSTILE: usize = 600;

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_answers_while_metrics_connections_pile_up_under_a_low_descriptor_limit() {
    let client = http_client();
    let service = Service::start_limited(&client, &[], Some(NOFILE)).await;
    let metrics = service.metrics_addr;

    let hostile: Vec<TcpStream> = (0..HOSTILE)
        .filter_map(|n| {
            let mut stream = TcpStream::connect(metrics).ok()?;
            if n % 3 == 0 {
                let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nX-Slow: ");
            }
            Some(stream)
        })
        .collect();
    assert!(
        hostile.len() >= HOSTILE / 2,
        "only {} connected",
        hostile.len()
    );

    // While they are held: the service's port answers, every time.
    for n in 0..20 {
        let health = client
            .get(service.url("/health"))
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("/health while {} connections are held: {e}", hostile.len())
            });
        assert_eq!(health.text().await.unwrap(), "ok");
        service.send(&client, Kind::Good, n).await;
    }
    let fds = open_descriptors(service.process.id());
    assert!(
        fds < NOFILE as usize - 32,
        "{fds} descriptors open of {NOFILE}"
    );

    // And a scrape gets in, with exact counts.
    let scrape = Exposition::parse(&service.scrape(&client).await);
    let calls = scrape.values_by(PROCESSED, &["operation", "outcome"]);
    assert_eq!(
        calls[&vec!["decode".to_owned(), "success".to_owned()]],
        20.0
    );
    drop(hostile);
    assert!(!service.process.output().contains("panicked"));
}
