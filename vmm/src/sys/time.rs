//! Clocks and sleeps, served from the host's clocks (there is no vDSO in the guest, so each
//! `clock_gettime` is a syscall).

use std::time::{Duration, Instant};

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

/// nanosleep and clock_nanosleep: until `req` (relative, or absolute on `clock` with
/// `TIMER_ABSTIME`), or until a signal interrupts the sleep (EINTR, the time left in `rem`).
fn interruptible(
    task: &mut Task,
    clock: libc::clockid_t,
    flags: i32,
    req: u64,
    rem: u64,
) -> SysResult {
    let ts = read_timespec(task, req)?;
    if task.stop_requested().is_some() {
        return err(libc::EINTR);
    }
    let mut d = Duration::new(ts[0].min(1 << 40) as u64, ts[1] as u32);
    if flags & libc::TIMER_ABSTIME != 0 {
        let now = now(clock as u64)?;
        d = d.saturating_sub(Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec as u32));
    }
    let deadline = Instant::now() + d;
    // Asleep without the process lock, on the thread's wake-up: a signal sent just before the
    // sleep starts still ends it. A wake-up for a signal that is ignored or blocked does not.
    while task.wait_wake(Some(deadline)) {
        if super::signal::interrupted(task) {
            if rem != 0 && flags & libc::TIMER_ABSTIME == 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                let left = [left.as_secs() as i64, left.subsec_nanos() as i64];
                task.mm.write_obj(rem, &left)?;
            }
            return err(libc::EINTR);
        }
    }
    Ok(0)
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

/// A `struct itimerval` as (interval, value).
fn read_itimerval(task: &mut Task, at: u64) -> Result<(Duration, Duration), SysError> {
    let v: [i64; 4] = task.mm.read_obj(at)?;
    let d = |s: i64, us: i64| {
        if s < 0 || !(0..1_000_000).contains(&us) {
            return err(libc::EINVAL);
        }
        Ok(Duration::new(s as u64, us as u32 * 1000))
    };
    Ok((d(v[0], v[1])?, d(v[2], v[3])?))
}

fn itimerval(interval: Duration, value: Duration) -> [i64; 4] {
    let us = |d: Duration| d.subsec_micros() as i64;
    [
        interval.as_secs() as i64,
        us(interval),
        value.as_secs() as i64,
        us(value),
    ]
}

/// ITIMER_REAL as it stands: (interval, time left).
fn itimer_now(task: &Task) -> (Duration, Duration) {
    match task.itimer.0 {
        Some((at, every)) => (every, at.saturating_duration_since(Instant::now())),
        None => (Duration::ZERO, Duration::ZERO),
    }
}

/// Arms (or with a zero value disarms) ITIMER_REAL: a host thread sleeps until it fires and sends
/// the program SIGALRM, again every interval, until the timer changes or the program ends.
fn arm_itimer(task: &mut Task, interval: Duration, value: Duration) {
    use std::sync::atomic::Ordering;
    let gen = task.itimer.1.fetch_add(1, Ordering::AcqRel) + 1;
    if value.is_zero() {
        task.itimer.0 = None;
        return;
    }
    let first = Instant::now() + value;
    task.itimer.0 = Some((first, interval));
    let (me, generation, uid) = (task.me.clone(), task.itimer.1.clone(), task.aux.uid);
    let spawned = std::thread::Builder::new()
        .name("itimer".into())
        .stack_size(64 << 10)
        .spawn(move || {
            let mut at = first;
            loop {
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
                if generation.load(Ordering::Acquire) != gen || me.status.lock().unwrap().is_some()
                {
                    return;
                }
                me.send(super::sigframe::SigInfo {
                    signo: libc::SIGALRM,
                    code: super::sigframe::code::SI_KERNEL,
                    uid,
                    ..Default::default()
                });
                if interval.is_zero() {
                    return;
                }
                at += interval;
            }
        });
    if spawned.is_err() {
        task.itimer.0 = None;
    }
}

/// setitimer(2): ITIMER_REAL (SIGALRM); ITIMER_VIRTUAL and ITIMER_PROF are accepted and never
/// fire.
pub fn setitimer(task: &mut Task, a: Args) -> SysResult {
    if a[0] > 2 {
        return err(libc::EINVAL);
    }
    let new = if a[1] != 0 {
        Some(read_itimerval(task, a[1])?)
    } else {
        None
    };
    let (every, left) = if a[0] == 0 {
        itimer_now(task)
    } else {
        (Duration::ZERO, Duration::ZERO)
    };
    if a[2] != 0 {
        task.mm.write_obj(a[2], &itimerval(every, left))?;
    }
    if let (0, Some((interval, value))) = (a[0], new) {
        arm_itimer(task, interval, value);
    }
    Ok(0)
}

/// getitimer(2).
pub fn getitimer(task: &mut Task, a: Args) -> SysResult {
    if a[0] > 2 {
        return err(libc::EINVAL);
    }
    let (every, left) = if a[0] == 0 {
        itimer_now(task)
    } else {
        (Duration::ZERO, Duration::ZERO)
    };
    task.mm.write_obj(a[1], &itimerval(every, left))?;
    Ok(0)
}

/// alarm(2): SIGALRM in `seconds` (0 cancels); returns the seconds the previous alarm had left.
pub fn alarm(task: &mut Task, a: Args) -> SysResult {
    let (_, left) = itimer_now(task);
    let secs = a[0] as u32 as u64;
    arm_itimer(task, Duration::ZERO, Duration::from_secs(secs));
    let old = left.as_secs() + u64::from(left.subsec_nanos() >= 500_000_000);
    Ok(if old == 0 && !left.is_zero() { 1 } else { old })
}
