# Sourced by scripts/load.sh and scripts/request_cost.sh: the release example service
# twice, observed and with instrumentation compiled out, copied to DIR/observed and
# DIR/compiled_out; run from the repository root.
#
# `-p observe`: without it Cargo also resolves the dev-dependencies of the other workspace
# members, whose doc examples depend on `observe` with its default features, and that
# turns `enabled` back on in the "compiled out" build (it did, unnoticed, for a while).
build_example_pair() {
    local dir=$1 target=${CARGO_TARGET_DIR:-$(pwd)/target}
    cargo build --release -p observe --example parsing_service >&2
    cp "$target/release/examples/parsing_service" "$dir/observed"
    cargo build --release -p observe --no-default-features --example parsing_service >&2
    cp "$target/release/examples/parsing_service" "$dir/compiled_out"
    # Leave the default build in place for whoever runs the example next.
    cargo build --release -p observe --example parsing_service >&2
    # The comparison means nothing unless exactly one build has the instrumentation.
    if grep -qa call_guard "$dir/compiled_out"; then
        echo "the compiled-out build still contains observe's call guard" >&2
        return 1
    fi
    if ! grep -qa call_guard "$dir/observed"; then
        echo "the observed build has no call guard" >&2
        return 1
    fi
}
