//! Threads: clone of threads (glibc's pthread_create tries clone3 first, then clone) each on its
//! own vCPU, futex WAIT/WAKE/REQUEUE/CMP_REQUEUE/bitsets, tgkill and signals to one thread, a
//! thread's exit against exit_group, set_tid_address and CLONE_CHILD_CLEARTID, set_robust_list
//! (robust mutexes whose owner died), FUTEX_LOCK_PI/UNLOCK_PI, sched_{get,set}affinity. Real
//! programs (C with glibc's pthreads, Rust std, python3's threading) run natively and under mvm;
//! status and stdout must be byte-identical, and stderr may only add mvm's own `mvm: ` lines.
//! Every program prints only what scheduling cannot change (tests/programs/threads_*.c say how).
//! Then: `--timeout` and SIGTERM to mvm end a program whose threads block or spin, leaving
//! nothing behind.

#[path = "common/mod.rs"]
mod common;

use common::{assert_agree, assert_group_gone, program, signaled_both, Outcome, Run};
use std::path::Path;
use std::time::{Duration, Instant};

const PYTHON: &str = "/usr/bin/python3";

/// Futex-heavy runs may be slow under mvm on a nested (PVM) host: every contended lock is an
/// exit. Longer than the harness's usual deadline, still bounded.
const HEAVY_DEADLINE: Duration = Duration::from_secs(180);

/// Runs `prog args` natively and under mvm, asserts they agree, and returns the mvm run.
fn compare_with(prog: &Path, args: &[&str], deadline: Duration) -> Outcome {
    let native = Run::native(prog, args).deadline(deadline).run();
    let vm = Run::mvm_run(&[], prog, args).deadline(deadline).run();
    assert_agree(&vm, &native, &format!("{} {args:?}", prog.display()));
    vm
}

fn compare(prog: &Path, args: &[&str]) -> Outcome {
    compare_with(prog, args, common::RUN_DEADLINE)
}

/// A threads_misc group of checks: same as native, exit 0, and it got to the end.
fn misc_group(group: &str) -> Outcome {
    let vm = compare(&program("threads_misc"), &[group]);
    vm.assert_code(0);
    assert!(
        vm.stdout_str().ends_with("done\n") && !vm.stdout_str().contains("FAIL"),
        "{}",
        vm.describe()
    );
    vm
}

// ---- C: glibc's pthreads over mutexes, condition variables, barriers, rwlocks, semaphores ----

#[test]
fn counter_threads_default_sizes() {
    // 8 threads x 20000 increments under one mutex: futex WAIT/WAKE under real contention.
    let vm = compare_with(&program("threads_counter"), &[], HEAVY_DEADLINE);
    vm.assert_code(0);
    let out = vm.stdout_str();
    for want in [
        "mutex counter 160000 (want 160000)\n",
        "atomic counter 160000 (want 160000)\n",
        "barrier rounds 50, serial threads 50, stale reads 0",
        "token ring: 1600 turns, 1600 in order",
        "queue: 4 producers made 20000, 4 consumers got 20000",
        "torn reads 0\n",
        "semaphore ping-pong: 2000 pings, 2000 pongs\n",
    ] {
        assert!(out.contains(want), "missing {want:?}\n{}", vm.describe());
    }
}

#[test]
fn counter_threads_other_sizes() {
    let prog = program("threads_counter");
    for args in [
        &["2", "1000"][..],
        &["3", "7"],
        &["16", "500"],
        &["64", "50"],
    ] {
        compare_with(&prog, args, HEAVY_DEADLINE).assert_code(0);
    }
}

// ---- C: one group of threads_misc checks per test ----------------------------------------------

#[test]
fn getpid_gettid_in_threads() {
    let vm = misc_group("ids");
    assert!(
        vm.stdout_str().contains("gettid distinct: yes"),
        "{}",
        vm.describe()
    );
}

#[test]
fn small_and_given_thread_stacks() {
    misc_group("stacks");
}

#[test]
fn raw_clone_settls_parent_settid_child_cleartid() {
    // clone(2) itself, as musl, Go and hand-written code call it (glibc's pthread_create uses
    // clone3 when it is served).
    let vm = misc_group("clone");
    assert!(
        !vm.stdout_str().contains(": no"),
        "a clone property does not hold\n{}",
        vm.describe()
    );
}

#[test]
fn thread_local_storage_and_errno_per_thread() {
    misc_group("tls");
}

#[test]
fn signals_to_one_thread_and_to_the_process() {
    // pthread_kill, tgkill (and its errors), a process-directed signal taken by the one thread
    // that does not block it, a pending one taken by the first thread to unblock it.
    let vm = misc_group("signals");
    assert!(!vm.stdout_str().contains(": no"), "{}", vm.describe());
}

#[test]
fn pthread_exit_raw_exit_detach_cancel_and_many_threads() {
    misc_group("exits");
}

#[test]
fn a_blocked_thread_does_not_stop_the_others() {
    // A read blocked in one vCPU while another writes the pipe; 8 sleeps that overlap.
    let vm = misc_group("concurrency");
    assert!(!vm.stdout_str().contains(": no"), "{}", vm.describe());
}

#[test]
fn sched_affinity_calls() {
    misc_group("affinity");
}

#[test]
fn timed_waits_time_out() {
    // pthread_cond_timedwait on both clocks, mutex/rwlock/sem timed waits, pthread_timedjoin_np:
    // FUTEX_WAIT_BITSET with absolute deadlines.
    misc_group("timeouts");
}

#[test]
fn robust_mutexes_whose_owner_died() {
    // Owner returned (glibc marks it) or ended by SYS_exit (the kernel walks the list given to
    // set_robust_list): the next locker gets EOWNERDEAD, within a 5 s timed lock.
    let vm = misc_group("robust");
    assert_eq!(
        vm.stdout_str().matches("EOWNERDEAD, consistent 0").count(),
        5
    );
}

#[test]
fn priority_inheritance_mutexes() {
    // FUTEX_LOCK_PI / FUTEX_UNLOCK_PI / FUTEX_TRYLOCK_PI, contended and timed.
    let vm = misc_group("pi");
    assert!(
        vm.stdout_str()
            .contains("4 threads x 2000 increments = 8000"),
        "{}",
        vm.describe()
    );
}

#[test]
fn memory_remapped_while_other_threads_run() {
    // Splitting a 2 MiB page makes KVM drop its shadow page tables, done by re-registering the
    // memory slots; threads spinning in the guest meanwhile must not see the VM without memory
    // (it shut down with a triple fault before they were held out).
    let vm = misc_group("remap");
    assert!(
        vm.stdout_str().contains("6 rounds, wrong bytes 0\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn all_misc_checks_in_one_process() {
    misc_group("all");
}

// ---- C: how the process ends --------------------------------------------------------------------

#[test]
fn exit_from_a_thread_ends_the_process() {
    // exit(3) in a thread while main waits in pthread_join and others block in a futex,
    // nanosleep and read: exit_group takes them all; atexit handlers run on the calling thread.
    let vm = compare(&program("threads_misc"), &["exit-from-thread"]);
    vm.assert_code(3);
    assert!(
        vm.stdout_str().ends_with("called exit: yes\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn main_returning_ends_blocked_and_spinning_threads() {
    compare(&program("threads_misc"), &["main-returns"]).assert_code(5);
}

#[test]
fn main_pthread_exit_lets_the_last_thread_finish() {
    // The main thread's own exit is a thread exit (its tid word cleared: another thread joins
    // it); the process ends with 0 when the last thread returns.
    let vm = compare(&program("threads_misc"), &["main-pthread-exit"]);
    vm.assert_code(0);
    assert!(
        vm.stdout_str().contains("joined main: 0, main's value 77"),
        "{}",
        vm.describe()
    );
}

#[test]
fn abort_in_a_thread_kills_the_process() {
    compare(&program("threads_misc"), &["abort-in-thread"]).assert_code(134);
}

#[test]
fn fault_in_a_thread_kills_the_process() {
    compare(&program("threads_misc"), &["segv-in-thread"]).assert_code(139);
}

#[test]
fn fault_in_a_thread_runs_the_handler_on_that_thread() {
    let vm = compare(&program("threads_misc"), &["segv-handled"]);
    vm.assert_code(4);
    assert!(
        vm.stdout_str().contains("on the faulting thread: yes"),
        "{}",
        vm.describe()
    );
}

#[test]
fn thread_churn() {
    compare(&program("threads_misc"), &["churn"]).assert_code(0);
}

#[test]
fn thread_churn_past_kvm_vcpu_limit() {
    // 1500 threads one after another: more than KVM_CAP_MAX_VCPUS (1024 here), so the vCPUs of
    // threads that ended must be reused.
    compare_with(&program("threads_misc"), &["churn", "1500"], HEAVY_DEADLINE).assert_code(0);
}

// ---- raw futex operations, Rust std, python3 ------------------------------------------------

#[test]
fn futex_operations() {
    let vm = compare(&program("threads_futex"), &[]);
    vm.assert_code(0);
    assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
}

#[test]
fn rust_std_threads() {
    let vm = compare_with(&program("threads_rs"), &[], HEAVY_DEADLINE);
    vm.assert_code(0);
    assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
}

const PY_THREADS: &str = r#"
import threading, queue, os, time, concurrent.futures
lock = threading.Lock()
out = []
def add(i):
    for j in range(1000):
        with lock:
            out.append(i * 1000 + j)
ts = [threading.Thread(target=add, args=(i,)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print("lock:", len(out), sorted(out) == list(range(8000)), sum(out))
ev = threading.Event(); woke = []
def waiter(i):
    if ev.wait(10):
        with lock:
            woke.append(i)
ws = [threading.Thread(target=waiter, args=(i,)) for i in range(5)]
[w.start() for w in ws]
print("event wait(0.05) before set:", threading.Event().wait(0.05))
ev.set(); [w.join() for w in ws]
print("event: woke", sorted(woke))
q = queue.Queue(maxsize=8); results = queue.Queue()
def producer(p):
    for i in range(500):
        q.put((p, i))
def consumer():
    n = s = 0
    while True:
        item = q.get()
        if item is None:
            results.put((n, s)); return
        n += 1; s += item[0] * 1000 + item[1]
ps = [threading.Thread(target=producer, args=(p,)) for p in range(3)]
cs = [threading.Thread(target=consumer) for _ in range(2)]
[t.start() for t in ps + cs]; [p.join() for p in ps]
q.put(None); q.put(None); [c.join() for c in cs]
tot = [results.get() for _ in range(2)]
print("queue: items", sum(n for n, _ in tot), "sum", sum(s for _, s in tot))
try:
    queue.Queue().get(timeout=0.05)
except queue.Empty:
    print("queue.get(timeout=0.05): Empty")
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
    sq = list(ex.map(lambda x: x * x, range(100)))
    futs = [ex.submit(pow, 2, k) for k in range(20)]
    print("pool: map", sum(sq), sq[:5], "submit", sum(f.result() for f in futs))
cond = threading.Condition(); box = []
def taker():
    with cond:
        cond.wait_for(lambda: box)
        box.append("taken")
t = threading.Thread(target=taker); t.start()
with cond:
    box.append("item"); cond.notify_all()
t.join(); print("condition:", box)
sem = threading.BoundedSemaphore(2); inside = [0]; peak = [0]
def limited():
    with sem:
        with lock:
            inside[0] += 1; peak[0] = max(peak[0], inside[0])
        time.sleep(0.01)
        with lock:
            inside[0] -= 1
ts = [threading.Thread(target=limited) for _ in range(6)]
[t.start() for t in ts]; [t.join() for t in ts]
print("semaphore(2): peak <= 2:", peak[0] <= 2)
bar = threading.Barrier(5); ids = []
def at_barrier():
    ids.append(bar.wait())
ts = [threading.Thread(target=at_barrier) for _ in range(5)]
[t.start() for t in ts]; [t.join() for t in ts]
print("barrier: arrival indexes", sorted(ids))
loc = threading.local(); seen = {}
def use_local(i):
    loc.v = i; time.sleep(0.005); seen[i] = loc.v
ts = [threading.Thread(target=use_local, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print("local:", sorted(seen.items()), hasattr(loc, "v"))
info = {}; alive = threading.Barrier(4)
def ids_of(i):
    info[i] = (os.getpid(), threading.get_native_id(), threading.get_ident())
    alive.wait()  # all four alive at once: their ids must differ
ts = [threading.Thread(target=ids_of, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
pid = os.getpid()
print("ids: pid same", all(v[0] == pid for v in info.values()),
      "native ids distinct", len({v[1] for v in info.values()}) == 4,
      "none is the pid", all(v[1] != pid for v in info.values()),
      "main native id is pid", threading.get_native_id() == pid)
errs = []
threading.excepthook = lambda a: errs.append((a.exc_type.__name__, str(a.exc_value)))
t = threading.Thread(target=lambda: 1 / 0); t.start(); t.join()
print("exception in thread:", errs)
t0 = time.monotonic()
ts = [threading.Thread(target=time.sleep, args=(0.2,)) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
took = time.monotonic() - t0
print("8 sleeps of 0.2 s overlap:", 0.195 <= took < 1.2)
print("active threads at the end:", threading.active_count())
"#;

#[test]
fn python_threading_lock_event_queue_pool() {
    let vm = compare_with(Path::new(PYTHON), &["-c", PY_THREADS], HEAVY_DEADLINE);
    vm.assert_code(0);
    assert!(
        vm.stdout_str().contains("lock: 8000 True 31996000\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn python_os_exit_in_a_thread() {
    let code = r#"
import threading, os, time
ev = threading.Event()
for _ in range(3):
    threading.Thread(target=ev.wait, daemon=True).start()
def ender():
    print("thread calls os._exit(3)", flush=True)
    os._exit(3)
print("main joins a thread that ends the process", flush=True)
t = threading.Thread(target=ender)
t.start(); t.join(); time.sleep(100)
"#;
    compare(Path::new(PYTHON), &["-c", code]).assert_code(3);
}

#[test]
fn python_exits_with_daemon_threads_blocked() {
    let code = r#"
import threading, time
lock = threading.Lock(); lock.acquire()
threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()
threading.Thread(target=threading.Event().wait, daemon=True).start()
threading.Thread(target=lock.acquire, daemon=True).start()
print("main returns with 3 daemon threads blocked:", threading.active_count() - 1)
"#;
    compare(Path::new(PYTHON), &["-c", code]).assert_code(0);
}

#[test]
fn python_signal_sent_from_a_thread_to_main() {
    let code = r#"
import threading, signal, time
class Poke(Exception): pass
def handler(sig, frame): raise Poke()
signal.signal(signal.SIGUSR1, handler)
main = threading.main_thread().ident
t = threading.Thread(target=lambda: (time.sleep(0.05), signal.pthread_kill(main, signal.SIGUSR1)))
try:
    t.start(); time.sleep(30); print("not interrupted")
except Poke:
    print("main's sleep interrupted by SIGUSR1 sent from a thread")
t.join()
"#;
    let vm = compare(Path::new(PYTHON), &["-c", code]);
    vm.assert_code(0);
    assert!(
        vm.stdout_str().starts_with("main's sleep interrupted"),
        "{}",
        vm.describe()
    );
}

// ---- --timeout and signals to mvm, with threads -------------------------------------------------

#[test]
fn timeout_ends_a_program_whose_threads_block_or_spin() {
    for mode in ["hang-join", "hang-spin"] {
        let running = Run::mvm_run(&["--timeout", "1"], program("threads_misc"), &[mode]).spawn();
        let pgid = running.pid();
        let out = running.wait();
        assert_eq!(out.code(), 124, "{mode}\n{}", out.describe());
        assert_eq!(out.stdout_str(), "ready\n", "{mode}\n{}", out.describe());
        assert!(
            out.elapsed >= Duration::from_secs(1) && out.elapsed < Duration::from_secs(6),
            "{mode}: --timeout 1 ended after {:?}",
            out.elapsed
        );
        assert!(
            !Path::new(&format!("/proc/{pgid}")).exists(),
            "{mode}: mvm pid {pgid} still there"
        );
        assert_group_gone(pgid);
    }
}

/// Starts `run`, waits for "ready", sends `sig` to mvm; returns the outcome once it ended,
/// after checking it ended promptly and left nothing behind.
fn signal_after_ready(run: Run, sig: i32) -> Outcome {
    let mut running = run.spawn();
    running.wait_for_stdout("ready\n");
    let pgid = running.pid();
    let sent = Instant::now();
    running.signal(sig);
    let out = running.wait();
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "took {:?} to stop\n{}",
        sent.elapsed(),
        out.describe()
    );
    assert!(
        !Path::new(&format!("/proc/{pgid}")).exists(),
        "mvm pid {pgid} still there"
    );
    assert_group_gone(pgid);
    out
}

#[test]
fn sigterm_to_mvm_ends_a_program_whose_threads_block_or_spin() {
    use std::os::unix::process::ExitStatusExt;
    for mode in ["hang-join", "hang-spin"] {
        let out = signal_after_ready(
            Run::mvm_run(&[], program("threads_misc"), &[mode]),
            libc::SIGTERM,
        );
        // mvm may exit with 143 or re-raise SIGTERM on itself; a shell reports both as 143.
        assert_eq!(out.shell_status(), 143, "{mode}\n{}", out.describe());
        assert!(
            out.status.code().is_some() || out.status.signal() == Some(libc::SIGTERM),
            "{mode}: mvm died of another signal\n{}",
            out.describe()
        );
        assert_eq!(out.stdout_str(), "ready\n", "{mode}\n{}", out.describe());
    }
}

#[test]
fn sigterm_to_mvm_reaches_the_thread_in_sigwait() {
    // Every thread blocks SIGTERM; one waits for it in sigwait. SIGTERM sent to mvm must reach
    // that thread, as a process-directed signal does natively.
    let prog = program("threads_misc");
    let native = signal_after_ready(Run::native(&prog, &["sigwait-term"]), libc::SIGTERM);
    let vm = signal_after_ready(Run::mvm_run(&[], &prog, &["sigwait-term"]), libc::SIGTERM);
    assert_agree(&vm, &native, "sigwait-term");
    vm.assert_code(0);
    assert!(
        vm.stdout_str()
            .contains("sigwait in a thread: 0, got SIGTERM"),
        "{}",
        vm.describe()
    );
}

// ---- C: execve while other threads run -----------------------------------------------------------

#[test]
fn execve_ends_the_other_threads_first() {
    // From main, and from a second thread while main waits in pthread_join; three more threads
    // sit in pause(). The new image runs alone and its status is the program's.
    let vm = compare(&program("threads_exec"), &[]);
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "exec from main\n", "{}", vm.describe());
    let vm = compare(&program("threads_exec"), &["thread"]);
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "exec from a thread\n", "{}", vm.describe());
}

// ---- python3: Ctrl-C reaches the main thread ---------------------------------------------------

#[test]
fn ctrl_c_reaches_python_main_thread_while_workers_wait() {
    // A signal for the program goes to the main thread unless it blocks it (Linux's
    // complete_signal): workers blocked in queue.get() must not take SIGINT, or the main thread
    // would sleep on until its sleep ends (past the harness's deadline here).
    let script = "import queue, sys, threading, time\n\
                  q = queue.Queue()\n\
                  ts = [threading.Thread(target=q.get, daemon=True) for _ in range(3)]\n\
                  [t.start() for t in ts]\n\
                  print('ready', flush=True)\n\
                  try:\n    time.sleep(600)\n    print('slept')\n\
                  except KeyboardInterrupt:\n    print('KeyboardInterrupt in main', flush=True)\n    sys.exit(7)\n";
    for _ in 0..3 {
        let (vm, native) = &signaled_both(PYTHON, &["-c", script], "ready\n", libc::SIGINT);
        assert_eq!(
            vm.stdout_str(),
            "ready\nKeyboardInterrupt in main\n",
            "{}",
            vm.describe()
        );
        assert_eq!(vm.stdout, native.stdout);
        vm.assert_code(7);
    }
}

// ---- C: many threads at once ---------------------------------------------------------------------

#[test]
fn six_hundred_threads_alive_at_once() {
    // Each is a vCPU with its own page in the kernel's window (up to 1,009 at once).
    let vm = compare(&program("threads_many"), &["600"]);
    vm.assert_code(0);
    assert!(
        vm.stdout_str().ends_with("joined all, sum 179700\n"),
        "{}",
        vm.describe()
    );
    // Under the common host limit of 1,024 descriptors: a thread costs mvm one, its vCPU's
    // (a waiting thread sleeps on a host futex, not an eventfd).
    let low = Run::mvm_run(&[], program("threads_many"), &["900"])
        .nofile(1024)
        .run();
    low.assert_code(0);
    assert!(
        low.stdout_str().ends_with("joined all, sum 404550\n"),
        "{}",
        low.describe()
    );
}

#[test]
fn fork_and_posix_spawn_in_a_threaded_program() {
    // python3's subprocess: posix_spawn (vfork) of a missing command while another thread
    // opens pipes used to die with SIGSEGV (the child's memory came back over the other
    // thread's stack); a fork right after a short-lived thread. Three runs, each must agree.
    let prog = program("threads_fork");
    for _ in 0..3 {
        let vm = compare(&prog, &[]);
        assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
    }
}
