# Sourced by the load scripts: a scratch directory `$work` and a list `pids` of background
# processes, both cleaned up when the script exits, however it exits.
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
