//! New programs: fork, vfork, posix_spawn, wait4 and signals between programs, each child a
//! micro-VM of its own inside the same mvm run. Real programs (dash pipelines and command
//! substitution, python3's subprocess, coreutils in pipelines) and a C program making the calls
//! directly, compared with native runs; shared memory between programs (MAP_SHARED, POSIX
//! semaphores, python3's multiprocessing); and the end of a run with children still running
//! (`--timeout`, SIGTERM) leaving nothing behind.

#[path = "common/mod.rs"]
mod common;

use common::{assert_agree, assert_group_gone, program, Outcome, Run};
use std::thread;
use std::time::Duration;

const DASH: &str = "/usr/bin/dash";
const PYTHON: &str = "/usr/bin/python3";

fn compare(prog: &str, args: &[&str]) -> Outcome {
    let vm = Run::mvm_run(&[], prog, args).run();
    let native = Run::native(prog, args).run();
    assert_agree(&vm, &native, &format!("{prog} {args:?}"));
    vm
}

#[test]
fn c_program_fork_wait_and_signals_match_native() {
    let prog = program("fork_calls");
    let p = prog.to_str().unwrap();
    // Several times: children end in any order, their statuses must not.
    for _ in 0..3 {
        let vm = compare(p, &[]);
        vm.assert_code(0);
        assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
    }
}

#[test]
fn dash_pipelines_substitutions_and_statuses() {
    let scripts = [
        "x=$(echo sub); echo \"$x\"; echo a b | /usr/bin/wc -w",
        "/usr/bin/seq 1 20000 | /usr/bin/sort -rn | /usr/bin/head -3",
        "/bin/busybox false; echo $?; /bin/busybox sh -c 'exit 7'; echo $?",
        "/usr/bin/printf 'b\\na\\nc\\n' | /usr/bin/sort | /usr/bin/tr a-z A-Z | /usr/bin/cat -n",
        "for i in 1 2 3 4 5; do echo $i; done | /usr/bin/tac",
        "/bin/busybox sleep 0.1 & /bin/busybox echo bg started; wait; echo waited $?",
        "(exit 3); echo $?; ( /bin/busybox kill -TERM $$ ) ; echo not reached",
        "n=$(/usr/bin/seq 1 300 | /usr/bin/wc -l); echo lines $n",
        "/usr/bin/nonexistent 2>/dev/null; echo $?",
    ];
    for s in scripts {
        compare(DASH, &["-c", s]);
    }
}

#[test]
fn python_subprocess_and_os_fork() {
    let code = "import os, subprocess, sys\n\
                print(subprocess.run(['/usr/bin/echo', 'hi'], capture_output=True).stdout)\n\
                print(subprocess.run(['/bin/busybox', 'false']).returncode)\n\
                print(subprocess.check_output('echo a b c | /usr/bin/wc -w', shell=True))\n\
                p = subprocess.Popen(['/usr/bin/cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)\n\
                print(p.communicate(b'through cat')[0], p.returncode)\n\
                try:\n    subprocess.run(['/nonexistent'])\nexcept FileNotFoundError as e:\n    print('FileNotFoundError', e.errno)\n\
                pid = os.fork()\n\
                if pid == 0:\n    os._exit(42)\n\
                print('child status', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n\
                sys.stdout.flush()\n";
    compare(PYTHON, &["-c", code]).assert_code(0);
}

#[test]
fn timeout_ends_a_pipeline_and_leaves_nothing() {
    let running = Run::mvm([
        "run",
        "--timeout",
        "1",
        DASH,
        "-c",
        "/bin/busybox sleep 100 | /bin/busybox sleep 100; echo no",
    ])
    .spawn();
    let pgid = running.pid();
    let out = running.wait();
    out.assert_code(124);
    assert_eq!(out.stdout_str(), "", "{}", out.describe());
    assert_group_gone(pgid);
}

#[test]
fn sigterm_ends_the_shell_and_its_children() {
    let mut running = Run::mvm([
        "run",
        DASH,
        "-c",
        "echo ready; /bin/busybox sleep 100 | /bin/busybox sleep 100",
    ])
    .spawn();
    let pgid = running.pid();
    running.wait_for_stdout("ready\n");
    thread::sleep(Duration::from_millis(100));
    running.signal(libc::SIGTERM);
    let out = running.wait();
    out.assert_code(143);
    assert_group_gone(pgid);
}

#[test]
fn the_first_programs_end_ends_its_children() {
    // dash starts a background sleeper and exits: as when init leaves a pid namespace, the
    // children go with it and the run ends with the first program's status.
    let out = Run::mvm([
        "run",
        DASH,
        "-c",
        "/bin/busybox sleep 100 & echo started; exit 5",
    ])
    .run();
    out.assert_code(5);
    assert_eq!(out.stdout_str(), "started\n", "{}", out.describe());
}

#[test]
fn shared_memory_between_programs_matches_native() {
    // MAP_SHARED of a file and of anonymous memory across fork, POSIX semaphores in /dev/shm,
    // a process-shared mutex: the programs of a run share memory as Linux programs do.
    let (a, b) = (common::scratch("shm_native"), common::scratch("shm_mvm"));
    let prog = program("shared_memory");
    let native = Run::native(&prog, &[a.to_str().unwrap()]).run();
    native.assert_code(0);
    let vol = format!("{}:/data:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], &prog, &["/data"]).run();
    assert_agree(&vm, &native, "shared_memory in a :rw mount");
    assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
    let vm = Run::mvm_run(&[], &prog, &["/tmp"]).run();
    assert_agree(&vm, &native, "shared_memory in /tmp");
}

#[test]
fn shared_memory_used_as_a_fuzzer_uses_it_matches_native() {
    // What made trinity abort mvm in every run: syscalls writing into MAP_SHARED pages from a
    // forked child, shared regions first touched by different programs after fork (each VM
    // places its windows on its own), a shared page far into a mapping, and a file truncated
    // under its mapping (EFAULT for syscalls, SIGBUS BUS_ADRERR for touches, as Linux).
    let (a, b) = (
        common::scratch("shm_hostile_native"),
        common::scratch("shm_hostile_mvm"),
    );
    let prog = program("shared_hostile");
    let native = Run::native(&prog, &[a.to_str().unwrap()]).run();
    native.assert_code(0);
    assert!(
        native.stdout_str().ends_with("done\n"),
        "{}",
        native.describe()
    );
    let vol = format!("{}:/data:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], &prog, &["/data"]).run();
    assert_agree(&vm, &native, "shared_hostile in a :rw mount");
    let vm = Run::mvm_run(&[], &prog, &["/tmp"]).run();
    assert_agree(&vm, &native, "shared_hostile in /tmp");
}

#[test]
fn python_multiprocessing_pool_queue_locks_and_shared_values() {
    // multiprocessing's Pool, Queue and Process (fork), its locks (POSIX semaphores in
    // /dev/shm) and a shared Value (an mmap'd arena) incremented under its lock by 3 programs.
    let code = r#"
import multiprocessing as mp
def square(x):
    return x * x
def bump(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print("pool:", sum(pool.map(square, range(100))))
    q = mp.Queue()
    p = mp.Process(target=q.put, args=("through a queue",))
    p.start(); print(q.get()); p.join()
    print("exit code:", p.exitcode)
    v = mp.Value("i", 0)
    ps = [mp.Process(target=bump, args=(v, 500)) for _ in range(3)]
    [p.start() for p in ps]; [p.join() for p in ps]
    print("shared value:", v.value)
    e = mp.Event()
    p = mp.Process(target=e.set); p.start(); print("event:", e.wait(10)); p.join()
"#;
    let vm = compare(PYTHON, &["-c", code]);
    vm.assert_code(0);
    assert!(
        vm.stdout_str().contains("shared value: 1500\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn rust_command_spawn_reports_a_missing_program() {
    // posix_spawn reports a failed exec through memory its vfork child shares with it: the
    // child's writes must reach the parent although mvm gives the child a copy.
    let prog = program("spawn_rs");
    let vm = compare(prog.to_str().unwrap(), &[]);
    vm.assert_code(0);
    assert!(
        vm.stdout_str().starts_with("missing program: NotFound\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn memory_limit_is_the_runs_not_each_programs() {
    // Three children each touch 40 MiB under --memory 100m: two fit, the third is killed with
    // SIGKILL as the OOM killer would; and a fork bomb's fork fails (EAGAIN or ENOMEM) instead
    // of filling the host, the run ending cleanly with it.
    let prog = program("memory_budget");
    let vm = Run::mvm_run(&["--memory", "100m"], &prog, &[]).run();
    vm.assert_code(0);
    assert_eq!(
        vm.stdout_str(),
        "children that touched 40 MiB: 2\nchild 1: exited 0\nchild 2: exited 0\n\
         child 3: killed by signal 9\n",
        "{}",
        vm.describe()
    );
    let vm = Run::mvm_run(&["--memory", "100m"], &prog, &["forkbomb"]).run();
    vm.assert_code(0);
    assert_eq!(
        vm.stdout_str(),
        "fork failed with EAGAIN/ENOMEM after fewer than 2000: yes\n",
        "{}",
        vm.describe()
    );
}

/// mvm's resident memory (VmRSS, KiB) while `churn KIND N` waits after its loop.
fn rss_after_churn(kind: &str, n: &str) -> u64 {
    let mut running = Run::mvm_run(&[], program("churn"), &[kind, n])
        .deadline(Duration::from_secs(120))
        .spawn();
    running.wait_for_stdout("ready");
    let status = std::fs::read_to_string(format!("/proc/{}/status", running.pid())).unwrap();
    running.signal(libc::SIGTERM);
    running.wait();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

#[test]
fn finished_programs_and_threads_leave_no_memory_in_mvm() {
    // Each finished program or thread used to keep ~12-16 KiB of mvm's memory until the run
    // ended (its host thread was never joined): 6,000 forks grew mvm by ~100 MB. 1,500 of
    // each now cost less than 1.5 MiB more than 10 do (measured: ~0.2 MiB; before: ~20 MiB).
    for kind in ["fork", "thread"] {
        let few = rss_after_churn(kind, "10");
        let many = rss_after_churn(kind, "1500");
        assert!(
            many < few + 1536,
            "{kind}: mvm's RSS {few} KiB after 10, {many} KiB after 1500"
        );
    }
}

#[test]
fn fexecve_and_execveat_match_native() {
    // execveat was not served: glibc's fexecve failed and the forked child carried on.
    let prog = program("fexec");
    let native = Run::native(&prog, &[]).run();
    let vm = Run::mvm_run(&[], &prog, &[]).run();
    assert_agree(&vm, &native, "fexec");
    assert!(
        vm.stdout_str().contains("fexecve works"),
        "{}",
        vm.describe()
    );
}
