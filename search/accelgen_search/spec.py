"""The search spec (docs/search.md "Spec"): a small JSON file, checked against `accelgen space`.

Every error names the spec field (`spec.free.lanes.max: ...`) and is raised as SpecError (exit 2).
"""
import json
import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .errors import SpecError
from .metrics import METRICS, is_known_metric, needs_energy

TOP_KEYS = {"base", "free", "workloads", "objectives", "constraints", "budget", "sampler", "area",
            "liberty", "thresholds", "calibrate", "study", "accelgen", "eval_timeout_s"}
CALIBRATE_KEYS = {"workloads", "max_error", "mode", "holdout_workloads"}
CALIBRATE_MODES = ("absolute", "relative", "auto")
SAMPLER_KEYS = {"name", "seed", "population_size"}
FREE_KEYS = {"min", "max", "step", "choices"}
OBJECTIVE_KEYS = {"metric", "direction"}
CONSTRAINT_KEYS = {"metric", "max", "min"}
DEFAULT_OBJECTIVES = [{"metric": "area_um2", "direction": "minimize"},
                      {"metric": "latency_ns_per_query", "direction": "minimize"}]


@dataclass
class Param:
    name: str
    type: str              # "int" or "categorical"
    low: int = 0
    high: int = 0
    step: int = 1
    choices: List[Any] = field(default_factory=list)


@dataclass
class Spec:
    path: str
    study: str
    base: Dict[str, Any]
    kind: str
    params: List[Param]
    workloads: List[str]
    objectives: List[Dict[str, str]]
    constraints: List[Dict[str, Any]]
    budget: int
    sampler: str
    seed: int
    population_size: int
    area: bool
    liberty: Optional[str]
    thresholds: Optional[str]
    # {"workloads": [dirs], "max_error": E, "mode": M, "holdout_workloads": [dirs]}: learn thresholds per trial
    calibrate: Optional[Dict[str, Any]]
    accelgen: str
    eval_timeout_s: float
    space: Dict[str, Any]


def repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))


def find_accelgen(explicit: Optional[str]) -> str:
    """--accelgen / spec "accelgen", then $ACCELGEN_BIN, then this checkout's build/accelgen, then PATH."""
    for cand in (explicit, os.environ.get("ACCELGEN_BIN"), os.path.join(repo_root(), "build", "accelgen")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    on_path = shutil.which("accelgen")
    if on_path:
        return on_path
    raise SpecError("accelgen", "executable not found: build it (./setup.sh) or set ACCELGEN_BIN or spec.accelgen")


def _int(value: Any, where: str, lo: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(where, f"must be an integer, got {json.dumps(value)}")
    if lo is not None and value < lo:
        raise SpecError(where, f"{value} is out of range; allowed >= {lo}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(where, f"must be a finite number, got {json.dumps(value)}")
    return float(value)


def _check_keys(obj: Any, allowed: set, where: str) -> None:
    if not isinstance(obj, dict):
        raise SpecError(where, f"must be a JSON object, got {json.dumps(obj)[:60]}")
    for k in obj:
        if k not in allowed:
            raise SpecError(f"{where}.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def query_space(accelgen: str, base_path: str) -> Dict[str, Any]:
    """`accelgen space --config BASE --json`; a rejected base config is a spec error naming spec.base."""
    p = subprocess.run([accelgen, "space", "--config", base_path, "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        msg = (p.stderr.strip().splitlines() or ["accelgen space failed"])[-1]
        raise SpecError("spec.base", msg.removeprefix("error: "))
    return json.loads(p.stdout)


def _param(name: str, rng: Any, fspec: Dict[str, Any], where: str) -> Param:
    _check_keys(rng, FREE_KEYS, where)
    legal_choices = fspec.get("choices")
    if "choices" in rng:
        choices = rng["choices"]
        if not isinstance(choices, list) or not choices:
            raise SpecError(f"{where}.choices", "must be a non-empty list")
        if len(set(json.dumps(c) for c in choices)) != len(choices):
            raise SpecError(f"{where}.choices", "lists a value twice")
        for c in choices:
            if legal_choices is not None:
                if c not in legal_choices or type(c) is not type(legal_choices[0]):
                    raise SpecError(f"{where}.choices", f"{json.dumps(c)} is not allowed by accelgen space "
                                    f"(allowed {json.dumps(legal_choices)})")
            else:
                _int(c, f"{where}.choices")
                if not fspec["min"] <= c <= fspec["max"]:
                    raise SpecError(f"{where}.choices", f"{c} is outside what accelgen space allows "
                                    f"[{fspec['min']}, {fspec['max']}]")
        if set(rng) - {"choices"}:
            raise SpecError(where, "takes either choices or min/max/step, not both")
        return Param(name, "categorical", choices=list(choices))
    if legal_choices is not None:
        if set(rng):
            raise SpecError(where, f"takes only choices (allowed {json.dumps(legal_choices)})")
        return Param(name, "categorical", choices=list(legal_choices))
    lo = _int(rng.get("min", fspec["min"]), f"{where}.min")
    hi = _int(rng.get("max", fspec["max"]), f"{where}.max")
    step = _int(rng.get("step", fspec["step"]), f"{where}.step", 1)
    for key, v in (("min", lo), ("max", hi)):
        if not fspec["min"] <= v <= fspec["max"]:
            raise SpecError(f"{where}.{key}", f"{v} is outside what accelgen space allows [{fspec['min']}, {fspec['max']}]")
    if lo > hi:
        raise SpecError(f"{where}.min", f"{lo} is above max = {hi}")
    if (hi - lo) % step:
        raise SpecError(f"{where}.step", f"{step} does not divide max - min = {hi - lo}")
    return Param(name, "int", lo, hi, step)


def load_spec(path: str, accelgen: Optional[str] = None) -> Spec:
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as e:
        raise SpecError(path, f"cannot read the spec ({e.strerror})")
    except json.JSONDecodeError as e:
        raise SpecError(path, f"not valid JSON ({e})")
    _check_keys(raw, TOP_KEYS, "spec")
    here = os.path.dirname(os.path.abspath(path))

    def rel(p: Any, where: str) -> str:
        if not isinstance(p, str) or not p:
            raise SpecError(where, f"must be a path string, got {json.dumps(p)}")
        return p if os.path.isabs(p) else os.path.normpath(os.path.join(here, p))

    exe = find_accelgen(accelgen or (rel(raw["accelgen"], "spec.accelgen") if "accelgen" in raw else None))

    # Base config: a path or an inline object; `accelgen space` validates it like `generate`.
    if "base" not in raw:
        raise SpecError("spec.base", "missing (a config file path or an inline config object)")
    base_raw = raw["base"]
    with tempfile.TemporaryDirectory(prefix="accelgen-spec-") as tmp:
        if isinstance(base_raw, dict):
            base_path = os.path.join(tmp, "base.json")
            with open(base_path, "w") as f:
                json.dump(base_raw, f)
        else:
            base_path = rel(base_raw, "spec.base")
            if not os.path.isfile(base_path):
                raise SpecError("spec.base", f"{base_path} does not exist")
        space = query_space(exe, base_path)
    fields = {f["name"]: f for f in space["fields"]}

    free = raw.get("free", {})
    _check_keys(free, set(fields) | set(space["fixed"]), "spec.free")
    params = []
    for name, rng in free.items():
        if name in space["fixed"]:
            raise SpecError(f"spec.free.{name}", "is fixed (not searchable)")
        params.append(_param(name, rng, fields[name], f"spec.free.{name}"))
    if not params:
        raise SpecError("spec.free", "names no field to search")

    def dir_list(value: Any, where: str) -> List[str]:
        if not isinstance(value, list) or not value:
            raise SpecError(where, "must be a non-empty list of workload directories")
        dirs = [rel(w, f"{where}[{i}]") for i, w in enumerate(value)]
        for i, d in enumerate(dirs):
            if not os.path.isdir(d):
                raise SpecError(f"{where}[{i}]", f"{d} is not a directory (make one with accelgen workload)")
        return dirs

    wl = dir_list(raw.get("workloads"), "spec.workloads")

    objectives = raw.get("objectives", DEFAULT_OBJECTIVES)
    if not isinstance(objectives, list) or not objectives:
        raise SpecError("spec.objectives", "must be a non-empty list")
    objs = []
    for i, o in enumerate(objectives):
        where = f"spec.objectives[{i}]"
        _check_keys(o, OBJECTIVE_KEYS, where)
        m = o.get("metric")
        if not isinstance(m, str) or not is_known_metric(m):
            raise SpecError(f"{where}.metric", f"unknown metric {json.dumps(m)} (known: {', '.join(METRICS)}, "
                            "or a dotted record path such as cycles.total or config.lanes)")
        d = o.get("direction", "minimize")
        if d not in ("minimize", "maximize"):
            raise SpecError(f"{where}.direction", f"must be minimize or maximize, got {json.dumps(d)}")
        objs.append({"metric": m, "direction": d})

    cons = []
    for i, c in enumerate(raw.get("constraints", [])):
        where = f"spec.constraints[{i}]"
        _check_keys(c, CONSTRAINT_KEYS, where)
        m = c.get("metric")
        if not isinstance(m, str) or not is_known_metric(m):
            raise SpecError(f"{where}.metric", f"unknown metric {json.dumps(m)}")
        if "max" not in c and "min" not in c:
            raise SpecError(where, "needs max or min")
        cons.append({"metric": m, **{k: _number(c[k], f"{where}.{k}") for k in ("min", "max") if k in c}})

    budget = _int(raw.get("budget", 20), "spec.budget", 1)
    sampler = raw.get("sampler", {})
    _check_keys(sampler, SAMPLER_KEYS, "spec.sampler")
    sname = sampler.get("name", "nsga2")
    if sname not in ("nsga2", "tpe"):
        raise SpecError("spec.sampler.name", f"must be nsga2 or tpe, got {json.dumps(sname)}")
    seed = _int(sampler.get("seed", 1), "spec.sampler.seed", 0)
    pop = _int(sampler.get("population_size", 50), "spec.sampler.population_size", 2)

    area = raw.get("area", True)
    if not isinstance(area, bool):
        raise SpecError("spec.area", f"must be true or false, got {json.dumps(area)}")
    needs_area = [o["metric"] for o in objs + cons
                  if METRICS.get(o["metric"], {}).get("area") or needs_energy(o["metric"])]
    if needs_area and not area:
        raise SpecError("spec.area", f"is false but metric {needs_area[0]} needs synthesis")
    liberty = rel(raw["liberty"], "spec.liberty") if "liberty" in raw else None
    if liberty and not os.path.isfile(liberty):
        raise SpecError("spec.liberty", f"{liberty} does not exist")
    thresholds = rel(raw["thresholds"], "spec.thresholds") if "thresholds" in raw else None
    if thresholds and not os.path.isfile(thresholds):
        raise SpecError("spec.thresholds", f"{thresholds} does not exist")
    calibrate = None
    if "calibrate" in raw:
        c = raw["calibrate"]
        _check_keys(c, CALIBRATE_KEYS, "spec.calibrate")
        if thresholds:
            raise SpecError("spec.calibrate", "and spec.thresholds exclude each other")
        cdirs = dir_list(c.get("workloads"), "spec.calibrate.workloads")
        e = _number(c.get("max_error"), "spec.calibrate.max_error")
        if e <= 0:
            raise SpecError("spec.calibrate.max_error", f"{e:g} is out of range; allowed > 0")
        mode = c.get("mode", "absolute")
        if mode not in CALIBRATE_MODES:
            raise SpecError("spec.calibrate.mode", f"must be one of {', '.join(CALIBRATE_MODES)}, got {json.dumps(mode)}")
        held = dir_list(c["holdout_workloads"], "spec.calibrate.holdout_workloads") if "holdout_workloads" in c else []
        for i, d in enumerate(held):
            if d in cdirs:
                raise SpecError(f"spec.calibrate.holdout_workloads[{i}]", f"{d} is also a fitting workload")
        calibrate = {"workloads": cdirs, "max_error": e}
        # Only when not the default, so a study created before these keys existed still matches.
        if mode != "absolute":
            calibrate["mode"] = mode
        if held:
            calibrate["holdout_workloads"] = held
    study = raw.get("study", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(study, str) or not study:
        raise SpecError("spec.study", "must be a non-empty string")
    timeout = _number(raw.get("eval_timeout_s", 3600), "spec.eval_timeout_s")

    return Spec(path=os.path.abspath(path), study=study, base=space["base"], kind=space["kind"], params=params,
                workloads=wl, objectives=objs, constraints=cons, budget=budget, sampler=sname, seed=seed,
                population_size=pop, area=area, liberty=liberty, thresholds=thresholds, calibrate=calibrate, accelgen=exe,
                eval_timeout_s=timeout, space=space)
