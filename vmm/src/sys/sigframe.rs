//! The Linux x86-64 signal frame (`struct rt_sigframe`): building it on the program's stack when
//! a handler is entered, and reading it back, checked, in `rt_sigreturn`. The layout is the
//! kernel's ABI (arch/x86/include/asm/sigframe.h, uapi/asm/sigcontext.h):
//!
//! ```text
//! frame + 0    pretcode        (sa_restorer: the handler's return address)
//! frame + 8    ucontext        uc_flags, uc_link, uc_stack (24), uc_mcontext (256), uc_sigmask
//! frame + 312  siginfo         (128)
//! ...          fpstate         XSAVE layout, 64-byte aligned, above the frame
//! ```

use kvm_bindings::{kvm_regs, kvm_xsave};

use crate::layout::{USER_CS, USER_DS};
use crate::vstate::vcpu::IretFrame;

/// `sizeof(struct rt_sigframe)`.
pub const FRAME_SIZE: u64 = 440;
/// Offset of the ucontext in the frame.
pub const UC: u64 = 8;
/// Offset of the siginfo in the frame.
pub const INFO: u64 = 312;
/// Offset of uc_mcontext (struct sigcontext) in the ucontext.
pub const MCONTEXT: u64 = 40;
/// The ucontext's size up to and including uc_sigmask.
pub const UC_SIZE: usize = 304;

/// `uc_flags` bits.
pub const UC_FP_XSTATE: u64 = 1;
/// The sigcontext's `ss` is meaningful.
pub const UC_SIGCONTEXT_SS: u64 = 2;
/// `rt_sigreturn` restores `ss` strictly.
pub const UC_STRICT_RESTORE_SS: u64 = 4;

/// `struct _fpx_sw_bytes` magic in the FXSAVE area's software-reserved bytes.
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// The magic word right after the XSAVE area.
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// Where the software-reserved bytes sit in the FXSAVE area.
pub const SW_BYTES: usize = 464;

/// The registers a signal frame saves, as `struct sigcontext` orders them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigContext {
    /// r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags.
    pub gp: [u64; 18],
    /// cs | gs << 16 | fs << 32 | ss << 48.
    pub segs: u64,
    /// The fault's error code.
    pub err: u64,
    /// The fault's vector.
    pub trapno: u64,
    /// The old mask (first word).
    pub oldmask: u64,
    /// The faulting address.
    pub cr2: u64,
    /// Where the FPU state is (0: none).
    pub fpstate: u64,
}

/// Indexes into `SigContext::gp`.
pub mod reg {
    /// rdi.
    pub const RDI: usize = 8;
    /// rax.
    pub const RAX: usize = 13;
    /// rsp.
    pub const RSP: usize = 15;
    /// rip.
    pub const RIP: usize = 16;
    /// eflags.
    pub const EFLAGS: usize = 17;
}

impl SigContext {
    /// The context of a program whose general registers are `r`, resuming at `rip` with `rsp`
    /// and `rflags`.
    pub fn capture(r: &kvm_regs, rip: u64, rsp: u64, rflags: u64) -> Self {
        SigContext {
            gp: [
                r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx,
                r.rdx, r.rax, r.rcx, rsp, rip, rflags,
            ],
            ..Default::default()
        }
    }

    /// Writes the general registers (all but rsp, rip and flags, which return through the iret
    /// frame) back into `r`.
    pub fn restore_into(&self, r: &mut kvm_regs) {
        let g = &self.gp;
        (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15) =
            (g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
        (r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx) =
            (g[8], g[9], g[10], g[11], g[12], g[13], g[14]);
    }

    /// The 256 bytes of `struct sigcontext`.
    pub fn to_bytes(&self) -> [u8; 256] {
        let mut w = [0u64; 32];
        w[..18].copy_from_slice(&self.gp);
        w[18] = self.segs;
        w[19] = self.err;
        w[20] = self.trapno;
        w[21] = self.oldmask;
        w[22] = self.cr2;
        w[23] = self.fpstate;
        let mut b = [0u8; 256];
        for (i, v) in w.iter().enumerate() {
            b[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// Parses `struct sigcontext`.
    pub fn from_bytes(b: &[u8]) -> Self {
        let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap());
        let mut gp = [0u64; 18];
        for (i, g) in gp.iter_mut().enumerate() {
            *g = w(i);
        }
        SigContext {
            gp,
            segs: w(18),
            err: w(19),
            trapno: w(20),
            oldmask: w(21),
            cr2: w(22),
            fpstate: w(23),
        }
    }
}

/// What `rt_sigreturn` restores from the ucontext a handler returns over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restore {
    /// The saved registers: the general ones go back with `restore_into`; `fpstate` is where
    /// the FPU state is (0: none), read with `fpstate`.
    pub sc: SigContext,
    /// Where ring 3 resumes: the frame's rip and rsp, its flags as far as a program may set
    /// them, the 64-bit user selectors.
    pub resume: IretFrame,
    /// `uc_sigmask` (first word).
    pub mask: u64,
    /// `uc_stack`: (ss_sp, ss_flags, ss_size), restored as `sigaltstack` would.
    pub altstack: (u64, i32, u64),
}

/// Reads the ucontext (`UC_SIZE` bytes) a handler returns over, checked as Linux checks it:
/// the reason, for a frame whose return would fault (Linux's `badframe`).
pub fn ucontext(uc: &[u8; UC_SIZE]) -> Result<Restore, &'static str> {
    let mc = MCONTEXT as usize;
    let sc = SigContext::from_bytes(&uc[mc..mc + 256]);
    let mask = u64::from_le_bytes(uc[mc + 256..mc + 264].try_into().unwrap());
    let (rip, rsp, flags) = (sc.gp[reg::RIP], sc.gp[reg::RSP], sc.gp[reg::EFLAGS]);
    // A non-canonical address would fault on the kernel's `iretq` itself.
    if rip >= 1 << 47 || rsp >= 1 << 47 {
        return Err("non-canonical rip or rsp");
    }
    // Linux restores cs (and ss, strictly) from the frame: anything but the 64-bit user
    // selectors faults on its return (there is no 32-bit mode here).
    let uc_flags = u64::from_le_bytes(uc[0..8].try_into().unwrap());
    let (cs, ss) = (sc.segs & 0xffff | 3, (sc.segs >> 48) | 3);
    if cs != USER_CS as u64 || (uc_flags & UC_STRICT_RESTORE_SS != 0 && ss != USER_DS as u64) {
        return Err("not the 64-bit user cs/ss");
    }
    if !sc.fpstate.is_multiple_of(64) {
        return Err("misaligned fpstate");
    }
    let ss_sp = u64::from_le_bytes(uc[16..24].try_into().unwrap());
    let ss_flags = i32::from_le_bytes(uc[24..28].try_into().unwrap());
    let ss_size = u64::from_le_bytes(uc[32..40].try_into().unwrap());
    Ok(Restore {
        sc,
        resume: IretFrame::user(rip, rsp, flags),
        mask,
        altstack: (ss_sp, ss_flags, ss_size),
    })
}

/// The XSAVE area `rt_sigreturn` loads from a frame's FPU state: `buf` is the `xsize + 4` bytes
/// at the frame's `fpstate` (`xsize` is `xstate_size(xcr0)`), all of them read (`whole`) or only
/// the first 512 (the rest is not looked at). An extended frame (the FP_XSTATE magic words and
/// sizes) gives the components its header holds, any other x87 and SSE only. The reason, for
/// what Linux's restore would fault on.
pub fn fpstate(
    mut buf: Vec<u8>,
    whole: bool,
    xcr0: u64,
    xsize: usize,
) -> Result<kvm_xsave, &'static str> {
    let sw = SW_BYTES;
    let word = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let extended = whole
        && word(&buf, sw) == FP_XSTATE_MAGIC1
        && word(&buf, sw + 16) as usize == xsize
        && word(&buf, sw + 4) as usize == xsize + 4
        && word(&buf, xsize) == FP_XSTATE_MAGIC2;
    let xfeatures = if extended {
        u64::from_le_bytes(buf[sw + 8..sw + 16].try_into().unwrap())
    } else {
        3
    };
    buf.truncate(if extended { xsize } else { 512 });
    buf.resize(xsize.max(576), 0);
    // Reserved MXCSR bits, or an XSAVE header the CPU refuses (components outside XCR0, a
    // compacted format, reserved bytes), make Linux's restore fault: a bad frame.
    if word(&buf, 24) & !0xffff != 0 {
        return Err("reserved MXCSR bits");
    }
    let bv = u64::from_le_bytes(buf[512..520].try_into().unwrap());
    if extended && (bv & !xcr0 != 0 || buf[520..576].iter().any(|&b| b != 0)) {
        return Err("invalid XSAVE header");
    }
    let bv = if extended { bv } else { 3 } & xfeatures & xcr0;
    buf[512..576].fill(0);
    buf[512..520].copy_from_slice(&bv.to_le_bytes());
    Ok(xsave_from(&buf))
}

/// A `siginfo_t` as the program sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigInfo {
    /// Signal number.
    pub signo: i32,
    /// `si_code`.
    pub code: i32,
    /// Sender's pid (SI_USER, SI_TKILL).
    pub pid: i32,
    /// Sender's uid.
    pub uid: u32,
    /// Faulting address (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP).
    pub addr: u64,
    /// Sent to mvm by the host (its default action ends the run as mvm's stop did).
    pub from_host: bool,
    /// SIGCHLD: the child's exit status, or the signal that killed it.
    pub status: i32,
    /// `si_value` of a signal queued with its value (SI_QUEUE: sigqueue, rt_sigqueueinfo).
    pub value: u64,
}

/// `si_code` values.
pub mod code {
    /// kill(2).
    pub const SI_USER: i32 = 0;
    /// Sent by the kernel.
    pub const SI_KERNEL: i32 = 0x80;
    /// tkill(2)/tgkill(2).
    pub const SI_TKILL: i32 = -6;
    /// sigqueue(3), rt_sigqueueinfo(2): sent with a value.
    pub const SI_QUEUE: i32 = -1;
    /// SIGSEGV: no mapping.
    pub const SEGV_MAPERR: i32 = 1;
    /// SIGSEGV: no permission.
    pub const SEGV_ACCERR: i32 = 2;
    /// SIGFPE: integer divide by zero.
    pub const FPE_INTDIV: i32 = 1;
    /// SIGFPE: floating-point invalid operation.
    pub const FPE_FLTINV: i32 = 7;
    /// SIGILL: illegal opcode.
    pub const ILL_ILLOPN: i32 = 2;
    /// SIGBUS: misaligned address.
    pub const BUS_ADRALN: i32 = 1;
    /// SIGBUS: no memory behind the address (a mapped file's page past its end).
    pub const BUS_ADRERR: i32 = 2;
    /// SIGTRAP: breakpoint.
    pub const TRAP_BRKPT: i32 = 1;
    /// SIGCHLD: the child exited.
    pub const CLD_EXITED: i32 = 1;
    /// SIGCHLD: the child was killed by a signal.
    pub const CLD_KILLED: i32 = 2;
    /// SIGCHLD: the child stopped.
    pub const CLD_STOPPED: i32 = 5;
    /// SIGCHLD: the child continued.
    pub const CLD_CONTINUED: i32 = 6;
}

impl SigInfo {
    /// Whether the sender fields (pid, uid) or the fault address are what this code carries.
    fn is_fault(&self) -> bool {
        self.code > 0
            && self.code != code::SI_KERNEL
            && matches!(
                self.signo,
                libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP
            )
    }

    /// What SIGCHLD (and waitid) report of a child `pid` of user `uid` that ended with wait
    /// status `wait_status`: CLD_EXITED and its status, CLD_KILLED and the signal, CLD_STOPPED
    /// and the stop signal, or CLD_CONTINUED.
    pub fn child(pid: i32, uid: u32, wait_status: i32) -> SigInfo {
        let (code, status) = if wait_status == 0xffff {
            (code::CLD_CONTINUED, libc::SIGCONT)
        } else if wait_status & 0xff == 0x7f {
            (code::CLD_STOPPED, (wait_status >> 8) & 0xff)
        } else if wait_status & 0x7f == 0 {
            (code::CLD_EXITED, (wait_status >> 8) & 0xff)
        } else {
            (code::CLD_KILLED, wait_status & 0x7f)
        };
        SigInfo {
            signo: libc::SIGCHLD,
            code,
            pid,
            uid,
            status,
            ..Default::default()
        }
    }

    /// The 128 bytes of `siginfo_t`.
    pub fn to_bytes(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        if self.is_fault() {
            b[16..24].copy_from_slice(&self.addr.to_le_bytes());
        } else if self.code == super::time::SI_TIMER || self.code == super::mqueue::SI_MESGQ {
            // si_timerid, si_overrun, si_value (kept in `pid`, `uid` and `addr`); a message
            // queue's si_pid, si_uid and si_value sit at the same places.
            b[16..20].copy_from_slice(&self.pid.to_le_bytes());
            b[20..24].copy_from_slice(&self.uid.to_le_bytes());
            b[24..32].copy_from_slice(&self.addr.to_le_bytes());
        } else if self.code <= 0 || self.signo == libc::SIGCHLD {
            b[16..20].copy_from_slice(&self.pid.to_le_bytes());
            b[20..24].copy_from_slice(&self.uid.to_le_bytes());
            if self.signo == libc::SIGCHLD {
                b[24..28].copy_from_slice(&self.status.to_le_bytes());
            } else if self.code == code::SI_QUEUE {
                b[24..32].copy_from_slice(&self.value.to_le_bytes());
            }
        }
        b
    }

    /// The 128 bytes of `struct signalfd_siginfo` that signalfd(2) reads for it: the same
    /// fields as the siginfo carries, each at its own offset (the sender's times of a SIGCHLD
    /// are not kept: zero).
    pub fn to_signalfd(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        let put32 =
            |b: &mut [u8; 128], at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        let put64 =
            |b: &mut [u8; 128], at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
        put32(&mut b, 0, self.signo as u32);
        put32(&mut b, 8, self.code as u32);
        if self.is_fault() {
            put64(&mut b, 72, self.addr);
        } else if self.code == super::time::SI_TIMER {
            // ssi_tid, ssi_overrun, and si_value as ssi_ptr and ssi_int.
            put32(&mut b, 24, self.pid as u32);
            put32(&mut b, 32, self.uid);
            put64(&mut b, 48, self.addr);
            put32(&mut b, 44, self.addr as u32);
        } else if self.code <= 0 || self.signo == libc::SIGCHLD {
            put32(&mut b, 12, self.pid as u32);
            put32(&mut b, 16, self.uid);
            if self.signo == libc::SIGCHLD {
                put32(&mut b, 40, self.status as u32);
            } else if self.code == code::SI_QUEUE {
                put64(&mut b, 48, self.value);
                put32(&mut b, 44, self.value as u32);
            }
        }
        b
    }
}

/// The size of the XSAVE area (standard layout) for the components in `xcr0`.
pub fn xstate_size(xcr0: u64) -> usize {
    let mut size = 512 + 64;
    for i in 2..63 {
        if xcr0 & (1 << i) != 0 {
            let c = std::arch::x86_64::__cpuid_count(0xd, i);
            size = size.max((c.ebx + c.eax) as usize);
        }
    }
    size.min(std::mem::size_of::<kvm_xsave>())
}

/// The XSAVE area of `x` as bytes.
pub fn xsave_bytes(x: &kvm_xsave) -> Vec<u8> {
    x.region.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A `kvm_xsave` from the first bytes of an XSAVE area (the rest zero).
pub fn xsave_from(bytes: &[u8]) -> kvm_xsave {
    let mut x = kvm_xsave::default();
    for (i, c) in bytes.chunks(4).enumerate().take(x.region.len()) {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        x.region[i] = u32::from_le_bytes(w);
    }
    x
}

/// The state a signal handler starts with (Linux clears the FPU for it): x87 and SSE at their
/// reset values, every other component in its initial state.
pub fn xsave_init() -> kvm_xsave {
    let mut b = vec![0u8; 576];
    b[0..2].copy_from_slice(&0x37fu16.to_le_bytes()); // FCW
    b[24..28].copy_from_slice(&0x1f80u32.to_le_bytes()); // MXCSR
    b[512..520].copy_from_slice(&3u64.to_le_bytes()); // XSTATE_BV: x87, SSE
    xsave_from(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigcontext_round_trips() {
        let mut c = SigContext::default();
        for (i, g) in c.gp.iter_mut().enumerate() {
            *g = 0x1111 * (i as u64 + 1);
        }
        c.fpstate = 0x7000;
        c.cr2 = 9;
        assert_eq!(SigContext::from_bytes(&c.to_bytes()), c);
        // uc_mcontext's size and the frame's offsets are the kernel's.
        assert_eq!(UC + MCONTEXT + 256 + 8, INFO);
        assert_eq!(INFO + 128, FRAME_SIZE);
        assert_eq!(UC_SIZE as u64, INFO - UC);
    }

    #[test]
    fn siginfo_layout() {
        let i = SigInfo {
            signo: libc::SIGSEGV,
            code: code::SEGV_MAPERR,
            addr: 0x1234,
            ..Default::default()
        };
        let b = i.to_bytes();
        assert_eq!(b[0], libc::SIGSEGV as u8);
        assert_eq!(b[8], 1);
        assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), 0x1234);
        let k = SigInfo {
            signo: libc::SIGUSR1,
            code: code::SI_TKILL,
            pid: 1,
            uid: 1000,
            ..Default::default()
        };
        let b = k.to_bytes();
        assert_eq!(i32::from_le_bytes(b[8..12].try_into().unwrap()), -6);
        assert_eq!(i32::from_le_bytes(b[16..20].try_into().unwrap()), 1);
        assert_eq!(u32::from_le_bytes(b[20..24].try_into().unwrap()), 1000);
        assert_eq!(
            crate::sys::trace::siginfo(&k),
            "{si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=1, si_uid=1000}"
        );
    }

    #[test]
    fn signalfd_records_put_each_field_at_its_offset() {
        let at32 = |b: &[u8; 128], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let b = SigInfo::child(7, 1000, 3 << 8).to_signalfd();
        // ssi_signo, ssi_code, ssi_pid, ssi_uid, ssi_status.
        assert_eq!([at32(&b, 0), at32(&b, 8), at32(&b, 12)], [17, 1, 7]);
        assert_eq!([at32(&b, 16), at32(&b, 40)], [1000, 3]);
        let q = SigInfo {
            signo: libc::SIGUSR1,
            code: code::SI_QUEUE,
            pid: 2,
            value: 42,
            ..Default::default()
        };
        let b = q.to_signalfd();
        // ssi_int and ssi_ptr carry the value.
        assert_eq!([at32(&b, 8), at32(&b, 12), at32(&b, 44)], [u32::MAX, 2, 42]);
        assert_eq!(u64::from_le_bytes(b[48..56].try_into().unwrap()), 42);
        // The siginfo a handler gets has it as si_value.
        assert_eq!(
            u64::from_le_bytes(q.to_bytes()[24..32].try_into().unwrap()),
            42
        );
    }
}
