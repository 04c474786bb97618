#!/usr/bin/env bash
# The realistic handler's paired ratios (`benches/overhead.rs`, `paired_ratios`) over many
# processes: what observe costs above the two clock reads any per-call timer needs.
#
# One bench process pairs each variant with the bare handler block by block, and its
# interval is tight; but each process lays out its heap, stack and code differently
# (address randomisation), and the same ratio moves by about ±0.5% from one process to
# the next, more than within one. So this runs the paired measurement in PAIRED_RUNS
# processes (default 20), pinned to CPU 0, and reports each ratio's median and range
# over them, and each instrumented variant's excess over the two clock reads (its ratio
# minus the clock reads' ratio, per process): median, with a bootstrap 95% interval over
# the processes. Not part of `cargo test`.
#
#   scripts/paired_runs.sh
#   PAIRED_RUNS=40 scripts/paired_runs.sh
#   PAIRED_WRITE=1 scripts/paired_runs.sh   # also writes the table into BENCHMARKS.md
#
# Needs taskset and python3.
set -euo pipefail

RUNS=${PAIRED_RUNS:-20}
cd "$(dirname "$0")/.."
. scripts/lib/work_dir.sh

for tool in taskset python3; do
    command -v "$tool" >/dev/null || { echo "paired_runs: $tool is missing" >&2; exit 2; }
done
target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
cargo bench --bench overhead --no-run >&2
for run in $(seq "$RUNS"); do
    # A filter no bench matches: criterion measures nothing, the paired ratios still run.
    taskset -c 0 cargo bench -q --bench overhead -- 'realistic_handler/none$' >/dev/null
    cp "$target/tmp/paired_ratios.json" "$work/run$run.json"
    echo "paired_runs: process $run of $RUNS" >&2
done

python3 - "$work" "$RUNS" <<'PY'
import json, random, statistics, sys
sys.path.insert(0, "scripts/lib")
from paired_labels import LABELS as labels
work, runs = sys.argv[1], int(sys.argv[2])
per_run = []
for run in range(1, runs + 1):
    with open(f"{work}/run{run}.json") as f:
        per_run.append({entry["name"]: entry["median"] for entry in json.load(f)})
table = open(f"{work}/table.md", "w")
def both(line=""):
    print(line)
    table.write(line + "\n")

def bootstrap(values, rounds=4000):
    rng = random.Random(1)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(rounds * 0.025)], medians[int(rounds * 0.975)]

both(f"{runs} processes, each the paired measurement of `benches/overhead.rs` (variant / bare, "
     "median of 200 paired observations), pinned to one CPU.")
both()
both("| variant / bare | median over the processes [range] |")
both("|---|---|")
for name, label in labels.items():
    values = [r[name] for r in per_run]
    both(f"| {label} | {statistics.median(values):.4f} [{min(values):.4f}, {max(values):.4f}] |")
both()
both("| above the two clock reads, per process | median [95% CI over the processes] |")
both("|---|---|")
for name in ("sync", "async"):
    excess = [(r[name] - r["two_clock_reads"]) * 100 for r in per_run]
    low, high = bootstrap(excess)
    both(f"| {labels[name]} | {statistics.median(excess):+.2f}% [{low:+.2f}%, {high:+.2f}%] |")
table.close()
PY

if [ "${PAIRED_WRITE:-0}" = 1 ]; then
    python3 scripts/lib/benchmarks_section.py BENCHMARKS.md paired_runs.sh \
        "The realistic handler over many processes (\`scripts/paired_runs.sh\`)" <"$work/table.md"
fi
