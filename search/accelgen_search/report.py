"""`accelgen-search report`: every trial of the study as CSV and JSON, the Pareto front of the
feasible points, and an SVG plot (front solid, dominated and infeasible points faded)."""
import csv
import json
import math
import os
from typing import Any, Dict, List

import optuna
from optuna.trial import TrialState


def points_of(study: optuna.Study) -> List[Dict[str, Any]]:
    spec = study.user_attrs.get("spec", {})
    metrics = [o["metric"] for o in spec.get("objectives", [])] or [f"value{i}" for i in range(len(study.directions))]
    pts = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        ua = t.user_attrs
        pts.append({"number": t.number, "params": dict(t.params),
                    "objectives": {m: (v if math.isfinite(v) else None) for m, v in zip(metrics, t.values)},
                    "feasible": bool(ua.get("feasible", False)), "reason": ua.get("reason", ""),
                    "config_hash": ua.get("config_hash", ""), "config": ua.get("config", {}),
                    "eval_seconds": ua.get("eval_seconds"), "area_cache_hit": ua.get("area_cache_hit"),
                    "worker": ua.get("worker", "")})
    return pts


def pareto_front(points: List[Dict[str, Any]], dirs: List[str]) -> List[Dict[str, Any]]:
    """Non-dominated feasible points (Optuna 3.1's best_trials ignores constraints, so not used)."""
    sign = [1.0 if d == "minimize" else -1.0 for d in dirs]
    feas = [p for p in points if p["feasible"] and all(v is not None for v in p["objectives"].values())]
    keyed = [(p, [s * v for s, v in zip(sign, p["objectives"].values())]) for p in feas]

    def dominates(a, b):
        return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))

    return [p for p, k in keyed if not any(dominates(k2, k) for _, k2 in keyed)]


def write_report(study: optuna.Study, out: str) -> Dict[str, Any]:
    os.makedirs(out, exist_ok=True)
    dirs = ["minimize" if d == optuna.study.StudyDirection.MINIMIZE else "maximize" for d in study.directions]
    pts = points_of(study)
    front = pareto_front(pts, dirs)
    front_ids = {p["number"] for p in front}
    for p in pts:
        p["pareto"] = p["number"] in front_ids
    metrics = list(pts[0]["objectives"]) if pts else [o["metric"] for o in study.user_attrs.get("spec", {}).get("objectives", [])]
    params = sorted({k for p in pts for k in p["params"]})

    with open(os.path.join(out, "points.json"), "w") as f:
        json.dump({"study": study.study_name, "directions": dirs, "objectives": metrics, "points": pts}, f, indent=1)
    # The front once per config: a sampler may propose one config in several trials.
    unique: Dict[str, Dict[str, Any]] = {}
    for p in front:
        key = p["config_hash"] or json.dumps(p["params"], sort_keys=True)
        if key not in unique:
            unique[key] = {"number": p["number"], "trials": [], "params": p["params"], "objectives": p["objectives"],
                           "config": p["config"], "config_hash": p["config_hash"]}
        unique[key]["trials"].append(p["number"])
    with open(os.path.join(out, "front.json"), "w") as f:
        json.dump(sorted(unique.values(), key=lambda p: list(p["objectives"].values())), f, indent=1)
    with open(os.path.join(out, "points.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["trial"] + params + metrics + ["feasible", "pareto", "reason", "config_hash", "area_cache_hit",
                                                   "eval_seconds"])
        for p in pts:
            w.writerow([p["number"]] + [p["params"].get(k, "") for k in params]
                       + ["" if p["objectives"][m] is None else repr(p["objectives"][m]) for m in metrics]
                       + [p["feasible"], p["pareto"], p["reason"], p["config_hash"], p["area_cache_hit"],
                          p["eval_seconds"]])
    plot = os.path.join(out, "pareto.svg")
    _plot(pts, front, metrics, dirs, plot, study.study_name)
    hits = [p["area_cache_hit"] for p in pts if p["area_cache_hit"] is not None]
    return {"trials": len(pts), "feasible": sum(p["feasible"] for p in pts), "front": len(unique),
            "area_cache_hit_rate": (sum(hits) / len(hits)) if hits else None, "plot": plot}


def _plot(pts, front, metrics, dirs, path, title):
    import matplotlib
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    plt.rcParams["svg.hashsalt"] = "accelgen-search"  # stable ids: same study, same file
    plt.rcParams["svg.fonttype"] = "none"
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if len(metrics) >= 2:
        mx, my = metrics[0], metrics[1]

        def xy(ps):
            ps = [p for p in ps if p["objectives"].get(mx) is not None and p["objectives"].get(my) is not None]
            return [p["objectives"][mx] for p in ps], [p["objectives"][my] for p in ps]

        dominated = [p for p in pts if p["feasible"] and not p["pareto"]]
        # Infeasible points have objective values only when eval measured them before a constraint failed.
        infeasible = [p for p in pts if not p["feasible"]]
        x, y = xy(infeasible)
        ax.scatter(x, y, marker="x", color="tab:red", alpha=0.25, label=f"infeasible ({len(infeasible)})")
        x, y = xy(dominated)
        ax.scatter(x, y, color="tab:blue", alpha=0.25, label=f"dominated ({len(dominated)})")
        fr = sorted(front, key=lambda p: p["objectives"][mx])
        x, y = xy(fr)
        ax.plot(x, y, "o-", color="tab:blue", drawstyle="steps-post" if dirs[:2] == ["minimize"] * 2 else "default",
                label=f"Pareto front ({len({p['config_hash'] for p in fr})} configs)")
        ax.set_xlabel(f"{mx} ({dirs[0]})")
        ax.set_ylabel(f"{my} ({dirs[1]})")
        if len(metrics) > 2:
            ax.set_title(f"{title}: first two of {len(metrics)} objectives")
        else:
            ax.set_title(title)
        ax.legend()
    else:
        m = metrics[0]
        vals = [(p["number"], p["objectives"][m]) for p in pts if p["objectives"].get(m) is not None]
        ax.plot([n for n, _ in vals], [v for _, v in vals], "o", alpha=0.4)
        ax.set_xlabel("trial")
        ax.set_ylabel(m)
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
