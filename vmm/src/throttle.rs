//! `--cpus N`: the run's threads together use at most N CPUs' worth of time, as CFS bandwidth
//! control (`cpu.max`) gives a container: in every 100 ms period the run may use N × 100 ms of
//! CPU time (mvm's whole process: the guest's time inside KVM_RUN and mvm's serving of it);
//! once that is used, its vCPUs are taken out of the guest and wait for the next period. A
//! thread blocked in a host call uses no CPU and is left alone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::seccomp::{Filters, Kind};
use crate::task::Machine;

/// The accounting period (CFS's default `cpu.cfs_period_us`).
const PERIOD: Duration = Duration::from_millis(100);
/// How often the budget is looked at within a period.
const TICK: Duration = Duration::from_millis(5);

/// A run's CPU budget.
#[derive(Debug)]
pub struct Throttle {
    quota: Duration,
    /// Set while the period's budget is used up.
    closed: AtomicBool,
    gate: Mutex<()>,
    opened: Condvar,
}

fn process_cpu_time() -> Duration {
    // SAFETY: a plain struct filled by the host.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is valid for writing.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Throttle {
    /// A budget of `cpus` CPUs.
    pub fn new(cpus: f64) -> Arc<Throttle> {
        Arc::new(Throttle {
            quota: PERIOD.mul_f64(cpus),
            closed: AtomicBool::new(false),
            gate: Mutex::new(()),
            opened: Condvar::new(),
        })
    }

    /// Whether vCPUs must wait now.
    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Waits until the budget is open again (the next period).
    pub fn wait_open(&self) {
        let mut g = self.gate.lock().unwrap();
        while self.closed() {
            g = self.opened.wait(g).unwrap();
        }
    }

    fn open(&self) {
        let _g = self.gate.lock().unwrap();
        self.closed.store(false, Ordering::Release);
        self.opened.notify_all();
    }

    /// Keeps the budget for `machine`'s run until the run is gone.
    pub fn start(self: &Arc<Self>, machine: Weak<Machine>) -> std::io::Result<()> {
        let me = self.clone();
        let filters = Filters::new(Kind::Throttle).map_err(std::io::Error::other)?;
        std::thread::Builder::new()
            .name("mvm-cpus".into())
            .stack_size(64 << 10)
            .spawn(move || {
                filters.apply_or_exit();
                me.keep(&machine)
            })
            .map(|_| ())
    }

    fn keep(&self, machine: &Weak<Machine>) {
        loop {
            self.open();
            let (start, used) = (Instant::now(), process_cpu_time());
            let end = start + PERIOD;
            loop {
                std::thread::sleep(TICK.min(end.saturating_duration_since(Instant::now())));
                let Some(m) = machine.upgrade() else {
                    self.open();
                    return;
                };
                if Instant::now() >= end {
                    break;
                }
                if process_cpu_time().saturating_sub(used) >= self.quota {
                    self.closed.store(true, Ordering::Release);
                    for p in m.all() {
                        p.kicker.interrupt_guests();
                    }
                    drop(m);
                    std::thread::sleep(end.saturating_duration_since(Instant::now()));
                    break;
                }
            }
        }
    }
}
