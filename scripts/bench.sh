#!/usr/bin/env bash
# Runs the overhead, OpenTelemetry and scrape-cost benches (short settings: the machine is shared) and regenerates
# BENCHMARKS.md from criterion's results. Longer runs: MEASURE=10 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WARM=${WARM:-1}
MEASURE=${MEASURE:-3}
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
COMMAND="cargo bench --bench overhead --bench otel -- --warm-up-time $WARM --measurement-time $MEASURE"
SCRAPE_COMMAND="cargo bench --bench scrape"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
$COMMAND
$SCRAPE_COMMAND
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
# The sections scripts/build_time.sh and scripts/load.sh keep at the end are carried over.
KEPT=$(sed -n '/^## \(The first build\|Service load\)/,$p' BENCHMARKS.md 2>/dev/null || true)
python3 scripts/bench_report.py "$TARGET" "$COMMAND" "$LOAD_BEFORE" "$LOAD_AFTER" > BENCHMARKS.md
if [ -n "$KEPT" ]; then printf '\n%s\n' "$KEPT" >> BENCHMARKS.md; fi
echo "wrote BENCHMARKS.md"
