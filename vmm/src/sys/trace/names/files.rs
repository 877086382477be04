//! Names for file arguments: open and `*at` flags, stat modes, fcntl commands, locks and
//! seals, inotify, memfd and eventfd flags, ioctl requests and termios bits, filesystem magics.

use super::Table;

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

/// signalfd4 flags.
pub static SFD: Table = libc_names![SFD_CLOEXEC, SFD_NONBLOCK];

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
