"""The Optuna study: storage, seeded samplers, the budget claim, and the worker loop.

Reproducibility (docs/search.md "Seeds and workers"): each trial's random numbers are seeded from
(seed, trial number), and an NSGA-II trial of generation g waits until every trial of the earlier
generations has finished. So the parameters of trial k depend only on the seed, k and the earlier
generations' results: one process and N Slurm workers give the same trials and the same front.
The budget is claimed under a lock shared by all workers (a PostgreSQL advisory lock, or a file
lock next to a SQLite database), so a study never holds more trials than the budget.
"""
import contextlib
import fcntl
import hashlib
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import warnings
from typing import Any, Dict, Optional

import optuna
from optuna.samplers import NSGAIISampler, TPESampler
from optuna.trial import TrialState

from .evaluate import evaluate
from .spec import Spec

warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own progress lines instead

ALIVE = (TrialState.RUNNING, TrialState.WAITING, TrialState.COMPLETE)


def trial_seed(seed: int, number: int, salt: int) -> int:
    h = hashlib.sha256(f"{seed}:{number}:{salt}".encode()).digest()
    return int.from_bytes(h[:4], "little")


def constraints_of(trial: optuna.trial.FrozenTrial):
    return trial.user_attrs.get("constraints", [1.0])


class _Reseed:
    """Mixin: per-trial seeds (and the NSGA-II generation barrier) before a trial samples anything.

    Optuna 3.1 has no before_trial hook; infer_relative_search_space is the first sampler call of
    every trial (Trial._init_relative_params), so the preparation happens there."""

    def _setup(self, seed: int, barrier: int) -> None:
        self._base_seed = seed
        self._barrier = barrier  # population size for NSGA-II; 0 = none

    def infer_relative_search_space(self, study, trial):
        record_heartbeat(study._storage, trial._trial_id)  # this trial is alive from its first moment
        if self._barrier:
            first_of_gen = (trial.number // self._barrier) * self._barrier
            last_beat = time.monotonic()
            while first_of_gen > 0:
                earlier = study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
                if not any(t.number < first_of_gen for t in earlier):
                    break
                time.sleep(0.2)
                if time.monotonic() - last_beat > HEARTBEAT_S:
                    record_heartbeat(study._storage, trial._trial_id)
                    fail_stale_trials(study)  # an earlier trial whose worker died
                    last_beat = time.monotonic()
        self._rng.seed(trial_seed(self._base_seed, trial.number, 0))
        self._random_sampler._rng.seed(trial_seed(self._base_seed, trial.number, 1))
        # Sorted by name: SQLite and PostgreSQL return a trial's params in different orders, and the
        # order decides which random number each parameter's crossover and mutation consume.
        return dict(sorted(super().infer_relative_search_space(study, trial).items()))


class SeededNSGAII(_Reseed, NSGAIISampler):
    def __init__(self, seed: int, population_size: int):
        super().__init__(seed=seed, population_size=population_size, constraints_func=constraints_of)
        self._setup(seed, population_size)


class SeededTPE(_Reseed, TPESampler):
    def __init__(self, seed: int):
        super().__init__(seed=seed, constraints_func=constraints_of, multivariate=True)
        self._setup(seed, 0)


def make_sampler(spec: Spec):
    if spec.sampler == "tpe":
        return SeededTPE(spec.seed)
    return SeededNSGAII(spec.seed, spec.population_size)


def directions(spec: Spec):
    return [o["direction"] for o in spec.objectives]


def spec_fingerprint(spec: Spec) -> Dict[str, Any]:
    """What a resumed study must agree on (objectives, free fields, sampler, seed)."""
    return {"kind": spec.kind, "base": spec.base, "params": [p.__dict__ for p in spec.params],
            "objectives": spec.objectives, "constraints": spec.constraints, "workloads": spec.workloads,
            "sampler": spec.sampler, "seed": spec.seed, "population_size": spec.population_size,
            "area": spec.area, "liberty": spec.liberty, "thresholds": spec.thresholds,
            "calibrate": spec.calibrate}


HEARTBEAT_S = 10   # a running trial's worker records a heartbeat this often
GRACE_S = 60       # a RUNNING trial without a heartbeat for this long is failed (its worker died)
HEARTBEAT_KEY = "accelgen:heartbeat"


def record_heartbeat(storage, trial_id: int) -> None:
    # Our own heartbeat (wall clock of the worker, a trial system attribute): Optuna 3.1's
    # RDB heartbeat mixes the database's and Python's clocks and failed live trials in testing.
    storage.set_trial_system_attr(trial_id, HEARTBEAT_KEY, time.time())


def fail_stale_trials(study) -> None:
    """Marks failed the RUNNING trials whose heartbeat is older than GRACE_S (their worker died)."""
    now = time.time()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        beat = t.system_attrs.get(HEARTBEAT_KEY)
        if beat is not None and now - beat > GRACE_S:
            try:
                study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
                print(f"trial {t.number}: no heartbeat for {now - beat:.0f} s, marked failed", file=sys.stderr)
            except RuntimeError:
                pass  # it finished meanwhile


def make_storage(url: str):
    if url.startswith("sqlite:"):
        # A generous timeout: several processes share the file.
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    return optuna.storages.RDBStorage(url)


def create_or_load(spec: Spec, url: str) -> optuna.Study:
    """Create the study (once, before any worker starts) or load it; a spec that changed is an error."""
    storage = make_storage(url)
    study = optuna.create_study(study_name=spec.study, storage=storage, directions=directions(spec),
                                sampler=make_sampler(spec), load_if_exists=True)
    fp = spec_fingerprint(spec)
    have = study.user_attrs.get("spec")
    if have is None:
        study.set_user_attr("spec", fp)
        study.set_user_attr("budget", spec.budget)
    else:
        # Key by key: a key a study was created without (an older spec format) reads as None.
        diff = [k for k in fp if json.loads(json.dumps(fp[k])) != have.get(k)]
        if diff:
            from .errors import SpecError
            raise SpecError("spec." + diff[0],
                            f"differs from the one study '{spec.study}' was created with; use another study name")
        study.set_user_attr("budget", spec.budget)  # the budget may grow on a resumed run
    return study


@contextlib.contextmanager
def budget_lock(url: str, study_name: str):
    """Held while counting the study's trials and asking for a new one."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):] + ".lock"
        with open(path, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    elif url.startswith("postgresql"):
        import sqlalchemy
        key = int.from_bytes(hashlib.sha256(study_name.encode()).digest()[:8], "little", signed=True)
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        engine.dispose()
    else:
        yield  # other databases: no lock (the budget may be overrun by up to workers - 1 trials)


def suggest(trial: optuna.Trial, spec: Spec) -> Dict[str, Any]:
    params = {}
    for p in spec.params:
        if p.type == "int":
            params[p.name] = trial.suggest_int(p.name, p.low, p.high, step=p.step)
        elif all(c is None or isinstance(c, (bool, int, float, str)) for c in p.choices):
            params[p.name] = trial.suggest_categorical(p.name, p.choices)
        else:
            # Optuna's categorical choices must be scalars: list-valued ones (threshold_modes) are
            # suggested as their JSON text and decoded back.
            params[p.name] = json.loads(trial.suggest_categorical(p.name, [json.dumps(c) for c in p.choices]))
    return params


class _Stop(KeyboardInterrupt):  # SIGTERM: handled like Ctrl-C
    pass


class _Signals:
    """SIGTERM and SIGINT stop the worker; during an evaluation at once (the eval subprocess is
    killed), otherwise after the storage operation in progress, so no trial is left RUNNING."""

    def __init__(self):
        self.in_eval = False
        self.pending = False

    def handler(self, signum, frame):
        if self.in_eval:
            raise _Stop()
        self.pending = True

    def check(self):
        if self.pending:
            raise _Stop()


class _Heartbeat:
    """Records the running trial's heartbeat so other workers can fail it if this one dies."""

    def __init__(self, storage, trial_id: int):
        self.storage, self.trial_id = storage, trial_id
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.done.wait(HEARTBEAT_S):
            try:
                record_heartbeat(self.storage, self.trial_id)
            except Exception:
                pass  # a missed heartbeat only risks the trial being failed after the grace period

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


class Progress:
    """One line per finished trial on stderr: a bar, counts, cache hits and the ETA."""

    def __init__(self, budget: int, done: int, quiet: bool):
        self.budget, self.start_done, self.quiet = budget, done, quiet
        self.t0 = time.monotonic()

    def update(self, done: int, note: str) -> None:
        if self.quiet:
            return
        n = done - self.start_done
        rate = (time.monotonic() - self.t0) / n if n > 0 else math.nan
        left = max(0, self.budget - done)
        eta = rate * left if n > 0 else math.nan
        width = 24
        filled = int(width * min(done, self.budget) / self.budget)
        eta_s = "?" if math.isnan(eta) else time.strftime("%H:%M:%S", time.gmtime(eta))
        print(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.budget} trials, "
              f"{rate:.2f} s/trial, ETA {eta_s}  {note}", file=sys.stderr, flush=True)


def run_worker(spec: Spec, url: str, cache_dir: Optional[str], worker: str, quiet: bool = False) -> int:
    """Pulls trials until the study holds `budget` trials (running or complete). Returns trials run here."""
    with budget_lock(url, spec.study):  # fresh workers would race on creating the schema
        study = create_or_load(spec, url)
    done = sum(1 for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    progress = Progress(spec.budget, done, quiet)
    sig = _Signals()
    old = {n: signal.signal(n, sig.handler) for n in (signal.SIGTERM, signal.SIGINT)}
    ran = 0
    try:
        while True:
            sig.check()
            with budget_lock(url, spec.study):
                fail_stale_trials(study)  # trials of workers that died (SIGKILL, node lost)
                alive = study.get_trials(deepcopy=False, states=ALIVE)
                if len(alive) >= spec.budget:
                    break
                trial = study.ask()
            try:
                with _Heartbeat(study._storage, trial._trial_id):
                    sig.in_eval = True
                    sig.check()
                    params = suggest(trial, spec)  # (may wait for the previous NSGA-II generation)
                    res = evaluate(spec, params, cache_dir)
                    sig.in_eval = False
            except KeyboardInterrupt:
                sig.in_eval = False
                study.tell(trial, state=TrialState.FAIL)  # re-run continues: failed trials do not count
                print(f"stopped: trial {trial.number} marked failed; run again to continue", file=sys.stderr)
                raise
            except Exception as e:  # a bug or a broken installation, not an infeasible point
                sig.in_eval = False
                trial.set_user_attr("reason", f"internal error: {e!r}")
                study.tell(trial, state=TrialState.FAIL)
                raise
            for key in ("config", "config_hash", "records", "feasible", "eval_feasible", "reason",
                        "constraints", "eval_seconds", "area_cache_hit"):
                trial.set_user_attr(key, res[key])
            trial.set_user_attr("worker", worker)
            study.tell(trial, res["values"])
            ran += 1
            done = sum(1 for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
            note = ("feasible" if res["feasible"] else "infeasible: " + res["reason"][:60])
            progress.update(done, f"#{trial.number} {note}")
    finally:
        for n, h in old.items():
            signal.signal(n, h)
    return ran


def default_worker_name() -> str:
    task = os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{socket.gethostname()}:{os.getpid()}" + (f":task{task}" if task else "")
