//! mvm's own seccomp filters: an allowlist per kind of host thread, each allowed syscall with
//! the reason that kind makes it. A program reaches the host only through the serving threads,
//! so what those may call bounds what any bug in mvm's serving code can do; the other kinds
//! (the control loop, the terminal relay, the CPU throttle) serve nothing and may do far less.
//!
//! Every thread installs its kind's filter before the first guest instruction runs (the control
//! loop before it lets the first vCPU thread start the program), and the threads a thread
//! starts inherit it. A syscall outside the list raises SIGSYS in the thread that made it;
//! mvm's handler says which syscall on stderr and ends the run with status 125 (a defect in
//! mvm, never something a program can cause: a program's syscalls are served, never passed on).
//!
//! `clone3` is answered ENOSYS (so the C library falls back to `clone`, whose flags a filter can
//! read), and `clone` is allowed only with `CLONE_THREAD`: no thread of mvm can start a host
//! process after its filter is in.

use std::collections::BTreeMap;

use libc::c_long;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// The kinds of host threads mvm runs, each with its own allowlist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The main thread once the run is set up: waits for signals, the timeout and the run's
    /// end, kicks the vCPUs, then restores the terminal and removes the run's directories.
    Control,
    /// The vCPU threads: each runs one program thread and serves its syscalls on the host
    /// (and the threads they start: vCPUs of new threads and forked programs, timers).
    Serving,
    /// The terminal relay under `-t`: copies between mvm's terminal and the run's pty.
    Relay,
    /// The CPU throttle under `--cpus`: measures mvm's CPU time and pauses the vCPUs.
    Throttle,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Control => "control loop",
            Kind::Serving => "serving",
            Kind::Relay => "terminal relay",
            Kind::Throttle => "CPU throttle",
        }
    }

    /// This kind's allowlist.
    pub fn allowed(self) -> Vec<(c_long, &'static str)> {
        let own: &[(c_long, &str)] = match self {
            Kind::Control => CONTROL,
            Kind::Serving => SERVING,
            Kind::Relay => RELAY,
            Kind::Throttle => THROTTLE,
        };
        EVERY_THREAD.iter().chain(own).copied().collect()
    }
}

/// What any thread of mvm makes: its C library and Rust runtime, locks, memory, its end.
const EVERY_THREAD: &[(c_long, &str)] = &[
    (
        libc::SYS_futex,
        "locks, condition variables, joining threads",
    ),
    (libc::SYS_mmap, "the allocator; thread stacks"),
    (libc::SYS_munmap, "the allocator; thread stacks"),
    (libc::SYS_mremap, "the allocator growing a large block"),
    (
        libc::SYS_madvise,
        "the allocator and the C library returning memory",
    ),
    (libc::SYS_mprotect, "thread stacks' guard pages"),
    (libc::SYS_brk, "the allocator"),
    (libc::SYS_write, "messages on stderr; eventfd wake-ups"),
    (libc::SYS_close, "descriptors this thread is done with"),
    (
        libc::SYS_rt_sigprocmask,
        "signal masks (the run's signals go to the control loop)",
    ),
    (
        libc::SYS_rt_sigreturn,
        "return from mvm's own signal handlers",
    ),
    (
        libc::SYS_rt_sigaction,
        "a fault outside guest memory giving way to the default action",
    ),
    (
        libc::SYS_sigaltstack,
        "the Rust runtime's stack-overflow guard, per thread",
    ),
    (libc::SYS_sched_yield, "spinning locks"),
    (libc::SYS_sched_getaffinity, "the C library's thread set-up"),
    (libc::SYS_getpid, "the C library (raise, thread ids)"),
    (libc::SYS_gettid, "the C library (raise, thread ids)"),
    (
        libc::SYS_tgkill,
        "waking a vCPU thread out of KVM_RUN or a host call; raise",
    ),
    (
        libc::SYS_clock_gettime,
        "time, where the vDSO does not answer",
    ),
    (libc::SYS_clock_nanosleep, "sleeps"),
    (libc::SYS_nanosleep, "sleeps"),
    (libc::SYS_restart_syscall, "a sleep interrupted by a kick"),
    (libc::SYS_rseq, "the C library registering a new thread"),
    (
        libc::SYS_set_robust_list,
        "the C library registering a new thread",
    ),
    (libc::SYS_prctl, "a new thread's name"),
    (libc::SYS_exit, "a thread's end"),
    (libc::SYS_exit_group, "the run's end"),
];

/// The control loop's own.
const CONTROL: &[(c_long, &str)] = &[
    (libc::SYS_epoll_wait, "the control loop's wait"),
    (libc::SYS_epoll_pwait, "the control loop's wait"),
    (libc::SYS_epoll_ctl, "the control loop's descriptors"),
    (libc::SYS_read, "signalfd, timerfd and eventfd readings"),
    (libc::SYS_timerfd_settime, "the run's --timeout"),
    (
        libc::SYS_ioctl,
        "mvm's terminal: restoring it, its window size",
    ),
    (
        libc::SYS_clone,
        "a thread that kicks the vCPUs again while stopping",
    ),
    (
        libc::SYS_clone3,
        "a thread that kicks the vCPUs again (answered ENOSYS: clone)",
    ),
    (
        libc::SYS_fallocate,
        "emptying a System V segment's memfd when a program's memory goes at the run's end",
    ),
    (libc::SYS_openat, "removing the run's directories"),
    (libc::SYS_newfstatat, "removing the run's directories"),
    (libc::SYS_statx, "removing the run's directories"),
    (libc::SYS_getdents64, "removing the run's directories"),
    (libc::SYS_unlinkat, "removing the run's directories"),
    (libc::SYS_rmdir, "removing the run's directories"),
    (
        libc::SYS_fchmodat,
        "removing directories the program left without permissions",
    ),
    (
        libc::SYS_chmod,
        "removing directories the program left without permissions",
    ),
    (libc::SYS_fcntl, "the C library reading directories"),
    (libc::SYS_lseek, "the C library reading directories"),
    (libc::SYS_getrandom, "hash tables' seeds"),
];

/// The terminal relay's own.
const RELAY: &[(c_long, &str)] = &[
    (libc::SYS_read, "mvm's terminal and the run's pty"),
    (
        libc::SYS_poll,
        "waiting on the terminal, the pty and the stop signal",
    ),
    (
        libc::SYS_ppoll,
        "waiting on the terminal, the pty and the stop signal",
    ),
    (libc::SYS_ioctl, "the window size; the pty's state"),
    (libc::SYS_fcntl, "the terminal's descriptor flags"),
    (
        libc::SYS_clone,
        "a thread that kicks the vCPUs again after a signal character",
    ),
    (
        libc::SYS_clone3,
        "a thread that kicks the vCPUs again (answered ENOSYS: clone)",
    ),
];

/// The CPU throttle's own.
const THROTTLE: &[(c_long, &str)] = &[(libc::SYS_clock_getres, "the process's CPU clock")];

/// The serving threads' own: what serving a program's syscalls makes on the host (files,
/// sockets, pipes, polling, memory, time, signals, KVM), each group with its reason.
const SERVING: &[(c_long, &str)] = &[
    // KVM and the guest's memory.
    (
        libc::SYS_ioctl,
        "KVM (vCPUs, memory slots, registers); terminal and file ioctls served",
    ),
    (libc::SYS_memfd_create, "guest RAM and shared memory"),
    (
        libc::SYS_ftruncate,
        "guest RAM, shared memory; ftruncate served",
    ),
    (
        libc::SYS_fallocate,
        "returning guest memory; fallocate served",
    ),
    (
        libc::SYS_clone,
        "vCPU threads for new program threads and forked programs; timers",
    ),
    (libc::SYS_clone3, "new threads (answered ENOSYS: clone)"),
    (
        libc::SYS_eventfd2,
        "a waiting thread's wake-up; eventfd served",
    ),
    // Descriptors and files.
    (libc::SYS_read, "read served"),
    (libc::SYS_pread64, "pread served; loading executables"),
    (libc::SYS_pwrite64, "pwrite served"),
    (libc::SYS_readv, "readv served"),
    (libc::SYS_writev, "writev served"),
    (libc::SYS_preadv, "preadv served"),
    (libc::SYS_pwritev, "pwritev served"),
    (libc::SYS_lseek, "lseek served"),
    (libc::SYS_openat, "open served, within the view"),
    (
        libc::SYS_openat2,
        "resolution inside the view (RESOLVE_BENEATH)",
    ),
    (libc::SYS_fcntl, "fcntl served; descriptor duplication"),
    (libc::SYS_fstat, "fstat served"),
    (libc::SYS_newfstatat, "stat served"),
    (libc::SYS_statx, "statx served"),
    (libc::SYS_fstatfs, "statfs served"),
    (libc::SYS_getdents64, "getdents served"),
    (
        libc::SYS_readlinkat,
        "readlink served; /proc/self/fd lookups",
    ),
    (
        libc::SYS_readlink,
        "the Rust library's read_link; /proc/self/fd lookups",
    ),
    (libc::SYS_getcwd, "the Rust library's path helpers"),
    (libc::SYS_faccessat2, "access served"),
    (libc::SYS_mkdirat, "mkdir served"),
    (libc::SYS_mknodat, "mknod served"),
    (libc::SYS_unlinkat, "unlink and rmdir served"),
    (libc::SYS_unlink, "the Rust library's remove_file"),
    (libc::SYS_rmdir, "the Rust library's remove_dir"),
    (libc::SYS_mkdir, "the Rust library's create_dir"),
    (libc::SYS_rename, "the Rust library's rename"),
    (libc::SYS_renameat2, "rename served"),
    (libc::SYS_linkat, "link served"),
    (libc::SYS_symlinkat, "symlink served"),
    (libc::SYS_fchmod, "chmod served"),
    (libc::SYS_fchmodat, "chmod served"),
    (libc::SYS_chmod, "the Rust library's set_permissions"),
    (libc::SYS_fchown, "chown served"),
    (libc::SYS_fchownat, "chown served"),
    (libc::SYS_utimensat, "utimes served"),
    (libc::SYS_fsync, "fsync served"),
    (libc::SYS_fdatasync, "fdatasync served"),
    (libc::SYS_sync_file_range, "sync_file_range served"),
    (libc::SYS_flock, "flock served"),
    (libc::SYS_fadvise64, "fadvise served"),
    (libc::SYS_copy_file_range, "copy_file_range served"),
    (libc::SYS_sendfile, "sendfile served"),
    (libc::SYS_splice, "splice served"),
    (libc::SYS_tee, "tee served"),
    (libc::SYS_pipe2, "pipes served"),
    (libc::SYS_pipe, "pipes served"),
    (libc::SYS_inotify_init1, "inotify served"),
    (libc::SYS_inotify_add_watch, "inotify served"),
    (libc::SYS_inotify_rm_watch, "inotify served"),
    (libc::SYS_timerfd_create, "timerfd served"),
    (libc::SYS_timerfd_settime, "timerfd served"),
    (libc::SYS_timerfd_gettime, "timerfd served"),
    (
        libc::SYS_umask,
        "umask served (the thread's own, for creating files)",
    ),
    // Sockets.
    (libc::SYS_socket, "sockets served"),
    (libc::SYS_socketpair, "socketpair served"),
    (libc::SYS_bind, "bind served, under the ports' policy"),
    (libc::SYS_listen, "listen served"),
    (libc::SYS_accept4, "accept served"),
    (
        libc::SYS_connect,
        "connect served, under the network's policy",
    ),
    (libc::SYS_getsockname, "getsockname served"),
    (libc::SYS_getpeername, "getpeername served"),
    (libc::SYS_getsockopt, "getsockopt served"),
    (libc::SYS_setsockopt, "setsockopt served"),
    (libc::SYS_sendmsg, "sendmsg served"),
    (libc::SYS_recvmsg, "recvmsg served"),
    (libc::SYS_shutdown, "shutdown served"),
    // Waiting.
    (
        libc::SYS_poll,
        "poll, select, epoll served over host descriptors",
    ),
    (libc::SYS_ppoll, "poll served"),
    (libc::SYS_epoll_create1, "epoll served"),
    (libc::SYS_epoll_ctl, "epoll served"),
    (libc::SYS_epoll_wait, "epoll served"),
    (libc::SYS_epoll_pwait, "epoll served"),
    // Identity, limits, time, scheduling.
    (libc::SYS_setfsuid, "file access as the program's user"),
    (libc::SYS_setfsgid, "file access as the program's group"),
    (libc::SYS_setgroups, "file access with the program's groups"),
    (libc::SYS_getuid, "the program's identity"),
    (libc::SYS_geteuid, "the program's identity"),
    (libc::SYS_getgid, "the program's identity"),
    (libc::SYS_prlimit64, "limits"),
    (libc::SYS_sysinfo, "sysinfo served"),
    (libc::SYS_uname, "uname served"),
    (libc::SYS_getrandom, "getrandom served"),
    (libc::SYS_clock_getres, "clock_getres served"),
    (libc::SYS_getpriority, "getpriority served"),
    (
        libc::SYS_setpriority,
        "setpriority served (the thread's own nice)",
    ),
];

/// ENOSYS for `clone3`, so that the C library uses `clone`, whose flags the allowlist reads.
fn clone3_enosys() -> Result<BpfProgram, String> {
    let rules = BTreeMap::from([(libc::SYS_clone3, Vec::new())]);
    compile(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
    )
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
) -> Result<BpfProgram, String> {
    let filter = SeccompFilter::new(rules, mismatch, matched, TargetArch::x86_64)
        .map_err(|e| format!("seccomp filter: {e}"))?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| format!("seccomp filter: {e}"))
}

/// `kind`'s filters, compiled: `clone3` → ENOSYS, then the allowlist (unlisted syscalls trap).
pub fn programs(kind: Kind) -> Result<Vec<BpfProgram>, String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for (nr, _) in kind.allowed() {
        let rule = if nr == libc::SYS_clone {
            // Threads only: the flags word must hold CLONE_THREAD.
            let thread = libc::CLONE_THREAD as u64;
            let c = SeccompCondition::new(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(thread),
                thread,
            )
            .map_err(|e| format!("seccomp filter: {e}"))?;
            vec![SeccompRule::new(vec![c]).map_err(|e| format!("seccomp filter: {e}"))?]
        } else {
            Vec::new()
        };
        rules.insert(nr, rule);
    }
    // The allowlist goes last: once it is in, no filter can be added.
    Ok(vec![
        clone3_enosys()?,
        compile(rules, SeccompAction::Trap, SeccompAction::Allow)?,
    ])
}

/// One kind's filters, compiled ahead (a thread applies them as its first step).
pub struct Filters {
    kind: Kind,
    programs: Vec<BpfProgram>,
}

impl Filters {
    pub fn new(kind: Kind) -> Result<Filters, String> {
        Ok(Filters {
            kind,
            programs: programs(kind)?,
        })
    }

    /// Installs the filters on the calling thread (the threads it starts from now on inherit
    /// them), with the SIGSYS handler that reports a refused syscall.
    pub fn apply(&self) -> Result<(), String> {
        install_sigsys_handler(self.kind);
        for p in &self.programs {
            seccompiler::apply_filter(p).map_err(|e| format!("seccomp: {e}"))?;
        }
        Ok(())
    }

    /// `apply` as a helper thread's first step: a thread that cannot be confined ends the run
    /// (125) rather than run unconfined.
    pub fn apply_or_exit(&self) {
        if let Err(e) = self.apply() {
            eprintln!("mvm: {} thread: {e}", self.kind.name());
            std::process::exit(125);
        }
    }
}

/// Installs `kind`'s filters on the calling thread (see `Filters::apply`).
pub fn confine(kind: Kind) -> Result<(), String> {
    Filters::new(kind)?.apply()
}

std::thread_local! {
    static KIND: std::cell::Cell<Option<Kind>> = const { std::cell::Cell::new(None) };
}

fn install_sigsys_handler(kind: Kind) {
    KIND.with(|k| k.set(Some(kind)));
    // SAFETY: a handler that only formats into a stack buffer, writes it and calls `_exit`,
    // all async-signal-safe; the sigaction struct is fully initialized.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigsys as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
    }
}

/// `siginfo_t` for SIGSYS as the kernel fills it (`_sigsys` in the union).
#[repr(C)]
struct SigsysInfo {
    signo: i32,
    errno: i32,
    code: i32,
    _pad: i32,
    call_addr: u64,
    syscall: i32,
    arch: u32,
}

extern "C" fn on_sigsys(_sig: i32, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SIGSYS, laid out as SigsysInfo.
    let nr = unsafe { (*(info as *const SigsysInfo)).syscall };
    let kind = KIND.with(|k| k.get()).map_or("unknown", Kind::name);
    let mut buf = [0u8; 160];
    let mut len = 0;
    let mut put = |s: &[u8]| {
        let n = s.len().min(buf.len() - len);
        buf[len..len + n].copy_from_slice(&s[..n]);
        len += n;
    };
    put(b"mvm: internal error: host syscall ");
    let mut digits = [0u8; 12];
    let mut i = digits.len();
    let mut v = nr.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    put(&digits[i..]);
    put(b" refused by mvm's seccomp filter on a ");
    put(kind.as_bytes());
    put(b" thread\n");
    // SAFETY: write and _exit are async-signal-safe; buf[..len] is initialized.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), len);
        libc::_exit(125);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How a forked child ends that applies `kind`'s filters (with mvm's SIGSYS handler when
    /// `handler`), checks that `getpid` still works, then makes syscall `nr` with `args`:
    /// `Ok(status)` if it exited, `Err(signal)` if a signal ended it.
    fn child_makes(kind: Kind, handler: bool, nr: c_long, args: [u64; 3]) -> Result<i32, i32> {
        let filters = Filters::new(kind).unwrap();
        // SAFETY: the child makes only async-signal-safe calls (the filters are compiled
        // before the fork) and ends with _exit.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0, "fork");
            if pid == 0 {
                libc::close(2);
                let applied = if handler {
                    filters.apply().is_ok()
                } else {
                    // The default action (another test may have installed mvm's handler).
                    libc::signal(libc::SIGSYS, libc::SIG_DFL);
                    filters
                        .programs
                        .iter()
                        .all(|p| seccompiler::apply_filter(p).is_ok())
                };
                if !applied || libc::getpid() <= 0 {
                    libc::_exit(3);
                }
                let r = libc::syscall(nr, args[0], args[1], args[2]);
                libc::_exit(if r < 0 && *libc::__errno_location() == libc::ENOSYS {
                    38
                } else {
                    0
                });
            }
            let mut status = 0;
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
            if libc::WIFSIGNALED(status) {
                Err(libc::WTERMSIG(status))
            } else {
                Ok(libc::WEXITSTATUS(status))
            }
        }
    }

    const EVERY_KIND: [Kind; 4] = [Kind::Control, Kind::Serving, Kind::Relay, Kind::Throttle];

    #[test]
    fn no_kind_may_administer_the_host_or_start_a_process() {
        let refused: [(c_long, [u64; 3]); 6] = [
            (libc::SYS_mount, [0; 3]),
            (libc::SYS_unshare, [libc::CLONE_NEWUSER as u64, 0, 0]),
            (libc::SYS_ptrace, [libc::PTRACE_TRACEME as u64, 0, 0]),
            (libc::SYS_bpf, [0; 3]),
            (libc::SYS_execve, [0; 3]),
            // A process, not a thread: clone without CLONE_THREAD.
            (libc::SYS_clone, [libc::SIGCHLD as u64, 0, 0]),
        ];
        for kind in EVERY_KIND {
            for (nr, args) in refused {
                assert_eq!(
                    child_makes(kind, false, nr, args),
                    Err(libc::SIGSYS),
                    "syscall {nr} on a {kind:?} thread"
                );
            }
        }
    }

    #[test]
    fn each_kind_refuses_what_only_serving_needs() {
        for kind in [Kind::Control, Kind::Relay, Kind::Throttle] {
            for nr in [libc::SYS_socket, libc::SYS_memfd_create, libc::SYS_linkat] {
                assert_eq!(
                    child_makes(kind, false, nr, [0; 3]),
                    Err(libc::SIGSYS),
                    "syscall {nr} on a {kind:?} thread"
                );
            }
        }
        // The throttle reads nothing; the relay opens nothing.
        assert_eq!(
            child_makes(Kind::Throttle, false, libc::SYS_read, [u64::MAX, 0, 0]),
            Err(libc::SIGSYS)
        );
        assert_eq!(
            child_makes(Kind::Relay, false, libc::SYS_openat, [0; 3]),
            Err(libc::SIGSYS)
        );
        // What serving needs it has (a bad descriptor: the call runs and fails).
        assert_eq!(
            child_makes(Kind::Serving, false, libc::SYS_read, [u64::MAX, 0, 0]),
            Ok(0)
        );
        assert_eq!(
            child_makes(Kind::Serving, false, libc::SYS_socket, [u64::MAX, 0, 0]),
            Ok(0)
        );
    }

    #[test]
    fn clone3_is_enosys_so_that_threads_use_clone() {
        for kind in [Kind::Control, Kind::Serving] {
            assert_eq!(
                child_makes(kind, false, libc::SYS_clone3, [0; 3]),
                Ok(38),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_refused_syscall_ends_the_run_with_125() {
        assert_eq!(
            child_makes(Kind::Serving, true, libc::SYS_mount, [0; 3]),
            Ok(125)
        );
    }

    #[test]
    fn a_confined_thread_still_starts_threads() {
        let started = std::thread::spawn(|| {
            confine(Kind::Serving).unwrap();
            std::thread::spawn(|| 7).join().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(started, 7);
    }

    #[test]
    fn every_allowed_syscall_is_listed_once_with_a_reason() {
        for kind in EVERY_KIND {
            let allowed = kind.allowed();
            let unique: std::collections::BTreeSet<_> = allowed.iter().map(|a| a.0).collect();
            assert_eq!(
                unique.len(),
                allowed.len(),
                "{kind:?} lists a syscall twice"
            );
            assert!(allowed.iter().all(|a| !a.1.is_empty()));
        }
    }
}
