# Sourced by the load scripts: the release example service, observed and with
# instrumentation compiled out; run from the repository root.
#
# `-p observe`: without it Cargo also resolves the dev-dependencies of the other workspace
# members, whose doc examples depend on `observe` with its default features, and that
# turns `enabled` back on in the "compiled out" build (it did, unnoticed, for a while).

# The build's features: observed (the defaults) or compiled_out.
build_features() {
    case "$1" in
        observed) ;;
        compiled_out) echo --no-default-features ;;
    esac
}

# The comparison means nothing unless exactly one build has the instrumentation.
check_build() {
    local build=$1 binary=$2
    if [ "$build" = compiled_out ] && grep -qa call_guard "$binary"; then
        echo "the compiled-out build still contains observe's call guard" >&2
        return 1
    fi
    if [ "$build" = observed ] && ! grep -qa call_guard "$binary"; then
        echo "the observed build has no call guard" >&2
        return 1
    fi
}

# build_example_pair DIR: the two builds as the linker lays them out by default, copied to
# DIR/observed and DIR/compiled_out.
build_example_pair() {
    local dir=$1 build
    build_example_layouts "$dir" 1
    for build in observed compiled_out; do
        mv "$dir/$build.0" "$dir/$build"
    done
}

# build_example_layouts DIR COUNT: each build linked COUNT times, copied to
# DIR/observed.L and DIR/compiled_out.L for L in 0..COUNT-1. Layout 0 is the linker's
# default order; layout L > 0 has every input section (with Rust's one section per
# function: every function) in an order shuffled by seed L (lld's `--shuffle-sections`),
# so a function and the loops in it land at other addresses. Only the example crate is
# compiled again for each layout (`cargo rustc` passes the flags to it alone), a few
# seconds each.
#
# The example's functions start on 64-byte boundaries in every build
# (`-align-all-functions=6`; 16 by default): its word count, the same machine code in both
# builds, ran 213 ns a request slower in the observed build than in the compiled-out one
# when the two started at different offsets within 64 bytes, and no slower once aligned
# (`scripts/load_profile.sh`, (b), 3 rounds each).
#
# The example crate also gets debug info, kept in the binary (Cargo strips a release
# build without it): `scripts/lib/inline_profile.py` reads which of observe's functions
# were inlined where. `limited`, not `line-tables-only`, whose inlined functions have
# short names (`poll<..>`). It changes no instruction: disassembled with and without, the
# only difference was one load in `main` (of the gdb scripts section).
build_example_layouts() {
    local dir=$1 count=$2 target=${CARGO_TARGET_DIR:-$(pwd)/target} build layout
    for build in observed compiled_out; do
        for layout in $(seq 0 $((count - 1))); do
            local order=()
            [ "$layout" -gt 0 ] && order=(-C "link-arg=-Wl,--shuffle-sections=*=$layout")
            # shellcheck disable=SC2046 # no features is no argument
            cargo rustc --release -p observe $(build_features "$build") --example parsing_service \
                -- -C llvm-args=-align-all-functions=6 -C debuginfo=limited -C strip=none \
                "${order[@]}" >&2
            cp "$target/release/examples/parsing_service" "$dir/$build.$layout"
            check_build "$build" "$dir/$build.$layout"
        done
    done
    # Leave the default build in place for whoever runs the example next.
    cargo build --release -p observe --example parsing_service >&2
    # Shuffled links that came out identical would sample one layout twice.
    if [ "$count" -gt 1 ] && cmp -s "$dir/observed.0" "$dir/observed.1"; then
        echo "the linker ignored --shuffle-sections (is it lld?)" >&2
        return 1
    fi
}
