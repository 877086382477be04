//! Booting a micro-VM, as an ordered list of steps (only this module knows the order):
//! guest memory → address space and the kernel's tables → the tiny kernel (ELF, linux-loader)
//! → VM → vCPU → guest-init loaded as the first program. Also the program loader shared with
//! `execve`: the ELF loader and the initial stack.

pub mod elf;
pub mod kernel;
pub mod stack;

/// The guest-init image, built by `build.rs` from `guest-init/`.
pub static GUEST_INIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest-init"));

/// A sealed memfd holding `bytes`, so that an embedded image loads like any executable file.
pub fn embedded_file(bytes: &[u8]) -> Result<std::fs::File, i32> {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    // SAFETY: memfd_create with a static name; the result is checked.
    let fd = unsafe { libc::memfd_create(c"mvm-image".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO));
    }
    // SAFETY: `fd` was just created and is owned by nobody else.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    f.write_all(bytes)
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    Ok(f)
}

use std::path::Path;
use std::time::{Duration, Instant};

use crate::mm::AddressSpace;
use crate::spec::RunSpec;
use crate::sys::fs::FdTable;
use crate::sys::signal::SigShared;
use crate::sys::trace::Tracer;
use crate::task::{Machine, ProcHandle, Process, Task};
use crate::vstate::memory::{GuestRam, MemoryError};
use crate::vstate::vcpu::CpuArea;
use crate::vstate::vcpu::{self, Vcpu};
use crate::vstate::vm::{Vm, VmError};
use std::sync::Arc;

/// Errors building the micro-VM.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// Guest memory.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// The VM or vCPU.
    #[error(transparent)]
    Vm(#[from] VmError),
    /// The kernel image.
    #[error(transparent)]
    Kernel(#[from] kernel::KernelError),
    /// Loading guest-init.
    #[error("cannot start guest-init: {0}")]
    Init(#[from] elf::ExecError),
    /// Out of guest memory while building the page tables.
    #[error("guest memory too small for the kernel's tables")]
    Tables,
}

/// Start-up phases and how long each took, for `--timings`.
#[derive(Debug, Default)]
pub struct Timings(pub Vec<(&'static str, Duration)>);

impl Timings {
    fn lap(&mut self, what: &'static str, since: &mut Instant) {
        let now = Instant::now();
        self.0.push((what, now - *since));
        *since = now;
    }
}

/// Room for page tables on top of `--memory`: one table maps 2 MiB, so 1/256 of the data, plus
/// the tables of sparse reservations, plus the system area.
fn guest_size(memory: u64) -> u64 {
    memory + memory / 128 + (16 << 20)
}

/// What the runner opened on the host for the program before its VM exists.
#[derive(Default)]
pub struct Opened {
    /// `-t`'s terminal: the program's stdin, stdout and stderr.
    pub stdio: Option<std::os::fd::OwnedFd>,
    /// Where `--trace` goes.
    pub trace: Option<Arc<Tracer>>,
}

/// Builds the micro-VM for `spec` with `program` (a checked host path) and starts guest-init,
/// which will enter the working directory and exec the program.
pub fn build(
    spec: &RunSpec,
    program: &Path,
    cwd: &str,
    me: Arc<ProcHandle>,
    machine: Arc<Machine>,
    opened: Opened,
) -> Result<(Task, Timings), BootError> {
    let Opened { stdio, trace } = opened;
    let mut t = Timings::default();
    let mut lap = Instant::now();

    let ram = GuestRam::new(guest_size(spec.memory), spec.memory)?;
    let mut mm = AddressSpace::new(ram).ok_or(BootError::Tables)?;
    vcpu::setup_tables(&mut mm).ok_or(BootError::Tables)?;
    kernel::load(&mm.ram)?;
    t.lap("memory, page tables, kernel", &mut lap);

    let vm = Vm::new(&mut mm.ram)?;
    t.lap("KVM VM", &mut lap);
    let cpuid = vm.supported_cpuid()?;
    t.lap("CPUID", &mut lap);
    let vcpu = Vcpu::new(&vm, 0, &cpuid, mm.cr3(), &CpuArea::boot())?;
    let (tsc_khz, tsc_offset) = (vcpu.tsc_khz(), vcpu.tsc_offset());
    t.lap("vCPU", &mut lap);

    let hwcap = cpuid
        .as_slice()
        .iter()
        .find(|e| e.function == 1)
        .map_or(0, |e| e.edx as u64);
    let (uid, gid) = match &spec.user {
        Some(u) => (u.uid, u.gid),
        // SAFETY: plain id queries.
        None => unsafe { (libc::getuid(), libc::getgid()) },
    };
    let process = Process {
        spare: Vec::new(),
        vm,
        cpuid,
        vcpus: 1,
        fds: FdTable::stdio(stdio),
        sigs: SigShared::inherited(),
        cwd: "/".into(),
        fs: crate::policy::FsView::host(),
        ports: crate::policy::Ports::new(&spec.publish, spec.network),
        itimer: Default::default(),
        timers: Vec::new(),
        cpu_itimers: Default::default(),
        cpu_limit: Default::default(),
        children_cpu: Default::default(),
        trace,
        exe: Vec::new(),
        aux: stack::AuxInfo {
            hwcap,
            uid,
            gid,
            vdso: 0,
        },
        vdso_file: crate::vdso::file().map_err(elf::ExecError::Io)?,
        vdso: None,
        clock: crate::vdso::Clock::new(tsc_khz, tsc_offset),
        rlimits: Vec::new(),
        groups: spec
            .user
            .as_ref()
            .map(|u| u.groups.clone())
            .unwrap_or_default(),
        creds_gen: 0,
        me,
        machine,
        live: 1,
        main_mask: Some(0),
        threads: Default::default(),
        stats: Default::default(),
        mm,
    };
    let mut task = Task::main(process, vcpu);
    use std::os::unix::ffi::OsStrExt;
    let mut argv: Vec<Vec<u8>> = vec![
        b"/.mvm/init".to_vec(),
        cwd.as_bytes().to_vec(),
        program.as_os_str().as_bytes().to_vec(),
        spec.program.as_bytes().to_vec(),
    ];
    argv.extend(spec.args.iter().map(|a| a.as_bytes().to_vec()));
    let envp: Vec<Vec<u8>> = spec.env.iter().map(|e| e.as_bytes().to_vec()).collect();
    task.boot(&argv, &envp)?;
    t.lap("guest-init loaded", &mut lap);
    Ok((task, t))
}
