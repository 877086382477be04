//! The structures the trace decodes, from their bytes as the x86-64 ABI lays them out: stat,
//! statx, statfs, sockaddr, timespec and friends, sigaction, siginfo, rlimit, utsname, sysinfo,
//! termios, and the arrays (iovec, pollfd, argv) read from guest memory. Guest memory is read
//! only through `AddressSpace::read` and `read_cstr`; what cannot be read is shown as its address.

use super::names;
use super::text::{
    file_mode, flags, hex, lookup, makedev, named, oct, ptr, quote, rlim, signal, sigset, STRLEN,
};
use crate::task::Task;

/// `n` bytes of guest memory at `at`, if mapped and readable.
pub fn read(task: &mut Task, at: u64, n: usize) -> Option<Vec<u8>> {
    if at == 0 {
        return None;
    }
    let mut b = vec![0u8; n];
    task.mm.read(at, &mut b).ok()?;
    Some(b)
}

/// The `n`-byte object at `at` shown by `f`: `NULL`, or its address if it cannot be read.
pub fn show(task: &mut Task, at: u64, n: usize, f: impl FnOnce(&[u8]) -> String) -> String {
    match read(task, at, n) {
        Some(b) => f(&b),
        None => ptr(at),
    }
}

/// Little-endian fields.
pub fn u16_at(b: &[u8], o: usize) -> u64 {
    u16::from_le_bytes([b[o], b[o + 1]]) as u64
}
/// A u32 at `o`.
pub fn u32_at(b: &[u8], o: usize) -> u64 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as u64
}
/// An i32 at `o`.
pub fn i32_at(b: &[u8], o: usize) -> i64 {
    i32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as i64
}
/// A u64 at `o`.
pub fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}
/// An i64 at `o`.
pub fn i64_at(b: &[u8], o: usize) -> i64 {
    u64_at(b, o) as i64
}

/// `struct stat`, abbreviated: `{st_mode=S_IFREG|0644, st_size=1234, ...}` (`st_rdev` instead
/// of the size for devices).
pub fn stat(b: &[u8]) -> String {
    let mode = u32_at(b, 24);
    let kind = mode & libc::S_IFMT as u64;
    let second = if kind == libc::S_IFCHR as u64 || kind == libc::S_IFBLK as u64 {
        format!("st_rdev={}", makedev(u64_at(b, 40)))
    } else {
        format!("st_size={}", i64_at(b, 48))
    };
    format!("{{st_mode={}, {second}, ...}}", file_mode(mode))
}

/// `struct statx`, abbreviated.
pub fn statx(b: &[u8]) -> String {
    let mode = u16_at(b, 28);
    let kind = mode & libc::S_IFMT as u64;
    let second = if kind == libc::S_IFCHR as u64 || kind == libc::S_IFBLK as u64 {
        format!(
            "stx_rdev_major={}, stx_rdev_minor={}",
            u32_at(b, 128),
            u32_at(b, 132)
        )
    } else {
        format!("stx_size={}", u64_at(b, 40))
    };
    format!(
        "{{stx_mask={}, stx_attributes={}, stx_mode={}, {second}, ...}}",
        flags(u32_at(b, 0), names::STATX, "STATX_???"),
        flags(u64_at(b, 8), names::STATX_ATTR, "STATX_ATTR_???"),
        file_mode(mode)
    )
}

/// `struct statfs`.
pub fn statfs(b: &[u8]) -> String {
    format!(
        "{{f_type={}, f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, f_ffree={}, \
         f_fsid={{val=[{}, {}]}}, f_namelen={}, f_frsize={}, f_flags={}}}",
        lookup(u64_at(b, 0), names::FS_MAGIC).map_or_else(|| hex(u64_at(b, 0)), str::to_string),
        i64_at(b, 8),
        u64_at(b, 16),
        u64_at(b, 24),
        u64_at(b, 32),
        u64_at(b, 40),
        u64_at(b, 48),
        hex(u32_at(b, 56)),
        hex(u32_at(b, 60)),
        i64_at(b, 64),
        i64_at(b, 72),
        flags(u64_at(b, 80), names::ST, "ST_???")
    )
}

/// `struct timespec` (or timeval, with `usec`).
pub fn timespec(b: &[u8], usec: bool) -> String {
    let unit = if usec { "tv_usec" } else { "tv_nsec" };
    format!("{{tv_sec={}, {unit}={}}}", i64_at(b, 0), u64_at(b, 8))
}

/// `struct itimerval` (or itimerspec, without `usec`).
pub fn itimer(b: &[u8], usec: bool) -> String {
    format!(
        "{{it_interval={}, it_value={}}}",
        timespec(&b[..16], usec),
        timespec(&b[16..32], usec)
    )
}

/// `struct rlimit`.
pub fn rlimit(b: &[u8]) -> String {
    format!(
        "{{rlim_cur={}, rlim_max={}}}",
        rlim(u64_at(b, 0)),
        rlim(u64_at(b, 8))
    )
}

/// The kernel's `struct sigaction`: handler, flags, restorer, mask.
pub fn sigaction(b: &[u8]) -> String {
    let handler = match u64_at(b, 0) {
        0 => "SIG_DFL".to_string(),
        1 => "SIG_IGN".to_string(),
        h => format!("{h:#x}"),
    };
    let fl = u64_at(b, 8);
    let mut s = format!(
        "{{sa_handler={handler}, sa_mask={}, sa_flags={}",
        sigset(u64_at(b, 24)),
        flags(fl, names::SA, "SA_???")
    );
    if fl & 0x0400_0000 != 0 {
        s.push_str(&format!(", sa_restorer={}", ptr(u64_at(b, 16))));
    }
    s.push('}');
    s
}

/// `stack_t`.
pub fn sigaltstack(b: &[u8]) -> String {
    format!(
        "{{ss_sp={}, ss_flags={}, ss_size={}}}",
        ptr(u64_at(b, 0)),
        flags(u32_at(b, 8), names::SS, "SS_???"),
        u64_at(b, 16)
    )
}

/// `siginfo_t` (128 bytes), as strace shows a delivered or a waited-for signal.
pub fn siginfo(b: &[u8]) -> String {
    let signo = i32_at(b, 0);
    let code = i32_at(b, 8);
    let table = match signo as i32 {
        _ if code <= 0 || code == 0x80 => names::SI_CODE,
        libc::SIGCHLD => names::CLD,
        libc::SIGSEGV => names::SEGV,
        libc::SIGBUS => names::BUS,
        libc::SIGILL => names::ILL,
        libc::SIGFPE => names::FPE,
        libc::SIGTRAP => names::TRAP,
        _ => names::SI_CODE,
    };
    let code_name = lookup(code as u64, table).map_or_else(|| code.to_string(), str::to_string);
    let mut s = format!("{{si_signo={}, si_code={code_name}", signal(signo));
    let fault = matches!(
        signo as i32,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP
    );
    if code == libc::SI_TIMER as i64 {
        let v = u64_at(b, 24);
        s.push_str(&format!(
            ", si_timerid={}, si_overrun={}, si_int={}, si_ptr={}",
            i32_at(b, 16),
            i32_at(b, 20),
            v as i32,
            ptr(v)
        ));
    } else if code <= 0 {
        s.push_str(&format!(
            ", si_pid={}, si_uid={}",
            i32_at(b, 16),
            u32_at(b, 20)
        ));
        if code == libc::SI_QUEUE as i64 {
            let v = u64_at(b, 24);
            s.push_str(&format!(", si_int={}, si_ptr={}", v as i32, ptr(v)));
        }
    } else if fault {
        s.push_str(&format!(", si_addr={}", ptr(u64_at(b, 16))));
    } else if signo == libc::SIGCHLD as i64 {
        let status = i32_at(b, 24);
        let status = if code == libc::CLD_EXITED as i64 {
            status.to_string()
        } else {
            signal(status)
        };
        s.push_str(&format!(
            ", si_pid={}, si_uid={}, si_status={status}, si_utime={}, si_stime={}",
            i32_at(b, 16),
            u32_at(b, 20),
            i64_at(b, 32),
            i64_at(b, 40)
        ));
    }
    s.push('}');
    s
}

/// A wait status, as wait4 stores it: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
pub fn wait_status(s: i64) -> String {
    let s = s as i32;
    let inner = if s == 0xffff {
        "WIFCONTINUED(s)".to_string()
    } else if s & 0x7f == 0 {
        format!("WIFEXITED(s) && WEXITSTATUS(s) == {}", (s >> 8) & 0xff)
    } else if s & 0xff == 0x7f {
        format!(
            "WIFSTOPPED(s) && WSTOPSIG(s) == {}",
            signal(((s >> 8) & 0xff) as i64)
        )
    } else {
        let core = if s & 0x80 != 0 {
            " && WCOREDUMP(s)"
        } else {
            ""
        };
        format!(
            "WIFSIGNALED(s) && WTERMSIG(s) == {}{core}",
            signal((s & 0x7f) as i64)
        )
    };
    format!("[{{{inner}}}]")
}

/// `struct rusage`, abbreviated.
pub fn rusage(b: &[u8]) -> String {
    format!(
        "{{ru_utime={}, ru_stime={}, ...}}",
        timespec(&b[0..16], true),
        timespec(&b[16..32], true)
    )
}

/// `struct utsname`, abbreviated.
pub fn utsname(b: &[u8]) -> String {
    let field = |i: usize| {
        let f = &b[i * 65..(i + 1) * 65];
        let n = f.iter().position(|&c| c == 0).unwrap_or(65);
        quote(&f[..n], 65, false)
    };
    format!("{{sysname={}, nodename={}, ...}}", field(0), field(1))
}

/// `struct sysinfo`.
pub fn sysinfo(b: &[u8]) -> String {
    format!(
        "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, bufferram={}, \
         totalswap={}, freeswap={}, procs={}, totalhigh={}, freehigh={}, mem_unit={}}}",
        i64_at(b, 0),
        u64_at(b, 8),
        u64_at(b, 16),
        u64_at(b, 24),
        u64_at(b, 32),
        u64_at(b, 40),
        u64_at(b, 48),
        u64_at(b, 56),
        u64_at(b, 64),
        u64_at(b, 72),
        u16_at(b, 80),
        u64_at(b, 88),
        u64_at(b, 96),
        u32_at(b, 104)
    )
}

/// `struct flock` (`l_pid` too, for F_GETLK's answer).
pub fn flock(b: &[u8], with_pid: bool) -> String {
    let mut s = format!(
        "{{l_type={}, l_whence={}, l_start={}, l_len={}",
        named(u16_at(b, 0), names::LOCK_TYPE, "F_???"),
        named(u16_at(b, 2), names::WHENCE, "SEEK_???"),
        i64_at(b, 8),
        i64_at(b, 16)
    );
    if with_pid {
        s.push_str(&format!(", l_pid={}", i32_at(b, 24)));
    }
    s.push('}');
    s
}

/// `struct winsize`.
pub fn winsize(b: &[u8]) -> String {
    format!(
        "{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}",
        u16_at(b, 0),
        u16_at(b, 2),
        u16_at(b, 4),
        u16_at(b, 6)
    )
}

/// The kernel's `struct termios` (TCGETS and TCSETS*), abbreviated.
pub fn termios(b: &[u8]) -> String {
    let (i, o, c, l) = (u32_at(b, 0), u32_at(b, 4), u32_at(b, 8), u32_at(b, 12));
    let delay = |mask: u64, shift: u32, name: &str| format!("{name}{}", (o & mask) >> shift);
    let oflag = [
        delay(0o400, 8, "NL"),
        delay(0o3000, 9, "CR"),
        delay(0o14000, 11, "TAB"),
        delay(0o20000, 13, "BS"),
        delay(0o40000, 14, "VT"),
        delay(0o100000, 15, "FF"),
    ]
    .join("|");
    let orest = o & !0o177400;
    let oflag = if orest == 0 {
        oflag
    } else {
        format!("{oflag}|{}", flags(orest, names::TC_OFLAG, "O???"))
    };
    let baud = named(c & libc::CBAUD as u64, names::BAUD, "B???");
    let size = format!("CS{}", 5 + ((c & libc::CSIZE as u64) >> 4));
    let crest = c & !(libc::CBAUD as u64 | libc::CSIZE as u64);
    let mut cflag = format!("{baud}|{size}");
    if crest != 0 {
        cflag = format!("{cflag}|{}", flags(crest, names::TC_CFLAG, "C???"));
    }
    format!(
        "{{c_iflag={}, c_oflag={oflag}, c_cflag={cflag}, c_lflag={}, ...}}",
        flags(i, names::TC_IFLAG, "I???"),
        flags(l, names::TC_LFLAG, "L???")
    )
}

/// `struct epoll_event` (12 bytes, packed).
pub fn epoll_event(b: &[u8]) -> String {
    let data = u64_at(b, 4);
    format!(
        "{{events={}, data={{u32={}, u64={}}}}}",
        flags(u32_at(b, 0), names::EPOLL, "EPOLL???"),
        data as u32,
        data
    )
}

/// `struct sigevent`.
pub fn sigevent(b: &[u8]) -> String {
    let value = u64_at(b, 0);
    let notify = i32_at(b, 12);
    let mut s = String::from("{");
    if value != 0 {
        s.push_str(&format!(
            "sigev_value={{sival_int={}, sival_ptr={}}}, ",
            value as i32,
            ptr(value)
        ));
    }
    s.push_str(&format!(
        "sigev_signo={}, sigev_notify={}",
        signal(i32_at(b, 8)),
        named(notify as u64, names::SIGEV, "SIGEV_???")
    ));
    if notify == libc::SIGEV_THREAD_ID as i64 {
        s.push_str(&format!(", sigev_notify_thread_id={}", i32_at(b, 16)));
    }
    s.push('}');
    s
}

/// Clone flags with the exit signal: `CLONE_VM|CLONE_FS|...|SIGCHLD`. clone(2) takes only
/// the low 32 bits (`wide` false: the others are shown in hex); clone3 all 64.
pub fn clone_flags(fl: u64, wide: bool) -> String {
    let sig = fl & 0xff;
    let high = if wide { 0 } else { fl & !0xffff_ffff };
    let (mut parts, rest) = super::text::flag_names(fl & !0xff & !high, names::CLONE);
    if rest | high != 0 {
        parts.push(format!("{:#x}", rest | high));
    }
    if sig != 0 {
        parts.push(signal(sig as i64));
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join("|")
    }
}

/// `struct clone_args` (clone3).
pub fn clone_args(b: &[u8]) -> String {
    let fl = u64_at(b, 0);
    let mut s = format!("{{flags={}", clone_flags(fl, true));
    if fl & libc::CLONE_PIDFD as u64 != 0 {
        s.push_str(&format!(", pidfd={}", ptr(u64_at(b, 8))));
    }
    if fl & (libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) as u64 != 0 {
        s.push_str(&format!(", child_tid={}", ptr(u64_at(b, 16))));
    }
    if fl & libc::CLONE_PARENT_SETTID as u64 != 0 {
        s.push_str(&format!(", parent_tid={}", ptr(u64_at(b, 24))));
    }
    let exit = u64_at(b, 32);
    s.push_str(&format!(
        ", exit_signal={}, stack={}, stack_size={}",
        if exit == 0 {
            "0".into()
        } else {
            signal(exit as i64)
        },
        ptr(u64_at(b, 40)),
        hex(u64_at(b, 48))
    ));
    if fl & libc::CLONE_SETTLS as u64 != 0 {
        s.push_str(&format!(", tls={}", ptr(u64_at(b, 56))));
    }
    s.push('}');
    s
}

/// A socket address of `b.len()` bytes.
pub fn sockaddr(b: &[u8]) -> String {
    if b.len() < 2 {
        return format!("{{sa_family={}}}", quote(b, STRLEN, false));
    }
    let fam = u16_at(b, 0);
    let family = named(fam, names::AF, "AF_???");
    let port = |o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
    match fam as i32 {
        libc::AF_INET if b.len() >= 8 => format!(
            "{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}\")}}",
            port(2),
            std::net::Ipv4Addr::new(b[4], b[5], b[6], b[7])
        ),
        libc::AF_INET6 if b.len() >= 24 => {
            let addr: [u8; 16] = b[8..24].try_into().unwrap();
            let scope = if b.len() >= 28 { u32_at(b, 24) } else { 0 };
            format!(
                "{{sa_family=AF_INET6, sin6_port=htons({}), sin6_flowinfo=htonl({}), \
                 inet_pton(AF_INET6, \"{}\", &sin6_addr), sin6_scope_id={scope}}}",
                port(2),
                u32::from_be_bytes(b[4..8].try_into().unwrap()),
                std::net::Ipv6Addr::from(addr)
            )
        }
        libc::AF_UNIX => {
            let path = &b[2..];
            if path.is_empty() {
                "{sa_family=AF_UNIX}".into()
            } else if path[0] == 0 {
                format!(
                    "{{sa_family=AF_UNIX, sun_path=@{}}}",
                    quote(&path[1..], super::text::PATHLEN, false)
                )
            } else {
                let n = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                format!(
                    "{{sa_family=AF_UNIX, sun_path={}}}",
                    quote(&path[..n], super::text::PATHLEN, false)
                )
            }
        }
        libc::AF_NETLINK if b.len() >= 12 => format!(
            "{{sa_family=AF_NETLINK, nl_pid={}, nl_groups={:08x}}}",
            u32_at(b, 4),
            u32_at(b, 8)
        ),
        _ => format!(
            "{{sa_family={family}, sa_data={}}}",
            quote(&b[2..], STRLEN, false)
        ),
    }
}

/// A CPU set: `[0 1]`.
pub fn cpuset(b: &[u8]) -> String {
    let cpus: Vec<String> = (0..b.len() * 8)
        .filter(|i| b[i / 8] & (1 << (i % 8)) != 0)
        .map(|i| i.to_string())
        .collect();
    format!("[{}]", cpus.join(" "))
}

/// `struct open_how` (openat2).
pub fn open_how(b: &[u8]) -> String {
    format!(
        "{{flags={}, mode={}, resolve={}}}",
        super::decode::open_flags(u64_at(b, 0)),
        oct(u64_at(b, 8)),
        flags(u64_at(b, 16), names::RESOLVE, "RESOLVE_???")
    )
}

/// An array of `n` elements of `size` bytes at `at`, each shown by `f`: `[a, b, ...]`, at most
/// 32 elements.
pub fn array(
    task: &mut Task,
    at: u64,
    n: u64,
    size: usize,
    mut f: impl FnMut(&mut Task, &[u8]) -> String,
) -> String {
    if at == 0 {
        return "NULL".into();
    }
    let shown = n.min(STRLEN as u64) as usize;
    let Some(b) = read(task, at, shown * size) else {
        return ptr(at);
    };
    let mut items: Vec<String> = b.chunks(size).map(|e| f(task, e)).collect();
    if n > shown as u64 {
        items.push("...".into());
    }
    format!("[{}]", items.join(", "))
}

/// iovecs, each with its data: the first `limit` bytes in all (all of each with `None`).
pub fn iovec(task: &mut Task, at: u64, n: u64, limit: Option<u64>) -> String {
    let mut left = limit;
    array(task, at, n, 16, |task, e| {
        let (base, len) = (u64_at(e, 0), u64_at(e, 8));
        let take = left.map_or(len, |l| l.min(len));
        if let Some(l) = left.as_mut() {
            *l -= take;
        }
        format!(
            "{{iov_base={}, iov_len={len}}}",
            super::decode::buffer(task, base, take, false)
        )
    })
}

/// The strings of a NULL-terminated array (execve's argv): `["ls", "-l"]`.
pub fn strings(task: &mut Task, at: u64) -> String {
    if at == 0 {
        return "NULL".into();
    }
    let mut items = Vec::new();
    for i in 0.. {
        let Some(p) = read(task, at + 8 * i, 8).map(|b| u64_at(&b, 0)) else {
            return ptr(at);
        };
        if p == 0 {
            break;
        }
        if items.len() == STRLEN {
            items.push("...".into());
            break;
        }
        items.push(super::decode::cstring(task, p, STRLEN));
    }
    format!("[{}]", items.join(", "))
}

/// How many entries a NULL-terminated pointer array has (execve's envp), if readable.
pub fn count(task: &mut Task, at: u64) -> Option<u64> {
    let mut n = 0;
    while read(task, at + 8 * n, 8).map(|b| u64_at(&b, 0))? != 0 {
        n += 1;
        if n > 1 << 20 {
            return None;
        }
    }
    Some(n)
}

/// A `struct msghdr` (sendmsg, and recvmsg's after the call, whose data is `limit` bytes).
pub fn msghdr(task: &mut Task, at: u64, limit: Option<u64>) -> String {
    let Some(b) = read(task, at, 56) else {
        return ptr(at);
    };
    let (name, namelen) = (u64_at(&b, 0), u32_at(&b, 8));
    let name = if name == 0 || namelen == 0 {
        ptr(name)
    } else {
        show(task, name, namelen.min(128) as usize, sockaddr)
    };
    let (iov, iovlen) = (u64_at(&b, 16), u64_at(&b, 24));
    let (control, controllen) = (u64_at(&b, 32), u64_at(&b, 40));
    let mut s = format!(
        "{{msg_name={name}, msg_namelen={namelen}, msg_iov={}, msg_iovlen={iovlen}, ",
        iovec(task, iov, iovlen, limit)
    );
    if controllen > 0 {
        s.push_str(&format!(
            "msg_control={}, ",
            cmsgs(task, control, controllen)
        ));
    }
    s.push_str(&format!(
        "msg_controllen={controllen}, msg_flags={}}}",
        flags(u32_at(&b, 48), names::MSG, "MSG_???")
    ));
    s
}

/// Control messages: `[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3]}]`.
fn cmsgs(task: &mut Task, at: u64, len: u64) -> String {
    match read(task, at, len.min(4096) as usize) {
        Some(b) => control(&b),
        None => ptr(at),
    }
}

/// The control messages of a control buffer, as `cmsgs` shows them.
fn control(b: &[u8]) -> String {
    let mut items = Vec::new();
    let mut o = 0;
    while o + 16 <= b.len() {
        let clen = u64_at(b, o) as usize;
        let (level, kind) = (i32_at(b, o + 8), i32_at(b, o + 12));
        let mut s = format!(
            "{{cmsg_len={clen}, cmsg_level={}, cmsg_type=",
            named(level as u64, names::SOL, "SOL_???")
        );
        let data = &b[(o + 16).min(b.len())..(o + clen.max(16)).min(b.len())];
        if level == libc::SOL_SOCKET as i64 && kind == libc::SCM_RIGHTS as i64 {
            let fds: Vec<String> = data
                .chunks_exact(4)
                .map(|c| i32_at(c, 0).to_string())
                .collect();
            s.push_str(&format!("SCM_RIGHTS, cmsg_data=[{}]}}", fds.join(", ")));
        } else {
            let name = if level == libc::SOL_SOCKET as i64 {
                named(kind as u64, names::SCM, "SCM_???")
            } else {
                hex(kind as u64)
            };
            s.push_str(&format!(
                "{name}, cmsg_data={}}}",
                quote(data, STRLEN, false)
            ));
        }
        items.push(s);
        if clen < 16 {
            break;
        }
        o += (clen + 7) & !7;
    }
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    //! The expected strings are what strace 6.1 prints for the same bytes.
    use super::*;

    /// `size` zero bytes with each `(offset, bytes)` written in.
    fn bytes(size: usize, fields: &[(usize, &[u8])]) -> Vec<u8> {
        let mut b = vec![0u8; size];
        for (o, v) in fields {
            b[*o..*o + v.len()].copy_from_slice(v);
        }
        b
    }

    fn bit(sig: i32) -> u64 {
        1 << (sig - 1)
    }

    #[test]
    fn stat_shows_mode_and_size_or_device() {
        let file = bytes(
            144,
            &[(24, &0o100640u32.to_le_bytes()), (48, &51u64.to_le_bytes())],
        );
        assert_eq!(stat(&file), "{st_mode=S_IFREG|0640, st_size=51, ...}");
        let null = bytes(
            144,
            &[
                (24, &0o20666u32.to_le_bytes()),
                (40, &0x103u64.to_le_bytes()),
            ],
        );
        assert_eq!(
            stat(&null),
            "{st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}"
        );
    }

    #[test]
    fn socket_addresses_of_each_family() {
        let inet = bytes(
            16,
            &[(0, &[2, 0]), (2, &1u16.to_be_bytes()), (4, &[127, 0, 0, 1])],
        );
        assert_eq!(
            sockaddr(&inet),
            r#"{sa_family=AF_INET, sin_port=htons(1), sin_addr=inet_addr("127.0.0.1")}"#
        );
        let addr: std::net::Ipv6Addr = "fe80::1:2".parse().unwrap();
        let inet6 = bytes(
            28,
            &[
                (0, &[10, 0]),
                (2, &8080u16.to_be_bytes()),
                (4, &7u32.to_be_bytes()),
                (8, &addr.octets()),
                (24, &3u32.to_le_bytes()),
            ],
        );
        assert_eq!(
            sockaddr(&inet6),
            "{sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(7), \
             inet_pton(AF_INET6, \"fe80::1:2\", &sin6_addr), sin6_scope_id=3}"
        );
        let path = bytes(110, &[(0, &[1, 0]), (2, b"/nonexistent/socket")]);
        assert_eq!(
            sockaddr(&path),
            r#"{sa_family=AF_UNIX, sun_path="/nonexistent/socket"}"#
        );
        let abstract_ = bytes(11, &[(0, &[1, 0]), (3, b"abs\x01name")]);
        assert_eq!(
            sockaddr(&abstract_),
            r#"{sa_family=AF_UNIX, sun_path=@"abs\1name"}"#
        );
    }

    #[test]
    fn sigaction_with_and_without_a_restorer() {
        let handled = bytes(
            32,
            &[
                (0, &0x401615u64.to_le_bytes()),
                (8, &(0x0400_0000u64 | libc::SA_RESTART as u64).to_le_bytes()),
                (16, &0x409070u64.to_le_bytes()),
                (24, &(bit(libc::SIGINT) | bit(libc::SIGTERM)).to_le_bytes()),
            ],
        );
        assert_eq!(
            sigaction(&handled),
            "{sa_handler=0x401615, sa_mask=[INT TERM], sa_flags=SA_RESTORER|SA_RESTART, \
             sa_restorer=0x409070}"
        );
        assert_eq!(
            sigaction(&[0; 32]),
            "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}"
        );
        let ignored = bytes(32, &[(0, &1u64.to_le_bytes())]);
        assert_eq!(
            sigaction(&ignored),
            "{sa_handler=SIG_IGN, sa_mask=[], sa_flags=0}"
        );
    }

    #[test]
    fn siginfo_as_its_signal_and_code_have_it() {
        let child = |code: i32, status: i32| {
            bytes(
                128,
                &[
                    (0, &libc::SIGCHLD.to_le_bytes()),
                    (8, &code.to_le_bytes()),
                    (16, &3i32.to_le_bytes()),
                    (24, &status.to_le_bytes()),
                ],
            )
        };
        assert_eq!(
            siginfo(&child(libc::CLD_EXITED, 3)),
            "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=3, si_uid=0, si_status=3, \
             si_utime=0, si_stime=0}"
        );
        assert_eq!(
            siginfo(&child(libc::CLD_KILLED, libc::SIGSEGV)),
            "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=3, si_uid=0, si_status=SIGSEGV, \
             si_utime=0, si_stime=0}"
        );
        let fault = bytes(
            128,
            &[
                (0, &libc::SIGSEGV.to_le_bytes()),
                (8, &1i32.to_le_bytes()),
                (16, &8u64.to_le_bytes()),
            ],
        );
        assert_eq!(
            siginfo(&fault),
            "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x8}"
        );
        let user = bytes(
            128,
            &[(0, &libc::SIGUSR1.to_le_bytes()), (16, &1i32.to_le_bytes())],
        );
        assert_eq!(
            siginfo(&user),
            "{si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0}"
        );
    }

    #[test]
    fn wait_statuses_limits_and_times() {
        assert_eq!(wait_status(0), "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]");
        assert_eq!(
            wait_status(3 << 8),
            "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]"
        );
        assert_eq!(
            wait_status(libc::SIGSEGV as i64),
            "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV}]"
        );
        let limits =
            |cur: u64, max: u64| bytes(16, &[(0, &cur.to_le_bytes()), (8, &max.to_le_bytes())]);
        assert_eq!(
            rlimit(&limits(1 << 20, u64::MAX)),
            "{rlim_cur=1024*1024, rlim_max=RLIM64_INFINITY}"
        );
        assert_eq!(
            rlimit(&limits(1000, 4096)),
            "{rlim_cur=1000, rlim_max=4*1024}"
        );
        let five = bytes(32, &[(16, &5u64.to_le_bytes())]);
        assert_eq!(
            itimer(&five, true),
            "{it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=5, tv_usec=0}}"
        );
        let ms = bytes(16, &[(8, &1_000_000u64.to_le_bytes())]);
        assert_eq!(timespec(&ms, false), "{tv_sec=0, tv_nsec=1000000}");
    }

    #[test]
    fn clone_flags_epoll_events_and_small_structs() {
        let weird = (libc::CLONE_SIGHAND | libc::CLONE_VFORK | libc::CLONE_NEWNS) as u64
            | 1 << 32
            | libc::SIGUSR1 as u64;
        assert_eq!(
            clone_flags(weird, false),
            "CLONE_SIGHAND|CLONE_VFORK|CLONE_NEWNS|0x100000000|SIGUSR1"
        );
        let fork = (libc::CLONE_CHILD_CLEARTID | libc::CLONE_CHILD_SETTID | libc::SIGCHLD) as u64;
        assert_eq!(
            clone_flags(fork, false),
            "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"
        );
        let ev = bytes(
            12,
            &[
                (0, &(libc::EPOLLIN | libc::EPOLLET).to_le_bytes()),
                (4, &0x1_0000_0007u64.to_le_bytes()),
            ],
        );
        assert_eq!(
            epoll_event(&ev),
            "{events=EPOLLIN|EPOLLET, data={u32=7, u64=4294967303}}"
        );
        let disabled = bytes(24, &[(8, &libc::SS_DISABLE.to_le_bytes())]);
        assert_eq!(
            sigaltstack(&disabled),
            "{ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}"
        );
        let uts = bytes(390, &[(0, b"Linux"), (65, b"vm")]);
        assert_eq!(utsname(&uts), r#"{sysname="Linux", nodename="vm", ...}"#);
    }
}
