"""Writes a table into BENCHMARKS.md between its script's markers, or appends it as a new
section under TITLE the first time. The rest of the file is kept as it is.

Usage: benchmarks_section.py BENCHMARKS.md SCRIPT TITLE < table.md
(SCRIPT names the markers: `<!-- SCRIPT:begin -->` … `<!-- SCRIPT:end -->`.)"""
import sys

path, script, title = sys.argv[1:]
table = sys.stdin.read()
text = open(path).read()
begin, end = f"<!-- {script}:begin -->", f"<!-- {script}:end -->"
if begin in text:
    head, rest = text.split(begin, 1)
    text = head + begin + "\n" + table + end + rest.split(end, 1)[1]
else:
    text += f"\n## {title}\n\n{begin}\n{table}{end}\n"
open(path, "w").write(text)
