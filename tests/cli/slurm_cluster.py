"""A private single-node Slurm cluster for tests and benchmarks.

    with SlurmCluster(folder) as c:     # raises SlurmUnavailable(reason)
        subprocess.run(["sbatch", ...], env=c.env)

Everything lives in `folder`: a munge key and munged on its own socket, a
slurm.conf for this host (its short hostname, address 127.0.0.1, two free
ports, the CPUs and memory `slurmd -C` reports), slurmctld and slurmd state,
logs and the job-completion log.  Nothing under /etc, /run or /var is used,
so it runs beside a real installation.  The daemons run in the foreground
as children of this process and get SIGTERM if it dies (PR_SET_PDEATHSIG);
this process is made a child subreaper, so job step daemons (slurmstepd)
stay its descendants.  stop() cancels every job, shuts the daemons down and
kills any process of the cluster left; it is idempotent and runs on exit.
A guard process (in its own session) does the same once this process has
ended in any way, SIGKILL included; start() also ends what an earlier run
in the same folder left.

Accounting: Slurm 22.05 keeps job accounting only through slurmdbd, which
needs a MySQL/MariaDB server.  Without one, the job-completion plugin
jobcomp/filetxt writes one line per finished job (and per array task) to
`folder/jobcomp.txt`, and `sacct --completion` reads it: job ID, state, exit
code, start and end.  This sacct prints "Unknown type ArrayJobId" (and
ArrayTaskId) on stderr for array tasks, whose lines carry those fields; the
states are read all the same.  Array task numbers come from
`scontrol show job` (MinJobAge keeps finished jobs there for 10 minutes).
"""
import atexit
import ctypes
import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
TOOLS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel", "sacct")


def leftovers(folder):
    """PIDs of live processes of the cluster in folder: their command line
    names the folder, or their environment holds its SLURM_CONF (the daemons
    and what they start: job steps, job scripts)."""
    conf = ("SLURM_CONF=" + os.path.join(folder, "slurm.conf")).encode()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{d}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if not zombie and b"--guard-cluster" not in cmd and (folder.encode() in cmd or conf in env.split(b"\0")):
            found.append(int(d))
    return found


def sweep(folder, grace=5.0):
    """Ends every process of the cluster in folder: SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        pids = leftovers(folder)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        end = time.monotonic() + wait
        while pids and time.monotonic() < end:
            time.sleep(0.1)
            pids = leftovers(folder)
        if not pids:
            return


class SlurmUnavailable(Exception):
    """Slurm cannot run here (the reason is the message)."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def _tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


class SlurmCluster:
    def __init__(self, folder):
        self.dir = os.path.abspath(folder)
        self.procs = []
        self.env = None
        self.started = False
        self.guard_fd = None

    # ---- start ---------------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _spawn(self, name, argv):
        log = open(os.path.join(self.dir, "log", name + ".out"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             preexec_fn=_die_with_parent, env=self.env)
        log.close()
        self.procs.append((name, p))
        return p

    def _wait_for(self, what, cond, timeout, logs=()):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise SlurmUnavailable(f"{name} exited with status {p.returncode} while waiting for {what}:\n" +
                                           "".join(_tail(os.path.join(self.dir, "log", f)) for f in logs))
            if cond():
                return
            time.sleep(0.1)
        raise SlurmUnavailable(f"timed out after {timeout} s waiting for {what}:\n" +
                               "".join(_tail(os.path.join(self.dir, "log", f)) for f in logs))

    def _node_line(self):
        r = subprocess.run(["slurmd", "-C"], capture_output=True, text=True)
        m = re.search(r"CPUs=(\d+).*RealMemory=(\d+)", r.stdout)
        if r.returncode != 0 or not m:
            raise SlurmUnavailable(f"slurmd -C failed: {r.stdout} {r.stderr}")
        sockets = re.search(r"Boards=\d+ (SocketsPerBoard=\d+ CoresPerSocket=\d+ ThreadsPerCore=\d+)", r.stdout)
        return int(m.group(1)), int(m.group(2)), sockets.group(1).replace("PerBoard", "") if sockets else ""

    def _write_conf(self, host, cpus, mem, layout, sock):
        user = getpass.getuser()
        ctld_port, d_port = _free_ports(2)
        conf = f"""# a private single-node cluster (tests/cli/slurm_cluster.py)
ClusterName=dcmpreptest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
SlurmUser={user}
SlurmdUser={user}
StateSaveLocation={self.dir}/state
SlurmdSpoolDir={self.dir}/spool
SlurmctldPidFile={self.dir}/run/slurmctld.pid
SlurmdPidFile={self.dir}/run/slurmd.pid
SlurmctldLogFile={self.dir}/log/slurmctld.log
SlurmdLogFile={self.dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.dir}/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} {layout} RealMemory={mem} State=UNKNOWN
PartitionName=local Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
        with open(self.env["SLURM_CONF"], "w") as f:
            f.write(conf)

    def start(self):
        missing = [t for t in TOOLS if not shutil.which(t)]
        if missing:
            raise SlurmUnavailable(f"not installed: {' '.join(missing)} (Debian packages slurm-wlm, munge)")
        _libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        atexit.register(self.stop)
        sweep(self.dir)  # an earlier run killed before it could stop its cluster
        shutil.rmtree(self.dir, ignore_errors=True)
        for d, mode in (("", 0o755), ("munge", 0o700), ("run", 0o755), ("log", 0o755), ("state", 0o755),
                        ("spool", 0o755)):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
            os.chmod(os.path.join(self.dir, d), mode)
        # The guard sweeps the folder's processes once this one ends, however
        # it ends (its end of the pipe closes): a SIGKILL leaves job steps,
        # reparented to init, that nothing else would stop.
        rfd, self.guard_fd = os.pipe()
        self.guard = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--guard-cluster", self.dir],
                                      stdin=rfd, start_new_session=True, close_fds=True)
        os.close(rfd)
        key = os.path.join(self.dir, "munge", "munge.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(os.urandom(128))
        sock = os.path.join(self.dir, "run", "munge.socket")
        # nothing of an outer job (when the tests themselves run under Slurm)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_"))}
        self.env["SLURM_CONF"] = os.path.join(self.dir, "slurm.conf")
        self._spawn("munged", ["munged", "-F", "--force", f"--key-file={key}", f"--socket={sock}",
                               f"--pid-file={self.dir}/run/munged.pid", f"--log-file={self.dir}/log/munged.log",
                               f"--seed-file={self.dir}/munge/seed"])
        self._wait_for("munged's socket", lambda: os.path.exists(sock), 15, ["munged.out", "munged.log"])
        cpus, mem, layout = self._node_line()
        host = socket.gethostname().split(".")[0]
        self._write_conf(host, cpus, mem, layout, sock)
        self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
        self._wait_for("slurmctld", lambda: self._run(["scontrol", "ping"]).stdout.count("UP") > 0, 30,
                       ["slurmctld.out", "slurmctld.log"])
        self._spawn("slurmd", ["slurmd", "-D"])
        self._wait_for("the node to be idle",
                       lambda: self._run(["sinfo", "-h", "-o", "%T"]).stdout.strip() == "idle", 30,
                       ["slurmd.out", "slurmd.log", "slurmctld.log"])
        self.started = True
        self.cpus, self.memory_mb, self.host = cpus, mem, host

    def _run(self, argv, **kw):
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, **kw)

    # ---- use -----------------------------------------------------------------
    def run(self, argv, **kw):
        """Runs a Slurm client command against this cluster."""
        return self._run(argv, **kw)

    def array_tasks(self, job):
        """{array task id: job id} of array job `job`, from scontrol."""
        r = self._run(["scontrol", "-o", "show", "job", str(job)])
        out = {}
        for line in r.stdout.splitlines():
            jid = re.search(r"\bJobId=(\d+)", line)
            tid = re.search(r"\bArrayTaskId=(\d+)\b", line)
            if jid and tid:
                out[int(tid.group(1))] = int(jid.group(1))
        return out

    def completion(self):
        """{job id: (state, exit code, start, end)} from sacct --completion."""
        r = self._run(["sacct", "--completion", "-n", "-P", "-S", "2000-01-01", "-o",
                       "JobIDRaw,State,ExitCode,Start,End"])
        out = {}
        for line in r.stdout.splitlines():
            f = line.split("|")
            if len(f) == 5 and f[0].isdigit():
                out[int(f[0])] = tuple(f[1:])
        return out

    def wait_gone(self, job, timeout):
        """Waits until no task of `job` is pending or running; True if so."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = self._run(["squeue", "-h", "-j", str(job), "-o", "%i"])
            if r.returncode == 0 and not r.stdout.strip():
                return True
            time.sleep(0.2)
        return False

    # ---- stop ----------------------------------------------------------------
    def _descendants(self):
        pids, todo = [], [os.getpid()]
        while todo:
            p = todo.pop()
            try:
                for t in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{t}/children") as f:
                        kids = [int(x) for x in f.read().split()]
                    pids += kids
                    todo += kids
            except OSError:
                pass
        return pids

    def leftovers(self):
        """PIDs of processes still running from this cluster's folder."""
        return leftovers(self.dir)

    def stop(self):
        if self.env is None:
            return
        if self.started:
            self._run(["scancel", "--full", "-u", getpass.getuser()], timeout=30)
            end = time.monotonic() + 20
            while time.monotonic() < end and self._run(["squeue", "-h", "-o", "%i"]).stdout.strip():
                time.sleep(0.2)
            self._run(["scontrol", "shutdown"], timeout=30)
            self.started = False
        for name, p in reversed(self.procs):
            if name == "munged":
                continue
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.terminate()
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        for pid in self._descendants():  # job steps, reparented to this subreaper
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    break
            except ChildProcessError:
                break
        sweep(self.dir)
        if self.guard_fd is not None:
            os.close(self.guard_fd)
            self.guard_fd = None
            self.guard.wait(30)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--guard-cluster":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while os.read(0, 4096):
        pass
    sweep(sys.argv[2])
