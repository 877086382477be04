//! The syscall table: one entry per served number, with its name, handler, support level and
//! a note on what is missing, and how `--trace` prints its arguments. `mvm syscalls` and the
//! compatibility table in the docs are generated from it.

use std::sync::OnceLock;

use super::{fs, mem, net, path, poll, process, signal, time, Args, SysResult};
use crate::task::Task;

/// How completely a syscall is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// As Linux serves it.
    Full,
    /// Served in part; the note says what is missing.
    Partial,
}

/// One syscall.
pub struct Entry {
    /// Syscall number (x86-64).
    pub nr: u64,
    /// Name, as strace prints it.
    pub name: &'static str,
    /// The handler.
    pub handler: fn(&mut Task, Args) -> SysResult,
    /// Support level.
    pub support: Support,
    /// What is missing, for `Partial`.
    pub note: &'static str,
    /// How `--trace` prints each argument: `i` integer, `x` hex, `f` fd, `s` string,
    /// `b` input buffer (length in the next argument), `B` output buffer (length = result),
    /// `v` iovec array (count in the next argument).
    pub args: &'static str,
}

macro_rules! table {
    ($( $nr:literal $name:ident $handler:path, $sup:ident $args:literal $note:literal; )*) => {
        /// Every served syscall.
        pub static TABLE: &[Entry] = &[
            $( Entry { nr: $nr, name: stringify!($name), handler: $handler,
                       support: Support::$sup, note: $note, args: $args }, )*
        ];
    };
}

table! {
    0 read fs::read, Full "fBi" "";
    1 write fs::write, Full "fbi" "";
    3 close fs::close, Full "f" "";
    5 fstat fs::fstat, Full "fx" "";
    7 poll poll::poll, Full "xii" "";
    8 lseek fs::lseek, Full "fii" "";
    9 mmap mem::mmap, Partial "xixxfi" "anonymous and file mappings; MAP_SHARED (of a file open for writing, or anonymous) shares the pages with the file and the run's other programs; no MAP_SHARED of devices";
    10 mprotect mem::mprotect, Full "xix" "";
    11 munmap mem::munmap, Full "xi" "";
    12 brk mem::brk, Full "x" "";
    13 rt_sigaction signal::rt_sigaction, Full "ixxi" "";
    14 rt_sigprocmask signal::rt_sigprocmask, Full "ixxi" "";
    15 rt_sigreturn signal::rt_sigreturn, Partial "" "64-bit frames only (cs/ss are forced to the 64-bit user selectors); a bad frame kills with SIGSEGV even when a SIGSEGV handler is set";
    16 ioctl fs::ioctl, Partial "fxx" "FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, TIOCGPGRP; others ENOTTY";
    17 pread64 fs::pread64, Full "fBii" "";
    18 pwrite64 fs::pwrite64, Full "fbii" "";
    19 readv fs::readv, Full "fvi" "";
    20 writev fs::writev, Full "fvi" "";
    24 sched_yield process::sched_yield, Full "" "";
    25 mremap mem::mremap, Full "xiiix" "";
    149 mlock mem::mlock, Partial "xi" "accepted for mapped ranges (mvm does not page memory out)";
    150 munlock mem::mlock, Full "xi" "";
    151 mlockall mem::mlockall, Partial "x" "accepted (mvm does not page memory out)";
    152 munlockall mem::mlockall, Full "" "";
    325 mlock2 mem::mlock, Partial "xix" "accepted for mapped ranges (mvm does not page memory out)";
    125 capget process::capget, Partial "xx" "the program holds no capabilities";
    126 capset process::capset, Partial "xx" "capabilities can be dropped, never gained";
    222 timer_create time::timer_create, Partial "ixx" "REALTIME, MONOTONIC and BOOTTIME clocks (no CPU-time clocks); expiries are never merged into overruns";
    223 timer_settime time::timer_settime, Full "iixx" "";
    224 timer_gettime time::timer_gettime, Full "ix" "";
    225 timer_getoverrun time::timer_getoverrun, Full "i" "";
    226 timer_delete time::timer_delete, Full "i" "";
    28 madvise mem::madvise, Partial "xii" "MADV_DONTNEED and MADV_FREE give memory back; other advice is accepted and ignored";
    32 dup fs::dup, Full "f" "";
    33 dup2 fs::dup2, Full "ff" "";
    34 pause signal::pause, Full "" "";
    35 nanosleep time::nanosleep, Full "xx" "";
    36 getitimer time::getitimer, Partial "ix" "ITIMER_VIRTUAL and ITIMER_PROF read as disarmed";
    37 alarm time::alarm, Full "i" "";
    38 setitimer time::setitimer, Partial "ixx" "ITIMER_REAL only: ITIMER_VIRTUAL and ITIMER_PROF are accepted and never fire";
    39 getpid process::getpid, Full "" "";
    41 socket net::socket, Partial "iii" "AF_INET and AF_INET6 stream and datagram sockets; AF_UNIX stream, datagram and seqpacket sockets; no raw, packet or netlink sockets";
    42 connect net::connect, Full "fxi" "";
    43 accept net::accept, Full "fxx" "";
    44 sendto net::sendto, Full "fbixi" "";
    45 recvfrom net::recvfrom, Full "fxixx" "";
    46 sendmsg net::sendmsg, Partial "fxi" "ancillary data: SCM_RIGHTS only (EOPNOTSUPP otherwise)";
    47 recvmsg net::recvmsg, Partial "fxi" "ancillary data: SCM_RIGHTS only (others are left out, MSG_CTRUNC)";
    48 shutdown net::shutdown, Full "fi" "";
    49 bind net::bind, Partial "fxi" "ports published with -p, or port 0 (EACCES otherwise); Unix socket paths in writable mounts; abstract Unix names are private to the run";
    50 listen net::listen, Full "fi" "";
    51 getsockname net::getsockname, Full "fxx" "";
    52 getpeername net::getpeername, Full "fxx" "";
    53 socketpair net::socketpair, Partial "iiix" "AF_UNIX only";
    54 setsockopt net::setsockopt, Partial "fiixi" "options that need privileges are EPERM";
    55 getsockopt net::getsockopt, Full "fiixx" "";
    59 execve process::execve, Partial "sxx" "x86-64 ELF executables (static, static PIE, dynamically linked) and #! scripts; no other binary formats";
    56 clone process::clone, Partial "xxxxx" "threads (CLONE_THREAD with CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND), and new programs as fork/vfork do; no namespaces, no CLONE_VM without CLONE_THREAD or CLONE_VFORK";
    57 fork process::fork, Partial "" "the child is a new micro-VM with a copy of the private memory; MAP_SHARED memory is shared with it";
    58 vfork process::vfork, Partial "" "a fork whose parent waits for the child's exec or exit: the memory is copied; a child that exits without exec'ing leaves its writes to the parent (posix_spawn's error report)";
    60 exit process::exit, Full "i" "";
    61 wait4 process::wait4, Partial "ixix" "rusage is zeros";
    62 kill signal::kill, Full "ii" "";
    63 uname process::uname, Full "x" "";
    72 fcntl fs::fcntl, Partial "fix" "F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD(_CLOEXEC), record locks (F_GETLK, F_SETLK(W), F_OFD_*) on the host file, F_GET/SETPIPE_SZ, F_ADD/GET_SEALS; no F_SETOWN, leases or notify";
    79 getcwd path::getcwd, Full "xi" "";
    80 chdir path::chdir, Full "s" "";
    96 gettimeofday time::gettimeofday, Full "xx" "";
    97 getrlimit process::getrlimit, Full "ix" "";
    102 getuid process::getuid, Full "" "";
    104 getgid process::getgid, Full "" "";
    105 setuid process::setuid, Partial "i" "the program's own ids (root may take any); real, effective and saved are one";
    106 setgid process::setgid, Partial "i" "as setuid";
    107 geteuid process::getuid, Full "" "";
    108 getegid process::getgid, Full "" "";
    110 getppid process::getppid, Full "" "";
    109 setpgid process::setpgid, Full "ii" "";
    111 getpgrp process::getpgrp, Full "" "";
    112 setsid process::setsid, Full "" "";
    113 setreuid process::setreuid, Partial "ii" "as setuid";
    114 setregid process::setregid, Partial "ii" "as setuid";
    115 getgroups process::getgroups, Full "ix" "";
    116 setgroups process::setgroups, Full "ix" "";
    117 setresuid process::setresuid, Partial "iii" "as setuid";
    118 getresuid process::getresuid, Full "xxx" "";
    119 setresgid process::setresgid, Partial "iii" "as setuid";
    120 getresgid process::getresgid, Full "xxx" "";
    121 getpgid process::getpgid, Full "i" "";
    124 getsid process::getsid, Full "i" "";
    127 rt_sigpending signal::rt_sigpending, Full "xi" "";
    128 rt_sigtimedwait signal::rt_sigtimedwait, Partial "xxxi" "standard signals only (no queued real-time signals with si_value)";
    130 rt_sigsuspend signal::rt_sigsuspend, Full "xi" "";
    131 sigaltstack signal::sigaltstack, Full "xx" "";
    157 prctl process::prctl, Partial "ixxxx" "names, dumpable, no-new-privileges and the parent-death signal are accepted (the name and the signal are not kept); other options are EINVAL";
    158 arch_prctl process::arch_prctl, Partial "ix" "ARCH_SET_FS, ARCH_GET_FS, ARCH_SET_GS, ARCH_GET_GS";
    186 gettid process::gettid, Full "" "";
    200 tkill signal::tkill, Partial "ii" "to the program's one thread";
    201 time time::time, Full "x" "";
    202 futex process::futex, Partial "xiixxi" "PI locks are plain handoffs (no priority boosting); FUTEX_WAIT_REQUEUE_PI is ENOSYS; between programs (shared memory) only WAIT and WAKE";
    203 sched_setaffinity process::sched_setaffinity, Partial "iix" "accepted, threads are not pinned";
    204 sched_getaffinity process::sched_getaffinity, Full "iix" "";
    213 epoll_create net::epoll_create, Full "i" "";
    218 set_tid_address process::set_tid_address, Full "x" "";
    228 clock_gettime time::clock_gettime, Full "ix" "";
    229 clock_getres time::clock_getres, Full "ix" "";
    230 clock_nanosleep time::clock_nanosleep, Full "iixx" "";
    231 exit_group process::exit_group, Full "i" "";
    232 epoll_wait net::epoll_wait, Full "fxii" "";
    233 epoll_ctl net::epoll_ctl, Full "fifx" "";
    234 tgkill signal::tgkill, Partial "iii" "to the program's one thread";
    247 waitid process::waitid, Partial "iixix" "P_PIDFD is EINVAL; rusage is zeros";
    270 pselect6 poll::pselect6, Full "ixxxxx" "";
    271 ppoll poll::ppoll, Full "xixxi" "";
    273 set_robust_list process::set_robust_list, Full "xi" "";
    274 get_robust_list process::get_robust_list, Partial "ixx" "another thread's list reads as empty";
    281 epoll_pwait net::epoll_pwait, Full "fxiixi" "";
    288 accept4 net::accept4, Full "fxxi" "";
    291 epoll_create1 net::epoll_create1, Full "i" "";
    292 dup3 fs::dup3, Full "ffi" "";
    262 newfstatat path::newfstatat, Full "fsxx" "";
    302 prlimit64 process::prlimit64, Full "iixx" "";
    318 getrandom process::getrandom, Full "xii" "";
    332 statx path::statx, Partial "fsxix" "synthesized /proc and /dev files report the basic fields only";
    334 rseq process::rseq, Partial "xixx" "registration only: one CPU, never preempted inside a critical section";
    2 open path::open, Full "sxi" "";
    4 stat path::stat, Full "sx" "";
    6 lstat path::lstat, Full "sx" "";
    21 access path::access, Full "si" "";
    22 pipe fs::pipe, Full "x" "";
    23 select poll::select, Partial "ixxxx" "the time left is not written back";
    40 sendfile fs::sendfile, Full "ffxi" "";
    73 flock fs::flock, Full "fi" "";
    74 fsync fs::fsync, Full "f" "";
    75 fdatasync fs::fdatasync, Full "f" "";
    76 truncate path::truncate, Full "si" "";
    77 ftruncate fs::ftruncate, Full "fi" "";
    81 fchdir path::fchdir, Full "f" "";
    82 rename path::rename, Full "ss" "";
    83 mkdir path::mkdir, Full "sx" "";
    133 mknod path::mknod, Partial "sxx" "FIFOs, regular and socket files; device nodes are EPERM";
    84 rmdir path::rmdir, Full "s" "";
    85 creat path::creat, Full "sx" "";
    86 link path::link, Full "ss" "";
    87 unlink path::unlink, Full "s" "";
    88 symlink path::symlink, Full "ss" "";
    89 readlink path::readlink, Full "sBi" "";
    90 chmod path::chmod, Full "sx" "";
    91 fchmod fs::fchmod, Full "fx" "";
    92 chown path::chown, Full "sii" "";
    93 fchown fs::fchown, Full "fii" "";
    94 lchown path::lchown, Full "sii" "";
    95 umask path::umask, Full "x" "";
    137 statfs path::statfs, Full "sx" "";
    138 fstatfs fs::fstatfs, Full "fx" "";
    217 getdents64 fs::getdents64, Full "fxi" "";
    221 fadvise64 fs::fadvise64, Full "fiii" "";
    257 openat path::openat, Full "fsxx" "";
    253 inotify_init path::inotify_init, Full "" "";
    254 inotify_add_watch path::inotify_add_watch, Full "fsx" "";
    255 inotify_rm_watch path::inotify_rm_watch, Full "fi" "";
    258 mkdirat path::mkdirat, Full "fsx" "";
    259 mknodat path::mknodat, Partial "fsxx" "FIFOs, regular and socket files; device nodes are EPERM";
    260 fchownat path::fchownat, Full "fsiix" "";
    263 unlinkat path::unlinkat, Full "fsx" "";
    264 renameat path::renameat, Full "fsfs" "";
    265 linkat path::linkat, Full "fsfsx" "";
    266 symlinkat path::symlinkat, Full "sfs" "";
    267 readlinkat path::readlinkat, Full "fsBi" "";
    268 fchmodat path::fchmodat, Full "fsx" "";
    269 faccessat path::faccessat, Full "fsi" "";
    277 sync_file_range fs::sync_file_range, Full "fiix" "";
    280 utimensat path::utimensat, Full "fsxx" "";
    284 eventfd fs::eventfd, Full "i" "";
    285 fallocate fs::fallocate, Full "fxii" "";
    290 eventfd2 fs::eventfd2, Full "ix" "";
    294 inotify_init1 path::inotify_init1, Full "x" "";
    293 pipe2 fs::pipe2, Full "xx" "";
    316 renameat2 path::renameat2, Full "fsfsx" "";
    319 memfd_create fs::memfd_create, Full "sx" "";
    326 copy_file_range fs::copy_file_range, Full "fxfxix" "";
    435 clone3 process::clone3, Partial "xi" "threads only, as clone";
    436 close_range fs::close_range, Full "iix" "";
    437 openat2 path::openat2, Partial "fsxi" "RESOLVE_NO_SYMLINKS applies to the last component only; RESOLVE_NO_XDEV, RESOLVE_NO_MAGICLINKS and RESOLVE_CACHED are accepted, not enforced";
    439 faccessat2 path::faccessat2, Full "fsix" "";
    452 fchmodat2 path::fchmodat2, Full "fsxx" "";
    188 setxattr path::setxattr, Partial "ssxii" "no extended attributes in the view: ENOTSUP";
    189 lsetxattr path::lsetxattr, Partial "ssxii" "no extended attributes in the view: ENOTSUP";
    190 fsetxattr path::fsetxattr, Partial "fsxii" "no extended attributes in the view: ENOTSUP";
    191 getxattr path::getxattr, Partial "ssxi" "no extended attributes in the view: ENODATA for every name";
    192 lgetxattr path::lgetxattr, Partial "ssxi" "no extended attributes in the view: ENODATA for every name";
    193 fgetxattr path::fgetxattr, Partial "fsxi" "no extended attributes in the view: ENODATA for every name";
    194 listxattr path::listxattr, Partial "sxi" "no extended attributes in the view: the list is empty";
    195 llistxattr path::llistxattr, Partial "sxi" "no extended attributes in the view: the list is empty";
    196 flistxattr path::flistxattr, Partial "fxi" "no extended attributes in the view: the list is empty";
    197 removexattr path::setxattr, Partial "ss" "no extended attributes in the view: ENOTSUP";
    198 lremovexattr path::lsetxattr, Partial "ss" "no extended attributes in the view: ENOTSUP";
    199 fremovexattr path::fsetxattr, Partial "fs" "no extended attributes in the view: ENOTSUP";
    99 sysinfo process::sysinfo, Partial "x" "memory is the VM's (--memory); uptime and load are the host's; one process";
}

/// The entry for `nr`, if served.
pub fn lookup(nr: u64) -> Option<&'static Entry> {
    static INDEX: OnceLock<Vec<u16>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut v = vec![u16::MAX; 512];
        for (i, e) in TABLE.iter().enumerate() {
            v[e.nr as usize] = i as u16;
        }
        v
    });
    let i = *index.get(nr as usize)?;
    TABLE.get(i as usize)
}

/// The compatibility table, in Markdown, generated from `TABLE`.
pub fn markdown() -> String {
    let mut rows: Vec<&Entry> = TABLE.iter().collect();
    rows.sort_by_key(|e| e.nr);
    let mut s = String::from("| nr | syscall | support | notes |\n|---:|---|---|---|\n");
    for e in rows {
        let sup = match e.support {
            Support::Full => "served",
            Support::Partial => "partly",
        };
        s.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            e.nr, e.name, sup, e.note
        ));
    }
    s.push_str("\nEvery other syscall returns `ENOSYS` (`--trace` shows each such call).\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_and_formats_match_arity() {
        let mut seen = std::collections::HashSet::new();
        for e in TABLE {
            assert!(seen.insert(e.nr), "{} listed twice", e.name);
            assert!(e.args.len() <= 6, "{}", e.name);
            assert_eq!(
                e.support == Support::Partial,
                !e.note.is_empty(),
                "{}",
                e.name
            );
            assert!(std::ptr::eq(lookup(e.nr).unwrap(), e));
        }
        assert!(lookup(9999).is_none());
    }

    #[test]
    fn compatibility_doc_is_generated_from_the_table() {
        let doc = include_str!("../../../docs/syscalls.md");
        assert!(
            doc.ends_with(&markdown()),
            "docs/syscalls.md is stale: regenerate it with `mvm syscalls` (see its header)"
        );
    }
}
