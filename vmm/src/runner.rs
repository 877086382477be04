//! One run, end to end: resolve the program, build the micro-VM on the vCPU's thread, and
//! supervise it from the control loop (event-manager: mvm's signals, `--timeout`, the vCPU's end).
//! Whatever ends the run — the program, a fault, the timeout, SIGINT/SIGTERM — the vCPU thread
//! returns, the VM and its memory are dropped, and nothing is left behind.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_manager::{EventManager, EventOps, EventSet, Events, MutEventSubscriber, SubscriberOps};
use vmm_sys_util::eventfd::EventFd;
use vmm_sys_util::timerfd::TimerFd;

use crate::boot::{self, elf, BootError, Timings};
use crate::policy::FsView;
use crate::seccomp::{Filters, Kind};
use crate::spec::{Proto, RunSpec, Tmpfs};
use crate::sys::sigframe::{code, SigInfo};
use crate::sys::trace::Tracer;
use crate::sys::tty::Ctty;
use crate::task::{
    ExitReason, JobIds, Kicker, Machine, ProcHandle, RunConf, StopFlag, STOP_TIMEOUT,
};
use crate::terminal::Pty;

/// Why mvm could not run the program at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program does not exist (127).
    #[error("{0}: not found")]
    NotFound(String),
    /// The program exists but cannot be executed (126).
    #[error("{0}: cannot execute: {1}")]
    CannotExecute(String, String),
    /// The program is a script whose interpreter does not exist (127, as a shell says it).
    #[error("{0}: {1}")]
    BadInterpreter(String, String),
    /// Building the micro-VM failed (125).
    #[error(transparent)]
    Boot(#[from] BootError),
    /// The host refused something mvm needs (125).
    #[error("{0}: {1}")]
    Host(&'static str, #[source] std::io::Error),
    /// The VM failed while running (125).
    #[error(transparent)]
    Vm(#[from] crate::vstate::vm::VmError),
    /// `--trace-file` cannot be opened (125).
    #[error("cannot open the trace file {0}: {1}")]
    TraceFile(String, String),
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
    /// What to tell the user if the program failed (a path it missed that the host has).
    pub hint: Option<String>,
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn describe(errno: i32) -> String {
    match errno {
        libc::EACCES => "permission denied (not an executable file)".into(),
        e => crate::policy::io_text(&std::io::Error::from_raw_os_error(e)),
    }
}

/// Checks that the host file `path` (named by the user, not the program) is an executable file.
fn host_executable(path: &Path) -> Result<std::fs::File, i32> {
    let f = std::fs::File::open(path).map_err(|e| e.raw_os_error().unwrap_or(libc::ENOENT))?;
    crate::policy::check_executable(f.as_raw_fd())?;
    Ok(f)
}

/// Finds the program as `execvp` would and checks that it can run here; returns its path in the
/// program's view. A name without `/` is looked up in the program's `PATH` inside the view; a
/// path is the host's (made visible, read-only, at its own absolute path), except that an
/// absolute path with `--rootfs` names a file inside the root.
pub fn resolve(spec: &RunSpec, view: &mut FsView) -> Result<PathBuf, RunError> {
    let name = crate::sys::fs::shown(spec.program.as_bytes());
    let bytes = spec.program.as_bytes();
    let host_path = bytes.contains(&b'/') && !(spec.rootfs.is_some() && bytes.starts_with(b"/"));
    let mut denied = None;
    if host_path {
        let abs = std::env::current_dir()
            .unwrap_or_else(|_| "/".into())
            .join(&spec.program);
        let abs = crate::sys::fs::normalize(b"/", abs.as_os_str().as_bytes());
        let abs = PathBuf::from(OsString::from_vec(abs));
        match host_executable(&abs) {
            Ok(f) => {
                view.expose_file(&abs).map_err(|e| {
                    RunError::Host("exposing the program", std::io::Error::other(e))
                })?;
                check_image(&name, f, view)?;
                return Ok(abs);
            }
            Err(libc::ENOENT) | Err(libc::ENOTDIR) => {}
            Err(e) => denied = Some(e),
        }
    } else {
        let candidates: Vec<Vec<u8>> = if bytes.contains(&b'/') {
            vec![bytes.to_vec()]
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
                .filter(|d| d.is_absolute())
                .map(|d| d.join(&spec.program).into_os_string().into_vec())
                .collect()
        };
        for c in candidates {
            match view.open_exec(b"/", &c) {
                Ok((f, guest)) => {
                    check_image(&name, f, view)?;
                    return Ok(PathBuf::from(OsString::from_vec(guest)));
                }
                Err(libc::ENOENT) | Err(libc::ENOTDIR) => {}
                Err(e) => denied = Some(e),
            }
        }
    }
    match denied {
        Some(e) => Err(RunError::CannotExecute(name, describe(e))),
        None => Err(RunError::NotFound(name)),
    }
}

/// Whether `f` can be started: an ELF executable, or a script whose `#!` interpreter (found in
/// the view, and perhaps a script itself, as deep as Linux allows) is one.
fn check_image(name: &str, mut f: std::fs::File, view: &mut FsView) -> Result<(), RunError> {
    let cannot = |e: elf::ExecError| RunError::CannotExecute(name.to_string(), e.to_string());
    for _ in 0..=elf::MAX_SCRIPT_DEPTH {
        let Some((interp, _)) = elf::shebang(&f).map_err(cannot)? else {
            return elf::parse(&f).map(|_| ()).map_err(cannot);
        };
        let shown = crate::sys::fs::shown(&interp);
        f = match view.open_exec(b"/", &interp) {
            Ok((next, _)) => next,
            Err(e) => {
                let why = format!("bad interpreter {shown}: {}", describe(e));
                return Err(match e {
                    libc::ENOENT | libc::ENOTDIR => RunError::BadInterpreter(name.into(), why),
                    _ => RunError::CannotExecute(name.into(), why),
                });
            }
        };
    }
    Err(RunError::CannotExecute(
        name.into(),
        "too many levels of #! interpreters".into(),
    ))
}

/// The run's private host directory (the program's `/tmp`, the default view's root): created
/// per run, removed when the run ends, however it ends.
pub struct RunDir(PathBuf);

impl RunDir {
    /// Creates `$XDG_RUNTIME_DIR/mvm-<pid>-<n>` (or under `/tmp`), mode 0700.
    pub fn create() -> Result<RunDir, RunError> {
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute() && p.is_dir())
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for i in 0..100u32 {
            let p = base.join(format!(
                "mvm-{}-{:x}",
                std::process::id(),
                nanos.wrapping_add(i)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&p) {
                Ok(()) => return Ok(RunDir(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(RunError::Host("creating the run directory", e)),
            }
        }
        Err(RunError::Host(
            "creating the run directory",
            std::io::Error::from_raw_os_error(libc::EEXIST),
        ))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if std::fs::remove_dir_all(&self.0).is_ok() {
            return;
        }
        // The program may have left directories without write or search permission.
        fn open_up(p: &Path) {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(md) = std::fs::symlink_metadata(p) {
                if md.is_dir() {
                    let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700));
                    if let Ok(rd) = std::fs::read_dir(p) {
                        for e in rd.flatten() {
                            open_up(&e.path());
                        }
                    }
                }
            }
        }
        open_up(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Signals mvm passes on to the program (their default action on mvm would leave the VM
/// behind, or stop mvm without the program knowing): each is sent to the program, which
/// handles, ignores or dies of it. Those a terminal makes (Ctrl-C, Ctrl-\, Ctrl-Z, a window
/// change) go to the program's foreground process group, as a terminal sends them to a
/// shell's job; the others to the first program, as `kill` sends them to one process.
const FORWARDED: [libc::c_int; 9] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGWINCH,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGTSTP,
    libc::SIGCONT,
];

/// The control loop's one subscriber.
struct Controller {
    signals: OwnedFd,
    timer: Option<TimerFd>,
    done: EventFd,
    stop: StopFlag,
    machine: Arc<Machine>,
    pty: Option<Arc<Mutex<Pty>>>,
    finished: bool,
}

impl Controller {
    /// Sets `why` (`STOP_TIMEOUT`) and kicks.
    fn request_stop(&mut self, why: u32) {
        self.stop.fetch_or(why, Ordering::AcqRel);
        self.machine.stop_all(why, 1);
        self.kick();
    }

    /// Passes signal `sig`, sent to mvm, on to the program (see `FORWARDED`).
    fn forward(&mut self, sig: i32) {
        let pty = self.pty.as_ref().map(|p| p.lock().unwrap());
        match sig {
            libc::SIGWINCH => pty.as_ref().map_or((), |p| p.resize()),
            libc::SIGCONT => pty.as_ref().map_or((), |p| p.resume()),
            _ => {}
        }
        drop(pty);
        let info = SigInfo {
            signo: sig,
            code: code::SI_USER,
            from_host: true,
            ..Default::default()
        };
        let targets = match sig {
            libc::SIGINT | libc::SIGQUIT | libc::SIGTSTP | libc::SIGWINCH => {
                self.machine.group(self.machine.foreground())
            }
            libc::SIGCONT => self
                .machine
                .find(1)
                .map(|p| self.machine.group(p.job.pgid()))
                .unwrap_or_default(),
            _ => self.machine.find(1).into_iter().collect(),
        };
        for p in targets {
            p.send(info);
        }
    }

    /// The first program stopped (job control): mvm stops too, as a shell's child stops, with
    /// its terminal restored meanwhile; a SIGCONT to mvm continues both.
    fn first_stopped(&mut self) {
        let _ = self.machine.first_stopped.read();
        let Some(sig) = self
            .machine
            .find(1)
            .and_then(|p| p.suspended.lock().unwrap().by)
        else {
            return;
        };
        if let Some(p) = &self.pty {
            p.lock().unwrap().suspend();
        }
        stop_self(sig);
        if let Some(p) = &self.pty {
            p.lock().unwrap().resume();
        }
    }

    /// Kicks the first program's threads (the others are kicked by `stop_all`).
    fn kick(&self) {
        if let Some(p) = self.machine.find(1) {
            p.kicker.kick_all(0);
        }
    }
}

impl MutEventSubscriber for Controller {
    fn process(&mut self, events: Events, _ops: &mut EventOps) {
        let fd = events.fd();
        if fd == self.done.as_raw_fd() {
            self.finished = true;
        } else if fd == self.machine.first_stopped.as_raw_fd() {
            self.first_stopped();
        } else if fd == self.signals.as_raw_fd() {
            // SAFETY: a plain struct read from the signalfd.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let n = std::mem::size_of_val(&info);
            // SAFETY: reading one record into `info`.
            if unsafe { libc::read(fd, &mut info as *mut _ as *mut libc::c_void, n) } == n as isize
            {
                self.forward(info.ssi_signo as i32);
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
        ops.add(Events::new(&self.machine.first_stopped, EventSet::IN))
            .expect("register eventfd");
        if let Some(t) = &self.timer {
            ops.add(Events::new(t, EventSet::IN))
                .expect("register timerfd");
        }
    }
}

/// Stops mvm itself by `sig` (as the program stopped): unblocked for this thread just long
/// enough to take its default action; returns once mvm is continued.
fn stop_self(sig: i32) {
    // SAFETY: sigset manipulation on a local set; raise(3) of a signal whose action is the
    // default (mvm never handles the stop signals).
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
        if FORWARDED.contains(&sig) {
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
    }
}

fn block_forwarded_signals() -> Result<OwnedFd, RunError> {
    // SAFETY: sigset manipulation on a local set, then a signalfd over it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARDED {
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

/// Gives each publication without a host port (`-p 80`) a free one, as Docker does, and says
/// which on stderr.
fn pick_ports(spec: &mut RunSpec) -> Result<(), RunError> {
    use std::net::{Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
    for p in spec.publish.iter_mut().filter(|p| p.host == 0) {
        let ip = p.ip.unwrap_or(Ipv6Addr::UNSPECIFIED.into());
        let at = SocketAddr::new(ip, 0);
        let port = match p.proto {
            Proto::Tcp => TcpListener::bind(at).and_then(|l| l.local_addr()),
            Proto::Udp => UdpSocket::bind(at).and_then(|l| l.local_addr()),
        }
        .map_err(|e| RunError::Host("picking a host port for -p", e))?
        .port();
        p.host = port;
        let (shown, proto) = match (p.ip, p.proto) {
            (Some(ip), Proto::Tcp) => (SocketAddr::new(ip, port).to_string(), "tcp"),
            (Some(ip), Proto::Udp) => (SocketAddr::new(ip, port).to_string(), "udp"),
            (None, Proto::Tcp) => (format!("0.0.0.0:{port}"), "tcp"),
            (None, Proto::Udp) => (format!("0.0.0.0:{port}"), "udp"),
        };
        eprintln!(
            "mvm: the program's port {}/{proto} is published on {shown}",
            p.guest
        );
    }
    Ok(())
}

/// The run's private directories (`tmpfs`): its `/tmp`, `/dev/shm` and `--tmpfs` places,
/// and a scratch directory for what mvm would otherwise cache.
struct Private {
    mounts: Vec<(String, OwnedFd)>,
    scratch: PathBuf,
    /// The scratch tmpfs, whose path `scratch` is through this descriptor.
    _scratch: Option<OwnedFd>,
    /// Where they live when mvm may not mount: removed when the run ends.
    _dir: Option<RunDir>,
}

/// Docker's /dev/shm size.
const SHM_SIZE: u64 = 64 << 20;

fn private_dirs(spec: &RunSpec, devpts: bool) -> Result<Private, RunError> {
    let mut list = spec.tmpfs.clone();
    for (guest, size) in [("/tmp", None), ("/dev/shm", Some(SHM_SIZE))] {
        if !list.iter().any(|t| t.guest == guest) {
            list.push(Tmpfs {
                guest: guest.into(),
                size,
                mode: 0o1777,
                noexec: false,
            });
        }
    }
    // SAFETY: plain id queries.
    let owner = unsafe { (libc::getuid(), libc::getgid()) };
    let host = |e| RunError::Host("making the run's private /tmp", e);
    let mut specs: Vec<crate::tmpfs::Spec> = list
        .iter()
        .map(|t| crate::tmpfs::Spec::Tmpfs {
            size: t.size.unwrap_or(spec.memory),
            mode: t.mode,
            noexec: t.noexec,
        })
        .collect();
    if devpts {
        specs.push(crate::tmpfs::Spec::Devpts);
    }
    specs.push(crate::tmpfs::Spec::Tmpfs {
        size: 1 << 20,
        mode: 0o700,
        noexec: false,
    });
    if let Some(mut roots) = crate::tmpfs::new_all(&specs, owner).map_err(host)? {
        let scratch = roots.pop().expect("one root per spec");
        let devpts = devpts.then(|| roots.pop().expect("one root per spec"));
        let mut mounts: Vec<_> = list.iter().map(|t| t.guest.clone()).zip(roots).collect();
        mounts.extend(devpts.map(|d| ("/dev/pts".to_string(), d)));
        return Ok(Private {
            mounts,
            scratch: PathBuf::from(format!("/proc/self/fd/{}", scratch.as_raw_fd())),
            _scratch: Some(scratch),
            _dir: None,
        });
    }
    let dir = RunDir::create()?;
    let mut mounts = Vec::new();
    for (i, t) in list.iter().enumerate() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir.path().join(format!("tmpfs{i}"));
        std::fs::create_dir(&d).map_err(host)?;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(t.mode)).map_err(host)?;
        mounts.push((
            t.guest.clone(),
            OwnedFd::from(std::fs::File::open(&d).map_err(host)?),
        ));
    }
    Ok(Private {
        mounts,
        scratch: dir.path().to_path_buf(),
        _scratch: None,
        _dir: Some(dir),
    })
}

/// With `-h` or `--add-host`, the program's `/etc/hostname` and `/etc/hosts` say what they
/// give, as a container's do (written in the run's scratch directory, shown read-only).
fn names_files(spec: &RunSpec, view: &mut FsView, scratch: &Path) -> Result<(), RunError> {
    if spec.hostname.is_none() && spec.hosts.is_empty() {
        return Ok(());
    }
    let host = |e| RunError::Host("writing the program's /etc/hosts", e);
    let root = spec.rootfs.clone().unwrap_or_else(|| "/".into());
    let mut hosts = std::fs::read_to_string(root.join("etc/hosts")).unwrap_or_default();
    if !hosts.is_empty() && !hosts.ends_with('\n') {
        hosts.push('\n');
    }
    if let Some(h) = &spec.hostname {
        hosts.push_str(&format!("127.0.1.1\t{h}\n"));
        let p = scratch.join("hostname");
        std::fs::write(&p, format!("{h}\n")).map_err(host)?;
        view.add_file("/etc/hostname", &p)
            .map_err(|e| RunError::Host("showing /etc/hostname", std::io::Error::other(e)))?;
    }
    for (name, ip) in &spec.hosts {
        hosts.push_str(&format!("{ip}\t{name}\n"));
    }
    let p = scratch.join("hosts");
    std::fs::write(&p, hosts).map_err(host)?;
    view.add_file("/etc/hosts", &p)
        .map_err(|e| RunError::Host("showing /etc/hosts", std::io::Error::other(e)))
}

/// Opens where `--trace` goes: mvm's stderr, or the trace file (on the host, as the user named
/// it, before anything of the program exists; cloexec, and never in the program's descriptors).
fn open_trace(spec: &RunSpec) -> Result<Option<Arc<Tracer>>, RunError> {
    if !spec.trace && spec.trace_file.is_none() {
        return Ok(None);
    }
    let file = spec.trace_file.as_deref();
    Tracer::new(file).map(Some).map_err(|e| {
        let path = file.map_or_else(String::new, |p| p.display().to_string());
        RunError::TraceFile(path, crate::policy::io_text(&e))
    })
}

/// Runs `spec` to its end.
pub fn run(mut spec: RunSpec) -> Result<Report, RunError> {
    let t0 = Instant::now();
    let trace = open_trace(&spec)?;
    pick_ports(&mut spec)?;
    // The run's pseudo-terminals are its own (a devpts instance at /dev/pts, /dev/ptmx), as in
    // a container, unless the program is given mvm's own terminal (no -t, mvm on one): then
    // /dev/pts shows that terminal alone, under its host name.
    let host_ctty = if spec.tty { None } else { Ctty::of_host() };
    let own_devpts = spec.tty || host_ctty.is_none();
    let mut private = private_dirs(&spec, own_devpts)?;
    let host_cwd = std::env::current_dir()
        .ok()
        .and_then(|p| p.to_str().map(str::to_owned))
        .unwrap_or_else(|| "/".into());
    let cwd = match (&spec.workdir, &spec.rootfs) {
        (Some(w), _) => w.clone(),
        (None, Some(_)) => "/".into(),
        (None, None) => host_cwd,
    };
    // mvm's own working directory is shown (empty) in the default view; `-w` must exist.
    let shown: Vec<&str> = match spec.workdir {
        None => vec![cwd.as_str()],
        Some(_) => vec![],
    };
    // The run's own devpts instance, where -t's terminal is made too.
    let devpts = private
        .mounts
        .iter()
        .find(|(guest, _)| guest == "/dev/pts")
        .map(|(_, fd)| fd.try_clone())
        .transpose()
        .map_err(|e| RunError::Host("devpts", e))?;
    let mut view = FsView::build(
        spec.rootfs.as_deref(),
        &spec.volumes,
        std::mem::take(&mut private.mounts),
        &private.scratch,
        &shown,
    )
    .map_err(|e| RunError::Host("building the filesystem view", std::io::Error::other(e)))?;
    let program = resolve(&spec, &mut view)?;
    names_files(&spec, &mut view, &private.scratch)?;
    // mvm's own working directory may not be in the view (under /tmp, which is private): then
    // the program starts in `/`. (`resolve` accepts a missing last component, so open it.)
    let shown = view
        .resolve(b"/", cwd.as_bytes(), true)
        .and_then(|r| view.open(&r, libc::O_PATH | libc::O_DIRECTORY, 0))
        .is_ok();
    let cwd = if spec.workdir.is_none() && !shown {
        "/".into()
    } else {
        cwd
    };
    if spec.workdir.is_none()
        && spec.rootfs.is_none()
        && cwd != "/"
        && view.in_root_mount(cwd.as_bytes())
    {
        view.empty_cwd = Some(cwd.clone().into_bytes());
    }
    // The program's umask is applied by the view; the host's must not apply a second time.
    // SAFETY: plain call; mvm creates no other files after this point.
    unsafe { libc::umask(0) };
    let resolve_time = t0.elapsed();

    let signals = block_forwarded_signals()?;
    let host = |what| move |e| RunError::Host(what, e);
    crate::task::install_kick_handler()
        .map_err(|e| RunError::Host("sigaction", std::io::Error::from_raw_os_error(e)))?;
    // The run's terminal: -t's pseudo-terminal (the program's stdio), or mvm's own.
    let mut pty = if spec.tty {
        Some(
            Pty::open(spec.interactive, devpts.as_ref().map(|d| d.as_fd()))
                .map_err(host("openpty"))?,
        )
    } else {
        None
    };
    let (ctty, stdio) = match &pty {
        Some(p) => {
            let slave = p.slave().map_err(host("openpty"))?;
            let ctty = Ctty::relayed(p.slave().map_err(host("openpty"))?, p.name().to_string());
            (ctty, Some(slave))
        }
        None => (host_ctty, None),
    };
    // Everything of the host the run serves from is open now: mvm leaves the host's tree (and
    // with --network none its network) before any thread of the run's starts.
    if private._dir.is_none() {
        crate::isolate::own_mounts().map_err(host("entering mvm's own mount namespace"))?;
    }
    if spec.network == crate::spec::Network::None && spec.publish.is_empty() {
        crate::isolate::own_network().map_err(host("entering mvm's own network namespace"))?;
    }
    let conf = RunConf {
        hostname: spec
            .hostname
            .clone()
            .unwrap_or_else(crate::sys::process::host_name),
        cpus: spec.cpus.map_or(crate::sys::process::host_cpus(), |c| {
            (c.ceil() as usize).clamp(1, crate::sys::process::host_cpus())
        }),
        pids_limit: spec.pids_limit.map(|n| n as usize),
        cpu_quota: spec.cpus,
    };
    let machine = Machine::new(ctty, conf).map_err(host("eventfd"))?;
    if let Some(t) = &machine.throttle {
        t.start(Arc::downgrade(&machine))
            .map_err(host("spawn the CPU throttle"))?;
    }
    let done = EventFd::new(libc::EFD_NONBLOCK | libc::EFD_CLOEXEC).map_err(host("eventfd"))?;
    let stop: StopFlag = Arc::new(AtomicU32::new(0));
    // The first program, as the control loop and the programs it forks see it: it leads the
    // run's session and process group 1, which has the run's terminal.
    let job = JobIds::default();
    job.pgid.store(1, Ordering::Release);
    job.sid.store(1, Ordering::Release);
    job.ctty.store(machine.tty.is_some(), Ordering::Release);
    let first = ProcHandle::new(1, 0, stop.clone(), Arc::new(Kicker::default()), job);
    machine.add(first.clone());
    let (tx, rx) = mpsc::channel();
    if let Some(p) = pty.as_mut() {
        p.start(spec.interactive, Arc::downgrade(&machine))
            .map_err(host("spawn the terminal relay"))?;
    }
    let pty = pty.map(|p| Arc::new(Mutex::new(p)));

    let thread_done = done.try_clone().map_err(host("eventfd"))?;
    let thread_machine = machine.clone();
    let timeout = spec.timeout;
    let control = Filters::new(Kind::Control).map_err(seccomp_error)?;
    // The first vCPU thread starts the program once this thread is confined.
    let (confined, go) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("vcpu0".into())
        .stack_size(256 << 10)
        .spawn(move || {
            let opened = boot::Opened { stdio, trace };
            let result = run_vcpu(
                &spec,
                &program,
                &cwd,
                first,
                thread_machine,
                Confinement { view, go },
                opened,
            );
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
        machine,
        pty: pty.clone(),
        finished: false,
    }));
    let mut em = EventManager::<Arc<Mutex<Controller>>>::new()
        .map_err(|e| RunError::Host("epoll", std::io::Error::other(format!("{e:?}"))))?;
    em.add_subscriber(controller.clone());
    // (Refused, `confined` goes unsent: the vCPU thread ends without starting the program.)
    control.apply().map_err(seccomp_error)?;
    let _ = confined.send(());
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
    // The terminal's last holders go (the machine holds the run's terminal), then what the
    // program left in it is written out and mvm's terminal restored.
    let hint = controller
        .lock()
        .unwrap()
        .machine
        .hint
        .lock()
        .unwrap()
        .take();
    drop(em);
    drop(controller);
    if let Some(p) = pty.and_then(Arc::into_inner) {
        p.into_inner().unwrap().finish();
    }
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
        hint,
    })
}

fn seccomp_error(e: String) -> RunError {
    RunError::Host("seccomp", std::io::Error::other(e))
}

/// What the first vCPU thread confines itself with before the program's first instruction:
/// the view (Landlock), and word that the control loop is under its own filter.
struct Confinement {
    view: FsView,
    go: mpsc::Receiver<()>,
}

type VcpuResult = Result<(ExitReason, Timings, Duration, u64, u64, Duration), RunError>;

fn run_vcpu(
    spec: &RunSpec,
    program: &Path,
    cwd: &str,
    first: Arc<ProcHandle>,
    machine: Arc<Machine>,
    confinement: Confinement,
    opened: boot::Opened,
) -> VcpuResult {
    let Confinement { view, go } = confinement;
    let (mut task, timings) = boot::build(spec, program, cwd, first, machine.clone(), opened)?;
    task.fs = view;
    // From here on this thread (and the threads it starts for the program's threads) serves
    // the program: it may reach only what the view shows.
    let tty = machine.tty.as_ref().map(|t| t.fd());
    task.fs
        .confine_thread(&task.ports, tty)
        .map_err(|e| RunError::Host("landlock", std::io::Error::other(e)))?;
    crate::seccomp::confine(Kind::Serving).map_err(seccomp_error)?;
    go.recv().map_err(|_| {
        RunError::Host(
            "seccomp",
            std::io::Error::other("the control loop is not confined"),
        )
    })?;
    let start = Instant::now();
    let reason = task.run_main();
    // The first program's end ends the run (as init's end ends a pid namespace): the programs
    // it forked that are still running are killed, and every host thread is joined.
    task.unlocked(|| machine.join_all(true));
    let run_time = start.elapsed();
    Ok((
        reason,
        timings,
        run_time,
        task.stats.syscalls,
        task.stats.faults,
        task.stats.guest_time,
    ))
}
