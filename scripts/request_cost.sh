#!/usr/bin/env bash
# What observe costs per request of the example service, in instructions: each
# configuration of `scripts/load.sh` run under callgrind (valgrind), the observed build
# against the build with instrumentation compiled out, with the same environment and the
# same requests. Instruction counts do not move with the machine's load, which on a
# shared VM swings requests/s by ±30% from one run to the next; they are not time (a
# cache miss costs more than an add), so read them beside `scripts/load.sh`. Counts every
# thread of the service (the span export task included), user space only: the kernel's
# share of a request (its sockets) is the same in both builds. Work on timers (the export
# task's 0.5 s tick, the recorder's upkeep) is counted over the run's wall time, which
# valgrind stretches: runs differ by a few hundred instructions per request. Not part of
# `cargo test`.
#
#   scripts/request_cost.sh                  # 2000 requests per run
#   COST_REQUESTS=500 scripts/request_cost.sh
#   COST_WRITE=1 scripts/request_cost.sh     # also writes the table into BENCHMARKS.md
#   COST_KEEP=/tmp/cost scripts/request_cost.sh   # keeps each run's callgrind profile
#       there, for `callgrind_annotate --inclusive=yes FILE` (where the rest goes)
#   COST_CACHE=1 scripts/request_cost.sh     # also simulates the caches (this host's:
#       32 KB instruction, 48 KB data, 1 MB last level) and prints each build's misses
#       per request: a request runs through more code than the instruction cache holds
#
# Needs valgrind (Debian: `apt-get install -y valgrind`) and python3.
set -euo pipefail

REQUESTS=${COST_REQUESTS:-2000}
WARM_UP=300
APP_PORT=${COST_APP_PORT:-18181}
METRICS_PORT=${COST_METRICS_PORT:-19565}
COLLECTOR_PORT=${COST_COLLECTOR_PORT:-14419}
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib/work_dir.sh

for tool in valgrind callgrind_control callgrind_annotate python3 curl; do
    command -v "$tool" >/dev/null || { echo "request_cost: $tool is missing" >&2; exit 2; }
done

. scripts/lib/example_builds.sh
. scripts/lib/wait_for_health.sh
build_example_pair "$work"

python3 scripts/lib/otlp_receiver.py "$COLLECTOR_PORT" &
pids+=($!)

# COUNT requests on one keep-alive connection, every BAD_EVERY-th malformed (0: none);
# the same messages as `load.sh`.
cat >"$work/client.py" <<'PY'
import http.client, sys
port, count, bad_every = map(int, sys.argv[1:])
good = '{"id":"load-1","source":"Email","body":"' + "lorem ipsum dolor sit amet " * 36 + '"}'
bad = '{"id": "broken", "body": '
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for i in range(1, count + 1):
    body = bad if bad_every and i % bad_every == 0 else good
    connection.request("POST", "/parse", body, {"content-type": "application/json"})
    connection.getresponse().read()
PY

# name | environment | BAD_EVERY (as in load.sh)
configs=(
    "b defaults|OBSERVE_ENVIRONMENT=dev|0"
    "c prod+otlp|OBSERVE_ENVIRONMENT=prod OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$COLLECTOR_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf|0"
    "d prod+otlp, 10% malformed|OBSERVE_ENVIRONMENT=prod OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$COLLECTOR_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf|10"
)

# profile BINARY ENV BAD_EVERY OUT: the service under callgrind, counters zeroed after the
# warm-up, dumped once the measured requests are answered and the export task's next
# tick (0.5 s) has sent their spans.
profile() {
    local binary=$1 environment=$2 bad_every=$3 out=$4
    env $environment PARSING_ADDR=127.0.0.1:$APP_PORT OBSERVE_METRICS_ADDR=127.0.0.1:$METRICS_PORT \
        RUST_LOG=info valgrind --tool=callgrind "${cache_sim[@]}" --callgrind-out-file="$out" "$binary" \
        >/dev/null 2>"$work/service.err" &
    local service=$!
    wait_for_health "$APP_PORT" "$work/service.err" 60
    python3 "$work/client.py" "$APP_PORT" "$WARM_UP" "$bad_every"
    sleep 2
    callgrind_control -z "$service" >/dev/null
    python3 "$work/client.py" "$APP_PORT" "$REQUESTS" "$bad_every"
    sleep 3
    callgrind_control -d "$service" >/dev/null
    kill "$service"; wait "$service" 2>/dev/null || true
}

# Inclusive instructions per request of the parts observe adds, from one profile.
cache_sim=()
if [ "${COST_CACHE:-0}" = 1 ]; then
    cache_sim=(--cache-sim=yes --I1=32768,8,64 --D1=49152,12,64 --LL=1048576,8,64)
fi

summarise() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null | python3 -c '
import re, sys
requests = int(sys.argv[1])
parts = {
    "total": r"PROGRAM TOTALS",
    "export": r"observe_runtime::traces::export_queue::export_loop",
    "log_line": r"<observe_runtime::logs::JsonLines as tracing_subscriber::layer::Layer<S>>::on_event",
    "log_ids": r"observe_runtime::logs::JsonLines::ids",
}
found = dict.fromkeys(parts, 0)
totals = []
for line in sys.stdin:
    if "PROGRAM TOTALS" in line:
        totals = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) \(", line)]
    match = re.match(r"\s*([\d,]+)\s", line)
    if not match:
        continue
    for name, pattern in parts.items():
        if re.search(pattern, line):
            found[name] = max(found[name], int(match.group(1).replace(",", "")))
line = " ".join(f"{name}={found[name] / requests:.0f}" for name in parts)
# With the cache simulated, the totals line also holds the misses (Ir Dr Dw I1mr D1mr D1mw ...).
if len(totals) >= 6:
    line += " " + " ".join(f"{name}={totals[i] / requests:.1f}" for i, name in ((3, "i1_misses"), (4, "d1_read_misses"), (5, "d1_write_misses")))
print(line)
' "$REQUESTS"
}

results="$work/results"
: >"$results"
for config in "${configs[@]}"; do
    IFS='|' read -r name environment bad_every <<<"$config"
    for build in compiled_out observed; do
        profile "$work/$build" "$environment" "$bad_every" "$work/callgrind.out"
        line=$(summarise "$(ls "$work"/callgrind.out.* | tail -1)")
        if [ -n "${COST_KEEP:-}" ]; then
            mkdir -p "$COST_KEEP"
            cp "$(ls "$work"/callgrind.out.* | tail -1)" "$COST_KEEP/${name%% *}.$build.callgrind"
        fi
        rm -f "$work"/callgrind.out*
        echo "$name|$build|$line" | tee -a "$results" >&2
    done
done

python3 - "$results" "$REQUESTS" "$work/table.md" <<'PY'
import sys
path, requests, table_path = sys.argv[1:]
runs = {}
for line in open(path):
    name, build, numbers = line.strip().split("|")
    runs[(name, build)] = {k: float(v) for k, v in (p.split("=") for p in numbers.split())}
names = list(dict.fromkeys(name for name, _ in runs))
rows = ["| configuration | compiled out | observed | added | of which the span export task | of which the JSON log line (its ids) | the rest: the calls, metrics, trace context |",
        "|---|---|---|---|---|---|---|"]
for name in names:
    base, observed = runs[(name, "compiled_out")], runs[(name, "observed")]
    added = observed["total"] - base["total"]
    log_added = observed["log_line"] - base["log_line"]
    rest = added - observed["export"] - log_added
    rows.append(f"| {name} | {base['total']:,.0f} | {observed['total']:,.0f} | "
                f"+{added:,.0f} (+{added / base['total'] * 100:.1f}%) | {observed['export']:,.0f} | "
                f"{log_added:+,.0f} ({observed['log_ids']:,.0f}) | {rest:+,.0f} |")
table = "\n".join(rows) + (
    f"\n\nInstructions per request (user space, every thread of the service), from callgrind over "
    f"{requests} requests after a warm-up, one keep-alive connection.\n")
print(table)
open(table_path, "w").write(table)
# COST_CACHE=1: each build's simulated cache misses per request (not written).
for name in names:
    base, observed = runs[(name, "compiled_out")], runs[(name, "observed")]
    if "i1_misses" in observed:
        print(f"{name}: instruction-cache misses per request {base['i1_misses']:,.0f} -> "
              f"{observed['i1_misses']:,.0f}, data-cache read misses {base['d1_read_misses']:,.0f} -> "
              f"{observed['d1_read_misses']:,.0f}, write misses {base['d1_write_misses']:,.0f} -> "
              f"{observed['d1_write_misses']:,.0f}")
PY
if [ "${COST_WRITE:-0}" = 1 ]; then
    python3 scripts/lib/benchmarks_section.py "$root/BENCHMARKS.md" request_cost.sh 'Instructions per request (`scripts/request_cost.sh`)' <"$work/table.md"
fi
