#!/usr/bin/env python3
"""Where a profile's time in observe's code goes, its inlined code included.

    inline_profile.py PERF_DATA BINARY

`perf report` charges inlined code to the function it was inlined into: most of what an
instrumented call does is inlined into the example's request functions, so by function
observe's share is hidden there. This reads each sample of BINARY's code, asks
`addr2line -i` for the chain of functions inlined at its address (the binary needs debug
info: `scripts/lib/example_builds.sh` builds the example with it), and charges the
sample to observe's outermost function in the innermost run of observe's frames (the
standard library's frames inside them, an atomic add say, count as theirs): the call
guard's start and finish, the span's, the metrics handles. A sample in observe's clock
read (`Ticks::now`, the TSC read) is charged to the clock instead.

Prints one line per function, `nanoseconds|thread|function` (the samples' periods, which
for perf's cpu-clock are nanoseconds); samples outside observe's code are summed as
`(not observe's code)`. Needs perf, nm and addr2line (binutils). `--check` tests the
charging rule alone.
"""
import collections
import re
import subprocess
import sys

CLOCK = "the clock (TSC reads inside observe's code)"
# Observe's clock read: a TSC read where the CPU has an invariant TSC.
CLOCK_READ = "observe_runtime::clock::Ticks::now"
OTHER = "(not observe's code)"
# The standard library's frames, which count as the observe function they sit in.
LIBRARY = re.compile(r"^<?(core::|alloc::|std::|<?[a-z0-9]+>::|\[|&|\*)")


def is_observe(function):
    return "observe_runtime::" in function or function.startswith(("observe::", "<observe::"))


def charge(chain):
    """The label a sample with this inline chain (innermost first) is charged to."""
    i = 0
    while i < len(chain) and LIBRARY.match(chain[i]) and not is_observe(chain[i]):
        i += 1
    if i == len(chain) or not is_observe(chain[i]):
        return OTHER
    if any("_rdtsc" in frame for frame in chain[:i]) or chain[i] == CLOCK_READ:
        return CLOCK
    outermost = i
    j = i
    while j + 1 < len(chain) and (is_observe(chain[j + 1]) or LIBRARY.match(chain[j + 1])):
        j += 1
        if is_observe(chain[j]):
            outermost = j
    return chain[outermost]


def check():
    """The charging rule on chains as addr2line gives them (innermost first)."""
    guard = "observe_runtime::instrumented::call_guard::CallGuard::start"
    handler = "<F as axum::handler::Handler<(M,T1,T2,T3),S>>::call::{{closure}}"
    cases = [
        # An atomic add inside the guard, inlined into a request function: the guard's.
        (["core::sync::atomic::atomic_add", "observe_runtime::storage::striped::Stripe::add",
          guard, "parsing_service::parse::{{closure}}", handler], guard),
        # The TSC read inside it: the clock's.
        (["core::core_arch::x86::rdtsc::_rdtsc", CLOCK_READ, guard, handler], CLOCK),
        # The instruction after it, where the sample of a slow read lands.
        ([CLOCK_READ, "observe_runtime::storage::striped::Storage::now", guard, handler], CLOCK),
        # The user's body inside the call's future: not observe's.
        (["core::result::Result<T,E>::map_err", "parsing_service::decode::{{closure}}::{{closure}}",
          "<observe_runtime::instrumented::call_guard::CallFuture<F> as core::future::future::Future>::poll",
          handler], OTHER),
        # A std function the example calls: not observe's.
        (["core::str::converts::from_utf8", handler], OTHER),
        ([], OTHER),
    ]
    for chain, expected in cases:
        assert charge(chain) == expected, (chain, charge(chain), expected)


def main():
    if sys.argv[1:] == ["--check"]:
        check()
        return
    perf_data, binary = sys.argv[1:3]
    addresses = {}
    for line in subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            addresses[parts[2]] = int(parts[0], 16)
    script = subprocess.run(
        ["perf", "script", "-i", perf_data, "-F", "comm,period,ip,sym,symoff,dso", "--no-demangle"],
        capture_output=True, text=True, check=True).stdout
    sample = re.compile(r"\s*(.+?)\s+(\d+)\s+[0-9a-f]+\s+(\S+)\+0x([0-9a-f]+)\s+\((.*)\)\s*$")
    at_address = collections.Counter()  # (thread, address) -> period
    other = collections.Counter()  # thread -> period
    name = binary.rsplit("/", 1)[-1]
    for line in script.splitlines():
        match = sample.match(line)
        if not match:
            continue
        thread, period, symbol, offset, dso = match.groups()
        thread = re.sub(r"[-_ ]?\d+$", "", thread)
        if dso.rsplit("/", 1)[-1] == name and symbol in addresses:
            at_address[(thread, addresses[symbol] + int(offset, 16))] += int(period)
        else:
            other[thread] += int(period)
    unique = sorted({address for _, address in at_address})
    chains = {}
    # addr2line -a -i -f: each address, then a function and a file:line per inlined frame.
    for start in range(0, len(unique), 2000):
        batch = unique[start:start + 2000]
        lines = subprocess.run(
            ["addr2line", "-a", "-i", "-f", "-C", "-e", binary] + [hex(a) for a in batch],
            capture_output=True, text=True, check=True).stdout.splitlines()
        current = None
        k = 0
        while k < len(lines):
            if re.fullmatch(r"0x[0-9a-f]+", lines[k]):
                current = int(lines[k], 16)
                chains[current] = []
                k += 1
            else:
                chains[current].append(lines[k])
                k += 2
    charged = collections.Counter()
    for (thread, address), period in at_address.items():
        charged[(thread, charge(chains.get(address, [])))] += period
    for thread, period in other.items():
        charged[(thread, OTHER)] += period
    for (thread, label), period in sorted(charged.items(), key=lambda item: -item[1]):
        print(f"{period}|{thread}|{label}")


if __name__ == "__main__":
    main()
