//! Hostile programs: trinity (Debian's syscall fuzzer, installed by scripts/setup) inside mvm
//! with `--memory` and a timeout, for seeds that used to abort mvm; SIGKILL of mvm at random
//! moments of busy runs; many runs at once. mvm must never panic, never hang, never report
//! its guest broken, and leave no process, run directory or shared-memory file behind.

#[path = "common/mod.rs"]
mod common;

use common::{assert_group_gone, Outcome, Run, BUSYBOX};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const TRINITY: &str = "/usr/bin/trinity";

/// What only a broken mvm prints: a panic, its guest beyond repair, or its own error.
fn assert_mvm_held(out: &Outcome, what: &str) {
    let err = out.stderr_str();
    for bad in [
        "panicked",
        "guest shut down",
        "unexpected exit",
        "KVM RUN failed",
        "exception",
        "mvm: internal",
    ] {
        assert!(
            !err.contains(bad),
            "{what}: mvm printed `{bad}`\n{}",
            out.describe()
        );
    }
    assert_ne!(
        out.shell_status(),
        125,
        "{what}: mvm's own error\n{}",
        out.describe()
    );
    assert_ne!(
        out.shell_status(),
        134,
        "{what}: mvm aborted\n{}",
        out.describe()
    );
}

/// The run directories mvm made for the process `pid` (`/tmp/mvm-PID-*`).
fn run_dirs_of(pid: i32) -> Vec<PathBuf> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let prefix = format!("mvm-{pid}-");
    std::fs::read_dir(base)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// trinity with `seed`: 3,000 random syscalls from two child processes, as an unprivileged
/// user (root would make trinity wait 10 s first), in a 512 MiB run with a 120 s limit.
fn trinity(seed: u32) {
    let seed = seed.to_string();
    let opts = [
        "-u",
        "65534:65534",
        "-w",
        "/tmp",
        "--memory",
        "512m",
        "--timeout",
        "120",
    ];
    let args = [
        "-N", "3000", "-s", &seed, "-q", "-C", "2", "-x", "execve", "-x", "execveat",
    ];
    let running = Run::mvm_run(&opts, TRINITY, &args)
        .deadline(Duration::from_secs(180))
        .spawn();
    let pid = running.pid();
    let out = running.wait();
    let what = format!("trinity seed {seed}");
    assert_mvm_held(&out, &what);
    assert_eq!(out.shell_status(), 0, "{what}\n{}", out.describe());
    let text = format!("{}{}", out.stdout_str(), out.stderr_str());
    let main_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("[main] ")).collect();
    let tail = main_lines[main_lines.len().saturating_sub(6)..].join("\n");
    assert!(
        text.contains("Completed maximum number of operations"),
        "{what}: trinity did not finish its calls; its last words:\n{tail}"
    );
    assert_group_gone(pid);
    assert!(
        run_dirs_of(pid).is_empty(),
        "{what}: run directory left behind"
    );
}

// Seeds 1-4 each aborted mvm within a second (a syscall writing into MAP_SHARED memory, window
// places shared between VMs); every later crashing seed joins them here.

#[test]
fn trinity_seeds_1_and_2() {
    trinity(1);
    trinity(2);
}

#[test]
fn trinity_seeds_3_and_4() {
    trinity(3);
    trinity(4);
}

#[test]
fn sigkill_of_mvm_at_any_moment_leaves_nothing_behind() {
    // 40 busy runs (forks, file writes in the private /tmp and /dev/shm, a pipe) killed at
    // moments spread over their first 200 ms, from before the guest starts to mid-work.
    let script = "i=0; while [ $i -lt 200 ]; do echo $i > /tmp/f$i; echo x > /dev/shm/s$i; \
                  /bin/busybox true | /bin/busybox cat; i=$((i+1)); done";
    let shm_before = std::fs::read_dir("/dev/shm").map_or(0, |d| d.count());
    for i in 0..40u64 {
        let running = Run::mvm_run(&[], BUSYBOX, &["sh", "-c", script]).spawn();
        let pid = running.pid();
        std::thread::sleep(Duration::from_millis(5 * i));
        running.signal(libc::SIGKILL);
        let out = running.wait();
        assert_eq!(out.status.code(), None, "run {i} ended before its SIGKILL");
        assert_group_gone(pid);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !run_dirs_of(pid).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            run_dirs_of(pid).is_empty(),
            "run {i}: its run directory outlived a SIGKILL of mvm"
        );
    }
    let shm_after = std::fs::read_dir("/dev/shm").map_or(0, |d| d.count());
    assert!(
        shm_after <= shm_before,
        "/dev/shm held {shm_before} entries before, {shm_after} after"
    );
}

#[test]
fn fifty_runs_at_once_each_give_the_right_answer() {
    // Each run writes its own data into its private /tmp, reads it back through a pipe and
    // sums it: 50 micro-VMs at once on this host's cores, each answer exact.
    let mut runs = Vec::new();
    for i in 0..50u32 {
        let script = format!(
            "i=0; while [ $i -lt 300 ]; do echo $(( i * {i} )); i=$((i+1)); done > /tmp/data; \
             /bin/busybox cat /tmp/data | /bin/busybox awk '{{s += $1}} END {{print s}}'"
        );
        let run = Run::mvm_run(&[], BUSYBOX, &["sh", "-c", &script])
            .deadline(Duration::from_secs(120))
            .spawn();
        runs.push((i, run));
    }
    for (i, run) in runs {
        let out = run.wait();
        assert_mvm_held(&out, &format!("run {i}"));
        out.assert_code(0);
        let want = (0..300u64).map(|k| k * u64::from(i)).sum::<u64>();
        assert_eq!(
            out.stdout_str(),
            format!("{want}\n"),
            "run {i}\n{}",
            out.describe()
        );
    }
}
