#!/usr/bin/env python3
"""Turns the figure lines of one `make bench` run into a table, and writes it into BENCHMARKS.md.

    bench-report.py <figures.jsonl> <baseline dir> <BENCHMARKS.md> <header.json>

Each figure is a JSON object (printed by a part's script as `figure {...}`): area, id, label,
value, unit, and optionally goal (text) and goal_max / goal_min (numbers the value must stay
under / over). The baseline dir holds one `<area>.jsonl` per area: the same objects measured on
the code before the work (each with the commit it was measured on). The table shows every figure
of this run beside its baseline and its goal; a figure with a numeric goal says whether it is
met.

Only the part of BENCHMARKS.md between the two markers below is replaced, so the prose around it
(what limits a missed goal, how each figure is taken) is kept as written. The same table is
printed on stdout.
"""

import json
import re
import sys
from pathlib import Path

BEGIN = "<!-- figures: written by src-tauri/scripts/bench-report.py, do not edit -->"
END = "<!-- end of figures -->"

# Areas in the order the issue lists them; an unknown area goes last, in the order first seen.
ORDER = ["refresh", "concurrency", "startup", "memory", "log", "click", "size"]
TITLES = {
    "refresh": "Refresh overhead",
    "concurrency": "Concurrency",
    "startup": "Start-up",
    "memory": "Memory",
    "log": "The live log at scale",
    "click": "Click to paint",
    "size": "Size",
}


def read_lines(path):
    figures = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("figure "):
            line = line[len("figure "):]
        try:
            figure = json.loads(line)
        except json.JSONDecodeError as error:
            sys.exit(f"{path}:{number}: not a figure ({error})")
        for key in ("area", "id", "label", "value", "unit"):
            if key not in figure:
                sys.exit(f"{path}:{number}: the figure has no {key}")
        figures.append(figure)
    return figures


def number(value, unit):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if unit == "×":
        return f"{value:.2f}×"
    if isinstance(value, int) or float(value).is_integer():
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return f"{text} {unit}".strip()


# A goal written as a plain bound in the figure's own unit ("≤ 1000 ms", "≤ 1.15× raw") or as
# an exact count ("1" request, "0" failures, "100,000" rows) is checked; any other goal ("≤ 150
# MB, or within 15 % of ...") is shown as text only.
PLAIN_BOUND = re.compile(r"^(?:≤|<=)\s*([0-9][0-9.,]*)\s*(\S*?)(?:\s+raw)?$")
EXACT = re.compile(r"^([0-9][0-9.,]*)$")


def verdict(figure):
    value = figure["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if "goal_max" in figure:
        return "met" if value <= figure["goal_max"] else "missed"
    if "goal_min" in figure:
        return "met" if value >= figure["goal_min"] else "missed"
    goal = str(figure.get("goal", "")).strip()
    bound = PLAIN_BOUND.match(goal)
    if bound and bound.group(2) in ("", figure["unit"]):
        return "met" if value <= float(bound.group(1).replace(",", "")) else "missed"
    exact = EXACT.match(goal)
    if exact:
        return "met" if value == float(exact.group(1).replace(",", "")) else "missed"
    return ""


def table(figures, baseline):
    areas = sorted({f["area"] for f in figures},
                   key=lambda a: (ORDER.index(a) if a in ORDER else len(ORDER), a))
    out = []
    for area in areas:
        out.append(f"### {TITLES.get(area, area)}")
        out.append("")
        out.append("| figure | before | now | goal | |")
        out.append("|---|---:|---:|---|---|")
        for figure in (f for f in figures if f["area"] == area):
            before = baseline.get(figure["id"])
            before_text = number(before["value"], before["unit"]) if before else "—"
            out.append("| {} | {} | {} | {} | {} |".format(
                figure["label"], before_text, number(figure["value"], figure["unit"]),
                figure.get("goal", ""), verdict(figure)))
        out.append("")
    return "\n".join(out)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    figures_path, baseline_dir, markdown_path, header_path = sys.argv[1:]
    figures = read_lines(figures_path)
    if not figures:
        sys.exit(f"{figures_path}: no figure was printed")
    baseline = {}
    commits = set()
    for path in sorted(Path(baseline_dir).glob("*.jsonl")):
        for figure in read_lines(path):
            baseline[figure["id"]] = figure
            if "commit" in figure:
                commits.add(figure["commit"][:7])
    header = json.loads(Path(header_path).read_text())

    lines = [BEGIN, ""]
    lines.append(f"Made by `{header['command']}`; each part's latest run:")
    lines.append("")
    lines.append("| part | measured | commit | seconds |")
    lines.append("|---|---|---|---:|")
    for part in header["parts"]:
        lines.append(f"| {part['name']} | {part['date']} | `{part['commit']}` | {part['seconds']} |")
    lines.append("")
    lines.append("| machine | |")
    lines.append("|---|---|")
    for key, value in header["machine"].items():
        lines.append(f"| {key} | {value} |")
    lines.append("")
    if commits:
        lines.append("*before*: the same harness on the code before the work (commit "
                     + ", ".join(f"`{c}`" for c in sorted(commits))
                     + "); — where that code could not produce the figure.")
        lines.append("")
    lines.append(table(figures, baseline))
    lines.append(END)
    block = "\n".join(lines)
    print(block)

    markdown = Path(markdown_path)
    text = markdown.read_text() if markdown.exists() else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN not in text or END not in text:
        sys.exit(f"{markdown_path} lacks the figure markers")
    start = text.index(BEGIN)
    end = text.index(END) + len(END)
    markdown.write_text(text[:start] + block + text[end:])


if __name__ == "__main__":
    main()
