#!/usr/bin/env bash
# Compile time of 200 annotated functions: a generated crate with `#[observe::instrumented]`
# on each, the same with `#[tracing::instrument]`, and with no attribute. Dependencies are
# built first; then each crate alone is cleaned and rebuilt (debug) RUNS times, and the
# median wall time printed as a markdown table. Also prints the syn majors in observe's
# dependency graph (`cargo tree -d`).
#
#   scripts/compile_time.sh            # RUNS=3 FUNCTIONS=200
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-3}
FUNCTIONS=${FUNCTIONS:-200}
WORK=$(mktemp -d)
# KEEP=1 keeps the generated workspace (its path is printed) for experiments.
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; else echo "workspace: $WORK" >&2; fi

cat > "$WORK/Cargo.toml" <<TOML
[workspace]
members = ["gen_observe", "gen_tracing", "gen_bare"]
resolver = "3"
TOML

generate() { # name dependency attribute
    mkdir -p "$WORK/$1/src"
    cat > "$WORK/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
$2
TOML
    for i in $(seq 1 "$FUNCTIONS"); do
        cat <<RUST
$3
pub fn operation_$i(input: u64) -> Result<u64, std::fmt::Error> {
    if input == $i { Err(std::fmt::Error) } else { Ok(input.wrapping_mul($i)) }
}
RUST
    done > "$WORK/$1/src/lib.rs"
}
generate gen_observe "observe = { path = \"$REPO\" }" '#[observe::instrumented(service = "generated")]'
generate gen_tracing 'tracing = "0.1.44"' '#[tracing::instrument]'
generate gen_bare '' ''

cd "$WORK"
export CARGO_TARGET_DIR="$WORK/target"
cargo build --quiet --workspace  # every dependency, once

median_build() { # crate
    local times=()
    for _ in $(seq 1 "$RUNS"); do
        cargo clean --quiet -p "$1"
        local start end
        start=$(date +%s.%N)
        cargo build --quiet -p "$1"
        end=$(date +%s.%N)
        times+=("$(echo "$end - $start" | bc)")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

OBSERVE=$(median_build gen_observe)
TRACING=$(median_build gen_tracing)
BARE=$(median_build gen_bare)
echo "| crate ($FUNCTIONS functions, debug, crate only, median of $RUNS) | wall time |"
echo "|---|---|"
printf '| no attribute | %.2f s |\n' "$BARE"
printf '| `#[tracing::instrument]` | %.2f s |\n' "$TRACING"
printf '| `#[observe::instrumented]` | %.2f s |\n' "$OBSERVE"
printf '\nobserve / tracing: %.2f\n' "$(echo "$OBSERVE / $TRACING" | bc -l)"
echo
echo "syn majors in observe's dependency graph (normal dependencies):"
cargo tree -p gen_observe -e normal --prefix none | grep -E '^syn ' | sort -u
echo "syn majors in the tracing crate's graph:"
cargo tree -p gen_tracing -e normal --prefix none | grep -E '^syn ' | sort -u
