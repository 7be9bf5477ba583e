#!/usr/bin/python3
"""Causal, shortened copies of real attention traces for the design-search example (traces.json).

The shared traces (README of the traces directory) are one head of a causal decoder on a 256-byte
window each: 256 queries x 256 keys, no mask applied in the files. A search trial calibrates and
evaluates on them, so this keeps the first N positions of each window (queries and keys 0..N-1:
the model's own activations for a context of N bytes; query i still sees exactly the keys it saw
in the model) and marks the copy causal (`"causal": true, "causal_offset": 0`, docs/formats.md),
so `accelgen calibrate` and `eval` mask what the model masked.

usage: prepare_traces.py TRACES_DIR OUT_DIR N NAME...   (NAME e.g. L3H0_b8_w1)
Exit 2 with one line naming the missing directory or the bad argument; OUT_DIR/NAME is written to a
temporary directory and renamed, so nothing half-written is left.
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np


def fail(what: str, msg: str) -> None:
    print(f"error: {what}: {msg}", file=sys.stderr)
    sys.exit(2)


def shorten(src: str, dst: str, n: int) -> None:
    with open(os.path.join(src, "params.json")) as f:
        params = json.load(f)
    tensors = {name: np.load(os.path.join(src, name + ".npy")) for name in ("q", "k", "v")}
    lq, lk = tensors["q"].shape[0], tensors["k"].shape[0]
    if n > min(lq, lk):
        fail("N", f"{n} is more than the {min(lq, lk)} positions of {src}; allowed [1, {min(lq, lk)}]")
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=os.path.dirname(dst) or ".")
    try:
        for name, t in tensors.items():
            np.save(os.path.join(tmp, name + ".npy"), np.ascontiguousarray(t[:n]))
        params["causal"] = True
        params["causal_offset"] = 0
        params.setdefault("generator", {})["shortened_to_positions"] = n
        with open(os.path.join(tmp, "params.json"), "w") as f:
            json.dump(params, f, indent=1)
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        os.rename(tmp, dst)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main(argv) -> int:
    if len(argv) < 4:
        fail("usage", "prepare_traces.py TRACES_DIR OUT_DIR N NAME...")
    traces, out, n_text, names = argv[0], argv[1], argv[2], argv[3:]
    if not n_text.isdigit() or int(n_text) < 1:
        fail("N", f"{n_text!r} is not a positive integer")
    for name in names:
        src = os.path.join(traces, name)
        for f in ("q.npy", "k.npy", "v.npy", "params.json"):
            if not os.path.isfile(os.path.join(src, f)):
                fail(src, f"missing {f} (a trace directory of the shared traces is expected)")
    for name in names:
        shorten(os.path.join(traces, name), os.path.join(out, name), int(n_text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
