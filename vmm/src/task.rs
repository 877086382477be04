//! The running program: its address space, vCPU, file descriptors and signal state, and the loop
//! that turns each VM exit into a served syscall, a filled page, or the program's end.

use std::fs::File;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::boot::elf::{self, ExecError, Image};
use crate::boot::stack::{self, AuxInfo};
use crate::layout::{
    kva, IRETQ, KERNEL_VBASE, KSTACK_PHYS, KSTACK_TOP_PHYS, PIE_BASE, SYSCALL_ENTRY,
};
use crate::mm::{AddressSpace, Fault};
use crate::sys::fs::FdTable;
use crate::sys::sigframe::{code, SigInfo};
use crate::sys::signal::{self, SignalState};
use crate::sys::{self, SysError};
use crate::vstate::vcpu::{has_error_code, GuestExit, IretFrame, Vcpu};
use crate::vstate::vm::VmError;

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
    path: String,
    interp: Option<(Image, Arc<File>, String)>,
}

/// The program.
pub struct Task {
    /// Its vCPU.
    pub vcpu: Vcpu,
    /// The VM (kept alive as long as the vCPU; dropped before guest memory).
    pub vm: crate::vstate::vm::Vm,
    /// File descriptors.
    pub fds: FdTable,
    /// Signal dispositions, mask, alternate stack.
    pub sig: SignalState,
    /// Working directory.
    pub cwd: String,
    /// What of the host the program may reach.
    pub fs: crate::policy::FsView,
    /// `--trace`.
    pub trace: bool,
    /// The path of the running executable (`/proc/self/exe`), for messages.
    pub exe: String,
    /// What the auxiliary vector reports.
    pub aux: AuxInfo,
    /// The vDSO image (a memfd), mapped into every program.
    pub vdso_file: Arc<File>,
    /// Where the current program's vDSO is.
    pub vdso: Option<crate::vdso::Mapped>,
    /// The vDSO's clock data.
    pub clock: crate::vdso::Clock,
    /// `set_tid_address`.
    pub clear_child_tid: u64,
    /// Resource limits that `prlimit64` has set: (resource, soft, hard).
    pub rlimits: Vec<(u32, u64, u64)>,
    /// Set by the control loop to stop the program.
    pub stop: StopFlag,
    /// Number of syscalls served (for `--timings`).
    pub syscalls: u64,
    /// Number of page faults served.
    pub faults: u64,
    /// Time spent inside `KVM_RUN` (the guest, and KVM on its behalf), for `--timings`.
    pub guest_time: std::time::Duration,
    /// Its address space (last: guest memory outlives the vCPU and VM that use it).
    pub mm: AddressSpace,
}

impl Task {
    /// Checks `file` (opened from `path`) and opens its interpreter: everything `execve` can
    /// fail on before the point of no return.
    pub fn prepare_exec(&self, file: File, path: String) -> Result<Prepared, ExecError> {
        let image = elf::parse(&file)?;
        let interp = match &image.interp {
            None => None,
            Some(ip) => {
                let bad = |e| ExecError::Interp(ip.clone(), e);
                let (f, p) = self.fs.open_exec("/", ip).map_err(bad)?;
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
        let vdso = crate::vdso::map(&mut self.mm, &self.vdso_file).map_err(|_| ExecError::Oom)?;
        self.clock.refresh(&self.mm, &vdso, true);
        self.vdso = Some(vdso);
        self.aux.vdso = vdso.base;
        let sp = stack::build(
            &mut self.mm,
            &main,
            base,
            argv,
            envp,
            p.path.as_bytes(),
            &self.aux,
        )
        .map_err(|_| ExecError::Oom)?;
        self.exe = p.path.clone();
        self.sig.on_exec();
        self.fds.on_exec();
        self.clear_child_tid = 0;
        Ok((entry, sp))
    }

    /// Starts the first program: guest-init (from a memfd holding the embedded image).
    pub fn boot(&mut self, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<(), ExecError> {
        let file = crate::boot::embedded_file(crate::boot::GUEST_INIT).map_err(ExecError::Io)?;
        let p = self.prepare_exec(file, "/.mvm/init".into())?;
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
        let at = KSTACK_TOP_PHYS - 40;
        let words = [frame.rip, frame.cs, frame.rflags, frame.rsp, frame.ss];
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.mm.ram.write(at, &bytes);
        let r = self.vcpu.regs_mut();
        r.rsp = kva(at);
        r.rip = IRETQ;
    }

    /// Whether the control loop asked the program to stop.
    pub fn stop_requested(&self) -> Option<ExitReason> {
        match self.stop.load(Ordering::Acquire) & STOP_TIMEOUT {
            STOP_NONE => None,
            _ => Some(ExitReason::Timeout),
        }
    }

    /// Runs the program until it ends.
    pub fn run(&mut self) -> Result<ExitReason, VmError> {
        loop {
            if let Some(r) = self.stop_requested() {
                return Ok(r);
            }
            self.mm.settle();
            if let Some(v) = &self.vdso {
                self.clock.refresh(&self.mm, v, false);
            }
            self.vm.ensure(&self.mm.ram)?;
            if self.mm.take_flush() {
                self.vm.flush_shadow()?;
            }
            let entered = std::time::Instant::now();
            let exit = self.vcpu.run()?;
            self.guest_time += entered.elapsed();
            let end = match exit {
                GuestExit::Syscall => {
                    let rsp = self.vcpu.regs().rsp;
                    self.serve_syscall(rsp)
                }
                GuestExit::Exception { vector } => self.serve_exception(vector),
                GuestExit::UserIo => Some(signal::fatal(
                    libc::SIGSEGV,
                    format!(
                        "general protection fault (I/O instruction), rip {:#x}",
                        self.vcpu.regs().rip
                    ),
                )),
                GuestExit::Interrupted => {
                    self.vcpu.clear_immediate_exit();
                    None
                }
                GuestExit::Broken(why) => Some(ExitReason::Broken(why.to_string())),
            };
            if let Some(r) = end.or_else(|| signal::deliver_pending(self)) {
                return Ok(r);
            }
        }
    }

    /// Serves the syscall the program made with its stack pointer at `user_rsp`.
    fn serve_syscall(&mut self, user_rsp: u64) -> Option<ExitReason> {
        let r = self.vcpu.regs();
        self.syscalls += 1;
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
            Err(SysError::Exit(reason)) => return Some(reason),
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

    fn serve_exception(&mut self, vector: u8) -> Option<ExitReason> {
        let regs = self.vcpu.regs();
        let lo = kva(KSTACK_PHYS);
        let hi = kva(KSTACK_TOP_PHYS);
        let ec_len = if has_error_code(vector) { 8 } else { 0 };
        if regs.rsp < lo || regs.rsp + ec_len + 40 > hi {
            return Some(ExitReason::Broken(format!(
                "exception {vector} with a bad ring-0 stack"
            )));
        }
        let mut raw = [0u8; 48];
        self.mm
            .ram
            .read(regs.rsp - KERNEL_VBASE, &mut raw[..(ec_len + 40) as usize]);
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
            return Some(ExitReason::Broken(format!(
                "exception {vector} in the guest kernel at {:#x}",
                frame.rip
            )));
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
            self.faults += 1;
            match self.mm.fault(addr, code & 2 != 0, code & 16 != 0) {
                Ok(()) => {
                    self.resume_user(frame);
                    return None;
                }
                Err(Fault::Oom) => {
                    return Some(ExitReason::Signaled {
                        sig: libc::SIGKILL,
                        detail: format!(
                            "out of memory: the --memory limit of {} MiB is reached",
                            (self.mm.ram.user_limit() * 4096) >> 20
                        ),
                    })
                }
                Err(f) => {
                    let si_code = if f == Fault::Access {
                        code::SEGV_ACCERR
                    } else {
                        code::SEGV_MAPERR
                    };
                    let detail = format!("page fault at {addr:#x}, rip {:#x}", frame.rip);
                    let info = SigInfo {
                        signo: libc::SIGSEGV,
                        code: si_code,
                        addr,
                        ..Default::default()
                    };
                    let trap = signal::Trap {
                        trapno: 14,
                        err: code,
                        cr2: addr,
                    };
                    return signal::force(self, frame, info, trap, detail);
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
        signal::force(self, frame, info, trap, detail)
    }
}
