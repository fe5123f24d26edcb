#!/usr/bin/env python3
"""The table of gpu_node_bench.sh: reads RUNS/<label>/{config,rc,bench/bench.json,mlp,tf} and prints it; writes
RUNS/summary.json. Usage: gpu_node_summary.py RUNS_DIR bench|sweep NETEM(yes|no)"""
import json
import os
import statistics
import sys

MIB256 = 256 << 20


def read_config(path):
    config = {}
    for line in open(path):
        key, _, value = line.strip().partition("=")
        config[key] = value
    return config


def busbw(rows, size=None):
    """(bytes, busbw Gbit/s) at `size`, else at the largest size measured."""
    if not rows:
        return None, None
    row = next((r for r in rows if r["bytes"] == size), None) if size else None
    row = row or max(rows, key=lambda r: r["bytes"])
    return row["bytes"], row["busbw_gbps"]


def step_ms(metrics_path):
    """Median step time in ms past the warm-up (steps > 5 of >= 10, else steps > 1), and the steps it used."""
    if not os.path.exists(metrics_path):
        return None, 0
    rows = [json.loads(line) for line in open(metrics_path) if line.strip()]
    if not rows:
        return None, 0
    warm = 5 if len(rows) >= 10 else (1 if len(rows) >= 2 else 0)
    kept = [r["step_time_s"] for r in rows if r["step"] > warm]
    return statistics.median(kept) * 1000, len(kept)


def load(runs):
    order = [line.split() for line in open(os.path.join(runs, "order")) if line.strip()]
    results = []
    for label, state in order:
        entry = {"label": label, "state": state}
        if state == "ran":
            d = os.path.join(runs, label)
            entry.update(read_config(os.path.join(d, "config")))
            entry["rc"] = int(open(os.path.join(d, "rc")).read().strip() or 1)
            entry["seconds"] = int(open(os.path.join(d, "seconds")).read().strip())
            bench_path = os.path.join(d, "bench", "bench.json")
            rows = json.load(open(bench_path)) if os.path.exists(bench_path) else []
            entry["bench"] = rows
            entry["size"], entry["busbw"] = busbw(rows, MIB256)
            for model in ("mlp", "tf"):
                entry[f"{model}_ms"], entry[f"{model}_steps"] = step_ms(os.path.join(d, model, "metrics.jsonl"))
                result_path = os.path.join(d, model, "result.json")
                if os.path.exists(result_path):
                    result = json.load(open(result_path))
                    entry[f"{model}_checksum"] = result["checksum"] if result["agree"] else "DISAGREE"
        results.append(entry)
    return results


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def size_text(nbytes):
    return "-" if nbytes is None else (f"{nbytes >> 20}M" if nbytes >= 1 << 20 else f"{nbytes >> 10}K")


def settings_text(settings):
    if settings in ("defaults", "", None):
        return "NCCL defaults"
    short = {"NCCL_NSOCKS_PERTHREAD": "nsocks", "NCCL_SOCKET_NTHREADS": "nthreads", "NCCL_BUFFSIZE": "buffsize",
             "NCCL_MIN_NCHANNELS": "minch"}
    return " ".join(f"{short.get(k, k)}={v}" for k, v in (kv.split("=", 1) for kv in settings.split(",")))


def steps_text(entry, model):
    """`31.8` for a median over steps 6.., `1234.5 (2)` when fewer than 10 steps ran (here: only step 2)."""
    ms, kept = entry.get(f"{model}_ms"), entry.get(f"{model}_steps", 0)
    if ms is None:
        return "-"
    return f"{ms:.1f}" if kept >= 5 else f"{ms:.1f} ({kept})"


def table(results):
    head = (f"{'configuration':<14} {'nodes':>6} {'GPUs':<8} {'NCCL sockets':<29} {'link':>10} {'size':>5} "
            f"{'busbw Gbit/s':>12} {'of link':>8} {'MLP ms/step':>12} {'TF ms/step':>11} {'MLP checksum':<16}")
    lines = [head, "-" * len(head)]
    for e in results:
        if e["state"] != "ran":
            lines.append(f"{e['label']:<14} skipped (time budget)")
            continue
        rate = None if e.get("rate", "-") == "-" else float(e["rate"]) / 1000
        link = f"{rate:g} Gb/s" if rate else ("NVLink" if e["nodes"] == "native" else "unshaped")
        share = f"{e['busbw'] / rate * 100:.0f}%" if rate and e["busbw"] is not None else "-"
        nodes = "1 host" if e["nodes"] == "native" else e["nodes"]
        failed = "" if e["rc"] == 0 else f"  (exit {e['rc']})"
        lines.append(
            f"{e['label']:<14} {nodes:>6} {e['gpus']:<8} {settings_text(e['settings']):<29} {link:>10} "
            f"{size_text(e['size']):>5} {fmt(e['busbw'], '12.2f')} {share:>8} {steps_text(e, 'mlp'):>12} "
            f"{steps_text(e, 'tf'):>11} {e.get('mlp_checksum', '-'):<16}{failed}")
    return lines


def main():
    runs, mode, netem = sys.argv[1], sys.argv[2], sys.argv[3]
    results = load(runs)
    summary = {"mode": mode, "netem": netem, "runs": results}
    lines = table(results)
    by = {e["label"]: e for e in results if e["state"] == "ran"}
    if mode == "bench" and any(label.startswith(("defaults-", "ours-")) for label in by):
        verdict = {}
        for kind in ("defaults", "ours"):
            vals = [by[l]["busbw"] for l in sorted(by) if l.startswith(kind + "-") and by[l]["busbw"] is not None]
            verdict[kind] = {"busbw_256M": vals, "median": statistics.median(vals) if vals else None}
            for model in ("mlp", "tf"):
                ms = [by[l][f"{model}_ms"] for l in sorted(by) if l.startswith(kind + "-") and by[l][f"{model}_ms"]]
                verdict[kind][f"{model}_ms_median"] = statistics.median(ms) if ms else None
        d, o = verdict["defaults"]["median"], verdict["ours"]["median"]
        ratio = o / d if d and o else None
        summary["verdict"] = {**verdict, "ratio": ratio, "pass_1_5x": bool(ratio and ratio >= 1.5)}
        lines.append("")
        lines.append(f"alternating runs, busbw at 256 MiB (Gbit/s): defaults {verdict['defaults']['busbw_256M']} "
                     f"median {fmt(d, '.2f')}; ours {verdict['ours']['busbw_256M']} median {fmt(o, '.2f')}; "
                     f"ratio {fmt(ratio, '.2f')} ({'PASS' if summary['verdict']['pass_1_5x'] else 'FAIL'} >= 1.5x)")
        for kind in ("defaults", "ours"):
            lines.append(f"  {kind}: median MLP {fmt(verdict[kind]['mlp_ms_median'], '.1f')} ms/step, "
                         f"TF {fmt(verdict[kind]['tf_ms_median'], '.1f')} ms/step")
        lines.append(f"netem in this kernel: {netem}")
    elif mode == "sweep":
        groups = {}
        for e in results:
            if e["state"] == "ran" and e["label"].startswith("n2-") and e["label"][-3:-1] == "-r":
                groups.setdefault(e["label"][3:-3], []).append(e["busbw"])
        lines.append("")
        lines.append("sweep, 2 nodes, busbw at 256 MiB by round (Gbit/s):")
        for combo, vals in groups.items():
            ok = [v for v in vals if v is not None]
            lines.append(f"  {combo:<14} {' '.join(fmt(v, '6.2f') for v in vals)}   median "
                         f"{fmt(statistics.median(ok) if ok else None, '.2f')}")
        summary["sweep"] = groups
    elif mode == "cpus":
        groups = {}
        for e in results:
            if e["state"] == "ran" and e["label"].startswith("cpu"):
                groups.setdefault(e["label"].rsplit("-", 1)[0], []).append(e["busbw"])
        lines.append("")
        lines.append("pinned CPUs, 2 nodes, busbw at 256 MiB by round (Gbit/s):")
        for group, vals in sorted(groups.items()):
            ok = [v for v in vals if v is not None]
            lines.append(f"  {group:<16} {' '.join(fmt(v, '6.2f') for v in vals)}   median "
                         f"{fmt(statistics.median(ok) if ok else None, '.2f')}")
        summary["cpus"] = groups
    json.dump(summary, open(os.path.join(runs, "summary.json"), "w"), indent=1, default=str)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
