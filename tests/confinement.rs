//! mvm's confinement of itself, seen from outside as an administrator would check it: every
//! host thread of a running mvm — the control loop, the vCPU threads of the program's threads
//! and of the programs it forked, the terminal relay, the CPU throttle — is under its seccomp
//! filters (`Seccomp: 2` in /proc, mode filter) before and while the program runs. What each
//! kind's allowlist refuses is tested in vmm/src/seccomp.rs (a refused syscall: SIGSYS).

#[path = "common/mod.rs"]
mod common;

use common::Run;

const PYTHON: &str = "/usr/bin/python3";

/// Each thread of process `pid`: its name and its `Seccomp` and `Seccomp_filters` lines.
fn threads(pid: i32) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let Ok(status) = std::fs::read_to_string(e.path().join("status")) else {
            continue; // a thread that just ended
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        out.push((field("Name:"), field("Seccomp:"), field("Seccomp_filters:")));
    }
    out.sort();
    out
}

#[test]
fn every_thread_of_a_run_is_under_its_seccomp_filter() {
    let script = "import os, threading, time\n\
                  threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n\
                  if os.fork() == 0:\n    time.sleep(60)\n    os._exit(0)\n\
                  print('ready', flush=True)\n\
                  time.sleep(60)\n";
    let mut running = Run::mvm_run(&["-it", "--cpus", "1"], PYTHON, &["-c", script])
        .hold_stdin()
        .spawn();
    running.wait_for_stdout("ready");
    let threads = threads(running.pid());
    let names: Vec<&str> = threads.iter().map(|t| t.0.as_str()).collect();
    for kind in [
        "mvm",
        "vcpu0",
        "vcpu-t",
        "vcpu-p",
        "mvm-pty-out",
        "mvm-pty-in",
        "mvm-cpus",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(kind)),
            "no {kind} thread among {names:?}"
        );
    }
    for (name, mode, filters) in &threads {
        assert_eq!(
            mode, "2",
            "thread {name} is not under a seccomp filter: {threads:?}"
        );
        assert_eq!(filters, "2", "thread {name}'s filters: {threads:?}");
    }
    drop(running);
}
