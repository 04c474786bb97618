// The function-like macros: literal and runtime labels (`&str`, `String`, a field), the
// handle types, and calls before `init` recording nothing without failing.
use observe::{CounterRef, GaugeRef, HistogramRef};

struct Job {
    queue: String,
}

fn handles(job: &Job) -> (CounterRef, GaugeRef, HistogramRef) {
    let retries = observe::counter!(
        "copilot_parsing_retry_attempts_total",
        help = "Parse attempts retried after a failure, by queue.",
        labels(queue = job.queue),
    );
    let depth = observe::gauge!(
        "copilot_parsing_queue_depth_messages",
        help = "Messages waiting in a queue.",
        labels(queue = "parsing"),
    );
    let latency = observe::histogram!(
        "copilot_parsing_dependency_call_duration_seconds",
        help = "Duration of calls to dependencies.",
        service = "parsing",
        preset = "latency",
        labels(dependency = "search", status = "processed"),
        crate = ::observe,
    );
    (retries, depth, latency)
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    let job = Job {
        queue: String::from("parsing"),
    };
    let (retries, depth, latency) = handles(&job);
    retries.increment(1);
    depth.set(3.0);
    depth.increment(1.0);
    depth.decrement(1.0);
    latency.record(0.25);
    let queue: &str = "chunking";
    observe::counter!("copilot_chunking_retry_attempts_total", help = "Retries.", labels(queue = queue))
        .increment(2);
}

#[path = "support/exposition.rs"]
mod exposition;
