//! Clocks and sleeps, served from the host's clocks (there is no vDSO in the guest, so each
//! `clock_gettime` is a syscall).

use super::{err, host, Args, SysError, SysResult};
use crate::task::Task;

fn read_timespec(task: &mut Task, at: u64) -> Result<[i64; 2], SysError> {
    let ts: [i64; 2] = task.mm.read_obj(at)?;
    if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
        return err(libc::EINVAL);
    }
    Ok(ts)
}

pub fn now(clock: u64) -> Result<libc::timespec, SysError> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for writing; the host checks the clock id.
    host(unsafe { libc::clock_gettime(clock as libc::clockid_t, &mut ts) } as isize)?;
    Ok(ts)
}

/// clock_gettime(2).
pub fn clock_gettime(task: &mut Task, a: Args) -> SysResult {
    let ts = now(a[0])?;
    task.mm.write_obj(a[1], &[ts.tv_sec, ts.tv_nsec])?;
    Ok(0)
}

/// clock_getres(2).
pub fn clock_getres(task: &mut Task, a: Args) -> SysResult {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for writing.
    host(unsafe { libc::clock_getres(a[0] as libc::clockid_t, &mut ts) } as isize)?;
    if a[1] != 0 {
        task.mm.write_obj(a[1], &[ts.tv_sec, ts.tv_nsec])?;
    }
    Ok(0)
}

/// gettimeofday(2).
pub fn gettimeofday(task: &mut Task, a: Args) -> SysResult {
    let ts = now(libc::CLOCK_REALTIME as u64)?;
    if a[0] != 0 {
        task.mm.write_obj(a[0], &[ts.tv_sec, ts.tv_nsec / 1000])?;
    }
    if a[1] != 0 {
        task.mm.write_obj(a[1], &[0u32, 0u32])?;
    }
    Ok(0)
}

/// time(2).
pub fn time(task: &mut Task, a: Args) -> SysResult {
    let ts = now(libc::CLOCK_REALTIME as u64)?;
    if a[0] != 0 {
        task.mm.write_obj(a[0], &ts.tv_sec)?;
    }
    Ok(ts.tv_sec as u64)
}

/// Sleeps on the host until `ts` (relative, or absolute with `TIMER_ABSTIME`); a kick of the
/// vCPU thread ends it early with EINTR and the time left.
pub fn sleep(clock: libc::clockid_t, flags: i32, ts: [i64; 2]) -> Result<[i64; 2], SysError> {
    let req = libc::timespec {
        tv_sec: ts[0],
        tv_nsec: ts[1],
    };
    let mut rem = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: both timespecs are valid.
    let r = unsafe { libc::clock_nanosleep(clock, flags, &req, &mut rem) };
    match r {
        0 => Ok([0, 0]),
        libc::EINTR => Err(SysError::Errno(libc::EINTR)).inspect_err(|_| {
            REMAINING.with(|c| c.set([rem.tv_sec, rem.tv_nsec]));
        }),
        e => err(e),
    }
}

thread_local! {
    static REMAINING: std::cell::Cell<[i64; 2]> = const { std::cell::Cell::new([0, 0]) };
}

fn interruptible(
    task: &mut Task,
    clock: libc::clockid_t,
    flags: i32,
    req: u64,
    rem: u64,
) -> SysResult {
    let mut ts = read_timespec(task, req)?;
    if task.stop_requested().is_some() {
        return err(libc::EINTR);
    }
    // Asleep without the process lock.
    let mut r = task.unlocked(|| sleep(clock, flags, ts));
    // A wake-up for a signal that is ignored or blocked does not end the sleep.
    while matches!(r, Err(SysError::Errno(libc::EINTR))) && !super::signal::interrupted(task) {
        if flags & libc::TIMER_ABSTIME == 0 {
            ts = REMAINING.with(|c| c.get());
        }
        r = task.unlocked(|| sleep(clock, flags, ts));
    }
    match r {
        Ok(_) => Ok(0),
        Err(SysError::Errno(libc::EINTR)) => {
            if rem != 0 && flags & libc::TIMER_ABSTIME == 0 {
                task.mm.write_obj(rem, &REMAINING.with(|c| c.get()))?;
            }
            err(libc::EINTR)
        }
        Err(e) => Err(e),
    }
}

/// nanosleep(2).
pub fn nanosleep(task: &mut Task, a: Args) -> SysResult {
    interruptible(task, libc::CLOCK_MONOTONIC, 0, a[0], a[1])
}

/// clock_nanosleep(2).
pub fn clock_nanosleep(task: &mut Task, a: Args) -> SysResult {
    let clock = a[0] as libc::clockid_t;
    if !matches!(
        clock,
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI
    ) {
        return err(libc::EINVAL);
    }
    interruptible(task, clock, a[1] as i32 & libc::TIMER_ABSTIME, a[2], a[3])
}
