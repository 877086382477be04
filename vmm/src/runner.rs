//! One run, end to end: resolve the program, build the micro-VM on the vCPU's thread, and
//! supervise it from the control loop (event-manager: mvm's signals, `--timeout`, the vCPU's end).
//! Whatever ends the run — the program, a fault, the timeout, SIGINT/SIGTERM — the vCPU thread
//! returns, the VM and its memory are dropped, and nothing is left behind.

use std::cell::Cell;
use std::ffi::OsStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::thread::JoinHandleExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_manager::{EventManager, EventOps, EventSet, Events, MutEventSubscriber, SubscriberOps};
use vmm_sys_util::eventfd::EventFd;
use vmm_sys_util::signal::{register_signal_handler, SIGRTMIN};
use vmm_sys_util::timerfd::TimerFd;

use crate::boot::{self, elf, BootError, Timings};
use crate::policy::FsView;
use crate::spec::RunSpec;
use crate::task::{ExitReason, StopFlag, STOP_TIMEOUT};

/// Why mvm could not run the program at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program does not exist (127).
    #[error("{0}: not found")]
    NotFound(String),
    /// The program exists but cannot be executed (126).
    #[error("{0}: cannot execute: {1}")]
    CannotExecute(String, String),
    /// Building the micro-VM failed (125).
    #[error(transparent)]
    Boot(#[from] BootError),
    /// The host refused something mvm needs (125).
    #[error("{0}: {1}")]
    Host(&'static str, #[source] std::io::Error),
    /// The VM failed while running (125).
    #[error(transparent)]
    Vm(#[from] crate::vstate::vm::VmError),
}

/// How the run ended, with what was measured on the way.
#[derive(Debug)]
pub struct Report {
    /// Why the program ended.
    pub reason: ExitReason,
    /// Start-up phases.
    pub timings: Timings,
    /// Time from the first guest instruction to the program's end.
    pub run_time: Duration,
    /// Syscalls and page faults served.
    pub syscalls: u64,
    /// Page faults served.
    pub faults: u64,
    /// Of `run_time`, the time inside `KVM_RUN`; the rest is mvm serving exits.
    pub guest_time: Duration,
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn describe(errno: i32) -> String {
    match errno {
        libc::EACCES => "permission denied (not an executable file)".into(),
        e => std::io::Error::from_raw_os_error(e).to_string(),
    }
}

/// Finds the program as `execvp` would (a name without `/` is looked up in the program's
/// `PATH`) and checks that it can run here.
pub fn resolve(spec: &RunSpec) -> Result<PathBuf, RunError> {
    let name = spec.program.to_string_lossy().into_owned();
    let bytes = spec.program.as_bytes();
    let candidates: Vec<PathBuf> = if bytes.contains(&b'/') {
        vec![std::env::current_dir()
            .unwrap_or_else(|_| "/".into())
            .join(&spec.program)]
    } else if bytes.is_empty() {
        vec![]
    } else {
        let path = spec
            .env
            .iter()
            .find_map(|e| e.as_bytes().strip_prefix(b"PATH="))
            .map(|p| OsStr::from_bytes(p).to_os_string())
            .unwrap_or_else(|| DEFAULT_PATH.into());
        std::env::split_paths(&path)
            .map(|d| d.join(&spec.program))
            .collect()
    };
    let mut denied = None;
    for c in candidates {
        match FsView::host().open_exec("/", &c.to_string_lossy()) {
            Ok((f, _)) => {
                return match elf::parse(&f) {
                    Ok(img) if img.interp.is_some() => Err(RunError::CannotExecute(
                        name,
                        "dynamically linked programs are not supported yet (build it static)"
                            .into(),
                    )),
                    Ok(_) => Ok(c),
                    Err(e) => Err(RunError::CannotExecute(name, e.to_string())),
                };
            }
            Err(libc::ENOENT) | Err(libc::ENOTDIR) => {}
            Err(e) => denied = Some(e),
        }
    }
    match denied {
        Some(e) => Err(RunError::CannotExecute(name, describe(e))),
        None => Err(RunError::NotFound(name)),
    }
}

thread_local! {
    /// The running vCPU's `kvm_run.immediate_exit`, for the kick handler.
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

/// Signals mvm passes on to the program (their default action on mvm would leave the VM
/// behind): each is queued for the program, which handles, ignores or dies of it.
const STOP_SIGNALS: [libc::c_int; 7] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGWINCH,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// The control loop's one subscriber.
struct Controller {
    signals: OwnedFd,
    timer: Option<TimerFd>,
    done: EventFd,
    stop: StopFlag,
    vcpu_thread: libc::pthread_t,
    finished: bool,
}

impl Controller {
    /// Sets `why` (`STOP_TIMEOUT`, or `1 << sig` for a signal for the program) and kicks.
    fn request_stop(&mut self, why: u32) {
        self.stop.fetch_or(why, Ordering::AcqRel);
        self.kick();
    }

    fn kick(&self) {
        // SAFETY: the thread is joined only after the loop ends, so the id is valid.
        unsafe { libc::pthread_kill(self.vcpu_thread, SIGRTMIN()) };
    }
}

impl MutEventSubscriber for Controller {
    fn process(&mut self, events: Events, _ops: &mut EventOps) {
        let fd = events.fd();
        if fd == self.done.as_raw_fd() {
            self.finished = true;
        } else if fd == self.signals.as_raw_fd() {
            // SAFETY: a plain struct read from the signalfd.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let n = std::mem::size_of_val(&info);
            // SAFETY: reading one record into `info`.
            if unsafe { libc::read(fd, &mut info as *mut _ as *mut libc::c_void, n) } == n as isize
            {
                self.request_stop(1 << info.ssi_signo);
            }
        } else if let Some(t) = self.timer.as_mut().filter(|t| t.as_raw_fd() == fd) {
            // Consume the expiration: the timerfd stays readable (and epoll busy) until read.
            let _ = t.wait();
            self.request_stop(STOP_TIMEOUT);
        }
    }

    fn init(&mut self, ops: &mut EventOps) {
        ops.add(Events::new(&self.done, EventSet::IN))
            .expect("register eventfd");
        ops.add(Events::new(&self.signals, EventSet::IN))
            .expect("register signalfd");
        if let Some(t) = &self.timer {
            ops.add(Events::new(t, EventSet::IN))
                .expect("register timerfd");
        }
    }
}

fn block_stop_signals() -> Result<OwnedFd, RunError> {
    // SAFETY: sigset manipulation on a local set, then a signalfd over it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in STOP_SIGNALS {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(RunError::Host("signalfd", std::io::Error::last_os_error()));
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Runs `spec` to its end.
pub fn run(spec: RunSpec) -> Result<Report, RunError> {
    let t0 = Instant::now();
    let program = resolve(&spec)?;
    let resolve_time = t0.elapsed();
    let cwd = match &spec.workdir {
        Some(w) => w.clone(),
        None => std::env::current_dir()
            .ok()
            .and_then(|p| p.to_str().map(str::to_owned))
            .unwrap_or_else(|| "/".into()),
    };

    let signals = block_stop_signals()?;
    let host = |what| move |e| RunError::Host(what, e);
    register_signal_handler(SIGRTMIN(), kick_handler)
        .map_err(|e| RunError::Host("sigaction", std::io::Error::from_raw_os_error(e.errno())))?;
    let done = EventFd::new(libc::EFD_NONBLOCK | libc::EFD_CLOEXEC).map_err(host("eventfd"))?;
    let stop: StopFlag = Arc::new(AtomicU32::new(0));
    let (tx, rx) = mpsc::channel();

    let thread_done = done.try_clone().map_err(host("eventfd"))?;
    let thread_stop = stop.clone();
    let timeout = spec.timeout;
    let handle = std::thread::Builder::new()
        .name("vcpu0".into())
        .stack_size(256 << 10)
        .spawn(move || {
            let result = run_vcpu(&spec, &program, &cwd, thread_stop);
            let _ = tx.send(result);
            let _ = thread_done.write(1);
        })
        .map_err(host("spawn vCPU thread"))?;

    let timer = match timeout {
        Some(d) => {
            let mut t = TimerFd::new().map_err(|e| RunError::Host("timerfd", e.into()))?;
            t.reset(d.max(Duration::from_nanos(1)), None)
                .map_err(|e| RunError::Host("timerfd", e.into()))?;
            Some(t)
        }
        None => None,
    };
    let controller = Arc::new(Mutex::new(Controller {
        signals,
        timer,
        done,
        stop: stop.clone(),
        vcpu_thread: handle.as_pthread_t(),
        finished: false,
    }));
    let mut em = EventManager::<Arc<Mutex<Controller>>>::new()
        .map_err(|e| RunError::Host("epoll", std::io::Error::other(format!("{e:?}"))))?;
    em.add_subscriber(controller.clone());
    let mut last_kick = Instant::now();
    loop {
        // While stopping, or until the vCPU thread takes the signals for the program, kick
        // again now and then: a kick can land between two host calls.
        let stopping = stop.load(Ordering::Acquire) != 0;
        let _ = em.run_with_timeout(if stopping { 20 } else { -1 });
        let c = controller.lock().expect("controller");
        if c.finished {
            break;
        }
        if stopping && last_kick.elapsed() >= Duration::from_millis(20) {
            c.kick();
            last_kick = Instant::now();
        }
    }
    let _ = handle.join();
    let (reason, mut timings, run_time, syscalls, faults, guest_time) =
        rx.recv().expect("vCPU thread reports")?;
    timings.0.insert(0, ("resolve program", resolve_time));
    Ok(Report {
        reason,
        timings,
        run_time,
        syscalls,
        faults,
        guest_time,
    })
}

type VcpuResult = Result<(ExitReason, Timings, Duration, u64, u64, Duration), RunError>;

fn run_vcpu(spec: &RunSpec, program: &Path, cwd: &str, stop: StopFlag) -> VcpuResult {
    let (mut task, timings) = boot::build(spec, program, cwd, stop)?;
    IMMEDIATE_EXIT.with(|c| c.set(task.vcpu.immediate_exit_ptr()));
    let start = Instant::now();
    let reason = task.run();
    let run_time = start.elapsed();
    IMMEDIATE_EXIT.with(|c| c.set(std::ptr::null_mut()));
    Ok((
        reason?,
        timings,
        run_time,
        task.syscalls,
        task.faults,
        task.guest_time,
    ))
}
