"""Rank 0's outputs: metrics.jsonl lines, progress lines, and JSON files written atomically."""
import json
import os
import time

from .checkpoint import atomic_write_bytes

RESULT_PREFIX = "DDPSIM_RESULT"
BENCH_PREFIX = "DDPSIM_BENCH"


def write_json_atomic(path, obj):
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


class MetricsLog:
    """Appends one JSON line per optimizer step to <checkpoint-dir>/metrics.jsonl (rank 0 only)."""

    def __init__(self, directory, enabled):
        self.file = None
        if enabled:
            os.makedirs(directory, exist_ok=True)
            self.file = open(os.path.join(directory, "metrics.jsonl"), "a", encoding="utf-8")

    def write(self, **fields):
        if self.file is None:
            return
        fields["time"] = round(time.time(), 3)
        self.file.write(json.dumps(fields, sort_keys=True) + "\n")
        self.file.flush()

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


def progress_line(step, total, loss, samples_per_s, step_time_s, world_size):
    percent = 100.0 * step / total
    return (
        f"step {step}/{total} ({percent:5.1f}%) loss {loss:.4f} "
        f"{samples_per_s:,.0f} samples/s {step_time_s * 1000:.1f} ms/step world {world_size}"
    )
