"""Shared helpers of the accelgen-search tests: the tool paths, a tiny workload, spec files."""
import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ENTRY = os.path.join(REPO, "search", "accelgen-search")
ACCELGEN = os.environ.get("ACCELGEN_BIN", os.path.join(REPO, "build", "accelgen"))
PY = "/usr/bin/python3"
SEED = int(os.environ.get("ACCELGEN_SEARCH_TEST_SEED", "7"))

# The workload: 4 queries x 16 keys, so max_keys = 8 cannot hold it (eval exits 2: infeasible).
LQ, LK = 4, 16
BASE = {"kind": "attention", "name": "ts", "d": 4, "dv": 2, "wq": 4, "wk": 4, "wv": 4, "lanes": 2,
        "max_keys": 16, "threshold_slots": 1, "alpha_mant_bits": 13}


def make_workload(tmp: str) -> str:
    cfg = os.path.join(tmp, "base.json")
    with open(cfg, "w") as f:
        json.dump(BASE, f)
    out = os.path.join(tmp, "wl")
    subprocess.run([ACCELGEN, "workload", "--config", cfg, "--kind", "gaussian", "--lq", str(LQ), "--lk", str(LK),
                    "--seed", "3", "--out", out], check=True, capture_output=True)
    return out


def write_spec(tmp: str, name: str, **over) -> str:
    spec = {"base": "base.json", "workloads": ["wl"],
            "free": {"lanes": {"min": 1, "max": 16}, "wk": {"choices": [4, 8]}, "max_keys": {"choices": [8, 16]}},
            "objectives": [{"metric": "cycles_per_query"}, {"metric": "config.lanes"}],
            "area": False, "budget": 12, "sampler": {"name": "nsga2", "seed": SEED, "population_size": 6}}
    spec.update(over)
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


def run(args, **kw):
    return subprocess.run([PY, ENTRY] + args, capture_output=True, text=True, **kw)


def expected_infeasible_reason(params):
    """From the config rules (docs/config.md), not from the code under test."""
    lanes, max_keys = params["lanes"], params["max_keys"]
    if lanes > max_keys:
        return f"invalid config: config.lanes: {lanes} lanes exceed max_keys = {max_keys}; allowed [1, {max_keys}]"
    if LK > max_keys:
        return "Lk"  # the workload does not fit: eval rejects it (reason names k.npy)
    return None


def brute_front(points):
    """Non-dominated feasible points, both objectives minimized, by pairwise comparison."""
    feas = [p for p in points if p["feasible"]]
    out = []
    for p in feas:
        a = list(p["objectives"].values())
        dominated = False
        for q in feas:
            b = list(q["objectives"].values())
            if all(y <= x for x, y in zip(a, b)) and any(y < x for x, y in zip(a, b)):
                dominated = True
        if not dominated:
            out.append(p["number"])
    return sorted(out)


def new_tmp(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=prefix)


def main() -> int:
    """unittest.main for CTest: exit 77 (CTest's SKIP_RETURN_CODE) when every test was skipped."""
    import sys
    import unittest
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    r = prog.result
    if not r.wasSuccessful():
        print(f"failed with seed {SEED} (set ACCELGEN_SEARCH_TEST_SEED to repeat)", file=sys.stderr)
        return 1
    if r.testsRun and len(r.skipped) == r.testsRun:
        return 77
    return 0
