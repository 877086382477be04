//! Each argument kind of the table, printed: what is passed in, before the call; what the call
//! wrote, after it.

use super::args::{Arg, When};
use super::names;
use super::structs::{self, i32_at, i64_at, read, show, u32_at, u64_at};
use super::text::{
    date, file_mode, flags, hex, lookup, makedev, named, oct, ptr, quote, signal, sigset,
    with_flags, PATHLEN, STRLEN,
};
use crate::sys::Args;
use crate::task::Task;

/// One call being printed.
pub struct Ctx<'t> {
    /// The calling thread.
    pub task: &'t mut Task,
    /// The arguments.
    pub a: Args,
    /// How the table prints them.
    pub kinds: &'static [Arg],
    /// After the call: its value, if it succeeded.
    pub ok: Option<u64>,
    /// After the call: its errno, if it failed.
    pub errno: Option<i32>,
}

/// `n` bytes of the buffer at `at` (of `len` bytes), quoted and cut at 32.
pub fn buffer(task: &mut Task, at: u64, len: u64, hex: bool) -> String {
    let n = len.min(STRLEN as u64) as usize;
    match read(task, at, n) {
        Some(b) => {
            let mut s = quote(&b, STRLEN, hex);
            if len > STRLEN as u64 {
                s.push_str("...");
            }
            s
        }
        None if n == 0 && at != 0 => "\"\"".into(),
        None => ptr(at),
    }
}

/// The NUL-terminated string at `at`, cut at `max` bytes.
pub fn cstring(task: &mut Task, at: u64, max: usize) -> String {
    if at == 0 {
        return "NULL".into();
    }
    match task.mm.read_cstr(at) {
        Ok(s) => quote(&s, max, false),
        Err(_) => ptr(at),
    }
}

/// Open flags with their access mode: `O_WRONLY|O_CREAT|O_TRUNC`.
pub fn open_flags(v: u64) -> String {
    let mode = named(v & 3, names::ACCMODE, "O_???");
    with_flags(mode, v & !3, names::OPEN)
}

fn map_flags(v: u64) -> String {
    let kind = v & 0xf;
    let huge = (v >> 26) & 0x3f;
    let rest = v & !0xf & !(0x3f << 26);
    let head = match lookup(kind, names::MAP_TYPE) {
        Some(n) => n.to_string(),
        None if kind == 0 => "MAP_FILE".into(),
        None if rest == 0 && huge == 0 => return format!("{kind:#x} /* MAP_??? */"),
        None => format!("{kind:#x}"),
    };
    let mut s = with_flags(head, rest, names::MAP);
    if huge != 0 {
        s.push_str(&format!("|{huge}<<MAP_HUGE_SHIFT"));
    }
    s
}

fn ioctl_name(req: u64) -> String {
    if let Some(n) = lookup(req, names::IOCTL) {
        return n.into();
    }
    let dir = match req >> 30 {
        0 => "_IOC_NONE",
        1 => "_IOC_WRITE",
        2 => "_IOC_READ",
        _ => "_IOC_READ|_IOC_WRITE",
    };
    format!(
        "_IOC({dir}, {:#x}, {:#x}, {})",
        (req >> 8) & 0xff,
        req & 0xff,
        hex((req >> 16) & 0x3fff)
    )
}

fn futex_op(op: u64) -> String {
    let cmd = op & !(128 | 256);
    let mut s = match lookup(cmd, names::FUTEX) {
        Some(n) => n.to_string(),
        None => return named(op, &[], "FUTEX_???"),
    };
    if op & 128 != 0 {
        s.push_str("_PRIVATE");
    }
    if op & 256 != 0 {
        s.push_str("|FUTEX_CLOCK_REALTIME");
    }
    s
}

/// FUTEX_WAKE_OP's operation word, field by field as the kernel's `FUTEX_OP()` builds it:
/// `FUTEX_OP_ADD<<28|0x5<<12|FUTEX_OP_CMP_GT<<24|0x7`.
pub fn futex_wake_op(v: u32) -> String {
    let part = |v: u64, table, unknown: &str, shift: u32| match lookup(v, table) {
        Some(n) => format!("{n}<<{shift}"),
        None => format!("{v:#x}<<{shift} /* {unknown} */"),
    };
    let shift = if v & (8 << 28) != 0 {
        "FUTEX_OP_OPARG_SHIFT<<28|"
    } else {
        ""
    };
    format!(
        "{shift}{}|{}<<12|{}|{}",
        part(((v >> 28) & 7).into(), names::FUTEX_OP, "FUTEX_OP_???", 28),
        hex(((v >> 12) & 0xfff).into()),
        part(
            ((v >> 24) & 0xf).into(),
            names::FUTEX_OP_CMP,
            "FUTEX_OP_CMP_???",
            24
        ),
        hex((v & 0xfff).into())
    )
}

/// `[N]`: an int (or, `wide`, a 64-bit value) stored at `at`.
fn int_at(task: &mut Task, at: u64, wide: bool) -> String {
    if wide {
        show(task, at, 8, |b| format!("[{}]", i64_at(b, 0)))
    } else {
        show(task, at, 4, |b| format!("[{}]", i32_at(b, 0)))
    }
}

fn sockaddr_at(task: &mut Task, at: u64, len: u64) -> String {
    if at == 0 {
        return "NULL".into();
    }
    if len == 0 {
        return ptr(at);
    }
    show(task, at, len.min(128) as usize, structs::sockaddr)
}

/// A select fd set of `nfds` bits at `at`: `[3 4]`.
pub(super) fn fdset(task: &mut Task, at: u64, nfds: u64) -> String {
    let nfds = nfds.min(1024);
    show(task, at, nfds.div_ceil(8) as usize, |b| {
        let fds: Vec<String> = (0..nfds as usize)
            .filter(|i| b[i / 8] & (1 << (i % 8)) != 0)
            .map(|i| i.to_string())
            .collect();
        format!("[{}]", fds.join(" "))
    })
}

fn utimes(task: &mut Task, at: u64) -> String {
    show(task, at, 32, |b| {
        let one = |o: usize| match u64_at(b, o + 8) {
            0x3fff_ffff => "UTIME_NOW".to_string(),
            0x3fff_fffe => "UTIME_OMIT".to_string(),
            ns => format!(
                "{} /* {} */",
                structs::timespec(&b[o..o + 16], false),
                date(i64_at(b, o), Some(ns))
            ),
        };
        format!("[{}, {}]", one(0), one(16))
    })
}

/// The futex operation's command (without the private and clock flags).
fn futex_cmd(c: &Ctx) -> u64 {
    c.a[1] & !(128 | 256)
}

/// How prctl's option uses its other arguments.
enum Prctl {
    /// None of them.
    None,
    /// The first, a number.
    One,
    /// The first, a signal.
    Signal,
    /// The first, a string passed in.
    NameIn,
    /// The first, a string stored.
    NameOut,
    /// The first, an int stored.
    IntOut,
    /// All four, numbers.
    Four,
    /// All four, in hex.
    Hex,
}

fn prctl_kind(option: u64) -> Prctl {
    match option as i32 {
        libc::PR_GET_DUMPABLE
        | libc::PR_GET_KEEPCAPS
        | libc::PR_GET_SECCOMP
        | libc::PR_GET_TIMERSLACK
        | libc::PR_GET_NO_NEW_PRIVS
        | libc::PR_GET_THP_DISABLE
        | libc::PR_GET_SECUREBITS => Prctl::None,
        libc::PR_SET_DUMPABLE
        | libc::PR_SET_KEEPCAPS
        | libc::PR_SET_TIMERSLACK
        | libc::PR_SET_CHILD_SUBREAPER
        | libc::PR_SET_SECUREBITS
        | libc::PR_CAPBSET_READ
        | libc::PR_CAPBSET_DROP => Prctl::One,
        libc::PR_SET_PDEATHSIG => Prctl::Signal,
        libc::PR_SET_NAME => Prctl::NameIn,
        libc::PR_GET_NAME => Prctl::NameOut,
        libc::PR_GET_PDEATHSIG | libc::PR_GET_CHILD_SUBREAPER => Prctl::IntOut,
        libc::PR_SET_NO_NEW_PRIVS | libc::PR_SET_THP_DISABLE => Prctl::Four,
        _ => Prctl::Hex,
    }
}

/// How an ioctl request uses its argument.
enum Ioctl {
    /// Not at all.
    None,
    /// An int passed in: `[1]`.
    IntIn,
    /// An int stored: `[0]`.
    IntOut,
    /// A termios passed in.
    TermiosIn,
    /// A termios stored.
    TermiosOut,
    /// A winsize passed in.
    WinsizeIn,
    /// A winsize stored.
    WinsizeOut,
    /// A number, in hex.
    Hex,
}

fn ioctl_kind(req: u64) -> Ioctl {
    match req {
        0x5401 => Ioctl::TermiosOut,
        0x5402..=0x5404 => Ioctl::TermiosIn,
        0x5413 => Ioctl::WinsizeOut,
        0x5414 => Ioctl::WinsizeIn,
        0x541b | 0x540f | 0x5411 | 0x5429 | 0x8004_5430 => Ioctl::IntOut,
        0x5421 | 0x5410 | 0x5452 | 0x4004_5431 => Ioctl::IntIn,
        0x5450 | 0x5451 | 0x5422 | 0x540c | 0x540d => Ioctl::None,
        _ => Ioctl::Hex,
    }
}

/// How an fcntl command uses its argument.
enum Fcntl {
    /// Not at all (the getters).
    None,
    /// A number.
    Int,
    /// Descriptor flags: `FD_CLOEXEC`.
    FdFlags,
    /// File status flags.
    Flags,
    /// A record lock passed in.
    LockIn,
    /// A record lock passed in and stored.
    LockOut,
    /// Seals.
    Seals,
    /// Unknown: hex.
    Hex,
}

fn fcntl_kind(cmd: u64) -> Fcntl {
    match cmd as i32 {
        libc::F_GETFD
        | libc::F_GETFL
        | libc::F_GETOWN
        | 11
        | libc::F_GETPIPE_SZ
        | libc::F_GET_SEALS
        | libc::F_GETLEASE => Fcntl::None,
        libc::F_DUPFD
        | libc::F_DUPFD_CLOEXEC
        | libc::F_SETOWN
        | 10
        | libc::F_SETPIPE_SZ
        | libc::F_SETLEASE
        | libc::F_NOTIFY => Fcntl::Int,
        libc::F_SETFD => Fcntl::FdFlags,
        libc::F_SETFL => Fcntl::Flags,
        libc::F_SETLK | libc::F_SETLKW | libc::F_OFD_SETLK | libc::F_OFD_SETLKW => Fcntl::LockIn,
        libc::F_GETLK | libc::F_OFD_GETLK => Fcntl::LockOut,
        libc::F_ADD_SEALS => Fcntl::Seals,
        _ => Fcntl::Hex,
    }
}

/// A signal set at `at` of `size` bytes (the only size Linux takes is 8).
fn sigset_at(task: &mut Task, at: u64, size: u64) -> String {
    if at == 0 {
        return "NULL".into();
    }
    if size != 8 {
        return ptr(at);
    }
    show(task, at, 8, |b| sigset(u64_at(b, 0)))
}

impl Ctx<'_> {
    /// The call's last argument (the sigset size of the calls that take one).
    fn last(&self) -> u64 {
        self.a[self.kinds.len().saturating_sub(1)]
    }

    /// Argument `i`, as passed in (`None`: not shown, or shown after the call).
    pub fn input(&mut self, i: usize) -> Option<String> {
        use Arg::*;
        let a = self.a[i];
        let next = self.a.get(i + 1).copied().unwrap_or(0);
        let (fcmd, last, kind) = (futex_cmd(self), self.last(), self.kinds[i]);
        let task = &mut *self.task;
        Some(match kind {
            Int | Fd => (a as i32).to_string(),
            Uint => (a as u32).to_string(),
            Long => (a as i64).to_string(),
            Ulong => a.to_string(),
            Hex => hex(a),
            Ptr => ptr(a),
            Dirfd if a as i32 == libc::AT_FDCWD => "AT_FDCWD".into(),
            Dirfd => (a as i32).to_string(),
            Mode => oct(a as u32 as u64),
            Path => cstring(task, a, PATHLEN),
            Str => cstring(task, a, STRLEN),
            InBuf => buffer(task, a, next, false),
            Argv => structs::strings(task, a),
            Envp if a == 0 => "NULL".into(),
            Envp => match structs::count(task, a) {
                Some(n) => format!("{a:#x} /* {n} vars */"),
                None => ptr(a),
            },
            IovIn => structs::iovec(task, a, next, None),
            OpenFlags => open_flags(a as u32 as u64),
            OpenMode => {
                let fl = self.a[i - 1] as u32 as i32;
                if fl & libc::O_CREAT != 0 || fl & libc::O_TMPFILE == libc::O_TMPFILE {
                    oct(a as u32 as u64)
                } else {
                    return None;
                }
            }
            FdFlags => flags(a as u32 as u64, names::OPEN, "O_???"),
            AtFlags => flags(a as u32 as u64, names::AT, "AT_???"),
            UnlinkFlags => flags(
                a as u32 as u64,
                &[(libc::AT_REMOVEDIR as u64, "AT_REMOVEDIR")],
                "AT_???",
            ),
            AccessAtFlags => flags(a as u32 as u64, names::AT_ACCESS, "AT_???"),
            StatxFlags => {
                let sync = a & libc::AT_STATX_SYNC_TYPE as u64;
                let head = lookup(sync, names::AT_STATX_SYNC)
                    .unwrap_or("AT_STATX_SYNC_AS_STAT")
                    .to_string();
                with_flags(head, a as u32 as u64 & !sync, names::AT)
            }
            StatxMask => flags(a as u32 as u64, names::STATX, "STATX_???"),
            Access if a as u32 == 0 => "F_OK".into(),
            Access => flags(a as u32 as u64, names::ACCESS, "?_OK"),
            Whence => named(a as u32 as u64, names::WHENCE, "SEEK_???"),
            FcntlCmd => named(a as u32 as u64, names::FCNTL, "F_???"),
            IoctlReq => ioctl_name(a as u32 as u64),
            OffIn | OffInOut if a == 0 => "NULL".into(),
            OffIn | OffInOut => int_at(task, a, true),
            Utimes => utimes(task, a),
            MknodMode => file_mode(a as u32 as u64),
            MknodDev => {
                let kind = self.a[i - 1] as u32 & libc::S_IFMT;
                if kind == libc::S_IFCHR || kind == libc::S_IFBLK {
                    makedev(a)
                } else {
                    return None;
                }
            }
            RenameFlags => flags(a as u32 as u64, names::RENAME, "RENAME_???"),
            FlockOp => flags(a as u32 as u64, names::FLOCK, "LOCK_???"),
            Fadvise => named(a as u32 as u64, names::FADV, "POSIX_FADV_???"),
            FallocMode => flags(a as u32 as u64, names::FALLOC, "FALLOC_FL_???"),
            CloseRangeFlags => flags(a as u32 as u64, names::CLOSE_RANGE, "CLOSE_RANGE_???"),
            XattrFlags => flags(a as u32 as u64, names::XATTR, "XATTR_???"),
            OpenHow => show(task, a, 24, structs::open_how),
            InotifyFlags => flags(a as u32 as u64, names::IN_INIT, "IN_???"),
            InotifyMask => flags(a as u32 as u64, names::IN_MASK, "IN_???"),
            MfdFlags => flags(a as u32 as u64, names::MFD, "MFD_???"),
            EfdFlags => flags(a as u32 as u64, names::EFD, "EFD_???"),
            SfdFlags => flags(a as u32 as u64, names::SFD, "SFD_???"),
            GrndFlags => flags(a as u32 as u64, names::GRND, "GRND_???"),
            Prot if a as u32 == 0 => "PROT_NONE".into(),
            Prot => flags(a as u32 as u64, names::PROT, "PROT_???"),
            MapFlags => map_flags(a as u32 as u64),
            MremapFlags => flags(a as u32 as u64, names::MREMAP, "MREMAP_???"),
            MremapAddr if self.a[3] & libc::MREMAP_FIXED as u64 != 0 => ptr(a),
            MremapAddr => return None,
            Madvise => named(a as u32 as u64, names::MADV, "MADV_???"),
            MsyncFlags => flags(a as u32 as u64, names::MS, "MS_???"),
            MlockallFlags => flags(a as u32 as u64, names::MCL, "MCL_???"),
            Mlock2Flags => flags(a as u32 as u64, names::MLOCK, "MLOCK_???"),
            Signal => signal(a as i32 as i64),
            SigHow => named(a as u32 as u64, names::SIG_HOW, "SIG_???"),
            SigsetIn => sigset_at(task, a, last),
            SfdMask => sigset_at(task, a, next),
            SigactIn => show(task, a, 32, structs::sigaction),
            SigreturnMask => {
                let at = task.sig.syscall_rsp.wrapping_sub(8)
                    + crate::sys::sigframe::UC
                    + crate::sys::sigframe::MCONTEXT
                    + 256;
                show(task, at, 8, |b| {
                    format!("{{mask={}}}", sigset(u64_at(b, 0)))
                })
            }
            AltstackIn => show(task, a, 24, structs::sigaltstack),
            Clone3 => show(task, a, 64, structs::clone_args),
            WaitOptions => flags(a as u32 as u64, names::WAIT, "W???"),
            IdType => named(a as u32 as u64, names::IDTYPE, "P_???"),
            Resource => named(a as u32 as u64, names::RLIMIT, "RLIMIT_???"),
            RlimitIn => show(task, a, 16, structs::rlimit),
            ArchCode => named(a as u32 as u64, names::ARCH, "ARCH_???"),
            ArchAddr if matches!(self.a[0], 0x1003 | 0x1004) => return None,
            ArchAddr => hex(a),
            PrctlOption => named(a as u32 as u64, names::PRCTL, "PR_???"),
            PrctlArg => match prctl_kind(self.a[0]) {
                Prctl::Four => a.to_string(),
                Prctl::Hex => hex(a),
                _ if i != 1 => return None,
                Prctl::One => a.to_string(),
                Prctl::Signal => signal(a as i32 as i64),
                Prctl::NameIn => cstring(task, a, STRLEN),
                Prctl::None | Prctl::NameOut | Prctl::IntOut => return None,
            },
            FutexOp => futex_op(a),
            FutexVal => match fcmd {
                6..=8 | 13 => return None,
                _ => (a as u32).to_string(),
            },
            FutexTimeout => match fcmd {
                0 | 6 | 9 | 11 | 13 => show(task, a, 16, |b| structs::timespec(b, false)),
                3 | 4 | 5 | 12 => (a as u32).to_string(),
                // An unknown operation's arguments are shown raw.
                14.. => ptr(a),
                _ => return None,
            },
            FutexAddr2 => match fcmd {
                3 | 4 | 5 | 11 | 12 | 14.. => ptr(a),
                _ => return None,
            },
            FutexVal3 => match fcmd {
                9 | 10 if a as u32 == u32::MAX => "FUTEX_BITSET_MATCH_ANY".into(),
                9 | 10 | 14.. => hex(a as u32 as u64),
                5 => futex_wake_op(a as u32),
                4 | 12 => (a as u32).to_string(),
                _ => return None,
            },
            CpusetIn => {
                let n = self.a[i - 1].min(1024) as usize;
                show(task, a, n, structs::cpuset)
            }
            GroupsIn => structs::array(task, a, self.a[0] as u32 as u64, 4, |_, e| {
                u32_at(e, 0).to_string()
            }),
            Clock => named(a as u32 as u64, names::CLOCK, "CLOCK_???"),
            TimerFlags => flags(a as u32 as u64, &[(1, "TIMER_ABSTIME")], "TIMER_???"),
            TimespecIn => show(task, a, 16, |b| structs::timespec(b, false)),
            TimevalIn => show(task, a, 16, |b| structs::timespec(b, true)),
            ItimerWhich => named(a as u32 as u64, names::ITIMER, "ITIMER_???"),
            ItimervalIn => show(task, a, 32, |b| structs::itimer(b, true)),
            ItimerspecIn => show(task, a, 32, |b| structs::itimer(b, false)),
            Sigevent => show(task, a, 64, structs::sigevent),
            PollFds => structs::array(task, a, next, 8, |_, e| {
                format!(
                    "{{fd={}, events={}}}",
                    i32_at(e, 0),
                    flags(structs::u16_at(e, 4), names::POLL, "POLL???")
                )
            }),
            FdSet => fdset(task, a, self.a[0] as u32 as u64),
            EpollOp => named(a as u32 as u64, names::EPOLL_CTL, "EPOLL_CTL_???"),
            EpollEventIn => show(task, a, 12, structs::epoll_event),
            EpollFlags => flags(a as u32 as u64, names::EPOLL_FLAGS, "EPOLL_???"),
            Domain => named(a as u32 as u64, names::AF, "AF_???"),
            SockType => {
                let head = named(a & 0xf, names::SOCK_TYPE, "SOCK_???");
                with_flags(head, a as u32 as u64 & !0xf, names::SOCK_FLAGS)
            }
            Protocol => match self.a[0] as i32 {
                libc::AF_INET | libc::AF_INET6 => {
                    named(a as u32 as u64, names::IPPROTO, "IPPROTO_???")
                }
                libc::AF_NETLINK if a == 0 => "NETLINK_ROUTE".into(),
                _ => (a as i32).to_string(),
            },
            SockFlags => flags(a as u32 as u64, names::SOCK_FLAGS, "SOCK_???"),
            SockaddrIn => sockaddr_at(task, a, next),
            SockLevel => named(a as u32 as u64, names::SOL, "SOL_???"),
            SockOpt => {
                let table = match self.a[1] as i32 {
                    libc::SOL_SOCKET => names::SO,
                    libc::IPPROTO_TCP => names::TCP,
                    libc::IPPROTO_IP => names::IP,
                    libc::IPPROTO_IPV6 => names::IPV6,
                    _ => return Some((a as i32).to_string()),
                };
                named(a as u32 as u64, table, "SO_???")
            }
            OptvalIn if a == 0 => "NULL".into(),
            OptvalIn if next == 4 => int_at(task, a, false),
            OptvalIn => buffer(task, a, next, false),
            MsgFlags => flags(a as u32 as u64, names::MSG, "MSG_???"),
            MsghdrIn => structs::msghdr(task, a, None),
            Shutdown => named(a as u32 as u64, names::SHUT, "SHUT_???"),
            IoctlArg => match ioctl_kind(self.a[1] as u32 as u64) {
                Ioctl::IntIn => int_at(task, a, false),
                Ioctl::TermiosIn => show(task, a, 36, structs::termios),
                Ioctl::WinsizeIn => show(task, a, 8, structs::winsize),
                Ioctl::Hex => hex(a),
                _ => return None,
            },
            FcntlArg => match fcntl_kind(self.a[1]) {
                Fcntl::Int => (a as i32).to_string(),
                Fcntl::FdFlags => flags(a as u32 as u64, &[(1, "FD_CLOEXEC")], "FD_???"),
                Fcntl::Flags => open_flags(a as u32 as u64),
                Fcntl::LockIn => show(task, a, 32, |b| structs::flock(b, false)),
                Fcntl::Seals => flags(a as u32 as u64, names::SEALS, "F_SEAL_???"),
                Fcntl::Hex => hex(a),
                Fcntl::None | Fcntl::LockOut => return None,
            },
            Socklen if a == 0 => "NULL".into(),
            Socklen => show(task, a, 4, |b| u32_at(b, 0).to_string()),
            Clone | Rem => return None,
            k => {
                debug_assert!(k.when() == When::Out, "{k:?} has no input form");
                return None;
            }
        })
    }

    /// Argument `i` after the call; `saved` is what `input` gave for it.
    pub fn output(&mut self, i: usize, saved: Option<String>) -> Option<String> {
        use Arg::*;
        let a = self.a[i];
        let next = self.a.get(i + 1).copied().unwrap_or(0);
        let (kind, last) = (self.kinds[i], self.last());
        let Some(ok) = self.ok else {
            return match kind {
                Clone => Some(self.clone_call()),
                Rem if self.errno == Some(libc::EINTR) => {
                    Some(show(self.task, a, 16, |b| structs::timespec(b, false)))
                }
                Socklen => saved.map(|s| format!("[{s}]")),
                Clone3 | OffInOut | ArchAddr | PrctlArg | IoctlArg | FcntlArg => {
                    saved.or_else(|| self.omitted(i).then(|| ptr(a)))
                }
                _ => Some(ptr(a)),
            };
        };
        let task = &mut *self.task;
        Some(match kind {
            OutBuf => buffer(task, a, ok, false),
            RandBuf => buffer(task, a, ok, true),
            Cwd => cstring(task, a, PATHLEN),
            IovOut => structs::iovec(task, a, next, Some(ok)),
            Stat => show(task, a, 144, structs::stat),
            Statx => show(task, a, 256, structs::statx),
            Statfs => show(task, a, 120, structs::statfs),
            Dirents => match read(task, a, ok.min(1 << 20) as usize) {
                Some(b) => {
                    let (mut n, mut o) = (0, 0);
                    while o + 18 < b.len() {
                        let len = structs::u16_at(&b, o + 16) as usize;
                        n += 1;
                        if len == 0 {
                            break;
                        }
                        o += len;
                    }
                    format!("{a:#x} /* {n} entries */")
                }
                None if ok == 0 => format!("{a:#x} /* 0 entries */"),
                None => ptr(a),
            },
            PipeFds => show(task, a, 8, |b| {
                format!("[{}, {}]", i32_at(b, 0), i32_at(b, 4))
            }),
            SigsetOut => sigset_at(task, a, last),
            SigactOut => show(task, a, 32, structs::sigaction),
            SiginfoOut => show(task, a, 128, structs::siginfo),
            AltstackOut => show(task, a, 24, structs::sigaltstack),
            WaitStatus if ok == 0 => ptr(a),
            WaitStatus => show(task, a, 4, |b| structs::wait_status(i32_at(b, 0))),
            Rusage => show(task, a, 32, structs::rusage),
            RlimitOut => show(task, a, 16, structs::rlimit),
            Utsname => show(task, a, 390, structs::utsname),
            Sysinfo => show(task, a, 112, structs::sysinfo),
            CpusetOut => show(task, a, ok.min(1024) as usize, structs::cpuset),
            IdOut => show(task, a, 4, |b| format!("[{}]", u32_at(b, 0))),
            IntOut => int_at(task, a, false),
            PtrOut => show(task, a, 8, |b| format!("[{}]", ptr(u64_at(b, 0)))),
            SizeOut => show(task, a, 8, |b| format!("[{}]", u64_at(b, 0))),
            GroupsOut => structs::array(task, a, ok, 4, |_, e| u32_at(e, 0).to_string()),
            TimespecOut => show(task, a, 16, |b| structs::timespec(b, false)),
            TimevalOut => show(task, a, 16, |b| structs::timespec(b, true)),
            ItimervalOut => show(task, a, 32, |b| structs::itimer(b, true)),
            ItimerspecOut => show(task, a, 32, |b| structs::itimer(b, false)),
            TimeOut => show(task, a, 8, |b| {
                format!("[{} /* {} */]", i64_at(b, 0), date(i64_at(b, 0), None))
            }),
            EpollEvents => structs::array(task, a, ok, 12, |_, e| structs::epoll_event(e)),
            SockaddrOut if a == 0 => "NULL".into(),
            SockaddrOut => {
                let len = read(task, next, 4).map_or(0, |b| u32_at(&b, 0));
                sockaddr_at(task, a, len)
            }
            OptvalOut => {
                let len = read(task, next, 4).map_or(0, |b| u32_at(&b, 0));
                if len == 4 {
                    int_at(task, a, false)
                } else {
                    buffer(task, a, len, false)
                }
            }
            MsghdrOut => structs::msghdr(task, a, Some(ok)),
            Clone => self.clone_call(),
            Clone3 => {
                let mut s = saved.unwrap_or_else(|| ptr(a));
                let parent = read(task, a, 32)
                    .filter(|b| u64_at(b, 0) & libc::CLONE_PARENT_SETTID as u64 != 0)
                    .map(|b| u64_at(&b, 24));
                if let Some(at) = parent {
                    s.push_str(&format!(" => {{parent_tid={}}}", int_at(task, at, false)));
                }
                s
            }
            Rem => ptr(a),
            Socklen if a == 0 => "NULL".into(),
            Socklen => {
                let now = show(task, a, 4, |b| u32_at(b, 0).to_string());
                match saved {
                    Some(before) if before != now => format!("[{before} => {now}]"),
                    _ => format!("[{now}]"),
                }
            }
            OffInOut => {
                let before = saved?;
                if a == 0 {
                    return Some(before);
                }
                let now = int_at(task, a, true);
                if now == before {
                    now
                } else {
                    format!("{before} => {now}")
                }
            }
            ArchAddr => match saved {
                Some(s) => s,
                None => show(task, a, 8, |b| format!("[{:#x}]", u64_at(b, 0))),
            },
            PrctlArg => match (prctl_kind(self.a[0]), i) {
                (Prctl::NameOut, 1) => cstring(task, a, STRLEN),
                (Prctl::IntOut, 1) => int_at(task, a, false),
                _ => return saved,
            },
            IoctlArg => match ioctl_kind(self.a[1] as u32 as u64) {
                Ioctl::IntOut => int_at(task, a, false),
                Ioctl::TermiosOut => show(task, a, 36, structs::termios),
                Ioctl::WinsizeOut => show(task, a, 8, structs::winsize),
                _ => return saved,
            },
            FcntlArg => match fcntl_kind(self.a[1]) {
                Fcntl::LockOut => show(task, a, 32, |b| structs::flock(b, true)),
                _ => return saved,
            },
            _ => return saved,
        })
    }

    /// Whether a value-result kind is one whose output form applies (shown as the address
    /// when the call failed).
    fn omitted(&self, i: usize) -> bool {
        match self.kinds[i] {
            Arg::ArchAddr => matches!(self.a[0], 0x1003 | 0x1004),
            Arg::PrctlArg => {
                i == 1 && matches!(prctl_kind(self.a[0]), Prctl::NameOut | Prctl::IntOut)
            }
            Arg::IoctlArg => matches!(
                ioctl_kind(self.a[1] as u32 as u64),
                Ioctl::IntOut | Ioctl::TermiosOut | Ioctl::WinsizeOut
            ),
            Arg::FcntlArg => matches!(fcntl_kind(self.a[1]), Fcntl::LockOut),
            _ => false,
        }
    }

    /// clone's arguments by name, in strace's order: stack, flags, then the tids and tls the
    /// flags use.
    fn clone_call(&mut self) -> String {
        let [fl, stack, ptid, ctid, tls, _] = self.a;
        let mut s = format!(
            "child_stack={}, flags={}",
            ptr(stack),
            structs::clone_flags(fl, false)
        );
        if fl & libc::CLONE_PARENT_SETTID as u64 != 0 {
            let tid = match self.ok {
                Some(_) => int_at(self.task, ptid, false),
                None => ptr(ptid),
            };
            s.push_str(&format!(", parent_tid={tid}"));
        }
        if fl & libc::CLONE_SETTLS as u64 != 0 {
            s.push_str(&format!(", tls={}", ptr(tls)));
        }
        if fl & (libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) as u64 != 0 {
            s.push_str(&format!(", child_tidptr={}", ptr(ctid)));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    //! The expected strings are what strace 6.1 prints for the same values.
    use super::*;

    #[test]
    fn open_flags_with_their_access_mode() {
        let o = |v: i32| open_flags(v as u32 as u64);
        assert_eq!(
            o(libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC),
            "O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC"
        );
        assert_eq!(
            o(libc::O_WRONLY
                | libc::O_APPEND
                | libc::O_NONBLOCK
                | libc::O_NOFOLLOW
                | libc::O_DIRECTORY),
            "O_WRONLY|O_APPEND|O_NONBLOCK|O_NOFOLLOW|O_DIRECTORY"
        );
        assert_eq!(o(3 | libc::O_TMPFILE), "O_ACCMODE|O_TMPFILE");
        assert_eq!(o(0x4000_0000), "O_RDONLY|0x40000000");
    }

    #[test]
    fn mmap_flags_with_type_and_huge_page_size() {
        assert_eq!(
            map_flags((libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE) as u64),
            "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE"
        );
        let v = libc::MAP_SHARED | libc::MAP_FIXED_NOREPLACE | libc::MAP_POPULATE | 21 << 26;
        assert_eq!(
            map_flags(v as u64),
            "MAP_SHARED|MAP_POPULATE|MAP_FIXED_NOREPLACE|21<<MAP_HUGE_SHIFT"
        );
        assert_eq!(map_flags(0xf), "0xf /* MAP_??? */");
    }

    #[test]
    fn ioctl_requests_by_name_or_by_their_fields() {
        assert_eq!(ioctl_name(0x5401), "TCGETS");
        assert_eq!(
            ioctl_name(0xdead_beef),
            "_IOC(_IOC_READ|_IOC_WRITE, 0xbe, 0xef, 0x1ead)"
        );
        assert_eq!(ioctl_name(0x8004_7803), "_IOC(_IOC_READ, 0x78, 0x3, 0x4)");
    }

    #[test]
    fn futex_operations_and_wake_op_words() {
        assert_eq!(futex_op(5 | 128), "FUTEX_WAKE_OP_PRIVATE");
        assert_eq!(futex_op(256), "FUTEX_WAIT|FUTEX_CLOCK_REALTIME");
        assert_eq!(futex_op(77), "0x4d /* FUTEX_??? */");
        assert_eq!(futex_op(77 | 128), "0xcd /* FUTEX_??? */");
        assert_eq!(
            futex_wake_op(0),
            "FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_EQ<<24|0"
        );
        // FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_GT, 7)
        assert_eq!(
            futex_wake_op(0x1400_5007),
            "FUTEX_OP_ADD<<28|0x5<<12|FUTEX_OP_CMP_GT<<24|0x7"
        );
        assert_eq!(
            futex_wake_op(0xa300_3fff),
            "FUTEX_OP_OPARG_SHIFT<<28|FUTEX_OP_OR<<28|0x3<<12|FUTEX_OP_CMP_LE<<24|0xfff"
        );
        assert_eq!(
            futex_wake_op(0x9900_1002),
            "FUTEX_OP_OPARG_SHIFT<<28|FUTEX_OP_ADD<<28|0x1<<12|0x9<<24 /* FUTEX_OP_CMP_??? */|0x2"
        );
    }
}
