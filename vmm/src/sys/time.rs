//! Clocks, sleeps and timers, served from the host's clocks (the guest's vDSO answers most
//! `clock_gettime` calls itself). Timers (`setitimer`/`alarm`, POSIX `timer_*`) are host threads
//! that sleep until they fire and send the program its signal.

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

/// A CPU-time clock: the program's (all its threads', exited ones' too) or one thread's. Each
/// guest thread runs on its own host thread, so its CPU time is that host thread's: its time in
/// the guest, and mvm's serving of its exits (which Linux would count as system time).
#[derive(Debug, Clone)]
pub struct CpuClock {
    kicker: std::sync::Arc<crate::task::Kicker>,
    thread: Option<i32>,
}

impl CpuClock {
    /// The program `me`'s CPU time.
    pub fn process(me: &crate::task::ProcHandle) -> CpuClock {
        CpuClock {
            kicker: me.kicker.clone(),
            thread: None,
        }
    }

    /// Its reading now; `None` once its thread is gone.
    pub fn now(&self) -> Option<Duration> {
        match self.thread {
            None => Some(self.kicker.cpu_time()),
            Some(tid) => self.kicker.thread_cpu_time(tid),
        }
    }
}

/// Linux's encoding of CPU-time clock ids (`clock_getcpuclockid`, `pthread_getcpuclockid`): the
/// low two bits say what is counted (2: all CPU time), bit 2 a thread, the rest `~pid`.
const CPUCLOCK_WHICH: i32 = 3;
const CPUCLOCK_PERTHREAD: i32 = 4;

/// The CPU-time clock `clock` names for `task`: `Ok(None)` for a clock that is not one; EINVAL
/// for a thread of another program or a program or thread that is not in the run (as Linux).
/// Also the host clock of the same kind (for its resolution).
fn cpu_clock(task: &Task, clock: i32) -> Result<Option<(CpuClock, i32)>, SysError> {
    let (id, thread, which) = match clock {
        libc::CLOCK_PROCESS_CPUTIME_ID => (0, false, 2),
        libc::CLOCK_THREAD_CPUTIME_ID => (0, true, 2),
        c if c < 0 => (!(c >> 3), c & CPUCLOCK_PERTHREAD != 0, c & CPUCLOCK_WHICH),
        _ => return Ok(None),
    };
    if which == CPUCLOCK_WHICH {
        return err(libc::EINVAL);
    }
    // The same kind of clock of mvm's own thread: what the host's resolution is for it.
    let host_kind = (!0 << 3) | which | if thread { CPUCLOCK_PERTHREAD } else { 0 };
    let found = if thread {
        let tid = if id == 0 { task.tid } else { id };
        task.me.kicker.has(tid).then(|| CpuClock {
            kicker: task.me.kicker.clone(),
            thread: Some(tid),
        })
    } else if id == 0 || id == task.pid() {
        Some(CpuClock::process(&task.me))
    } else {
        task.machine.find(id).map(|p| CpuClock::process(&p))
    };
    match found {
        Some(c) => Ok(Some((c, host_kind))),
        None => err(libc::EINVAL),
    }
}

/// clock_gettime(2); CPU-time clocks count the program's own threads and programs.
pub fn clock_gettime(task: &mut Task, a: Args) -> SysResult {
    let ts = match cpu_clock(task, a[0] as i32)? {
        Some((c, _)) => {
            let t = c.now().ok_or(SysError::Errno(libc::EINVAL))?;
            libc::timespec {
                tv_sec: t.as_secs() as i64,
                tv_nsec: t.subsec_nanos() as i64,
            }
        }
        None => now(a[0])?,
    };
    task.mm.write_obj(a[1], &[ts.tv_sec, ts.tv_nsec])?;
    Ok(0)
}

/// clock_getres(2).
pub fn clock_getres(task: &mut Task, a: Args) -> SysResult {
    let clock = match cpu_clock(task, a[0] as i32)? {
        Some((_, host_kind)) => host_kind,
        None => a[0] as libc::clockid_t,
    };
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for writing.
    host(unsafe { libc::clock_getres(clock, &mut ts) } as isize)?;
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

/// clock_nanosleep(2); on a CPU-time clock, until it reads the time asked (a thread's own
/// clock is EINVAL, as Linux: it could not advance while the thread sleeps).
pub fn clock_nanosleep(task: &mut Task, a: Args) -> SysResult {
    let clock = a[0] as libc::clockid_t;
    if let Some((c, _)) = cpu_clock(task, clock)? {
        if c.thread == Some(task.tid) {
            return err(libc::EINVAL);
        }
        return cpu_sleep(task, c, a[1] as i32 & libc::TIMER_ABSTIME != 0, a[2], a[3]);
    }
    if !matches!(
        clock,
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI
    ) {
        return err(libc::EINVAL);
    }
    interruptible(task, clock, a[1] as i32 & libc::TIMER_ABSTIME, a[2], a[3])
}

/// Sleeps until `clock` has counted `req` more (or reads `req`, if `absolute`), or a signal
/// interrupts the sleep (EINTR, the CPU time left in `rem`). It looks at the clock as a CPU
/// timer does (`watch_cpu`).
fn cpu_sleep(task: &mut Task, clock: CpuClock, absolute: bool, req: u64, rem: u64) -> SysResult {
    let ts = read_timespec(task, req)?;
    let want = Duration::new(ts[0].min(1 << 40) as u64, ts[1] as u32);
    let start = clock.now().ok_or(SysError::Errno(libc::EINVAL))?;
    let target = if absolute { want } else { start + want };
    loop {
        if task.stop_requested().is_some() {
            return err(libc::EINTR);
        }
        // A thread that is gone counts no more: its clock's sleep ends.
        let Some(now) = clock.now() else {
            return Ok(0);
        };
        if now >= target {
            return Ok(0);
        }
        let left = target - now;
        let look = Instant::now() + left.clamp(CPU_LOOK_MIN, CPU_LOOK);
        if task.wait_wake(Some(look)) && super::signal::interrupted(task) {
            if rem != 0 && !absolute {
                let left = [left.as_secs() as i64, left.subsec_nanos() as i64];
                task.mm.write_obj(rem, &left)?;
            }
            return err(libc::EINTR);
        }
    }
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

/// setitimer(2): ITIMER_REAL (SIGALRM), ITIMER_VIRTUAL (SIGVTALRM) and ITIMER_PROF (SIGPROF);
/// the last two count the program's CPU time.
pub fn setitimer(task: &mut Task, a: Args) -> SysResult {
    if a[0] > 2 {
        return err(libc::EINVAL);
    }
    let new = if a[1] != 0 {
        Some(read_itimerval(task, a[1])?)
    } else {
        None
    };
    let (every, left) = itimer_mut(task, a[0]).remaining();
    if a[2] != 0 {
        task.mm.write_obj(a[2], &itimerval(every, left))?;
    }
    match (a[0], new) {
        (_, None) => {}
        (0, Some((interval, value))) => arm_itimer(task, interval, value),
        (which, Some((interval, value))) => {
            let signo = if which == 1 {
                libc::SIGVTALRM
            } else {
                libc::SIGPROF
            };
            let info = super::sigframe::SigInfo {
                signo,
                code: super::sigframe::code::SI_KERNEL,
                uid: task.aux.uid,
                ..Default::default()
            };
            let me = task.me.clone();
            let t = itimer_mut(task, which);
            t.notify = Some((info, None));
            t.cpu = Some(CpuClock::process(&me));
            let first = (!value.is_zero()).then_some(value);
            t.set_cpu(me, first, false, interval)
                .map_err(|_| SysError::Errno(libc::EAGAIN))?;
        }
    }
    Ok(0)
}

/// ITIMER_REAL, ITIMER_VIRTUAL or ITIMER_PROF (`which` checked by the caller).
fn itimer_mut(task: &mut Task, which: u64) -> &mut Timer {
    match which {
        0 => &mut task.itimer,
        w => &mut task.cpu_itimers[w as usize - 1],
    }
}

/// Arms (or with a zero value disarms) ITIMER_REAL: SIGALRM after `value`, then every
/// `interval`.
fn arm_itimer(task: &mut Task, interval: Duration, value: Duration) {
    let alarm = super::sigframe::SigInfo {
        signo: libc::SIGALRM,
        code: super::sigframe::code::SI_KERNEL,
        uid: task.aux.uid,
        ..Default::default()
    };
    task.itimer.notify = Some((alarm, None));
    let first = (!value.is_zero()).then(|| Instant::now() + value);
    let me = task.me.clone();
    let _ = task.itimer.set(me, first, interval);
}

/// getitimer(2).
pub fn getitimer(task: &mut Task, a: Args) -> SysResult {
    if a[0] > 2 {
        return err(libc::EINVAL);
    }
    let (every, left) = itimer_mut(task, a[0]).remaining();
    task.mm.write_obj(a[1], &itimerval(every, left))?;
    Ok(0)
}

/// alarm(2): SIGALRM in `seconds` (0 cancels); returns the seconds the previous alarm had left.
pub fn alarm(task: &mut Task, a: Args) -> SysResult {
    let (_, left) = task.itimer.remaining();
    let secs = a[0] as u32 as u64;
    arm_itimer(task, Duration::ZERO, Duration::from_secs(secs));
    let old = left.as_secs() + u64::from(left.subsec_nanos() >= 500_000_000);
    Ok(if old == 0 && !left.is_zero() { 1 } else { old })
}

/// A timer: ITIMER_REAL, or a POSIX timer (`timer_create`). While armed, a host thread sleeps
/// until it fires and sends the program its signal, again every interval, until the timer
/// changes or the program ends.
#[derive(Debug, Default)]
pub struct Timer {
    clock: u64,
    /// The CPU time it counts, for a timer on a CPU-time clock (then `cpu_armed`, not
    /// `armed`, says when it fires).
    cpu: Option<CpuClock>,
    /// The signal it sends, and the thread it is for (SIGEV_THREAD_ID); `None`: nothing
    /// (SIGEV_NONE).
    notify: Option<(super::sigframe::SigInfo, Option<i32>)>,
    /// When it fires next, and its interval.
    armed: Option<(Instant, Duration)>,
    /// The CPU time at which it fires next, and its interval.
    cpu_armed: Option<(Duration, Duration)>,
    /// Bumped at each change: a sleeping timer thread of an older setting stops.
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Whether its signal is queued and not yet delivered, and the expiries since.
    overruns: std::sync::Arc<Overruns>,
}

/// A POSIX timer's signal is queued once, as on Linux: expiries while it waits to be delivered
/// are counted (the delivered signal's si_overrun, then timer_getoverrun) instead of queued, so
/// a timer firing faster than the program takes its signals neither floods the program nor mvm.
#[derive(Debug, Default)]
pub struct Overruns {
    queued: std::sync::atomic::AtomicBool,
    pending: std::sync::atomic::AtomicI32,
    last: std::sync::atomic::AtomicI32,
}

impl Overruns {
    /// Counts `n` more expiries while the signal waits (saturating at i32::MAX, Linux's
    /// DELAYTIMER_MAX).
    fn add(&self, n: i32) {
        use std::sync::atomic::Ordering;
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                Some(c.saturating_add(n))
            });
    }
}

/// The timer signal `info` was not queued (ignored, or its signal number already pending): its
/// timer may send the next one.
pub fn timer_signal_dropped(task: &mut Task, info: &super::sigframe::SigInfo) {
    if info.code != SI_TIMER {
        return;
    }
    if let Some(Some(t)) = task.timers.get(info.pid as usize) {
        t.overruns
            .queued
            .store(false, std::sync::atomic::Ordering::Release);
    }
}

/// The timer signal `info` is being delivered: its timer may queue the next one, and the
/// expiries it missed meanwhile go into `info` (si_overrun) and timer_getoverrun.
pub fn on_timer_signal(task: &mut Task, info: &mut super::sigframe::SigInfo) {
    use std::sync::atomic::Ordering;
    if info.code != SI_TIMER {
        return;
    }
    let Some(Some(t)) = task.timers.get(info.pid as usize) else {
        return;
    };
    let missed = t.overruns.pending.swap(0, Ordering::AcqRel);
    t.overruns.last.store(missed, Ordering::Release);
    t.overruns.queued.store(false, Ordering::Release);
    info.uid = missed as u32;
}

impl Timer {
    /// Stops its thread (the timer changes or goes away).
    pub fn disarm(&mut self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.armed = None;
        self.cpu_armed = None;
    }

    /// Arms it to fire first at `first` (`None` disarms it), then every `interval` (never if
    /// zero), for program `me`.
    fn set(
        &mut self,
        me: std::sync::Arc<crate::task::ProcHandle>,
        first: Option<Instant>,
        interval: Duration,
    ) -> std::io::Result<()> {
        use std::sync::atomic::Ordering;
        self.disarm();
        let Some(first) = first else {
            return Ok(());
        };
        self.armed = Some((first, interval));
        let Some((info, to)) = self.notify else {
            return Ok(());
        };
        let (generation, gen) = (
            self.generation.clone(),
            self.generation.load(Ordering::Acquire),
        );
        let overruns = self.overruns.clone();
        let spawned = std::thread::Builder::new()
            .name("timer".into())
            .stack_size(64 << 10)
            .spawn(move || {
                let mut at = first;
                loop {
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    if generation.load(Ordering::Acquire) != gen
                        || me.status.lock().unwrap().is_some()
                    {
                        return;
                    }
                    // A POSIX timer's signal waits to be delivered once (ITIMER_REAL's SIGALRM
                    // simply stays pending).
                    let posix = info.code == SI_TIMER;
                    if posix && overruns.queued.swap(true, Ordering::AcqRel) {
                        overruns.add(1);
                    } else {
                        match to {
                            Some(tid) => me.send_to_thread(tid, info),
                            None => me.send(info),
                        }
                    }
                    if interval.is_zero() {
                        return;
                    }
                    at += interval;
                    // Expiries already past are overruns at once, not a busy loop.
                    let now = Instant::now();
                    if at < now {
                        let behind = (now - at).as_nanos() / interval.as_nanos().max(1);
                        let missed = i32::try_from(behind).unwrap_or(i32::MAX);
                        overruns.add(missed);
                        at += interval * missed.max(0) as u32;
                    }
                }
            });
        if let Err(e) = spawned {
            self.armed = None;
            return Err(e);
        }
        Ok(())
    }

    /// Arms a CPU-time timer to fire first when its clock has counted `first` more (or, if
    /// `absolute`, when it reads `first`; `None` disarms it), then every `interval` of it,
    /// for program `me`. A host thread looks at the clock until then: at most every
    /// `CPU_LOOK`, and so CPU time counts while the program computes without exits.
    fn set_cpu(
        &mut self,
        me: std::sync::Arc<crate::task::ProcHandle>,
        first: Option<Duration>,
        absolute: bool,
        interval: Duration,
    ) -> std::io::Result<()> {
        use std::sync::atomic::Ordering;
        self.disarm();
        let (Some(first), Some(clock)) = (first, self.cpu.clone()) else {
            return Ok(());
        };
        let Some(now) = clock.now() else {
            // Its thread is gone: it never fires (as Linux's).
            return Ok(());
        };
        let first = if absolute { first } else { now + first };
        self.cpu_armed = Some((first, interval));
        let Some((info, to)) = self.notify else {
            return Ok(());
        };
        let overruns = self.overruns.clone();
        let posix = info.code == SI_TIMER;
        let sender = me.clone();
        let fire = move |now: Duration, at: Duration| {
            if posix && overruns.queued.swap(true, Ordering::AcqRel) {
                overruns.add(1);
            } else {
                match to {
                    Some(tid) => sender.send_to_thread(tid, info),
                    None => sender.send(info),
                }
            }
            if interval.is_zero() {
                return None;
            }
            // Expiries already past count as overruns at once, as for the wall clocks.
            let behind = (now.saturating_sub(at).as_nanos() / interval.as_nanos()) as u64;
            let missed = i32::try_from(behind).unwrap_or(i32::MAX);
            if posix && missed > 0 {
                overruns.add(missed);
            }
            Some(at + interval * (behind.min(u32::MAX as u64) as u32 + 1))
        };
        if let Err(e) = watch_cpu(me, clock, first, self.generation.clone(), fire) {
            self.cpu_armed = None;
            return Err(e);
        }
        Ok(())
    }

    /// (interval, time until it fires next); a one-shot timer that fired is disarmed.
    fn remaining(&mut self) -> (Duration, Duration) {
        if let Some(clock) = &self.cpu {
            let Some((at, every)) = self.cpu_armed else {
                return (Duration::ZERO, Duration::ZERO);
            };
            let now = clock.now().unwrap_or(Duration::ZERO);
            let mut next = at;
            if !every.is_zero() {
                if next <= now {
                    let behind = (now - next).as_nanos() / every.as_nanos();
                    next += every * (behind.min(u32::MAX as u128) as u32 + 1);
                }
            } else if next <= now {
                self.cpu_armed = None;
            }
            return (every, next.saturating_sub(now));
        }
        let Some((at, every)) = self.armed else {
            return (Duration::ZERO, Duration::ZERO);
        };
        let now = Instant::now();
        let mut next = at;
        if !every.is_zero() {
            while next <= now {
                next += every;
            }
        } else if next <= now {
            self.armed = None;
        }
        (every, next.saturating_duration_since(now))
    }
}

/// How often, at most, an armed CPU-time timer or limit looks at its clock. Linux looks at
/// each scheduler tick (1 to 4 ms); a thread computing in the guest makes no exit, so a host
/// thread looks instead, and only while something is armed.
const CPU_LOOK: Duration = Duration::from_millis(10);
/// How often, at least: a timer with an interval shorter than this fires this often, its
/// expiries in between merged (Linux's too are bounded by the tick).
const CPU_LOOK_MIN: Duration = Duration::from_millis(1);

/// Starts a host thread that waits until `clock` reads `at`, then calls `fire(now, at)`, which
/// says when next (`None`: never); until `generation` changes or program `me` ends.
fn watch_cpu(
    me: std::sync::Arc<crate::task::ProcHandle>,
    clock: CpuClock,
    mut at: Duration,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    mut fire: impl FnMut(Duration, Duration) -> Option<Duration> + Send + 'static,
) -> std::io::Result<()> {
    use std::sync::atomic::Ordering;
    let gen = generation.load(Ordering::Acquire);
    std::thread::Builder::new()
        .name("cpu-timer".into())
        .stack_size(64 << 10)
        .spawn(move || loop {
            if generation.load(Ordering::Acquire) != gen || me.status.lock().unwrap().is_some() {
                return;
            }
            let Some(now) = clock.now() else {
                return;
            };
            if now >= at {
                match fire(now, at) {
                    Some(next) => at = next,
                    None => return,
                }
            }
            // The clock counts at most as fast as the wall clock per thread: the time left
            // is the soonest it can be reached by one thread.
            let left = at.saturating_sub(now);
            std::thread::sleep(left.clamp(CPU_LOOK_MIN, CPU_LOOK));
        })
        .map(|_| ())
}

/// The watch for RLIMIT_CPU: the limits it watches for, if any.
#[derive(Debug, Default)]
pub struct CpuLimit {
    watching: Option<(u64, u64)>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The soft limit now: raised a second at each SIGXCPU, as Linux raises it.
    soft: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CpuLimit {
    /// The soft limit in force, if watched (what getrlimit reports after SIGXCPU).
    pub fn soft(&self) -> Option<u64> {
        self.watching
            .map(|_| self.soft.load(std::sync::atomic::Ordering::Acquire))
    }
}

/// Watches program `me`'s CPU time for its RLIMIT_CPU of `soft` and `hard` seconds, as Linux:
/// SIGXCPU at the soft limit, which then rises a second (and so every second after), SIGKILL
/// at the hard limit; nothing while the soft limit is infinite. Setting the limits in force
/// again changes nothing.
pub fn watch_cpu_limit(
    limit: &mut CpuLimit,
    me: &std::sync::Arc<crate::task::ProcHandle>,
    soft: u64,
    hard: u64,
) {
    use std::sync::atomic::Ordering;
    let wanted = (soft != u64::MAX).then_some((soft, hard));
    let current = limit
        .watching
        .map(|(_, h)| (limit.soft.load(Ordering::Acquire), h));
    if current == wanted {
        return;
    }
    limit.generation.fetch_add(1, Ordering::AcqRel);
    limit.watching = None;
    let Some((soft, hard)) = wanted else {
        return;
    };
    // A fresh word: a watch of older limits that is about to stop cannot raise this one.
    limit.soft = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(soft));
    let shown = limit.soft.clone();
    let secs = |s: u64| Duration::from_secs(s.min(1 << 40));
    let (mut soft_at, hard_at) = (secs(soft), (hard != u64::MAX).then(|| secs(hard)));
    let sender = me.clone();
    let fire = move |now: Duration, _at: Duration| {
        let signo = if hard_at.is_some_and(|h| now >= h) {
            libc::SIGKILL
        } else {
            libc::SIGXCPU
        };
        sender.send(super::sigframe::SigInfo {
            signo,
            code: super::sigframe::code::SI_KERNEL,
            ..Default::default()
        });
        if signo == libc::SIGKILL {
            return None;
        }
        soft_at += Duration::from_secs(1);
        shown.fetch_add(1, Ordering::AcqRel);
        Some(hard_at.map_or(soft_at, |h| soft_at.min(h)))
    };
    let first = hard_at.map_or(soft_at, |h| soft_at.min(h));
    let clock = CpuClock::process(me);
    if watch_cpu(me.clone(), clock, first, limit.generation.clone(), fire).is_ok() {
        limit.watching = Some((soft, hard));
    }
}

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;
/// `si_code` of a timer's signal.
pub const SI_TIMER: i32 = -2;

fn timer_mut(task: &mut Task, id: u64) -> Result<&mut Timer, SysError> {
    task.timers
        .get_mut(id as usize)
        .and_then(Option::as_mut)
        .ok_or(SysError::Errno(libc::EINVAL))
}

/// timer_create(2): on CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME or a CPU-time clock of
/// the program or one of its threads; SIGEV_SIGNAL, SIGEV_NONE, and SIGEV_THREAD_ID (to one
/// thread: glibc's SIGEV_THREAD helper).
pub fn timer_create(task: &mut Task, a: Args) -> SysResult {
    let clock = a[0];
    if (clock as i32) < 0 && clock as i32 & CPUCLOCK_WHICH == CPUCLOCK_WHICH {
        // A clock of a descriptor (a PTP device): none here has timers, as Linux's.
        return err(libc::EOPNOTSUPP);
    }
    let cpu = cpu_clock(task, clock as i32)?.map(|(c, _)| c);
    if cpu.is_none()
        && !matches!(
            clock as i32,
            libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME
        )
    {
        return err(libc::EINVAL);
    }
    let id = match task.timers.iter().position(Option::is_none) {
        Some(i) => i,
        None if task.timers.len() < 4096 => {
            task.timers.push(None);
            task.timers.len() - 1
        }
        None => return err(libc::EAGAIN),
    };
    let notify = if a[1] == 0 {
        Some((libc::SIGALRM, id as u64, None))
    } else {
        let ev: [u8; 20] = task.mm.read_obj(a[1])?;
        let word = |i: usize| i32::from_le_bytes(ev[i..i + 4].try_into().unwrap());
        let value = u64::from_le_bytes(ev[0..8].try_into().unwrap());
        let (signo, how) = (word(8), word(12));
        let tid = word(16);
        match how {
            SIGEV_NONE => None,
            SIGEV_SIGNAL if (1..=64).contains(&signo) => Some((signo, value, None)),
            SIGEV_THREAD_ID if (1..=64).contains(&signo) && task.me.kicker.has(tid) => {
                Some((signo, value, Some(tid)))
            }
            _ => return err(libc::EINVAL),
        }
    };
    task.mm.write_obj(a[2], &(id as i32))?;
    let notify = notify.map(|(signo, value, to)| {
        // si_timerid, si_overrun and si_value travel in `pid`, `uid` and `addr` (`to_bytes`).
        let info = super::sigframe::SigInfo {
            signo,
            code: SI_TIMER,
            pid: id as i32,
            uid: 0,
            addr: value,
            ..Default::default()
        };
        (info, to)
    });
    task.timers[id] = Some(Timer {
        clock,
        cpu,
        notify,
        ..Default::default()
    });
    Ok(0)
}

/// How long until `t` on the timer's clock, as a host `Instant` (an absolute time on
/// CLOCK_REALTIME follows the wall clock as it stands now).
fn deadline_of(clock: u64, t: [i64; 2], absolute: bool) -> Result<Instant, SysError> {
    let d = Duration::new(t[0] as u64, t[1] as u32);
    if !absolute {
        return Ok(Instant::now() + d);
    }
    let cur = now(clock)?;
    let cur = Duration::new(cur.tv_sec as u64, cur.tv_nsec as u32);
    Ok(Instant::now() + d.saturating_sub(cur))
}

/// timer_settime(2).
pub fn timer_settime(task: &mut Task, a: Args) -> SysResult {
    // A `struct itimerspec`: the interval, then the value.
    let every = read_timespec(task, a[2])?;
    let value = read_timespec(task, a[2] + 16)?;
    let me = task.me.clone();
    let t = timer_mut(task, a[0])?;
    let old = itimerspec(t.remaining());
    let interval = Duration::new(every[0] as u64, every[1] as u32);
    if t.cpu.is_some() {
        let first = (value != [0, 0]).then(|| Duration::new(value[0] as u64, value[1] as u32));
        t.set_cpu(me, first, a[1] & 1 != 0, interval)
            .map_err(|_| SysError::Errno(libc::EAGAIN))?;
        if a[3] != 0 {
            task.mm.write_obj(a[3], &old)?;
        }
        return Ok(0);
    }
    let first = if value == [0, 0] {
        None
    } else {
        Some(deadline_of(t.clock, value, a[1] & 1 != 0)?)
    };
    t.set(me, first, interval)
        .map_err(|_| SysError::Errno(libc::EAGAIN))?;
    if a[3] != 0 {
        task.mm.write_obj(a[3], &old)?;
    }
    Ok(0)
}

/// A `struct itimerspec` of (interval, time left).
fn itimerspec((every, left): (Duration, Duration)) -> [i64; 4] {
    [
        every.as_secs() as i64,
        every.subsec_nanos() as i64,
        left.as_secs() as i64,
        left.subsec_nanos() as i64,
    ]
}

/// timer_gettime(2).
pub fn timer_gettime(task: &mut Task, a: Args) -> SysResult {
    let cur = itimerspec(timer_mut(task, a[0])?.remaining());
    task.mm.write_obj(a[1], &cur)?;
    Ok(0)
}

/// timer_getoverrun(2): the expiries the last delivered signal stood for, less one.
pub fn timer_getoverrun(task: &mut Task, a: Args) -> SysResult {
    let t = timer_mut(task, a[0])?;
    Ok(t.overruns.last.load(std::sync::atomic::Ordering::Acquire) as u64)
}

/// timer_delete(2).
pub fn timer_delete(task: &mut Task, a: Args) -> SysResult {
    timer_mut(task, a[0])?.disarm();
    task.timers[a[0] as usize] = None;
    Ok(0)
}
