#!/usr/bin/env python3
"""Draws a run's metrics.jsonl (written by train_ddp.py on rank 0) as a PNG: loss and throughput per step.

  python3 plot_metrics.py /checkpoints/metrics.jsonl --out run.png [--title TEXT]

Each attempt of the run (the first, then one per restart: torchrun restarted the workers, or Docker restarted a
node and the run resumed from its last checkpoint) is drawn in its own colour, with a dashed vertical line where
it resumed. Needs matplotlib (in the CPU image); `npm run plot` runs it there against a checkpoint volume.
"""
import argparse
import json
import os
import sys


def read_metrics(path):
    """The metrics lines in file order; lines that are not JSON objects with a step and a loss are skipped."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
            if isinstance(row, dict) and "step" in row and "loss" in row:
                rows.append(row)
    return rows


def split_attempts(rows):
    """Splits the rows where the run restarted: the restart count changed, or the step did not advance."""
    attempts = []
    for row in rows:
        if attempts:
            last = attempts[-1][-1]
            restarted = row.get("restarts", 0) != last.get("restarts", 0) or row["step"] <= last["step"]
            if not restarted:
                attempts[-1].append(row)
                continue
        attempts.append([row])
    return attempts


SMOOTHING = 10


def rolling_mean(values, window):
    """Mean of each value and the ones before it, up to `window` of them (NaNs skipped)."""
    out = []
    for i in range(len(values)):
        recent = [v for v in values[max(0, i - window + 1):i + 1] if v == v]
        out.append(sum(recent) / len(recent) if recent else float("nan"))
    return out


def downtime(previous, attempt):
    """Seconds between the last step logged before a restart and the first one after it, when both have a time."""
    before, after = previous[-1].get("time"), attempt[0].get("time")
    return after - before if isinstance(before, (int, float)) and isinstance(after, (int, float)) else None


def summary(rows, attempts):
    world = rows[-1].get("world_size", "?")
    restarts = len(attempts) - 1
    return (f"world size {world}, steps {rows[0]['step']}..{rows[-1]['step']}, {len(rows)} logged, "
            f"{restarts} restart{'s' if restarts != 1 else ''}, loss {rows[0]['loss']:.4f} -> {rows[-1]['loss']:.4f}")


def plot(rows, out, title=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    attempts = split_attempts(rows)
    fig, (ax_loss, ax_speed) = plt.subplots(2, 1, sharex=True, figsize=(9, 6), constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, attempt in enumerate(attempts):
        steps = [r["step"] for r in attempt]
        colour = colours[i % len(colours)]
        label = "first attempt" if i == 0 else f"after restart {i}"
        ax_loss.plot(steps, [r["loss"] for r in attempt], color=colour, linewidth=1.4, label=label)
        speeds = [r.get("samples_per_s") for r in attempt]
        if any(s is not None for s in speeds):
            speeds = [s if s is not None else float("nan") for s in speeds]
            ax_speed.plot(steps, speeds, color=colour, linewidth=0.8, alpha=0.35)
            ax_speed.plot(steps, rolling_mean(speeds, SMOOTHING), color=colour, linewidth=1.6)
        if i > 0:
            for ax in (ax_loss, ax_speed):
                ax.axvline(steps[0], color="crimson", linestyle="--", linewidth=1.1)
            text = f"restart {i}: resumed at step {steps[0]}"
            gap = downtime(attempts[i - 1], attempt)
            if gap is not None:
                text += f" after {gap:.0f} s"
            ax_loss.annotate(text, xy=(steps[0], 1.0), xycoords=("data", "axes fraction"), xytext=(4, -14),
                             textcoords="offset points", color="crimson", fontsize=9)
    ax_loss.set_ylabel("loss")
    ax_loss.grid(True, alpha=0.3)
    if len(attempts) > 1:
        ax_loss.legend(loc="upper right", fontsize=9)
    ax_speed.set_ylabel(f"samples/s, all ranks\n(line: mean of {SMOOTHING} steps)")
    ax_speed.set_xlabel("optimizer step")
    ax_speed.grid(True, alpha=0.3)
    ax_speed.set_ylim(bottom=0)
    fig.suptitle(title or f"ddpsim run: {summary(rows, attempts)}", fontsize=11)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return attempts


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("metrics", help="metrics.jsonl of a run (in its checkpoint directory)")
    p.add_argument("--out", default="run.png", help="PNG to write (default run.png)")
    p.add_argument("--title", default=None, help="figure title (default: a summary of the run)")
    args = p.parse_args(argv)
    if not os.path.exists(args.metrics):
        print(f"plot_metrics: no {args.metrics}: has the run logged a step yet?", file=sys.stderr)
        return 1
    rows = read_metrics(args.metrics)
    if not rows:
        print(f"plot_metrics: {args.metrics} holds no step yet", file=sys.stderr)
        return 1
    attempts = plot(rows, args.out, args.title)
    print(f"wrote {args.out}: {summary(rows, attempts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
