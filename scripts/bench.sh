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
# "The first build" (scripts/build_time.sh's section, at the end) is kept as it is.
FIRST_BUILD=$(sed -n '/^## The first build$/,$p' BENCHMARKS.md 2>/dev/null || true)
python3 scripts/bench_report.py "$TARGET" "$COMMAND" "$LOAD_BEFORE" "$LOAD_AFTER" > BENCHMARKS.md
if [ -n "$FIRST_BUILD" ]; then printf '\n%s\n' "$FIRST_BUILD" >> BENCHMARKS.md; fi
echo "wrote BENCHMARKS.md"
