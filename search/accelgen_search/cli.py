"""Command line of accelgen-search (docs/search.md)."""
import argparse
import json
import os
import sys

from .errors import SpecError


def _storage_arg(p):
    p.add_argument("--storage", required=True,
                   help="Optuna RDB URL: sqlite:///study.db or postgresql+psycopg2://user@host:port/db")


def main(argv):
    ap = argparse.ArgumentParser(prog="accelgen-search", description="design search over accelgen eval (Optuna)")
    sub = ap.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run", help="run (or continue) the study of SPEC until its budget is spent")
    r.add_argument("spec")
    _storage_arg(r)
    r.add_argument("--cache", help="area cache shared by workers (default: $ACCELGEN_CACHE or ~/.cache/accelgen)")
    r.add_argument("--accelgen", help="the accelgen executable (default: $ACCELGEN_BIN, build/accelgen, PATH)")
    r.add_argument("--quiet", action="store_true", help="no progress lines")

    rp = sub.add_parser("report", help="Pareto plot (SVG), CSV and JSON of every point")
    _storage_arg(rp)
    rp.add_argument("--study", help="study name (default: the only study in the storage)")
    rp.add_argument("--out", required=True, help="output directory")

    s = sub.add_parser("slurm", help="create the study, then start N workers as a Slurm array job")
    s.add_argument("spec")
    _storage_arg(s)
    s.add_argument("--workers", type=int, required=True)
    s.add_argument("--cache", help="area cache on a file system every node sees")
    s.add_argument("--accelgen")
    s.add_argument("--out", default="slurm-logs", help="directory for the sbatch script and the task logs")
    s.add_argument("--sbatch", action="append", default=[], metavar="OPTION",
                   help="extra #SBATCH line, e.g. --sbatch=--partition=debug (repeatable)")
    s.add_argument("--wait", action="store_true", help="wait for the array job (polls squeue)")

    sp = sub.add_parser("space", help="print the searchable fields of SPEC's base config (accelgen space)")
    sp.add_argument("spec")
    sp.add_argument("--accelgen")

    a = ap.parse_args(argv)
    try:
        return _dispatch(a)
    except SpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(a):
    from .spec import load_spec
    if a.cmd == "space":
        spec = load_spec(a.spec, a.accelgen)
        print(json.dumps({"space": spec.space, "search": [p.__dict__ for p in spec.params]}, indent=1))
        return 0
    if a.cmd == "run":
        from .study import default_worker_name, run_worker
        spec = load_spec(a.spec, a.accelgen)
        if not a.quiet:
            print(f"study '{spec.study}' on {a.storage}: {spec.sampler} seed {spec.seed}, budget {spec.budget}, "
                  f"{len(spec.params)} free fields, objectives {', '.join(o['metric'] for o in spec.objectives)}",
                  file=sys.stderr)
        ran = run_worker(spec, a.storage, a.cache, default_worker_name(), a.quiet)
        print(f"worker done: {ran} trials evaluated here")
        return 0
    if a.cmd == "slurm":
        from .slurm import submit
        if a.workers < 1:
            raise SpecError("--workers", f"{a.workers} is out of range; allowed >= 1")
        spec = load_spec(a.spec, a.accelgen)
        return submit(spec, a.storage, a.workers, a.out, os.path.abspath(a.cache) if a.cache else None,
                      a.sbatch, a.wait)
    if a.cmd == "report":
        import optuna
        from .report import write_report
        from .study import make_storage
        storage = make_storage(a.storage)
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        name = a.study
        if name is None:
            if len(names) != 1:
                raise SpecError("--study", f"the storage holds {len(names)} studies ({', '.join(names)}); name one")
            name = names[0]
        elif name not in names:
            raise SpecError("--study", f"no study '{name}' in the storage (have: {', '.join(names) or 'none'})")
        study = optuna.load_study(study_name=name, storage=storage)
        s = write_report(study, a.out)
        rate = "n/a" if s["area_cache_hit_rate"] is None else f"{100 * s['area_cache_hit_rate']:.0f}%"
        print(f"{name}: {s['trials']} trials, {s['feasible']} feasible, {s['front']} configs on the Pareto front, "
              f"area cache hits {rate}; wrote {a.out}/pareto.svg, points.csv, points.json, front.json")
        return 0
    return 2
