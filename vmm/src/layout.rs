//! The fixed layout of a micro-VM: guest-physical addresses of the tiny kernel's pieces, the
//! kernel's virtual window, segment selectors, and the user address space Linux gives a program.
//!
//! Guest-physical memory starts with a small system area (kernel text, GDT, IDT, TSS, ring-0
//! stack); page tables and user pages are allocated above it. The kernel sees the system area at
//! `KERNEL_VBASE + phys`, the last 4 MiB of the lower half: under PVM the guest owns only the lower
//! half of the address space (the upper half is the host's, and an entry point there faults), so
//! the kernel sits just above the program's space instead of in the upper half as Linux's does.
//! Everything below `USER_TOP` is the program's.

/// One page: the unit of every mapping mvm makes for a program.
pub const PAGE_SIZE: u64 = 4096;

/// Where guest-physical 0 appears in the kernel's virtual window: the last 4 MiB below 2^47
/// (the system area, then one page per vCPU).
pub const KERNEL_VBASE: u64 = 0x7fff_ffc0_0000;
/// The kernel's window: `KERNEL_VBASE..KERNEL_VBASE + KERNEL_WINDOW` (up to 2^47).
pub const KERNEL_WINDOW: u64 = 4 << 20;
/// The kernel's one page of code (loaded from its ELF by linux-loader).
pub const KERNEL_TEXT_PHYS: u64 = 0x1000;
/// The global descriptor table.
pub const GDT_PHYS: u64 = 0x2000;
/// The interrupt descriptor table: 32 exception vectors.
pub const IDT_PHYS: u64 = 0x3000;
/// The task-state segment: RSP0 for ring-3 → ring-0 transitions.
pub const TSS_PHYS: u64 = 0x4000;
/// The ring-0 stack: exception frames land here, and mvm writes `iretq` frames here.
pub const KSTACK_PHYS: u64 = 0x5000;
/// One past the ring-0 stack.
pub const KSTACK_TOP_PHYS: u64 = 0x8000;
/// First guest-physical frame handed out for page tables and program memory.
pub const FRAMES_START: u64 = 0x10000;

/// Each vCPU past the first has a page of its own in the kernel's window, at
/// `KERNEL_VBASE + CPU_AREAS + (n - 1) * PAGE_SIZE`: its GDT (`CPU_GDT`), TSS (`CPU_TSS`) and
/// ring-0 stack (the rest of the page). vCPU 0 uses the system area above.
pub const CPU_AREAS: u64 = 0x10000;
/// The GDT's offset in a vCPU's page.
pub const CPU_GDT: u64 = 0;
/// The TSS's offset in a vCPU's page.
pub const CPU_TSS: u64 = 0x80;
/// Where the ring-0 stack begins in a vCPU's page (it grows down from the page's end).
pub const CPU_STACK: u64 = 0x100;
/// How many vCPUs (threads) a VM can have at once: the kernel window's pages past `CPU_AREAS`.
pub const MAX_VCPUS: u64 = 1 + (KERNEL_WINDOW - CPU_AREAS) / PAGE_SIZE;

/// The kernel-virtual address of a system-area physical address.
pub const fn kva(phys: u64) -> u64 {
    KERNEL_VBASE + phys
}

/// The syscall entry (`MSR_LSTAR`): `out 0xe0, al; iretq`.
pub const SYSCALL_ENTRY: u64 = kva(KERNEL_TEXT_PHYS);
/// The `iretq` every return to ring 3 goes through (the syscall entry's second instruction).
pub const IRETQ: u64 = SYSCALL_ENTRY + 2;
/// Exception vector `v` enters at `EXC_ENTRY_BASE + v * EXC_ENTRY_STRIDE`.
pub const EXC_ENTRY_BASE: u64 = SYSCALL_ENTRY + 0x100;
/// Distance between two exception entries.
pub const EXC_ENTRY_STRIDE: u64 = 16;
/// Exception vectors the kernel has entries for.
pub const EXC_VECTORS: u64 = 32;
/// The I/O port every kernel entry writes to hand control to mvm.
pub const HYPERCALL_PORT: u16 = 0xe0;

/// Kernel code selector (ring 0, 64-bit), as Linux's `__KERNEL_CS`.
pub const KERNEL_CS: u16 = 0x10;
/// Kernel data selector, as Linux's `__KERNEL_DS`.
pub const KERNEL_DS: u16 = 0x18;
/// User data selector (RPL 3), as Linux's `__USER_DS`.
pub const USER_DS: u16 = 0x2b;
/// User 64-bit code selector (RPL 3), as Linux's `__USER_CS`.
pub const USER_CS: u16 = 0x33;
/// The TSS selector.
pub const TSS_SEL: u16 = 0x40;

/// One past the highest user address: Linux's `TASK_SIZE` (0x7fff_ffff_f000) less the kernel's window.
pub const USER_TOP: u64 = KERNEL_VBASE;
/// Top of the initial stack.
pub const STACK_TOP: u64 = 0x7fff_ff00_0000;
/// The stack's reservation, as `ulimit -s` gives it by default.
pub const STACK_SIZE: u64 = 8 << 20;
/// Top-down `mmap` allocations start below the stack and a gap, as Linux's `mmap_base`.
pub const MMAP_BASE: u64 = STACK_TOP - STACK_SIZE - (128 << 20);
/// Where a position-independent executable is loaded (Linux's `ELF_ET_DYN_BASE`).
pub const PIE_BASE: u64 = 0x5555_5555_4000;
/// Lowest address `mmap` hands out without `MAP_FIXED` (`vm.mmap_min_addr`).
pub const MMAP_MIN: u64 = 0x10000;
