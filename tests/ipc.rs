//! System V semaphores, message queues and shared memory and POSIX message queues, each run in
//! its own IPC namespace kept inside mvm: C programs compared with their native runs (waits
//! woken by another program, SEM_UNDO, IPC_NOWAIT, timeouts, EIDRM, EINTR, message types,
//! priorities, mq_notify, poll and epoll on a queue, a segment shared with a forked child and
//! its attachment counts and faults), two concurrent runs that must not see each other's
//! objects nor leave any on the host, and what shared memory costs a run's --memory.

#[path = "common/mod.rs"]
mod common;

use common::{assert_agree, program, Outcome, Run};
use std::process::Command;
use std::sync::Mutex;

/// Held by every test that makes host IPC objects (the native runs, which clean up after
/// themselves) and by the one that compares the host's objects before and after.
static HOST_IPC: Mutex<()> = Mutex::new(());

/// The probe's key and queue name (tests/programs/ipc_probe.c).
const KEY: i32 = 0x4d56_4d01;
const NAME: &std::ffi::CStr = c"/mvm-ipc-probe";

fn compare(name: &str) -> Outcome {
    let prog = program(name);
    let vm = Run::mvm_run(&[], &prog, &[]).run();
    let native = {
        let _host = HOST_IPC.lock().unwrap_or_else(|e| e.into_inner());
        Run::native(&prog, &[]).run()
    };
    assert_agree(&vm, &native, name);
    vm.assert_code(0);
    assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
    vm
}

#[test]
fn sysv_semaphores_match_native() {
    let vm = compare("sysv_sem");
    let out = vm.stdout_str();
    for line in [
        "parent: wait ok",
        "after undo: sem1 4",
        "child: wait Identifier removed",
        "child: wait Interrupted system call",
        "semtimedop: Resource temporarily unavailable after >=50ms 1",
        "nowait: Resource temporarily unavailable",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
}

#[test]
fn sysv_message_queues_match_native() {
    let vm = compare("sysv_msg");
    let out = vm.stdout_str();
    for line in [
        "too small: Argument list too long",
        "noerror: type 4 len 4 'a lo'",
        "child got: type 7 len 5 'ping'",
        "parent got: type 9 len 5 'pong'",
        "child waits: Identifier removed",
        "/proc/sys/kernel/msgmax: 8192",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
}

#[test]
fn sysv_shared_memory_matches_native() {
    let vm = compare("sysv_shm");
    let out = vm.stdout_str();
    for line in [
        "parent sees 'from the child'",
        "child after fork: segsz 10000 nattch 4 cpid other lpid other mode 600",
        "child gone: segsz 10000 nattch 2 cpid me lpid other mode 600",
        "after exec: nattch 2 lpid me",
        "split: segsz 10000 nattch 3",
        "write after shmdt: signal 11",
        "rdonly write: signal 11",
        "SHM_RND: ok, rounded 1",
        "removed: segsz 10000 nattch 1 cpid me lpid me mode 1640",
        "key reused: ok, new id 1",
        "stat after: Invalid argument",
        "/proc/sys/kernel/shmmni: 4096",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
}

#[test]
fn a_read_only_attachment_written_kills_the_program_as_natively() {
    // The whole program dies of the write: the shell's status 139 on both.
    let prog = program("sysv_shm");
    let vm = Run::mvm_run(&[], &prog, &["rdonly"]).run();
    let native = {
        let _host = HOST_IPC.lock().unwrap_or_else(|e| e.into_inner());
        Run::native(&prog, &["rdonly"]).run()
    };
    assert_agree(&vm, &native, "sysv_shm rdonly");
    assert_eq!(vm.shell_status(), 128 + libc::SIGSEGV, "{}", vm.describe());
    assert_eq!(
        vm.stdout_str(),
        "rdonly attach reads 0\n",
        "{}",
        vm.describe()
    );
}

#[test]
fn shared_memory_counts_against_the_runs_memory() {
    // Under mvm only: Linux charges segments to the host, mvm to --memory.
    let out = Run::mvm_run(&["--memory", "64m"], program("shm_budget"), &[]).run();
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        "first 40 MiB: ok\n\
         second 40 MiB: Cannot allocate memory\n\
         removed while attached: ok\n\
         second 40 MiB: Cannot allocate memory\n\
         after the last detach: ok\n\
         cycles of 8 MiB: 50, ok\n\
         done\n",
        "{}",
        out.describe()
    );
}

#[test]
fn posix_message_queues_match_native() {
    let vm = compare("posix_mq");
    let out = vm.stdout_str();
    for line in [
        "receive: prio 5 'high-a'",
        "receive empty nonblock: Resource temporarily unavailable",
        "timed receive empty: Connection timed out",
        "signal 10 code -3 value 42 pid is me 1",
        "poll full: 0x1",
        "epoll: 1 0x1",
        "parent receive: prio 2 'from child'",
        "plain receive: Interrupted system call",
        "SA_RESTART receive: prio 0 'after signal'",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
}

/// The host's SysV objects as `ipcs` lists them.
fn host_ipcs() -> String {
    let out = Command::new("ipcs").output().expect("ipcs");
    assert!(out.status.success(), "ipcs failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The host's SysV shared memory segments as `ipcs -m` lists them.
fn host_ipcs_m() -> String {
    let out = Command::new("ipcs").arg("-m").output().expect("ipcs -m");
    assert!(out.status.success(), "ipcs -m failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether the probe's objects exist on the host: (message queue, semaphores, POSIX queue,
/// shared memory segment).
fn on_host() -> (bool, bool, bool, bool) {
    // SAFETY: plain lookups; a descriptor mq_open returns is closed at once.
    unsafe {
        let msg = libc::msgget(KEY, 0) >= 0;
        let sem = libc::semget(KEY, 0, 0) >= 0;
        let q = libc::mq_open(NAME.as_ptr(), libc::O_RDONLY);
        if q >= 0 {
            libc::mq_close(q);
        }
        let shm = libc::shmget(KEY, 0, 0) >= 0;
        (msg, sem, q >= 0, shm)
    }
}

const NONE: (bool, bool, bool, bool) = (false, false, false, false);

#[test]
fn runs_do_not_share_ipc_objects_nor_leave_any_on_the_host() {
    let _host = HOST_IPC.lock().unwrap_or_else(|e| e.into_inner());
    let before = host_ipcs();
    let before_m = host_ipcs_m();
    assert_eq!(on_host(), NONE, "the probe's objects are on the host");
    let probe = program("ipc_probe");

    // The first run makes a key's objects and a named queue, and holds them.
    let mut holder = Run::mvm_run(&[], &probe, &["hold"]).hold_stdin().spawn();
    holder.wait_for_stdout("held\n");

    // A second run at the same time sees none of them, and makes its own with the same names.
    let looker = Run::mvm_run(&[], &probe, &["look"]).run();
    looker.assert_code(0);
    assert_eq!(
        looker.stdout_str(),
        "look msgget: No such file or directory\n\
         look semget: No such file or directory\n\
         look mq_open: No such file or directory\n\
         look shmget: No such file or directory\n\
         look msgget: ok\nlook semget: ok\nlook mq_open: ok\nlook shmget: ok\n",
        "{}",
        looker.describe()
    );
    assert_eq!(on_host(), NONE, "a run's objects are on the host");
    assert_eq!(host_ipcs(), before, "a run made host IPC objects");
    assert_eq!(host_ipcs_m(), before_m, "a run made host shared memory");

    // The holder ends by mvm's own stop (SIGTERM), leaving its objects: they go with it.
    holder.signal(libc::SIGTERM);
    let held = holder.wait();
    assert_eq!(
        held.stdout_str(),
        "hold msgget: ok\nhold semget: ok\nhold mq_open: ok\nhold shmget: ok\nheld\n",
        "{}",
        held.describe()
    );
    assert_eq!(
        held.shell_status(),
        128 + libc::SIGTERM,
        "{}",
        held.describe()
    );
    assert_eq!(on_host(), NONE);
    assert_eq!(host_ipcs(), before, "a run left host IPC objects behind");
    assert_eq!(
        host_ipcs_m(),
        before_m,
        "a run left host shared memory behind"
    );

    // Killed outright (SIGKILL, no cleanup by mvm), a run's objects go with it all the same.
    let mut killed = Run::mvm_run(&[], &probe, &["hold"]).hold_stdin().spawn();
    killed.wait_for_stdout("held\n");
    killed.signal(libc::SIGKILL);
    let killed = killed.wait();
    assert_eq!(
        killed.shell_status(),
        128 + libc::SIGKILL,
        "{}",
        killed.describe()
    );
    assert_eq!(on_host(), NONE);
    assert_eq!(
        host_ipcs(),
        before,
        "a killed run left host IPC objects behind"
    );

    // A new run starts with an empty namespace again.
    let again = Run::mvm_run(&[], &probe, &["look"]).run();
    assert!(
        again
            .stdout_str()
            .starts_with("look msgget: No such file or directory\n"),
        "{}",
        again.describe()
    );
}

#[test]
fn a_run_holds_a_bounded_amount_of_ipc_memory() {
    // Under mvm only: these are mvm's limits (its own memory), not Linux's.
    let out = Run::mvm_run(&[], program("ipc_limits"), &[]).run();
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        "semaphore sets of 32000: 32, then No space left on device; as /proc says: 1\n\
         messages of 8192 bytes: 8144 in 4073 queues, then Resource temporarily unavailable\n\
         that queue holds 0 of 16384 bytes\n\
         after one queue goes: ok\n\
         done\n",
        "{}",
        out.describe()
    );
}
