#!/usr/bin/env python3
"""Draws a chaos run (`ddpsim chaos`) as a PNG timeline: wall-clock seconds on the x axis, so that an outage takes
the room it took; the training step over time (and the world size, when it changed); each fault's window shaded and
labelled, with a marker where it was detected and where training recovered.

  python3 plot_chaos.py '<timeline json>' [--out timeline.png]

Without --out the PNG goes to stdout in base64 (how `ddpsim chaos` runs it inside the cluster's image, which has
matplotlib, with no mount and no network). The JSON: {"title", "start" (unix s), "metrics": [[t, step, world], ...],
"progress": [[t, step], ...] (log progress lines, when there is no metrics.jsonl), "faults": [{"label", "start",
"end", "detected", "recovered"}, ...], "xlabel" (optional)} with times in unix seconds.
"""
import argparse
import base64
import io
import json
import sys

KIND_COLOURS = {"crash": "#d62728", "lose": "#7f7f7f", "hang": "#1f77b4", "partition": "#9467bd",
                "slow": "#ff7f0e", "degrade": "#2ca02c"}


def plot(data, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = data["start"]
    fig, ax = plt.subplots(figsize=(11, 5), constrained_layout=True)
    rows = data.get("metrics") or []
    points = [(t - t0, step) for t, step, *_ in rows] or [(t - t0, step) for t, step in data.get("progress") or []]
    if points:
        ax.plot([p[0] for p in points], [p[1] for p in points], ".", markersize=3, color="black", label="training step")
    worlds = [(t - t0, w) for t, _, w in rows if w is not None]
    if len({w for _, w in worlds}) > 1:
        ax2 = ax.twinx()
        ax2.step([p[0] for p in worlds], [p[1] for p in worlds], where="post", color="teal", linewidth=1.2, alpha=0.8)
        ax2.set_ylabel("world size", color="teal")
        ax2.set_ylim(0, max(w for _, w in worlds) + 1)
    top = max([p[1] for p in points] or [1])
    for i, fault in enumerate(data.get("faults") or []):
        if fault.get("start") is None:
            continue
        start = fault["start"] - t0
        end = (fault.get("end") or fault["start"]) - t0
        colour = KIND_COLOURS.get(fault.get("kind"), "grey")
        if end - start < 0.5:
            ax.axvline(start, color=colour, linewidth=2, alpha=0.8)
        else:
            ax.axvspan(start, end, color=colour, alpha=0.18)
        ax.annotate(fault["label"], xy=(start, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12 - 12 * (i % 4)),
                    textcoords="offset points", fontsize=8, color=colour)
        if fault.get("detected") is not None:
            ax.plot([fault["detected"] - t0], [top * 0.04], marker="x", color=colour, markersize=8)
        if fault.get("recovered") is not None:
            ax.plot([fault["recovered"] - t0], [top * 0.04], marker="^", color=colour, markersize=8)
    ax.plot([], [], "x", color="black", label="detected (first error or timeout)")
    ax.plot([], [], "^", color="black", label="recovered (first step after)")
    ax.set_xlabel(data.get("xlabel", "seconds since the chaos run started (wall clock)"))
    ax.set_ylabel("optimizer step")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(data.get("title", "ddpsim chaos"), fontsize=11)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    png = buffer.getvalue()
    if out:
        with open(out, "wb") as f:
            f.write(png)
    else:
        sys.stdout.write(base64.b64encode(png).decode("ascii"))
        sys.stdout.flush()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("timeline", help="the timeline as JSON text")
    p.add_argument("--out", default=None, help="PNG file to write (default: base64 on stdout)")
    args = p.parse_args(argv)
    plot(json.loads(args.timeline), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
