#!/usr/bin/env bash
# The seeds' service budget, measured: the release example service pinned to CPU 0, wrk
# pinned to CPU 1 (with the local OTLP receiver), in alternating rounds, each
# configuration against a build with instrumentation compiled out
# (`--no-default-features`) run with the same environment and the same traffic, so only
# the instrumentation differs. Reports requests/s, CPU µs per request (the service
# process's user+system time over the requests wrk completed) and p99. Not part of
# `cargo test`.
#
# Code layout: where the linker puts the example's functions moves its throughput by
# about 2% (BENCHMARKS.md), more than the budgets being measured, and a change anywhere
# in the binary moves it. So each build is linked LOAD_LAYOUTS times: the linker's
# default order and shuffled function orders (`scripts/lib/example_builds.sh`). A round
# runs every layout of both builds, and its ratio is observed over compiled out, each
# build's mean over its layouts; the table gives the median and range of the rounds'
# ratios, how far one build's layouts differ, and the range a comparison of single
# layouts would have shown.
#
#   scripts/load.sh                         # 3 rounds × 4 layouts × 10 s per build
#   LOAD_ROUNDS=4 LOAD_LAYOUTS=6 LOAD_SECONDS=8 LOAD_CONFIGS="b c" scripts/load.sh
#   LOAD_LAYOUTS=1 scripts/load.sh          # the default layout only (as before)
#   LOAD_WRITE=1 scripts/load.sh            # also writes the table into BENCHMARKS.md
#
# Configurations: (b) defaults, metrics only; (c) OBSERVE_ENVIRONMENT=prod (JSON logs,
# 10% head sampling) with OTLP/HTTP export to the local receiver; (d) as (c) with every
# 10th request malformed (every failure exported). Needs wrk, taskset, python3, 2 CPUs,
# and the lld linker (Rust's default on x86_64 Linux since 1.90).
set -euo pipefail

ROUNDS=${LOAD_ROUNDS:-3}
LAYOUTS=${LOAD_LAYOUTS:-4}
SECONDS_PER_RUN=${LOAD_SECONDS:-10}
CONFIGS=${LOAD_CONFIGS:-b c d}
CONNECTIONS=${LOAD_CONNECTIONS:-8}
APP_PORT=${LOAD_APP_PORT:-18180}
METRICS_PORT=${LOAD_METRICS_PORT:-19564}
COLLECTOR_PORT=${LOAD_COLLECTOR_PORT:-14418}
cd "$(dirname "$0")/.."
root=$(pwd)
. scripts/lib/work_dir.sh

for tool in wrk taskset python3 curl; do
    command -v "$tool" >/dev/null || { echo "load: $tool is missing" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "load: needs 2 CPUs" >&2; exit 2; }

. scripts/lib/example_builds.sh
. scripts/lib/wait_for_health.sh
build_example_layouts "$work" "$LAYOUTS"

taskset -c 1 python3 scripts/lib/otlp_receiver.py "$COLLECTOR_PORT" &
pids+=($!)

# A valid message of about 1 KB, and (every BAD_EVERY-th request) a malformed one.
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
local words = string.rep("lorem ipsum dolor sit amet ", 36)
local good = '{"id":"load-1","source":"Email","body":"' .. words .. '"}'
local bad = '{"id": "broken", "body": '
local every = tonumber(os.getenv("BAD_EVERY") or "0")
local n = 0
request = function()
    n = n + 1
    if every > 0 and n % every == 0 then
        return wrk.format(nil, nil, nil, bad)
    end
    return wrk.format(nil, nil, nil, good)
end
LUA

# letter | name | environment | BAD_EVERY
all_configs=(
    "b|b defaults|OBSERVE_ENVIRONMENT=dev|0"
    "c|c prod+otlp|OBSERVE_ENVIRONMENT=prod OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$COLLECTOR_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf|0"
    "d|d prod+otlp, 10% malformed|OBSERVE_ENVIRONMENT=prod OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$COLLECTOR_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf|10"
)
configs=()
for config in "${all_configs[@]}"; do
    [[ " $CONFIGS " == *" ${config%%|*} "* ]] && configs+=("${config#*|}")
done
[ "${#configs[@]}" -gt 0 ] || { echo "load: LOAD_CONFIGS names none of b, c, d" >&2; exit 2; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run BINARY ENV BAD_EVERY -> "requests_per_s cpu_us_per_request p99_ms"
run() {
    local binary=$1 environment=$2 bad_every=$3
    env $environment PARSING_ADDR=127.0.0.1:$APP_PORT OBSERVE_METRICS_ADDR=127.0.0.1:$METRICS_PORT \
        RUST_LOG=info taskset -c 0 "$binary" >/dev/null 2>"$work/service.err" &
    local service=$!
    wait_for_health "$APP_PORT" "$work/service.err"
    # Warm-up: connections, allocator, caches.
    BAD_EVERY=$bad_every taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s -s "$work/post.lua" \
        "http://127.0.0.1:$APP_PORT/parse" >/dev/null
    local before; before=$(cpu_ticks "$service")
    BAD_EVERY=$bad_every taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency \
        -s "$work/post.lua" "http://127.0.0.1:$APP_PORT/parse" >"$work/wrk.out"
    local after; after=$(cpu_ticks "$service")
    kill "$service"; wait "$service" 2>/dev/null || true
    python3 - "$work/wrk.out" "$((after - before))" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
ticks, hz = int(sys.argv[2]), int(sys.argv[3])
requests = int(re.search(r"(\d+) requests in", text).group(1))
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups()
p99 = float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
print(f"{rate:.0f} {ticks / hz / requests * 1e6:.2f} {p99:.3f}")
PY
}

results="$work/results"
: >"$results"
for round in $(seq "$ROUNDS"); do
    for config in "${configs[@]}"; do
        IFS='|' read -r name environment bad_every <<<"$config"
        for layout in $(seq 0 $((LAYOUTS - 1))); do
            # Alternate which build goes first, so drift hits both alike.
            if (( (round + layout) % 2 )); then order="compiled_out observed"; else order="observed compiled_out"; fi
            for build in $order; do
                line=$(run "$work/$build.$layout" "$environment" "$bad_every")
                echo "$round|$name|$build|$layout|$line" | tee -a "$results" >&2
            done
        done
    done
done

python3 - "$results" "$ROUNDS" "$LAYOUTS" "$SECONDS_PER_RUN" "$CONNECTIONS" "$work/table.md" <<'PY'
import statistics, subprocess, sys
path, rounds, layouts, seconds, connections, table_path = sys.argv[1:]
RATE, CPU, P99 = range(3)
# (name, build) -> {round: {layout: (rate, cpu, p99)}}
runs = {}
for line in open(path):
    round_, name, build, layout, numbers = line.strip().split("|")
    runs.setdefault((name, build), {}).setdefault(int(round_), {})[int(layout)] = \
        tuple(map(float, numbers.split()))
def round_mean(name, build, round_, i):
    # One round's figure for a build: the mean over its layouts.
    return statistics.fmean(r[i] for r in runs[(name, build)][round_].values())
def median(name, build, i):
    return statistics.median(round_mean(name, build, r, i) for r in runs[(name, build)])
def paired(name, i):
    # Each round's observed/compiled-out ratio: every layout of both builds ran in that
    # round, so whatever the machine did then hits both alike.
    observed, compiled_out = runs[(name, "observed")], runs[(name, "compiled_out")]
    ratios = sorted(round_mean(name, "observed", r, i) / round_mean(name, "compiled_out", r, i)
                    for r in observed if r in compiled_out)
    return statistics.median(ratios), ratios[0], ratios[-1]
def single_pairs(name):
    # What comparing one layout of each build would have shown: each layout's two builds
    # ran back to back, and their ratio carries that layout pair's luck.
    observed, compiled_out = runs[(name, "observed")], runs[(name, "compiled_out")]
    ratios = sorted(observed[r][layout][RATE] / compiled_out[r][layout][RATE]
                    for r in observed if r in compiled_out
                    for layout in observed[r] if layout in compiled_out[r])
    return f"{statistics.median(ratios):.3f}× [{ratios[0]:.3f}, {ratios[-1]:.3f}]"
def p99(name, build):
    return statistics.median(numbers[P99] for by_layout in runs[(name, build)].values()
                             for numbers in by_layout.values())
names = list(dict.fromkeys(name for name, _ in runs))
rows = ["| configuration | requests/s, compiled out | requests/s, observed | throughput observed / compiled out, per round: median [range] | CPU µs per request, compiled out → observed | CPU per request, per round: median [range] | throughput, one layout against one layout, back to back: median [range] | p99 ms, compiled out → observed |",
        "|---|---|---|---|---|---|---|---|"]
for name in names:
    rate, rate_low, rate_high = paired(name, RATE)
    cpu, cpu_low, cpu_high = paired(name, CPU)
    rows.append(f"| {name} | {median(name, 'compiled_out', RATE):.0f} | {median(name, 'observed', RATE):.0f} | "
                f"{rate:.3f}× [{rate_low:.3f}, {rate_high:.3f}] | "
                f"{median(name, 'compiled_out', CPU):.2f} → {median(name, 'observed', CPU):.2f} | "
                f"{cpu:.3f}× [{cpu_low:.3f}, {cpu_high:.3f}] | "
                f"{single_pairs(name)} | "
                f"{p99(name, 'compiled_out'):.2f} → {p99(name, 'observed'):.2f} |")
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
table = "\n".join(rows) + (
    f"\n\n{rounds} rounds; in each, {layouts} layouts of each build (the linker's default order "
    f"and {int(layouts) - 1} shuffled), {seconds} s each, a layout of the two builds back to back "
    f"(which goes first alternates); a round's figure for a build is the mean over its layouts. "
    f"Service on CPU 0, `wrk -t1 -c{connections}` and the OTLP receiver on CPU 1; {cpu}.\n")
print(table)
open(table_path, "w").write(table)
PY
if [ "${LOAD_WRITE:-0}" = 1 ]; then
    python3 scripts/lib/benchmarks_section.py "$root/BENCHMARKS.md" load.sh 'Service load (`scripts/load.sh`)' <"$work/table.md"
fi
