//! The tiny guest kernel: every ring-0 instruction mvm's guests ever run.
//!
//! Ring 0 is emulated on this host's KVM (PVM, ~1 µs per instruction), so it does nothing but
//! hand control to mvm and return to ring 3. Each entry is `out 0xe0, al` (one VM exit: mvm
//! identifies the entry by the exit's RIP, serves the syscall or the exception, and leaves RSP
//! pointing at an `iretq` frame it wrote) followed by `iretq` (`sysretq` faults under PVM).
//!
//! Under this host's PVM a ring-3 `syscall` reaches the syscall entry still in ring 3, where the
//! `out` raises #GP; the #GP entry (ring 0) then exits, and mvm serves it as the syscall.
//!
//! The layout is fixed and mirrored by `vmm/src/layout.rs`; `vmm/src/boot/kernel.rs` checks it
//! at load time:
//! - `+0x000` syscall entry (LSTAR),
//! - `+0x100 + 16 * v` the entry for exception vector `v`, 0 ≤ v < 32 (IDT).
//! `al` is read, not written: the program's registers reach mvm untouched.

#![no_std]
#![no_main]

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.kernel, "ax"
    .global kernel_start
kernel_start:
    out 0xe0, al
    iretq

    .org 0x100
    .rept 32
    .balign 16
    out 0xe0, al
    iretq
    .endr

    .org 0x1000
"#
);

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
