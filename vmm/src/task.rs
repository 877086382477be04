//! The running program: its address space, vCPU, file descriptors and signal state, and the loop
//! that turns each VM exit into a served syscall, a filled page, or the program's end.

use std::cell::Cell;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use kvm_bindings::CpuId;
use parking_lot::lock_api::ArcMutexGuard;
use parking_lot::RawMutex;
use vmm_sys_util::eventfd::EventFd;
use vmm_sys_util::signal::{register_signal_handler, SIGRTMIN};

use crate::boot::elf::{self, ExecError, Image};
use crate::boot::stack::{self, AuxInfo};
use crate::layout::{IRETQ, PIE_BASE, SYSCALL_ENTRY};
use crate::mm::{AddressSpace, Fault};
use crate::sys::fs::FdTable;
use crate::sys::sigframe::{code, SigInfo};
use crate::sys::signal::{self, SigShared, SignalState};
use crate::sys::{self, SysError};
use crate::vstate::vcpu::{has_error_code, CpuArea, GuestExit, IretFrame, Vcpu};

type Mutex<T> = parking_lot::Mutex<T>;

/// Why the program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// It exited with this status.
    Exited(u8),
    /// It was killed by signal `sig`; `detail` says why when it was a fault.
    Signaled {
        /// Signal number.
        sig: i32,
        /// What happened (a fault's address), or empty.
        detail: String,
    },
    /// mvm stopped it: `--timeout` expired.
    Timeout,
    /// mvm stopped it because mvm received signal `sig`.
    Stopped(i32),
    /// The VM itself failed.
    Broken(String),
}

/// What mvm asks of a running vCPU from another thread.
pub const STOP_NONE: u32 = 0;
/// Stop for `--timeout` (bit 0: no signal has number 0).
pub const STOP_TIMEOUT: u32 = 1;

/// The word the control loop shares with the vCPU thread: `STOP_TIMEOUT`, and bit N for each
/// signal N sent to mvm and not yet taken for the program (`sys::signal::take_host`).
pub type StopFlag = Arc<AtomicU32>;

/// An executable ready to replace the program: checked, opened, with its interpreter.
pub struct Prepared {
    image: Image,
    file: Arc<File>,
    path: Vec<u8>,
    interp: Option<(Image, Arc<File>, Vec<u8>)>,
}

thread_local! {
    /// This thread's vCPU `kvm_run.immediate_exit`, for the kick handler.
    static IMMEDIATE_EXIT: Cell<*mut u8> = const { Cell::new(std::ptr::null_mut()) };
}

/// The kick: interrupts a blocking host call (EINTR) and makes `KVM_RUN` return at once.
extern "C" fn kick_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let p = IMMEDIATE_EXIT.with(|c| c.get());
    if !p.is_null() {
        // SAFETY: `p` points into this thread's vCPU `kvm_run` mapping, set while it lives.
        unsafe { p.write_volatile(1) };
    }
}

/// Installs the kick signal's handler (once per process; no SA_RESTART, so that a kick ends a
/// blocking host call).
pub fn install_kick_handler() -> Result<(), i32> {
    register_signal_handler(SIGRTMIN(), kick_handler).map_err(|e| e.errno())
}

/// Points this thread's kick at `vcpu` (or at nothing).
fn arm_kick(vcpu: Option<&mut Vcpu>) {
    let p = vcpu.map_or(std::ptr::null_mut(), |v| v.immediate_exit_ptr());
    IMMEDIATE_EXIT.with(|c| c.set(p));
}

/// The program's threads as the host sees them, for kicks: shared with the control loop, with
/// a lock of its own (never held while taking the process lock).
#[derive(Debug, Default)]
pub struct Kicker {
    threads: std::sync::Mutex<Vec<Kickee>>,
    /// Held shared by each thread while its vCPU runs, exclusively by a thread that changes what
    /// every running vCPU relies on (KVM's memory slots: `stop_guests`).
    gate: parking_lot::RwLock<()>,
    /// A thread repeats unanswered kicks (see `kick_one`).
    rekicking: AtomicBool,
    /// CPU time of the threads that have left, in nanoseconds (changed under `threads`' lock,
    /// so that a sum over the list and this never counts a thread twice or not at all).
    exited_cpu: std::sync::atomic::AtomicU64,
}

/// What a thread tells its kickers.
#[derive(Debug, Default)]
pub struct ThreadFlags {
    /// Set while the thread is between taking `Kicker::gate` and leaving `KVM_RUN`.
    pub in_guest: AtomicBool,
    /// Kicked, and not yet back to take the process lock since.
    pub kicked: AtomicBool,
}

/// One registered thread.
#[derive(Debug)]
struct Kickee {
    tid: i32,
    pthread: libc::pthread_t,
    wake: Arc<Wake>,
    flags: Arc<ThreadFlags>,
    /// The host's CPU-time clock of its host thread (the guest thread's CPU time: its vCPU's
    /// time in the guest and mvm's serving of its exits), and that clock's reading when the
    /// thread was registered (what the host thread spent before is not the guest thread's).
    clock: Option<libc::clockid_t>,
    base: std::time::Duration,
}

/// A host CPU-time clock's reading (`None` if the host refuses it).
pub fn read_cpu_clock(clock: libc::clockid_t) -> Option<std::time::Duration> {
    // SAFETY: a plain struct filled by the host.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is valid for writing; the host checks the clock id.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return None;
    }
    Some(std::time::Duration::new(
        ts.tv_sec as u64,
        ts.tv_nsec as u32,
    ))
}

/// How often an unanswered kick is repeated.
const REKICK: std::time::Duration = std::time::Duration::from_millis(10);

impl Kicker {
    /// Registers thread `tid`, served by host thread `pthread`, woken through `wake`, telling
    /// its state through `flags`.
    pub fn add(
        &self,
        tid: i32,
        pthread: libc::pthread_t,
        wake: Arc<Wake>,
        flags: Arc<ThreadFlags>,
    ) {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: `pthread` is a live thread (the caller's own, or one it just started that
        // waits for the process lock the caller holds); `clock` is valid for writing.
        let clock =
            (unsafe { libc::pthread_getcpuclockid(pthread, &mut clock) } == 0).then_some(clock);
        let base = clock.and_then(read_cpu_clock).unwrap_or_default();
        self.threads.lock().unwrap().push(Kickee {
            tid,
            pthread,
            wake,
            flags,
            clock,
            base,
        });
    }

    /// Forgets thread `tid`, keeping its CPU time in the program's.
    pub fn remove(&self, tid: i32) {
        let mut list = self.threads.lock().unwrap();
        if let Some(t) = list.iter().find(|t| t.tid == tid) {
            let spent = Self::spent(t).as_nanos() as u64;
            self.exited_cpu.fetch_add(spent, Ordering::AcqRel);
        }
        list.retain(|t| t.tid != tid);
    }

    /// A registered thread's CPU time since it was registered (the caller holds the list's
    /// lock: the thread is alive, so its clock is valid).
    fn spent(t: &Kickee) -> std::time::Duration {
        t.clock
            .and_then(read_cpu_clock)
            .map(|d| d.saturating_sub(t.base))
            .unwrap_or_default()
    }

    /// The program's CPU time: its live threads' and its exited threads', as Linux counts a
    /// process's.
    pub fn cpu_time(&self) -> std::time::Duration {
        let list = self.threads.lock().unwrap();
        let exited = self.exited_cpu.load(Ordering::Acquire);
        list.iter().map(Self::spent).sum::<std::time::Duration>()
            + std::time::Duration::from_nanos(exited)
    }

    /// Thread `tid`'s CPU time; `None` if it is gone.
    pub fn thread_cpu_time(&self, tid: i32) -> Option<std::time::Duration> {
        let list = self.threads.lock().unwrap();
        list.iter().find(|t| t.tid == tid).map(Self::spent)
    }

    fn signal(pthread: libc::pthread_t) {
        // SAFETY: registered threads have not returned (they deregister first, under the list's
        // lock, which the callers hold), so `pthread` is valid.
        unsafe { libc::pthread_kill(pthread, SIGRTMIN()) };
    }

    /// Wakes `t` and signals it. A signal that lands just before the thread enters a blocking
    /// host call (a read of a pipe, an accept) is lost, so the kick is repeated every `REKICK`
    /// until the thread looks at what was sent to it (`Task::answer_kicks`).
    fn kick_one(self: &Arc<Self>, t: &Kickee) {
        // Flagged before the wake-up: a thread answers (clears it) only right before it looks
        // at what was sent to it, which the sender queued before kicking.
        t.flags.kicked.store(true, Ordering::SeqCst);
        t.wake.wake();
        Self::signal(t.pthread);
        if !self.rekicking.swap(true, Ordering::AcqRel) {
            let me = self.clone();
            let spawned = std::thread::Builder::new()
                .name("mvm-rekick".into())
                .stack_size(64 << 10)
                .spawn(move || me.rekick());
            if spawned.is_err() {
                self.rekicking.store(false, Ordering::Release);
            }
        }
    }

    /// Repeats the signal to every thread whose kick is unanswered, until none is.
    fn rekick(&self) {
        loop {
            std::thread::sleep(REKICK);
            let mut waiting = false;
            for t in self.threads.lock().unwrap().iter() {
                if t.flags.kicked.load(Ordering::Acquire) {
                    Self::signal(t.pthread);
                    waiting = true;
                }
            }
            if !waiting {
                self.rekicking.store(false, Ordering::Release);
                // A kick between the scan and the store found `rekicking` still set: look again.
                let late = self
                    .threads
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|t| t.flags.kicked.load(Ordering::Acquire));
                if !late || self.rekicking.swap(true, Ordering::AcqRel) {
                    return;
                }
            }
        }
    }

    /// How many threads it has.
    pub fn count(&self) -> usize {
        self.threads.lock().unwrap().len()
    }

    /// Whether thread `tid` is alive.
    pub fn has(&self, tid: i32) -> bool {
        self.threads.lock().unwrap().iter().any(|t| t.tid == tid)
    }

    /// Kicks thread `tid` out of the guest or of a blocking call; false if it is gone.
    pub fn kick(self: &Arc<Self>, tid: i32) -> bool {
        let list = self.threads.lock().unwrap();
        match list.iter().find(|t| t.tid == tid) {
            Some(t) => {
                self.kick_one(t);
                true
            }
            None => false,
        }
    }

    /// Kicks every thread but `except`.
    pub fn kick_all(self: &Arc<Self>, except: i32) {
        for t in self.threads.lock().unwrap().iter() {
            if t.tid != except {
                self.kick_one(t);
            }
        }
    }

    /// Signals the threads that are in the guest, so that they leave it (without a kick to
    /// answer: `--cpus`' throttle).
    pub fn interrupt_guests(&self) {
        for t in self.threads.lock().unwrap().iter() {
            if t.flags.in_guest.load(Ordering::Acquire) {
                Self::signal(t.pthread);
            }
        }
    }

    /// Takes every thread out of the guest and keeps it out until the guard drops. The caller
    /// holds the process lock, so no thread can enter meanwhile; the ones inside are signalled
    /// (not woken: a thread blocked in a host call is outside the guest and stays undisturbed).
    pub fn stop_guests(&self) -> parking_lot::RwLockWriteGuard<'_, ()> {
        loop {
            for t in self.threads.lock().unwrap().iter() {
                if t.flags.in_guest.load(Ordering::Acquire) {
                    Self::signal(t.pthread);
                }
            }
            if let Some(g) = self.gate.try_write_for(std::time::Duration::from_millis(2)) {
                return g;
            }
        }
    }
}

/// One program of the run as the others see it: for signals between programs, wait(2), vfork
/// and the end of the run. Its own state is in its `Process`, which nobody else locks.
#[derive(Debug)]
pub struct ProcHandle {
    /// Its pid.
    pub pid: i32,
    /// Its parent's pid (0 for the first program; 1 once its parent has ended).
    pub ppid: AtomicI32,
    /// Its stop word (host signals, `--timeout`).
    pub stop: StopFlag,
    /// Its threads.
    pub kicker: Arc<Kicker>,
    /// Signals sent to it from outside its threads (other programs, timers), not yet taken;
    /// with the thread they are for, if one.
    mail: std::sync::Mutex<Vec<(Option<i32>, SigInfo)>>,
    /// Whether `mail` holds anything.
    pub has_mail: AtomicBool,
    /// Its wait status once it has ended: a zombie until its parent reaps it.
    pub status: std::sync::Mutex<Option<i32>>,
    /// Set when it has exec'd or ended: a vfork parent goes on then.
    pub released: AtomicBool,
    /// Set when it has exec'd (a vfork child that ended without exec'ing leaves its writes to
    /// its parent).
    pub execd: AtomicBool,
    /// What `/proc/PID` shows of it to the run (set at each exec).
    pub shown: std::sync::Mutex<Shown>,
    /// When it was created.
    pub born: Instant,
    /// Its process group and session, and whether it has the run's controlling terminal
    /// (`sys::tty`): job control as a shell drives it.
    pub job: JobIds,
    /// Stopped by a stop signal until SIGCONT or SIGKILL (its threads run no guest code), and
    /// what its parent's `wait(WUNTRACED|WCONTINUED)` has not yet been told.
    pub suspended: std::sync::Mutex<Suspension>,
    /// Its (user, system) CPU time once it has ended, its reaped children's included: what
    /// its parent's wait reports and adds to its own children's.
    pub ended_cpu: std::sync::Mutex<(std::time::Duration, std::time::Duration)>,
}

/// A program's process group, session and controlling terminal.
#[derive(Debug, Default)]
pub struct JobIds {
    /// Process group id.
    pub pgid: AtomicI32,
    /// Session id.
    pub sid: AtomicI32,
    /// Whether the program has a controlling terminal (the run's: `Machine::tty`).
    pub ctty: AtomicBool,
}

impl JobIds {
    /// The ids a forked program starts with: its parent's.
    pub fn inherit(&self) -> JobIds {
        JobIds {
            pgid: AtomicI32::new(self.pgid()),
            sid: AtomicI32::new(self.sid()),
            ctty: AtomicBool::new(self.ctty.load(Ordering::Acquire)),
        }
    }

    /// Its process group.
    pub fn pgid(&self) -> i32 {
        self.pgid.load(Ordering::Acquire)
    }

    /// Its session.
    pub fn sid(&self) -> i32 {
        self.sid.load(Ordering::Acquire)
    }
}

/// Job-control state of one program (see `ProcHandle::suspended`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Suspension {
    /// The stop signal it is stopped by, while stopped.
    pub by: Option<i32>,
    /// A stop or continue its parent's wait has not reported yet.
    pub report: Option<JobReport>,
}

/// A change of a child's state that `wait` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobReport {
    /// Stopped by this signal (WUNTRACED).
    Stopped(i32),
    /// Continued by SIGCONT (WCONTINUED).
    Continued,
}

/// A program as `/proc` shows it to the other programs of its run.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    /// Its executable's guest path.
    pub exe: Vec<u8>,
    /// Its arguments, each ending with a NUL.
    pub cmdline: Vec<u8>,
}

impl ProcHandle {
    /// A handle for program `pid`, child of `ppid`, in the process group and session `job`.
    pub fn new(
        pid: i32,
        ppid: i32,
        stop: StopFlag,
        kicker: Arc<Kicker>,
        job: JobIds,
    ) -> Arc<ProcHandle> {
        Arc::new(ProcHandle {
            pid,
            ppid: AtomicI32::new(ppid),
            stop,
            kicker,
            mail: Default::default(),
            has_mail: AtomicBool::new(false),
            status: Default::default(),
            released: AtomicBool::new(false),
            execd: AtomicBool::new(false),
            shown: Default::default(),
            born: Instant::now(),
            job,
            suspended: Default::default(),
            ended_cpu: Default::default(),
        })
    }

    /// Whether it is stopped (job control).
    pub fn is_suspended(&self) -> bool {
        self.suspended.lock().unwrap().by.is_some()
    }

    /// Queues `info` for the program and kicks its threads.
    pub fn send(&self, info: SigInfo) {
        self.mail.lock().unwrap().push((None, info));
        self.has_mail.store(true, Ordering::Release);
        self.kicker.kick_all(0);
    }

    /// Queues `info` for its thread `tid` and kicks that thread.
    pub fn send_to_thread(&self, tid: i32, info: SigInfo) {
        self.mail.lock().unwrap().push((Some(tid), info));
        self.has_mail.store(true, Ordering::Release);
        self.kicker.kick(tid);
    }

    /// Takes the signals sent from outside, each with the thread it is for, if one.
    pub fn take_mail(&self) -> Vec<(Option<i32>, SigInfo)> {
        if !self.has_mail.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *self.mail.lock().unwrap())
    }
}

/// Every program of one run (the first one and those it forks): ids, and the host threads to
/// join at the end. Its locks are never held while taking a process lock.
#[derive(Debug)]
pub struct Machine {
    /// When the run began (`/proc/uptime`, start times).
    pub started: Instant,
    next_id: AtomicI32,
    procs: std::sync::Mutex<Vec<Arc<ProcHandle>>>,
    handles: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Threads waiting on futexes in shared memory (`MAP_SHARED`): any program of the run may
    /// wake them.
    pub shared_futexes: std::sync::Mutex<Vec<SharedWaiter>>,
    /// Unix socket names bound in this run: the host's name (as mvm bound it) → the program's.
    pub unix_names: std::sync::Mutex<std::collections::HashMap<Vec<u8>, Vec<u8>>>,
    /// The run's controlling terminal, if it has one (`-t`'s pseudo-terminal, or mvm's own).
    pub tty: Option<crate::sys::tty::Ctty>,
    /// The run's IPC namespace: its SysV semaphores and message queues, its POSIX message
    /// queues (never the host's, which every run would share and which would outlive it).
    pub ipc: crate::sys::ipc::Ipc,
    /// What the run was configured with that its programs see.
    pub conf: RunConf,
    /// Written when the first program stops (job control), for the control loop, which then
    /// stops mvm itself as a shell's child stops.
    pub first_stopped: EventFd,
    /// What mvm tells the user if the run fails: a path the program missed that the host has.
    pub hint: std::sync::Mutex<Option<String>>,
    /// The run's CPU budget (`--cpus`).
    pub throttle: Option<Arc<crate::throttle::Throttle>>,
}

/// What a run's programs see of its configuration.
#[derive(Debug, Clone)]
pub struct RunConf {
    /// What `uname` and `gethostname` say.
    pub hostname: String,
    /// How many CPUs the VM shows.
    pub cpus: usize,
    /// Most programs and threads the run may hold at once (`--pids-limit`).
    pub pids_limit: Option<usize>,
    /// The CPU time the run may use, in CPUs (`--cpus`).
    pub cpu_quota: Option<f64>,
}

impl Default for RunConf {
    fn default() -> Self {
        RunConf {
            hostname: crate::sys::process::host_name(),
            cpus: crate::sys::process::host_cpus(),
            pids_limit: None,
            cpu_quota: None,
        }
    }
}

impl Machine {
    /// A run's machine: ids from 2 on (1 is the first program).
    pub fn new(tty: Option<crate::sys::tty::Ctty>, conf: RunConf) -> std::io::Result<Arc<Machine>> {
        Ok(Arc::new(Machine {
            started: Instant::now(),
            next_id: AtomicI32::new(2),
            procs: Default::default(),
            handles: Default::default(),
            unix_names: Default::default(),
            shared_futexes: Default::default(),
            ipc: Default::default(),
            tty,
            first_stopped: EventFd::new(libc::EFD_NONBLOCK | libc::EFD_CLOEXEC)?,
            hint: Default::default(),
            throttle: conf.cpu_quota.map(crate::throttle::Throttle::new),
            conf,
        }))
    }

    /// The programs of process group `pgid`.
    pub fn group(&self, pgid: i32) -> Vec<Arc<ProcHandle>> {
        let procs = self.procs.lock().unwrap();
        procs
            .iter()
            .filter(|p| p.job.pgid() == pgid && p.status.lock().unwrap().is_none())
            .cloned()
            .collect()
    }

    /// Whether process group `pgid` is orphaned: no member has a parent in another group of
    /// the same session. The first program's parent is the host's (a shell), so its group
    /// never is.
    pub fn orphaned(&self, pgid: i32) -> bool {
        let procs = self.procs.lock().unwrap();
        let member =
            |p: &&Arc<ProcHandle>| p.job.pgid() == pgid && p.status.lock().unwrap().is_none();
        !procs.iter().filter(member).any(|p| {
            p.pid == 1
                || procs.iter().any(|q| {
                    q.pid == p.ppid.load(Ordering::Acquire)
                        && q.job.pgid() != pgid
                        && q.job.sid() == p.job.sid()
                })
        })
    }

    /// Sends `info` to every program of the run but `except` (the end of the run: SIGKILL).
    pub fn send_all(&self, info: SigInfo, except: i32) {
        for p in self.all().iter().filter(|p| p.pid != except) {
            p.send(info);
        }
    }

    /// The foreground process group of the run's terminal, or the first program's group when
    /// it has none: where the signals a terminal makes (Ctrl-C, a window change) go.
    pub fn foreground(&self) -> i32 {
        match &self.tty {
            Some(t) if t.session() != 0 => t.foreground(),
            _ => self.find(1).map_or(1, |p| p.job.pgid()),
        }
    }

    /// A fresh pid or tid.
    pub fn next_id(&self) -> i32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a program.
    pub fn add(&self, p: Arc<ProcHandle>) {
        self.procs.lock().unwrap().push(p);
    }

    /// Forgets a program (reaped).
    pub fn remove(&self, pid: i32) {
        self.procs.lock().unwrap().retain(|p| p.pid != pid);
    }

    /// Program `pid`.
    pub fn find(&self, pid: i32) -> Option<Arc<ProcHandle>> {
        self.procs
            .lock()
            .unwrap()
            .iter()
            .find(|p| p.pid == pid)
            .cloned()
    }

    /// How many programs the run holds.
    pub fn count(&self) -> usize {
        self.procs.lock().unwrap().len()
    }

    /// Whether one more program or thread would pass `--pids-limit`.
    pub fn at_pids_limit(&self) -> bool {
        let Some(limit) = self.conf.pids_limit else {
            return false;
        };
        let procs = self.procs.lock().unwrap();
        let tasks: usize = procs
            .iter()
            .filter(|p| p.status.lock().unwrap().is_none())
            .map(|p| p.kicker.count().max(1))
            .sum();
        tasks >= limit
    }

    /// Every program.
    pub fn all(&self) -> Vec<Arc<ProcHandle>> {
        self.procs.lock().unwrap().clone()
    }

    /// Sets `why` in every program's stop word and kicks them all (the timeout).
    pub fn stop_all(&self, why: u32, except: i32) {
        for p in self.all().iter().filter(|p| p.pid != except) {
            p.stop.fetch_or(why, Ordering::AcqRel);
            p.kicker.kick_all(0);
        }
    }

    /// Keeps a forked program's host thread for the end of the run (joining those that have
    /// ended meanwhile: an unjoined thread keeps its stack).
    pub fn keep(&self, h: std::thread::JoinHandle<()>) {
        let mut hs = self.handles.lock().unwrap();
        join_finished(&mut hs);
        hs.push(h);
    }

    /// Waits for every forked program's host thread; those still running when `kill` is set are
    /// sent SIGKILL (again now and then: a kick can land before a blocking call).
    pub fn join_all(&self, kill: bool) {
        loop {
            let mut hs = std::mem::take(&mut *self.handles.lock().unwrap());
            if hs.is_empty() {
                return;
            }
            while !hs.is_empty() {
                let (done, rest): (Vec<_>, Vec<_>) = hs.into_iter().partition(|h| h.is_finished());
                for h in done {
                    let _ = h.join();
                }
                hs = rest;
                if hs.is_empty() {
                    break;
                }
                if kill {
                    let info = SigInfo {
                        signo: libc::SIGKILL,
                        from_host: true,
                        ..Default::default()
                    };
                    self.send_all(info, 1);
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    }
}

/// The wait(2) status of a program that ended so.
pub fn wait_status(r: &ExitReason) -> i32 {
    match r {
        ExitReason::Exited(c) => (*c as i32) << 8,
        ExitReason::Signaled { sig, .. } | ExitReason::Stopped(sig) => *sig & 0x7f,
        ExitReason::Timeout | ExitReason::Broken(_) => libc::SIGKILL,
    }
}

/// How a thread's run ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The whole program ends.
    Process(ExitReason),
    /// This thread exits (`exit(2)`) with this status; the others go on.
    Thread(u8),
}

/// A futex word in shared memory, as every program that maps it names it: the file's device
/// and inode, and the word's offset in the file.
pub type SharedKey = (u64, u64, u64);

/// A thread waiting on a futex in shared memory.
#[derive(Debug)]
pub struct SharedWaiter {
    /// The word.
    pub key: SharedKey,
    /// The waiting thread (thread ids are unique in the run).
    pub tid: i32,
    /// FUTEX_WAIT_BITSET's mask.
    pub bitset: u32,
    /// Its wake-up.
    pub wake: Arc<Wake>,
}

/// A thread waiting in `futex(2)`.
#[derive(Debug)]
pub struct FutexWaiter {
    /// The waiting thread.
    pub tid: i32,
    /// The futex word's address.
    pub uaddr: u64,
    /// FUTEX_WAIT_BITSET's mask.
    pub bitset: u32,
    /// Its wake-up.
    pub wake: Arc<Wake>,
}

/// What all the program's threads share: one address space, one VM, the descriptors, signal
/// dispositions, the filesystem view. One lock guards it all (`Task` holds it while serving an
/// exit and lets it go while the guest runs or a call blocks).
pub struct Process {
    /// Idle vCPUs of threads that exited, with their pages, for the next thread.
    pub spare: Vec<(Vcpu, CpuArea)>,
    /// The VM (kept alive as long as the vCPUs; dropped before guest memory).
    pub vm: crate::vstate::vm::Vm,
    /// CPUID for new vCPUs.
    pub cpuid: CpuId,
    /// vCPUs created so far (the next one's id).
    pub vcpus: u64,
    /// File descriptors.
    pub fds: FdTable,
    /// Signal dispositions and signals pending for the whole program.
    pub sigs: SigShared,
    /// Working directory.
    pub cwd: Vec<u8>,
    /// What of the host the program may reach.
    pub fs: crate::policy::FsView,
    /// The ports it may listen on.
    pub ports: crate::policy::Ports,
    /// ITIMER_REAL (setitimer, alarm).
    pub itimer: crate::sys::time::Timer,
    /// POSIX timers (`timer_create`), by id.
    pub timers: Vec<Option<crate::sys::time::Timer>>,
    /// ITIMER_VIRTUAL and ITIMER_PROF, which count the program's CPU time.
    pub cpu_itimers: [crate::sys::time::Timer; 2],
    /// The watch on its CPU time for RLIMIT_CPU.
    pub cpu_limit: crate::sys::time::CpuLimit,
    /// The (user, system) CPU time of its children that it has reaped (RUSAGE_CHILDREN).
    pub children_cpu: (std::time::Duration, std::time::Duration),
    /// `--trace`: where the trace goes (shared by every program of the run).
    pub trace: Option<Arc<crate::sys::trace::Tracer>>,
    /// The path of the running executable (`/proc/self/exe`), for messages.
    pub exe: Vec<u8>,
    /// What the auxiliary vector reports.
    pub aux: AuxInfo,
    /// The vDSO image (a memfd), mapped into every program.
    pub vdso_file: Arc<File>,
    /// Where the current program's vDSO is.
    pub vdso: Option<crate::vdso::Mapped>,
    /// The vDSO's clock data.
    pub clock: crate::vdso::Clock,
    /// Resource limits that `prlimit64` has set: (resource, soft, hard).
    pub rlimits: Vec<(u32, u64, u64)>,
    /// Its supplementary groups (its user and group are `aux.uid`, `aux.gid`).
    pub groups: Vec<u32>,
    /// Bumped when its ids change: each serving thread takes them on (`sys::process::creds`).
    pub creds_gen: u64,
    /// This program as the others see it.
    pub me: Arc<ProcHandle>,
    /// Every program of the run.
    pub machine: Arc<Machine>,
    /// Threads alive.
    pub live: usize,
    /// The main thread's signal mask as of its last return to the guest or to a blocking wait
    /// (`None` once it has exited): a signal for the program goes to the main thread unless it
    /// blocks it, as Linux's `complete_signal` prefers it.
    pub main_mask: Option<u64>,
    /// How its threads meet: signals between them, futex queues, the program's end.
    pub threads: Threads,
    /// What `--timings` reports.
    pub stats: Stats,
    /// Its address space (last: guest memory outlives the vCPUs and VM that use it).
    pub mm: AddressSpace,
}

/// How a program's threads meet (see `Process::threads`).
#[derive(Default)]
pub struct Threads {
    /// Signals sent to one thread by another, not yet taken by it: (tid, siginfo).
    pub inbox: Vec<(i32, SigInfo)>,
    /// Threads waiting in futex(2).
    pub futexes: Vec<FutexWaiter>,
    /// Set when the program ends (exit_group, a fatal signal, mvm stopping it, its last
    /// thread's exit): every thread returns.
    pub end: Option<ExitReason>,
    /// Set by a thread that execs while others run: every other thread exits (Linux's
    /// `de_thread`).
    pub zap: Option<i32>,
    /// Host threads of the threads created by clone, for the main thread to join.
    pub handles: Vec<std::thread::JoinHandle<()>>,
}

/// Counts for `--timings`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Number of syscalls served (for `--timings`).
    pub syscalls: u64,
    /// Number of page faults served.
    pub faults: u64,
    /// Time spent inside `KVM_RUN` (the guest, and KVM on its behalf), for `--timings`.
    pub guest_time: std::time::Duration,
}

impl Process {
    /// Its pid.
    pub fn pid(&self) -> i32 {
        self.me.pid
    }
}

/// One thread of the program: its vCPU and its own signal state, and (while it serves an exit)
/// the process lock — through which it reaches everything shared (`Deref` to `Process`).
pub struct Task {
    /// Its vCPU.
    pub vcpu: Vcpu,
    /// Its vCPU's ring-0 stack and tables.
    pub cpu: CpuArea,
    /// Its mask, pending signals, alternate stack.
    pub sig: SignalState,
    /// Its thread id (the main thread's is the pid, 1).
    pub tid: i32,
    /// `set_tid_address` / CLONE_CHILD_CLEARTID.
    pub clear_child_tid: u64,
    /// `set_robust_list`.
    pub robust_list: u64,
    /// Written to wake it from a blocking wait (futex, pause, sigsuspend).
    pub wake: Arc<Wake>,
    /// What it tells its kickers (see `Kicker::stop_guests`, `Kicker::kick_one`).
    pub flags: Arc<ThreadFlags>,
    /// The `Process::creds_gen` whose ids this host thread has taken on, if any.
    pub creds_applied: Option<u64>,
    /// Its own time inside `KVM_RUN` (`Stats::guest_time` is the program's).
    pub guest_time: std::time::Duration,
    shared: Arc<Mutex<Process>>,
    guard: Option<ArcMutexGuard<RawMutex, Process>>,
}

impl std::ops::Deref for Task {
    type Target = Process;
    fn deref(&self) -> &Process {
        self.guard
            .as_deref()
            .expect("the process lock is held while serving")
    }
}

impl std::ops::DerefMut for Task {
    fn deref_mut(&mut self) -> &mut Process {
        self.guard
            .as_deref_mut()
            .expect("the process lock is held while serving")
    }
}

fn pthread_self() -> libc::pthread_t {
    // SAFETY: no preconditions.
    unsafe { libc::pthread_self() }
}

/// Writes `frame` on `cpu`'s ring-0 stack and points `vcpu` at the kernel's `iretq`.
pub fn write_iret(
    ram: &crate::vstate::memory::GuestRam,
    cpu: &CpuArea,
    vcpu: &mut Vcpu,
    frame: IretFrame,
) {
    let at = cpu.stack_top - 40;
    let words = [frame.rip, frame.cs, frame.rflags, frame.rsp, frame.ss];
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    ram.write_pool(cpu.phys(at), &bytes);
    let r = vcpu.regs_mut();
    r.rsp = at;
    r.rip = IRETQ;
}

/// A thread's wake-up: a word it sleeps on (a host futex: no descriptor, so a program's
/// threads cost the host one descriptor each, their vCPU's), and an eventfd made only when the
/// thread first waits in a host poll beside other descriptors (`Wake::fd`).
#[derive(Debug, Default)]
pub struct Wake {
    /// Nonzero once woken, until taken.
    word: AtomicU32,
    fd: std::sync::OnceLock<EventFd>,
}

impl Wake {
    /// Wakes the thread, however it waits: asleep on the word, or in a poll on the eventfd.
    pub fn wake(&self) {
        self.word.store(1, Ordering::SeqCst);
        // The word stored, then the eventfd looked for; `fd` makes it, then looks at the word:
        // one of the two sees the other (the fences order each side's store before its load).
        std::sync::atomic::fence(Ordering::SeqCst);
        // SAFETY: FUTEX_WAKE on a word that outlives the call.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.word.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                1,
            )
        };
        if let Some(fd) = self.fd.get() {
            let _ = fd.write(1);
        }
    }

    /// Takes a pending wake-up, if any.
    pub fn take(&self) {
        self.word.store(0, Ordering::SeqCst);
        if let Some(fd) = self.fd.get() {
            let _ = fd.read();
        }
    }

    /// Sleeps until woken, a host signal (a kick), or `deadline`; whether it was woken. Does
    /// not take the wake-up.
    pub fn sleep(&self, deadline: Option<Instant>) -> bool {
        if self.word.load(Ordering::SeqCst) != 0 {
            return true;
        }
        let timeout = deadline.map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            libc::timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: left.subsec_nanos() as i64,
            }
        });
        let tp = timeout.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // SAFETY: FUTEX_WAIT on a word that outlives the call; `tp` is null or a valid
        // (relative) timespec.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.word.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                0,
                tp,
            )
        };
        self.word.load(Ordering::SeqCst) != 0
    }

    /// The descriptor a host poll waits on beside others, readable once the thread is woken;
    /// made on first use (EMFILE when the host has no descriptor left).
    pub fn fd(&self) -> Result<std::os::fd::RawFd, SysError> {
        let fd = match self.fd.get() {
            Some(fd) => fd,
            None => {
                let fd = EventFd::new(libc::EFD_NONBLOCK | libc::EFD_CLOEXEC)
                    .map_err(|_| SysError::Errno(libc::EMFILE))?;
                let _ = self.fd.set(fd);
                self.fd.get().expect("just set")
            }
        };
        std::sync::atomic::fence(Ordering::SeqCst);
        // A wake-up given before the eventfd existed is on the word only.
        if self.word.load(Ordering::SeqCst) != 0 {
            let _ = fd.write(1);
        }
        Ok(fd.as_raw_fd())
    }
}

impl Task {
    /// The main thread (tid 1) of `process`, holding its lock.
    pub fn main(process: Process, vcpu: Vcpu) -> Task {
        let shared = Arc::new(Mutex::new(process));
        let guard = Some(shared.lock_arc());
        Task {
            vcpu,
            cpu: CpuArea::boot(),
            sig: SignalState::default(),
            tid: 1,
            clear_child_tid: 0,
            robust_list: 0,
            wake: Arc::default(),
            flags: Arc::default(),
            creds_applied: None,
            guest_time: Default::default(),
            shared,
            guard,
        }
    }

    /// A new thread of the same process (the caller holds the lock; the new task does not).
    pub fn sibling(
        &self,
        vcpu: Vcpu,
        cpu: CpuArea,
        tid: i32,
        sig: SignalState,
    ) -> Result<Task, std::io::Error> {
        Ok(Task {
            vcpu,
            cpu,
            sig,
            tid,
            clear_child_tid: 0,
            robust_list: 0,
            wake: Arc::default(),
            flags: Arc::default(),
            creds_applied: None,
            guest_time: Default::default(),
            shared: self.shared.clone(),
            guard: None,
        })
    }

    /// Runs `f` (a blocking host call) without the process lock, so that the other threads go
    /// on meanwhile.
    pub fn unlocked<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.publish_mask();
        self.guard = None;
        let r = f();
        self.guard = Some(self.shared.lock_arc());
        r
    }

    /// About to look at what was sent to it (signals; `sys::signal::take_host`): a kick before
    /// this point is seen now and needs no repeating; one after it sets the flag again.
    pub fn answer_kicks(&self) {
        self.flags.kicked.store(false, Ordering::SeqCst);
    }

    /// Sleeps without the lock until this thread is woken (a kick, a futex wake) or `deadline`
    /// passes; false when it passed.
    pub fn wait_wake(&mut self, deadline: Option<Instant>) -> bool {
        let wake = self.wake.clone();
        self.unlocked(|| {
            let woken = wake.sleep(deadline);
            wake.take();
            woken || deadline.is_none_or(|d| Instant::now() < d)
        })
    }

    /// Makes the main thread's mask visible to the others (see `Process::main_mask`).
    fn publish_mask(&mut self) {
        if self.tid == self.pid() {
            let m = self.sig.mask;
            self.main_mask = Some(m);
        }
    }

    /// Ends the whole program with `r` (the first end wins) and kicks the other threads.
    pub fn end_process(&mut self, r: ExitReason) {
        if self.threads.end.is_none() {
            self.threads.end = Some(r);
        }
        let me = self.tid;
        self.me.kicker.kick_all(me);
    }

    /// Takes this thread out of the process (it returns from `run`): the last one out ends the
    /// program with its status.
    fn leave(&mut self, code: u8) {
        let me = self.tid;
        self.me.kicker.remove(me);
        self.threads.inbox.retain(|(t, _)| *t != me);
        self.threads.futexes.retain(|w| w.tid != me);
        if me == self.pid() {
            self.main_mask = None;
        }
        self.live -= 1;
        if self.live == 0 && self.threads.end.is_none() {
            self.threads.end = Some(ExitReason::Exited(code));
        }
    }
    /// Checks `file` (opened from `path`) and opens its interpreter: everything `execve` can
    /// fail on before the point of no return.
    pub fn prepare_exec(&self, file: File, path: Vec<u8>) -> Result<Prepared, ExecError> {
        let image = elf::parse(&file)?;
        let interp = match &image.interp {
            None => None,
            Some(ip) => {
                let bad = |e| ExecError::Interp(ip.clone(), e);
                let (f, p) = self.fs.open_exec(b"/", ip).map_err(bad)?;
                let img = elf::parse(&f).map_err(|_| bad(libc::ELIBBAD))?;
                if img.interp.is_some() || !img.relocatable() {
                    return Err(bad(libc::ELIBBAD));
                }
                Some((img, Arc::new(f), p))
            }
        };
        Ok(Prepared {
            image,
            file: Arc::new(file),
            path,
            interp,
        })
    }

    /// Replaces the program with `p` (execve's second half: the old image is gone once this
    /// starts). Returns the entry point and stack pointer.
    pub fn exec_image(
        &mut self,
        p: &Prepared,
        argv: &[Vec<u8>],
        envp: &[Vec<u8>],
    ) -> Result<(u64, u64), ExecError> {
        // Exec detaches the old image's shared memory segments.
        crate::sys::ipc::shm_touch(&self.mm, self.pid(), false);
        self.mm.clear();
        let main = p.image.load(&mut self.mm, &p.file, &p.path, PIE_BASE)?;
        self.mm.brk_start = main.end;
        self.mm.brk = main.end;
        let (entry, base) = match &p.interp {
            None => (main.entry, 0),
            Some((img, file, path)) => {
                let at = self.mm.find_free(0, img.span()).ok_or(ExecError::Oom)?;
                let l = img.load(&mut self.mm, file, path, at)?;
                (l.entry, l.bias)
            }
        };
        let pr: &mut Process = self;
        let vdso = crate::vdso::map(&mut pr.mm, &pr.vdso_file).map_err(|_| ExecError::Oom)?;
        pr.clock.refresh(&pr.mm, &vdso, true);
        pr.vdso = Some(vdso);
        pr.aux.vdso = vdso.base;
        let sp = stack::build(&mut pr.mm, &main, base, argv, envp, &p.path, &pr.aux)
            .map_err(|_| ExecError::Oom)?;
        self.exe = p.path.clone();
        // POSIX timers do not survive execve.
        for mut t in std::mem::take(&mut self.timers).into_iter().flatten() {
            t.disarm();
        }
        *self.me.shown.lock().unwrap() = Shown {
            exe: p.path.clone(),
            cmdline: argv
                .iter()
                .flat_map(|a| a.iter().chain(&[0]))
                .copied()
                .collect(),
        };
        self.sig.on_exec();
        self.sigs.on_exec();
        self.fds.on_exec();
        self.clear_child_tid = 0;
        Ok((entry, sp))
    }

    /// Starts the first program: guest-init (from a memfd holding the embedded image).
    pub fn boot(&mut self, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(), ExecError> {
        let file = crate::boot::embedded_file(crate::boot::GUEST_INIT).map_err(ExecError::Io)?;
        let p = self.prepare_exec(file, b"/.mvm/init".to_vec())?;
        let (entry, sp) = self.exec_image(&p, argv, envp)?;
        self.enter_user(entry, sp);
        Ok(())
    }

    /// Points the vCPU at a fresh program image: every register zero, as Linux starts one.
    fn enter_user(&mut self, entry: u64, sp: u64) {
        let r = self.vcpu.regs_mut();
        *r = Default::default();
        r.rflags = 2;
        self.resume_user(IretFrame::user(entry, sp, 0));
        let _ = self.vcpu.set_fs_base(0);
        let _ = self.vcpu.set_gs_base(0);
    }

    /// Writes `frame` on the ring-0 stack and points the vCPU at the kernel's `iretq`.
    pub(crate) fn resume_user(&mut self, frame: IretFrame) {
        let cpu = self.cpu;
        let Task { vcpu, guard, .. } = self;
        let p = guard
            .as_deref()
            .expect("the process lock is held while serving");
        write_iret(&p.mm.ram, &cpu, vcpu, frame);
    }

    /// Whether the program is ending: mvm stops it (`--timeout`), or a thread ended it.
    pub fn stop_requested(&self) -> Option<ExitReason> {
        if let Some(e) = &self.threads.end {
            return Some(e.clone());
        }
        match self.me.stop.load(Ordering::Acquire) & STOP_TIMEOUT {
            STOP_NONE => None,
            _ => Some(ExitReason::Timeout),
        }
    }

    /// Runs this thread until it ends (its own exit, or the program's); holds the process lock
    /// on return.
    pub fn run(&mut self) {
        arm_kick(Some(&mut self.vcpu));
        let end = self.run_loop();
        arm_kick(None);
        match end {
            End::Thread(code) => {
                crate::sys::trace::end(self, &ExitReason::Exited(code));
                crate::sys::process::thread_exit_cleanup(self);
                self.leave(code);
            }
            End::Process(r) => {
                self.end_process(r);
                if let Some(r) = self.threads.end.clone() {
                    crate::sys::trace::end(self, &r);
                }
                self.leave(0);
            }
        }
    }

    /// Whether another thread's execve asked this one to go.
    pub fn zapped(&self) -> bool {
        self.threads.zap.is_some_and(|t| t != self.tid)
    }

    /// Waits while the program is stopped (job control): until SIGCONT (taken from the mail
    /// by whichever thread looks first), SIGKILL, or the program's end.
    fn wait_suspended(&mut self) -> Option<End> {
        loop {
            signal::take_host(self);
            if !self.me.is_suspended() {
                return None;
            }
            if signal::kill_pending(self) {
                let r = signal::deliver_pending(self)
                    .unwrap_or_else(|| signal::fatal(libc::SIGKILL, String::new()));
                return Some(End::Process(r));
            }
            if self.stop_requested().is_some() || self.zapped() {
                return None;
            }
            self.wait_wake(None);
        }
    }

    fn run_loop(&mut self) -> End {
        loop {
            if let Some(r) = self.stop_requested() {
                return End::Process(r);
            }
            if self.zapped() {
                return End::Thread(0);
            }
            if self.me.is_suspended() {
                if let Some(end) = self.wait_suspended() {
                    return end;
                }
                continue;
            }
            if let Some(t) = self.machine.throttle.clone().filter(|t| t.closed()) {
                self.unlocked(|| t.wait_open());
                continue;
            }
            self.mm.settle();
            if let Some(v) = self.vdso {
                let Process { clock, mm, .. } = &mut **self;
                clock.refresh(mm, &v, false);
            }
            if self.mm.take_flush() {
                // Re-registering the memory slots leaves a moment with no guest memory: a vCPU
                // running then cannot reach its kernel and the VM shuts down (seen as a triple
                // fault in a threaded python3, 1 run in 40). No other vCPU may run meanwhile.
                let me = self.me.clone();
                let _stopped = me.kicker.stop_guests();
                if let Err(e) = self.mm.ram.flush_shadow() {
                    return End::Process(ExitReason::Broken(e.to_string()));
                }
            }
            self.publish_mask();
            let me = self.me.clone();
            self.flags.in_guest.store(true, Ordering::Release);
            let inside = me.kicker.gate.read();
            self.guard = None;
            let entered = Instant::now();
            let exit = self.vcpu.run();
            let spent = entered.elapsed();
            self.flags.in_guest.store(false, Ordering::Release);
            drop(inside);
            self.guard = Some(self.shared.lock_arc());
            self.stats.guest_time += spent;
            self.guest_time += spent;
            let exit = match exit {
                Ok(e) => e,
                Err(e) => return End::Process(ExitReason::Broken(e.to_string())),
            };
            let end = match exit {
                GuestExit::Syscall => {
                    let rsp = self.vcpu.regs().rsp;
                    self.serve_syscall(rsp)
                }
                GuestExit::Exception { vector } => self.serve_exception(vector),
                GuestExit::UserIo => Some(End::Process(signal::fatal(
                    libc::SIGSEGV,
                    format!(
                        "general protection fault (I/O instruction), rip {:#x}",
                        self.vcpu.regs().rip
                    ),
                ))),
                GuestExit::Interrupted => {
                    self.vcpu.clear_immediate_exit();
                    if self.vcpu.mid_entry() {
                        // Let it reach its exit; signals are delivered there.
                        continue;
                    }
                    None
                }
                GuestExit::NoMemory => {
                    // A file truncated under its mapping: the pages past its end go, and the
                    // access is made again, now faulting into SIGBUS. If no window shrank,
                    // nothing explains the failure.
                    if self.mm.ram.shrink_windows() {
                        None
                    } else {
                        Some(End::Process(ExitReason::Broken(
                            "KVM RUN failed: no host memory behind a guest page".into(),
                        )))
                    }
                }
                GuestExit::Broken(why) => Some(End::Process(ExitReason::Broken(why.to_string()))),
            };
            if let Some(r) = end.or_else(|| signal::deliver_pending(self).map(End::Process)) {
                return r;
            }
        }
    }

    /// Runs the main thread, then waits for every other thread: the program's end.
    pub fn run_main(&mut self) -> ExitReason {
        self.me.kicker.add(
            self.tid,
            pthread_self(),
            self.wake.clone(),
            self.flags.clone(),
        );
        self.run();
        let ended = self.join_threads();
        // Its shared memory segments are detached now, not when its parent reaps it.
        let pid = self.pid();
        crate::sys::ipc::shm_detach_all(&mut self.mm, pid);
        // Its semaphore adjustments (SEM_UNDO) are undone, its notifications dropped.
        self.machine.ipc.on_exit(pid);
        ended
    }

    /// Waits for the program's other threads to end; its status.
    fn join_threads(&mut self) -> ExitReason {
        // Wait for the other threads (a kick they miss is repeated: `Kicker::kick_one`); one
        // may start more before it ends.
        loop {
            let handles = std::mem::take(&mut self.threads.handles);
            if handles.is_empty() {
                break;
            }
            self.unlocked(|| {
                for h in handles {
                    let _ = h.join();
                }
            });
        }
        self.threads
            .end
            .clone()
            .unwrap_or_else(|| ExitReason::Broken("the program ended without a status".into()))
    }

    /// Runs a forked program's main thread on its own host thread until the program ends; then
    /// it is a zombie for its parent (which gets SIGCHLD), its children are the first
    /// program's, and its VM and memory are gone.
    pub fn run_child(mut self) {
        let reason = self.run_main();
        let status = wait_status(&reason);
        *self.me.ended_cpu.lock().unwrap() = crate::sys::process::usage_at_end(&self);
        let (me, machine, uid) = (self.me.clone(), self.machine.clone(), self.aux.uid);
        drop(self);
        for p in machine.all() {
            if p.ppid.load(Ordering::Acquire) == me.pid {
                p.ppid.store(1, Ordering::Release);
            }
        }
        *me.status.lock().unwrap() = Some(status);
        me.released.store(true, Ordering::Release);
        let ppid = me.ppid.load(Ordering::Acquire);
        if let Some(parent) = machine.find(ppid) {
            parent.send(SigInfo::child(me.pid, uid, status));
        }
    }

    /// Runs a thread made by clone, on its own host thread; its vCPU goes back to the spare list.
    pub fn run_thread(mut self) {
        self.guard = Some(self.shared.lock_arc());
        self.run();
        let Task {
            vcpu, cpu, guard, ..
        } = self;
        let mut p = guard.expect("held after run");
        if p.threads.end.is_none() {
            p.spare.push((vcpu, cpu));
        }
    }

    /// Serves the syscall the program made with its stack pointer at `user_rsp`.
    fn serve_syscall(&mut self, user_rsp: u64) -> Option<End> {
        let r = self.vcpu.regs();
        self.stats.syscalls += 1;
        let args = [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9];
        // `syscall` left the return address in rcx and the flags in r11 (they stay there, as on
        // Linux).
        let back = IretFrame::user(r.rcx, user_rsp, r.r11);
        self.sig.syscall_rsp = user_rsp;
        let ret = match sys::dispatch(self, r.rax, args) {
            Ok(v) => v,
            Err(SysError::Errno(libc::EINTR)) if signal::on_eintr(self, r.rax, &args) => {
                // Restarted: the program executes its `syscall` again (after a handler, if one
                // runs first).
                self.vcpu.regs_mut().rax = r.rax;
                self.resume_user(IretFrame::user(r.rcx.wrapping_sub(2), user_rsp, r.r11));
                return None;
            }
            Err(SysError::Errno(e)) => (-(e as i64)) as u64,
            Err(SysError::Exit(reason)) => return Some(End::Process(reason)),
            Err(SysError::ThreadExit(code)) => return Some(End::Thread(code)),
            Err(SysError::Exec { entry, sp }) => {
                self.enter_user(entry, sp);
                return None;
            }
        };
        self.vcpu.regs_mut().rax = ret;
        let to = self.take_sigreturn().unwrap_or(back);
        self.resume_user(to);
        None
    }

    fn serve_exception(&mut self, vector: u8) -> Option<End> {
        let regs = self.vcpu.regs();
        let ec_len = if has_error_code(vector) { 8 } else { 0 };
        if !self.cpu.holds(regs.rsp, ec_len + 40) {
            return Some(End::Process(ExitReason::Broken(format!(
                "exception {vector} with a bad ring-0 stack"
            ))));
        }
        let mut raw = [0u8; 48];
        let phys = self.cpu.phys(regs.rsp);
        self.mm
            .ram
            .read_pool(phys, &mut raw[..(ec_len + 40) as usize]);
        let word = |i: usize| u64::from_le_bytes(raw[8 * i..8 * i + 8].try_into().unwrap());
        let (code, f0) = if ec_len == 8 { (word(0), 1) } else { (0, 0) };
        let frame = IretFrame {
            rip: word(f0),
            cs: word(f0 + 1),
            rflags: word(f0 + 2),
            rsp: word(f0 + 3),
            ss: word(f0 + 4),
        };
        if std::env::var_os("MVM_DEBUG").is_some() {
            eprintln!(
                "exc {vector} code {code:#x} frame {frame:x?} regs {regs:x?} cr2 {:#x}",
                self.vcpu.cr2()
            );
        }
        if frame.cs & 3 != 3 {
            return Some(End::Process(ExitReason::Broken(format!(
                "exception {vector} in the guest kernel at {:#x}",
                frame.rip
            ))));
        }
        if vector == 13 && frame.rip == SYSCALL_ENTRY {
            // Under this host's PVM, `syscall` jumps to LSTAR but stays in ring 3 (measured: CS
            // 0x33, the program's stack and page permissions), where the entry's `out` raises #GP;
            // the #GP reaches the kernel's #GP entry in ring 0, which exits. It is the program's
            // syscall, made with its stack at `frame.rsp`. (A program that jumps to LSTAR itself
            // gets nothing more than a syscall.) On hardware KVM the `out` exits directly.
            return self.serve_syscall(frame.rsp);
        }
        if vector == 14 {
            let addr = self.vcpu.cr2();
            self.stats.faults += 1;
            match self.mm.fault(addr, code & 2 != 0, code & 16 != 0) {
                Ok(()) => {
                    self.resume_user(frame);
                    return None;
                }
                Err(Fault::Oom) => {
                    return Some(End::Process(ExitReason::Signaled {
                        sig: libc::SIGKILL,
                        detail: format!(
                            "out of memory: the --memory limit of {} MiB is reached",
                            (self.mm.ram.user_limit() * 4096) >> 20
                        ),
                    }))
                }
                Err(f) => {
                    let (signo, si_code, what) = match f {
                        Fault::Bus => (
                            libc::SIGBUS,
                            code::BUS_ADRERR,
                            "access past the end of a mapped file",
                        ),
                        Fault::Access => (libc::SIGSEGV, code::SEGV_ACCERR, "page fault"),
                        _ => (libc::SIGSEGV, code::SEGV_MAPERR, "page fault"),
                    };
                    let detail = format!("{what} at {addr:#x}, rip {:#x}", frame.rip);
                    let info = SigInfo {
                        signo,
                        code: si_code,
                        addr,
                        ..Default::default()
                    };
                    let trap = signal::Trap {
                        trapno: 14,
                        err: code,
                        cr2: addr,
                    };
                    return signal::force(self, frame, info, trap, detail).map(End::Process);
                }
            }
        }
        let (sig, si_code, what) = match vector {
            0 => (libc::SIGFPE, code::FPE_INTDIV, "divide error"),
            1 | 3 => (libc::SIGTRAP, code::SI_KERNEL, "breakpoint"),
            4 | 5 => (libc::SIGSEGV, code::SI_KERNEL, "bound/overflow trap"),
            6 => (libc::SIGILL, code::ILL_ILLOPN, "invalid opcode"),
            7 => (libc::SIGILL, code::ILL_ILLOPN, "device not available"),
            12 => (libc::SIGBUS, code::SI_KERNEL, "stack fault"),
            13 => (libc::SIGSEGV, code::SI_KERNEL, "general protection fault"),
            16 => (
                libc::SIGFPE,
                code::FPE_FLTINV,
                "x87 floating-point exception",
            ),
            17 => (libc::SIGBUS, code::BUS_ADRALN, "alignment check"),
            19 => (
                libc::SIGFPE,
                code::FPE_FLTINV,
                "SIMD floating-point exception",
            ),
            _ => (libc::SIGSEGV, code::SI_KERNEL, "unexpected exception"),
        };
        let info = SigInfo {
            signo: sig,
            code: si_code,
            addr: if si_code == code::SI_KERNEL {
                0
            } else {
                frame.rip
            },
            ..Default::default()
        };
        let trap = signal::Trap {
            trapno: vector as u64,
            err: code,
            cr2: 0,
        };
        let detail = format!("{what}, rip {:#x}", frame.rip);
        signal::force(self, frame, info, trap, detail).map(End::Process)
    }
}

/// Joins the host threads of `handles` that have ended and drops them from the list: a thread
/// that ended but was never joined keeps its stack and descriptor (measured: ~16 KiB of mvm's
/// memory per finished program, ~12 KiB per finished thread, until the run ended).
pub fn join_finished(handles: &mut Vec<std::thread::JoinHandle<()>>) {
    if !handles.iter().any(|h| h.is_finished()) {
        return;
    }
    let (done, rest): (Vec<_>, Vec<_>) = std::mem::take(handles)
        .into_iter()
        .partition(|h| h.is_finished());
    for h in done {
        let _ = h.join();
    }
    *handles = rest;
}
