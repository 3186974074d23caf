#!/usr/bin/env python3
"""Draws docs/benchmarks.svg from criterion's output, and prints the tables of docs/benchmarks.md.

Reads the median of every `rs256-verify-<backend>/<function>/<bits>` benchmark (and the
`token-cache-*` and `contention` groups for the tables) from criterion's
`<criterion dir>/**/new/estimates.json`. Run the two bench runs first (see docs/benchmarks.md):

    python3 benches/chart.py                       # target/criterion -> docs/benchmarks.svg
    python3 benches/chart.py --criterion DIR --out FILE

Standard library only. Each key size gets one block per run (backend): bars of one block come
from one criterion run, so their ratios are meaningful; bars of different runs are not compared.
"""

import argparse
import json
import os
import sys
from xml.sax.saxutils import escape

KEYS = [2048, 3072, 4096]
RUNS = [
    (
        "ring",
        [
            ("clerk-verify", "clerk-verify (ring)", "#1f6feb"),
            ("floor-pipeline", "floor pipeline (ring)", "#8ab4f8"),
            ("ring-raw", "ring raw RSA verify", "#c8dafc"),
            ("jsonwebtoken-aws-lc", "jsonwebtoken 11 (aws-lc-rs)", "#d97706"),
            ("josekit", "josekit (OpenSSL)", "#9ca3af"),
        ],
    ),
    (
        "aws-lc-rs",
        [
            ("clerk-verify", "clerk-verify (aws-lc-rs)", "#15803d"),
            ("floor-pipeline", "floor pipeline (aws-lc-rs)", "#86efac"),
            ("aws-lc-raw", "aws-lc-rs raw RSA verify", "#d1fae5"),
            ("jsonwebtoken-aws-lc", "jsonwebtoken 11 (aws-lc-rs)", "#d97706"),
            ("josekit", "josekit (OpenSSL)", "#9ca3af"),
        ],
    ),
]


def median_ns(root, *parts):
    """The median estimate, in ns, of one benchmark; None if it was not run."""
    path = os.path.join(root, *[str(p) for p in parts], "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


def collect(root):
    """{(backend, function, bits): median ns} for every rs256-verify benchmark present."""
    out = {}
    for backend, contenders in RUNS:
        for function, _, _ in contenders:
            for bits in KEYS:
                ns = median_ns(root, f"rs256-verify-{backend}", function, bits)
                if ns is not None:
                    out[(backend, function, bits)] = ns
    return out


def svg(data):
    """A horizontal bar chart: per key size, one block of bars per run."""
    width, label_w, bar_h, gap = 900, 250, 16, 4
    plot_w = width - label_w - 90
    top = 54
    rows = []  # (y, label, color, value_us) or ("header", y, text)
    y = top
    for bits in KEYS:
        rows.append(("key", y, f"RSA-{bits}"))
        y += 24
        for backend, contenders in RUNS:
            present = [c for c in contenders if (backend, c[0], bits) in data]
            if not present:
                continue
            rows.append(("run", y, f"run on the {backend} backend"))
            y += 18
            for function, label, color in present:
                rows.append(("bar", y, label, color, data[(backend, function, bits)] / 1000.0))
                y += bar_h + gap
            y += 8
        y += 10
    height = y + 30
    longest = max((r[4] for r in rows if r[0] == "bar"), default=1.0)
    scale = plot_w / longest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="16" y="24" font-size="16" font-weight="bold">'
        "RS256 verification of one Clerk session token (median µs per token, shorter is faster)"
        "</text>",
        '<text x="16" y="42" fill="#555">Each block is one criterion run; compare bars within a '
        "block. Source: benches/benches/verify.rs, drawn by benches/chart.py.</text>",
    ]
    for row in rows:
        if row[0] == "key":
            parts.append(
                f'<text x="16" y="{row[1] + 14}" font-size="14" font-weight="bold">'
                f"{escape(row[2])}</text>"
            )
        elif row[0] == "run":
            parts.append(f'<text x="28" y="{row[1] + 12}" fill="#555">{escape(row[2])}</text>')
        else:
            _, y, label, color, us = row
            w = max(1.0, us * scale)
            parts.append(
                f'<text x="{label_w - 8}" y="{y + 12}" text-anchor="end">{escape(label)}</text>'
            )
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>'
            )
            parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 12}">{us:.2f} µs</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def tables(root, data):
    """The Markdown tables of docs/benchmarks.md, from the same numbers."""
    lines = []
    for backend, contenders in RUNS:
        if not any(k[0] == backend for k in data):
            continue
        names = [c for c in contenders if any((backend, c[0], b) in data for b in KEYS)]
        lines.append(f"### Run on the {backend} backend: median per token")
        lines.append("")
        lines.append("| key | " + " | ".join(c[1] for c in names) + " |")
        lines.append("|---" * (len(names) + 1) + "|")
        for bits in KEYS:
            cells = []
            for function, _, _ in names:
                ns = data.get((backend, function, bits))
                cells.append("—" if ns is None else f"{ns / 1000:.2f} µs")
            lines.append(f"| RSA-{bits} | " + " | ".join(cells) + " |")
        lines.append("")
        ours = "clerk-verify"
        others = [c for c in names if c[0] != ours]
        lines.append(f"Ratios, clerk-verify ÷ other (below 1: we are faster), {backend} run:")
        lines.append("")
        lines.append("| key | " + " | ".join(c[1] for c in others) + " |")
        lines.append("|---" * (len(others) + 1) + "|")
        for bits in KEYS:
            mine = data.get((backend, ours, bits))
            cells = []
            for function, _, _ in others:
                theirs = data.get((backend, function, bits))
                cells.append("—" if not (mine and theirs) else f"{mine / theirs:.3f}")
            lines.append(f"| RSA-{bits} | " + " | ".join(cells) + " |")
        lines.append("")
        full = median_ns(root, f"token-cache-{backend}", "full-verify")
        hit = median_ns(root, f"token-cache-{backend}", "hit")
        if full and hit:
            lines.append(
                f"Token cache ({backend} run, RSA-2048): full verify {full / 1000:.2f} µs, "
                f"hit {hit:.0f} ns: a hit is {full / hit:.0f}× faster."
            )
            lines.append("")
    rows = []
    for name in ["keyset", "remote-cached", "cache-hit-same", "cache-hit-own"]:
        one = median_ns(root, "contention", name, "1-thread")
        two = median_ns(root, "contention", name, "2-threads")
        if one and two:
            rows.append(
                f"| `{name}` | {fmt(one)} | {fmt(two)} | ×{two / one:.2f} | ×{2 * one / two:.2f} |"
            )
    if rows:
        lines.append("| contention (per verification, per thread) | 1 thread | 2 threads | "
                     "time ratio | throughput ratio |")
        lines.append("|---|---|---|---|---|")
        lines.extend(rows)
        lines.append("")
    return "\n".join(lines)


def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(here, "..", "target"))
    parser.add_argument("--criterion", default=os.path.join(target, "criterion"))
    parser.add_argument("--out", default=os.path.join(here, "..", "docs", "benchmarks.svg"))
    args = parser.parse_args()
    data = collect(args.criterion)
    if not data:
        sys.exit(f"no rs256-verify results under {args.criterion}: run the benches first")
    with open(args.out, "w") as f:
        f.write(svg(data))
    print(f"wrote {args.out}", file=sys.stderr)
    print(tables(args.criterion, data))


if __name__ == "__main__":
    main()
