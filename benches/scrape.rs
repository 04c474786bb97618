//! What a scrape costs: ~1 200 series of `#[instrumented]` functions (40 functions, each
//! with a success and a failure), rendered in-process and compressed, then scraped over
//! `/metrics` spaced out and by 8 clients in tight loops (whose renders are shared and
//! spaced 100 ms apart). Writes a Markdown section to `$CARGO_TARGET_TMPDIR/scrape_cost.md`
//! for `scripts/bench_report.py`, and prints it.
//!
//! `cargo bench --bench scrape`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use observe::{ErrorLabel, instrumented};

#[derive(Debug, ErrorLabel)]
enum BenchError {
    Rejected,
}

macro_rules! operations {
    ($($name:ident)*) => {
        $(
            #[instrumented(service = "bench")]
            fn $name(fail: bool) -> Result<(), BenchError> {
                if fail { Err(BenchError::Rejected) } else { Ok(()) }
            }
        )*
        const OPERATIONS: &[fn(bool) -> Result<(), BenchError>] = &[$($name),*];
    };
}

operations! {
    op00 op01 op02 op03 op04 op05 op06 op07 op08 op09 op10 op11 op12 op13 op14 op15 op16 op17
    op18 op19 op20 op21 op22 op23 op24 op25 op26 op27 op28 op29 op30 op31 op32 op33 op34 op35
    op36 op37 op38 op39
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Process CPU time (user + system) so far, from `/proc/self/stat`, in clock ticks of 10 ms.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn scrape(stream: &mut BufReader<TcpStream>) -> usize {
    stream
        .get_mut()
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        .unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).unwrap();
        let line = line.trim_end().to_ascii_lowercase();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    length
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let guard = observe::builder()
        .environment("bench")
        .metrics_addr("127.0.0.1:0".parse().unwrap())
        .logging(false)
        .init()
        .expect("observe starts");
    for operation in OPERATIONS {
        let _ = operation(false);
        let _ = operation(true);
    }
    let text = guard.render();
    let series = text.lines().filter(|l| !l.starts_with('#')).count();
    let per_thousand = |value: f64| value * 1000.0 / series as f64;

    let render = median(
        (0..300)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(guard.render());
                start.elapsed()
            })
            .collect(),
    );
    let mut gzip = Vec::new();
    let compress = median(
        (0..300)
            .map(|_| {
                let start = Instant::now();
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                encoder.write_all(text.as_bytes()).unwrap();
                gzip = encoder.finish().unwrap();
                start.elapsed()
            })
            .collect(),
    );

    let addr: SocketAddr = guard.metrics_addr().unwrap();
    let mut stream = BufReader::new(TcpStream::connect(addr).unwrap());
    let spaced = median(
        (0..20)
            .map(|_| {
                // Past the render spacing: every scrape renders anew.
                std::thread::sleep(Duration::from_millis(120));
                let start = Instant::now();
                scrape(&mut stream);
                start.elapsed()
            })
            .collect(),
    );

    const CLIENTS: usize = 8;
    const TIGHT: Duration = Duration::from_secs(3);
    let cpu_before = cpu_time();
    let started = Instant::now();
    let scrapes: usize = std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(|| {
                    let mut stream = BufReader::new(TcpStream::connect(addr).unwrap());
                    let mut scrapes = 0;
                    while started.elapsed() < TIGHT {
                        scrape(&mut stream);
                        scrapes += 1;
                    }
                    scrapes
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).sum()
    });
    let elapsed = started.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_before);

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let kib = |b: usize| b as f64 / 1024.0;
    let mut out = String::new();
    let mut w = |line: String| {
        out.push_str(&line);
        out.push('\n');
    };
    w("## What a scrape costs".into());
    w(String::new());
    w(format!(
        "`benches/scrape.rs` (`cargo bench --bench scrape`): {series} series ({} `#[instrumented]` \
         functions, each with a success and a failure: processed, failures, in-flight and a \
         10-bucket histogram per outcome).",
        OPERATIONS.len()
    ));
    w(String::new());
    w("| measure | value | per 1 000 series |".into());
    w("|---|---|---|".into());
    w(format!(
        "| render (in-process, median of 300) | {:.0} µs | {:.0} µs |",
        us(render),
        per_thousand(us(render))
    ));
    w(format!(
        "| gzip of the render (fast level, median of 300) | {:.0} µs | {:.0} µs |",
        us(compress),
        per_thousand(us(compress))
    ));
    w(format!(
        "| exposition size | {:.1} KiB | {:.1} KiB |",
        kib(text.len()),
        per_thousand(kib(text.len()))
    ));
    w(format!(
        "| gzip size | {:.1} KiB | {:.1} KiB |",
        kib(gzip.len()),
        per_thousand(kib(gzip.len()))
    ));
    w(format!(
        "| scrape over `/metrics`, gzip, spaced 120 ms (median of 20) | {:.0} µs | {:.0} µs |",
        us(spaced),
        per_thousand(us(spaced))
    ));
    w(String::new());
    w(format!(
        "{CLIENTS} clients scraping in tight loops for {:.1} s got {scrapes} answers ({:.0}/s, \
         renders shared, at most 10 a second) for {:.0} ms of the process's CPU ({:.1}% of one \
         core, the clients' own reading included).",
        elapsed.as_secs_f64(),
        scrapes as f64 / elapsed.as_secs_f64(),
        cpu.as_secs_f64() * 1e3,
        cpu.as_secs_f64() / elapsed.as_secs_f64() * 100.0
    ));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    out.push_str(&format!(
        "\nLoad average (1, 5, 15 min) at the end: {} on this shared machine; the times move with it.\n",
        load.join(" ")
    ));
    print!("{out}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("scrape_cost.md");
    std::fs::write(&path, &out).expect("write the report");
    eprintln!("wrote {}", path.display());
}
