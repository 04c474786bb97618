# Sourced by the load scripts: `wait_for_health PORT LOG [SECONDS]` waits until the
# example service answers `/health` on PORT (10 s by default; valgrind needs longer),
# or prints the service's LOG and exits.
wait_for_health() {
    local port=$1 log=$2 seconds=${3:-10}
    local tries=$((seconds * 10))
    for _ in $(seq "$tries"); do
        curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
        sleep 0.1
    done
    cat "$log" >&2
    exit 1
}
