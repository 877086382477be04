//! signalfd(2): each case of tests/programs/signalfd.c runs natively and under mvm, and the two
//! must print the same, byte for byte (the program prints only what is the same on every run).

#[path = "common/mod.rs"]
mod common;

use common::{assert_agree, program, Outcome, Run};
use std::thread;
use std::time::Duration;

fn case(name: &str) -> Outcome {
    let prog = program("signalfd");
    let vm = Run::mvm_run(&[], &prog, &[name]).run();
    let native = Run::native(&prog, &[name]).run();
    assert_agree(&vm, &native, name);
    vm.assert_code(0);
    vm
}

fn has(out: &Outcome, want: &str) {
    assert!(
        out.stdout_str().contains(want),
        "missing {want:?}\n{}",
        out.describe()
    );
}

#[test]
fn records_of_raise_kill_tgkill_and_sigqueue() {
    let out = case("basic");
    has(&out, "raise: signo=10 code=-6 pid_self=1 uid_ok=1\n");
    has(&out, "kill: signo=10 code=0 pid_self=1 uid_ok=1\n");
    has(
        &out,
        "sigqueue: read=128 signo=10 code=-1 int=42 ptr=42 pid_self=1\n",
    );
    has(&out, "pending after reads: 0\n");
}

#[test]
fn nonblocking_reads_short_buffers_and_bad_arguments() {
    let out = case("errors");
    has(
        &out,
        "empty nonblocking read: EAGAIN\nshort buffer: EINVAL\nwrite: EINVAL\n",
    );
    has(&out, "link: anon_inode:[signalfd]\n");
    has(
        &out,
        "signalfd on stdout: EINVAL\nsignalfd on a closed fd: EBADF\n",
    );
}

#[test]
fn several_records_in_one_read_thread_directed_first() {
    let out = case("two");
    has(&out, "two at once: read=256\nrecord: signo=12 code=-6");
    has(&out, "readv: read=256 signos=10,12\n");
}

#[test]
fn mask_replaced_on_an_existing_signalfd() {
    let out = case("mask");
    has(&out, "after the change: signo=12 code=-6");
}

#[test]
fn sigchld_records_carry_the_child_and_its_status() {
    let out = case("chld");
    has(
        &out,
        "SIGCHLD: read=128 signo=17 code=1 pid_child=1 status=7\n",
    );
    has(&out, "killed child: read=128 code=2 pid_child=1 status=9\n");
}

#[test]
fn poll_select_and_epoll_readiness() {
    let out = case("poll");
    has(
        &out,
        "USR1 pending: poll=1 select=1 epoll=1 data=0x1234 events=0x1\n",
    );
    has(&out, "after the read: poll=0 select=0 epoll=0\n");
    has(&out, "for writing: poll=0 select=0 epoll=0\n");
}

#[test]
fn blocking_read_poll_and_epoll_woken_by_another_thread() {
    let out = case("thread");
    has(
        &out,
        "sent by pthread_kill\nblocking read: signo=10 code=-6",
    );
    has(&out, "blocking epoll=1 data=0x4d\n");
}

#[test]
fn inherited_over_fork_woken_by_the_child_kept_over_execve() {
    let out = case("fork");
    has(
        &out,
        "woken by the child: read=128 signo=10 code=0 pid_child=1 uid_ok=1\n",
    );
    has(&out, "after exec: kept fd open=1 cloexec fd open=0\n");
}

#[test]
fn host_signals_wake_a_blocked_reader_and_interrupt_it() {
    let prog = program("signalfd");
    // SIGUSR2 runs a handler (EINTR, then SA_RESTART); SIGUSR1 is the signalfd's.
    let steps = [
        ("ready\n", libc::SIGUSR2),
        ("ready again\n", libc::SIGUSR2),
        ("handler 2\n", libc::SIGUSR1),
        ("ready to poll\n", libc::SIGUSR1),
    ];
    let drive = |run: Run| {
        let mut running = run.hold_stdin().spawn();
        for (needle, sig) in steps {
            running.wait_for_stdout(needle);
            // Let the program get into its blocking call.
            thread::sleep(Duration::from_millis(200));
            running.signal(sig);
        }
        running.wait()
    };
    let vm = drive(Run::mvm_run(&[], &prog, &["host"]));
    let native = drive(Run::native(&prog, &["host"]));
    assert_agree(&vm, &native, "host");
    vm.assert_code(0);
    assert!(
        vm.stdout_str()
            .ends_with("read=128 signo=10 code=0\nready to poll\npoll=1\nread=128 signo=10\n"),
        "{}",
        vm.describe()
    );
}
