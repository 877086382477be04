//! mvm's vDSO: `clock_gettime`, `gettimeofday`, `time` and `getcpu` answered in the guest's own
//! ring 3, without a VM exit (each exit costs ~80 µs on this host; python3 alone calls
//! `clock_gettime` 226 times at start-up).
//!
//! Time comes from the TSC, which the guest reads natively, and a data page ("vvar", the page
//! just below this image) that mvm keeps current: a reference TSC value, the clocks at that
//! moment, and the TSC's period in 2^-32 ns. mvm writes it under a sequence count (odd while it
//! writes), as Linux's vDSO data. Clocks it does not know fall back to the real syscall.

#![no_std]
#![no_main]

use core::arch::asm;
use core::arch::x86_64::_rdtsc;
use core::sync::atomic::{compiler_fence, Ordering};

/// The data page, mirrored by `vmm/src/vdso.rs`.
#[repr(C)]
struct VData {
    seq: u64,
    tsc: u64,
    mult: u64,
    realtime: u64,
    monotonic: u64,
    boottime: u64,
}

#[repr(C)]
pub struct Timespec {
    sec: i64,
    nsec: i64,
}

#[repr(C)]
pub struct Timeval {
    sec: i64,
    usec: i64,
}

fn data() -> *const VData {
    let ehdr: *const u8;
    // SAFETY: the address of the image's own ELF header, PC-relative (a vDSO has no GOT and is
    // never relocated); the data page is the page before it.
    unsafe { asm!("lea {}, [rip + __ehdr_start]", out(reg) ehdr, options(nostack, pure, nomem)) };
    ehdr.wrapping_sub(4096) as *const VData
}

/// Nanoseconds of clock `which` (0 realtime, 1 monotonic, 2 boottime).
fn now(which: usize) -> u64 {
    let d = data();
    loop {
        // SAFETY: the data page is mapped readable for the program's whole life.
        let seq = unsafe { core::ptr::read_volatile(&(*d).seq) };
        if seq & 1 != 0 {
            continue;
        }
        compiler_fence(Ordering::Acquire);
        // SAFETY: as above.
        // (Clocks are picked by offset, not by `match`: a table of addresses would need
        // relocations, and nobody relocates a vDSO.)
        let (tsc, mult, base) = unsafe {
            let base = core::ptr::read_volatile((&raw const (*d).realtime).add(which));
            (core::ptr::read_volatile(&(*d).tsc), core::ptr::read_volatile(&(*d).mult), base)
        };
        // SAFETY: rdtsc is allowed in ring 3 here.
        let now = unsafe { _rdtsc() };
        compiler_fence(Ordering::Acquire);
        // SAFETY: as above.
        if unsafe { core::ptr::read_volatile(&(*d).seq) } != seq {
            continue;
        }
        let delta = now.saturating_sub(tsc);
        return base + ((delta as u128 * mult as u128) >> 32) as u64;
    }
}

/// The real syscall, for what the vDSO does not serve.
unsafe fn syscall2(nr: u64, a: u64, b: u64) -> i64 {
    let ret: i64;
    // SAFETY: the caller passes the syscall's own arguments.
    unsafe {
        asm!("syscall", inlateout("rax") nr as i64 => ret, in("rdi") a, in("rsi") b,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

fn clock_index(clock: i32) -> Option<usize> {
    if clock == 0 || clock == 5 {
        Some(0) // REALTIME, REALTIME_COARSE
    } else if clock == 1 || clock == 4 || clock == 6 {
        Some(1) // MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE
    } else if clock == 7 {
        Some(2) // BOOTTIME
    } else {
        None
    }
}

#[no_mangle]
pub unsafe extern "C" fn __vdso_clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    let Some(i) = clock_index(clock) else {
        // SAFETY: the syscall checks its own arguments.
        return unsafe { syscall2(228, clock as u64, ts as u64) as i32 };
    };
    let ns = now(i);
    // SAFETY: the caller passes a timespec, as for the syscall.
    unsafe {
        (*ts).sec = (ns / 1_000_000_000) as i64;
        (*ts).nsec = (ns % 1_000_000_000) as i64;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn __vdso_gettimeofday(tv: *mut Timeval, tz: *mut u64) -> i32 {
    if !tv.is_null() {
        let ns = now(0);
        // SAFETY: the caller passes a timeval.
        unsafe {
            (*tv).sec = (ns / 1_000_000_000) as i64;
            (*tv).usec = ((ns % 1_000_000_000) / 1000) as i64;
        }
    }
    if !tz.is_null() {
        // SAFETY: the caller passes a timezone (two ints).
        unsafe { *tz = 0 };
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn __vdso_time(t: *mut i64) -> i64 {
    let s = (now(0) / 1_000_000_000) as i64;
    if !t.is_null() {
        // SAFETY: the caller passes a time_t.
        unsafe { *t = s };
    }
    s
}

#[no_mangle]
pub unsafe extern "C" fn __vdso_getcpu(cpu: *mut u32, node: *mut u32) -> i32 {
    // SAFETY: the caller passes what getcpu(2) takes; NULL is allowed.
    unsafe {
        if !cpu.is_null() {
            *cpu = 0;
        }
        if !node.is_null() {
            *node = 0;
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn __vdso_clock_getres(clock: i32, ts: *mut Timespec) -> i32 {
    // SAFETY: the syscall checks its own arguments.
    unsafe { syscall2(229, clock as u64, ts as u64) as i32 }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
