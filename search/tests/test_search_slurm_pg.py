"""The same study on PostgreSQL with 4 Slurm array workers (one node, daemons started here in a
scratch directory and stopped by PID, TOOLCHAIN.md section 9): exactly 16 complete trials, none
duplicated or lost, and the same Pareto front as one SQLite process with the same seed and budget.
Skipped only when slurm-wlm, munge or PostgreSQL are not installed (./setup.sh installs them)."""
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import run  # noqa: E402

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
NEEDED = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/bin/squeue"]
MISSING = [p for p in NEEDED if not os.path.exists(p)] + ([] if PG_BIN else ["/usr/lib/postgresql/*/bin"])
try:
    import psycopg2  # noqa: F401
except ImportError:
    MISSING.append("python3-psycopg2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


@unittest.skipIf(MISSING, f"not installed: {', '.join(MISSING)} (./setup.sh installs slurm-wlm, munge, "
                 "postgresql, python3-psycopg2)")
@unittest.skipIf(os.geteuid() != 0, "needs root to start slurmd, munged and PostgreSQL as their users")
class SlurmPostgres(unittest.TestCase):
    procs = []
    logs = []

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="accelgen-slurm-")
        w = cls.w = cls._tmp.name
        os.chmod(w, 0o755)
        cls.env = dict(os.environ)
        cls.pg_started = False
        try:
            cls._start_munge()
            cls._start_slurm()
            cls._start_postgres()
        except Exception:
            cls._stop_all()
            raise

    @classmethod
    def log(cls, name):
        f = open(os.path.join(cls.w, name), "w")
        cls.logs.append(f)
        return f

    @classmethod
    def _start_munge(cls):
        w = cls.w
        mdir = os.path.join(w, "munge")
        os.makedirs(mdir)
        mu = pwd.getpwnam("munge")
        key = os.path.join(mdir, "munge.key")
        shutil.copyfile("/etc/munge/munge.key", key)
        os.chmod(key, 0o400)
        for p in (mdir, key):
            os.chown(p, mu.pw_uid, mu.pw_gid)
        os.chmod(mdir, 0o755)  # munged wants execute permission for all on the socket's directory
        cls.munge_socket = os.path.join(mdir, "munge.socket")
        p = subprocess.Popen(["runuser", "-u", "munge", "--", "/usr/sbin/munged", "-F", "--key-file", key,
                              "--socket", cls.munge_socket, "--pid-file", os.path.join(mdir, "munged.pid"),
                              "--log-file", os.path.join(mdir, "munged.log"),
                              "--seed-file", os.path.join(mdir, "munged.seed")],
                             stdin=subprocess.DEVNULL, stdout=cls.log("munged.out"), stderr=subprocess.STDOUT)
        cls.procs.append(p)
        wait_for(lambda: os.path.exists(cls.munge_socket) or p.poll() is not None, 20, "munged")
        if p.poll() is not None:
            with open(os.path.join(w, "munged.out")) as f:
                raise RuntimeError("munged exited: " + f.read())

    @classmethod
    def _start_slurm(cls):
        w = cls.w
        for d in ("state", "spool", "log"):
            os.makedirs(os.path.join(w, "slurm", d))
        host = socket.gethostname().split(".")[0]
        conf = os.path.join(w, "slurm", "slurm.conf")
        with open(conf, "w") as f:
            f.write(f"""ClusterName=accelgen-ci
SlurmctldHost={host}
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket={cls.munge_socket}
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation={w}/slurm/state
SlurmdSpoolDir={w}/slurm/spool
SlurmctldPidFile={w}/slurm/slurmctld.pid
SlurmdPidFile={w}/slurm/slurmd.pid
SlurmctldLogFile={w}/slurm/log/slurmctld.log
SlurmdLogFile={w}/slurm/log/slurmd.log
NodeName={host} CPUs={os.cpu_count()} State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
        cls.env["SLURM_CONF"] = conf
        for exe in ("/usr/sbin/slurmctld", "/usr/sbin/slurmd"):
            name = os.path.basename(exe)
            cls.procs.append(subprocess.Popen([exe, "-D"], env=cls.env, stdin=subprocess.DEVNULL,
                                              stdout=cls.log(name + ".out"), stderr=subprocess.STDOUT))

        def idle():
            for p in cls.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{p.args[0]} exited; logs in {w}/slurm/log")
            q = subprocess.run(["sinfo", "-h", "-o", "%T"], env=cls.env, capture_output=True, text=True)
            return q.stdout.strip() == "idle"
        wait_for(idle, 60, "the Slurm node to become idle")

    @classmethod
    def _start_postgres(cls):
        w, pg = cls.w, PG_BIN[-1]
        data = os.path.join(w, "pg")
        os.makedirs(data)
        shutil.chown(data, "postgres")
        cls.pg_port = free_port()
        cls.pg_data = os.path.join(data, "data")
        cmd = (f"runuser -u postgres -- {pg}/initdb -D {cls.pg_data} -A trust -U postgres >{data}/initdb.log 2>&1 && "
               f"runuser -u postgres -- {pg}/pg_ctl -D {cls.pg_data} -l {data}/server.log "
               f"-o '-k {data} -p {cls.pg_port} -c listen_addresses=127.0.0.1' -w start")
        if os.stat("/dev/null").st_mode & 0o002 == 0:
            # /dev/null not writable by other users (seen in containers): give PostgreSQL a private one.
            devnull = os.path.join(w, "devnull")
            subprocess.run(["mknod", "-m", "666", devnull, "c", "1", "3"], check=True)
            cmd = f"mount --bind {devnull} /dev/null && " + cmd
            argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", cmd]
        else:
            argv = ["sh", "-c", cmd]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)
        cls.pg_started = True
        subprocess.run(["runuser", "-u", "postgres", "--", f"{pg}/createdb", "-h", "127.0.0.1", "-p",
                        str(cls.pg_port), "-U", "postgres", "optuna"], check=True, capture_output=True)
        cls.pg_url = f"postgresql+psycopg2://postgres@127.0.0.1:{cls.pg_port}/optuna"

    @classmethod
    def _stop_all(cls):
        if cls.pg_started:
            subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN[-1]}/pg_ctl", "-D", cls.pg_data,
                            "-m", "fast", "-w", "stop"], capture_output=True)
        for p in reversed(cls.procs):  # slurmd, slurmctld, munged: by the PID we started
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        cls.procs = []
        for f in cls.logs:
            f.close()
        cls.logs = []

    @classmethod
    def tearDownClass(cls):
        cls._stop_all()
        cls._tmp.cleanup()

    maxDiff = None

    def test_array_job_fills_budget_and_matches_sqlite(self):
        support.make_workload(self.w)
        pop = 8
        spec = support.write_spec(self.w, "ci", budget=16, sampler={"name": "nsga2", "seed": support.SEED,
                                                                    "population_size": pop})
        cache = os.path.join(self.w, "cache")
        p = run(["slurm", spec, "--workers", "4", "--storage", self.pg_url, "--cache", cache,
                 "--out", os.path.join(self.w, "logs"), "--wait"], env=self.env, timeout=600)
        logs = ""
        for name in sorted(glob.glob(os.path.join(self.w, "logs", "*.out"))):
            with open(name) as f:
                logs += f.read()
        self.assertEqual(p.returncode, 0, f"seed {support.SEED}\n{p.stdout}\n{p.stderr}\n{logs}")

        import optuna
        from optuna.trial import TrialState
        ts = optuna.load_study(study_name="ci", storage=self.pg_url).get_trials(deepcopy=False)
        self.assertEqual(len(ts), 16, logs)
        self.assertEqual(sorted(t.number for t in ts), list(range(16)))
        self.assertTrue(all(t.state == TrialState.COMPLETE for t in ts), [t.state for t in ts])
        self.assertEqual(len({t._trial_id for t in ts}), 16)
        workers = {t.user_attrs["worker"] for t in ts}
        print(f"seed {support.SEED}: 16 trials by {len(workers)} array tasks", file=sys.stderr)

        db = os.path.join(self.w, "single.db")
        self.assertEqual(run(["run", spec, "--storage", f"sqlite:///{db}", "--quiet"]).returncode, 0)
        single = optuna.load_study(study_name="ci", storage=f"sqlite:///{db}").get_trials(deepcopy=False)
        self.assertEqual({t.number: (t.params, t.values) for t in ts},
                         {t.number: (t.params, t.values) for t in single}, f"seed {support.SEED}")

        fronts = []
        for url in (self.pg_url, f"sqlite:///{db}"):
            out = os.path.join(self.w, "report-" + url.split(":")[0])
            r = run(["report", "--storage", url, "--out", out])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(out, "front.json")) as f:
                front = json.load(f)
            fronts.append([(p["params"], p["objectives"]) for p in front])
            with open(os.path.join(out, "points.json")) as f:
                pts = json.load(f)["points"]
            self.assertEqual(sorted(n for p in front for n in p["trials"]), support.brute_front(pts))
        self.assertEqual(fronts[0], fronts[1], f"seed {support.SEED}")
        self.assertTrue(fronts[0])


if __name__ == "__main__":
    sys.exit(support.main())
