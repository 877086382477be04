//! mvm's confinement of itself, seen from outside as an administrator would check it: every
//! host thread of a running mvm — the control loop, the vCPU threads of the program's threads
//! and of the programs it forked, the terminal relay, the CPU throttle — is under its seccomp
//! filters (`Seccomp: 2` in /proc, mode filter) before and while the program runs. What each
//! kind's allowlist refuses is tested in vmm/src/seccomp.rs (a refused syscall: SIGSYS).
//! Every thread is also in mvm's own mount namespace, whose root shows nothing of the host's
//! tree, and with `--network none` in a network namespace of its own (vmm/src/isolate.rs).

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
    let kinds = [
        "mvm",
        "vcpu0",
        "vcpu-t",
        "vcpu-p",
        "mvm-pty-out",
        "mvm-pty-in",
        "mvm-cpus",
    ];
    // A new thread carries its creator's name until it names itself: the forked program's
    // vCPU thread may still be "vcpu0" for a moment after the parent printed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let threads = loop {
        let threads = threads(running.pid());
        let all = kinds
            .iter()
            .all(|k| threads.iter().any(|t| t.0.starts_with(k)));
        if all || std::time::Instant::now() > deadline {
            break threads;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let names: Vec<&str> = threads.iter().map(|t| t.0.as_str()).collect();
    for kind in kinds {
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

/// The namespace link `ns` of each thread of `pid`: (thread name, link).
fn namespaces(pid: i32, ns: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let (Ok(comm), Ok(link)) = (
            std::fs::read_to_string(e.path().join("comm")),
            std::fs::read_link(e.path().join("ns").join(ns)),
        ) else {
            continue; // a thread that just ended
        };
        out.push((comm.trim().to_string(), link.display().to_string()));
    }
    out
}

fn names(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn every_thread_of_a_run_is_in_mvms_own_mount_namespace_which_shows_no_host_tree() {
    // SAFETY: a plain id query.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mvm's own namespaces need root");
        return;
    }
    let host_mnt = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
    for network in ["default", "none"] {
        let script = "import os, threading, time\n\
                      threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n\
                      if os.fork() == 0:\n    time.sleep(60)\n    os._exit(0)\n\
                      print(open('/etc/hostname').read() != '', flush=True)\n\
                      print('ready', flush=True)\n\
                      time.sleep(60)\n";
        let mut running = Run::mvm_run(
            &["-it", "--cpus", "1", "--network", network],
            PYTHON,
            &["-c", script],
        )
        .hold_stdin()
        .spawn();
        running.wait_for_stdout("ready");
        let pid = running.pid();
        let mnt = namespaces(pid, "mnt");
        assert!(mnt.len() >= 6, "{mnt:?}");
        let first = &mnt[0].1;
        for (name, link) in &mnt {
            assert_ne!(
                *link,
                host_mnt.display().to_string(),
                "thread {name}: {mnt:?}"
            );
            assert_eq!(link, first, "thread {name} is elsewhere: {mnt:?}");
        }
        // Its root: /proc and the devices it opens by name, nothing else of the host's.
        assert_eq!(names(&format!("/proc/{pid}/root")), ["dev", "proc"]);
        let devs = names(&format!("/proc/{pid}/root/dev"));
        assert!(
            devs.iter().all(
                |d| ["full", "kvm", "null", "random", "tty", "urandom", "zero"]
                    .contains(&d.as_str())
            ),
            "{devs:?}"
        );
        let mounts = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
        assert!(mounts.lines().count() <= 9, "{mounts}");
        let net = namespaces(pid, "net");
        for (name, link) in &net {
            let own = *link != host_net.display().to_string();
            assert_eq!(
                own,
                network == "none",
                "thread {name} with --network {network}: {net:?}"
            );
        }
        drop(running);
    }
}
