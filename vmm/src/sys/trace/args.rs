//! The vocabulary of the syscall table's `args`: how each argument of a call is printed. Each
//! kind is read either before the call (what the program passes in), after it (what the kernel
//! writes back, shown only when the call succeeded), or both (a value-result argument).

/// How `--trace` prints one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    // --- numbers ---
    /// A C `int`: the low 32 bits, signed.
    Int,
    /// An `unsigned int`.
    Uint,
    /// A `long` (an offset).
    Long,
    /// An `unsigned long` or `size_t` (a length).
    Ulong,
    /// A number in hex (`0` for zero).
    Hex,
    /// A pointer: `NULL` or its address.
    Ptr,
    /// A file descriptor.
    Fd,
    /// A directory descriptor: `AT_FDCWD` or the fd.
    Dirfd,
    /// A file mode in octal.
    Mode,

    // --- strings and buffers ---
    /// A path, whole.
    Path,
    /// A NUL-terminated string, cut at 32 bytes.
    Str,
    /// A buffer the program passes in; its length is the next argument.
    InBuf,
    /// A buffer the call fills; its length is the result.
    OutBuf,
    /// getrandom's buffer, in hex; its length is the result.
    RandBuf,
    /// getcwd's buffer: the path it holds after the call.
    Cwd,
    /// execve's argv: `["ls", "-l"]`.
    Argv,
    /// execve's envp: `0x7ffd... /* 12 vars */`.
    Envp,
    /// An iovec array passed in; its count is the next argument.
    IovIn,
    /// An iovec array the call fills (the result's bytes); its count is the next argument.
    IovOut,

    // --- files ---
    /// Open flags with the access mode: `O_RDONLY|O_CLOEXEC`.
    OpenFlags,
    /// open's mode, shown only with O_CREAT or O_TMPFILE in the previous argument.
    OpenMode,
    /// Open flags without an access mode (pipe2, dup3): `O_CLOEXEC`, `0`.
    FdFlags,
    /// `AT_*` flags.
    AtFlags,
    /// unlinkat's flags: `AT_REMOVEDIR`.
    UnlinkFlags,
    /// faccessat2's flags: `AT_EACCESS`...
    AccessAtFlags,
    /// statx's flags, with its sync type first: `AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW`.
    StatxFlags,
    /// statx's mask: `STATX_BASIC_STATS`.
    StatxMask,
    /// access(2)'s mode: `R_OK|W_OK`, `F_OK`.
    Access,
    /// lseek's whence: `SEEK_SET`.
    Whence,
    /// An fcntl command: `F_SETFD`.
    FcntlCmd,
    /// fcntl's third argument, as the command has it (omitted for the getters).
    FcntlArg,
    /// An ioctl request: `TCGETS`.
    IoctlReq,
    /// ioctl's third argument, as the request has it.
    IoctlArg,
    /// A `struct stat` the call fills.
    Stat,
    /// A `struct statx` the call fills.
    Statx,
    /// A `struct statfs` the call fills.
    Statfs,
    /// getdents64's buffer: `0x... /* 5 entries */`.
    Dirents,
    /// The two descriptors pipe/pipe2/socketpair return: `[3, 4]`.
    PipeFds,
    /// A `loff_t *` read before the call: `[0]`.
    OffIn,
    /// A `loff_t *` read before and after the call: `[1] => [4]`.
    OffInOut,
    /// utimensat's two timespecs: `[UTIME_NOW, {tv_sec=1, tv_nsec=2}]`.
    Utimes,
    /// mknod's mode with its type: `S_IFIFO|0644`.
    MknodMode,
    /// mknod's device, shown only for device files.
    MknodDev,
    /// renameat2's flags.
    RenameFlags,
    /// flock's operation: `LOCK_EX|LOCK_NB`.
    FlockOp,
    /// fadvise64's advice.
    Fadvise,
    /// fallocate's mode.
    FallocMode,
    /// close_range's flags.
    CloseRangeFlags,
    /// setxattr's flags.
    XattrFlags,
    /// openat2's `struct open_how`.
    OpenHow,
    /// inotify_init1's flags.
    InotifyFlags,
    /// inotify_add_watch's mask.
    InotifyMask,
    /// memfd_create's flags.
    MfdFlags,
    /// eventfd2's flags.
    EfdFlags,
    /// signalfd4's flags.
    SfdFlags,
    /// getrandom's flags.
    GrndFlags,

    // --- memory ---
    /// mmap/mprotect's protection: `PROT_READ|PROT_WRITE`, `PROT_NONE`.
    Prot,
    /// mmap's flags: `MAP_PRIVATE|MAP_ANONYMOUS`.
    MapFlags,
    /// mremap's flags.
    MremapFlags,
    /// mremap's new address, shown only with MREMAP_FIXED.
    MremapAddr,
    /// madvise's advice: `MADV_DONTNEED`.
    Madvise,
    /// msync's flags.
    MsyncFlags,
    /// mlockall's flags.
    MlockallFlags,
    /// mlock2's flags.
    Mlock2Flags,

    // --- signals ---
    /// A signal: `SIGINT`.
    Signal,
    /// rt_sigprocmask's how: `SIG_BLOCK`.
    SigHow,
    /// A signal set passed in (its size is the call's last argument): `[INT TERM]`.
    SigsetIn,
    /// signalfd's mask (its size is the next argument).
    SfdMask,
    /// A signal set the call fills.
    SigsetOut,
    /// A `struct sigaction` passed in.
    SigactIn,
    /// A `struct sigaction` the call fills.
    SigactOut,
    /// rt_sigreturn's signal frame: the mask it restores, `{mask=[]}`.
    SigreturnMask,
    /// A `siginfo_t` the call fills.
    SiginfoOut,
    /// A `stack_t` passed in.
    AltstackIn,
    /// A `stack_t` the call fills.
    AltstackOut,

    // --- processes ---
    /// clone's five arguments, as strace names them: `child_stack=NULL, flags=...`.
    Clone,
    /// clone3's `struct clone_args`, with the parent tid it stores.
    Clone3,
    /// A wait status the call stores: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
    WaitStatus,
    /// wait4/waitid options: `WNOHANG`.
    WaitOptions,
    /// A `struct rusage` the call fills.
    Rusage,
    /// waitid's id type: `P_PID`.
    IdType,
    /// A resource: `RLIMIT_NOFILE`.
    Resource,
    /// A `struct rlimit` passed in.
    RlimitIn,
    /// A `struct rlimit` the call fills.
    RlimitOut,
    /// A `struct utsname` the call fills.
    Utsname,
    /// A `struct sysinfo` the call fills.
    Sysinfo,
    /// arch_prctl's code: `ARCH_SET_FS`.
    ArchCode,
    /// arch_prctl's address: a value to set, or `[0x...]` got.
    ArchAddr,
    /// prctl's option: `PR_SET_NAME`.
    PrctlOption,
    /// prctl's other arguments, as the option has them (most are omitted).
    PrctlArg,
    /// futex's operation: `FUTEX_WAIT_PRIVATE`.
    FutexOp,
    /// futex's value (not for the PI lock operations).
    FutexVal,
    /// futex's fourth argument: a timeout, or a count, as the operation has it.
    FutexTimeout,
    /// futex's second address, for the requeue operations.
    FutexAddr2,
    /// futex's last argument: a bitset or a value, as the operation has it.
    FutexVal3,
    /// A CPU set passed in (its size is the previous argument).
    CpusetIn,
    /// A CPU set the call fills (the result's bytes).
    CpusetOut,
    /// A `uid_t`/`gid_t` the call stores: `[0]`.
    IdOut,
    /// An `int` the call stores: `[0]`.
    IntOut,
    /// A pointer the call stores: `[0x...]`.
    PtrOut,
    /// A `size_t` the call stores: `[24]`.
    SizeOut,
    /// A list of group ids passed in (its count is the first argument).
    GroupsIn,
    /// A list of group ids the call fills (the result's count).
    GroupsOut,

    // --- time ---
    /// A clock: `CLOCK_MONOTONIC`.
    Clock,
    /// clock_nanosleep's and timer_settime's flags: `TIMER_ABSTIME`.
    TimerFlags,
    /// A `struct timespec` passed in.
    TimespecIn,
    /// A `struct timespec` the call fills.
    TimespecOut,
    /// nanosleep's remaining time: shown when the sleep was interrupted.
    Rem,
    /// A `struct timeval` passed in.
    TimevalIn,
    /// A `struct timeval` the call fills.
    TimevalOut,
    /// An interval timer: `ITIMER_REAL`.
    ItimerWhich,
    /// A `struct itimerval` passed in.
    ItimervalIn,
    /// A `struct itimerval` the call fills.
    ItimervalOut,
    /// A `struct itimerspec` passed in.
    ItimerspecIn,
    /// A `struct itimerspec` the call fills.
    ItimerspecOut,
    /// A `struct sigevent` passed in.
    Sigevent,
    /// time(2)'s result pointer: `[1700000000 /* date */]`.
    TimeOut,

    // --- polling ---
    /// poll's array (its count is the next argument): `[{fd=3, events=POLLIN}]`.
    PollFds,
    /// A select fd set (its size is the first argument): `[3 4]`.
    FdSet,
    /// epoll_ctl's operation: `EPOLL_CTL_ADD`.
    EpollOp,
    /// A `struct epoll_event` passed in.
    EpollEventIn,
    /// The events epoll_wait stores (the result's count).
    EpollEvents,
    /// epoll_create1's flags.
    EpollFlags,

    // --- sockets ---
    /// A socket domain: `AF_INET`.
    Domain,
    /// A socket type with its flags: `SOCK_STREAM|SOCK_CLOEXEC`.
    SockType,
    /// A socket protocol, as the domain (the first argument) names it: `IPPROTO_TCP`.
    Protocol,
    /// accept4's flags: `SOCK_CLOEXEC`.
    SockFlags,
    /// A socket address passed in (its length is the next argument).
    SockaddrIn,
    /// A socket address the call fills (its length is stored through the next argument).
    SockaddrOut,
    /// A `socklen_t *`, read before and after: `[16]`, `[128 => 16]`.
    Socklen,
    /// A socket option level: `SOL_SOCKET`.
    SockLevel,
    /// A socket option, as the level (the previous argument) names it: `SO_REUSEADDR`.
    SockOpt,
    /// setsockopt's value (its length is the next argument): `[1]`.
    OptvalIn,
    /// getsockopt's value (its length is stored through the next argument).
    OptvalOut,
    /// send/recv flags: `MSG_NOSIGNAL`.
    MsgFlags,
    /// sendmsg's `struct msghdr`.
    MsghdrIn,
    /// recvmsg's `struct msghdr`, after the call.
    MsghdrOut,
    /// shutdown's how: `SHUT_WR`.
    Shutdown,
}

/// When an argument is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Before the call.
    In,
    /// After a successful call (its address otherwise).
    Out,
    /// Before and after: the decoder combines both.
    Both,
}

impl Arg {
    /// When this kind is read.
    pub fn when(self) -> When {
        use Arg::*;
        match self {
            OutBuf | RandBuf | Cwd | IovOut | Stat | Statx | Statfs | Dirents | PipeFds
            | SigsetOut | SigactOut | SiginfoOut | AltstackOut | WaitStatus | Rusage
            | RlimitOut | Utsname | Sysinfo | CpusetOut | IdOut | IntOut | PtrOut | SizeOut
            | GroupsOut | TimespecOut | TimevalOut | ItimervalOut | ItimerspecOut | EpollEvents
            | SockaddrOut | OptvalOut | MsghdrOut | TimeOut => When::Out,
            Clone | Clone3 | Rem | ArchAddr | PrctlArg | IoctlArg | FcntlArg | Socklen
            | OffInOut => When::Both,
            _ => When::In,
        }
    }
}
