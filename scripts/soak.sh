#!/usr/bin/env bash
# Soak: the release example service under bounded load (wrk, fixed connections) with a
# tight scrape loop on /metrics and an OTLP collector that accepts and never answers, for
# SOAK_SECONDS (default 600). Samples the service's RSS, descriptors and threads every
# SOAK_SAMPLE seconds, then checks they stayed flat and that the counts are exact:
# every request wrk saw completed is counted (at most one per connection more: the ones
# cut when wrk stops), the pipeline's three steps agree, and every span is counted as
# dropped. Not part of `cargo test`.
#
#   scripts/soak.sh                      # 10 minutes
#   SOAK_SECONDS=150 scripts/soak.sh     # a short run
#
# Needs wrk (Debian: `apt-get install wrk`), curl and python3. Exit status 0 = held.
set -euo pipefail

SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_SAMPLE=${SOAK_SAMPLE:-10}
CONNECTIONS=${SOAK_CONNECTIONS:-8}
APP_PORT=${SOAK_APP_PORT:-18080}
METRICS_PORT=${SOAK_METRICS_PORT:-19464}
COLLECTOR_PORT=${SOAK_COLLECTOR_PORT:-14318}
cd "$(dirname "$0")/.."
. scripts/lib/work_dir.sh
. scripts/lib/wait_for_health.sh

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is missing" >&2; exit 2; }
done
cargo build --release --example parsing_service >&2
binary=${CARGO_TARGET_DIR:-target}/release/examples/parsing_service

# A collector that accepts connections, reads, and never answers.
python3 - "$COLLECTOR_PORT" <<'EOF' &
import socket, sys, threading
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(64)
def hold(conn):
    while conn.recv(65536):
        pass
while True:
    conn, _ = server.accept()
    threading.Thread(target=hold, args=(conn,), daemon=True).start()
EOF
pids+=($!)

PARSING_ADDR=127.0.0.1:$APP_PORT OBSERVE_METRICS_ADDR=127.0.0.1:$METRICS_PORT \
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$COLLECTOR_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
RUST_LOG=warn "$binary" >"$work/service.log" 2>&1 &
service=$!
pids+=("$service")
wait_for_health "$APP_PORT" "$work/service.log"

cat >"$work/post.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["x-queue"] = "parsing"
wrk.body = '{"id":"soak-1","source":"mail","body":"hello soak world"}'
EOF

# The tight scrape loop: one kept-alive connection, gzip, as fast as answers come.
python3 - "$METRICS_PORT" "$work/scrapes" <<'EOF' &
import http.client, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
scrapes = failures = 0
while True:
    try:
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        response.read()
        scrapes += response.status == 200
        failures += response.status != 200
    except Exception:
        failures += 1
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
    if (scrapes + failures) % 50 == 0:
        with open(sys.argv[2], "w") as f:
            f.write(f"{scrapes} {failures}\n")
EOF
scraper=$!
pids+=("$scraper")

wrk -t1 -c"$CONNECTIONS" -d"${SOAK_SECONDS}s" -s "$work/post.lua" \
    "http://127.0.0.1:$APP_PORT/parse" >"$work/wrk.txt" 2>&1 &
load=$!
pids+=("$load")

sample() {
    local status=/proc/$service/status
    printf '%6s %9s %5s %7s\n' "$1" \
        "$(awk '/^VmRSS/ {print $2}' "$status")" \
        "$(ls "/proc/$service/fd" | wc -l)" \
        "$(awk '/^Threads/ {print $2}' "$status")"
}
printf '%6s %9s %5s %7s\n' "t (s)" "RSS (KiB)" "fds" "threads" | tee "$work/samples"
start=$SECONDS
while kill -0 "$load" 2>/dev/null; do
    sample $((SECONDS - start)) | tee -a "$work/samples"
    sleep "$SOAK_SAMPLE"
done
wait "$load" || true
kill "$scraper" 2>/dev/null || true
sample $((SECONDS - start)) | tee -a "$work/samples"
cat "$work/wrk.txt"
read -r scrapes scrape_failures <"$work/scrapes"

# The collector never answers: wait until every span is counted as dropped (each export
# gives up after its timeout), then check the counts.
python3 - "$METRICS_PORT" "$work/wrk.txt" "$work/samples" "$scrapes" "$scrape_failures" \
    "$CONNECTIONS" "$SOAK_SECONDS" <<'EOF'
import re, sys, time, urllib.request
port, wrk_path, samples_path = sys.argv[1], sys.argv[2], sys.argv[3]
scrapes, scrape_failures, connections, seconds = map(int, sys.argv[4:8])

def scrape():
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            values[series] = float(value)
    return values

def total(values, predicate):
    return sum(v for s, v in values.items() if predicate(s))

deadline = time.time() + 60
while True:
    values = scrape()
    spans = total(values, lambda s: s.startswith("copilot_parsing") and "_messages_processed_total{" in s)
    dropped = total(values, lambda s: s.startswith("observe_otlp_spans_dropped_total{"))
    if dropped >= spans or time.time() > deadline:
        break
    time.sleep(1)

wrk = open(wrk_path).read()
answered = int(re.search(r"(\d+) requests in", wrk).group(1))
non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
errors = re.search(r"Socket errors: (.*)", wrk)

def op(name, outcome):
    return total(values, lambda s: s.startswith("copilot_parsing_messages_processed_total{")
                 and f'operation="{name}"' in s and f'outcome="{outcome}"' in s)

requests = total(values, lambda s: s.startswith("copilot_parsing_request_messages_processed_total{"))
decode, validate, normalise = op("decode", "success"), op("validate", "success"), op("normalise", "success")
failures = total(values, lambda s: s.startswith("copilot_parsing_failures_total{"))
rows = [list(map(int, l.split())) for l in open(samples_path).read().splitlines()[1:]]
warm = rows[min(3, len(rows) - 1)]
last = rows[-1]
peak_rss = max(r[1] for r in rows[min(3, len(rows) - 1):])

print(f"\nwrk answered {answered} requests ({answered / seconds:.0f}/s); "
      f"{scrapes} scrapes ({scrapes / seconds:.1f}/s), {scrape_failures} failed")
print(f"counted: {requests:.0f} requests, decode {decode:.0f}, validate {validate:.0f}, "
      f"normalise {normalise:.0f}, failures {failures:.0f}; spans {spans:.0f}, dropped {dropped:.0f}")
print(f"RSS {warm[1]} KiB after warm-up, {last[1]} KiB at the end (peak {peak_rss}); "
      f"fds {warm[2]} -> {last[2]}; threads {warm[3]} -> {last[3]}")
problems = []
if non_2xx:
    problems.append(f"{non_2xx.group(1)} non-2xx answers")
if not (answered <= requests <= answered + connections):
    problems.append(f"requests counted {requests:.0f}, wrk saw {answered} (+ at most {connections} cut)")
if not (decode == validate == normalise):
    problems.append("decode, validate and normalise disagree")
if failures:
    problems.append(f"{failures:.0f} failures")
if dropped != spans:
    problems.append(f"{spans - dropped:.0f} spans neither exported nor counted as dropped")
if scrape_failures:
    problems.append(f"{scrape_failures} scrapes failed")
if last[2] > warm[2] + 4 or last[3] > warm[3] + 2:
    problems.append("descriptors or threads grew")
if peak_rss > warm[1] * 1.25 + 4096:
    problems.append("RSS grew by more than a quarter")
if errors:
    print(f"wrk socket errors (connections cut when wrk stopped): {errors.group(1)}")
print("soak: " + ("held" if not problems else "FAILED: " + "; ".join(problems)))
sys.exit(1 if problems else 0)
EOF
