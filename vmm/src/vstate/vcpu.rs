//! The vCPU: long mode with SSE/AVX state, the tiny kernel's tables, and the classification of
//! every VM exit into what the guest asked for (a syscall, an exception) or what went wrong.

use kvm_bindings::{
    kvm_fpu, kvm_msr_entry, kvm_regs, kvm_segment, kvm_sregs, kvm_xcrs, kvm_xsave, CpuId, Msrs,
};
use kvm_ioctls::{SyncReg, VcpuExit, VcpuFd};

use super::vm::{Vm, VmError};
use crate::layout::*;
use crate::mm::AddressSpace;
use crate::vstate::memory::{FrameUse, GuestRam};

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_CSTAR: u32 = 0xc000_0083;
const MSR_SFMASK: u32 = 0xc000_0084;
const MSR_FS_BASE: u32 = 0xc000_0100;
const MSR_GS_BASE: u32 = 0xc000_0101;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;

const CR0_PE: u64 = 1 << 0;
const CR0_MP: u64 = 1 << 1;
const CR0_ET: u64 = 1 << 4;
const CR0_NE: u64 = 1 << 5;
const CR0_WP: u64 = 1 << 16;
const CR0_AM: u64 = 1 << 18;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const CR4_PGE: u64 = 1 << 7;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const CR4_OSXSAVE: u64 = 1 << 18;
const EFER_SCE: u64 = 1 << 0;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;
const EFER_NXE: u64 = 1 << 11;

/// The XSAVE state components the guest's XCR0 enables, of those the host offers (CPUID leaf
/// 0xD): the ones a Linux program may use without asking — x87, SSE, AVX, and AVX-512's three
/// (opmask, ZMM_Hi256, Hi16_ZMM), which the CPU takes only all together. Not PKRU (bit 9): the
/// guest's CR4.PKE stays clear, so protection keys are off (CPUID's OSPKE, which KVM derives
/// from CR4, says so; glibc then uses none) and PKRU, which KVM_GET_XSAVE may still report in
/// XSTATE_BV, belongs in no signal frame (`sys::signal::setup_frame` masks the frame's header
/// to XCR0). Not AMX's tiles (bits 17-18): Linux gives them only after
/// `arch_prctl(ARCH_REQ_XCOMP_PERM)`, which mvm refuses (EINVAL), so no program uses them.
/// Nor the supervisor components (PT, CET, ...), which XCR0 cannot hold. The guest's CPUID is
/// the host's supported one, so leaf 0xD's sizes are computed by KVM for this XCR0.
const XCR0_USER: u64 = 0b1110_0111;

/// Flags cleared on `syscall` entry, as Linux: TF, DF, IF, IOPL, NT, AC.
const SFMASK: u64 = 0x4_7700;

/// The frame the CPU pushes (and `iretq` pops) on the ring-0 stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IretFrame {
    /// Where ring 3 resumes.
    pub rip: u64,
    /// Code selector.
    pub cs: u64,
    /// Flags.
    pub rflags: u64,
    /// Stack pointer.
    pub rsp: u64,
    /// Stack selector.
    pub ss: u64,
}

impl IretFrame {
    /// A return to ring 3 at `rip` with stack `rsp`.
    pub fn user(rip: u64, rsp: u64, rflags: u64) -> Self {
        // Only the arithmetic flags, DF, and AC come from the program; IF is set, IOPL 0.
        let rflags = (rflags & 0x4_0cd5) | 0x202;
        IretFrame {
            rip,
            cs: USER_CS as u64,
            rflags,
            rsp,
            ss: USER_DS as u64,
        }
    }
}

/// What a VM exit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestExit {
    /// The program made a system call.
    Syscall,
    /// The program raised exception `vector` (the frame is on the ring-0 stack).
    Exception {
        /// The vector, 0–31.
        vector: u8,
    },
    /// The program itself executed `in`/`out`/`hlt` (ring 3): a #GP on real hardware.
    UserIo,
    /// The vCPU was kicked out of `KVM_RUN` by a signal to mvm.
    Interrupted,
    /// KVM found no host memory behind a guest page (`KVM_RUN` failed with EFAULT): a file
    /// window whose file was truncated (`GuestRam::shrink_windows`).
    NoMemory,
    /// Anything else: the guest is broken beyond a signal (a triple fault, an emulation failure).
    Broken(&'static str),
}

/// Exception vectors that push an error code.
pub fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21 | 29 | 30)
}

/// Classifies an exit. A pure function of the exit, the instruction pointer and the privilege
/// level, so it can be tested without a guest. An exit is honoured as a kernel entry only from
/// ring 0 at the kernel's own addresses. A ring-3 `out` raises #GP on today's hosts, but earlier
/// PVM builds let it exit (IOPL not enforced, per HOST.md): such an exit must become the #GP it
/// is on hardware, never a kernel entry.
pub fn classify(port: Option<u16>, rip: u64, cpl: u8) -> GuestExit {
    let Some(port) = port else {
        return GuestExit::Broken("unexpected exit");
    };
    if cpl != 0 {
        return GuestExit::UserIo;
    }
    if port != HYPERCALL_PORT {
        return GuestExit::Broken("ring-0 I/O to an unknown port");
    }
    // KVM may report the `out` itself or the instruction after it.
    if rip == SYSCALL_ENTRY || rip == IRETQ {
        return GuestExit::Syscall;
    }
    if (EXC_ENTRY_BASE..EXC_ENTRY_BASE + EXC_VECTORS * EXC_ENTRY_STRIDE).contains(&rip) {
        let off = rip - EXC_ENTRY_BASE;
        if off.is_multiple_of(EXC_ENTRY_STRIDE) || off % EXC_ENTRY_STRIDE == 2 {
            return GuestExit::Exception {
                vector: (off / EXC_ENTRY_STRIDE) as u8,
            };
        }
    }
    GuestExit::Broken("ring-0 exit from an unknown address")
}

/// A vCPU of the micro-VM.
#[derive(Debug)]
pub struct Vcpu {
    fd: VcpuFd,
}

fn seg(selector: u16, code: bool, dpl: u8) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_: if code { 0xb } else { 0x3 },
        present: 1,
        dpl,
        db: if code { 0 } else { 1 },
        s: 1,
        l: if code { 1 } else { 0 },
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// Where a vCPU's own ring-0 pieces are: its GDT and TSS and its ring-0 stack, where exception
/// frames land and mvm writes `iretq` frames. vCPU 0 uses the system area; every other vCPU a
/// page of its own in the kernel's window (`layout::CPU_AREAS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuArea {
    /// The GDT (kernel-virtual).
    pub gdt: u64,
    /// The TSS (kernel-virtual).
    pub tss: u64,
    /// Lowest address of the ring-0 stack (kernel-virtual).
    pub stack_lo: u64,
    /// One past the ring-0 stack (kernel-virtual).
    pub stack_top: u64,
    /// `stack_top`'s guest-physical address.
    pub stack_top_phys: u64,
}

impl CpuArea {
    /// vCPU 0's: the system area.
    pub fn boot() -> Self {
        CpuArea {
            gdt: kva(GDT_PHYS),
            tss: kva(TSS_PHYS),
            stack_lo: kva(KSTACK_PHYS),
            stack_top: kva(KSTACK_TOP_PHYS),
            stack_top_phys: KSTACK_TOP_PHYS,
        }
    }

    /// Builds the page of vCPU `n` (1 ≤ n < MAX_VCPUS) in a fresh frame and maps it,
    /// supervisor-only, in the kernel's window.
    pub fn create(space: &mut AddressSpace, n: u64) -> Option<Self> {
        if n == 0 || n >= MAX_VCPUS {
            return None;
        }
        let phys = space.ram.alloc(FrameUse::Table)?;
        let va = KERNEL_VBASE + CPU_AREAS + (n - 1) * PAGE_SIZE;
        write_gdt(&space.ram, phys + CPU_GDT, va + CPU_TSS);
        write_tss(&space.ram, phys + CPU_TSS, va + PAGE_SIZE);
        space.map_kernel(va, phys, true, false)?;
        Some(CpuArea {
            gdt: va + CPU_GDT,
            tss: va + CPU_TSS,
            stack_lo: va + CPU_STACK,
            stack_top: va + PAGE_SIZE,
            stack_top_phys: phys + PAGE_SIZE,
        })
    }

    /// Whether a ring-0 frame of `len` bytes at `rsp` lies on this stack.
    pub fn holds(&self, rsp: u64, len: u64) -> bool {
        rsp >= self.stack_lo && rsp.saturating_add(len) <= self.stack_top
    }

    /// The guest-physical address of kernel-virtual `va` on this stack.
    pub fn phys(&self, va: u64) -> u64 {
        self.stack_top_phys - (self.stack_top - va)
    }
}

/// Writes a GDT at `at` (guest-physical) whose TSS descriptor points at `tss` (kernel-virtual).
fn write_gdt(ram: &GuestRam, at: u64, tss: u64) {
    let gdt: [u64; 8] = [
        0,
        0,
        0x00af_9b00_0000_ffff, // 0x10 kernel code, 64-bit
        0x00cf_9300_0000_ffff, // 0x18 kernel data
        0x00cf_fb00_0000_ffff, // 0x23 user code, 32-bit
        0x00cf_f300_0000_ffff, // 0x2b user data
        0x00af_fb00_0000_ffff, // 0x33 user code, 64-bit
        0,
    ];
    for (i, d) in gdt.iter().enumerate() {
        ram.write_u64(at + 8 * i as u64, *d);
    }
    // 0x40: the 64-bit TSS descriptor (busy), 16 bytes.
    let limit = 0x67u64;
    let lo = limit | ((tss & 0xff_ffff) << 16) | (0x8bu64 << 40) | (((tss >> 24) & 0xff) << 56);
    ram.write_u64(at + TSS_SEL as u64, lo);
    ram.write_u64(at + TSS_SEL as u64 + 8, tss >> 32);
}

/// Writes a TSS at `at` (guest-physical) with RSP0 `rsp0`; no I/O bitmap.
fn write_tss(ram: &GuestRam, at: u64, rsp0: u64) {
    let mut tss = [0u8; 0x68];
    tss[4..12].copy_from_slice(&rsp0.to_le_bytes());
    tss[0x66..0x68].copy_from_slice(&0x68u16.to_le_bytes());
    ram.write_pool(at, &tss);
}

/// Writes the GDT, IDT and TSS into the system area and maps the kernel's pages: its code
/// readable (not writable) by ring 3 — PVM cannot run ring-0 code from a supervisor-only page —
/// and everything else supervisor-only.
pub fn setup_tables(space: &mut AddressSpace) -> Option<()> {
    let ram = &space.ram;
    write_gdt(ram, GDT_PHYS, kva(TSS_PHYS));
    write_tss(ram, TSS_PHYS, kva(KSTACK_TOP_PHYS));
    // IDT: interrupt gates to each exception entry; #BP and #OF may be raised from ring 3.
    for v in 0..EXC_VECTORS {
        let off = EXC_ENTRY_BASE + v * EXC_ENTRY_STRIDE;
        let dpl: u64 = if v == 3 || v == 4 { 3 } else { 0 };
        let lo = (off & 0xffff)
            | ((KERNEL_CS as u64) << 16)
            | ((0x8e | (dpl << 5)) << 40)
            | (((off >> 16) & 0xffff) << 48);
        ram.write_u64(IDT_PHYS + 16 * v, lo);
        ram.write_u64(IDT_PHYS + 16 * v + 8, off >> 32);
    }
    space.map_kernel(kva(KERNEL_TEXT_PHYS), KERNEL_TEXT_PHYS, false, true)?;
    for phys in [GDT_PHYS, IDT_PHYS, TSS_PHYS] {
        space.map_kernel(kva(phys), phys, true, false)?;
    }
    let mut p = KSTACK_PHYS;
    while p < KSTACK_TOP_PHYS {
        space.map_kernel(kva(p), p, true, false)?;
        p += PAGE_SIZE;
    }
    Some(())
}

impl Vcpu {
    /// Creates vCPU `id` in long mode, ring 0, about to `iretq` through the frame at the top of
    /// the ring-0 stack.
    pub fn new(vm: &Vm, id: u64, cpuid: &CpuId, cr3: u64, area: &CpuArea) -> Result<Self, VmError> {
        let k = |what| move |e| VmError::Kvm(what, e);
        // A kick (a signal for the program) can interrupt it: try again.
        let mut fd = loop {
            match vm.fd().create_vcpu(id) {
                Err(e) if e.errno() == libc::EINTR => continue,
                r => break r.map_err(k("CREATE_VCPU"))?,
            }
        };
        fd.set_cpuid2(cpuid).map_err(k("SET_CPUID2"))?;

        let mut sregs: kvm_sregs = fd.get_sregs().map_err(k("GET_SREGS"))?;
        sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
        sregs.cr3 = cr3;
        sregs.cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
        let xsave = cpuid
            .as_slice()
            .iter()
            .any(|e| e.function == 1 && e.ecx & (1 << 26) != 0);
        if xsave {
            sregs.cr4 |= CR4_OSXSAVE;
        }
        sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
        sregs.cs = seg(KERNEL_CS, true, 0);
        let ds = seg(KERNEL_DS, false, 0);
        (sregs.ds, sregs.es, sregs.ss) = (ds, ds, ds);
        let null = kvm_segment {
            unusable: 1,
            ..seg(0, false, 0)
        };
        (sregs.fs, sregs.gs) = (null, null);
        sregs.gdt.base = area.gdt;
        sregs.gdt.limit = 0x4f;
        sregs.idt.base = kva(IDT_PHYS);
        sregs.idt.limit = (16 * EXC_VECTORS - 1) as u16;
        sregs.tr = kvm_segment {
            base: area.tss,
            limit: 0x67,
            selector: TSS_SEL,
            type_: 0xb,
            present: 1,
            dpl: 0,
            db: 0,
            s: 0,
            l: 0,
            g: 0,
            avl: 0,
            unusable: 0,
            padding: 0,
        };
        sregs.ldt = kvm_segment {
            selector: 0,
            type_: 2,
            present: 1,
            ..null
        };
        sregs.ldt.unusable = 1;
        fd.set_sregs(&sregs).map_err(k("SET_SREGS"))?;

        if xsave {
            let supported = cpuid
                .as_slice()
                .iter()
                .find(|e| e.function == 0xd && e.index == 0)
                .map(|e| e.eax as u64 | ((e.edx as u64) << 32))
                .unwrap_or(0b11);
            let mut xcrs = kvm_xcrs {
                nr_xcrs: 1,
                ..Default::default()
            };
            xcrs.xcrs[0].xcr = 0;
            xcrs.xcrs[0].value = (supported & XCR0_USER) | 1;
            fd.set_xcrs(&xcrs).map_err(k("SET_XCRS"))?;
        }

        let fpu = kvm_fpu {
            fcw: 0x37f,
            mxcsr: 0x1f80,
            ..Default::default()
        };
        fd.set_fpu(&fpu).map_err(k("SET_FPU"))?;

        let entries = [
            (MSR_STAR, ((0x23u64) << 48) | ((KERNEL_CS as u64) << 32)),
            (MSR_LSTAR, SYSCALL_ENTRY),
            (MSR_CSTAR, SYSCALL_ENTRY),
            (MSR_SFMASK, SFMASK),
            (MSR_FS_BASE, 0),
            (MSR_GS_BASE, 0),
            (MSR_KERNEL_GS_BASE, 0),
        ]
        .map(|(index, data)| kvm_msr_entry {
            index,
            data,
            ..Default::default()
        });
        let msrs = Msrs::from_entries(&entries).expect("few MSRs");
        let n = fd.set_msrs(&msrs).map_err(k("SET_MSRS"))?;
        if n != entries.len() {
            return Err(VmError::Kvm(
                "SET_MSRS (partial)",
                kvm_ioctls::Error::new(libc::EINVAL),
            ));
        }

        fd.set_sync_valid_reg(SyncReg::Register);
        fd.set_sync_valid_reg(SyncReg::SystemRegister);
        let regs = kvm_regs {
            rflags: 2,
            rip: IRETQ,
            rsp: area.stack_top,
            ..Default::default()
        };
        fd.set_regs(&regs).map_err(k("SET_REGS"))?;
        Ok(Vcpu { fd })
    }

    /// Runs the guest until the next exit that needs mvm.
    pub fn run(&mut self) -> Result<GuestExit, VmError> {
        let port = match self.fd.run() {
            Ok(VcpuExit::IoOut(port, _)) | Ok(VcpuExit::IoIn(port, _)) => Some(port),
            Ok(VcpuExit::Hlt) => Some(0),
            Ok(VcpuExit::Shutdown) => {
                if std::env::var_os("MVM_DEBUG").is_some() {
                    let s = self.fd.sync_regs();
                    eprintln!("shutdown: regs {:x?} sregs {:x?}", s.regs, s.sregs);
                    eprintln!("get_regs {:x?}", self.fd.get_regs());
                    eprintln!("get_sregs {:x?}", self.fd.get_sregs());
                }
                return Ok(GuestExit::Broken("the guest shut down (triple fault)"));
            }
            Ok(VcpuExit::InternalError) => return Ok(GuestExit::Broken("KVM internal error")),
            Ok(VcpuExit::FailEntry(..)) => {
                return Ok(GuestExit::Broken("KVM failed to enter the guest"))
            }
            Ok(VcpuExit::Intr) => return Ok(GuestExit::Interrupted),
            Ok(_) => None,
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => {
                return Ok(GuestExit::Interrupted)
            }
            Err(e) if e.errno() == libc::EFAULT => return Ok(GuestExit::NoMemory),
            Err(e) => return Err(VmError::Kvm("RUN", e)),
        };
        let s = self.fd.sync_regs();
        Ok(classify(port, s.regs.rip, (s.sregs.cs.selector & 3) as u8))
    }

    /// The guest's general registers as of the last exit; changes made through `regs_mut` reach
    /// the guest on the next run.
    pub fn regs(&self) -> kvm_regs {
        self.fd.sync_regs().regs
    }

    /// Mutable access to the registers; marks them to be written back.
    pub fn regs_mut(&mut self) -> &mut kvm_regs {
        self.fd.set_sync_dirty_reg(SyncReg::Register);
        &mut self.fd.sync_regs_mut().regs
    }

    /// The guest's TSC minus the host's (KVM may offset the guest's), measured now.
    pub fn tsc_offset(&self) -> i64 {
        let mut msrs = Msrs::from_entries(&[kvm_msr_entry {
            index: 0x10,
            ..Default::default()
        }])
        .expect("one MSR");
        // SAFETY: rdtsc has no preconditions.
        let before = unsafe { std::arch::x86_64::_rdtsc() };
        if self.fd.get_msrs(&mut msrs) != Ok(1) {
            return 0;
        }
        // SAFETY: as above.
        let after = unsafe { std::arch::x86_64::_rdtsc() };
        let guest = msrs.as_slice()[0].data;
        guest.wrapping_sub(before / 2 + after / 2) as i64
    }

    /// The guest TSC's frequency in kHz (0 if KVM cannot say).
    pub fn tsc_khz(&self) -> u32 {
        self.fd.get_tsc_khz().unwrap_or(0)
    }

    /// CR2 (the faulting address) as of the last exit.
    pub fn cr2(&self) -> u64 {
        self.fd.sync_regs().sregs.cr2
    }

    /// Sets the program's FS base (`arch_prctl(ARCH_SET_FS)`).
    pub fn set_fs_base(&mut self, base: u64) -> Result<(), VmError> {
        self.set_msr(MSR_FS_BASE, base)
    }

    /// Sets the program's GS base.
    pub fn set_gs_base(&mut self, base: u64) -> Result<(), VmError> {
        self.set_msr(MSR_GS_BASE, base)
    }

    /// Reads the FS base.
    pub fn fs_base(&self) -> u64 {
        self.fd.sync_regs().sregs.fs.base
    }

    /// Reads the GS base.
    pub fn gs_base(&self) -> u64 {
        self.fd.sync_regs().sregs.gs.base
    }

    fn set_msr(&mut self, index: u32, data: u64) -> Result<(), VmError> {
        let msrs = Msrs::from_entries(&[kvm_msr_entry {
            index,
            data,
            ..Default::default()
        }])
        .expect("one MSR");
        self.fd
            .set_msrs(&msrs)
            .map_err(|e| VmError::Kvm("SET_MSRS", e))?;
        Ok(())
    }

    /// The privilege level the vCPU stopped in (0 in the kernel's stubs, 3 in the program).
    pub fn cpl(&self) -> u8 {
        (self.fd.sync_regs().sregs.cs.selector & 3) as u8
    }

    /// The FPU/SSE/AVX state (`KVM_GET_XSAVE`, standard XSAVE layout): for signal frames only.
    pub fn xsave(&self) -> Result<kvm_xsave, VmError> {
        self.fd
            .get_xsave()
            .map_err(|e| VmError::Kvm("GET_XSAVE", e))
    }

    /// Loads the FPU/SSE/AVX state (`KVM_SET_XSAVE`); KVM checks the header and MXCSR.
    pub fn set_xsave(&mut self, x: &kvm_xsave) -> Result<(), VmError> {
        // SAFETY: `x` is a whole `kvm_xsave`; KVM reads no more than that.
        unsafe { self.fd.set_xsave(x) }.map_err(|e| VmError::Kvm("SET_XSAVE", e))
    }

    /// XCR0: the state components the guest's XSAVE covers.
    pub fn xcr0(&self) -> u64 {
        self.fd
            .get_xcrs()
            .ok()
            .and_then(|x| {
                x.xcrs[..x.nr_xcrs as usize]
                    .iter()
                    .find(|c| c.xcr == 0)
                    .map(|c| c.value)
            })
            .unwrap_or(0b11)
    }

    /// Makes the next (or current) `KVM_RUN` return at once; used by the kick signal's handler.
    pub fn immediate_exit_ptr(&mut self) -> *mut u8 {
        &mut self.fd.get_kvm_run().immediate_exit as *mut u8
    }

    /// Clears a pending immediate exit.
    pub fn clear_immediate_exit(&mut self) {
        self.fd.set_kvm_immediate_exit(0);
    }

    /// Whether the guest was stopped in the middle of an entry into its kernel: an exception
    /// or interrupt KVM has yet to deliver, or the program's `syscall` that has reached the
    /// kernel's entry but not yet left the VM (under PVM the entry runs in ring 3 and exits
    /// through a #GP). Its registers are not the program's to change then: a signal frame
    /// built now would be entered with that exception still pending, which KVM then delivers
    /// at the handler's first instruction (seen: a #GP at a handler's entry under a timer
    /// firing every microsecond). The guest must run on to its exit first.
    pub fn mid_entry(&self) -> bool {
        let s = self.fd.sync_regs();
        if s.regs.rip == SYSCALL_ENTRY || s.sregs.cs.selector & 3 == 0 {
            return true;
        }
        self.fd.get_vcpu_events().is_ok_and(|e| {
            e.exception.injected != 0
                || e.exception.pending != 0
                || e.interrupt.injected != 0
                || e.nmi.injected != 0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_entries() {
        assert_eq!(
            classify(Some(HYPERCALL_PORT), SYSCALL_ENTRY, 0),
            GuestExit::Syscall
        );
        assert_eq!(classify(Some(HYPERCALL_PORT), IRETQ, 0), GuestExit::Syscall);
        let pf = EXC_ENTRY_BASE + 14 * EXC_ENTRY_STRIDE;
        assert_eq!(
            classify(Some(HYPERCALL_PORT), pf + 2, 0),
            GuestExit::Exception { vector: 14 }
        );
        assert_eq!(
            classify(Some(HYPERCALL_PORT), pf, 0),
            GuestExit::Exception { vector: 14 }
        );
        // A ring-3 `out`, even one that jumps into the kernel's readable code page, is the
        // program's own I/O.
        assert_eq!(
            classify(Some(HYPERCALL_PORT), SYSCALL_ENTRY, 3),
            GuestExit::UserIo
        );
        assert!(matches!(
            classify(Some(HYPERCALL_PORT), pf + 5, 0),
            GuestExit::Broken(_)
        ));
        assert!(matches!(
            classify(Some(0x3f8), SYSCALL_ENTRY, 0),
            GuestExit::Broken(_)
        ));
        assert!(matches!(classify(None, 0, 0), GuestExit::Broken(_)));
    }
}
