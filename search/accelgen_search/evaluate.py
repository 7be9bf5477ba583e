"""One trial: write the proposed config, run `accelgen eval` once per workload (argument vectors,
never a shell string), read the records, and turn them into objectives and constraint values."""
import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
from typing import Any, Dict, List, Optional, Tuple

from .metrics import metric_value, needs_energy
from .spec import Spec


def _last_line(p: subprocess.CompletedProcess) -> str:
    lines = [l for l in (p.stderr or p.stdout).strip().splitlines() if l.strip()]
    return lines[-1].removeprefix("error: ") if lines else f"exit status {p.returncode}"


def _file_digest(h, path: str) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def calibration_key(spec: Spec, config: Dict[str, Any]) -> str:
    """Content hash of everything `accelgen calibrate` reads: the config, the options, every file of
    the trace directories, and the accelgen executable itself (a rebuilt tool never reuses a result)."""
    h = hashlib.sha256()
    c = spec.calibrate
    h.update(json.dumps({"config": config, "max_error": c["max_error"], "mode": c.get("mode", "absolute"),
                         "n_fit": len(c["workloads"]), "n_held": len(c.get("holdout_workloads", []))},
                        sort_keys=True).encode())
    for d in c["workloads"] + c.get("holdout_workloads", []):
        for name in sorted(os.listdir(d)):
            if os.path.isfile(os.path.join(d, name)):
                h.update(name.encode() + b"\0")
                _file_digest(h, os.path.join(d, name))
    _file_digest(h, spec.accelgen)
    return h.hexdigest()[:20]


def calibrate(spec: Spec, config: Dict[str, Any], tmp: str,
              cache_dir: Optional[str] = None) -> Tuple[Optional[str], Dict[str, Any]]:
    """`accelgen calibrate` on the spec's calibration traces: (thresholds file or None, summary/reason).

    NSGA-II proposes a config many times; calibrate is deterministic (fixed seed), so its thresholds
    file is kept under <cache>/calib/<content hash>.json and a repeated config reuses it."""
    out = os.path.join(tmp, "thresholds.json")
    memo = None
    if cache_dir:
        memo = os.path.join(cache_dir, "calib", calibration_key(spec, config) + ".json")
    if memo and os.path.isfile(memo):
        shutil.copyfile(memo, out)
        from_cache = True
    else:
        cfg_path = os.path.join(tmp, "config.json")
        with open(cfg_path, "w") as f:
            json.dump(config, f, sort_keys=True)
        c = spec.calibrate
        argv = [spec.accelgen, "calibrate", "--config", cfg_path, "--max-error", repr(c["max_error"]),
                "--mode", c.get("mode", "absolute"), "--out", out, "--no-cycles"]
        for w in c["workloads"]:
            argv += ["--workload", w]
        for w in c.get("holdout_workloads", []):
            argv += ["--holdout-dir", w]
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=spec.eval_timeout_s)
        except subprocess.TimeoutExpired:
            return None, {"reason": f"accelgen calibrate timed out after {spec.eval_timeout_s:g} s"}
        if p.returncode != 0 or not os.path.isfile(out):
            return None, {"reason": f"accelgen calibrate exit {p.returncode}: {_last_line(p)}"}
        from_cache = False
        if memo:
            # Temporary file + rename: a concurrent worker reads a whole file or none.
            os.makedirs(os.path.dirname(memo), exist_ok=True)
            fd, part = tempfile.mkstemp(dir=os.path.dirname(memo), prefix=".part-")
            os.close(fd)
            shutil.copyfile(out, part)
            os.replace(part, memo)
    with open(out) as f:
        t = json.load(f)
    learned = t["report"]["overall"]["learned"]
    held = learned.get("error_max", {}).get("held_out")
    return out, {"max_error": spec.calibrate["max_error"], "thresholds": t["thresholds"],
                 "error_held_out": held, "error_fit": learned.get("error_max", {}).get("fit"),
                 "kept_fraction": learned.get("kept_fraction"), "from_cache": from_cache}


def dense_calibration(spec: Spec) -> Dict[str, Any]:
    """A dense baseline never prunes (calibrate rejects it): its pruning error is 0 by definition."""
    return {"max_error": spec.calibrate["max_error"], "thresholds": [], "error_held_out": 0.0,
            "error_fit": 0.0, "kept_fraction": 1.0, "from_cache": False,
            "note": "dense_baseline: no pruning, nothing to calibrate"}


def run_eval(spec: Spec, config: Dict[str, Any], workload: str, tmp: str, cache_dir: Optional[str],
             thresholds: Optional[str] = None) -> Dict[str, Any]:
    """The eval record for one workload; a failed eval becomes an infeasible record with its reason."""
    cfg_path = os.path.join(tmp, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(config, f, sort_keys=True)
    out = os.path.join(tmp, f"record-{len(os.listdir(tmp))}.json")
    argv = [spec.accelgen, "eval", "--config", cfg_path, "--workload", workload, "--json", out]
    if not spec.area:
        argv.append("--no-area")
    if spec.liberty:
        argv += ["--liberty", spec.liberty]
    if any(needs_energy(m["metric"]) for m in spec.objectives + spec.constraints):
        argv.append("--energy")
    if thresholds or spec.thresholds:
        argv += ["--thresholds", thresholds or spec.thresholds]
    env = dict(os.environ)
    if cache_dir:
        env["ACCELGEN_CACHE"] = cache_dir
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=spec.eval_timeout_s)
    except subprocess.TimeoutExpired:
        return {"feasible": False, "reason": f"accelgen eval timed out after {spec.eval_timeout_s:g} s",
                "config": config}
    if p.returncode != 0 or not os.path.isfile(out):
        # Status 2 is bad input for this point (e.g. a workload with more keys than max_keys): an
        # infeasible point, not a crash of the search.
        return {"feasible": False, "reason": f"accelgen eval exit {p.returncode}: {_last_line(p)}", "config": config}
    with open(out) as f:
        return json.load(f)


def evaluate(spec: Spec, params: Dict[str, Any], cache_dir: Optional[str]) -> Dict[str, Any]:
    """Records, feasibility, objective values and constraint values of one design point."""
    config = dict(spec.base)
    config.update(params)
    records: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="accelgen-trial-") as tmp:
        thresholds, calib = None, None
        if spec.calibrate and config.get("dense_baseline"):
            calib = dense_calibration(spec)
        elif spec.calibrate:
            thresholds, calib = calibrate(spec, config, tmp, cache_dir or os.environ.get("ACCELGEN_CACHE"))
            if thresholds is None:
                records.append({"feasible": False, "reason": calib["reason"], "config": config})
        for w in spec.workloads if not records else []:
            rec = run_eval(spec, config, w, tmp, cache_dir, thresholds)
            if calib is not None:
                rec["calibration"] = calib  # metric path calibration.error_held_out
            records.append(rec)
            if not rec.get("feasible", False):
                break  # the point is infeasible: the other workloads cannot change that
    feasible = all(r.get("feasible", False) for r in records)
    reason = next((r.get("reason", "") for r in records if not r.get("feasible", False)), "")
    values: List[float] = []
    if feasible:
        for o in spec.objectives:
            v = metric_value(o["metric"], records)
            if v is None or not math.isfinite(v):
                feasible, reason = False, f"metric {o['metric']} missing from the eval record"
                break
            values.append(v)
    if not feasible:
        # Optuna needs values; the constraint violation ranks the point behind every feasible one.
        values = [math.inf if o["direction"] == "minimize" else -math.inf for o in spec.objectives]
    # Constraint values, feasible when <= 0 (Optuna's convention); first the eval's own verdict.
    constraints = [0.0 if feasible else 1.0]
    violated = []
    for c in spec.constraints:
        v = metric_value(c["metric"], records) if feasible else None
        for bound in ("max", "min"):
            if bound not in c:
                continue
            if v is None:
                constraints.append(0.0)  # already infeasible
                continue
            g = v - c[bound] if bound == "max" else c[bound] - v
            constraints.append(g)
            if g > 0:
                violated.append(f"{c['metric']} = {v:.6g} {'>' if bound == 'max' else '<'} {c[bound]:g}")
    if feasible and violated:
        reason = "constraint: " + "; ".join(violated)
    # Area cache: did this config's first synthesis come from the cache (later workloads of the same
    # trial always hit it, so they are not counted).
    first_area = records[0].get("area") if records else None
    area_hit = first_area.get("flow", {}).get("from_cache") if isinstance(first_area, dict) else None
    return {"config": config, "config_hash": next((r["config_hash"] for r in records if "config_hash" in r), ""),
            "records": records, "feasible": feasible and not violated, "eval_feasible": feasible,
            "reason": reason, "values": values, "constraints": constraints,
            "eval_seconds": sum(r.get("eval_seconds", 0.0) for r in records),
            "area_cache_hit": area_hit}
