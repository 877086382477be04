//! `--trace`: every syscall the program makes, printed in strace's language (as `strace -f`
//! prints it) to mvm's stderr or to `--trace-file`. This module owns the trace destination, the
//! line format (pid prefixes, the result column, `--- SIG ---` and `+++ exited +++` lines) and
//! the decoding of arguments; the syscall table says, with [`Arg`], how each argument prints.
//!
//! Each call is one line, formatted whole and written with one `write(2)` when the call
//! returns, so it never interleaves with the program's own output (a blocking call prints when
//! it returns: there is no `<unfinished ...>`). Arguments the program passes in are read before
//! the call, what the call writes back after it; guest memory is read only through the checked
//! accessors, and what cannot be read is printed as its address. guest-init's own calls (before
//! it executes the program) are not shown: the trace starts at the program's `execve`.

mod args;
mod decode;
mod names;
mod notes;
pub mod structs;
mod text;

use std::cell::RefCell;
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub use args::Arg;

use super::sigframe::SigInfo;
use super::table::Entry;
use super::{Args, SysError, SysResult};
use crate::task::{ExitReason, Task};

/// Where the trace goes, and what it needs to know of the whole run.
pub struct Tracer {
    /// The descriptor written to: mvm's stderr, or the trace file.
    fd: RawFd,
    /// The trace file, if any (owned: closed with the tracer). Opened cloexec by mvm on the
    /// host; never in a program's descriptor table.
    _file: Option<File>,
    /// Lines start with the thread id (as `strace -f -o FILE` writes them).
    to_file: bool,
    /// One writer at a time: a line is never split by another thread's line.
    lock: Mutex<()>,
    /// Threads of the run alive (strace's count of traced tasks): above one, lines on stderr
    /// carry `[pid N]`.
    live: AtomicUsize,
    /// Whether the program has started (guest-init's `execve`): nothing is shown before.
    started: AtomicBool,
}

impl Tracer {
    /// A trace to stderr, or to `file` (created or truncated).
    pub fn new(file: Option<&Path>) -> std::io::Result<Arc<Tracer>> {
        let file = match file {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(p)?,
            ),
            None => None,
        };
        Ok(Arc::new(Tracer {
            fd: file.as_ref().map_or(libc::STDERR_FILENO, |f| f.as_raw_fd()),
            to_file: file.is_some(),
            _file: file,
            lock: Mutex::new(()),
            live: AtomicUsize::new(1),
            started: AtomicBool::new(false),
        }))
    }

    /// What starts a line of thread `tid`.
    fn lead(&self, tid: i32) -> String {
        if self.to_file {
            format!("{tid:<5} ")
        } else if self.live.load(Ordering::Acquire) > 1 {
            format!("[pid {tid:>5}] ")
        } else {
            String::new()
        }
    }

    /// Writes `line` with one `write(2)` (more only if the destination takes part of it).
    fn emit(&self, line: &str) {
        let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut rest = line.as_bytes();
        while !rest.is_empty() {
            // SAFETY: writing from a live buffer of `rest.len()` bytes to mvm's own descriptor.
            let n = unsafe { libc::write(self.fd, rest.as_ptr().cast(), rest.len()) };
            if n > 0 {
                rest = &rest[n as usize..];
                continue;
            }
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EAGAIN) => {
                    // The program made the shared stderr non-blocking: wait until it drains.
                    let mut p = libc::pollfd {
                        fd: self.fd,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one pollfd, on the stack.
                    unsafe { libc::poll(&mut p, 1, 100) };
                }
                _ => return,
            }
        }
    }
}

thread_local! {
    /// While this thread is in a traced call: the signal lines that come up meanwhile (a signal
    /// the call generates and that is discarded at once), printed after the call's line, where
    /// strace sees them.
    static HELD: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Pads `line` to strace's result column (40) and adds ` = result`.
fn finish_line(mut line: String, result: &str) -> String {
    while line.len() < 39 {
        line.push(' ');
    }
    line.push_str(" = ");
    line.push_str(result);
    line.push('\n');
    line
}

/// A call being traced, between [`enter`] and [`exit`].
pub struct Call {
    entry: &'static Entry,
    args: Args,
    /// Per argument: what was printed before the call (`None`: omitted, or printed after).
    before: Vec<Option<String>>,
    /// Whether the call makes a thread or a program (counted from its start).
    spawns: bool,
    /// For the calls that make one and return at once: the line's start, as it was before the
    /// new one counted (strace prints such a call before it sees the child).
    lead: Option<String>,
}

/// Whether a call makes a thread or a program, and whether it then waits for the child's exec
/// or exit (vfork, CLONE_VFORK: the line's start is then as it is when the call returns, as
/// strace's `<... vfork resumed>` line has it).
fn spawn(task: &mut Task, name: &str, args: &Args) -> Option<bool> {
    let vfork = libc::CLONE_VFORK as u64;
    match name {
        "fork" => Some(false),
        "vfork" => Some(true),
        "clone" => Some(args[0] & vfork != 0),
        "clone3" => Some(
            structs::read(task, args[0], 8).is_some_and(|b| structs::u64_at(&b, 0) & vfork != 0),
        ),
        _ => None,
    }
}

/// Before a call: reads what it is passed. `None` when the call is not shown (guest-init's).
pub fn enter(task: &mut Task, entry: &'static Entry, args: &Args) -> Option<Call> {
    let t = task.trace.clone()?;
    if !t.started.load(Ordering::Acquire) {
        if entry.name != "execve" {
            return None;
        }
        t.started.store(true, Ordering::Release);
    }
    let mut c = decode::Ctx {
        task,
        a: *args,
        kinds: entry.args,
        ok: None,
        errno: None,
    };
    let before = (0..entry.args.len())
        .map(|i| match entry.args[i].when() {
            args::When::Out => None,
            _ => c.input(i),
        })
        .collect();
    let waits = spawn(c.task, entry.name, args);
    let lead = match waits {
        Some(false) => Some(t.lead(c.task.tid)),
        _ => None,
    };
    if waits.is_some() {
        t.live.fetch_add(1, Ordering::AcqRel);
    }
    HELD.set(Some(Vec::new()));
    Some(Call {
        entry,
        args: *args,
        before,
        spawns: waits.is_some(),
        lead,
    })
}

/// After a call: prints its line.
pub fn exit(task: &mut Task, call: Call, r: &SysResult) {
    let held = HELD.take().unwrap_or_default();
    let Some(t) = task.trace.clone() else {
        return;
    };
    line(task, &t, call, r);
    for l in held {
        t.emit(&l);
    }
}

/// Prints a finished call's line (nothing for a call that just goes on after EINTR).
fn line(task: &mut Task, t: &Tracer, call: Call, r: &SysResult) {
    let e = call.entry;
    if call.spawns && matches!(r, Err(SysError::Errno(_))) {
        t.live.fetch_sub(1, Ordering::AcqRel);
    }
    let (ok, errno) = match r {
        Ok(v) => (Some(*v), None),
        Err(SysError::Errno(n)) => (None, Some(*n)),
        Err(_) => (None, None),
    };
    let result = match r {
        Err(SysError::Errno(libc::EINTR)) => match eintr(task, e.nr, &call.args) {
            Some(text) => text,
            None => return,
        },
        Err(SysError::Errno(n)) => text::errno_result(*n),
        Err(SysError::Exec { .. }) => "0".into(),
        Err(SysError::Exit(_)) | Err(SysError::ThreadExit(_)) => "?".into(),
        Ok(_) => String::new(),
    };
    let mut c = decode::Ctx {
        task,
        a: call.args,
        kinds: e.args,
        ok,
        errno,
    };
    let mut parts = Vec::with_capacity(e.args.len());
    for (i, saved) in call.before.into_iter().enumerate() {
        let shown = match e.args[i].when() {
            args::When::In => saved,
            _ => c.output(i, saved),
        };
        parts.extend(shown);
    }
    let result = match ok {
        // A value in the errno range (rt_sigreturn restoring a failed call's result) is shown
        // as the error it is, as strace does.
        Some(v) if (v as i64) < 0 && (v as i64) >= -4095 => text::errno_result(-(v as i64) as i32),
        Some(v) => {
            let (hex, note) = c.note(e.name);
            let v = if hex {
                text::hex(v)
            } else if e.name == "umask" {
                text::oct(v)
            } else {
                (v as i64).to_string()
            };
            format!("{v}{note}")
        }
        None => result,
    };
    let lead = call.lead.unwrap_or_else(|| t.lead(c.task.tid));
    let line = format!("{lead}{}({})", e.name, parts.join(", "));
    t.emit(&finish_line(line, &result));
}

/// How a call that ended with EINTR shows, as strace sees the kernel end it: nothing when it
/// just goes on (restarted with nothing to deliver), `?` when the program ends, else the
/// kernel's restart code for the call.
fn eintr(task: &mut Task, nr: u64, a: &Args) -> Option<String> {
    use super::signal::Fate;
    let restart = |code: i32, text: &str| format!("? {} ({text})", text::errno_name(code));
    Some(match super::signal::eintr_fate(task) {
        Fate::Resumes => return None,
        Fate::Ends => "?".into(),
        Fate::Signal => match nr {
            // poll, select, pause, rt_sigsuspend, pselect6, ppoll.
            7 | 23 | 34 | 130 | 270 | 271 => restart(514, "To be restarted if no handler"),
            // nanosleep, clock_nanosleep, and futex waits with a timeout.
            35 | 230 => restart(516, "Interrupted by signal"),
            202 if a[3] != 0 => restart(516, "Interrupted by signal"),
            // epoll_wait, epoll_pwait, rt_sigtimedwait: EINTR itself.
            232 | 281 | 128 => text::errno_result(libc::EINTR),
            _ => restart(512, "To be restarted if SA_RESTART is set"),
        },
    })
}

/// A call mvm does not serve: its name (or `syscall_0x...`) and raw arguments, and ENOSYS.
pub fn unknown(task: &Task, nr: u64, a: &Args) {
    let Some(t) = task.trace.clone() else {
        return;
    };
    if !t.started.load(Ordering::Acquire) {
        return;
    }
    let name = text::lookup(nr, names::UNSERVED)
        .map_or_else(|| format!("syscall_{nr:#x}"), str::to_string);
    let args: Vec<String> = a.iter().map(|&v| text::hex(v)).collect();
    let line = format!("{}{name}({})", t.lead(task.tid), args.join(", "));
    t.emit(&finish_line(line, &text::errno_result(libc::ENOSYS)));
}

/// A signal the thread takes, delivered or discarded as ignored (strace sees both):
/// `--- SIGCHLD {si_signo=SIGCHLD, ...} ---` (SIGKILL is
/// never seen, as under ptrace).
pub fn signal(task: &Task, info: &SigInfo) {
    let Some(t) = task.trace.clone() else {
        return;
    };
    if info.signo == libc::SIGKILL || !t.started.load(Ordering::Acquire) {
        return;
    }
    let line = format!(
        "{}--- {} {} ---\n",
        t.lead(task.tid),
        text::signal(info.signo as i64),
        siginfo(info)
    );
    let line = HELD.with_borrow_mut(|held| match held {
        Some(held) => {
            held.push(line);
            None
        }
        None => Some(line),
    });
    if let Some(line) = line {
        t.emit(&line);
    }
}

/// A delivered signal's siginfo, as the trace shows it.
pub fn siginfo(info: &SigInfo) -> String {
    structs::siginfo(&info.to_bytes())
}

/// A thread's end: `+++ exited with 0 +++`, `+++ killed by SIGKILL +++`.
pub fn end(task: &Task, reason: &ExitReason) {
    let Some(t) = task.trace.clone() else {
        return;
    };
    let how = match (task.threads.zap, reason) {
        (Some(by), _) if by != task.tid => Some(format!("superseded by execve in pid {by}")),
        (_, ExitReason::Exited(s)) => Some(format!("exited with {s}")),
        (_, ExitReason::Signaled { sig, .. }) | (_, ExitReason::Stopped(sig)) => {
            Some(format!("killed by {}", text::signal(*sig as i64)))
        }
        (_, ExitReason::Timeout) => Some("killed by SIGKILL".into()),
        (_, ExitReason::Broken(_)) => None,
    };
    if let Some(how) = how.filter(|_| t.started.load(Ordering::Acquire)) {
        t.emit(&format!("{}+++ {how} +++\n", t.lead(task.tid)));
    }
    t.live.fetch_sub(1, Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_line_up_in_strace_column() {
        assert_eq!(
            finish_line("brk(NULL)".into(), "0x1000"),
            format!("brk(NULL){} = 0x1000\n", " ".repeat(30))
        );
        let long = "x".repeat(45);
        assert_eq!(finish_line(long.clone(), "0"), format!("{long} = 0\n"));
    }

    #[test]
    fn every_table_entry_prints_each_argument_once() {
        for e in super::super::table::TABLE {
            for w in e.args.windows(2) {
                if matches!(w[1], Arg::OpenMode | Arg::MknodDev) {
                    assert!(
                        matches!(w[0], Arg::OpenFlags | Arg::MknodMode),
                        "{}: {:?} follows {:?}",
                        e.name,
                        w[1],
                        w[0]
                    );
                }
            }
            assert!(
                text::lookup(e.nr, names::UNSERVED).is_none(),
                "{} is served and listed as unserved",
                e.name
            );
        }
    }
}
