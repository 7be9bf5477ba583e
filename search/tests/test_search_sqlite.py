"""accelgen-search on SQLite in one process: spec checks, infeasible points, budget, resume,
reproducibility, report, and the shared area cache. Run: /usr/bin/python3 -m unittest (from here).
Seed: $ACCELGEN_SEARCH_TEST_SEED (default 7), printed on failure."""
import csv
import json
import os
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import support  # noqa: E402
from support import run  # noqa: E402

import optuna  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def trials(db, name):
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
    return study.get_trials(deepcopy=False)


class SearchTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = support.new_tmp("accelgen-search-test-")
        cls.tmp = cls._tmp.name
        support.make_workload(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def ok(self, p):
        self.assertEqual(p.returncode, 0, f"seed {support.SEED}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")

    def bad(self, spec_over, field, name):
        spec = support.write_spec(self.tmp, name, **spec_over)
        p = run(["run", spec, "--storage", f"sqlite:///{self.tmp}/{name}.db"])
        self.assertEqual(p.returncode, 2, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith(f"error: {field}: "), lines[0])
        self.assertFalse(os.path.exists(f"{self.tmp}/{name}.db.lock"))  # nothing ran
        return lines[0]


class SpecErrors(SearchTestCase):
    def test_unknown_field(self):
        line = self.bad({"free": {"lane": {}}}, "spec.free.lane", "e1")
        self.assertIn("unknown key", line)
        self.assertIn("lanes", line)  # the allowed fields are listed

    def test_range_outside_space(self):
        line = self.bad({"free": {"lanes": {"min": 1, "max": 65}}}, "spec.free.lanes.max", "e2")
        self.assertIn("65 is outside what accelgen space allows [1, 64]", line)

    def test_choice_outside_space(self):
        self.bad({"free": {"wk": {"choices": [1, 4]}}}, "spec.free.wk.choices", "e3")

    def test_fixed_field(self):
        self.bad({"free": {"name": {}}}, "spec.free.name", "e4")

    def test_unknown_top_key(self):
        self.bad({"budgett": 3}, "spec.budgett", "e5")

    def test_bad_sampler_and_budget(self):
        self.bad({"sampler": {"name": "grid"}}, "spec.sampler.name", "e6")
        self.bad({"budget": 0}, "spec.budget", "e7")

    def test_unknown_metric_and_area_needed(self):
        self.bad({"objectives": [{"metric": "speed"}]}, "spec.objectives[0].metric", "e8")
        self.bad({"objectives": [{"metric": "area_um2"}]}, "spec.area", "e9")

    def test_bad_base_config(self):
        with open(os.path.join(self.tmp, "badbase.json"), "w") as f:
            json.dump({"lanes": 100}, f)
        line = self.bad({"base": "badbase.json"}, "spec.base", "e10")
        self.assertIn("config.lanes", line)

    def test_step_must_divide(self):
        self.bad({"free": {"lanes": {"min": 1, "max": 16, "step": 2}}}, "spec.free.lanes.step", "e11")


class SqliteStudy(SearchTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.spec = support.write_spec(cls.tmp, "s1")
        cls.db = os.path.join(cls.tmp, "s1.db")
        cls.first = run(["run", cls.spec, "--storage", f"sqlite:///{cls.db}"])

    def test_budget_records_and_infeasible_points(self):
        self.ok(self.first)
        ts = trials(self.db, "s1")
        self.assertEqual(sorted(t.number for t in ts), list(range(12)))
        self.assertTrue(all(t.state == TrialState.COMPLETE for t in ts))
        n_infeasible = 0
        for t in ts:
            ua = t.user_attrs
            self.assertEqual(len(ua["records"]), 1)  # every eval record is kept in the study
            self.assertEqual(ua["config"]["lanes"], t.params["lanes"])
            want = support.expected_infeasible_reason(t.params)
            msg = f"seed {support.SEED} trial {t.number} params {t.params}: {ua['reason']}"
            if want is None:
                self.assertTrue(ua["feasible"], msg)
                rec = ua["records"][0]
                self.assertEqual(ua["constraints"], [0.0])
                self.assertEqual(t.values[0], rec["cycles"]["total"] / support.LQ)
                self.assertEqual(t.values[1], t.params["lanes"])
            else:
                n_infeasible += 1
                self.assertFalse(ua["feasible"], msg)
                self.assertGreater(ua["constraints"][0], 0)
                if want == "Lk":
                    self.assertIn("k.npy", ua["reason"], msg)
                    self.assertIn("max_keys = 8", ua["reason"], msg)
                else:
                    self.assertEqual(ua["reason"], want, msg)
        print(f"seed {support.SEED}: {n_infeasible} of 12 trials infeasible", file=sys.stderr)

    def test_rerun_continues_and_budget_grows(self):
        self.ok(self.first)
        before = {t.number: t.params for t in trials(self.db, "s1")}
        p = run(["run", self.spec, "--storage", f"sqlite:///{self.db}"])
        self.ok(p)
        self.assertIn("0 trials evaluated here", p.stdout)
        spec16 = support.write_spec(self.tmp, "s1", budget=16)
        p = run(["run", spec16, "--storage", f"sqlite:///{self.db}"])
        self.ok(p)
        self.assertIn("4 trials evaluated here", p.stdout)
        after = {t.number: t.params for t in trials(self.db, "s1")}
        self.assertEqual(sorted(after), list(range(16)))
        self.assertEqual({k: after[k] for k in before}, before)
        support.write_spec(self.tmp, "s1")  # back to the budget the other tests expect

    def test_changed_spec_is_refused(self):
        self.ok(self.first)
        spec = support.write_spec(self.tmp, "s1", sampler={"name": "nsga2", "seed": support.SEED + 1,
                                                           "population_size": 6})
        p = run(["run", spec, "--storage", f"sqlite:///{self.db}"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("error: spec.seed: differs", p.stderr)
        support.write_spec(self.tmp, "s1")

    def test_same_seed_same_trials(self):
        self.ok(self.first)
        db2 = os.path.join(self.tmp, "s1-again.db")
        self.ok(run(["run", self.spec, "--storage", f"sqlite:///{db2}"]))
        a = {t.number: (t.params, t.values) for t in trials(self.db, "s1") if t.number < 12}
        b = {t.number: (t.params, t.values) for t in trials(db2, "s1")}
        self.assertEqual(a, b, f"seed {support.SEED}")

    def test_report(self):
        self.ok(self.first)
        out = os.path.join(self.tmp, "report")
        p = run(["report", "--storage", f"sqlite:///{self.db}", "--out", out])
        self.ok(p)
        with open(os.path.join(out, "points.json")) as f:
            pts = json.load(f)["points"]
        with open(os.path.join(out, "points.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), len(pts))
        self.assertEqual({r["trial"] for r in rows}, {str(p["number"]) for p in pts})
        for r in rows:
            self.assertIn(r["feasible"], ("True", "False"))
            if r["feasible"] == "False":
                self.assertNotEqual(r["reason"], "")
        with open(os.path.join(out, "front.json")) as f:
            front = sorted(n for p in json.load(f) for n in p["trials"])
        self.assertEqual(front, support.brute_front(pts), f"seed {support.SEED}")
        self.assertTrue(front)
        ET.parse(os.path.join(out, "pareto.svg"))  # well-formed SVG


class Interrupted(SearchTestCase):
    def test_sigterm_then_rerun_completes_the_budget(self):
        import signal
        import time
        spec = support.write_spec(self.tmp, "i1")
        db = os.path.join(self.tmp, "i1.db")
        p = subprocess.Popen([support.PY, support.ENTRY, "run", spec, "--storage", f"sqlite:///{db}", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            time.sleep(0.3)
            try:
                if sum(t.state == TrialState.COMPLETE for t in trials(db, "i1")) >= 2:
                    break
            except Exception:
                pass  # the study is not created yet
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        # the stop waits for the storage operation in progress: nothing is left RUNNING
        self.assertEqual([t.number for t in trials(db, "i1") if t.state == TrialState.RUNNING], [])
        self.ok(run(["run", spec, "--storage", f"sqlite:///{db}", "--quiet"]))
        ts = trials(db, "i1")
        complete = [t for t in ts if t.state == TrialState.COMPLETE]
        failed = [t for t in ts if t.state == TrialState.FAIL]
        self.assertEqual(len(complete), 12, f"seed {support.SEED}")
        self.assertLessEqual(len(failed), 1)
        self.assertEqual(len(ts), len(complete) + len(failed))  # nothing left running


class Calibrated(SearchTestCase):
    """Thresholds learned per trial (accelgen calibrate) and an output-error constraint."""

    def test_thresholds_learned_per_trial_and_error_constraint(self):
        spec = support.write_spec(self.tmp, "c1", budget=4, free={"wk": {"choices": [4, 8]}},
                                  calibrate={"workloads": ["wl"], "max_error": 0.05},
                                  constraints=[{"metric": "calib_error", "max": 0.005}])
        db = os.path.join(self.tmp, "c1.db")
        self.ok(run(["run", spec, "--storage", f"sqlite:///{db}", "--quiet"]))
        ts = trials(db, "c1")
        self.assertEqual(len(ts), 4)
        for t in ts:
            rec = t.user_attrs["records"][0]
            cal = rec["calibration"]
            msg = f"seed {support.SEED} trial {t.number}: {cal}"
            self.assertEqual(cal["max_error"], 0.05)
            # eval ran with the learned threshold, not the workload's theta
            self.assertEqual(rec["workload"]["theta"], cal["thresholds"][0]["theta"], msg)
            self.assertEqual(t.user_attrs["feasible"], cal["error_held_out"] <= 0.005, msg)
            if not t.user_attrs["feasible"]:
                self.assertTrue(t.user_attrs["reason"].startswith("constraint: calib_error = "), msg)
                self.assertGreater(t.user_attrs["constraints"][1], 0)


class AreaCache(SearchTestCase):
    """Area through the project's gate-equivalent liberty: one config, several trials and two
    concurrent workers: synthesized once, every other trial a cache hit, one cache entry."""

    def test_synthesized_once(self):
        cache = os.path.join(self.tmp, "cache")
        lib = os.path.join(support.REPO, "constraints", "ge_area.lib")
        spec = support.write_spec(self.tmp, "a1", free={"lanes": {"choices": [2]}}, area=True, liberty=lib,
                                  objectives=[{"metric": "area_um2"}, {"metric": "cycles_per_query"}], budget=4)
        db = os.path.join(self.tmp, "a1.db")
        procs = [subprocess.Popen([support.PY, support.ENTRY, "run", spec, "--storage", f"sqlite:///{db}",
                                   "--cache", cache, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
        for p in procs:
            out, err = p.communicate(timeout=600)
            self.assertEqual(p.returncode, 0, err)
        ts = trials(db, "a1")
        self.assertEqual(len(ts), 4)
        hits = sorted(t.user_attrs["area_cache_hit"] for t in ts)
        self.assertEqual(hits, [False, True, True, True])
        self.assertEqual(len({t.values[0] for t in ts}), 1)
        entries = [e for e in os.listdir(os.path.join(cache, "area")) if not e.endswith(".lock")]
        self.assertEqual(len(entries), 1, entries)
        self.assertTrue(os.path.isfile(os.path.join(cache, "area", entries[0], "result.json")))


class CalibrateOptions(SearchTestCase):
    """spec.calibrate's mode and whole held-out workloads, the calibration cache, dense baselines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.held = os.path.join(cls.tmp, "wl_held")  # same shape as wl, other data
        subprocess.run([support.ACCELGEN, "workload", "--config", os.path.join(cls.tmp, "base.json"), "--kind",
                        "gaussian", "--lq", str(support.LQ), "--lk", str(support.LK), "--seed", "4", "--out",
                        cls.held], check=True, capture_output=True)

    def test_spec_errors(self):
        cal = {"workloads": ["wl"], "max_error": 0.05}
        self.bad({"calibrate": {**cal, "mode": "best"}}, "spec.calibrate.mode", "ce1")
        self.bad({"calibrate": {**cal, "holdout_workloads": ["wl"]}}, "spec.calibrate.holdout_workloads[0]", "ce2")
        self.bad({"calibrate": {**cal, "holdout_workloads": ["nope"]}}, "spec.calibrate.holdout_workloads[0]", "ce3")

    def test_holdout_mode_and_cache(self):
        both = ["absolute", "relative"]
        spec = support.write_spec(self.tmp, "ch", budget=3,
                                  free={"lanes": {"choices": [2]}, "threshold_modes": {"choices": [both]}},
                                  calibrate={"workloads": ["wl"], "holdout_workloads": ["wl_held"],
                                             "max_error": 0.05, "mode": "relative"})
        cache = os.path.join(self.tmp, "ch-cache")
        db = os.path.join(self.tmp, "ch.db")
        self.ok(run(["run", spec, "--storage", f"sqlite:///{db}", "--cache", cache, "--quiet"]))
        ts = sorted(trials(db, "ch"), key=lambda t: t.number)
        self.assertEqual(len(ts), 3)
        # The reference: accelgen calibrate run directly with the options the spec asks for.
        cfg = os.path.join(self.tmp, "ch-config.json")
        with open(cfg, "w") as f:
            json.dump(ts[0].user_attrs["config"], f)
        ref = os.path.join(self.tmp, "ch-ref.json")
        subprocess.run([support.ACCELGEN, "calibrate", "--config", cfg, "--workload", os.path.join(self.tmp, "wl"),
                        "--holdout-dir", self.held, "--max-error", "0.05", "--mode", "relative", "--no-cycles",
                        "--out", ref], check=True, capture_output=True)
        with open(ref) as f:
            want = json.load(f)
        for t in ts:
            cal = t.user_attrs["records"][0]["calibration"]
            msg = f"seed {support.SEED} trial {t.number}: {cal}"
            self.assertEqual(cal["thresholds"], want["thresholds"], msg)
            self.assertEqual(cal["thresholds"][0]["mode"], "relative", msg)
            self.assertEqual(cal["error_held_out"], want["report"]["overall"]["learned"]["error_max"]["held_out"])
            self.assertEqual(cal["from_cache"], t.number > 0, msg)  # one config: calibrated once
        self.assertEqual(len([f for f in os.listdir(os.path.join(cache, "calib")) if f.endswith(".json")]), 1)

    def test_dense_baseline_is_not_calibrated(self):
        spec = support.write_spec(self.tmp, "cd", budget=1,
                                  free={"lanes": {"choices": [2]}, "dense_baseline": {"choices": [True]}},
                                  calibrate={"workloads": ["wl"], "max_error": 0.05},
                                  constraints=[{"metric": "calib_error", "max": 0.01}])
        db = os.path.join(self.tmp, "cd.db")
        self.ok(run(["run", spec, "--storage", f"sqlite:///{db}", "--quiet"]))
        (t,) = trials(db, "cd")
        self.assertTrue(t.user_attrs["feasible"], t.user_attrs["reason"])
        self.assertEqual(t.user_attrs["records"][0]["calibration"]["error_held_out"], 0.0)


class EnergyMetric(SearchTestCase):
    """energy_per_query reads eval --energy's pJ per query, and only then is --energy passed. eval is
    replaced by a stand-in that records its argv and returns a fixed record (no synthesis)."""

    def evaluate_with_fake(self, objectives):
        from accelgen_search.evaluate import evaluate
        from accelgen_search.spec import load_spec
        fake = os.path.join(self.tmp, "fake-accelgen")
        with open(fake, "w") as f:
            f.write("#!/usr/bin/python3\nimport json, sys\nout = sys.argv[sys.argv.index('--json') + 1]\n"
                    "json.dump({'feasible': True, 'config_hash': 'h', 'workload': {'lq': 4}, 'latency_ns': 40.0,"
                    " 'area': {'area_um2': 100.0}, 'energy': {'unit': {'pj_per_query': 12.5}}, 'argv': sys.argv},"
                    " open(out, 'w'))\n")
        os.chmod(fake, 0o755)
        spec = load_spec(support.write_spec(self.tmp, "en", area=True, objectives=objectives))
        spec.accelgen = fake
        return evaluate(spec, {"lanes": 2, "wk": 4, "max_keys": 16}, None)

    def test_energy_objective(self):
        res = self.evaluate_with_fake([{"metric": "energy_per_query"}, {"metric": "latency_ns_per_query"}])
        self.assertIn("--energy", res["records"][0]["argv"])
        self.assertEqual(res["values"], [12.5, 10.0])  # 12.5 pJ/query as recorded; 40 ns / 4 queries

    def test_no_energy_without_the_metric(self):
        res = self.evaluate_with_fake([{"metric": "area_um2"}])
        self.assertNotIn("--energy", res["records"][0]["argv"])
        self.assertEqual(res["values"], [100.0])


class PrepareTraces(SearchTestCase):
    """examples/prepare_traces.py: the first N positions, marked causal; a missing trace exits 2."""

    def test_shortened_causal_copy(self):
        import numpy as np
        script = os.path.join(support.REPO, "search", "examples", "prepare_traces.py")
        out = os.path.join(self.tmp, "prep")
        p = subprocess.run([support.PY, script, self.tmp, out, "3", "wl"], capture_output=True, text=True)
        self.ok(p)
        for name in ("q", "k", "v"):
            full = np.load(os.path.join(self.tmp, "wl", name + ".npy"))
            short = np.load(os.path.join(out, "wl", name + ".npy"))
            self.assertTrue(np.array_equal(short, full[:3]), name)
        with open(os.path.join(out, "wl", "params.json")) as f:
            params = json.load(f)
        self.assertEqual((params["causal"], params["causal_offset"]), (True, 0))
        p = subprocess.run([support.PY, script, self.tmp, out, "3", "nope"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("nope: missing q.npy", p.stderr)
        p = subprocess.run([support.PY, script, self.tmp, out, "17", "wl"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("error: N: 17 is more than the 4 positions", p.stderr)


if __name__ == "__main__":
    sys.exit(support.main())
