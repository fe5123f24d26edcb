"""Checkpoints: written by global rank 0 only, atomically (temp file, fsync, rename), last K kept; each
rank loads the newest VALID one (a truncated or corrupt file is skipped with a warning).

File layout: one header line `DDPSIM-CKPT 1 <sha256 of payload> <payload bytes>\\n`, then a torch.save payload.
The hash catches any damage, not only truncation. Read one by hand with `load_file(path)`.
"""
import hashlib
import io
import os
import re
import sys

import torch

MAGIC = b"DDPSIM-CKPT"
VERSION = 1
NAME = re.compile(r"^ckpt-step(\d{8})\.pt$")


def file_name(step):
    return f"ckpt-step{step:08d}.pt"


def list_checkpoints(directory):
    """[(step, path)] newest first."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = [(int(m.group(1)), os.path.join(directory, n)) for n in names if (m := NAME.match(n))]
    return sorted(found, reverse=True)


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data):
    directory = os.path.dirname(path) or "."
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


def encode(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = b"%s %d %s %d\n" % (MAGIC, VERSION, hashlib.sha256(payload).hexdigest().encode(), len(payload))
    return header + payload


def decode(data):
    newline = data.find(b"\n", 0, 256)
    if newline < 0:
        raise ValueError("no header")
    parts = data[:newline].split(b" ")
    if len(parts) != 4 or parts[0] != MAGIC or int(parts[1]) != VERSION:
        raise ValueError("not a ddpsim checkpoint")
    payload = data[newline + 1:]
    if len(payload) != int(parts[3]):
        raise ValueError(f"truncated: {len(payload)} of {int(parts[3])} bytes")
    if hashlib.sha256(payload).hexdigest().encode() != parts[2]:
        raise ValueError("sha256 mismatch")
    # weights_only: tensors, dicts, lists and numbers only; never unpickles code.
    return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)


def load_file(path):
    with open(path, "rb") as f:
        return decode(f.read())


def save(directory, step, state, keep):
    """Rank 0 only. Writes ckpt-stepNNNNNNNN.pt atomically, then deletes all but the newest `keep`."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, file_name(step))
    atomic_write_bytes(path, encode(state))
    for _, old in list_checkpoints(directory)[keep:]:
        try:
            os.unlink(old)
        except FileNotFoundError:
            pass
    return path


def remove_stale_temp_files(directory):
    """Rank 0 at start: temp files of a writer that died mid-write."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith(".ckpt-step") and ".tmp-" in name:
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def load_newest_valid(directory, tag, set_aside=False):
    """(step, state, path) of the newest checkpoint that reads back intact, or (0, None, None).

    A damaged file is skipped with a warning, never fatal; with set_aside (rank 0) it is renamed to
    *.corrupt so that it no longer counts among the last K kept.
    """
    for step, path in list_checkpoints(directory):
        try:
            state = load_file(path)
            if int(state["step"]) != step:
                raise ValueError(f"holds step {state['step']}")
            return step, state, path
        except Exception as error:  # any damage: skip, never fatal
            print(f"{tag} warning: skipping checkpoint {path}: {type(error).__name__}: {error}",
                  file=sys.stderr, flush=True)
            if set_aside:
                try:
                    os.replace(path, path + ".corrupt")
                except OSError:
                    pass
    return 0, None, None


def rng_state(device):
    import random

    version, internal, gauss = random.getstate()
    state = {"torch": torch.get_rng_state(), "python": [version, list(internal), gauss]}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng_state(state, device):
    import random

    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
