#!/usr/bin/env bash
# Clean-build time of a hello-world binary (one annotated function, `init`, default dev
# profile) for four dependency sets: observe with its default features, observe
# metrics-only, and what a team would assemble by hand for each (issue 15, "The first
# build"). Each set is a crate of its own with its own target directory, built from
# empty RUNS times in alternating rounds (A, B, C, D, then again), so that load from
# other work on the machine hits every set alike; the median is reported. Versions are
# this checkout's `Cargo.lock` (copied into each crate; observe is a path dependency).
# Writes the table, the machine and the slowest units of each set's last build (from
# `cargo build --timings`) into BENCHMARKS.md between the build-time markers.
#
#   scripts/build_time.sh                 # RUNS=3
#   RUNS=1 KEEP=1 scripts/build_time.sh   # keep the crates and targets (path printed)
#   WORK=/some/dir scripts/build_time.sh  # where crates and targets go (default: mktemp)
#   OBSERVE=/a/checkout scripts/build_time.sh  # measure that observe (default: this one)
#   REPORT_ONLY=1 WORK=/kept/dir scripts/build_time.sh  # rewrite the section from a KEEP run
#
# Not part of `cargo test`: it takes RUNS x 4 clean builds (about 1 min each on 2 cores).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
OBSERVE=$(cd "${OBSERVE:-$REPO}" && pwd)
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/observe-build-time.XXXXXX")}
mkdir -p "$WORK"
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; else echo "work: $WORK" >&2; fi
# The sets' own target directories, not the caller's.
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR

# name | label | [dependencies] lines
SETS=(observe_full observe_metrics hand_full hand_metrics)
declare -A DEPS
DEPS[observe_full]="observe = { path = \"$OBSERVE\" }"
DEPS[observe_metrics]="observe = { path = \"$OBSERVE\", default-features = false, features = [\"enabled\"] }"
HAND_METRICS='tracing = "0.1.44"
tracing-subscriber = { version = "0.3.23", features = ["env-filter"] }
metrics = "0.24.6"
metrics-exporter-prometheus = "0.18.3"
tokio = { version = "1.48", features = ["rt-multi-thread", "macros"] }'
DEPS[hand_full]="$HAND_METRICS
opentelemetry = \"0.33.1\"
opentelemetry_sdk = \"0.33.1\"
opentelemetry-otlp = { version = \"0.33.1\", features = [\"grpc-tonic\"] }
tracing-opentelemetry = \"0.34.0\""
DEPS[hand_metrics]="$HAND_METRICS"

OBSERVE_MAIN='#[observe::instrumented(service = "hello")]
fn greet(name: &str) -> Result<String, std::fmt::Error> {
    Ok(format!("hello, {name}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _observe = observe::init()?;
    println!("{}", greet("world")?);
    Ok(())
}'
# By hand: the span, a duration histogram and an outcome counter, /metrics, logs.
HAND_GREET='#[tracing::instrument]
fn greet(name: &str) -> Result<String, std::fmt::Error> {
    let start = std::time::Instant::now();
    let result = Ok(format!("hello, {name}"));
    let outcome = if result.is_ok() { "success" } else { "failure" };
    metrics::histogram!("hello_duration_seconds", "operation" => "greet")
        .record(start.elapsed().as_secs_f64());
    metrics::counter!("hello_messages_processed_total", "operation" => "greet", "outcome" => outcome)
        .increment(1);
    result
}'
HAND_METRICS_MAIN="$HAND_GREET

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    metrics_exporter_prometheus::PrometheusBuilder::new().install()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    println!(\"{}\", greet(\"world\")?);
    Ok(())
}"
HAND_FULL_MAIN="use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

$HAND_GREET

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    metrics_exporter_prometheus::PrometheusBuilder::new().install()?;
    // OTLP/gRPC, or OTLP/HTTP when asked, as observe does.
    let http = std::env::var(\"OTEL_EXPORTER_OTLP_PROTOCOL\").is_ok_and(|p| p == \"http/protobuf\");
    let exporter = if http {
        opentelemetry_otlp::SpanExporter::builder().with_http().build()?
    } else {
        opentelemetry_otlp::SpanExporter::builder().with_tonic().build()?
    };
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::from_default_env())
        .with(tracing_subscriber::fmt::layer())
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer(\"hello\")))
        .init();
    println!(\"{}\", greet(\"world\")?);
    provider.shutdown()?;
    Ok(())
}"
declare -A MAIN
MAIN[observe_full]=$OBSERVE_MAIN
MAIN[observe_metrics]=$OBSERVE_MAIN
MAIN[hand_full]=$HAND_FULL_MAIN
MAIN[hand_metrics]=$HAND_METRICS_MAIN

if [ -z "${REPORT_ONLY:-}" ]; then
for set in "${SETS[@]}"; do
    mkdir -p "$WORK/$set/src"
    cat > "$WORK/$set/Cargo.toml" <<TOML
[package]
name = "hello_$set"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
${DEPS[$set]}

[workspace]
TOML
    printf '%s\n' "${MAIN[$set]}" > "$WORK/$set/src/main.rs"
    cp "$OBSERVE/Cargo.lock" "$WORK/$set/Cargo.lock"
    # Resolve (keeping the checkout's versions) and download before anything is timed.
    (cd "$WORK/$set" && cargo fetch --quiet)
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$WORK/times.tsv"
for round in $(seq 1 "$RUNS"); do
    for set in "${SETS[@]}"; do
        target="$WORK/$set/target"
        rm -rf "$target"
        start=$(date +%s.%N)
        (cd "$WORK/$set" && CARGO_TARGET_DIR="$target" cargo build --timings 2> "$WORK/$set/build.log")
        end=$(date +%s.%N)
        crates=$(grep -c '^ *Compiling ' "$WORK/$set/build.log")
        seconds=$(echo "$end - $start" | bc)
        # Keep the timing report, free the disk (about 1 GB per set) before the next build.
        rm -rf "$WORK/$set/timings"
        mv "$target/cargo-timings" "$WORK/$set/timings"
        rm -rf "$target"
        printf '%s\t%s\t%s\t%s\n' "$set" "$round" "$crates" "$seconds" >> "$WORK/times.tsv"
        printf 'round %s  %-16s %4s crates  %6.1f s\n' "$round" "$set" "$crates" "$seconds" >&2
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
printf '%s\n%s\n' "$LOAD_BEFORE" "$LOAD_AFTER" > "$WORK/load"
fi
{ read -r LOAD_BEFORE; read -r LOAD_AFTER; } < "$WORK/load"

python3 - "$REPO/BENCHMARKS.md" "$WORK" "$RUNS" "$LOAD_BEFORE" "$LOAD_AFTER" \
    "$(nproc)" "$(rustc -V)" "$(cargo -V)" "${SETS[@]}" <<'PY'
import glob, json, re, statistics, sys
bench, work, runs, load_before, load_after, cpus, rustc, cargo = sys.argv[1:9]
sets = sys.argv[9:]
labels = {
    "observe_full": "`observe` (default features)",
    "observe_metrics": "`observe` metrics-only (`default-features = false, features = [\"enabled\"]`)",
    "hand_full": "hand-assembled equivalent: tracing + tracing-subscriber + metrics + metrics-exporter-prometheus + tokio + opentelemetry + opentelemetry_sdk + opentelemetry-otlp (grpc + http) + tracing-opentelemetry",
    "hand_metrics": "hand-assembled metrics-only: tracing + tracing-subscriber + metrics + metrics-exporter-prometheus + tokio",
}
rows = {s: [] for s in sets}
crates = {}
for line in open(f"{work}/times.tsv"):
    s, _, n, secs = line.split()
    rows[s].append(float(secs))
    crates[s] = int(n)
median = {s: statistics.median(v) for s, v in rows.items()}

def slowest(s, n=10):
    """The last build's slowest units and the sum of all units' times (cargo --timings)."""
    report = sorted(glob.glob(f"{work}/{s}/timings/cargo-timing-*.html"))[-1]
    units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", open(report).read(), re.S).group(1))
    total = sum(u["duration"] for u in units)
    top = sorted(units, key=lambda u: -u["duration"])[:n]
    return total, ", ".join(f"{u['name']} {u['duration']:.1f}" for u in top)

out = [
    "<!-- build_time:start (scripts/build_time.sh writes this section) -->",
    f"Clean build of a hello-world binary (one `#[instrumented]`/`#[tracing::instrument]` function, "
    f"`init` or the hand-written set-up, default dev profile), each set in its own target directory, "
    f"median of {runs} runs in alternating rounds; versions from this repository's `Cargo.lock`. "
    f"The crates' dependency lines and `main.rs` are in `scripts/build_time.sh`.",
    "",
    f"- Machine: {cpus} CPUs (`nproc`), {rustc}, {cargo}",
    f"- Load average (1, 5, 15 min) before: {load_before}; after: {load_after}. Other builds share "
    "the machine, which is why the sets alternate: compare sets within this table, not across runs.",
    "",
    "| dependency set | crates compiled | median clean build | runs |",
    "|---|---|---|---|",
]
for s in sets:
    runs_text = ", ".join(f"{t:.1f}" for t in rows[s])
    out.append(f"| {labels[s]} | {crates[s]} | {median[s]:.1f} s | {runs_text} |")
out += ["", "Where the time goes (last run; seconds per unit as `cargo build --timings` reports "
        "them, summed over both cores; the build's wall time is about the sum divided by the cores):", ""]
for s in sets:
    total, top = slowest(s)
    out.append(f"- {labels[s].split(':')[0]}: {total:.0f} s in all; slowest: {top}")

def units(s):
    report = sorted(glob.glob(f"{work}/{s}/timings/cargo-timing-*.html"))[-1]
    data = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", open(report).read(), re.S).group(1))
    times = {}
    for u in data:
        times[(u["name"], u["version"])] = times.get((u["name"], u["version"]), 0) + u["duration"]
    return times

out += ["", "What only one side of each comparison compiles (same crate and version on both "
        "sides cancel out; seconds summed over units, last run):", ""]
for ours, hand in [("observe_full", "hand_full"), ("observe_metrics", "hand_metrics")]:
    a, b = units(ours), units(hand)
    for x, y, name in [(a, b, ours), (b, a, hand)]:
        only = sorted(((k, v) for k, v in x.items() if k not in y), key=lambda kv: -kv[1])
        listed = ", ".join(f"{k[0]} {v:.1f}" for k, v in only[:12])
        out.append(f"- only in `{name}` (vs `{hand if name == ours else ours}`): "
                   f"{sum(v for _, v in only):.0f} s in {len(only)} units; {listed}")
out.append("<!-- build_time:end -->")
section = "\n".join(out)

text = open(bench).read()
pattern = re.compile(r"<!-- build_time:start.*?<!-- build_time:end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text = text.rstrip("\n") + "\n\n## The first build\n\n" + section + "\n"
open(bench, "w").write(text)
print(section)
PY
