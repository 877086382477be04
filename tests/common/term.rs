//! A program on a pseudo-terminal of the test's own, as a user's shell runs it: the child is a
//! session leader whose controlling terminal is the pty's slave (its stdin, stdout and stderr),
//! and the test types into the master and reads what the program shows, as `expect` does.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long one expected output may take.
pub const EXPECT: Duration = Duration::from_secs(30);

/// A child on a terminal.
pub struct Term {
    master: std::fs::File,
    child: Child,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<thread::JoinHandle<()>>,
    /// Where the next `expect` starts looking.
    seen: usize,
    /// The terminal's settings before the child started.
    pub initial: libc::termios,
}

fn winsize(rows: u16, cols: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Term {
    /// Starts `cmd` on a new `rows`×`cols` terminal.
    pub fn spawn(mut cmd: Command, rows: u16, cols: u16) -> Term {
        let (mut m, mut s) = (-1, -1);
        let ws = winsize(rows, cols);
        // SAFETY: openpty fills two fds; no name or termios.
        let r =
            unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
        assert_eq!(r, 0, "openpty");
        // SAFETY: fresh descriptors, owned here.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        // SAFETY: plain fcntl on our own fd.
        unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: async-signal-safe calls between fork and exec: a new session whose
        // controlling terminal is the slave (already on fd 0).
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        // SAFETY: a plain struct filled by the host.
        let mut initial: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `initial` is valid for writing.
        unsafe { libc::tcgetattr(master.as_raw_fd(), &mut initial) };
        let child = super::spawn_registered(&mut cmd).expect("spawn on a terminal");
        let master = std::fs::File::from(master);
        let screen: Arc<Mutex<Vec<u8>>> = Arc::default();
        let (mut r, sink) = (master.try_clone().unwrap(), screen.clone());
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match r.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
                }
            }
        });
        Term {
            master,
            child,
            screen,
            reader: Some(reader),
            seen: 0,
            initial,
        }
    }

    /// `mvm ARGS` on a terminal, in the test's environment (TERM set as a terminal has it).
    pub fn mvm(args: &[&str], rows: u16, cols: u16) -> Term {
        let mut cmd = Command::new(super::mvm_bin());
        cmd.args(args).current_dir("/").env("TERM", "xterm");
        Term::spawn(cmd, rows, cols)
    }

    /// `PROGRAM ARGS` on a terminal, natively.
    pub fn native(prog: &str, args: &[&str], rows: u16, cols: u16) -> Term {
        let mut cmd = Command::new(prog);
        cmd.args(args).current_dir("/").env("TERM", "xterm");
        Term::spawn(cmd, rows, cols)
    }

    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Everything the terminal has shown so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Types `keys`.
    pub fn send(&mut self, keys: &str) {
        self.master
            .write_all(keys.as_bytes())
            .expect("type on the terminal");
    }

    /// Waits until the terminal shows `needle` after what earlier `expect`s matched.
    pub fn expect(&mut self, needle: &str) {
        let start = Instant::now();
        loop {
            {
                let screen = self.screen.lock().unwrap();
                let text = String::from_utf8_lossy(&screen[self.seen.min(screen.len())..]);
                if let Some(i) = text.find(needle) {
                    self.seen += text[..i + needle.len()].len();
                    return;
                }
            }
            if start.elapsed() > EXPECT {
                let _ = self.child.kill();
                panic!(
                    "the terminal did not show {needle:?} within {EXPECT:?}; it shows:\n{}",
                    self.screen()
                );
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                // Let the reader catch up once more.
                thread::sleep(Duration::from_millis(100));
                if !self.screen()[self.seen.min(self.screen().len())..].contains(needle) {
                    panic!(
                        "the program ended ({st:?}) before the terminal showed {needle:?}:\n{}",
                        self.screen()
                    );
                }
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Changes the terminal's size (the kernel sends SIGWINCH to its foreground group).
    pub fn resize(&self, rows: u16, cols: u16) {
        let ws = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads one winsize.
        unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }

    /// The terminal's settings as the program left them (the master reads the slave's).
    pub fn termios(&self) -> libc::termios {
        // SAFETY: a plain struct filled by the host.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `t` is valid for writing.
        let r = unsafe { libc::tcgetattr(self.master.as_raw_fd(), &mut t) };
        assert_eq!(r, 0);
        t
    }

    /// Sends `sig` to the child.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) of our own child.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// Waits until the program has put the terminal out of canonical mode (raw).
    pub fn wait_raw(&self) {
        let start = Instant::now();
        while self.termios().c_lflag & libc::ICANON != 0 {
            assert!(
                start.elapsed() < EXPECT,
                "the terminal never went raw:\n{}",
                self.screen()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for the child to end (failing the test past `EXPECT`); its status and all it
    /// showed, with `\r\n` as `\n` and the pts numbers as `N`.
    pub fn wait(&mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        let st = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed() > EXPECT {
                let _ = self.child.kill();
                panic!(
                    "the program did not end within {EXPECT:?}:\n{}",
                    self.screen()
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        // The reader ends when the last holder of the slave is gone.
        let r = self.reader.take().expect("waited once");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !r.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        assert!(
            r.is_finished(),
            "something still holds the terminal:\n{}",
            self.screen()
        );
        (st, normalize(&self.screen()))
    }
}

/// A terminal's output as text to compare: `\r\n` as `\n`, `/dev/pts/N` numbers as `N`.
pub fn normalize(s: &str) -> String {
    let s = s.replace("\r\n", "\n");
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("/dev/pts/") {
        out.push_str(&rest[..i + 9]);
        rest = rest[i + 9..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('N');
    }
    out.push_str(rest);
    out
}

impl Drop for Term {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: killpg(2) of the session the child leads.
            unsafe { libc::killpg(self.pid(), libc::SIGKILL) };
            let _ = self.child.wait();
        }
    }
}
