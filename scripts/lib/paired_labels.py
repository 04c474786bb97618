"""The rows of the realistic handler's paired measurement (`benches/overhead.rs`,
`paired_ratios.json`), as `scripts/bench_report.py` and `scripts/paired_runs.sh` name them."""

LABELS = {
    "sync": "observe, sync",
    "async": "observe, async (tokio, current thread)",
    "two_clock_reads": "two clock reads only (sync)",
    "control": "control: bare / bare",
    "layout_control": "layout control: a copy of the bare handler / bare",
}
