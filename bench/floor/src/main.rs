//! mvm-floor: what this host's KVM charges for the events an mvm syscall or page fault is made
//! of, measured with raw KVM ioctls and none of mvm's code, so that mvm's own numbers can be set
//! beside the platform's floor (bench/run prints both).
//!
//! A VM of 64 MiB runs ring-3 loops (identity-mapped, set up directly in long mode):
//! - `exit`: `out` to a port, back to this process and in again: one exit to userspace.
//! - `syscall`: the `syscall` instruction with LSTAR at a ring-3 `jmp rcx` (on PVM, `syscall`
//!   from guest ring 3 arrives at LSTAR still in ring 3): what a guest syscall instruction costs
//!   before mvm sees anything.
//! - `cpuid`: an instruction KVM handles in the kernel: one exit that never reaches userspace.
//! - `touch`: the first write to a page whose guest page-table entry is present and whose host
//!   page is populated: KVM's shadow (or EPT) fault alone, which may map up to 8 neighbours at
//!   once (KVM's prefetch needs them populated and writable on the host).
//! - `touch_unpopulated`: the same with the host page not yet there, as for guest memory mvm
//!   has not written and for file pages: each touch also takes a host page fault.
//!
//! Output: first `kvm KIND`, which KVM this is (`kvm_kind`: PVM, SVM or VMX, and whether it
//! pages with NPT/EPT or shadow page tables), so numbers from other hosts can be set beside
//! these; then one line per event, `name median_us min_us`, the median and minimum over rounds.

use std::time::Instant;

use kvm_bindings::{kvm_msr_entry, kvm_regs, kvm_segment, kvm_userspace_memory_region, Msrs};
use kvm_ioctls::{Kvm, VcpuExit, VcpuFd};

const MEM: usize = 64 << 20;
const CODE: u64 = 0x1000;
const PML4: u64 = 0x2000;
const STACK_TOP: u64 = 0x8000;
/// First page-table page of the touch region's tables.
const TOUCH_PTS: u64 = 0x10000;
/// The touch region: 8192 pages from 4 MiB (identity-mapped with 4 KiB pages).
const TOUCH_BASE: u64 = 4 << 20;
const TOUCH_PAGES: u64 = 8192;
const PORT: u16 = 0x10;

// Ring-3 loops, each ending a round with `out PORT, al`; `esi` holds the count per round.
/// `l: out; jmp l`
const EXIT_LOOP: &[u8] = &[0xe6, PORT as u8, 0xeb, 0xfc];
/// `l: mov ebx, esi; s: syscall; dec ebx; jnz s; out; jmp l`
const SYSCALL_LOOP: &[u8] = &[
    0x89, 0xf3, 0x0f, 0x05, 0xff, 0xcb, 0x75, 0xfa, 0xe6, PORT as u8, 0xeb, 0xf4,
];
/// `l: mov edi, esi; c: xor eax, eax; cpuid; dec edi; jnz c; out; jmp l`
const CPUID_LOOP: &[u8] = &[
    0x89, 0xf7, 0x31, 0xc0, 0x0f, 0xa2, 0xff, 0xcf, 0x75, 0xf8, 0xe6, PORT as u8, 0xeb, 0xf2,
];
/// `t: mov byte [rdi], 1; add rdi, 4096; dec esi; jnz t; out; jmp $`
const TOUCH_LOOP: &[u8] = &[
    0xc6, 0x07, 0x01, 0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00, 0xff, 0xce, 0x75, 0xf2, 0xe6,
    PORT as u8, 0xeb, 0xfe,
];
/// LSTAR: `jmp rcx`.
const SYSCALL_RETURN: &[u8] = &[0xff, 0xe1];

/// Guest memory: an anonymous shared mapping, populated up front (so that only KVM's work is
/// measured) or not (so that each first touch also takes a host page fault, as fresh guest
/// memory and file pages do under mvm).
struct Memory {
    host: *mut u8,
}

impl Memory {
    fn new(populate: bool) -> Memory {
        // SAFETY: a fresh anonymous mapping; checked below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                MEM,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED
                    | libc::MAP_ANONYMOUS
                    | if populate { libc::MAP_POPULATE } else { 0 },
                -1,
                0,
            )
        };
        assert!(p != libc::MAP_FAILED, "mmap of guest memory failed");
        Memory { host: p.cast() }
    }

    fn write(&self, at: u64, bytes: &[u8]) {
        assert!(at as usize + bytes.len() <= MEM);
        // SAFETY: in bounds (checked), and the mapping lives as long as `self`.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.host.add(at as usize), bytes.len())
        };
    }

    fn write_u64(&self, at: u64, v: u64) {
        self.write(at, &v.to_le_bytes());
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`.
        unsafe { libc::munmap(self.host.cast(), MEM) };
    }
}

const P: u64 = 1;
const RW: u64 = 2;
const US: u64 = 4;
const A: u64 = 0x20;
const D: u64 = 0x40;

/// Identity page tables: the first 2 MiB (code, stack, tables) and the touch region, 4 KiB pages.
fn page_tables(m: &Memory) {
    let (pdpt, pd, pt0) = (0x3000, 0x4000, 0x5000);
    let table = P | RW | US | A;
    m.write_u64(PML4, pdpt | table);
    m.write_u64(pdpt, pd | table);
    m.write_u64(pd, pt0 | table);
    for i in 0..512 {
        m.write_u64(pt0 + 8 * i, (i * 4096) | P | RW | US | A | D);
    }
    for t in 0..TOUCH_PAGES / 512 {
        let pt = TOUCH_PTS + t * 4096;
        m.write_u64(pd + 8 * (TOUCH_BASE / (2 << 20) + t), pt | table);
        for i in 0..512 {
            let page = TOUCH_BASE + (t * 512 + i) * 4096;
            m.write_u64(pt + 8 * i, page | P | RW | US | A | D);
        }
    }
}

fn segment(selector: u16, code: bool) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_: if code { 0xb } else { 0x3 },
        present: 1,
        dpl: 3,
        db: u8::from(!code),
        s: 1,
        l: u8::from(code),
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// A VM with one vCPU in 64-bit ring 3, its memory and page tables ready.
struct Guest {
    _mem: Memory,
    vcpu: VcpuFd,
    _vm: kvm_ioctls::VmFd,
}

fn guest(kvm: &Kvm, populate: bool) -> Result<Guest, String> {
    let e = |what: &'static str| move |err: kvm_ioctls::Error| format!("{what}: {err}");
    let vm = kvm.create_vm().map_err(e("KVM_CREATE_VM"))?;
    let mem = Memory::new(populate);
    page_tables(&mem);
    let gdt: [u64; 8] = [
        0,
        0,
        0x00af_9b00_0000_ffff,
        0x00cf_9300_0000_ffff,
        0x00cf_fb00_0000_ffff,
        0x00cf_f300_0000_ffff,
        0x00af_fb00_0000_ffff,
        0,
    ];
    for (i, d) in gdt.iter().enumerate() {
        mem.write_u64(0x500 + 8 * i as u64, *d);
    }
    for (at, code) in [
        (CODE, EXIT_LOOP),
        (CODE + 0x100, SYSCALL_LOOP),
        (CODE + 0x200, CPUID_LOOP),
        (CODE + 0x300, TOUCH_LOOP),
        (CODE + 0x400, SYSCALL_RETURN),
    ] {
        mem.write(at, code);
    }
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: MEM as u64,
        userspace_addr: mem.host as u64,
    };
    // SAFETY: `mem` is mapped for MEM bytes and outlives the VM (both live in `Guest`, the VM
    // field last, and no vCPU runs after `Guest` is dropped).
    unsafe { vm.set_user_memory_region(region) }.map_err(e("KVM_SET_USER_MEMORY_REGION"))?;
    let vcpu = vm.create_vcpu(0).map_err(e("KVM_CREATE_VCPU"))?;
    let cpuid = kvm
        .get_supported_cpuid(kvm_bindings::KVM_MAX_CPUID_ENTRIES)
        .map_err(e("KVM_GET_SUPPORTED_CPUID"))?;
    vcpu.set_cpuid2(&cpuid).map_err(e("KVM_SET_CPUID2"))?;
    let mut s = vcpu.get_sregs().map_err(e("KVM_GET_SREGS"))?;
    s.cr0 = 0x8005_0033; // PG, AM, WP, NE, ET, MP, PE
    s.cr3 = PML4;
    s.cr4 = 0x6a0; // OSXMMEXCPT, OSFXSR, PGE, PAE
    s.efer = 0xd01; // NXE, LMA, LME, SCE
    s.cs = segment(0x33, true);
    let ds = segment(0x2b, false);
    (s.ds, s.es, s.ss, s.fs, s.gs) = (ds, ds, ds, ds, ds);
    s.gdt.base = 0x500;
    s.gdt.limit = 0x3f;
    vcpu.set_sregs(&s).map_err(e("KVM_SET_SREGS"))?;
    let msrs = Msrs::from_entries(&[
        kvm_msr_entry {
            index: 0xc000_0081, // STAR
            data: (0x23 << 48) | (0x10 << 32),
            ..Default::default()
        },
        kvm_msr_entry {
            index: 0xc000_0082, // LSTAR
            data: CODE + 0x400,
            ..Default::default()
        },
        kvm_msr_entry {
            index: 0xc000_0084, // SFMASK
            data: 0,
            ..Default::default()
        },
    ])
    .map_err(|err| format!("MSR list: {err:?}"))?;
    vcpu.set_msrs(&msrs).map_err(e("KVM_SET_MSRS"))?;
    Ok(Guest {
        _mem: mem,
        vcpu,
        _vm: vm,
    })
}

impl Guest {
    fn start(&mut self, rip: u64, rsi: u64, rdi: u64) -> Result<(), String> {
        let regs = kvm_regs {
            rip,
            rsi,
            rdi,
            rsp: STACK_TOP,
            rflags: 2,
            ..Default::default()
        };
        self.vcpu
            .set_regs(&regs)
            .map_err(|err| format!("KVM_SET_REGS: {err}"))
    }

    /// Runs until the loop's `out`; the time it took.
    fn round(&mut self) -> Result<f64, String> {
        let t = Instant::now();
        match self.vcpu.run() {
            Ok(VcpuExit::IoOut(PORT, _)) => Ok(t.elapsed().as_secs_f64() * 1e6),
            Ok(other) => Err(format!("unexpected exit {other:?}")),
            Err(err) => Err(format!("KVM_RUN: {err}")),
        }
    }
}

fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

/// `rounds` rounds of `per_round` events (after one warm-up round); µs per event. Each round
/// ends with one `out`, whose cost (`exit_cost`, 0 when the `out` is the event) comes off.
fn measure(
    kvm: &Kvm,
    rip: u64,
    per_round: u64,
    rounds: usize,
    exit_cost: f64,
) -> Result<(f64, f64), String> {
    let mut g = guest(kvm, true)?;
    g.start(rip, per_round, 0)?;
    g.round()?;
    let mut v = Vec::new();
    for _ in 0..rounds {
        v.push((g.round()? - exit_cost).max(0.0) / per_round as f64);
    }
    Ok(median(v))
}

/// First writes to fresh pages, a fresh run of pages each round; µs per page.
fn touch_pages(kvm: &Kvm, populate: bool, rounds: usize, exit: f64) -> Result<(f64, f64), String> {
    let per_round = TOUCH_PAGES / (rounds as u64 + 1);
    let mut g = guest(kvm, populate)?;
    let mut v = Vec::new();
    for r in 0..=rounds as u64 {
        g.start(CODE + 0x300, per_round, TOUCH_BASE + r * per_round * 4096)?;
        let us = g.round()?;
        if r > 0 {
            v.push((us - exit).max(0.0) / per_round as f64);
        }
    }
    Ok(median(v))
}

/// Which KVM is behind /dev/kvm, from the module loaded (KVM's modules are `kvm_pvm`,
/// `kvm_amd`, `kvm_intel`) and its nested-paging parameter: "PVM shadow-paging",
/// "SVM NPT", "SVM shadow-paging", "VMX EPT", "VMX shadow-paging"; with " nested" when this
/// host is itself a guest (CPUID's hypervisor bit, as /proc/cpuinfo shows it).
fn kvm_kind() -> String {
    let loaded = |m: &str| std::path::Path::new("/sys/module").join(m).exists();
    // The vendor module's nested-paging switch, as sysfs shows it ("Y" or "1" when on).
    let paging = |m: &str, param: &str, on: &'static str| match std::fs::read_to_string(format!(
        "/sys/module/{m}/parameters/{param}"
    )) {
        Ok(v) if matches!(v.trim(), "Y" | "y" | "1") => on,
        _ => "shadow-paging",
    };
    let mut kind = if loaded("kvm_pvm") {
        "PVM shadow-paging".to_string()
    } else if loaded("kvm_amd") {
        format!("SVM {}", paging("kvm_amd", "npt", "NPT"))
    } else if loaded("kvm_intel") {
        format!("VMX {}", paging("kvm_intel", "ept", "EPT"))
    } else {
        "unknown".to_string()
    };
    let guest = std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| {
        c.lines()
            .find(|l| l.starts_with("flags"))
            .is_some_and(|l| l.split_whitespace().any(|f| f == "hypervisor"))
    });
    if guest {
        kind.push_str(" nested");
    }
    kind
}

fn run() -> Result<(), String> {
    let kvm = Kvm::new().map_err(|e| format!("cannot open /dev/kvm: {e}"))?;
    println!("kvm {}", kvm_kind());
    let rounds = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(9usize);
    let (exit, exit_min) = measure(&kvm, CODE, 1, rounds * 200, 0.0)?;
    println!("exit {exit:.2} {exit_min:.2}");
    let (sys, sys_min) = measure(&kvm, CODE + 0x100, 200, rounds, exit)?;
    println!("syscall {sys:.2} {sys_min:.2}");
    let (cpuid, cpuid_min) = measure(&kvm, CODE + 0x200, 200, rounds, exit)?;
    println!("cpuid {cpuid:.2} {cpuid_min:.2}");
    for (name, populate) in [("touch", true), ("touch_unpopulated", false)] {
        let (touch, touch_min) = touch_pages(&kvm, populate, rounds, exit)?;
        println!("{name} {touch:.2} {touch_min:.2}");
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mvm-floor: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
