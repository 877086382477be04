//! The names `--trace` gives to numbers: errno values, signals, and the tables of flags and
//! constants of each kind of argument, in the order strace lists them. The values come from the
//! `libc` crate (or, where it has none, from the kernel's uapi headers, defined here).

/// A name table: (value, name), in printing order.
pub type Table = &'static [(u64, &'static str)];

/// `(libc::NAME as u64, "NAME")` for each name.
macro_rules! libc_names {
    ($($c:ident),* $(,)?) => { &[$((libc::$c as u64, stringify!($c))),*] };
}

/// Every errno value Linux returns, by number (41 and 58 are unused).
pub static ERRNO: Table = libc_names![
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    ENOTBLK,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENOMSG,
    EIDRM,
    ECHRNG,
    EL2NSYNC,
    EL3HLT,
    EL3RST,
    ELNRNG,
    EUNATCH,
    ENOCSI,
    EL2HLT,
    EBADE,
    EBADR,
    EXFULL,
    ENOANO,
    EBADRQC,
    EBADSLT,
    EBFONT,
    ENOSTR,
    ENODATA,
    ETIME,
    ENOSR,
    ENONET,
    ENOPKG,
    EREMOTE,
    ENOLINK,
    EADV,
    ESRMNT,
    ECOMM,
    EPROTO,
    EMULTIHOP,
    EDOTDOT,
    EBADMSG,
    EOVERFLOW,
    ENOTUNIQ,
    EBADFD,
    EREMCHG,
    ELIBACC,
    ELIBBAD,
    ELIBSCN,
    ELIBMAX,
    ELIBEXEC,
    EILSEQ,
    ERESTART,
    ESTRPIPE,
    EUSERS,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EOPNOTSUPP,
    EPFNOSUPPORT,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ENETRESET,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ESHUTDOWN,
    ETOOMANYREFS,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTDOWN,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EUCLEAN,
    ENOTNAM,
    ENAVAIL,
    EISNAM,
    EREMOTEIO,
    EDQUOT,
    ENOMEDIUM,
    EMEDIUMTYPE,
    ECANCELED,
    ENOKEY,
    EKEYEXPIRED,
    EKEYREVOKED,
    EKEYREJECTED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
];

/// The standard signals, 1 to 31, without their `SIG` prefix.
pub static SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// The kernel's O_LARGEFILE (the libc crate's is 0 on x86-64, where it is implied).
pub const O_LARGEFILE: u64 = 0o100000;

/// Open flags other than the access mode.
pub static OPEN: Table = &[
    (libc::O_CREAT as u64, "O_CREAT"),
    (libc::O_EXCL as u64, "O_EXCL"),
    (libc::O_NOCTTY as u64, "O_NOCTTY"),
    (libc::O_TRUNC as u64, "O_TRUNC"),
    (libc::O_APPEND as u64, "O_APPEND"),
    (libc::O_NONBLOCK as u64, "O_NONBLOCK"),
    (libc::O_SYNC as u64, "O_SYNC"),
    (libc::O_DSYNC as u64, "O_DSYNC"),
    (libc::O_DIRECT as u64, "O_DIRECT"),
    (O_LARGEFILE, "O_LARGEFILE"),
    (libc::O_NOFOLLOW as u64, "O_NOFOLLOW"),
    (libc::O_NOATIME as u64, "O_NOATIME"),
    (libc::O_CLOEXEC as u64, "O_CLOEXEC"),
    (libc::O_PATH as u64, "O_PATH"),
    (libc::O_TMPFILE as u64, "O_TMPFILE"),
    (libc::O_DIRECTORY as u64, "O_DIRECTORY"),
    (libc::O_ASYNC as u64, "FASYNC"),
];

/// The access modes.
pub static ACCMODE: Table = libc_names![O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE];

/// `*at` flags of the stat family, linkat, fchownat, utimensat, fchmodat2.
pub static AT: Table = libc_names![
    AT_SYMLINK_NOFOLLOW,
    AT_REMOVEDIR,
    AT_SYMLINK_FOLLOW,
    AT_NO_AUTOMOUNT,
    AT_EMPTY_PATH,
    AT_RECURSIVE,
];

/// faccessat2's flags.
pub static AT_ACCESS: Table = libc_names![AT_SYMLINK_NOFOLLOW, AT_EACCESS, AT_EMPTY_PATH];

/// statx's sync types (the bits of `AT_STATX_SYNC_TYPE`).
pub static AT_STATX_SYNC: Table = libc_names![AT_STATX_FORCE_SYNC, AT_STATX_DONT_SYNC];

/// statx masks.
pub static STATX: Table = libc_names![
    STATX_ALL,
    STATX_BASIC_STATS,
    STATX_TYPE,
    STATX_MODE,
    STATX_NLINK,
    STATX_UID,
    STATX_GID,
    STATX_ATIME,
    STATX_MTIME,
    STATX_CTIME,
    STATX_INO,
    STATX_SIZE,
    STATX_BLOCKS,
    STATX_BTIME,
    STATX_MNT_ID,
    STATX_DIOALIGN,
];

/// statx attributes.
pub static STATX_ATTR: Table = libc_names![
    STATX_ATTR_COMPRESSED,
    STATX_ATTR_IMMUTABLE,
    STATX_ATTR_APPEND,
    STATX_ATTR_NODUMP,
    STATX_ATTR_ENCRYPTED,
    STATX_ATTR_AUTOMOUNT,
    STATX_ATTR_MOUNT_ROOT,
    STATX_ATTR_VERITY,
    STATX_ATTR_DAX,
];

/// File types (`st_mode & S_IFMT`).
pub static S_IF: Table =
    libc_names![S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO];

/// The set-id and sticky bits.
pub static S_ISID: Table = libc_names![S_ISUID, S_ISGID, S_ISVTX];

/// access(2) modes (F_OK is 0).
pub static ACCESS: Table = libc_names![R_OK, W_OK, X_OK];

/// lseek's whence.
pub static WHENCE: Table = libc_names![SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE];

/// fcntl's F_SETSIG (the libc crate has none).
pub const F_SETSIG: u64 = 10;
/// fcntl's F_GETSIG.
pub const F_GETSIG: u64 = 11;

/// fcntl commands.
pub static FCNTL: Table = &[
    (libc::F_DUPFD as u64, "F_DUPFD"),
    (libc::F_GETFD as u64, "F_GETFD"),
    (libc::F_SETFD as u64, "F_SETFD"),
    (libc::F_GETFL as u64, "F_GETFL"),
    (libc::F_SETFL as u64, "F_SETFL"),
    (libc::F_GETLK as u64, "F_GETLK"),
    (libc::F_SETLK as u64, "F_SETLK"),
    (libc::F_SETLKW as u64, "F_SETLKW"),
    (libc::F_SETOWN as u64, "F_SETOWN"),
    (libc::F_GETOWN as u64, "F_GETOWN"),
    (F_SETSIG, "F_SETSIG"),
    (F_GETSIG, "F_GETSIG"),
    (15, "F_SETOWN_EX"),
    (16, "F_GETOWN_EX"),
    (libc::F_OFD_GETLK as u64, "F_OFD_GETLK"),
    (libc::F_OFD_SETLK as u64, "F_OFD_SETLK"),
    (libc::F_OFD_SETLKW as u64, "F_OFD_SETLKW"),
    (libc::F_SETLEASE as u64, "F_SETLEASE"),
    (libc::F_GETLEASE as u64, "F_GETLEASE"),
    (libc::F_NOTIFY as u64, "F_NOTIFY"),
    (libc::F_DUPFD_CLOEXEC as u64, "F_DUPFD_CLOEXEC"),
    (libc::F_SETPIPE_SZ as u64, "F_SETPIPE_SZ"),
    (libc::F_GETPIPE_SZ as u64, "F_GETPIPE_SZ"),
    (libc::F_ADD_SEALS as u64, "F_ADD_SEALS"),
    (libc::F_GET_SEALS as u64, "F_GET_SEALS"),
];

/// Record lock types.
pub static LOCK_TYPE: Table = libc_names![F_RDLCK, F_WRLCK, F_UNLCK];

/// File seals.
pub static SEALS: Table = libc_names![
    F_SEAL_SEAL,
    F_SEAL_SHRINK,
    F_SEAL_GROW,
    F_SEAL_WRITE,
    F_SEAL_FUTURE_WRITE
];

/// flock(2) operations.
pub static FLOCK: Table = libc_names![LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN];

/// posix_fadvise advice.
pub static FADV: Table = libc_names![
    POSIX_FADV_NORMAL,
    POSIX_FADV_RANDOM,
    POSIX_FADV_SEQUENTIAL,
    POSIX_FADV_WILLNEED,
    POSIX_FADV_DONTNEED,
    POSIX_FADV_NOREUSE,
];

/// fallocate modes.
pub static FALLOC: Table = libc_names![
    FALLOC_FL_KEEP_SIZE,
    FALLOC_FL_PUNCH_HOLE,
    FALLOC_FL_COLLAPSE_RANGE,
    FALLOC_FL_ZERO_RANGE,
    FALLOC_FL_INSERT_RANGE,
    FALLOC_FL_UNSHARE_RANGE,
];

/// renameat2 flags.
pub static RENAME: Table = libc_names![RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT];

/// close_range flags.
pub static CLOSE_RANGE: Table = libc_names![CLOSE_RANGE_UNSHARE, CLOSE_RANGE_CLOEXEC];

/// setxattr flags.
pub static XATTR: Table = libc_names![XATTR_CREATE, XATTR_REPLACE];

/// openat2's resolve flags.
pub static RESOLVE: Table = libc_names![
    RESOLVE_NO_XDEV,
    RESOLVE_NO_MAGICLINKS,
    RESOLVE_NO_SYMLINKS,
    RESOLVE_BENEATH,
    RESOLVE_IN_ROOT,
    RESOLVE_CACHED,
];

/// memfd_create flags.
pub static MFD: Table = libc_names![
    MFD_CLOEXEC,
    MFD_ALLOW_SEALING,
    MFD_HUGETLB,
    MFD_NOEXEC_SEAL,
    MFD_EXEC
];

/// eventfd2 flags.
pub static EFD: Table = libc_names![EFD_SEMAPHORE, EFD_CLOEXEC, EFD_NONBLOCK];

/// inotify_init1 flags.
pub static IN_INIT: Table = libc_names![IN_CLOEXEC, IN_NONBLOCK];

/// inotify event masks.
pub static IN_MASK: Table = libc_names![
    IN_ACCESS,
    IN_MODIFY,
    IN_ATTRIB,
    IN_CLOSE_WRITE,
    IN_CLOSE_NOWRITE,
    IN_OPEN,
    IN_MOVED_FROM,
    IN_MOVED_TO,
    IN_CREATE,
    IN_DELETE,
    IN_DELETE_SELF,
    IN_MOVE_SELF,
    IN_UNMOUNT,
    IN_Q_OVERFLOW,
    IN_IGNORED,
    IN_ONLYDIR,
    IN_DONT_FOLLOW,
    IN_EXCL_UNLINK,
    IN_MASK_CREATE,
    IN_MASK_ADD,
    IN_ISDIR,
    IN_ONESHOT,
];

/// getrandom flags.
pub static GRND: Table = libc_names![GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE];

/// mmap/mprotect protections.
pub static PROT: Table = &[
    (libc::PROT_READ as u64, "PROT_READ"),
    (libc::PROT_WRITE as u64, "PROT_WRITE"),
    (libc::PROT_EXEC as u64, "PROT_EXEC"),
    (0x8, "PROT_SEM"),
    (libc::PROT_GROWSDOWN as u64, "PROT_GROWSDOWN"),
    (libc::PROT_GROWSUP as u64, "PROT_GROWSUP"),
];

/// mmap's mapping types (`flags & MAP_TYPE`).
pub static MAP_TYPE: Table = libc_names![MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE];

/// mmap flags other than the type and the huge page size.
pub static MAP: Table = libc_names![
    MAP_FIXED,
    MAP_ANONYMOUS,
    MAP_32BIT,
    MAP_NORESERVE,
    MAP_POPULATE,
    MAP_NONBLOCK,
    MAP_GROWSDOWN,
    MAP_DENYWRITE,
    MAP_EXECUTABLE,
    MAP_LOCKED,
    MAP_STACK,
    MAP_HUGETLB,
    MAP_SYNC,
    MAP_FIXED_NOREPLACE,
];

/// mremap flags.
pub static MREMAP: Table = libc_names![MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP];

/// madvise advice.
pub static MADV: Table = libc_names![
    MADV_NORMAL,
    MADV_RANDOM,
    MADV_SEQUENTIAL,
    MADV_WILLNEED,
    MADV_DONTNEED,
    MADV_FREE,
    MADV_REMOVE,
    MADV_DONTFORK,
    MADV_DOFORK,
    MADV_MERGEABLE,
    MADV_UNMERGEABLE,
    MADV_HUGEPAGE,
    MADV_NOHUGEPAGE,
    MADV_DONTDUMP,
    MADV_DODUMP,
    MADV_WIPEONFORK,
    MADV_KEEPONFORK,
    MADV_COLD,
    MADV_PAGEOUT,
    MADV_POPULATE_READ,
    MADV_POPULATE_WRITE,
    MADV_DONTNEED_LOCKED,
    MADV_COLLAPSE,
    MADV_HWPOISON,
    MADV_SOFT_OFFLINE,
];

/// msync flags.
pub static MS: Table = libc_names![MS_ASYNC, MS_INVALIDATE, MS_SYNC];

/// mlockall flags.
pub static MCL: Table = libc_names![MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT];

/// mlock2 flags.
pub static MLOCK: Table = libc_names![MLOCK_ONFAULT];

/// rt_sigaction's sa_flags.
pub static SA: Table = &[
    (0x0400_0000, "SA_RESTORER"),
    (libc::SA_ONSTACK as u64, "SA_ONSTACK"),
    (libc::SA_RESTART as u64, "SA_RESTART"),
    (0x2000_0000, "SA_INTERRUPT"),
    (libc::SA_NODEFER as u64, "SA_NODEFER"),
    (libc::SA_RESETHAND as u64, "SA_RESETHAND"),
    (libc::SA_SIGINFO as u64, "SA_SIGINFO"),
    (libc::SA_NOCLDSTOP as u64, "SA_NOCLDSTOP"),
    (libc::SA_NOCLDWAIT as u64, "SA_NOCLDWAIT"),
];

/// rt_sigprocmask's how.
pub static SIG_HOW: Table = libc_names![SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK];

/// sigaltstack's ss_flags.
pub static SS: Table = &[
    (libc::SS_ONSTACK as u64, "SS_ONSTACK"),
    (libc::SS_DISABLE as u64, "SS_DISABLE"),
    (1 << 31, "SS_AUTODISARM"),
];

/// clone flags (the low byte is the exit signal).
pub static CLONE: Table = &[
    (libc::CLONE_VM as u64, "CLONE_VM"),
    (libc::CLONE_FS as u64, "CLONE_FS"),
    (libc::CLONE_FILES as u64, "CLONE_FILES"),
    (libc::CLONE_SIGHAND as u64, "CLONE_SIGHAND"),
    (libc::CLONE_PIDFD as u64, "CLONE_PIDFD"),
    (libc::CLONE_PTRACE as u64, "CLONE_PTRACE"),
    (libc::CLONE_VFORK as u64, "CLONE_VFORK"),
    (libc::CLONE_PARENT as u64, "CLONE_PARENT"),
    (libc::CLONE_THREAD as u64, "CLONE_THREAD"),
    (libc::CLONE_NEWNS as u64, "CLONE_NEWNS"),
    (libc::CLONE_SYSVSEM as u64, "CLONE_SYSVSEM"),
    (libc::CLONE_SETTLS as u64, "CLONE_SETTLS"),
    (libc::CLONE_PARENT_SETTID as u64, "CLONE_PARENT_SETTID"),
    (libc::CLONE_CHILD_CLEARTID as u64, "CLONE_CHILD_CLEARTID"),
    (libc::CLONE_UNTRACED as u64, "CLONE_UNTRACED"),
    (libc::CLONE_CHILD_SETTID as u64, "CLONE_CHILD_SETTID"),
    (libc::CLONE_NEWCGROUP as u64, "CLONE_NEWCGROUP"),
    (libc::CLONE_NEWUTS as u64, "CLONE_NEWUTS"),
    (libc::CLONE_NEWIPC as u64, "CLONE_NEWIPC"),
    (libc::CLONE_NEWUSER as u64, "CLONE_NEWUSER"),
    (libc::CLONE_NEWPID as u64, "CLONE_NEWPID"),
    (libc::CLONE_NEWNET as u64, "CLONE_NEWNET"),
    (libc::CLONE_IO as u64, "CLONE_IO"),
    (0x1_0000_0000, "CLONE_CLEAR_SIGHAND"),
    (0x2_0000_0000, "CLONE_INTO_CGROUP"),
];

/// wait4/waitid options.
pub static WAIT: Table = &[
    (libc::WNOHANG as u64, "WNOHANG"),
    (libc::WUNTRACED as u64, "WSTOPPED"),
    (libc::WEXITED as u64, "WEXITED"),
    (libc::WCONTINUED as u64, "WCONTINUED"),
    (libc::WNOWAIT as u64, "WNOWAIT"),
    (libc::__WNOTHREAD as u64, "__WNOTHREAD"),
    (libc::__WALL as u64, "__WALL"),
    (libc::__WCLONE as u64, "__WCLONE"),
];

/// waitid's id types.
pub static IDTYPE: Table = libc_names![P_ALL, P_PID, P_PGID, P_PIDFD];

/// Resource limits.
pub static RLIMIT: Table = libc_names![
    RLIMIT_CPU,
    RLIMIT_FSIZE,
    RLIMIT_DATA,
    RLIMIT_STACK,
    RLIMIT_CORE,
    RLIMIT_RSS,
    RLIMIT_NPROC,
    RLIMIT_NOFILE,
    RLIMIT_MEMLOCK,
    RLIMIT_AS,
    RLIMIT_LOCKS,
    RLIMIT_SIGPENDING,
    RLIMIT_MSGQUEUE,
    RLIMIT_NICE,
    RLIMIT_RTPRIO,
    RLIMIT_RTTIME,
];

/// arch_prctl codes.
pub static ARCH: Table = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
    (0x1021, "ARCH_GET_XCOMP_SUPP"),
    (0x1022, "ARCH_GET_XCOMP_PERM"),
    (0x1023, "ARCH_REQ_XCOMP_PERM"),
    (0x1024, "ARCH_GET_XCOMP_GUEST_PERM"),
    (0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"),
    (0x2001, "ARCH_MAP_VDSO_X32"),
    (0x2002, "ARCH_MAP_VDSO_32"),
    (0x2003, "ARCH_MAP_VDSO_64"),
    (0x5001, "ARCH_SHSTK_ENABLE"),
    (0x5002, "ARCH_SHSTK_DISABLE"),
    (0x5003, "ARCH_SHSTK_LOCK"),
    (0x5004, "ARCH_SHSTK_UNLOCK"),
    (0x5005, "ARCH_SHSTK_STATUS"),
];

/// prctl options.
pub static PRCTL: Table = libc_names![
    PR_SET_PDEATHSIG,
    PR_GET_PDEATHSIG,
    PR_GET_DUMPABLE,
    PR_SET_DUMPABLE,
    PR_GET_KEEPCAPS,
    PR_SET_KEEPCAPS,
    PR_SET_NAME,
    PR_GET_NAME,
    PR_GET_SECCOMP,
    PR_SET_SECCOMP,
    PR_CAPBSET_READ,
    PR_CAPBSET_DROP,
    PR_GET_SECUREBITS,
    PR_SET_SECUREBITS,
    PR_SET_TIMERSLACK,
    PR_GET_TIMERSLACK,
    PR_SET_MM,
    PR_SET_CHILD_SUBREAPER,
    PR_GET_CHILD_SUBREAPER,
    PR_SET_NO_NEW_PRIVS,
    PR_GET_NO_NEW_PRIVS,
    PR_SET_THP_DISABLE,
    PR_GET_THP_DISABLE,
    PR_CAP_AMBIENT,
    PR_SET_VMA,
];

/// futex commands (`op & FUTEX_CMD_MASK`).
pub static FUTEX: Table = &[
    (0, "FUTEX_WAIT"),
    (1, "FUTEX_WAKE"),
    (2, "FUTEX_FD"),
    (3, "FUTEX_REQUEUE"),
    (4, "FUTEX_CMP_REQUEUE"),
    (5, "FUTEX_WAKE_OP"),
    (6, "FUTEX_LOCK_PI"),
    (7, "FUTEX_UNLOCK_PI"),
    (8, "FUTEX_TRYLOCK_PI"),
    (9, "FUTEX_WAIT_BITSET"),
    (10, "FUTEX_WAKE_BITSET"),
    (11, "FUTEX_WAIT_REQUEUE_PI"),
    (12, "FUTEX_CMP_REQUEUE_PI"),
    (13, "FUTEX_LOCK_PI2"),
];

/// FUTEX_WAKE_OP's operations (bits 28-30 of its operation word).
pub static FUTEX_OP: Table = &[
    (0, "FUTEX_OP_SET"),
    (1, "FUTEX_OP_ADD"),
    (2, "FUTEX_OP_OR"),
    (3, "FUTEX_OP_ANDN"),
    (4, "FUTEX_OP_XOR"),
];

/// FUTEX_WAKE_OP's comparisons (bits 24-27 of its operation word).
pub static FUTEX_OP_CMP: Table = &[
    (0, "FUTEX_OP_CMP_EQ"),
    (1, "FUTEX_OP_CMP_NE"),
    (2, "FUTEX_OP_CMP_LT"),
    (3, "FUTEX_OP_CMP_LE"),
    (4, "FUTEX_OP_CMP_GT"),
    (5, "FUTEX_OP_CMP_GE"),
];

/// Clocks.
pub static CLOCK: Table = libc_names![
    CLOCK_REALTIME,
    CLOCK_MONOTONIC,
    CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_THREAD_CPUTIME_ID,
    CLOCK_MONOTONIC_RAW,
    CLOCK_REALTIME_COARSE,
    CLOCK_MONOTONIC_COARSE,
    CLOCK_BOOTTIME,
    CLOCK_REALTIME_ALARM,
    CLOCK_BOOTTIME_ALARM,
    CLOCK_TAI,
];

/// Interval timers.
pub static ITIMER: Table = libc_names![ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF];

/// sigevent notification kinds.
pub static SIGEV: Table = libc_names![SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, SIGEV_THREAD_ID];

/// poll events.
pub static POLL: Table = &[
    (libc::POLLIN as u64, "POLLIN"),
    (libc::POLLPRI as u64, "POLLPRI"),
    (libc::POLLOUT as u64, "POLLOUT"),
    (libc::POLLERR as u64, "POLLERR"),
    (libc::POLLHUP as u64, "POLLHUP"),
    (libc::POLLNVAL as u64, "POLLNVAL"),
    (libc::POLLRDNORM as u64, "POLLRDNORM"),
    (libc::POLLRDBAND as u64, "POLLRDBAND"),
    (libc::POLLWRNORM as u64, "POLLWRNORM"),
    (libc::POLLWRBAND as u64, "POLLWRBAND"),
    (0x400, "POLLMSG"),
    (libc::POLLRDHUP as u64, "POLLRDHUP"),
    (0x8000, "POLL_BUSY_LOOP"),
];

/// epoll events.
pub static EPOLL: Table = &[
    (libc::EPOLLIN as u32 as u64, "EPOLLIN"),
    (libc::EPOLLPRI as u32 as u64, "EPOLLPRI"),
    (libc::EPOLLOUT as u32 as u64, "EPOLLOUT"),
    (libc::EPOLLERR as u32 as u64, "EPOLLERR"),
    (libc::EPOLLHUP as u32 as u64, "EPOLLHUP"),
    (0x20, "EPOLLNVAL"),
    (libc::EPOLLRDNORM as u32 as u64, "EPOLLRDNORM"),
    (libc::EPOLLRDBAND as u32 as u64, "EPOLLRDBAND"),
    (libc::EPOLLWRNORM as u32 as u64, "EPOLLWRNORM"),
    (libc::EPOLLWRBAND as u32 as u64, "EPOLLWRBAND"),
    (libc::EPOLLMSG as u32 as u64, "EPOLLMSG"),
    (libc::EPOLLRDHUP as u32 as u64, "EPOLLRDHUP"),
    (libc::EPOLLEXCLUSIVE as u32 as u64, "EPOLLEXCLUSIVE"),
    (libc::EPOLLWAKEUP as u32 as u64, "EPOLLWAKEUP"),
    (libc::EPOLLONESHOT as u32 as u64, "EPOLLONESHOT"),
    (libc::EPOLLET as u32 as u64, "EPOLLET"),
];

/// epoll_ctl operations.
pub static EPOLL_CTL: Table = libc_names![EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD];

/// epoll_create1 flags.
pub static EPOLL_FLAGS: Table = libc_names![EPOLL_CLOEXEC];

/// Address families.
pub static AF: Table = libc_names![
    AF_UNSPEC,
    AF_UNIX,
    AF_INET,
    AF_AX25,
    AF_IPX,
    AF_APPLETALK,
    AF_NETROM,
    AF_BRIDGE,
    AF_ATMPVC,
    AF_X25,
    AF_INET6,
    AF_ROSE,
    AF_DECnet,
    AF_NETBEUI,
    AF_SECURITY,
    AF_KEY,
    AF_NETLINK,
    AF_PACKET,
    AF_ASH,
    AF_ECONET,
    AF_ATMSVC,
    AF_RDS,
    AF_SNA,
    AF_IRDA,
    AF_PPPOX,
    AF_WANPIPE,
    AF_LLC,
    AF_IB,
    AF_MPLS,
    AF_CAN,
    AF_TIPC,
    AF_BLUETOOTH,
    AF_IUCV,
    AF_RXRPC,
    AF_ISDN,
    AF_PHONET,
    AF_IEEE802154,
    AF_CAIF,
    AF_ALG,
    AF_NFC,
    AF_VSOCK,
    AF_XDP,
];

/// Socket types (`type & 0xf`).
pub static SOCK_TYPE: Table = &[
    (libc::SOCK_STREAM as u64, "SOCK_STREAM"),
    (libc::SOCK_DGRAM as u64, "SOCK_DGRAM"),
    (libc::SOCK_RAW as u64, "SOCK_RAW"),
    (libc::SOCK_RDM as u64, "SOCK_RDM"),
    (libc::SOCK_SEQPACKET as u64, "SOCK_SEQPACKET"),
    (libc::SOCK_DCCP as u64, "SOCK_DCCP"),
    (10, "SOCK_PACKET"),
];

/// socket/accept4 flags.
pub static SOCK_FLAGS: Table = libc_names![SOCK_CLOEXEC, SOCK_NONBLOCK];

/// IP protocols.
pub static IPPROTO: Table = libc_names![
    IPPROTO_IP,
    IPPROTO_ICMP,
    IPPROTO_IGMP,
    IPPROTO_IPIP,
    IPPROTO_TCP,
    IPPROTO_EGP,
    IPPROTO_PUP,
    IPPROTO_UDP,
    IPPROTO_IDP,
    IPPROTO_TP,
    IPPROTO_DCCP,
    IPPROTO_IPV6,
    IPPROTO_RSVP,
    IPPROTO_GRE,
    IPPROTO_ESP,
    IPPROTO_AH,
    IPPROTO_ICMPV6,
    IPPROTO_MTP,
    IPPROTO_BEETPH,
    IPPROTO_ENCAP,
    IPPROTO_PIM,
    IPPROTO_COMP,
    IPPROTO_SCTP,
    IPPROTO_UDPLITE,
    IPPROTO_MPLS,
    IPPROTO_RAW,
    IPPROTO_MPTCP,
];

/// Socket option levels, as strace names them.
pub static SOL: Table = &[
    (libc::SOL_SOCKET as u64, "SOL_SOCKET"),
    (libc::SOL_IP as u64, "SOL_IP"),
    (libc::SOL_TCP as u64, "SOL_TCP"),
    (libc::SOL_UDP as u64, "SOL_UDP"),
    (libc::SOL_IPV6 as u64, "SOL_IPV6"),
    (libc::SOL_ICMPV6 as u64, "SOL_ICMPV6"),
    (libc::SOL_RAW as u64, "SOL_RAW"),
    (libc::SOL_PACKET as u64, "SOL_PACKET"),
    (libc::SOL_NETLINK as u64, "SOL_NETLINK"),
];

/// SOL_SOCKET options.
pub static SO: Table = &[
    (libc::SO_DEBUG as u64, "SO_DEBUG"),
    (libc::SO_REUSEADDR as u64, "SO_REUSEADDR"),
    (libc::SO_TYPE as u64, "SO_TYPE"),
    (libc::SO_ERROR as u64, "SO_ERROR"),
    (libc::SO_DONTROUTE as u64, "SO_DONTROUTE"),
    (libc::SO_BROADCAST as u64, "SO_BROADCAST"),
    (libc::SO_SNDBUF as u64, "SO_SNDBUF"),
    (libc::SO_RCVBUF as u64, "SO_RCVBUF"),
    (libc::SO_KEEPALIVE as u64, "SO_KEEPALIVE"),
    (libc::SO_OOBINLINE as u64, "SO_OOBINLINE"),
    (libc::SO_NO_CHECK as u64, "SO_NO_CHECK"),
    (libc::SO_PRIORITY as u64, "SO_PRIORITY"),
    (libc::SO_LINGER as u64, "SO_LINGER"),
    (libc::SO_BSDCOMPAT as u64, "SO_BSDCOMPAT"),
    (libc::SO_REUSEPORT as u64, "SO_REUSEPORT"),
    (libc::SO_PASSCRED as u64, "SO_PASSCRED"),
    (libc::SO_PEERCRED as u64, "SO_PEERCRED"),
    (libc::SO_RCVLOWAT as u64, "SO_RCVLOWAT"),
    (libc::SO_SNDLOWAT as u64, "SO_SNDLOWAT"),
    (20, "SO_RCVTIMEO_OLD"),
    (21, "SO_SNDTIMEO_OLD"),
    (libc::SO_BINDTODEVICE as u64, "SO_BINDTODEVICE"),
    (libc::SO_TIMESTAMP as u64, "SO_TIMESTAMP_OLD"),
    (libc::SO_ACCEPTCONN as u64, "SO_ACCEPTCONN"),
    (libc::SO_PEERSEC as u64, "SO_PEERSEC"),
    (libc::SO_SNDBUFFORCE as u64, "SO_SNDBUFFORCE"),
    (libc::SO_RCVBUFFORCE as u64, "SO_RCVBUFFORCE"),
    (libc::SO_PASSSEC as u64, "SO_PASSSEC"),
    (libc::SO_MARK as u64, "SO_MARK"),
    (libc::SO_PROTOCOL as u64, "SO_PROTOCOL"),
    (libc::SO_DOMAIN as u64, "SO_DOMAIN"),
    (libc::SO_RXQ_OVFL as u64, "SO_RXQ_OVFL"),
    (libc::SO_PEEK_OFF as u64, "SO_PEEK_OFF"),
    (libc::SO_BUSY_POLL as u64, "SO_BUSY_POLL"),
    (libc::SO_INCOMING_CPU as u64, "SO_INCOMING_CPU"),
    (libc::SO_ZEROCOPY as u64, "SO_ZEROCOPY"),
];

/// SOL_TCP options.
pub static TCP: Table = libc_names![
    TCP_NODELAY,
    TCP_MAXSEG,
    TCP_CORK,
    TCP_KEEPIDLE,
    TCP_KEEPINTVL,
    TCP_KEEPCNT,
    TCP_SYNCNT,
    TCP_LINGER2,
    TCP_DEFER_ACCEPT,
    TCP_WINDOW_CLAMP,
    TCP_INFO,
    TCP_QUICKACK,
    TCP_CONGESTION,
    TCP_MD5SIG,
    TCP_THIN_LINEAR_TIMEOUTS,
    TCP_THIN_DUPACK,
    TCP_USER_TIMEOUT,
    TCP_REPAIR,
    TCP_REPAIR_QUEUE,
    TCP_QUEUE_SEQ,
    TCP_REPAIR_OPTIONS,
    TCP_FASTOPEN,
    TCP_TIMESTAMP,
    TCP_NOTSENT_LOWAT,
    TCP_CC_INFO,
    TCP_SAVE_SYN,
    TCP_SAVED_SYN,
    TCP_REPAIR_WINDOW,
    TCP_FASTOPEN_CONNECT,
    TCP_ULP,
    TCP_MD5SIG_EXT,
    TCP_FASTOPEN_KEY,
    TCP_FASTOPEN_NO_COOKIE,
    TCP_ZEROCOPY_RECEIVE,
    TCP_INQ,
];

/// SOL_IP options.
pub static IP: Table = libc_names![
    IP_TOS,
    IP_TTL,
    IP_HDRINCL,
    IP_OPTIONS,
    IP_RECVOPTS,
    IP_RETOPTS,
    IP_PKTINFO,
    IP_MTU_DISCOVER,
    IP_RECVERR,
    IP_RECVTTL,
    IP_RECVTOS,
    IP_MTU,
    IP_FREEBIND,
    IP_TRANSPARENT,
    IP_MULTICAST_IF,
    IP_MULTICAST_TTL,
    IP_MULTICAST_LOOP,
    IP_ADD_MEMBERSHIP,
    IP_DROP_MEMBERSHIP,
    IP_BIND_ADDRESS_NO_PORT,
];

/// SOL_IPV6 options.
pub static IPV6: Table = libc_names![
    IPV6_ADDRFORM,
    IPV6_2292PKTINFO,
    IPV6_CHECKSUM,
    IPV6_NEXTHOP,
    IPV6_UNICAST_HOPS,
    IPV6_MULTICAST_IF,
    IPV6_MULTICAST_HOPS,
    IPV6_MULTICAST_LOOP,
    IPV6_ADD_MEMBERSHIP,
    IPV6_DROP_MEMBERSHIP,
    IPV6_ROUTER_ALERT,
    IPV6_MTU_DISCOVER,
    IPV6_MTU,
    IPV6_RECVERR,
    IPV6_V6ONLY,
    IPV6_RECVPKTINFO,
    IPV6_PKTINFO,
    IPV6_TCLASS,
];

/// send/recv flags.
pub static MSG: Table = &[
    (libc::MSG_OOB as u64, "MSG_OOB"),
    (libc::MSG_PEEK as u64, "MSG_PEEK"),
    (libc::MSG_DONTROUTE as u64, "MSG_DONTROUTE"),
    (libc::MSG_CTRUNC as u64, "MSG_CTRUNC"),
    (0x10, "MSG_PROXY"),
    (libc::MSG_TRUNC as u64, "MSG_TRUNC"),
    (libc::MSG_DONTWAIT as u64, "MSG_DONTWAIT"),
    (libc::MSG_EOR as u64, "MSG_EOR"),
    (libc::MSG_WAITALL as u64, "MSG_WAITALL"),
    (libc::MSG_FIN as u64, "MSG_FIN"),
    (libc::MSG_SYN as u64, "MSG_SYN"),
    (libc::MSG_CONFIRM as u64, "MSG_CONFIRM"),
    (libc::MSG_RST as u64, "MSG_RST"),
    (libc::MSG_ERRQUEUE as u64, "MSG_ERRQUEUE"),
    (libc::MSG_NOSIGNAL as u64, "MSG_NOSIGNAL"),
    (libc::MSG_MORE as u64, "MSG_MORE"),
    (libc::MSG_WAITFORONE as u64, "MSG_WAITFORONE"),
    (libc::MSG_ZEROCOPY as u64, "MSG_ZEROCOPY"),
    (libc::MSG_FASTOPEN as u64, "MSG_FASTOPEN"),
    (libc::MSG_CMSG_CLOEXEC as u64, "MSG_CMSG_CLOEXEC"),
];

/// shutdown's how.
pub static SHUT: Table = libc_names![SHUT_RD, SHUT_WR, SHUT_RDWR];

/// Control message types at SOL_SOCKET.
pub static SCM: Table = libc_names![SCM_RIGHTS, SCM_CREDENTIALS];

/// ioctl requests, as strace names them on x86-64 (several numbers have two names).
pub static IOCTL: Table = &[
    (0x5401, "TCGETS"),
    (0x5402, "SNDCTL_TMR_START or TCSETS"),
    (0x5403, "SNDCTL_TMR_STOP or TCSETSW"),
    (0x5404, "SNDCTL_TMR_CONTINUE or TCSETSF"),
    (0x5405, "TCGETA"),
    (0x5406, "TCSETA"),
    (0x5407, "TCSETAW"),
    (0x5408, "TCSETAF"),
    (0x5409, "TCSBRK"),
    (0x540a, "TCXONC"),
    (0x540b, "TCFLSH"),
    (0x540c, "TIOCEXCL"),
    (0x540d, "TIOCNXCL"),
    (0x540e, "TIOCSCTTY"),
    (0x540f, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5411, "TIOCOUTQ"),
    (0x5412, "TIOCSTI"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x5415, "TIOCMGET"),
    (0x5416, "TIOCMBIS"),
    (0x5417, "TIOCMBIC"),
    (0x5418, "TIOCMSET"),
    (0x5419, "TIOCGSOFTCAR"),
    (0x541a, "TIOCSSOFTCAR"),
    (0x541b, "FIONREAD"),
    (0x541c, "TIOCLINUX"),
    (0x541d, "TIOCCONS"),
    (0x541e, "TIOCGSERIAL"),
    (0x541f, "TIOCSSERIAL"),
    (0x5420, "TIOCPKT"),
    (0x5421, "FIONBIO"),
    (0x5422, "TIOCNOTTY"),
    (0x5423, "TIOCSETD"),
    (0x5424, "TIOCGETD"),
    (0x5425, "TCSBRKP"),
    (0x5427, "TIOCSBRK"),
    (0x5428, "TIOCCBRK"),
    (0x5429, "TIOCGSID"),
    (0x802c_542a, "TCGETS2"),
    (0x402c_542b, "TCSETS2"),
    (0x8004_5430, "TIOCGPTN"),
    (0x4004_5431, "TIOCSPTLCK"),
    (0x5441, "TIOCGPTPEER"),
    (0x5450, "FIONCLEX"),
    (0x5451, "FIOCLEX"),
    (0x5452, "FIOASYNC"),
    (0x5460, "FIOQSIZE"),
    (0x8008_6601, "FS_IOC_GETFLAGS"),
    (0x4008_6602, "FS_IOC_SETFLAGS"),
    (0x8940, "FIOGETOWN"),
    (0x8901, "FIOSETOWN"),
    (0x8912, "SIOCGIFCONF"),
    (0x8927, "SIOCGIFHWADDR"),
    (0x8933, "SIOCGIFINDEX"),
];

/// termios c_iflag bits.
pub static TC_IFLAG: Table = libc_names![
    IGNBRK, BRKINT, IGNPAR, PARMRK, INPCK, ISTRIP, INLCR, IGNCR, ICRNL, IUCLC, IXON, IXANY, IXOFF,
    IMAXBEL, IUTF8,
];

/// termios c_oflag bits (after the delay fields).
pub static TC_OFLAG: Table = libc_names![OPOST, OLCUC, ONLCR, OCRNL, ONOCR, ONLRET, OFILL, OFDEL];

/// termios c_cflag bits (after the speed and the character size).
pub static TC_CFLAG: Table =
    libc_names![CSTOPB, CREAD, PARENB, PARODD, HUPCL, CLOCAL, CMSPAR, CRTSCTS];

/// termios c_lflag bits.
pub static TC_LFLAG: Table = libc_names![
    ISIG, ICANON, XCASE, ECHO, ECHOE, ECHOK, ECHONL, NOFLSH, IEXTEN, ECHOCTL, ECHOPRT, ECHOKE,
    FLUSHO, PENDIN, TOSTOP, EXTPROC,
];

/// termios speeds (`c_cflag & CBAUD`).
pub static BAUD: Table = libc_names![
    B0, B50, B75, B110, B134, B150, B200, B300, B600, B1200, B1800, B2400, B4800, B9600, B19200,
    B38400, B57600, B115200, B230400, B460800, B500000, B576000, B921600, B1000000, B1152000,
    B1500000, B2000000, B2500000, B3000000, B3500000, B4000000,
];

/// Filesystem magic numbers (statfs's f_type).
pub static FS_MAGIC: Table = &[
    (0xef53, "EXT2_SUPER_MAGIC"),
    (0x0102_1994, "TMPFS_MAGIC"),
    (0x9fa0, "PROC_SUPER_MAGIC"),
    (0x6265_6572, "SYSFS_MAGIC"),
    (0x794c_7630, "OVERLAYFS_SUPER_MAGIC"),
    (0x9123_683e, "BTRFS_SUPER_MAGIC"),
    (0x5846_5342, "XFS_SUPER_MAGIC"),
    (0x1cd1, "DEVPTS_SUPER_MAGIC"),
    (0x6367_7270, "CGROUP2_SUPER_MAGIC"),
    (0x0027_e0eb, "CGROUP_SUPER_MAGIC"),
    (0x6969, "NFS_SUPER_MAGIC"),
    (0x6573_5546, "FUSE_SUPER_MAGIC"),
    (0x7371_7368, "SQUASHFS_MAGIC"),
    (0x0102_1997, "V9FS_MAGIC"),
    (0x9660, "ISOFS_SUPER_MAGIC"),
    (0x4d44, "MSDOS_SUPER_MAGIC"),
    (0x2fc1_2fc1, "ZFS_SUPER_MAGIC"),
    (0x7372_6174, "DEBUGFS_MAGIC"),
    (0x7363_6673, "SECURITYFS_MAGIC"),
    (0xcafe_4a11, "BPF_FS_MAGIC"),
    (0x6e73_6673, "NSFS_MAGIC"),
    (0x5049_5045, "PIPEFS_MAGIC"),
    (0x534f_434b, "SOCKFS_MAGIC"),
    (0x0958_458f, "HUGETLBFS_MAGIC"),
    (0x8584_58f6, "RAMFS_MAGIC"),
];

/// statfs's f_flags.
pub static ST: Table = &[
    (0x20, "ST_VALID"),
    (libc::ST_RDONLY, "ST_RDONLY"),
    (libc::ST_NOSUID, "ST_NOSUID"),
    (libc::ST_NODEV, "ST_NODEV"),
    (libc::ST_NOEXEC, "ST_NOEXEC"),
    (libc::ST_SYNCHRONOUS, "ST_SYNCHRONOUS"),
    (libc::ST_MANDLOCK, "ST_MANDLOCK"),
    (libc::ST_NOATIME, "ST_NOATIME"),
    (libc::ST_NODIRATIME, "ST_NODIRATIME"),
    (libc::ST_RELATIME, "ST_RELATIME"),
];

/// si_code values common to every signal.
pub static SI_CODE: Table = &[
    (libc::SI_USER as u64, "SI_USER"),
    (0x80, "SI_KERNEL"),
    (libc::SI_QUEUE as u64, "SI_QUEUE"),
    (libc::SI_TIMER as u64, "SI_TIMER"),
    (libc::SI_MESGQ as u64, "SI_MESGQ"),
    (libc::SI_ASYNCIO as u64, "SI_ASYNCIO"),
    (libc::SI_SIGIO as u64, "SI_SIGIO"),
    (libc::SI_TKILL as u64, "SI_TKILL"),
];

/// SIGCHLD's si_code values.
pub static CLD: Table = libc_names![
    CLD_EXITED,
    CLD_KILLED,
    CLD_DUMPED,
    CLD_TRAPPED,
    CLD_STOPPED,
    CLD_CONTINUED,
];

/// SIGSEGV's si_code values.
pub static SEGV: Table = &[
    (1, "SEGV_MAPERR"),
    (2, "SEGV_ACCERR"),
    (3, "SEGV_BNDERR"),
    (4, "SEGV_PKUERR"),
];

/// SIGBUS's si_code values.
pub static BUS: Table = &[
    (1, "BUS_ADRALN"),
    (2, "BUS_ADRERR"),
    (3, "BUS_OBJERR"),
    (4, "BUS_MCEERR_AR"),
    (5, "BUS_MCEERR_AO"),
];

/// SIGILL's si_code values.
pub static ILL: Table = &[
    (1, "ILL_ILLOPC"),
    (2, "ILL_ILLOPN"),
    (3, "ILL_ILLADR"),
    (4, "ILL_ILLTRP"),
    (5, "ILL_PRVOPC"),
    (6, "ILL_PRVREG"),
    (7, "ILL_COPROC"),
    (8, "ILL_BADSTK"),
];

/// SIGFPE's si_code values.
pub static FPE: Table = &[
    (1, "FPE_INTDIV"),
    (2, "FPE_INTOVF"),
    (3, "FPE_FLTDIV"),
    (4, "FPE_FLTOVF"),
    (5, "FPE_FLTUND"),
    (6, "FPE_FLTRES"),
    (7, "FPE_FLTINV"),
    (8, "FPE_FLTSUB"),
];

/// SIGTRAP's si_code values.
pub static TRAP: Table = &[
    (1, "TRAP_BRKPT"),
    (2, "TRAP_TRACE"),
    (3, "TRAP_BRANCH"),
    (4, "TRAP_HWBKPT"),
];

/// `(libc::SYS_x as u64, "name")` for each `name = SYS_x`.
macro_rules! sys_names {
    ($($name:ident = $sys:ident),* $(,)?) => { &[$((libc::$sys as u64, stringify!($name))),*] };
}

/// Names of the x86-64 syscalls mvm does not serve (the served ones are in the table), so that
/// the trace names them as strace does.
pub static UNSERVED: Table = sys_names![
    shmget = SYS_shmget,
    shmat = SYS_shmat,
    shmctl = SYS_shmctl,
    sendmmsg = SYS_sendmmsg,
    recvmmsg = SYS_recvmmsg,
    semget = SYS_semget,
    semop = SYS_semop,
    semctl = SYS_semctl,
    shmdt = SYS_shmdt,
    msgget = SYS_msgget,
    msgsnd = SYS_msgsnd,
    msgrcv = SYS_msgrcv,
    msgctl = SYS_msgctl,
    setrlimit = SYS_setrlimit,
    getrusage = SYS_getrusage,
    times = SYS_times,
    ptrace = SYS_ptrace,
    syslog = SYS_syslog,
    setfsuid = SYS_setfsuid,
    setfsgid = SYS_setfsgid,
    utime = SYS_utime,
    uselib = SYS_uselib,
    personality = SYS_personality,
    ustat = SYS_ustat,
    sysfs = SYS_sysfs,
    getpriority = SYS_getpriority,
    setpriority = SYS_setpriority,
    sched_setparam = SYS_sched_setparam,
    sched_getparam = SYS_sched_getparam,
    sched_setscheduler = SYS_sched_setscheduler,
    sched_getscheduler = SYS_sched_getscheduler,
    sched_get_priority_max = SYS_sched_get_priority_max,
    sched_get_priority_min = SYS_sched_get_priority_min,
    sched_rr_get_interval = SYS_sched_rr_get_interval,
    vhangup = SYS_vhangup,
    modify_ldt = SYS_modify_ldt,
    pivot_root = SYS_pivot_root,
    adjtimex = SYS_adjtimex,
    chroot = SYS_chroot,
    sync = SYS_sync,
    acct = SYS_acct,
    settimeofday = SYS_settimeofday,
    mount = SYS_mount,
    umount2 = SYS_umount2,
    swapon = SYS_swapon,
    swapoff = SYS_swapoff,
    reboot = SYS_reboot,
    sethostname = SYS_sethostname,
    setdomainname = SYS_setdomainname,
    iopl = SYS_iopl,
    ioperm = SYS_ioperm,
    init_module = SYS_init_module,
    delete_module = SYS_delete_module,
    quotactl = SYS_quotactl,
    readahead = SYS_readahead,
    io_setup = SYS_io_setup,
    io_destroy = SYS_io_destroy,
    io_getevents = SYS_io_getevents,
    io_submit = SYS_io_submit,
    io_cancel = SYS_io_cancel,
    lookup_dcookie = SYS_lookup_dcookie,
    remap_file_pages = SYS_remap_file_pages,
    restart_syscall = SYS_restart_syscall,
    semtimedop = SYS_semtimedop,
    clock_settime = SYS_clock_settime,
    mbind = SYS_mbind,
    set_mempolicy = SYS_set_mempolicy,
    get_mempolicy = SYS_get_mempolicy,
    mq_open = SYS_mq_open,
    mq_unlink = SYS_mq_unlink,
    mq_timedsend = SYS_mq_timedsend,
    mq_timedreceive = SYS_mq_timedreceive,
    mq_notify = SYS_mq_notify,
    mq_getsetattr = SYS_mq_getsetattr,
    kexec_load = SYS_kexec_load,
    add_key = SYS_add_key,
    request_key = SYS_request_key,
    keyctl = SYS_keyctl,
    ioprio_set = SYS_ioprio_set,
    ioprio_get = SYS_ioprio_get,
    migrate_pages = SYS_migrate_pages,
    unshare = SYS_unshare,
    splice = SYS_splice,
    tee = SYS_tee,
    vmsplice = SYS_vmsplice,
    move_pages = SYS_move_pages,
    signalfd = SYS_signalfd,
    timerfd_create = SYS_timerfd_create,
    timerfd_settime = SYS_timerfd_settime,
    timerfd_gettime = SYS_timerfd_gettime,
    signalfd4 = SYS_signalfd4,
    preadv = SYS_preadv,
    pwritev = SYS_pwritev,
    rt_tgsigqueueinfo = SYS_rt_tgsigqueueinfo,
    perf_event_open = SYS_perf_event_open,
    fanotify_init = SYS_fanotify_init,
    fanotify_mark = SYS_fanotify_mark,
    name_to_handle_at = SYS_name_to_handle_at,
    open_by_handle_at = SYS_open_by_handle_at,
    clock_adjtime = SYS_clock_adjtime,
    syncfs = SYS_syncfs,
    setns = SYS_setns,
    getcpu = SYS_getcpu,
    process_vm_readv = SYS_process_vm_readv,
    process_vm_writev = SYS_process_vm_writev,
    kcmp = SYS_kcmp,
    finit_module = SYS_finit_module,
    sched_setattr = SYS_sched_setattr,
    sched_getattr = SYS_sched_getattr,
    seccomp = SYS_seccomp,
    bpf = SYS_bpf,
    execveat = SYS_execveat,
    userfaultfd = SYS_userfaultfd,
    membarrier = SYS_membarrier,
    preadv2 = SYS_preadv2,
    pwritev2 = SYS_pwritev2,
    pkey_mprotect = SYS_pkey_mprotect,
    pkey_alloc = SYS_pkey_alloc,
    pkey_free = SYS_pkey_free,
    pidfd_send_signal = SYS_pidfd_send_signal,
    io_uring_setup = SYS_io_uring_setup,
    io_uring_enter = SYS_io_uring_enter,
    io_uring_register = SYS_io_uring_register,
    open_tree = SYS_open_tree,
    move_mount = SYS_move_mount,
    fsopen = SYS_fsopen,
    fsconfig = SYS_fsconfig,
    fsmount = SYS_fsmount,
    fspick = SYS_fspick,
    pidfd_open = SYS_pidfd_open,
    pidfd_getfd = SYS_pidfd_getfd,
    process_madvise = SYS_process_madvise,
    epoll_pwait2 = SYS_epoll_pwait2,
    mount_setattr = SYS_mount_setattr,
    quotactl_fd = SYS_quotactl_fd,
    landlock_create_ruleset = SYS_landlock_create_ruleset,
    landlock_add_rule = SYS_landlock_add_rule,
    landlock_restrict_self = SYS_landlock_restrict_self,
    memfd_secret = SYS_memfd_secret,
    process_mrelease = SYS_process_mrelease,
    futex_waitv = SYS_futex_waitv,
    set_mempolicy_home_node = SYS_set_mempolicy_home_node,
    msync = SYS_msync,
    mincore = SYS_mincore,
    rt_sigqueueinfo = SYS_rt_sigqueueinfo,
    utimes = SYS_utimes,
    futimesat = SYS_futimesat,
    kexec_file_load = SYS_kexec_file_load,
    vserver = SYS_vserver,
    tuxcall = SYS_tuxcall,
    security = SYS_security,
    afs_syscall = SYS_afs_syscall,
    putpmsg = SYS_putpmsg,
    getpmsg = SYS_getpmsg,
    nfsservctl = SYS_nfsservctl,
    set_thread_area = SYS_set_thread_area,
    get_thread_area = SYS_get_thread_area,
    epoll_ctl_old = SYS_epoll_ctl_old,
    epoll_wait_old = SYS_epoll_wait_old,
    _sysctl = SYS__sysctl,
];
