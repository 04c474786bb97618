#!/usr/bin/env bash
# Instructions per call of the tiny handler, bare and with `#[instrumented]`, sync, async
# and nested, with metrics only and with spans exported at 10%
# (`benches/call_instructions.rs`), counted by callgrind: exact where timings are not. A bench times a call in a tight loop, where its code stays in the instruction cache
# and its two TSC reads hide the rest; in a service each instruction on the request path
# is fetched and run, so this is what a change to the call path is first read by.
# Not part of `cargo test`.
#
#   scripts/call_instructions.sh
#   INSTR_WRITE=1 scripts/call_instructions.sh   # also writes the table into BENCHMARKS.md
#
# Needs valgrind (callgrind) and python3.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib/work_dir.sh

for tool in valgrind callgrind_annotate python3; do
    command -v "$tool" >/dev/null || { echo "call_instructions: $tool is missing" >&2; exit 2; }
done
binary=$(cargo bench --bench call_instructions --no-run --message-format=json |
    python3 -c 'import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "call_instructions" and message.get("executable"):
        print(message["executable"])')
[ -x "$binary" ] || { echo "call_instructions: no bench binary" >&2; exit 1; }
for config in metrics spans; do
    CALL_INSTRUCTIONS_CONFIG=$config valgrind --tool=callgrind \
        --callgrind-out-file="$work/callgrind.$config" "$binary" >/dev/null 2>"$work/valgrind.$config.err" ||
        { cat "$work/valgrind.$config.err" >&2; exit 1; }
    callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.$config" >"$work/annotate.$config"
done

python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
calls = 100_000  # CALLS in benches/call_instructions.rs
calls_of = {"sync": calls, "async": calls, "nested": 3 * (calls // 3)}
def loops(config):
    found = {}
    for line in open(f"{work}/annotate.{config}"):
        match = re.match(r"\s*([\d,]+)\s.*call_instructions::loop_(\w+)_(bare|observed)\s", line)
        if match:
            found[(match.group(2), match.group(3))] = int(match.group(1).replace(",", ""))
    missing = [f"loop_{shape}_{kind}" for shape in calls_of for kind in ("bare", "observed") if (shape, kind) not in found]
    if missing:
        sys.exit(f"call_instructions: no count for {missing} in {config} (inlined?)")
    return {key: count / calls_of[key[0]] for key, count in found.items()}
metrics, spans = loops("metrics"), loops("spans")
labels = {
    "sync": "sync",
    "async": "async, each through `futures::executor::block_on`",
    "nested": "nested: an async call making a sync and an async call, per call",
}
rows = [
    "| call | bare | `#[instrumented]`, metrics only | added | `#[instrumented]`, spans exported at 10% | added |",
    "|---|---|---|---|---|---|",
]
for shape, label in labels.items():
    bare = metrics[(shape, "bare")]
    rows.append(
        f"| {label} | {bare:.0f} | {metrics[(shape, 'observed')]:.0f} | +{metrics[(shape, 'observed')] - bare:.0f} "
        f"| {spans[(shape, 'observed')]:.0f} | +{spans[(shape, 'observed')] - spans[(shape, 'bare')]:.0f} |")
table = "\n".join(rows) + (
    f"\n\nThe tiny handler, {calls:,} calls per loop, each loop's instructions (callgrind, inclusive: the "
    "calling thread's) over its calls. Metrics only: `observe::init()`'s defaults; spans: the same "
    "with OTLP export at 10% head sampling (root calls; the export runs on observe's exporter thread).\n")
print(table)
open(f"{work}/table.md", "w").write(table)
PY
if [ "${INSTR_WRITE:-0}" = 1 ]; then
    python3 scripts/lib/benchmarks_section.py BENCHMARKS.md call_instructions.sh \
        'Instructions per call (`scripts/call_instructions.sh`)' <"$work/table.md"
fi
