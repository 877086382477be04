//! poll, ppoll, select and pselect6 on the program's descriptors, served by the host's poll.

use super::{err, host, Args, SysError, SysResult};
use crate::task::Task;

/// Polls guest pollfds at `at` (`n` of them) with a host timeout in ms (-1 = forever).
fn poll_guest(task: &mut Task, at: u64, n: u64, timeout_ms: i32) -> SysResult {
    if n > 1024 {
        return err(libc::EINVAL);
    }
    let mut fds = Vec::with_capacity(n as usize);
    let mut nval = Vec::with_capacity(n as usize);
    let mut held = Vec::new();
    for i in 0..n {
        let raw: [i32; 2] = task.mm.read_obj(at + 8 * i)?;
        let (fd, events) = (raw[0], raw[1] as i16);
        let h = if fd < 0 {
            Ok((-1, events))
        } else {
            task.fds.file(fd as u64).map(|f| {
                let h = (f.raw(), host_events(&f, events));
                held.push(f);
                h
            })
        };
        nval.push(h.is_err());
        let (fd, events) = h.unwrap_or((-1, events));
        fds.push(libc::pollfd {
            fd,
            events,
            revents: 0,
        });
    }
    super::signalfd::refresh(task);
    if task.stop_requested().is_some() {
        return err(libc::EINTR);
    }
    let bad = nval.iter().filter(|b| **b).count() as u64;
    let timeout = if bad > 0 { 0 } else { timeout_ms };
    let r = host_poll(task, &mut fds, timeout)?;
    drop(held);
    for (i, p) in fds.iter().enumerate() {
        let rev = if nval[i] { libc::POLLNVAL } else { p.revents };
        task.mm.write_obj(at + 8 * i as u64 + 6, &rev)?;
    }
    Ok(r + bad)
}

/// The events to ask the host for on `f`: a signalfd is never writable, though the eventfd
/// behind it is.
fn host_events(f: &super::fs::OpenFile, events: i16) -> i16 {
    if f.signalfd.is_some() {
        events & !(libc::POLLOUT | libc::POLLWRNORM | libc::POLLWRBAND)
    } else {
        events
    }
}

/// The host poll, without the process lock and with the thread's wake-up among the descriptors,
/// so that a signal sent just before it starts still ends it (EINTR).
fn host_poll(task: &mut Task, fds: &mut Vec<libc::pollfd>, timeout: i32) -> SysResult {
    let wake = task.wake.clone();
    fds.push(libc::pollfd {
        fd: wake.fd()?,
        events: libc::POLLIN,
        revents: 0,
    });
    let n = fds.len() as libc::nfds_t;
    // SAFETY: `fds` is a valid array of `n` pollfds.
    let r = task.unlocked(|| unsafe { libc::poll(fds.as_mut_ptr(), n, timeout) });
    let woken = fds.pop().is_some_and(|p| p.revents != 0);
    let r = host(r as isize)?;
    if woken {
        wake.take();
        if r == 1 {
            return err(libc::EINTR);
        }
        return Ok(r - 1);
    }
    Ok(r)
}

fn timeout_of(task: &mut Task, tsp: u64) -> Result<i32, SysError> {
    if tsp == 0 {
        return Ok(-1);
    }
    let ts: [i64; 2] = task.mm.read_obj(tsp)?;
    if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
        return err(libc::EINVAL);
    }
    Ok((ts[0]
        .saturating_mul(1000)
        .saturating_add((ts[1] + 999_999) / 1_000_000))
    .min(i32::MAX as i64) as i32)
}

/// poll(2).
pub fn poll(task: &mut Task, a: Args) -> SysResult {
    poll_guest(task, a[0], a[1], a[2] as i32)
}

/// ppoll(2).
pub fn ppoll(task: &mut Task, a: Args) -> SysResult {
    let t = timeout_of(task, a[2])?;
    super::signal::call_mask(task, a[3], a[4])?;
    poll_guest(task, a[0], a[1], t)
}

/// pselect6(2), by way of the host's poll.
pub fn pselect6(task: &mut Task, a: Args) -> SysResult {
    let timeout = timeout_of(task, a[4])?;
    if a[5] != 0 {
        let m: [u64; 2] = task.mm.read_obj(a[5])?;
        super::signal::call_mask(task, m[0], m[1])?;
    }
    select_ms(task, a, timeout)
}

/// select(2): as pselect6, with a `timeval` (the time left is not written back).
pub fn select(task: &mut Task, a: Args) -> SysResult {
    let timeout = if a[4] == 0 {
        -1
    } else {
        let tv: [i64; 2] = task.mm.read_obj(a[4])?;
        if tv[0] < 0 || !(0..1_000_000).contains(&tv[1]) {
            return err(libc::EINVAL);
        }
        (tv[0]
            .saturating_mul(1000)
            .saturating_add((tv[1] + 999) / 1000))
        .min(i32::MAX as i64) as i32
    };
    select_ms(task, a, timeout)
}

fn select_ms(task: &mut Task, a: Args, timeout: i32) -> SysResult {
    let nfds = a[0] as i64;
    if !(0..=1024).contains(&nfds) {
        return err(libc::EINVAL);
    }
    let words = (nfds as u64).div_ceil(64);
    let mut sets = [
        vec![0u64; words as usize],
        vec![0u64; words as usize],
        vec![0u64; words as usize],
    ];
    for (k, set) in sets.iter_mut().enumerate() {
        if a[1 + k] != 0 {
            for (w, slot) in set.iter_mut().enumerate() {
                *slot = task.mm.read_obj(a[1 + k] + 8 * w as u64)?;
            }
        }
    }
    let mut pfds = Vec::new();
    let mut which = Vec::new();
    let mut held = Vec::new();
    for fd in 0..nfds as u64 {
        let (w, b) = ((fd / 64) as usize, fd % 64);
        let mut ev = 0i16;
        if sets[0][w] >> b & 1 != 0 {
            ev |= libc::POLLIN;
        }
        if sets[1][w] >> b & 1 != 0 {
            ev |= libc::POLLOUT;
        }
        if sets[2][w] >> b & 1 != 0 {
            ev |= libc::POLLPRI;
        }
        if ev != 0 {
            let f = task.fds.file(fd)?;
            let (h, ev) = (f.raw(), host_events(&f, ev));
            held.push(f);
            pfds.push(libc::pollfd {
                fd: h,
                events: ev,
                revents: 0,
            });
            which.push(fd);
        }
    }
    super::signalfd::refresh(task);
    if task.stop_requested().is_some() {
        return err(libc::EINTR);
    }
    host_poll(task, &mut pfds, timeout)?;
    drop(held);
    for s in sets.iter_mut() {
        s.fill(0);
    }
    let mut count = 0;
    for (p, fd) in pfds.iter().zip(which) {
        let (w, b) = ((fd / 64) as usize, fd % 64);
        let marks = [
            p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
                && p.events & libc::POLLIN != 0,
            p.revents & (libc::POLLOUT | libc::POLLERR) != 0 && p.events & libc::POLLOUT != 0,
            p.revents & libc::POLLPRI != 0 && p.events & libc::POLLPRI != 0,
        ];
        for (k, m) in marks.iter().enumerate() {
            if *m {
                sets[k][w] |= 1 << b;
                count += 1;
            }
        }
    }
    for (k, set) in sets.iter().enumerate() {
        if a[1 + k] != 0 {
            for (w, v) in set.iter().enumerate() {
                task.mm.write_obj(a[1 + k] + 8 * w as u64, v)?;
            }
        }
    }
    Ok(count)
}
