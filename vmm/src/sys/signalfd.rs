//! signalfd(2) and signalfd4(2): a descriptor whose reads take the program's pending signals.
//!
//! Signals are mvm's own (see `signal`), so a host signalfd would never see them: mvm serves
//! the reads itself, from the calling thread's pending signals, then the program's. What the
//! host still does is wait: each signalfd holds a host eventfd, and before a poll, select or
//! epoll wait starts mvm makes it readable exactly when a signal of its mask is pending for the
//! waiting thread. A signal that becomes pending during the wait kicks the thread (as every
//! signal does), the wait ends in EINTR, and the call restarts with the readiness made anew.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::fs::OpenFile;
use super::{err, host, signal, Args, SysError, SysResult};
use crate::task::Task;

/// Bytes of one `struct signalfd_siginfo`.
const RECORD: u64 = 128;

/// A signalfd's own state, shared by its duplicates and by the programs that inherit it.
#[derive(Debug)]
pub struct SignalFd {
    /// The signals it reads (bit `sig - 1`), never SIGKILL or SIGSTOP.
    mask: AtomicU64,
    /// Whether its host eventfd holds 1 (readable) now: only mvm reads or writes the counter,
    /// under this lock, so a read of it never blocks and a write never overflows it.
    level: Mutex<bool>,
}

impl SignalFd {
    fn mask(&self) -> u64 {
        self.mask.load(Ordering::Acquire)
    }

    /// Makes host descriptor `fd` (its eventfd) readable or not.
    fn set_level(&self, fd: i32, ready: bool) {
        let mut level = self.level.lock().unwrap();
        if *level == ready {
            return;
        }
        let mut word = 1u64;
        let p = &mut word as *mut u64 as *mut libc::c_void;
        // SAFETY: an 8-byte eventfd read or write on a local; the counter is 0 before the write
        // and 1 before the read (`level`), so neither blocks.
        let r = unsafe {
            if ready {
                libc::write(fd, p, 8)
            } else {
                libc::read(fd, p, 8)
            }
        };
        if r == 8 {
            *level = ready;
        }
    }
}

/// signalfd(2): signalfd4 without flags.
pub fn signalfd(task: &mut Task, a: Args) -> SysResult {
    signalfd4(task, [a[0], a[1], a[2], 0, 0, 0])
}

/// signalfd4(2): a new signalfd for the signals of the mask (`fd` -1), or a new mask for the
/// signalfd `fd` (EINVAL if it is another kind of file).
pub fn signalfd4(task: &mut Task, a: Args) -> SysResult {
    let flags = a[3] as i32;
    if flags & !(libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) != 0 {
        return err(libc::EINVAL);
    }
    // Linux reads the mask before it looks at the descriptor.
    let mask = signal::read_sigset(task, a[1], a[2])?;
    let ufd = a[0] as i32;
    if ufd != -1 {
        let file = task.fds.file(ufd as u32 as u64)?;
        let sfd = file
            .signalfd
            .as_ref()
            .ok_or(SysError::Errno(libc::EINVAL))?;
        sfd.mask.store(mask, Ordering::Release);
        refresh(task);
        // A thread already reading it may now have a signal to take: it looks again.
        let me = task.tid;
        task.me.kicker.kick_all(me);
        return Ok(ufd as u64);
    }
    // SAFETY: plain host call; the descriptor is owned below.
    let fd = host(
        unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | (flags & libc::SFD_NONBLOCK)) } as isize,
    )? as i32;
    // SAFETY: a fresh descriptor owned by nobody else.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let file = Arc::new(OpenFile {
        host: super::fs::HostFd::Owned(fd),
        path: Some("anon_inode:[signalfd]".into()),
        writable: true,
        listing: None,
        mapped: Mutex::default(),
        mq: None,
        signalfd: Some(SignalFd {
            mask: AtomicU64::new(mask),
            level: Mutex::new(false),
        }),
    });
    let nr = task.fds.install(file, flags & libc::SFD_CLOEXEC != 0)?;
    refresh(task);
    Ok(nr)
}

/// A read, write or their vectored and positioned forms on signalfd `file`, into the guest
/// buffers `bufs`: as many records as fit (EINVAL if not one), waiting for the first unless
/// the file is nonblocking (EAGAIN), ended by a signal to deliver (EINTR, restarted as the
/// signal's SA_RESTART says). A record that cannot be written is lost and ends the read
/// (EFAULT if it was the first), as on Linux. Writes are EINVAL; positioned calls ESPIPE.
pub fn rw(
    task: &mut Task,
    file: &Arc<OpenFile>,
    bufs: &[(u64, u64)],
    off: Option<i64>,
    write: bool,
) -> SysResult {
    let Some(sfd) = file.signalfd.as_ref() else {
        return err(libc::EBADF);
    };
    if off.is_some() {
        return err(libc::ESPIPE);
    }
    if write {
        return err(libc::EINVAL);
    }
    let room = bufs.iter().map(|b| b.1).fold(0u64, u64::saturating_add);
    let want = room / RECORD;
    if want == 0 {
        return err(libc::EINVAL);
    }
    let first = loop {
        if let Some(info) = signal::take_in(task, sfd.mask()) {
            break info;
        }
        // SAFETY: a plain host call on the descriptor the open file holds.
        let fl = unsafe { libc::fcntl(file.raw(), libc::F_GETFL) };
        if fl >= 0 && fl & libc::O_NONBLOCK != 0 {
            refresh(task);
            return err(libc::EAGAIN);
        }
        if signal::interrupted(task) {
            return err(libc::EINTR);
        }
        task.wait_wake(None);
    };
    let mut done = 0;
    let mut next = Some(first);
    while let Some(info) = next {
        if put(task, bufs, done * RECORD, &info.to_signalfd()).is_err() {
            break;
        }
        done += 1;
        next = if done < want {
            signal::take_in(task, sfd.mask())
        } else {
            None
        };
    }
    refresh(task);
    if done == 0 {
        return err(libc::EFAULT);
    }
    Ok(done * RECORD)
}

/// Writes `rec` at byte `at` of the guest buffers `bufs`, taken one after the other.
fn put(task: &mut Task, bufs: &[(u64, u64)], mut at: u64, rec: &[u8]) -> Result<(), SysError> {
    let mut rec = rec;
    for &(base, len) in bufs {
        if rec.is_empty() {
            break;
        }
        if at >= len {
            at -= len;
            continue;
        }
        let n = ((len - at) as usize).min(rec.len());
        task.mm.write(base + at, &rec[..n])?;
        rec = &rec[n..];
        at = 0;
    }
    Ok(())
}

/// Makes each of the program's signalfds readable on the host exactly when a signal of its mask
/// is pending for this thread: called before a host poll or epoll wait.
pub fn refresh(task: &mut Task) {
    let files = task.fds.signalfds();
    if files.is_empty() {
        return;
    }
    let pending = signal::pending_now(task);
    for f in files {
        if let Some(sfd) = &f.signalfd {
            sfd.set_level(f.raw(), pending & sfd.mask() != 0);
        }
    }
}
