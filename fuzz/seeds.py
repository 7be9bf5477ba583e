#!/usr/bin/python3
"""Writes the seed inputs the fuzzers start from (fuzz/run.sh calls it) into DIR/<target>/.

Seeds are valid inputs of every shape the parsers accept plus a few near misses; the fuzzer mutates
them. Needs Debian's python3-numpy (numpy writes the reference .npy bytes). Usage: seeds.py DIR
"""
import io
import json
import pathlib
import struct
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent


def write(d, name, data):
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def config_seeds(d):
    for f in [ROOT / "configs/default.json", *sorted((ROOT / "configs/regression").glob("*.json")),
              *sorted((ROOT / "configs/nm").glob("*.json"))]:
        write(d, f.name, f.read_bytes())
    write(d, "bad_lanes.json", '{"lanes": 0}')
    write(d, "bad_kind.json", '{"kind": "x"}')
    write(d, "nm_min.json", '{"kind": "nm_array", "n": 2, "m": 4}')


def npy_seeds(d):
    rng = np.random.default_rng(1)
    for dt in ["i1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8"]:
        write(d, f"m_{dt.strip('<>')}_{'be' if '>' in dt else 'le'}.npy",
              npy_bytes(rng.integers(-100, 100, size=(3, 4)).astype(dt)))
    write(d, "fortran.npy", npy_bytes(np.asfortranarray(rng.integers(-9, 9, size=(2, 3)))))
    write(d, "one_d.npy", npy_bytes(np.arange(5, dtype=np.int16)))
    write(d, "three_d.npy", npy_bytes(np.zeros((2, 2, 2), dtype=np.int8)))
    write(d, "scalar.npy", npy_bytes(np.int32(7)))
    write(d, "empty.npy", npy_bytes(np.zeros((0, 3), dtype=np.int8)))
    write(d, "float.npy", npy_bytes(np.zeros((2, 2), dtype=np.float32)))
    v1 = npy_bytes(np.ones((2, 2), dtype=np.int8))
    header = v1[10:]  # version 2.0: 4-byte header length
    hlen = struct.unpack("<H", v1[8:10])[0]
    write(d, "v2.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", hlen) + header)
    write(d, "truncated.npy", v1[:-2])


def thresholds_seeds(d, hashes):
    # The fuzz target's configs: the defaults (absolute only) and the same with relative thresholds.
    # A file ending in '}' is read against the relative one, in '\n' against the absolute one.
    absolute = {"tool": "accelgen", "config_hash": hashes["absolute"], "max_error": 0.02,
                "thresholds": [{"slot": 0, "mode": "absolute", "theta": -5}, {"slot": 3, "theta": 100}]}
    write(d, "absolute.json", json.dumps(absolute, indent=1) + "\n")
    relative = {"tool": "accelgen", "config_hash": hashes["relative"], "max_error": 0.02,
                "thresholds": [{"slot": 1, "mode": "relative", "delta": 7}, {"slot": 2, "theta": 0}],
                "report": {"slots": [{"slot": 1, "kept": 0.5}]}}
    write(d, "relative.json", json.dumps(relative))
    write(d, "wrong_hash.json", json.dumps({**absolute, "config_hash": "0123456789abcdef"}) + "\n")


def nm_compress_seeds(d):
    # even first byte: dense compress (n, m, K, C, mode, elements)
    write(d, "dense_2_4.bin", bytes([0, 1, 2, 8, 3, 0]) + bytes([1, 0, 0, 2, 0, 0, 5, 0] * 3))
    write(d, "dense_prune.bin", bytes([0, 0, 2, 5, 2, 1]) + bytes(range(1, 11)))
    write(d, "dense_wide.bin", bytes([0, 1, 2, 4, 1, 2, 0xff, 0, 0xfe, 0x80]) + bytes(8))
    # odd first byte: meta.json, values.npy, indices.npy
    meta = json.dumps({"format": "accelgen-nm-compressed", "n": 2, "m": 4, "k": 6, "cols": 2,
                       "groups": 2, "index_bits": 2, "prune": "none"}).encode()
    values = npy_bytes(np.array([[[1, 2], [3, 0]], [[4, 0], [0, 0]]], dtype=np.int8))
    indices = npy_bytes(np.array([[[0, 3], [1, 2]], [[0, 1], [0, 1]]], dtype=np.int8))
    values += b" " * (-len(values) % 4)
    write(d, "parts.bin", bytes([1, len(meta), len(values) // 4]) + meta + values + indices)


def liberty_seeds(d):
    write(d, "ge_area.lib", (ROOT / "constraints/ge_area.lib").read_bytes())
    write(d, "tiny.lib", 'library (t) {\n  cell (NAND2X1) { area : 2; pin (A) { direction : input; }\n'
          '    pin (B) { direction : input; }\n    pin (Y) { direction : output; function : "!(A&B)"; } }\n'
          '  cell (BUFX1) { area : 1; pin (A) { direction : input; } pin (Y) { direction : output; '
          'function : "A"; } }\n  cell (DFF) { area : 5; ff (IQ, IQN) { next_state : "D"; } }\n}\n')
    write(d, "timing.lib", 'library (x) { /* c */ cell (I) { area : 1.5; pin (A) { direction : input; }\n'
          'pin (Y) { direction : output; function : "A\'"; timing () { related_pin : "A"; } } } }\n')


def main():
    out = pathlib.Path(sys.argv[1])
    hashes = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {"absolute": "0" * 16, "relative": "0" * 16}
    config_seeds(out / "config")
    npy_seeds(out / "npy")
    thresholds_seeds(out / "thresholds", hashes)
    nm_compress_seeds(out / "nm_compress")
    liberty_seeds(out / "liberty")


if __name__ == "__main__":
    main()
