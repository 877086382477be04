//! The syscall table: one entry per served number, with its name, handler, support level and
//! a note on what is missing, and how `--trace` prints its arguments. `mvm syscalls` and the
//! compatibility table in the docs are generated from it.

use std::sync::OnceLock;

use super::trace::Arg;
use super::{
    fs, ipc, mem, mqueue, net, path, poll, process, signal, signalfd, time, Args, SysResult,
};
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
    /// How `--trace` prints each argument (the arguments it shows; see [`Arg`]).
    pub args: &'static [Arg],
}

macro_rules! table {
    ($( $nr:literal $name:ident $handler:path, $sup:ident [$($arg:ident),*] $note:literal; )*) => {
        /// Every served syscall.
        pub static TABLE: &[Entry] = &[
            $( Entry { nr: $nr, name: stringify!($name), handler: $handler,
                       support: Support::$sup, note: $note, args: &[$(Arg::$arg),*] }, )*
        ];
    };
}

table! {
    0 read fs::read, Full [Fd, OutBuf, Ulong] "";
    1 write fs::write, Full [Fd, InBuf, Ulong] "";
    3 close fs::close, Full [Fd] "";
    5 fstat fs::fstat, Full [Fd, Stat] "";
    7 poll poll::poll, Full [PollFds, Uint, Int] "";
    8 lseek fs::lseek, Full [Fd, Long, Whence] "";
    9 mmap mem::mmap, Partial [Ptr, Ulong, Prot, MapFlags, Fd, Hex] "anonymous and file mappings; MAP_SHARED (of a file open for writing, or anonymous) shares the pages with the file and the run's other programs; no MAP_SHARED of devices";
    10 mprotect mem::mprotect, Full [Ptr, Ulong, Prot] "";
    11 munmap mem::munmap, Full [Ptr, Ulong] "";
    12 brk mem::brk, Full [Ptr] "";
    13 rt_sigaction signal::rt_sigaction, Full [Signal, SigactIn, SigactOut, Ulong] "";
    129 rt_sigqueueinfo signal::rt_sigqueueinfo, Partial [Int, Signal, Ptr] "to one program (pid > 0); signals do not queue (one of each pending at a time)";
    14 rt_sigprocmask signal::rt_sigprocmask, Full [SigHow, SigsetIn, SigsetOut, Ulong] "";
    15 rt_sigreturn signal::rt_sigreturn, Partial [SigreturnMask] "64-bit frames only (cs/ss are forced to the 64-bit user selectors); a bad frame kills with SIGSEGV even when a SIGSEGV handler is set";
    16 ioctl fs::ioctl, Partial [Fd, IoctlReq, IoctlArg] "the terminal requests with the kernel's layouts (TCGETS/TCSETS*, TCGETS2/TCSETS*2, TCGETA/TCSETA*, TIOCGWINSZ/TIOCSWINSZ, TCFLSH, TCXONC, TCSBRK, TIOCOUTQ, TIOCEXCL, TIOCMGET/TIOCMSET, TIOCGETD/TIOCSETD), job control on the run's terminal (TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY, TIOCNOTTY), FIONREAD, FIONBIO, FIOASYNC, FIOCLEX, FIONCLEX; on a pseudo-terminal master of the run's own devpts (/dev/ptmx) TIOCGPTN, TIOCSPTLCK/TIOCGPTLCK, TIOCPKT/TIOCGPKT, TIOCGPTPEER; TIOCSTI is EIO (as Linux without CAP_SYS_ADMIN); others ENOTTY";
    17 pread64 fs::pread64, Full [Fd, OutBuf, Ulong, Long] "";
    18 pwrite64 fs::pwrite64, Full [Fd, InBuf, Ulong, Long] "";
    19 readv fs::readv, Full [Fd, IovOut, Int] "";
    20 writev fs::writev, Full [Fd, IovIn, Int] "";
    295 preadv fs::preadv, Full [Fd, IovOut, Int, Long] "";
    296 pwritev fs::pwritev, Full [Fd, IovIn, Int, Long] "";
    24 sched_yield process::sched_yield, Full [] "";
    25 mremap mem::mremap, Full [Ptr, Ulong, Ulong, MremapFlags, MremapAddr] "";
    26 msync mem::msync, Full [Ptr, Ulong, MsyncFlags] "";
    27 mincore mem::mincore, Partial [Ptr, Ulong, Ptr] "resident means the program has a frame for the page (the host's page cache is not looked at)";
    149 mlock mem::mlock, Partial [Ptr, Ulong] "accepted for mapped ranges (mvm does not page memory out)";
    150 munlock mem::mlock, Full [Ptr, Ulong] "";
    151 mlockall mem::mlockall, Partial [MlockallFlags] "accepted (mvm does not page memory out)";
    152 munlockall mem::mlockall, Full [] "";
    325 mlock2 mem::mlock, Partial [Ptr, Ulong, Mlock2Flags] "accepted for mapped ranges (mvm does not page memory out)";
    125 capget process::capget, Partial [Ptr, Ptr] "the program holds no capabilities";
    126 capset process::capset, Partial [Ptr, Ptr] "capabilities can be dropped, never gained";
    222 timer_create time::timer_create, Partial [Clock, Sigevent, IntOut] "REALTIME, MONOTONIC, BOOTTIME and CPU-time clocks (no TAI or alarm clocks); a CPU-time timer's clock is looked at every 1-10 ms, so it fires up to 10 ms late";
    223 timer_settime time::timer_settime, Full [Int, TimerFlags, ItimerspecIn, ItimerspecOut] "";
    224 timer_gettime time::timer_gettime, Full [Int, ItimerspecOut] "";
    225 timer_getoverrun time::timer_getoverrun, Full [Int] "";
    226 timer_delete time::timer_delete, Full [Int] "";
    28 madvise mem::madvise, Partial [Ptr, Ulong, Madvise] "MADV_DONTNEED and MADV_FREE give memory back; other advice is accepted and ignored";
    32 dup fs::dup, Full [Fd] "";
    33 dup2 fs::dup2, Full [Fd, Fd] "";
    34 pause signal::pause, Full [] "";
    35 nanosleep time::nanosleep, Full [TimespecIn, Rem] "";
    36 getitimer time::getitimer, Partial [ItimerWhich, ItimervalOut] "ITIMER_VIRTUAL counts the same CPU time as ITIMER_PROF (see setitimer)";
    37 alarm time::alarm, Full [Uint] "";
    38 setitimer time::setitimer, Partial [ItimerWhich, ItimervalIn, ItimervalOut] "ITIMER_VIRTUAL counts all the program's CPU time, as ITIMER_PROF: its host threads', which include mvm serving its calls (what Linux counts as system time); the CPU time is looked at every 1-10 ms";
    39 getpid process::getpid, Full [] "";
    41 socket net::socket, Partial [Domain, SockType, Protocol] "AF_INET and AF_INET6 stream and datagram sockets; AF_UNIX stream, datagram and seqpacket sockets; no raw, packet or netlink sockets";
    42 connect net::connect, Full [Fd, SockaddrIn, Uint] "";
    43 accept net::accept, Full [Fd, SockaddrOut, Socklen] "";
    44 sendto net::sendto, Full [Fd, InBuf, Ulong, MsgFlags, SockaddrIn, Uint] "";
    45 recvfrom net::recvfrom, Full [Fd, OutBuf, Ulong, MsgFlags, SockaddrOut, Socklen] "";
    46 sendmsg net::sendmsg, Partial [Fd, MsghdrIn, MsgFlags] "ancillary data: SCM_RIGHTS only (EOPNOTSUPP otherwise, and for a signalfd)";
    47 recvmsg net::recvmsg, Partial [Fd, MsghdrOut, MsgFlags] "ancillary data: SCM_RIGHTS only (others are left out, MSG_CTRUNC)";
    48 shutdown net::shutdown, Full [Fd, Shutdown] "";
    49 bind net::bind, Partial [Fd, SockaddrIn, Uint] "any port: a published one (-p) on its host port and address, another on the host's loopback at a port the host picks (the run reaches it by its own number); Unix socket paths in writable mounts; abstract Unix names are private to the run";
    50 listen net::listen, Full [Fd, Int] "";
    51 getsockname net::getsockname, Full [Fd, SockaddrOut, Socklen] "";
    52 getpeername net::getpeername, Full [Fd, SockaddrOut, Socklen] "";
    53 socketpair net::socketpair, Partial [Domain, SockType, Protocol, PipeFds] "AF_UNIX only";
    54 setsockopt net::setsockopt, Partial [Fd, SockLevel, SockOpt, OptvalIn, Uint] "options that need privileges are EPERM";
    55 getsockopt net::getsockopt, Full [Fd, SockLevel, SockOpt, OptvalOut, Socklen] "";
    59 execve process::execve, Partial [Path, Argv, Envp] "x86-64 ELF executables (static, static PIE, dynamically linked) and #! scripts; no other binary formats";
    322 execveat process::execveat, Partial [Dirfd, Path, Argv, Envp, AtFlags] "as execve; AT_EMPTY_PATH runs the descriptor's file (fexecve); AT_SYMLINK_NOFOLLOW is accepted and not checked";
    56 clone process::clone, Partial [Clone] "threads (CLONE_THREAD with CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND), and new programs as fork/vfork do; no namespaces, no CLONE_VM without CLONE_THREAD or CLONE_VFORK";
    57 fork process::fork, Partial [] "the child is a new micro-VM with a copy of the private memory; MAP_SHARED memory is shared with it";
    58 vfork process::vfork, Partial [] "a fork whose parent waits for the child's exec or exit: the memory is copied; a child that exits without exec'ing leaves its writes to the parent (posix_spawn's error report)";
    60 exit process::exit, Full [Int] "";
    61 wait4 process::wait4, Partial [Int, WaitStatus, WaitOptions, Rusage] "rusage has the child's user and system times only (as getrusage splits them)";
    62 kill signal::kill, Full [Int, Signal] "";
    63 uname process::uname, Full [Utsname] "";
    72 fcntl fs::fcntl, Partial [Fd, FcntlCmd, FcntlArg] "F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD(_CLOEXEC), record locks (F_GETLK, F_SETLK(W), F_OFD_*) on the host file, F_GET/SETPIPE_SZ, F_ADD/GET_SEALS; no F_SETOWN, leases or notify";
    79 getcwd path::getcwd, Full [Cwd, Ulong] "";
    80 chdir path::chdir, Full [Path] "";
    96 gettimeofday time::gettimeofday, Full [TimevalOut, Ptr] "";
    97 getrlimit process::getrlimit, Full [Resource, RlimitOut] "";
    102 getuid process::getuid, Full [] "";
    104 getgid process::getgid, Full [] "";
    105 setuid process::setuid, Partial [Int] "the program's own ids (root may take any); real, effective and saved are one";
    106 setgid process::setgid, Partial [Int] "as setuid";
    107 geteuid process::getuid, Full [] "";
    108 getegid process::getgid, Full [] "";
    110 getppid process::getppid, Full [] "";
    109 setpgid process::setpgid, Full [Int, Int] "";
    111 getpgrp process::getpgrp, Full [] "";
    112 setsid process::setsid, Full [] "";
    113 setreuid process::setreuid, Partial [Int, Int] "as setuid";
    114 setregid process::setregid, Partial [Int, Int] "as setuid";
    115 getgroups process::getgroups, Full [Int, GroupsOut] "";
    116 setgroups process::setgroups, Full [Int, GroupsIn] "";
    117 setresuid process::setresuid, Partial [Int, Int, Int] "as setuid";
    118 getresuid process::getresuid, Full [IdOut, IdOut, IdOut] "";
    119 setresgid process::setresgid, Partial [Int, Int, Int] "as setuid";
    120 getresgid process::getresgid, Full [IdOut, IdOut, IdOut] "";
    121 getpgid process::getpgid, Full [Int] "";
    124 getsid process::getsid, Full [Int] "";
    127 rt_sigpending signal::rt_sigpending, Full [SigsetOut, Ulong] "";
    128 rt_sigtimedwait signal::rt_sigtimedwait, Partial [SigsetIn, SiginfoOut, TimespecIn, Ulong] "standard signals only (no queued real-time signals with si_value)";
    130 rt_sigsuspend signal::rt_sigsuspend, Full [SigsetIn, Ulong] "";
    131 sigaltstack signal::sigaltstack, Full [AltstackIn, AltstackOut] "";
    157 prctl process::prctl, Partial [PrctlOption, PrctlArg, PrctlArg, PrctlArg, PrctlArg] "names, dumpable, no-new-privileges and the parent-death signal are accepted (the name and the signal are not kept); other options are EINVAL";
    158 arch_prctl process::arch_prctl, Partial [ArchCode, ArchAddr] "ARCH_SET_FS, ARCH_GET_FS, ARCH_SET_GS, ARCH_GET_GS";
    186 gettid process::gettid, Full [] "";
    200 tkill signal::tkill, Partial [Int, Signal] "to the program's one thread";
    201 time time::time, Full [TimeOut] "";
    202 futex process::futex, Partial [Ptr, FutexOp, FutexVal, FutexTimeout, FutexAddr2, FutexVal3] "PI locks are plain handoffs (no priority boosting); FUTEX_WAIT_REQUEUE_PI is ENOSYS; between programs (shared memory) only WAIT and WAKE";
    203 sched_setaffinity process::sched_setaffinity, Partial [Int, Uint, CpusetIn] "accepted, threads are not pinned";
    204 sched_getaffinity process::sched_getaffinity, Full [Int, Uint, CpusetOut] "";
    213 epoll_create net::epoll_create, Full [Int] "";
    218 set_tid_address process::set_tid_address, Full [Ptr] "";
    228 clock_gettime time::clock_gettime, Partial [Clock, TimespecOut] "CPU-time clocks count their host threads' CPU time, mvm serving the calls included (Linux's system time), and only the run's own threads and programs; the user-time kind counts the same";
    229 clock_getres time::clock_getres, Full [Clock, TimespecOut] "";
    230 clock_nanosleep time::clock_nanosleep, Full [Clock, TimerFlags, TimespecIn, Rem] "";
    231 exit_group process::exit_group, Full [Int] "";
    232 epoll_wait net::epoll_wait, Full [Fd, EpollEvents, Int, Int] "";
    233 epoll_ctl net::epoll_ctl, Full [Fd, EpollOp, Fd, EpollEventIn] "";
    234 tgkill signal::tgkill, Partial [Int, Int, Signal] "to the program's one thread";
    247 waitid process::waitid, Partial [IdType, Int, SiginfoOut, WaitOptions, Rusage] "P_PIDFD is EINVAL; rusage has the child's user and system times only (as getrusage splits them)";
    270 pselect6 poll::pselect6, Full [Int, FdSet, FdSet, FdSet, TimespecIn, Ptr] "";
    271 ppoll poll::ppoll, Full [PollFds, Uint, TimespecIn, SigsetIn, Ulong] "";
    273 set_robust_list process::set_robust_list, Full [Ptr, Ulong] "";
    274 get_robust_list process::get_robust_list, Partial [Int, PtrOut, SizeOut] "another thread's list reads as empty";
    281 epoll_pwait net::epoll_pwait, Full [Fd, EpollEvents, Int, Int, SigsetIn, Ulong] "";
    288 accept4 net::accept4, Full [Fd, SockaddrOut, Socklen, SockFlags] "";
    291 epoll_create1 net::epoll_create1, Full [EpollFlags] "";
    292 dup3 fs::dup3, Full [Fd, Fd, FdFlags] "";
    262 newfstatat path::newfstatat, Full [Dirfd, Path, Stat, AtFlags] "";
    302 prlimit64 process::prlimit64, Partial [Int, Resource, RlimitIn, RlimitOut] "the program itself only (ESRCH for others); RLIMIT_NOFILE, RLIMIT_CPU and RLIMIT_FSIZE are enforced, the others stored and reported";
    318 getrandom process::getrandom, Full [RandBuf, Ulong, GrndFlags] "";
    332 statx path::statx, Partial [Dirfd, Path, StatxFlags, StatxMask, Statx] "synthesized /proc and /dev files report the basic fields only";
    334 rseq process::rseq, Partial [Ptr, Hex, Int, Hex] "registration only: one CPU, never preempted inside a critical section";
    2 open path::open, Full [Path, OpenFlags, OpenMode] "";
    4 stat path::stat, Full [Path, Stat] "";
    6 lstat path::lstat, Full [Path, Stat] "";
    21 access path::access, Full [Path, Access] "";
    22 pipe fs::pipe, Full [PipeFds] "";
    23 select poll::select, Partial [Int, FdSet, FdSet, FdSet, TimevalIn] "the time left is not written back";
    40 sendfile fs::sendfile, Full [Fd, Fd, OffInOut, Ulong] "";
    73 flock fs::flock, Full [Fd, FlockOp] "";
    74 fsync fs::fsync, Full [Fd] "";
    75 fdatasync fs::fdatasync, Full [Fd] "";
    76 truncate path::truncate, Full [Path, Long] "";
    77 ftruncate fs::ftruncate, Full [Fd, Long] "";
    81 fchdir path::fchdir, Full [Fd] "";
    82 rename path::rename, Full [Path, Path] "";
    83 mkdir path::mkdir, Full [Path, Mode] "";
    133 mknod path::mknod, Partial [Path, MknodMode, MknodDev] "FIFOs, regular and socket files; device nodes are EPERM";
    84 rmdir path::rmdir, Full [Path] "";
    85 creat path::creat, Full [Path, Mode] "";
    86 link path::link, Full [Path, Path] "";
    87 unlink path::unlink, Full [Path] "";
    88 symlink path::symlink, Full [Path, Path] "";
    89 readlink path::readlink, Full [Path, OutBuf, Ulong] "";
    90 chmod path::chmod, Full [Path, Mode] "";
    91 fchmod fs::fchmod, Full [Fd, Mode] "";
    92 chown path::chown, Full [Path, Int, Int] "";
    93 fchown fs::fchown, Full [Fd, Int, Int] "";
    94 lchown path::lchown, Full [Path, Int, Int] "";
    95 umask path::umask, Full [Mode] "";
    137 statfs path::statfs, Full [Path, Statfs] "";
    138 fstatfs fs::fstatfs, Full [Fd, Statfs] "";
    217 getdents64 fs::getdents64, Full [Fd, Dirents, Uint] "";
    221 fadvise64 fs::fadvise64, Full [Fd, Long, Long, Fadvise] "";
    257 openat path::openat, Full [Dirfd, Path, OpenFlags, OpenMode] "";
    253 inotify_init path::inotify_init, Full [] "";
    254 inotify_add_watch path::inotify_add_watch, Full [Fd, Path, InotifyMask] "";
    255 inotify_rm_watch path::inotify_rm_watch, Full [Fd, Int] "";
    258 mkdirat path::mkdirat, Full [Dirfd, Path, Mode] "";
    259 mknodat path::mknodat, Partial [Dirfd, Path, MknodMode, MknodDev] "FIFOs, regular and socket files; device nodes are EPERM";
    260 fchownat path::fchownat, Full [Dirfd, Path, Int, Int, AtFlags] "";
    263 unlinkat path::unlinkat, Full [Dirfd, Path, UnlinkFlags] "";
    264 renameat path::renameat, Full [Dirfd, Path, Dirfd, Path] "";
    265 linkat path::linkat, Full [Dirfd, Path, Dirfd, Path, AtFlags] "";
    266 symlinkat path::symlinkat, Full [Path, Dirfd, Path] "";
    267 readlinkat path::readlinkat, Full [Dirfd, Path, OutBuf, Ulong] "";
    268 fchmodat path::fchmodat, Full [Dirfd, Path, Mode] "";
    269 faccessat path::faccessat, Full [Dirfd, Path, Access] "";
    277 sync_file_range fs::sync_file_range, Full [Fd, Long, Long, Uint] "";
    275 splice fs::splice, Full [Fd, OffInOut, Fd, OffInOut, Ulong, Hex] "";
    276 tee fs::tee, Full [Fd, Fd, Ulong, Hex] "";
    280 utimensat path::utimensat, Full [Dirfd, Path, Utimes, AtFlags] "";
    132 utime path::utime, Full [Path, Ptr] "";
    235 utimes path::utimes, Full [Path, Ptr] "";
    261 futimesat path::futimesat, Full [Dirfd, Path, Ptr] "";
    283 timerfd_create fs::timerfd_create, Partial [Int, Hex] "CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME; the *_ALARM clocks are EPERM (no CAP_WAKE_ALARM)";
    284 eventfd fs::eventfd, Full [Uint] "";
    285 fallocate fs::fallocate, Full [Fd, FallocMode, Long, Long] "";
    286 timerfd_settime fs::timerfd_settime, Full [Fd, Hex, Ptr, Ptr] "";
    287 timerfd_gettime fs::timerfd_gettime, Full [Fd, Ptr] "";
    290 eventfd2 fs::eventfd2, Full [Uint, EfdFlags] "";
    282 signalfd signalfd::signalfd, Partial [Fd, SfdMask, Ulong] "as signalfd4";
    289 signalfd4 signalfd::signalfd4, Partial [Fd, SfdMask, Ulong, SfdFlags] "signals do not queue (one of each pending at a time, as everywhere in mvm); a poll or epoll wait sees the readiness of the waiting thread, so an epoll set shared with another thread or program may also wake for a signal pending there; one cannot be passed over SCM_RIGHTS (EOPNOTSUPP)";
    294 inotify_init1 path::inotify_init1, Full [InotifyFlags] "";
    293 pipe2 fs::pipe2, Full [PipeFds, FdFlags] "";
    316 renameat2 path::renameat2, Full [Dirfd, Path, Dirfd, Path, RenameFlags] "";
    319 memfd_create fs::memfd_create, Full [Str, MfdFlags] "";
    326 copy_file_range fs::copy_file_range, Full [Fd, OffIn, Fd, OffIn, Ulong, Uint] "";
    435 clone3 process::clone3, Partial [Clone3, Ulong] "threads only, as clone";
    436 close_range fs::close_range, Full [Uint, Uint, CloseRangeFlags] "";
    437 openat2 path::openat2, Partial [Dirfd, Path, OpenHow, Ulong] "RESOLVE_NO_SYMLINKS applies to the last component only; RESOLVE_NO_XDEV, RESOLVE_NO_MAGICLINKS and RESOLVE_CACHED are accepted, not enforced";
    439 faccessat2 path::faccessat2, Full [Dirfd, Path, Access, AccessAtFlags] "";
    452 fchmodat2 path::fchmodat2, Full [Dirfd, Path, Mode, AtFlags] "";
    188 setxattr path::setxattr, Partial [Path, Str, InBuf, Ulong, XattrFlags] "no extended attributes in the view: ENOTSUP";
    189 lsetxattr path::lsetxattr, Partial [Path, Str, InBuf, Ulong, XattrFlags] "no extended attributes in the view: ENOTSUP";
    190 fsetxattr path::fsetxattr, Partial [Fd, Str, InBuf, Ulong, XattrFlags] "no extended attributes in the view: ENOTSUP";
    191 getxattr path::getxattr, Partial [Path, Str, OutBuf, Ulong] "no extended attributes in the view: ENODATA for every name";
    192 lgetxattr path::lgetxattr, Partial [Path, Str, OutBuf, Ulong] "no extended attributes in the view: ENODATA for every name";
    193 fgetxattr path::fgetxattr, Partial [Fd, Str, OutBuf, Ulong] "no extended attributes in the view: ENODATA for every name";
    194 listxattr path::listxattr, Partial [Path, OutBuf, Ulong] "no extended attributes in the view: the list is empty";
    195 llistxattr path::llistxattr, Partial [Path, OutBuf, Ulong] "no extended attributes in the view: the list is empty";
    196 flistxattr path::flistxattr, Partial [Fd, OutBuf, Ulong] "no extended attributes in the view: the list is empty";
    197 removexattr path::setxattr, Partial [Path, Str] "no extended attributes in the view: ENOTSUP";
    198 lremovexattr path::lsetxattr, Partial [Path, Str] "no extended attributes in the view: ENOTSUP";
    199 fremovexattr path::fsetxattr, Partial [Fd, Str] "no extended attributes in the view: ENOTSUP";
    140 getpriority process::getpriority, Partial [Int, Int] "the calling thread only (who 0 or its own id); the niceness of its host thread";
    141 setpriority process::setpriority, Partial [Int, Int, Int] "the calling thread only; sets its host thread's niceness, never below mvm's own (EACCES)";
    98 getrusage process::getrusage, Partial [Int, Ptr] "user time is the time in the guest, system time the rest of its host threads' CPU time (mvm serving its calls); the counters are zero; ru_maxrss is its memory now; RUSAGE_CHILDREN has the reaped children's times only";
    100 times process::times, Partial [Ptr] "user time is the time in the guest, system time the rest of its host threads' CPU time (mvm serving its calls)";
    29 shmget ipc::shmget, Full [Int, Ulong, Hex] "";
    30 shmat ipc::shmat, Full [Int, Ptr, Hex] "";
    67 shmdt ipc::shmdt, Full [Ptr] "";
    31 shmctl ipc::shmctl, Partial [Int, Int, Ptr] "SHM_LOCK/SHM_UNLOCK set the mode bit only (mvm pages nothing out)";
    64 semget ipc::semget, Full [Int, Int, Hex] "";
    65 semop ipc::semop, Full [Int, Ptr, Uint] "";
    66 semctl ipc::semctl, Full [Int, Int, Int, Hex] "";
    220 semtimedop ipc::semtimedop, Full [Int, Ptr, Uint, TimespecIn] "";
    68 msgget ipc::msgget, Full [Int, Hex] "";
    69 msgsnd ipc::msgsnd, Full [Int, Ptr, Ulong, Hex] "";
    70 msgrcv ipc::msgrcv, Full [Int, Ptr, Ulong, Long, Hex] "";
    71 msgctl ipc::msgctl, Full [Int, Int, Ptr] "";
    240 mq_open mqueue::mq_open, Partial [Str, OpenFlags, OpenMode, Ptr] "private to the run; fcntl's status flags and fstat of a queue's descriptor are those of the eventfd behind it (mq_setattr's O_NONBLOCK is the descriptor's own); RLIMIT_MSGQUEUE (its default) counts a user's named queues, not those unlinked and still open";
    241 mq_unlink mqueue::mq_unlink, Full [Str] "";
    242 mq_timedsend mqueue::mq_timedsend, Full [Fd, InBuf, Ulong, Uint, TimespecIn] "";
    243 mq_timedreceive mqueue::mq_timedreceive, Full [Fd, OutBuf, Ulong, Ptr, TimespecIn] "";
    244 mq_notify mqueue::mq_notify, Partial [Fd, Ptr] "SIGEV_SIGNAL and SIGEV_NONE; SIGEV_THREAD (glibc's, over a netlink socket) is ENOSYS";
    245 mq_getsetattr mqueue::mq_getsetattr, Full [Fd, Ptr, Ptr] "";
    99 sysinfo process::sysinfo, Partial [Sysinfo] "memory is the VM's (--memory); uptime and load are the host's; one process";
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
