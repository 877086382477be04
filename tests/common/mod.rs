//! Fixture for the integration tests: builds the test programs once per test process, runs
//! `mvm` (and, for comparison, the same program natively) as a child in its own process group,
//! and never lets a run hang: past its deadline the whole group is killed and the test fails.

#![allow(dead_code)]

pub mod term;

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The `mvm` binary under test: the one cargo built, unless `MVM_TEST_BIN` names another (used
/// to check the tests themselves against a stand-in).
pub fn mvm_bin() -> PathBuf {
    std::env::var_os("MVM_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mvm")))
}

/// The environment `mvm run` gives a program of root's when asked for nothing more.
pub fn guest_env() -> Vec<(&'static str, String)> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    vec![
        (
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        ("HOSTNAME", host.trim().to_string()),
        ("HOME", "/root".into()),
    ]
}

/// How long any one run may take before it is killed and the test fails.
pub const RUN_DEADLINE: Duration = Duration::from_secs(60);

/// Debian's busybox-static (installed by scripts/setup).
pub const BUSYBOX: &str = "/bin/busybox";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("vmm/ has a parent")
        .to_path_buf()
}

fn sources_dir() -> PathBuf {
    repo_root().join("tests/programs")
}

/// `target/test-programs/`: beside `target/tmp` (CARGO_TARGET_TMPDIR).
pub fn out_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp
        .parent()
        .map(|t| t.join("test-programs"))
        .unwrap_or_else(|| repo_root().join("target/test-programs"));
    std::fs::create_dir_all(&dir).expect("create target/test-programs");
    dir
}

/// A scratch directory for one test (non-executable files and the like).
pub fn scratch(test: &str) -> PathBuf {
    let dir = out_dir().join("scratch").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Builds `src` into `out` with `cmd` unless `out` is newer than `src`. Writes to a temporary
/// name first and renames, so a concurrent test run never sees a half-written binary.
fn build_one(src: &Path, out: &Path, mut cmd: Command) -> Result<(), String> {
    if let (Some(s), Some(o)) = (mtime(src), mtime(out)) {
        if o >= s {
            return Ok(());
        }
    }
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    cmd.arg("-o")
        .arg(&tmp)
        .arg(src)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = spawn_registered(&mut cmd)
        .and_then(|c| c.wait_with_output())
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !output.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "building {} failed ({}):\n{}{}",
            src.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::rename(&tmp, out).map_err(|e| format!("rename {}: {e}", tmp.display()))
}

/// Builds every program in tests/programs once per test process; returns the output dir.
fn programs_dir() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out = out_dir();
        let mut jobs = Vec::new();
        for entry in std::fs::read_dir(sources_dir()).map_err(|e| e.to_string())? {
            let src = entry.map_err(|e| e.to_string())?.path();
            let (Some(stem), Some(ext)) = (src.file_stem(), src.extension()) else {
                continue;
            };
            let bin = out.join(stem);
            let cmd = match ext.to_str() {
                Some("c") => {
                    let mut c = Command::new("gcc");
                    c.args(["-static", "-O1", "-Wall"]);
                    c
                }
                Some("rs") => {
                    let mut c = Command::new("rustc");
                    c.args([
                        "-O",
                        "-C",
                        "target-feature=+crt-static",
                        "--edition",
                        "2021",
                    ]);
                    c
                }
                _ => continue,
            };
            jobs.push(thread::spawn(move || build_one(&src, &bin, cmd)));
        }
        let errors: Vec<String> = jobs
            .into_iter()
            .filter_map(|j| j.join().expect("build thread panicked").err())
            .collect();
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors.join("\n"))
        }
    });
    match built {
        Ok(dir) => dir,
        Err(e) => panic!("building the test programs failed:\n{e}"),
    }
}

/// The path of a built test program (the stem of its source in tests/programs).
pub fn program(name: &str) -> PathBuf {
    let p = programs_dir().join(name);
    assert!(p.exists(), "no test program {name} in {}", p.display());
    p
}

/// What one run did.
#[derive(Debug)]
pub struct Outcome {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

impl Outcome {
    /// The exit code; fails the test if the process died of a signal instead of exiting (mvm
    /// must report a guest's death as 128+N itself, never die of it).
    pub fn code(&self) -> i32 {
        match self.status.code() {
            Some(c) => c,
            None => panic!(
                "process died of signal {:?} instead of exiting\n{}",
                self.status.signal(),
                self.describe()
            ),
        }
    }

    /// The status as a shell reports it: the exit code, or 128+N for death by signal N.
    pub fn shell_status(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| 128 + self.status.signal().unwrap_or(0))
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// A readable summary for assertion messages (output cut to a few KiB).
    pub fn describe(&self) -> String {
        fn cut(b: &[u8]) -> String {
            let s = String::from_utf8_lossy(&b[..b.len().min(4000)]).into_owned();
            if b.len() > 4000 {
                format!("{s}... ({} bytes)", b.len())
            } else {
                s
            }
        }
        format!(
            "status: {:?} (shell {})\nelapsed: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.shell_status(),
            self.elapsed,
            cut(&self.stdout),
            cut(&self.stderr)
        )
    }

    /// Asserts the exit code, showing the whole outcome when it differs.
    pub fn assert_code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code(),
            want,
            "wrong exit status (want {want})\n{}",
            self.describe()
        );
        self
    }

    /// Asserts that stderr is exactly one line starting with `mvm: ` and containing `needle`.
    pub fn assert_mvm_error_line(&self, needle: &str) -> &Self {
        let err = self.stderr_str();
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            lines.len() == 1 && lines[0].starts_with("mvm: ") && lines[0].contains(needle),
            "want exactly one stderr line `mvm: ...{needle}...`\n{}",
            self.describe()
        );
        self
    }
}

/// One child process to run: mvm or a native program.
pub struct Run {
    cmd: Command,
    stdin: Option<Vec<u8>>,
    hold_stdin: bool,
    stdout_limit: Option<usize>,
    deadline: Duration,
}

impl Run {
    /// `mvm ARGS...`
    pub fn mvm<I, S>(args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut cmd = Command::new(mvm_bin());
        cmd.args(args.into_iter().map(Into::into));
        Run::new(cmd)
    }

    /// `mvm run [OPTS...] PROGRAM ARGS...`
    pub fn mvm_run<P: AsRef<Path>>(opts: &[&str], prog: P, args: &[&str]) -> Run {
        let mut cmd = Command::new(mvm_bin());
        cmd.arg("run").args(opts).arg(prog.as_ref()).args(args);
        Run::new(cmd)
    }

    /// `PROGRAM ARGS...` run directly on the host, for comparison, with the environment `mvm
    /// run` gives a program (PATH, HOSTNAME, HOME: as Docker's), so both see the same.
    pub fn native<P: AsRef<Path>>(prog: P, args: &[&str]) -> Run {
        let mut cmd = Command::new(prog.as_ref());
        cmd.args(args).env_clear().envs(guest_env());
        Run::new(cmd)
    }

    /// Starts it under a host descriptor limit of `n`, soft and hard (as `prlimit
    /// --nofile=N:N`; 1024:1024 is a common default).
    pub fn nofile(mut self, n: u64) -> Run {
        // SAFETY: the hook makes one async-signal-safe call between fork and exec.
        unsafe {
            self.cmd.pre_exec(move || {
                let r = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        self
    }

    /// Any command (a wrapper that starts mvm as another user, say), run as the others are.
    pub fn new(mut cmd: Command) -> Run {
        // Every run starts in `/`, which every view shows: the checkout may live anywhere, even
        // under /tmp, which a run's view replaces with a private, empty /tmp.
        cmd.current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        Run {
            cmd,
            stdin: None,
            hold_stdin: false,
            stdout_limit: None,
            deadline: RUN_DEADLINE,
        }
    }

    pub fn stdin(mut self, data: Vec<u8>) -> Run {
        self.stdin = Some(data);
        self
    }

    /// Gives the child a stdin pipe that stays open and empty until it ends, so that a read
    /// from it blocks.
    pub fn hold_stdin(mut self) -> Run {
        self.hold_stdin = true;
        self
    }

    /// Closes the read end of stdout once `n` bytes have arrived (as `| head -c n` would).
    pub fn stdout_limit(mut self, n: usize) -> Run {
        self.stdout_limit = Some(n);
        self
    }

    pub fn env(mut self, key: &str, val: &str) -> Run {
        self.cmd.env(key, val);
        self
    }

    /// The whole environment of the test process (what `mvm run --env-host` passes), for a
    /// native run.
    pub fn host_env(mut self) -> Run {
        self.cmd.env_clear().envs(std::env::vars_os());
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.cmd.env_remove(key);
        self
    }

    pub fn cwd<P: AsRef<Path>>(mut self, dir: P) -> Run {
        self.cmd.current_dir(dir);
        self
    }

    pub fn deadline(mut self, d: Duration) -> Run {
        self.deadline = d;
        self
    }

    /// Starts the child; the caller drives it (signals) and then calls [`Running::wait`].
    pub fn spawn(mut self) -> Running {
        if self.stdin.is_some() || self.hold_stdin {
            self.cmd.stdin(Stdio::piped());
        }
        let start = Instant::now();
        let mut child = spawn_registered(&mut self.cmd)
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", self.cmd));
        let stdin_thread = self.stdin.take().map(|data| {
            let mut pipe = child.stdin.take().expect("stdin piped");
            // A broken pipe (the program stopped reading) is the test's to judge, not ours.
            thread::spawn(move || {
                let _ = pipe.write_all(&data);
            })
        });
        let held_stdin = if self.hold_stdin {
            child.stdin.take()
        } else {
            None
        };
        let (out_h, stdout) = reader(
            child.stdout.take().expect("stdout piped"),
            self.stdout_limit,
        );
        let (err_h, stderr) = reader(child.stderr.take().expect("stderr piped"), None);
        Running {
            child,
            start,
            deadline: self.deadline,
            stdin_thread,
            held_stdin,
            readers: vec![out_h, err_h],
            stdout,
            stderr,
        }
    }

    /// Runs to completion (or the deadline, which fails the test).
    pub fn run(self) -> Outcome {
        self.spawn().wait()
    }
}

/// Output collected so far by a reader thread.
type Collected = Arc<Mutex<Vec<u8>>>;

fn reader<R: Read + Send + 'static>(
    mut r: R,
    limit: Option<usize>,
) -> (thread::JoinHandle<()>, Collected) {
    let buf: Collected = Arc::default();
    let sink = Arc::clone(&buf);
    let h = thread::spawn(move || {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match r.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let mut buf = sink.lock().unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    if limit.is_some_and(|l| buf.len() >= l) {
                        break; // dropping `r` closes the pipe
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    });
    (h, buf)
}

/// A started child. Dropping it kills its whole process group.
pub struct Running {
    child: Child,
    start: Instant,
    deadline: Duration,
    stdin_thread: Option<thread::JoinHandle<()>>,
    held_stdin: Option<std::process::ChildStdin>,
    readers: Vec<thread::JoinHandle<()>>,
    stdout: Collected,
    stderr: Collected,
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// What the child wrote to stderr so far.
    pub fn stderr_now(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Sends `sig` to the child itself (not its group).
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) with a pid we started and have not reaped yet.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({}, {sig}) failed", self.pid());
    }

    /// Waits until stdout contains `needle` (so the guest is known to be running); fails the
    /// test if the child ends first or the deadline passes.
    pub fn wait_for_stdout(&mut self, needle: &str) {
        loop {
            if String::from_utf8_lossy(&self.stdout.lock().unwrap()).contains(needle) {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!(
                    "child ended ({status:?}) before printing {needle:?}
--- stdout ---
{}
--- stderr ---
{}",
                    String::from_utf8_lossy(&self.stdout.lock().unwrap()),
                    String::from_utf8_lossy(&self.stderr.lock().unwrap())
                );
            }
            if self.start.elapsed() > self.deadline {
                panic!(
                    "no {needle:?} on stdout within {:?}
--- stderr ---
{}",
                    self.deadline,
                    String::from_utf8_lossy(&self.stderr.lock().unwrap())
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for the child to end; kills the group and fails the test past the deadline.
    pub fn wait(mut self) -> Outcome {
        let status = loop {
            match self.child.try_wait().expect("try_wait") {
                Some(s) => break s,
                None if self.start.elapsed() > self.deadline => {
                    self.kill_group();
                    let _ = self.child.wait();
                    panic!(
                        "run exceeded its {:?} deadline and was killed\n--- stdout ---\n{}\n--- stderr ---\n{}",
                        self.deadline,
                        String::from_utf8_lossy(&self.stdout.lock().unwrap()),
                        String::from_utf8_lossy(&self.stderr.lock().unwrap())
                    );
                }
                None => thread::sleep(Duration::from_millis(2)),
            }
        };
        let elapsed = self.start.elapsed();
        drop(self.held_stdin.take());
        // Output pipes close when the last holder exits; a process left behind holding them
        // would hang us, so bound the wait and kill the group if it comes to that.
        for h in std::mem::take(&mut self.readers) {
            join_with_deadline(h, self.pid(), self.start, self.deadline);
        }
        if let Some(t) = self.stdin_thread.take() {
            let _ = t.join();
        }
        let stdout = std::mem::take(&mut *self.stdout.lock().unwrap());
        let stderr = std::mem::take(&mut *self.stderr.lock().unwrap());
        Outcome {
            status,
            stdout,
            stderr,
            elapsed,
        }
    }

    fn kill_group(&self) {
        // SAFETY: killpg(2) on the process group we created for this child (process_group(0)).
        unsafe {
            libc::killpg(self.pid(), libc::SIGKILL);
        }
    }
}

fn join_with_deadline(h: thread::JoinHandle<()>, pgid: i32, start: Instant, deadline: Duration) {
    while !h.is_finished() {
        if start.elapsed() > deadline {
            // SAFETY: killpg(2) on the process group we created for this child.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
            panic!("a process left behind in group {pgid} kept the output pipes open past the deadline");
        }
        thread::sleep(Duration::from_millis(2));
    }
    let _ = h.join();
}

impl Drop for Running {
    fn drop(&mut self) {
        // If the test panicked with the child still running, take the whole group down.
        if let Ok(None) = self.child.try_wait() {
            self.kill_group();
            let _ = self.child.wait();
        }
    }
}

/// Every pid this test process started itself. Anything else that turns up as our child was
/// orphaned by one of them and reparented to us (we are a child subreaper): a leftover.
fn spawned() -> &'static Mutex<HashSet<i32>> {
    static SPAWNED: OnceLock<Mutex<HashSet<i32>>> = OnceLock::new();
    SPAWNED.get_or_init(|| {
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) takes an integer flag and touches no memory.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        Mutex::default()
    })
}

/// Spawns `cmd` and records its pid, under the lock, so that [`stray_children`] never mistakes
/// a child being started for a leftover.
///
/// Every child starts with every signal at its default, whatever this test process was started
/// with (`nohup` ignores SIGHUP, a shell's background job SIGINT and SIGQUIT), so the tests that
/// send them see what a terminal user's program would.
fn spawn_registered(cmd: &mut Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    // SAFETY: signal(2) is async-signal-safe; the closure touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            for sig in 1..=31 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
            Ok(())
        });
    }
    let mut set = spawned().lock().unwrap();
    let child = cmd.spawn()?;
    set.insert(child.id() as i32);
    Ok(child)
}

/// Live processes that are our children but were not started by us: orphans of some run (for
/// instance a helper mvm forked into another session), reparented to us as subreaper. Orphans
/// that already died are reaped here.
pub fn stray_children() -> Vec<i32> {
    let set = spawned().lock().unwrap();
    // SAFETY: getpid(2) cannot fail.
    let me = unsafe { libc::getpid() };
    let mut strays = Vec::new();
    for (pid, state, ppid, _pgrp) in all_processes() {
        if ppid != me || set.contains(&pid) {
            continue;
        }
        if state == "Z" {
            // SAFETY: waitpid(2) on a specific child pid that is not one of our own runs.
            unsafe {
                libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG);
            }
        } else {
            strays.push(pid);
        }
    }
    strays
}

/// (pid, state, ppid, pgrp) of every process in /proc.
fn all_processes() -> Vec<(i32, String, i32, i32)> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the `(comm)`, which may itself contain spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|x| x.parse::<i32>().ok()).unwrap_or(-1);
        found.push((pid, f.first().unwrap_or(&"?").to_string(), num(1), num(2)));
    }
    found
}

/// The pids of all processes in process group `pgid`.
pub fn processes_in_group(pgid: i32) -> Vec<i32> {
    all_processes()
        .into_iter()
        .filter(|p| p.3 == pgid)
        .map(|p| p.0)
        .collect()
}

/// Deterministic pseudo-random bytes (xorshift64*), fast enough for 100 MB.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Index of the first byte where `a` and `b` differ (or the shorter length).
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a == b {
        return None;
    }
    Some(
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len())),
    )
}

/// Relative paths and contents of everything under `dir`, sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(at).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let md = std::fs::symlink_metadata(&p).unwrap();
            if md.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                out.push((rel, t.to_string_lossy().as_bytes().to_vec()));
            } else if md.is_dir() {
                out.push((rel + "/", vec![]));
                walk(root, &p, out);
            } else {
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Asserts that nothing mvm started outlives it: nothing in its process group (`pgid`), and no
/// orphan reparented to this test process.
pub fn assert_group_gone(pgid: i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_in_group(pgid);
        let strays = stray_children();
        if left.is_empty() && strays.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!("processes left behind: in mvm's process group {pgid}: {left:?}; orphans: {strays:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A run's stderr without mvm's own `mvm: ` lines (its one-line report of a death by signal),
/// for comparison with a native run's.
pub fn stderr_without_mvm(o: &Outcome) -> String {
    o.stderr_str()
        .lines()
        .filter(|l| !l.starts_with("mvm: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Asserts that an mvm run and a native run of the same program agree: status, stdout, and
/// stderr (mvm may only add its own one-line `mvm: ...` report of a death by signal).
pub fn assert_agree(vm: &Outcome, native: &Outcome, what: &str) {
    let both = format!(
        "{what}\n== mvm ==\n{}\n== native ==\n{}",
        vm.describe(),
        native.describe()
    );
    assert_eq!(vm.code(), native.shell_status(), "status differs: {both}");
    assert!(vm.stdout == native.stdout, "stdout differs: {both}");
    let vm_err = stderr_without_mvm(vm);
    assert_eq!(vm_err, native.stderr_str(), "stderr differs: {both}");
}

/// Starts `run`, waits until its stdout shows `ready`, sends it `sig`, and waits for its end.
pub fn signaled(run: Run, ready: &str, sig: i32) -> Outcome {
    let mut running = run.spawn();
    running.wait_for_stdout(ready);
    running.signal(sig);
    running.wait()
}

/// `signaled` for `prog args` under mvm and natively: (mvm's outcome, the native one).
pub fn signaled_both(prog: &str, args: &[&str], ready: &str, sig: i32) -> (Outcome, Outcome) {
    let vm = signaled(Run::mvm_run(&[], prog, args), ready, sig);
    let native = signaled(Run::native(prog, args), ready, sig);
    (vm, native)
}
