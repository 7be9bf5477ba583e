"""`accelgen-search slurm`: create the study once, then start N workers as one Slurm array job.

Each array task runs `accelgen-search run` on the same storage; workers pull trials until the
study holds the budget. `--wait` polls squeue (sbatch --wait returns late; TOOLCHAIN.md section 9).
"""
import os
import shlex
import subprocess
import sys
import time
from typing import List, Optional

from .spec import Spec
from .study import budget_lock, create_or_load

ENTRY = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "accelgen-search")


def sbatch_script(spec: Spec, url: str, workers: int, out_dir: str, cache_dir: Optional[str],
                  extra: List[str]) -> str:
    cmd = ["/usr/bin/python3", ENTRY, "run", spec.path, "--storage", url, "--accelgen", spec.accelgen, "--quiet"]
    if cache_dir:
        cmd += ["--cache", cache_dir]
    lines = ["#!/bin/bash",
             f"#SBATCH --job-name=accelgen-search-{spec.study}",
             f"#SBATCH --array=0-{workers - 1}",
             f"#SBATCH --output={os.path.join(out_dir, '%A_%a.out')}",
             "#SBATCH --ntasks=1",
             "#SBATCH --cpus-per-task=1"]
    lines += [f"#SBATCH {a}" for a in extra]
    lines += ["# One worker per array task; the study (created before submission) holds the budget.",
              "exec " + " ".join(shlex.quote(c) for c in cmd), ""]
    return "\n".join(lines)


def submit(spec: Spec, url: str, workers: int, out_dir: str, cache_dir: Optional[str], extra: List[str],
           wait: bool, poll_s: float = 1.0) -> int:
    with budget_lock(url, spec.study):
        study = create_or_load(spec, url)  # once, before any worker: fresh workers race on the schema
    os.makedirs(out_dir, exist_ok=True)
    script = os.path.join(out_dir, "worker.sbatch")
    with open(script, "w") as f:
        f.write(sbatch_script(spec, url, workers, os.path.abspath(out_dir), cache_dir, extra))
    p = subprocess.run(["sbatch", "--parsable", script], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"error: sbatch failed: {p.stderr.strip()}", file=sys.stderr)
        return 1
    job = p.stdout.strip().split(";")[0]
    print(f"submitted array job {job}: {workers} workers on study '{spec.study}' (budget {spec.budget}); "
          f"script {script}, logs {out_dir}/{job}_*.out", flush=True)
    if not wait:
        return 0
    while True:
        q = subprocess.run(["squeue", "-h", "-j", job], capture_output=True, text=True)
        if q.returncode == 0 and not q.stdout.strip():
            break
        time.sleep(poll_s)
    from optuna.trial import TrialState
    complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    print(f"array job {job} finished: study '{spec.study}' holds {complete} complete trials of {spec.budget}")
    return 0 if complete >= spec.budget else 1
