"""Shared parts of bench/density and bench/compare (standard library only).

The five kinds of instance compared, how each one is started, found on the host (its processes)
and cleaned up; the static programs; /proc readings; the machine description for reports.
"""

import datetime
import errno
import glob
import hashlib
import json
import os
import re
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
PROGRAMS = os.path.join(BENCH_DIR, "programs")
RESULTS = os.path.join(BENCH_DIR, "results")

KINDS = ("plain", "unshare", "runc", "crun", "mvm")
UNSHARE = ["unshare", "-fpmiun"]
# crun 1.8.1 refuses this host's hybrid cgroup layout (v1 + a v2 mount); it runs in a private
# mount namespace without the v2 mount (HOST.md). One holder process keeps such a namespace;
# every crun command enters it with nsenter (one setns + exec, no fork).
CGROUP2_MOUNT = "/sys/fs/cgroup/unified"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def first_line(data):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    for line in (data or "").splitlines():
        line = line.strip()
        if line:
            return line[:200]
    return ""


# ----------------------------------------------------------------------------------------------
# Programs: gcc -static, cached by a hash of the source


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mvm-bench")


def build(name, static=True):
    """bench/programs/NAME.c built with gcc (static unless `static` is False), cached."""
    src = os.path.join(PROGRAMS, name + ".c")
    cflags = (["-static"] if static else []) + ["-O2", "-Wall", "-Wextra"]
    h = hashlib.sha256()
    with open(src, "rb") as f:
        h.update(f.read())
    h.update(" ".join(cflags).encode())
    out_dir = cache_dir()
    os.makedirs(out_dir, exist_ok=True)
    suffix = "" if static else "-dyn"
    out = os.path.join(out_dir, f"{name}{suffix}-{h.hexdigest()[:12]}")
    if not os.path.exists(out):
        tmp = out + f".tmp{os.getpid()}"
        r = subprocess.run(["gcc", *cflags, "-o", tmp, src], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"building {name}.c failed:\n{r.stderr}")
        os.replace(tmp, out)
    return out


# ----------------------------------------------------------------------------------------------
# /proc


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0])  # KiB
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def proc_stat(pid):
    """(ppid, pgid, threads) of pid, or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return int(rest[1]), int(rest[2]), int(rest[17])


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def rollup(pid):
    """{'Rss': KiB, 'Pss': KiB, ...} from smaps_rollup, or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            out = {}
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[0].endswith(":") and parts[2] == "kB":
                    out[parts[0][:-1]] = int(parts[1])
            return out
    except OSError:
        return None


def nfds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def set_subreaper():
    """Containers started with `runc/crun run -d` outlive their launcher; as the child subreaper
    this script inherits them, can reap them, and sees them when it checks for leftovers."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def raise_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# ----------------------------------------------------------------------------------------------
# Containers


def runtime_version(binary):
    try:
        r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        return first_line(r.stdout)
    except (OSError, subprocess.TimeoutExpired):
        return None


def ensure_runtimes(install):
    """runc and crun from Debian, installed when missing (idempotent). Returns {name: problem}."""
    problems = {}
    missing = [b for b in ("runc", "crun") if shutil.which(b) is None]
    if missing and install:
        log(f"installing {' '.join(missing)} (apt-get) ...")
        r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if r.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    for b in ("runc", "crun"):
        if shutil.which(b) is None:
            problems[b] = f"{b} not installed (apt-get install {b})"
    return problems


class Bundles:
    """OCI bundles sharing one read-only rootfs that holds only the static binaries.

    One bundle per distinct argv (the process args live in config.json); the rootfs path in
    each config.json is absolute, so thousands of bundles cost one small file each."""

    def __init__(self, workdir, binaries):
        self.dir = workdir
        self.rootfs = os.path.join(workdir, "rootfs")
        os.makedirs(self.rootfs, exist_ok=True)
        self.inside = {}
        for name, path in binaries.items():
            dst = os.path.join(self.rootfs, name)
            shutil.copy2(path, dst)
            self.inside[path] = "/" + name
            # A dynamic binary's loader and libraries, at their own paths (`ldd` lists them).
            out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
            for lib in re.findall(r"(/\S+) \(0x", out):
                target = os.path.join(self.rootfs, lib.lstrip("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if not os.path.exists(target):
                    shutil.copy2(os.path.realpath(lib), target)
        # A template config from `runc spec` (runc's defaults: pid/net/ipc/uts/mount namespaces,
        # /proc, /dev, /sys, cgroups, a capability set, masked paths).
        tpl = os.path.join(workdir, "template")
        os.makedirs(tpl, exist_ok=True)
        if not os.path.exists(os.path.join(tpl, "config.json")):
            subprocess.run(["runc", "spec"], cwd=tpl, check=True, capture_output=True)
        with open(os.path.join(tpl, "config.json")) as f:
            self.template = json.load(f)
        self.count = 0

    def make(self, argv):
        """A bundle whose process is argv (host paths of the binaries mapped into the rootfs)."""
        self.count += 1
        path = os.path.join(self.dir, f"b{self.count}")
        os.makedirs(path, exist_ok=True)
        c = json.loads(json.dumps(self.template))
        c["process"]["terminal"] = False
        c["process"]["args"] = [self.inside.get(argv[0], argv[0]), *argv[1:]]
        c["root"] = {"path": self.rootfs, "readonly": True}
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(c, f)
        return path


class CrunNamespace:
    """A process that holds a private mount namespace without the cgroup v2 mount."""

    def __init__(self):
        self.proc = None
        self.problem = None
        if not os.path.ismount(CGROUP2_MOUNT):
            return  # nothing to hide: crun runs in the host's namespace
        try:
            self.proc = subprocess.Popen(
                ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 f"umount {CGROUP2_MOUNT} && echo ok && exec sleep 1000000"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True)
            line = self.proc.stdout.readline()
            if line.strip() != b"ok":
                self.problem = "cannot prepare a mount namespace for crun: " + (
                    first_line(self.proc.stderr.read()) or "no reason given")
                self.close()
        except OSError as e:
            self.problem = f"unshare: {e.strerror}"

    def prefix(self):
        if self.proc is None:
            return []
        return ["nsenter", f"--mount=/proc/{self.proc.pid}/ns/mnt"]

    def close(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None


class Kinds:
    """How each kind of instance runs a program (argv), and how to clean one up."""

    def __init__(self, mvm_bin, memory, bundles=None, crun_ns=None, problems=None):
        self.mvm_bin = mvm_bin
        self.memory = memory
        self.bundles = bundles
        self.crun_ns = crun_ns
        self.problems = dict(problems or {})
        if not os.path.exists(mvm_bin):
            self.problems["mvm"] = f"{mvm_bin} not found; cargo build --release"
        if crun_ns is not None and crun_ns.problem:
            self.problems["crun"] = crun_ns.problem
        self.bundle_cache = {}
        self.crun_nsenter = bool(crun_ns is not None and crun_ns.proc is not None)

    def mvm_prefix(self):
        p = [self.mvm_bin, "run"]
        if self.memory:
            p += ["--memory", self.memory]
        return p

    def describe(self, kind):
        return {
            "plain": "PROGRAM",
            "unshare": " ".join(UNSHARE) + " PROGRAM",
            "runc": "runc run [-d] --bundle BUNDLE ID (rootfs: the static binaries only)",
            "crun": ("nsenter --mount=<a mount ns without the cgroup2 mount> "
                     if self.crun_nsenter else "") + "crun run [-d] --bundle BUNDLE ID",
            "mvm": " ".join(shlex.quote(x) for x in self.mvm_prefix()) + " PROGRAM",
        }[kind].strip()

    def bundle(self, argv):
        key = tuple(argv)
        if key not in self.bundle_cache:
            self.bundle_cache[key] = self.bundles.make(argv)
        return self.bundle_cache[key]

    def argv(self, kind, prog_argv, cid=None, detach=False, fresh_bundle=False):
        if kind == "plain":
            return list(prog_argv)
        if kind == "unshare":
            return UNSHARE + list(prog_argv)
        if kind == "mvm":
            return self.mvm_prefix() + list(prog_argv)
        b = self.bundles.make(prog_argv) if fresh_bundle else self.bundle(prog_argv)
        run = ["run"] + (["-d"] if detach else []) + ["--bundle", b, cid]
        if kind == "runc":
            return ["runc"] + run
        return self.crun_ns.prefix() + ["crun"] + run

    def delete(self, kind, cids):
        """`runc/crun delete -f` each container; returns the ones that failed."""
        failed = []
        for cid in cids:
            if kind == "runc":
                cmd = ["runc", "delete", "-f", cid]
            else:
                cmd = self.crun_ns.prefix() + ["crun", "delete", "-f", cid]
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
            if r.returncode != 0 and os.path.exists(state_dir(kind, cid)):
                failed.append((cid, first_line(r.stderr)))
        return failed


def state_dir(kind, cid):
    return os.path.join("/run", kind, cid)


def container_leftovers(prefix):
    """Container state or cgroup directories whose name starts with prefix."""
    found = []
    for kind in ("runc", "crun"):
        found += glob.glob(os.path.join("/run", kind, prefix + "*"))
    for depth in ("*", "*/*", "*/*/*"):
        found += glob.glob(os.path.join("/sys/fs/cgroup", depth, prefix + "*"))
    return found


# ----------------------------------------------------------------------------------------------
# Statistics and reports


def percentile(samples, q):
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(samples)
    k = max(1, -(-len(s) * q // 100))
    return s[int(k) - 1]


def machine_lines(mvm_bin):
    ncpu = os.cpu_count()
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    kvm = ", ".join(sorted(m for m in os.listdir("/sys/module") if m.startswith("kvm"))) \
        if os.path.exists("/dev/kvm") else "no /dev/kvm"
    mem = meminfo()
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no",
                                "--", "vmm", "guest-init", "images"],
                               capture_output=True, text=True).stdout.strip()
        commit = head + (" (+ uncommitted mvm changes)" if dirty else "")
    except OSError:
        commit = "unknown"
    try:
        st = os.stat(mvm_bin)
        built = datetime.datetime.fromtimestamp(st.st_mtime).astimezone().isoformat(timespec="seconds")
        binary = f"`{mvm_bin}` ({st.st_size // 1024} KiB, built {built})"
    except OSError:
        binary = f"`{mvm_bin}` (missing)"
    limits = []
    for name, path in (("pid_max", "/proc/sys/kernel/pid_max"),
                       ("threads-max", "/proc/sys/kernel/threads-max"),
                       ("max_map_count", "/proc/sys/vm/max_map_count")):
        try:
            with open(path) as f:
                limits.append(f"{name} {f.read().strip()}")
        except OSError:
            pass
    import resource
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)
    limits.append(f"RLIMIT_NOFILE {nofile[0]}/{nofile[1]}, RLIMIT_NPROC {nproc[0]}/{nproc[1]}")
    return [
        f"machine: {platform.node()}, nproc {ncpu}, {model}, "
        f"MemTotal {mem['MemTotal'] // 1024} MiB",
        f"kernel: {platform.release()}; /dev/kvm: {kvm}",
        f"limits: {', '.join(limits)}",
        f"mvm commit: {commit}; binary {binary}",
        f"runc: {runtime_version('runc') or 'absent'}; crun: {runtime_version('crun') or 'absent'}",
    ]


def write_result(out_dir, stem, started, text, data):
    """bench/results/<stem>-<date>.md and <stem>-latest.md, plus the same as .json."""
    os.makedirs(out_dir, exist_ok=True)
    name = f"{stem}-{started.strftime('%Y-%m-%d-%H%M')}"
    paths = []
    for base in (name, f"{stem}-latest"):
        for ext, body in ((".md", text), (".json", json.dumps(data, indent=1))):
            p = os.path.join(out_dir, base + ext)
            with open(p + ".tmp", "w") as f:
                f.write(body)
            os.replace(p + ".tmp", p)
            paths.append(p)
    return paths


def plot(kind, json_path, out_dir):
    """Renders SVG charts with bench/plot (mvm-plot); returns the files written or a reason."""
    exe = os.path.join(REPO, "target", "release", "mvm-plot")
    if not os.path.exists(exe):
        r = subprocess.run(["cargo", "build", "--release", "-q", "-p", "mvm-plot"], cwd=REPO,
                           capture_output=True, text=True)
        if r.returncode != 0:
            return f"not drawn: cargo build -p mvm-plot failed: {first_line(r.stderr)}"
    r = subprocess.run([exe, kind, json_path, out_dir], capture_output=True, text=True)
    if r.returncode != 0:
        return f"not drawn: mvm-plot: {first_line(r.stderr)}"
    return r.stdout.split()


class Watchdog:
    """Kills the process being timed if it outlives its deadline, so the timing loop can use a
    blocking wait. (`Popen.wait(timeout=...)` polls with doubling sleeps — 1, 2, 4, 8, 16 ms —
    which rounds every measured start->exit up to the next poll: ~1, 3, 7, 15, 31, 63 ms.)"""

    def __init__(self):
        import threading
        self.lock = threading.Lock()
        self.proc, self.deadline, self.fired = None, None, False
        t = threading.Thread(target=self._loop, daemon=True)
        t.start()

    def _loop(self):
        while True:
            time.sleep(0.25)
            with self.lock:
                if self.proc is not None and time.monotonic() > self.deadline:
                    self.fired = True
                    try:
                        self.proc.kill()
                    except OSError:
                        pass

    def wait(self, proc, timeout):
        """proc.wait() (blocking waitpid); returns the status, or "timeout" if it was killed."""
        with self.lock:
            self.proc, self.deadline, self.fired = proc, time.monotonic() + timeout, False
        rc = proc.wait()
        with self.lock:
            self.proc = None
            fired = self.fired
        return "timeout" if fired else rc


def install_signal_exit():
    """SIGINT/SIGTERM/SIGHUP end the script like Ctrl-C does, so `finally` blocks clean up."""
    def handler(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)
    # Also when started in the background by a shell, which ignores SIGINT for its children.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def errno_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if getattr(e, "errno", None) else str(e)


def now():
    return time.monotonic()
