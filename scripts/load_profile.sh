#!/usr/bin/env bash
# Where a request's CPU time goes, observed build against compiled out: one
# configuration of `scripts/load.sh`, each build pinned to CPU 0 under `wrk` on CPU 1,
# sampled by `perf record` for the whole wrk run, in rounds that alternate which build
# goes first. Prints nanoseconds of CPU per request (samples' time over the requests wrk
# completed), the median over the rounds of each round's difference and its range, the
# largest differences first:
# - by group (the kernel, observe's and `tracing`'s functions, the example's request
#   functions, memcpy, the allocator, the rest) and by thread (the request workers,
#   observe's exporter thread). Here inlined code counts in the function it was inlined
#   into, which is why the example's request functions are one group;
# - observe's code by function with its inlined code included, the TSC reads on a row of
#   their own (`scripts/lib/inline_profile.py`, from the builds' debug info): where the
#   first table's request functions and observe's functions go;
# - by function, as `perf report` has them.
# Time, not instructions: read it beside `scripts/request_cost.sh`. Not part of
# `cargo test`.
#
#   scripts/load_profile.sh                   # (c): prod, OTLP to a local receiver
#   PROFILE_CONFIG=b scripts/load_profile.sh  # (b) defaults; d: (c) with 10% malformed
#   PROFILE_ROUNDS=5 PROFILE_SECONDS=20 PROFILE_TOP=40 scripts/load_profile.sh
#   PROFILE_WRITE=1 scripts/load_profile.sh   # also writes the tables into BENCHMARKS.md
#   PROFILE_BASELINE=old/parsing_service scripts/load_profile.sh
#                                             # against another build (an earlier commit's
#                                             # observed example) instead of compiled out
#                                             # (built by scripts/lib/example_builds.sh,
#                                             # for its debug info)
#
# Needs wrk, perf (Debian: linux-perf), taskset, python3, curl, binutils (nm, addr2line), 2 CPUs.
set -euo pipefail

CONFIG=${PROFILE_CONFIG:-c}
ROUNDS=${PROFILE_ROUNDS:-3}
SECONDS_PER_RUN=${PROFILE_SECONDS:-10}
TOP=${PROFILE_TOP:-25}
APP_PORT=${PROFILE_APP_PORT:-18183}
METRICS_PORT=${PROFILE_METRICS_PORT:-19567}
COLLECTOR_PORT=${PROFILE_COLLECTOR_PORT:-14421}
cd "$(dirname "$0")/.."
. scripts/lib/work_dir.sh

for tool in wrk perf taskset python3 curl nm addr2line; do
    command -v "$tool" >/dev/null || { echo "load_profile: $tool is missing" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "load_profile: needs 2 CPUs" >&2; exit 2; }
python3 scripts/lib/inline_profile.py --check

otlp="OBSERVE_ENVIRONMENT=prod OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$COLLECTOR_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
case "$CONFIG" in
    b) environment="OBSERVE_ENVIRONMENT=dev" bad_every=0 ;;
    c) environment=$otlp bad_every=0 ;;
    d) environment=$otlp bad_every=10 ;;
    *) echo "load_profile: PROFILE_CONFIG is b, c or d" >&2; exit 2 ;;
esac

. scripts/lib/example_builds.sh
. scripts/lib/wait_for_health.sh
build_example_pair "$work"
baseline="compiled out"
if [ -n "${PROFILE_BASELINE:-}" ]; then
    [ "${PROFILE_WRITE:-0}" = 1 ] && { echo "load_profile: PROFILE_WRITE is for compiled out" >&2; exit 2; }
    cp "$PROFILE_BASELINE" "$work/compiled_out"
    baseline="baseline"
fi
# The request body `scripts/load.sh` posts (its heredoc, so the two cannot drift apart).
sed -n '/^cat >"\$work\/post.lua" <<.LUA.$/,/^LUA$/p' scripts/load.sh | sed '1d;$d' >"$work/post.lua"
[ -s "$work/post.lua" ] || { echo "load_profile: no request body found in load.sh" >&2; exit 1; }

taskset -c 1 python3 scripts/lib/otlp_receiver.py "$COLLECTOR_PORT" &
pids+=($!)

# profile BUILD ROUND: the build under wrk, sampled; its periods per function.
profile() {
    local build=$1 round=$2
    env $environment PARSING_ADDR=127.0.0.1:$APP_PORT OBSERVE_METRICS_ADDR=127.0.0.1:$METRICS_PORT \
        RUST_LOG=info taskset -c 0 "$work/$build" >/dev/null 2>"$work/service.err" &
    local service=$!
    pids+=("$service")
    wait_for_health "$APP_PORT" "$work/service.err"
    BAD_EVERY=$bad_every taskset -c 1 wrk -t1 -c8 -d2s -s "$work/post.lua" \
        "http://127.0.0.1:$APP_PORT/parse" >/dev/null
    # The sampled window is the wrk run: perf stops when its command (wrk) exits.
    BAD_EVERY=$bad_every perf record -q -F 1999 -p "$service" -o "$work/$build.perf" -- \
        taskset -c 1 wrk -t1 -c8 -d"${SECONDS_PER_RUN}s" -s "$work/post.lua" \
        "http://127.0.0.1:$APP_PORT/parse" >"$work/$build.$round.wrk" 2>/dev/null
    kill "$service"; wait "$service" 2>/dev/null || true
    perf report -i "$work/$build.perf" --stdio --no-children -g none --sort dso,sym \
        -F period,dso,sym --field-separator='|' 2>/dev/null | grep -v '^#' >"$work/$build.$round.periods"
    # By thread: the request workers against observe's exporter thread (OTLP export).
    perf report -i "$work/$build.perf" --stdio --no-children -g none --sort comm \
        -F period,comm --field-separator='|' 2>/dev/null | grep -v '^#' >"$work/$build.$round.threads"
    # Observe's code by function, its inlined code included.
    python3 scripts/lib/inline_profile.py "$work/$build.perf" "$work/$build" >"$work/$build.$round.inline"
}

for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="compiled_out observed"; else order="observed compiled_out"; fi
    for build in $order; do profile "$build" "$round"; done
done

python3 - "$work" "$CONFIG" "$TOP" "$ROUNDS" "$SECONDS_PER_RUN" "$baseline" <<'PY'
import re, statistics, sys
work, config, top, rounds, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
baseline = sys.argv[6]
table = open(f"{work}/table.md", "w")
def both(line=""):
    print(line)
    table.write(line + "\n")

def group(dso, sym):
    if dso.startswith("[kernel"):
        return "kernel"
    if any(p in sym for p in ("observe_runtime", "tracing", "opentelemetry")):
        return "observe, tracing, opentelemetry"
    if "parsing_service" in sym or "axum::handler::Handler" in sym:
        return "the example's request functions (inlined code)"
    if "memmove" in sym or "memcpy" in sym:
        return "memcpy"
    if any(p in sym for p in ("malloc", "_int_free", "cfree", "realloc")):
        return "allocator"
    return "the rest (hyper, tokio, serde, std, ...)"

def load(build, round):
    text = open(f"{work}/{build}.{round}.wrk").read()
    n = int(re.search(r"(\d+) requests in", text).group(1))
    per = {}
    for line in open(f"{work}/{build}.{round}.periods"):
        parts = line.rstrip("\n").split("|")
        if len(parts) < 3 or not parts[0].strip().isdigit():
            continue
        period, dso, sym = int(parts[0]), parts[1].strip(), parts[2].strip()
        sym = re.sub(r"^\[.\]\s*", "", sym)
        key = (group(dso, sym), sym)
        per[key] = per.get(key, 0) + period / n
    return n, per

runs = [(load("compiled_out", r), load("observed", r)) for r in range(1, rounds + 1)]
def median_range(values):
    return statistics.median(values), min(values), max(values)

totals = [(sum(o.values()), sum(b.values())) for (_, o), (_, b) in runs]
out_t, _, _ = median_range([a for a, _ in totals])
obs_t, _, _ = median_range([b for _, b in totals])
diff, low, high = median_range([b - a for a, b in totals])
both(f"Configuration ({config}), {rounds} rounds of {seconds} s per build: "
     f"{sum(n for (n, _), _ in runs)} and {sum(n for _, (n, _) in runs)} requests "
     f"({baseline}, observed).")
both(f"CPU per request, median: {out_t:.0f} ns {baseline}, {obs_t:.0f} ns observed; "
     f"difference {diff:+.0f} ns [{low:+.0f}, {high:+.0f}] ({diff / out_t * 100:+.1f}%).")
both()
names = sorted({g for (_, o), (_, b) in runs for (g, _) in list(o) + list(b)})
rows = []
for g in names:
    a = [sum(v for (k, _), v in o.items() if k == g) for (_, o), _ in runs]
    b = [sum(v for (k, _), v in ob.items() if k == g) for _, (_, ob) in runs]
    d = median_range([y - x for x, y in zip(a, b)])
    rows.append((g, statistics.median(a), statistics.median(b), d))
both(f"| group | {baseline}, ns | observed, ns | difference, median [range] |")
both("|---|---|---|---|")
for g, a, b, (d, lo, hi) in sorted(rows, key=lambda r: -r[3][0]):
    both(f"| {g} | {a:.0f} | {b:.0f} | {d:+.0f} [{lo:+.0f}, {hi:+.0f}] |")
both()
def threads(build, round, n):
    per = {}
    for line in open(f"{work}/{build}.{round}.threads"):
        parts = line.rstrip("\n").split("|")
        if len(parts) >= 2 and parts[0].strip().isdigit():
            name = parts[1].strip()
            # tokio's workers and blocking threads are one role whatever their number.
            name = re.sub(r"[-_ ]?\d+$", "", name)
            per[name] = per.get(name, 0) + int(parts[0]) / n
    return per
thread_runs = [(threads("compiled_out", r, runs[r - 1][0][0]), threads("observed", r, runs[r - 1][1][0]))
               for r in range(1, rounds + 1)]
thread_names = sorted({t for a, b in thread_runs for t in list(a) + list(b)})
both(f"| thread | {baseline}, ns | observed, ns | difference, median [range] |")
both("|---|---|---|---|")
thread_rows = []
for t in thread_names:
    a = [x.get(t, 0) for x, _ in thread_runs]
    b = [y.get(t, 0) for _, y in thread_runs]
    thread_rows.append((t, statistics.median(a), statistics.median(b), median_range([y - x for x, y in zip(a, b)])))
for t, a, b, (d, lo, hi) in sorted(thread_rows, key=lambda r: -r[2]):
    if max(a, b) >= 1:
        both(f"| {t} | {a:.0f} | {b:.0f} | {d:+.0f} [{lo:+.0f}, {hi:+.0f}] |")
both()
# Observe's code, inlined code included (scripts/lib/inline_profile.py): ns per request.
def inline(build, round, n):
    per = {}
    for line in open(f"{work}/{build}.{round}.inline"):
        period, thread, label = line.rstrip("\n").split("|", 2)
        if label.startswith("(not observe"):
            label = "(not observe's code)"
        if thread != "tokio-rt-worker":
            label = f"{label}, on the {thread} thread"
        per[label] = per.get(label, 0) + int(period) / n
    return per
inline_runs = [(inline("compiled_out", r, runs[r - 1][0][0]), inline("observed", r, runs[r - 1][1][0]))
               for r in range(1, rounds + 1)]
labels = {k for a, b in inline_runs for k in list(a) + list(b) if not k.startswith("(not observe")}
inline_rows = []
for k in labels:
    a = [x.get(k, 0) for x, _ in inline_runs]
    b = [y.get(k, 0) for _, y in inline_runs]
    inline_rows.append((k, statistics.median(a), statistics.median(b), median_range([y - x for x, y in zip(a, b)])))
inline_rows.sort(key=lambda r: -abs(r[3][0]))
shown = [r for r in inline_rows if max(r[1], r[2]) >= 2][:top]
rest = [r for r in inline_rows if r not in shown]
both(f"| observe's code, inlined code included | {baseline}, ns | observed, ns | difference, median [range] |")
both("|---|---|---|---|")
for k, a, b, (d, lo, hi) in shown:
    name = re.sub(r"^observe_runtime::", "", k).replace("|", "\\|")
    both(f"| `{name}` | {a:.0f} | {b:.0f} | {d:+.0f} [{lo:+.0f}, {hi:+.0f}] |")
def total(which, keys):
    return [sum(run[which].get(k, 0) for k in keys) for run in inline_runs]
rest_keys = [r[0] for r in rest]
if rest_keys:
    a, b = total(0, rest_keys), total(1, rest_keys)
    d = median_range([y - x for x, y in zip(a, b)])
    both(f"| {len(rest_keys)} more functions | {statistics.median(a):.0f} | {statistics.median(b):.0f} | {d[0]:+.0f} [{d[1]:+.0f}, {d[2]:+.0f}] |")
a, b = total(0, labels), total(1, labels)
d = median_range([y - x for x, y in zip(a, b)])
both(f"| all of observe's code | {statistics.median(a):.0f} | {statistics.median(b):.0f} | {d[0]:+.0f} [{d[1]:+.0f}, {d[2]:+.0f}] |")
both()
table.close()
print(f"The {top} largest differences by function, ns per request (median over the rounds):")
keys = {k for (_, o), (_, b) in runs for k in list(o) + list(b)}
diffs = []
for k in keys:
    d = statistics.median(b.get(k, 0) - o.get(k, 0) for (_, o), (_, b) in runs)
    diffs.append((d, k))
for d, (g, sym) in sorted(diffs, key=lambda r: -abs(r[0]))[:top]:
    print(f"{d:+8.0f}  {sym[:110]}")
PY

if [ "${PROFILE_WRITE:-0}" = 1 ]; then
    python3 scripts/lib/benchmarks_section.py BENCHMARKS.md "load_profile.sh ($CONFIG)" \
        "Where a request's CPU time goes, ($CONFIG) (\`scripts/load_profile.sh\`)" <"$work/table.md"
fi
