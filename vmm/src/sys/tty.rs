//! Terminals, as Linux serves them to a program: the terminal ioctls with the kernel's layouts
//! (a program's `struct termios` is the kernel's 36 bytes, not glibc's 60; `termios2` is 44,
//! `winsize` 8), served on the host terminal itself, and job control on the run's controlling
//! terminal (`Ctty`), whose session and foreground process group mvm keeps — the host's
//! terminal knows nothing of the program's groups: TIOCGPGRP/TIOCSPGRP, TIOCGSID, TIOCSCTTY,
//! TIOCNOTTY, and SIGTTIN/SIGTTOU for a background group that reads or changes it.
//!
//! The run's terminal is `-t`'s pseudo-terminal, or else mvm's own controlling terminal; the
//! first program's session (1) has it. Other terminals a program opens get the terminal
//! ioctls but no job control.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use super::sigframe::{code, SigInfo};
use super::{err, host, Args, SysError, SysResult};
use crate::task::Task;

/// The terminal requests (x86-64, `asm-generic/ioctls.h`).
pub mod req {
    pub const TCGETS: u64 = 0x5401;
    pub const TCSETS: u64 = 0x5402;
    pub const TCSETSW: u64 = 0x5403;
    pub const TCSETSF: u64 = 0x5404;
    pub const TCGETA: u64 = 0x5405;
    pub const TCSETA: u64 = 0x5406;
    pub const TCSETAW: u64 = 0x5407;
    pub const TCSETAF: u64 = 0x5408;
    pub const TCSBRK: u64 = 0x5409;
    pub const TCXONC: u64 = 0x540A;
    pub const TCFLSH: u64 = 0x540B;
    pub const TIOCEXCL: u64 = 0x540C;
    pub const TIOCNXCL: u64 = 0x540D;
    pub const TIOCSCTTY: u64 = 0x540E;
    pub const TIOCGPGRP: u64 = 0x540F;
    pub const TIOCSPGRP: u64 = 0x5410;
    pub const TIOCOUTQ: u64 = 0x5411;
    pub const TIOCSTI: u64 = 0x5412;
    pub const TIOCGWINSZ: u64 = 0x5413;
    pub const TIOCSWINSZ: u64 = 0x5414;
    pub const TIOCMGET: u64 = 0x5415;
    pub const TIOCMBIS: u64 = 0x5416;
    pub const TIOCMBIC: u64 = 0x5417;
    pub const TIOCMSET: u64 = 0x5418;
    pub const FIONREAD: u64 = 0x541B;
    pub const TIOCCONS: u64 = 0x541D;
    pub const TIOCNOTTY: u64 = 0x5422;
    pub const TIOCSETD: u64 = 0x5423;
    pub const TIOCGETD: u64 = 0x5424;
    pub const TCSBRKP: u64 = 0x5425;
    pub const TIOCGSID: u64 = 0x5429;
    pub const TCGETS2: u64 = 0x802C_542A;
    pub const TCSETS2: u64 = 0x402C_542B;
    pub const TCSETSW2: u64 = 0x402C_542C;
    pub const TCSETSF2: u64 = 0x402C_542D;
    pub const TIOCGDEV: u64 = 0x8004_5432;
    pub const TIOCVHANGUP: u64 = 0x5437;
    pub const TIOCGEXCL: u64 = 0x8004_5440;
    pub const TIOCGPTN: u64 = 0x8004_5430;
    pub const TIOCSPTLCK: u64 = 0x4004_5431;
    pub const TIOCGPTLCK: u64 = 0x8004_5439;
    pub const TIOCGPKT: u64 = 0x8004_5438;
    pub const TIOCPKT: u64 = 0x5420;
    pub const TIOCGPTPEER: u64 = 0x5441;
}

/// The kernel's `struct termios` (c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc[19]).
pub const TERMIOS_SIZE: usize = 36;
/// The kernel's `struct termios2` (termios, then c_ispeed and c_ospeed).
const TERMIOS2_SIZE: usize = 44;
/// `struct termio`.
const TERMIO_SIZE: usize = 18;
/// `struct winsize`.
const WINSIZE_SIZE: usize = 8;

/// The device number of the terminal behind host fd `h` (TIOCGDEV: the real terminal even for
/// an fd of `/dev/tty`), or `None` if it is not a terminal.
pub fn tty_dev(h: RawFd) -> Option<u32> {
    let mut dev: u32 = 0;
    // SAFETY: TIOCGDEV writes one unsigned int.
    let r = unsafe { libc::ioctl(h, req::TIOCGDEV as _, &mut dev) };
    (r == 0).then_some(dev)
}

/// The run's controlling terminal: its session and foreground process group as the program
/// sees them.
#[derive(Debug)]
pub struct Ctty {
    dev: u32,
    fd: OwnedFd,
    path: String,
    /// Its node at `path` (`O_PATH`), when `fd` is another's (mvm's `/dev/tty`): what a stat
    /// of `path` shows, since the host's /dev is not in mvm's mount namespace.
    node: Option<OwnedFd>,
    sid: AtomicI32,
    fg: AtomicI32,
    /// On `-t`'s pseudo-terminal, whether the program asked for NOFLSH (see `Ctty::relayed`);
    /// `None` on mvm's own terminal.
    noflsh: Option<AtomicBool>,
}

impl Ctty {
    /// The terminal mvm holds as `fd` (host path `path`), controlling the first program's
    /// session, with it in the foreground.
    pub fn new(fd: OwnedFd, path: String) -> Option<Ctty> {
        let dev = tty_dev(fd.as_raw_fd())?;
        Some(Ctty {
            dev,
            fd,
            path,
            node: None,
            sid: AtomicI32::new(1),
            fg: AtomicI32::new(1),
            noflsh: None,
        })
    }

    /// `-t`'s pseudo-terminal, whose input mvm relays: mvm sends the signals of the characters
    /// it relays itself (the host's pty has no session), as soon as it has written them, so the
    /// program may print its next prompt before the host's line discipline has taken the
    /// character, and the flush that discipline does then (without NOFLSH) would drop that
    /// output. The host's pty therefore always has NOFLSH; the program sees the flag as it set
    /// it, and typed-ahead input survives a `^C` (a Linux terminal discards it).
    pub fn relayed(fd: OwnedFd, path: String) -> Option<Ctty> {
        let mut t = Ctty::new(fd, path)?;
        t.noflsh = Some(AtomicBool::new(false));
        Some(t)
    }

    /// mvm's own controlling terminal, if it has one.
    pub fn of_host() -> Option<Ctty> {
        // SAFETY: plain open of the controlling terminal; the result is checked.
        let fd = unsafe {
            libc::open(
                c"/dev/tty".as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: a fresh descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let dev = tty_dev(fd.as_raw_fd())?;
        // Its name: one of mvm's standard streams is usually this terminal.
        let path = (0..3)
            .filter(|&s| tty_dev(s) == Some(dev))
            .find_map(|s| std::fs::read_link(format!("/proc/self/fd/{s}")).ok())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| pts_name(dev));
        let node = CString::new(path.as_str()).ok().and_then(|p| {
            // SAFETY: a valid path; the result is checked and owned.
            let n = unsafe { libc::open(p.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
            // SAFETY: a fresh descriptor.
            (n >= 0).then(|| unsafe { OwnedFd::from_raw_fd(n) })
        });
        let mut t = Ctty::new(fd, path)?;
        t.node = node;
        Some(t)
    }

    /// A descriptor whose stat is the terminal's node at `path()`.
    pub fn node(&self) -> RawFd {
        self.node.as_ref().unwrap_or(&self.fd).as_raw_fd()
    }

    /// Its device number (the kernel's encoding, as `/proc/PID/stat`'s tty_nr).
    pub fn dev(&self) -> u32 {
        self.dev
    }

    /// Whether host fd `h` is this terminal.
    pub fn is(&self, h: RawFd) -> bool {
        tty_dev(h) == Some(self.dev)
    }

    /// Its host path (`/dev/pts/3`): where `ttyname(3)` finds it in the program's `/dev`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// mvm's own descriptor of it (Landlock allows it; `/dev/tty` reopens it).
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The session it controls (0: none).
    pub fn session(&self) -> i32 {
        self.sid.load(Ordering::Acquire)
    }

    /// Its foreground process group.
    pub fn foreground(&self) -> i32 {
        self.fg.load(Ordering::Acquire)
    }

    /// A new open file description of it, with `flags` (`/dev/tty`, `/dev/pts/N`).
    pub fn reopen(&self, flags: i32) -> Result<OwnedFd, i32> {
        let keep = libc::O_ACCMODE | libc::O_NONBLOCK | libc::O_APPEND;
        let link = CString::new(format!("/proc/self/fd/{}", self.fd())).expect("no NUL");
        // SAFETY: a valid path; the result is a new fd we own.
        let fd = unsafe {
            libc::open(
                link.as_ptr(),
                (flags & keep) | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(crate::policy::errno());
        }
        // SAFETY: a fresh descriptor.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// `/dev/pts/N` for a pseudo-terminal's device number, else `/dev/tty`.
fn pts_name(dev: u32) -> String {
    // new_encode_dev: minor's low byte, major, then minor's high bits.
    let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    if (136..144).contains(&major) {
        format!("/dev/pts/{}", (major - 136) * 256 + minor)
    } else {
        "/dev/tty".into()
    }
}

/// The run's terminal, if host fd `h` is it and it is the caller's controlling terminal.
fn own_ctty(task: &Task, h: RawFd) -> Option<&Ctty> {
    let t = task.machine.tty.as_ref()?;
    let mine = task.me.job.ctty.load(Ordering::Acquire) && t.session() == task.me.job.sid();
    (mine && t.is(h)).then_some(t)
}

/// Linux's `tty_check_change` for the caller's use of host fd `h`: a program of a background
/// process group that reads (`SIGTTIN`) or changes (`SIGTTOU`) its controlling terminal has the
/// signal sent to its group and the call starts again once it is continued (EINTR, restarted);
/// when the signal is ignored or blocked a read fails with EIO and a change goes ahead.
pub fn job_check(task: &mut Task, h: RawFd, sig: i32) -> Result<(), SysError> {
    let Some(t) = task.machine.tty.as_ref() else {
        return Ok(());
    };
    let fg = t.foreground();
    let pgid = task.me.job.pgid();
    if fg == pgid || t.session() != task.me.job.sid() || own_ctty(task, h).is_none() {
        return Ok(());
    }
    if super::signal::ignored_or_blocked(task, sig) {
        return if sig == libc::SIGTTIN {
            err(libc::EIO)
        } else {
            Ok(())
        };
    }
    if task.machine.orphaned(pgid) {
        return err(libc::EIO);
    }
    let info = SigInfo {
        signo: sig,
        code: code::SI_KERNEL,
        ..Default::default()
    };
    super::signal::signal_group(task, pgid, info);
    err(libc::EINTR)
}

/// Whether the caller is in a background process group of the run's terminal's session (the
/// cheap test before `job_check`).
fn in_background(task: &Task) -> bool {
    task.machine
        .tty
        .as_ref()
        .is_some_and(|t| t.foreground() != task.me.job.pgid() && t.session() == task.me.job.sid())
}

/// A read of host fd `h`: a background group that reads its terminal gets SIGTTIN.
pub fn on_read(task: &mut Task, h: RawFd) -> Result<(), SysError> {
    if !in_background(task) {
        return Ok(());
    }
    job_check(task, h, libc::SIGTTIN)
}

/// A write to host fd `h`: with TOSTOP, a background group that writes its terminal gets
/// SIGTTOU.
pub fn on_write(task: &mut Task, h: RawFd) -> Result<(), SysError> {
    if !in_background(task) || own_ctty(task, h).is_none() {
        return Ok(());
    }
    let mut t = [0u8; TERMIOS_SIZE];
    // SAFETY: TCGETS writes the kernel's termios, TERMIOS_SIZE bytes.
    if unsafe { libc::ioctl(h, req::TCGETS as _, t.as_mut_ptr()) } != 0 {
        return Ok(());
    }
    let lflag = u32::from_le_bytes(t[12..16].try_into().expect("4 bytes"));
    if lflag & libc::TOSTOP == 0 {
        return Ok(());
    }
    job_check(task, h, libc::SIGTTOU)
}

/// A host ioctl on `h` with a pointer or integer argument; `slow` ones (draining output) are
/// made without the process lock.
fn host_ioctl(task: &mut Task, h: RawFd, request: u64, arg: usize, slow: bool) -> SysResult {
    // SAFETY: each caller passes a buffer of the size its request reads or writes, or an
    // integer for requests that take one.
    let call = move || unsafe { libc::ioctl(h, request as _, arg) } as isize;
    host(if slow { task.unlocked(call) } else { call() })
}

/// A request that reads `N` bytes of the program's memory.
fn set<const N: usize>(task: &mut Task, h: RawFd, request: u64, at: u64, slow: bool) -> SysResult {
    let mut buf = [0u8; N];
    task.mm.read(at, &mut buf)?;
    if let Some(wish) = noflsh_of(task, h).filter(|_| is_termios(N)) {
        let lflag = lflag_of(&mut buf);
        wish.store(*lflag & NOFLSH != 0, Ordering::Relaxed);
        *lflag |= NOFLSH;
    }
    host_ioctl(task, h, request, buf.as_mut_ptr() as usize, slow).map(|_| 0)
}

/// A request that writes `N` bytes into the program's memory.
fn get<const N: usize>(task: &mut Task, h: RawFd, request: u64, at: u64) -> SysResult {
    let mut buf = [0u8; N];
    host_ioctl(task, h, request, buf.as_mut_ptr() as usize, false)?;
    if let Some(wish) = noflsh_of(task, h).filter(|_| is_termios(N)) {
        let lflag = lflag_of(&mut buf);
        *lflag &= !NOFLSH;
        if wish.load(Ordering::Relaxed) {
            *lflag |= NOFLSH;
        }
    }
    task.mm.write(at, &buf)?;
    Ok(0)
}

/// `NOFLSH` in `c_lflag`.
const NOFLSH: u8 = libc::NOFLSH as u8;

/// Whether a request of `n` bytes carries a termios, termios2 or termio.
const fn is_termios(n: usize) -> bool {
    n == TERMIOS_SIZE || n == TERMIOS2_SIZE || n == TERMIO_SIZE
}

/// The byte of `c_lflag` that holds NOFLSH in a termios, termios2 or termio.
fn lflag_of(buf: &mut [u8]) -> &mut u8 {
    // termios and termios2: four u32 flags (c_lflag at 12); termio: four u16 (c_lflag at 6).
    if buf.len() == TERMIO_SIZE {
        &mut buf[6]
    } else {
        &mut buf[12]
    }
}

/// The program's NOFLSH wish, when `h` is `-t`'s pseudo-terminal (`Ctty::relayed`).
fn noflsh_of(task: &Task, h: RawFd) -> Option<&AtomicBool> {
    let t = task.machine.tty.as_ref()?;
    t.noflsh.as_ref().filter(|_| t.is(h))
}

/// The program's ioctl `request` on its descriptor `a[0]` (host fd `h`), if it is a terminal
/// request: `None` for others.
pub fn ioctl(task: &mut Task, h: RawFd, request: u64, a: Args) -> Option<SysResult> {
    use req::*;
    let at = a[2];
    Some(match request {
        TCGETS => get::<TERMIOS_SIZE>(task, h, request, at),
        TCGETS2 => get::<TERMIOS2_SIZE>(task, h, request, at),
        TCGETA => get::<TERMIO_SIZE>(task, h, request, at),
        TIOCGWINSZ => get::<WINSIZE_SIZE>(task, h, request, at),
        TIOCOUTQ | FIONREAD | TIOCGETD | TIOCMGET | TIOCGEXCL => get::<4>(task, h, request, at),
        // A pseudo-terminal's master (the run's own devpts: /dev/ptmx): its number, its lock,
        // packet mode, and its peer. The host refuses them on anything else (ENOTTY).
        TIOCGPTN | TIOCGPTLCK | TIOCGPKT => get::<4>(task, h, request, at),
        TIOCSPTLCK | TIOCPKT => set::<4>(task, h, request, at, false),
        TIOCGPTPEER => peer(task, h, at),
        TCSETS | TCSETSW | TCSETSF => job_check(task, h, libc::SIGTTOU)
            .and_then(|_| set::<TERMIOS_SIZE>(task, h, request, at, request != TCSETS)),
        TCSETS2 | TCSETSW2 | TCSETSF2 => job_check(task, h, libc::SIGTTOU)
            .and_then(|_| set::<TERMIOS2_SIZE>(task, h, request, at, request != TCSETS2)),
        TCSETA | TCSETAW | TCSETAF => job_check(task, h, libc::SIGTTOU)
            .and_then(|_| set::<TERMIO_SIZE>(task, h, request, at, request != TCSETA)),
        TIOCSWINSZ => set::<WINSIZE_SIZE>(task, h, request, at, false),
        TIOCMSET | TIOCMBIS | TIOCMBIC => set::<4>(task, h, request, at, false),
        TCFLSH | TCXONC => job_check(task, h, libc::SIGTTOU)
            .and_then(|_| host_ioctl(task, h, request, at as usize, false).map(|_| 0)),
        TCSBRK | TCSBRKP => host_ioctl(task, h, request, at as usize, true).map(|_| 0),
        TIOCEXCL | TIOCNXCL => host_ioctl(task, h, request, 0, false).map(|_| 0),
        TIOCSETD => match task.mm.read_obj::<i32>(at) {
            // Only the ordinary line discipline (N_TTY).
            Ok(0) => Ok(0),
            Ok(_) => err(libc::EINVAL),
            Err(f) => Err(f.into()),
        },
        // Faking input into a terminal (into the user's shell, after the program) is refused,
        // as Linux refuses it without CAP_SYS_ADMIN (dev.tty.legacy_tiocsti=0).
        TIOCSTI => err(libc::EIO),
        TIOCCONS | TIOCVHANGUP => err(libc::EPERM),
        TIOCGPGRP => {
            let Some(t) = own_ctty(task, h) else {
                return Some(err(libc::ENOTTY));
            };
            let fg = t.foreground();
            task.mm.write_obj(at, &fg).map(|_| 0).map_err(Into::into)
        }
        TIOCGSID => {
            let Some(t) = own_ctty(task, h) else {
                return Some(err(libc::ENOTTY));
            };
            let sid = t.session();
            task.mm.write_obj(at, &sid).map(|_| 0).map_err(Into::into)
        }
        TIOCSPGRP => set_foreground(task, h, at),
        TIOCSCTTY => set_ctty(task, h, at),
        TIOCNOTTY => drop_ctty(task, h),
        _ => return None,
    })
}

/// TIOCSPGRP (`tcsetpgrp`): the caller's controlling terminal gets process group `*at` of its
/// session in the foreground.
/// TIOCGPTPEER: the master's slave, opened by the host without a path, as a new descriptor
/// of the program's with the flags it asks for.
fn peer(task: &mut Task, h: RawFd, flags: u64) -> SysResult {
    let allowed = (libc::O_ACCMODE | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC) as u64;
    if flags & !allowed != 0 {
        return err(libc::EINVAL);
    }
    let own = libc::O_CLOEXEC | flags as i32 & !libc::O_CLOEXEC;
    let fd = host_ioctl(task, h, req::TIOCGPTPEER, own as usize, false)?;
    // SAFETY: a fresh descriptor the host just made.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    let path = pts_name(tty_dev(fd.as_raw_fd()).unwrap_or(0));
    let file = super::fs::OpenFile::owned(fd, Some(path.into_bytes()), true);
    task.fds.install(file, flags & libc::O_CLOEXEC as u64 != 0)
}

fn set_foreground(task: &mut Task, h: RawFd, at: u64) -> SysResult {
    if own_ctty(task, h).is_none() {
        return err(libc::ENOTTY);
    }
    job_check(task, h, libc::SIGTTOU)?;
    let pgid: i32 = task.mm.read_obj(at)?;
    if pgid < 0 {
        return err(libc::EINVAL);
    }
    let group = task.machine.group(pgid);
    if group.is_empty() {
        return err(libc::ESRCH);
    }
    if group.iter().any(|p| p.job.sid() != task.me.job.sid()) {
        return err(libc::EPERM);
    }
    let t = task.machine.tty.as_ref().expect("own_ctty found it");
    t.fg.store(pgid, Ordering::Release);
    Ok(0)
}

/// TIOCSCTTY: a session leader without a controlling terminal takes the run's terminal (if no
/// other session has it). Other terminals are accepted without job control.
fn set_ctty(task: &mut Task, h: RawFd, _steal: u64) -> SysResult {
    if tty_dev(h).is_none() {
        return err(libc::ENOTTY);
    }
    let Some(t) = task.machine.tty.as_ref().filter(|t| t.is(h)) else {
        return Ok(0);
    };
    let (pid, sid) = (task.pid(), task.me.job.sid());
    let has = task.me.job.ctty.load(Ordering::Acquire);
    if pid == sid && has && t.session() == sid {
        return Ok(0);
    }
    if pid != sid || has {
        return err(libc::EPERM);
    }
    // Another session's terminal cannot be stolen: that takes CAP_SYS_ADMIN.
    if t.sid
        .compare_exchange(0, sid, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return err(libc::EPERM);
    }
    t.fg.store(task.me.job.pgid(), Ordering::Release);
    task.me.job.ctty.store(true, Ordering::Release);
    Ok(0)
}

/// TIOCNOTTY: the caller gives up its controlling terminal; a session leader frees it for the
/// session (whose foreground group gets SIGHUP and SIGCONT, as Linux's `disassociate_ctty`).
fn drop_ctty(task: &mut Task, h: RawFd) -> SysResult {
    let Some(t) = own_ctty(task, h) else {
        return err(libc::ENOTTY);
    };
    let (sid, fg) = (t.session(), t.foreground());
    task.me.job.ctty.store(false, Ordering::Release);
    if task.pid() != sid {
        return Ok(0);
    }
    let t = task.machine.tty.as_ref().expect("own_ctty found it");
    t.sid.store(0, Ordering::Release);
    for p in task.machine.all() {
        if p.job.sid() == sid {
            p.job.ctty.store(false, Ordering::Release);
        }
    }
    for sig in [libc::SIGHUP, libc::SIGCONT] {
        let info = SigInfo {
            signo: sig,
            code: code::SI_KERNEL,
            ..Default::default()
        };
        super::signal::signal_group(task, fg, info);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_layouts() {
        // The kernel's termios is 4 flags, c_line and NCCS = 19 control characters.
        assert_eq!(TERMIOS_SIZE, 4 * 4 + 1 + 19);
        assert_eq!(TERMIOS2_SIZE, TERMIOS_SIZE + 8);
        assert_eq!(WINSIZE_SIZE, std::mem::size_of::<libc::winsize>());
        // The request numbers encode their sizes where they have one.
        assert_eq!((req::TCGETS2 >> 16) & 0x3fff, TERMIOS2_SIZE as u64);
        assert_eq!(req::TCGETS, libc::TCGETS);
        assert_eq!(req::TIOCGWINSZ, libc::TIOCGWINSZ);
        assert_eq!(req::TIOCSPGRP, libc::TIOCSPGRP);
        assert_eq!(req::TIOCGSID, libc::TIOCGSID);
    }

    #[test]
    fn pseudo_terminal_names() {
        // /dev/pts/3: major 136, minor 3; /dev/pts/300: major 137, minor 44.
        assert_eq!(pts_name((136 << 8) | 3), "/dev/pts/3");
        assert_eq!(pts_name((137 << 8) | 44), "/dev/pts/300");
        assert_eq!(pts_name((4 << 8) | 1), "/dev/tty");
    }

    #[test]
    fn a_pseudo_terminal_is_known_by_its_device() {
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty fills two fds; no name, termios or winsize.
        let r = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0);
        // SAFETY: fresh descriptors.
        let (m, s) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let name = std::fs::read_link(format!("/proc/self/fd/{}", s.as_raw_fd())).unwrap();
        let dev = tty_dev(s.as_raw_fd()).unwrap();
        assert_eq!(pts_name(dev), name.to_string_lossy());
        let t = Ctty::new(s, name.to_string_lossy().into_owned()).unwrap();
        let again = t.reopen(libc::O_RDWR).unwrap();
        assert!(t.is(again.as_raw_fd()));
        // The master reports its slave's device (as Linux's TIOCGDEV does); a pipe is none.
        assert_eq!(tty_dev(m.as_raw_fd()), Some(dev));
        let mut fds = [0i32; 2];
        // SAFETY: pipe writes two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        assert_eq!(tty_dev(fds[0]), None);
        // SAFETY: closing the descriptors just made.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
}
