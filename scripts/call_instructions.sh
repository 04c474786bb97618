#!/usr/bin/env bash
# Instructions per call of the tiny handler, bare and with `#[instrumented]`, sync and
# async (`benches/call_instructions.rs`), counted by callgrind: exact where timings are
# not. A bench times a call in a tight loop, where its code stays in the instruction cache
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
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$binary" >/dev/null 2>"$work/valgrind.err"
callgrind_annotate --inclusive=yes --threshold=100 "$work/callgrind.out" >"$work/annotate.txt"

python3 - "$work/annotate.txt" "$work/table.md" <<'PY'
import re, sys
annotate, table_path = sys.argv[1:]
calls = 100_000  # CALLS in benches/call_instructions.rs
loops = {}
for line in open(annotate):
    match = re.match(r"\s*([\d,]+)\s.*call_instructions::(loop_\w+)\s", line)
    if match:
        loops[match.group(2)] = int(match.group(1).replace(",", "")) / calls
missing = [name for name in ("loop_sync_bare", "loop_sync_observed", "loop_async_bare", "loop_async_observed") if name not in loops]
if missing:
    sys.exit(f"call_instructions: no count for {missing} (inlined?)")
rows = ["| call | instructions per call | added by `#[instrumented]` |", "|---|---|---|"]
for shape, label in (("sync", "sync"), ("async", "async, each through `futures::executor::block_on`")):
    bare, observed = loops[f"loop_{shape}_bare"], loops[f"loop_{shape}_observed"]
    rows.append(f"| {label}, bare | {bare:.0f} | |")
    rows.append(f"| {label}, `#[instrumented]` | {observed:.0f} | +{observed - bare:.0f} |")
table = "\n".join(rows) + (
    f"\n\nThe tiny handler under `observe::init()`'s defaults (metrics only), {calls:,} calls "
    "per loop, each loop's instructions (callgrind, inclusive) over its calls.\n")
print(table)
open(table_path, "w").write(table)
PY
if [ "${INSTR_WRITE:-0}" = 1 ]; then
    python3 scripts/lib/benchmarks_section.py BENCHMARKS.md call_instructions.sh \
        'Instructions per call (`scripts/call_instructions.sh`)' <"$work/table.md"
fi
