//! System V semaphores and message queues and POSIX message queues, each run in its own IPC
//! namespace kept inside mvm: C programs compared with their native runs (waits woken by
//! another program, SEM_UNDO, IPC_NOWAIT, timeouts, EIDRM, EINTR, message types, priorities,
//! mq_notify, poll and epoll on a queue), and two concurrent runs that must not see each
//! other's objects nor leave any on the host.

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

/// Whether the probe's objects exist on the host: (message queue, semaphores, POSIX queue).
fn on_host() -> (bool, bool, bool) {
    // SAFETY: plain lookups; a descriptor mq_open returns is closed at once.
    unsafe {
        let msg = libc::msgget(KEY, 0) >= 0;
        let sem = libc::semget(KEY, 0, 0) >= 0;
        let q = libc::mq_open(NAME.as_ptr(), libc::O_RDONLY);
        if q >= 0 {
            libc::mq_close(q);
        }
        (msg, sem, q >= 0)
    }
}

#[test]
fn runs_do_not_share_ipc_objects_nor_leave_any_on_the_host() {
    let _host = HOST_IPC.lock().unwrap_or_else(|e| e.into_inner());
    let before = host_ipcs();
    assert_eq!(
        on_host(),
        (false, false, false),
        "the probe's objects are on the host"
    );
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
         look msgget: ok\nlook semget: ok\nlook mq_open: ok\n",
        "{}",
        looker.describe()
    );
    assert_eq!(
        on_host(),
        (false, false, false),
        "a run's objects are on the host"
    );
    assert_eq!(host_ipcs(), before, "a run made host IPC objects");

    // The holder ends by mvm's own stop (SIGTERM), leaving its objects: they go with it.
    holder.signal(libc::SIGTERM);
    let held = holder.wait();
    assert_eq!(
        held.stdout_str(),
        "hold msgget: ok\nhold semget: ok\nhold mq_open: ok\nheld\n",
        "{}",
        held.describe()
    );
    assert_eq!(
        held.shell_status(),
        128 + libc::SIGTERM,
        "{}",
        held.describe()
    );
    assert_eq!(on_host(), (false, false, false));
    assert_eq!(host_ipcs(), before, "a run left host IPC objects behind");

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
