"""Objective and constraint metrics read from `accelgen eval` records (docs/search.md "Metrics").

A trial evaluates one config on every workload of the spec; a metric is the mean over the
workloads of its per-record value. Named metrics are below; any other dotted path into the record
(`cycles.total`, `config.lanes`, `attention.kept`) is read as a number.
"""
from typing import Any, Dict, List, Optional


def _lq(rec: Dict[str, Any]) -> float:
    w = rec.get("workload", {})
    return float(w.get("lq") or w.get("r") or 1)


def _get(rec: Dict[str, Any], path: str) -> Optional[float]:
    cur: Any = rec
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    if isinstance(cur, bool):
        return float(cur)
    return float(cur) if isinstance(cur, (int, float)) else None


def _per_query(path: str):
    def f(rec):
        v = _get(rec, path)
        return None if v is None else v / _lq(rec)
    return f


# name -> reader, whether it needs synthesis (spec "area": true), unit, meaning
METRICS: Dict[str, Dict[str, Any]] = {
    "area_um2": {"read": lambda r: _get(r, "area.area_um2"), "area": True,
                 "doc": "Yosys cell area, um^2 (liberty of the spec)"},
    "nand2_eq": {"read": lambda r: _get(r, "area.nand2_eq"), "area": True, "doc": "area in NAND2 equivalents"},
    "flops": {"read": lambda r: _get(r, "area.flops"), "area": True, "doc": "flip-flops"},
    "fmax_mhz": {"read": lambda r: _get(r, "fmax_mhz"), "area": True, "doc": "OpenSTA fmax, MHz"},
    "latency_ns_per_query": {"read": _per_query("latency_ns"), "area": True,
                             "doc": "latency_ns / queries (attention) or / X rows (N:M)"},
    "latency_ns": {"read": lambda r: _get(r, "latency_ns"), "area": True, "doc": "latency of the workload, ns"},
    # eval --energy (the client passes it when a spec metric needs energy) reports pJ per query itself.
    "energy_per_query": {"read": lambda r: _get(r, "energy.unit.pj_per_query"), "area": True, "energy": True,
                         "doc": "energy.unit.pj_per_query of eval --energy: pJ per query of the unit"},
    "cycles_per_query": {"read": _per_query("cycles.total"), "area": False,
                         "doc": "cycles.total / queries (attention) or / X rows (N:M)"},
    "cycles": {"read": lambda r: _get(r, "cycles.total"), "area": False, "doc": "cycles.total of the workload"},
    "bit_step_fraction": {"read": lambda r: _get(r, "attention.bit_step_fraction"), "area": False,
                          "doc": "bit steps over dense bit steps (attention)"},
    "kept_fraction": {"read": lambda r: (None if _get(r, "attention.kept") is None else
                                         _get(r, "attention.kept") / max(1.0, (_get(r, "attention.kept") or 0)
                                                                         + (_get(r, "attention.pruned") or 0))),
                      "area": False, "doc": "kept scores / all scores (attention)"},
    "calib_error": {"read": lambda r: _get(r, "calibration.error_held_out"), "area": False,
                    "doc": "largest per-slot held-out output error of the learned thresholds (spec calibrate)"},
}


def needs_energy(name: str) -> bool:
    """Whether eval must run with --energy for this metric (also any dotted path into `energy`)."""
    return bool(METRICS.get(name, {}).get("energy")) or name.startswith("energy.")


def is_known_metric(name: str) -> bool:
    return name in METRICS or ("." in name and all(part for part in name.split(".")))


def metric_value(name: str, records: List[Dict[str, Any]]) -> Optional[float]:
    """Mean over the records, or None if any record lacks it."""
    read = METRICS[name]["read"] if name in METRICS else (lambda r: _get(r, name))
    vals = [read(r) for r in records]
    if not vals or any(v is None for v in vals):
        return None
    return sum(vals) / len(vals)
