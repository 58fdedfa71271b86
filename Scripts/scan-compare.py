#!/usr/bin/env python3
"""Side by side: modelvault scan, picklescan and fickling on the same files.

Usage: Scripts/scan-compare.py MODELVAULT_BINARY FILE_OR_DIR...

A tool "flags" a file when picklescan exits 1, fickling --check-safety rates it LIKELY_OVERTLY_MALICIOUS or
OVERTLY_MALICIOUS, or modelvault reports a finding of medium or above (exit 3 under --policy strict). fickling's
LIKELY_UNSAFE is shown but not counted: it gives it to benign pickles (any `set`) and to every non-pickle file. Prints a Markdown table, then the files another tool
flags and modelvault does not (must be none) and the files only modelvault flags. Exits 1 if modelvault misses any.
"""
import json
import os
import subprocess
import sys
import tempfile


def run(command):
    try:
        result = subprocess.run(command, capture_output=True, timeout=300)
        return result.returncode, result.stdout
    except (OSError, subprocess.TimeoutExpired):
        return -1, b""


def files(paths):
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                yield os.path.join(path, name)
        else:
            yield path


def main():
    binary, paths = sys.argv[1], sys.argv[2:]
    rows, missed, only_ours, peer_false_positives = [], [], [], []
    for path in files(paths):
        picklescan, _ = run(["picklescan", "-p", path])
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            run(["fickling", "--check-safety", path, "--json-output", report.name])
            try:
                fickling = json.load(open(report.name)).get("severity", "error")
            except ValueError:
                fickling = "error"
        ours, output = run([binary, "scan", "--json", path])  # the default policy
        severities = []
        try:
            document = json.loads(output)
            severities = [f["severity"] for r in document["files"] for f in r["report"]["findings"]]
        except (ValueError, KeyError):
            pass
        order = ["low", "medium", "high", "critical"]
        highest = max(severities, key=order.index) if severities else "-"
        flags = {"picklescan": picklescan == 1, "fickling": fickling in ("LIKELY_OVERTLY_MALICIOUS", "OVERTLY_MALICIOUS"), "modelvault": ours == 7}  # ExitStatus.scanFindings
        # Real-library files (named real-*) are benign: another tool flagging them is its false positive.
        if (flags["picklescan"] or flags["fickling"]) and not flags["modelvault"]:
            (peer_false_positives if os.path.basename(path).startswith("real-") else missed).append(path)
        if flags["modelvault"] and not (flags["picklescan"] or flags["fickling"]):
            only_ours.append(path)
        mark = lambda flagged, code: "flags" if flagged else ("error" if code in (2, -1) else "-")
        rows.append((os.path.basename(path), mark(flags["picklescan"], picklescan),
                     fickling, highest if ours in (0, 7) else "failed"))
    print("| file | picklescan 1.0.5 | fickling 0.1.12 | modelvault (highest) |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print("flagged by another tool, not by modelvault: " + (", ".join(map(os.path.basename, missed)) or "none"))
    print("flagged only by modelvault: " + (", ".join(map(os.path.basename, only_ours)) or "none"))
    print("real-library files another tool flags (its false positives): "
          + (", ".join(map(os.path.basename, peer_false_positives)) or "none"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
