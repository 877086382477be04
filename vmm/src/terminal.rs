//! `-t`: the program's terminal is a pseudo-terminal that mvm makes (openpty on the host), as
//! Docker's and podman's `-t` give a container one. mvm relays the pty's output to its own
//! stdout and, with `-i`, its own stdin to the pty, with its own terminal in raw mode meanwhile
//! (restored on every way out: the run's end, the program stopping, a panic). The pty's line
//! discipline (echo, line editing, `^C` echoed) is the host kernel's; the signals it would send
//! to the terminal's foreground process group go to the program's foreground group instead
//! (the host's pty has no session: the program's groups are mvm's to know), as does SIGWINCH
//! when mvm's own window changes size.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, Weak};

use vmm_sys_util::eventfd::EventFd;

use crate::seccomp::{Filters, Kind};
use crate::sys::sigframe::{code, SigInfo};
use crate::task::Machine;

/// mvm's own terminal as it was before raw mode, for the panic hook.
static SAVED: Mutex<Option<(RawFd, libc::termios)>> = Mutex::new(None);

fn tcgetattr(fd: RawFd) -> Option<libc::termios> {
    // SAFETY: a plain struct filled by the host.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is valid for writing.
    (unsafe { libc::tcgetattr(fd, &mut t) } == 0).then_some(t)
}

fn tcsetattr(fd: RawFd, t: &libc::termios) {
    // SAFETY: `t` is a valid termios.
    unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, t) };
}

fn isatty(fd: RawFd) -> bool {
    // SAFETY: plain query.
    unsafe { libc::isatty(fd) == 1 }
}

/// The window size of mvm's own terminal (its stdout's, else stdin's or stderr's).
fn window_size() -> Option<libc::winsize> {
    [1, 0, 2].into_iter().find_map(|fd| {
        // SAFETY: a plain struct filled by the host.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ writes one winsize.
        (unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0).then_some(ws)
    })
}

/// Puts mvm's stdin, a terminal, in raw mode (as `cfmakeraw`, keeping output processing:
/// the pty does the program's) and remembers how it was.
fn enter_raw() {
    let Some(old) = tcgetattr(0) else { return };
    let mut raw = old;
    // SAFETY: `raw` is a valid termios.
    unsafe { libc::cfmakeraw(&mut raw) };
    raw.c_oflag = old.c_oflag;
    let mut saved = SAVED.lock().unwrap();
    if saved.is_none() {
        *saved = Some((0, old));
    }
    tcsetattr(0, &raw);
}

/// Puts mvm's terminal back as it was before `enter_raw`.
pub fn restore() {
    if let Some((fd, t)) = SAVED.lock().unwrap().take() {
        tcsetattr(fd, &t);
    }
}

/// The run's pseudo-terminal and its relay threads.
pub struct Pty {
    master: Arc<OwnedFd>,
    slave: Option<OwnedFd>,
    name: String,
    raw: bool,
    stop: Arc<EventFd>,
    input: Option<std::thread::JoinHandle<()>>,
    output: Option<std::thread::JoinHandle<()>>,
}

type Opened = (OwnedFd, OwnedFd, String);

/// A pseudo-terminal of the host's devpts (openpty).
fn open_on_host(ws: Option<&libc::winsize>) -> std::io::Result<Opened> {
    let (mut m, mut s) = (-1, -1);
    let mut name = [0 as libc::c_char; 64];
    let wsp = ws.map_or(std::ptr::null(), |w| w as *const _);
    // SAFETY: openpty fills two fds and the name (64 bytes is more than it writes).
    if unsafe { libc::openpty(&mut m, &mut s, name.as_mut_ptr(), std::ptr::null(), wsp) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors, owned here.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
    for fd in [&master, &slave] {
        // SAFETY: plain fcntl on an fd we own.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: openpty wrote a NUL-terminated name.
    let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    Ok((master, slave, name))
}

/// A pseudo-terminal of the devpts instance whose root is `devpts`: its `ptmx`, unlocked, and
/// the peer the kernel opens for it (no path needed).
fn open_in(devpts: BorrowedFd, ws: Option<&libc::winsize>) -> std::io::Result<Opened> {
    let last = || std::io::Error::last_os_error();
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: openat relative to a directory fd we hold, with a static name.
    let m = unsafe { libc::openat(devpts.as_raw_fd(), c"ptmx".as_ptr(), flags) };
    if m < 0 {
        return Err(last());
    }
    // SAFETY: a fresh descriptor, owned here.
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    let (unlock, mut n) = (0 as libc::c_int, 0 as libc::c_int);
    // SAFETY: the pty ioctls with pointers to locals; TIOCGPTPEER returns a new fd.
    let s = unsafe {
        if libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) < 0
            || libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) < 0
        {
            return Err(last());
        }
        libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags)
    };
    if s < 0 {
        return Err(last());
    }
    // SAFETY: a fresh descriptor, owned here.
    let slave = unsafe { OwnedFd::from_raw_fd(s) };
    if let Some(w) = ws {
        // SAFETY: TIOCSWINSZ with a valid winsize.
        unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, w) };
    }
    Ok((master, slave, format!("/dev/pts/{n}")))
}

impl Pty {
    /// A new pseudo-terminal the size of mvm's own terminal, made in the run's own devpts
    /// instance `devpts` when it has one (the program sees /dev/pts/0, as in a container), else
    /// on the host's. `interactive` (`-i`): mvm's stdin is relayed to it (and put in raw mode
    /// when it is a terminal).
    pub fn open(interactive: bool, devpts: Option<BorrowedFd>) -> std::io::Result<Pty> {
        let ws = window_size();
        let (master, slave, name) = match devpts {
            Some(d) => open_in(d, ws.as_ref())?,
            None => open_on_host(ws.as_ref())?,
        };
        // The signal characters' flush would drop output (`sys::tty::Ctty::relayed`).
        if let Some(mut t) = tcgetattr(slave.as_raw_fd()) {
            t.c_lflag |= libc::NOFLSH;
            // SAFETY: `t` is a valid termios.
            unsafe { libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t) };
        }
        Ok(Pty {
            master: Arc::new(master),
            slave: Some(slave),
            name,
            raw: interactive && isatty(0),
            stop: Arc::new(EventFd::new(libc::EFD_CLOEXEC | libc::EFD_NONBLOCK)?),
            input: None,
            output: None,
        })
    }

    /// The slave's name (`/dev/pts/N`, in the devpts instance it was made in).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A descriptor of the slave: the program's stdin, stdout and stderr, and the run's
    /// controlling terminal.
    pub fn slave(&self) -> std::io::Result<OwnedFd> {
        self.slave.as_ref().expect("before start").try_clone()
    }

    /// Starts relaying: the pty's output to mvm's stdout; with `-i`, mvm's stdin to the pty,
    /// the characters that make signals sent to the foreground group of `machine`.
    pub fn start(&mut self, interactive: bool, machine: Weak<Machine>) -> std::io::Result<()> {
        // mvm keeps no slave of its own: the relay ends when the program's last one closes.
        self.slave = None;
        if self.raw {
            enter_raw();
        }
        let filters = Arc::new(Filters::new(Kind::Relay).map_err(std::io::Error::other)?);
        let (master, confined) = (self.master.clone(), filters.clone());
        self.output = Some(
            std::thread::Builder::new()
                .name("mvm-pty-out".into())
                .stack_size(64 << 10)
                .spawn(move || {
                    confined.apply_or_exit();
                    relay_output(&master)
                })?,
        );
        if interactive {
            let (master, stop) = (self.master.clone(), self.stop.clone());
            self.input = Some(
                std::thread::Builder::new()
                    .name("mvm-pty-in".into())
                    .stack_size(64 << 10)
                    .spawn(move || {
                        filters.apply_or_exit();
                        relay_input(&master, &stop, &machine)
                    })?,
            );
        }
        Ok(())
    }

    /// mvm's window changed: the pty takes its size.
    pub fn resize(&self) {
        if let Some(ws) = window_size() {
            // SAFETY: TIOCSWINSZ reads one winsize.
            unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        }
    }

    /// The program stopped: mvm's terminal goes back to how it was (mvm is about to stop).
    pub fn suspend(&self) {
        if self.raw {
            restore();
        }
    }

    /// mvm continued: raw mode again.
    pub fn resume(&self) {
        if self.raw {
            enter_raw();
        }
        self.resize();
    }

    /// The run ended: the output the program left is written out (until its last descriptor
    /// of the pty is closed, or a second passes), the input relay stops, mvm's terminal is
    /// restored.
    pub fn finish(mut self) {
        let _ = self.stop.write(1);
        if let Some(h) = self.output.take() {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
            while !h.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
        if let Some(h) = self.input.take() {
            let _ = h.join();
        }
        if self.raw {
            restore();
        }
    }
}

/// Copies the pty's output to mvm's stdout until the program's side is closed (EIO). If mvm's
/// stdout goes away, the output is still read (and dropped), so that the program never blocks.
fn relay_output(master: &OwnedFd) {
    let mut out = std::io::stdout().lock();
    let mut gone = false;
    let mut buf = [0u8; 16 << 10];
    let Ok(fd) = master.try_clone() else { return };
    let mut m = std::fs::File::from(fd);
    loop {
        match m.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if !gone && (out.write_all(&buf[..n]).is_err() || out.flush().is_err()) {
                    gone = true;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

/// What the pty's line discipline does with the characters mvm relays (`c_lflag`, `c_cc`).
fn discipline(master: &OwnedFd) -> Option<libc::termios> {
    tcgetattr(master.as_raw_fd())
}

/// The signal the pty's line discipline makes of byte `b` (with ISIG), if any; `lnext` says the
/// previous byte was VLNEXT (with IEXTEN), which makes this one literal.
fn signal_of(t: &libc::termios, b: u8, lnext: &mut bool) -> Option<i32> {
    if t.c_lflag & libc::ISIG == 0 {
        return None;
    }
    if std::mem::take(lnext) {
        return None;
    }
    let cc = |i: usize| Some(t.c_cc[i]).filter(|&c| c != 0);
    if t.c_lflag & libc::IEXTEN != 0 && cc(libc::VLNEXT) == Some(b) {
        *lnext = true;
        return None;
    }
    [
        (libc::VINTR, libc::SIGINT),
        (libc::VQUIT, libc::SIGQUIT),
        (libc::VSUSP, libc::SIGTSTP),
    ]
    .into_iter()
    .find(|&(i, _)| cc(i) == Some(b))
    .map(|(_, sig)| sig)
}

/// Sends `sig` from the terminal to the program's foreground process group.
pub fn signal_foreground(machine: &Machine, sig: i32) {
    let info = SigInfo {
        signo: sig,
        code: code::SI_KERNEL,
        ..Default::default()
    };
    for p in machine.group(machine.foreground()) {
        p.send(info);
    }
}

/// Copies mvm's stdin to the pty until `stop`, or until stdin ends (then an end of file: the
/// pty's VEOF character, after a line end if the input did not end with one).
fn relay_input(master: &OwnedFd, stop: &EventFd, machine: &Weak<Machine>) {
    let mut buf = [0u8; 4096];
    let mut lnext = false;
    let Ok(fd) = master.try_clone() else { return };
    let mut m = std::fs::File::from(fd);
    let mut write = |bytes: &[u8]| m.write_all(bytes);
    loop {
        let mut fds = [
            libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if r < 0 {
            continue;
        }
        if fds[1].revents != 0 {
            return;
        }
        // SAFETY: reading into a local buffer.
        let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 && crate::policy::errno() == libc::EINTR {
            continue;
        }
        let t = discipline(master);
        if n <= 0 {
            // stdin ended: the program sees the end of its input as a terminal gives it, the
            // VEOF character (the line discipline's end of file, a line editor's Ctrl-D) —
            // again every 100 ms, as every read of a closed pipe sees its end: a VEOF typed
            // while the program is between reads and changing modes can be lost.
            let Some(t) = t else { return };
            // (A first VEOF after a partial line hands that line over; the next ones end it.)
            let eof = t.c_cc[libc::VEOF];
            loop {
                if write(&[eof]).is_err() {
                    return;
                }
                let mut p = libc::pollfd {
                    fd: stop.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut p, 1, 100) } != 0 {
                    return;
                }
            }
        }
        let bytes = &buf[..n as usize];
        if let Some(t) = &t {
            for &b in bytes {
                if let Some(sig) = signal_of(t, b, &mut lnext) {
                    if let Some(m) = machine.upgrade() {
                        signal_foreground(&m, sig);
                    }
                }
            }
        }
        if write(bytes).is_err() {
            return;
        }
    }
}

/// Restores mvm's terminal if mvm panics in raw mode (mvm aborts on panic: no destructor runs).
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn termios() -> libc::termios {
        // SAFETY: a plain struct; zero is valid.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        t.c_lflag = libc::ISIG | libc::IEXTEN | libc::ICANON;
        t.c_cc[libc::VINTR] = 3;
        t.c_cc[libc::VQUIT] = 0x1c;
        t.c_cc[libc::VSUSP] = 0x1a;
        t.c_cc[libc::VLNEXT] = 0x16;
        t
    }

    #[test]
    fn the_line_discipline_makes_signals_of_its_characters() {
        let t = termios();
        let mut lnext = false;
        assert_eq!(signal_of(&t, 3, &mut lnext), Some(libc::SIGINT));
        assert_eq!(signal_of(&t, 0x1c, &mut lnext), Some(libc::SIGQUIT));
        assert_eq!(signal_of(&t, 0x1a, &mut lnext), Some(libc::SIGTSTP));
        assert_eq!(signal_of(&t, b'a', &mut lnext), None);
        // ^V^C is a literal ^C.
        assert_eq!(signal_of(&t, 0x16, &mut lnext), None);
        assert_eq!(signal_of(&t, 3, &mut lnext), None);
        assert_eq!(signal_of(&t, 3, &mut lnext), Some(libc::SIGINT));
        // Without ISIG (raw mode, a readline editor) nothing is a signal.
        let raw = libc::termios {
            c_lflag: 0,
            ..termios()
        };
        assert_eq!(signal_of(&raw, 3, &mut lnext), None);
        // A disabled character (0) matches nothing.
        let mut off = termios();
        off.c_cc[libc::VINTR] = 0;
        assert_eq!(signal_of(&off, 0, &mut lnext), None);
    }
}
