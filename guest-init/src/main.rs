//! guest-init: the first ring-3 program of every mvm micro-VM.
//!
//! mvm starts it with `argv = [init, CWD, PROGRAM, ARGV0, ARGS...]` and the program's environment
//! as its own. It enters CWD and `execve`s PROGRAM with `[ARGV0, ARGS...]`; it never returns to
//! mvm except by exiting with 125 (cannot enter CWD), 126 (cannot execute) or 127 (not found),
//! after one line on stderr.
//!
//! Freestanding (`no_std`, no libc): every syscall costs a VM exit, so it makes only the ones it
//! needs — two on success.

#![no_std]
#![no_main]

use core::arch::{asm, global_asm};

const SYS_WRITE: usize = 1;
const SYS_EXECVE: usize = 59;
const SYS_EXIT_GROUP: usize = 231;
const SYS_CHDIR: usize = 80;
const ENOENT: isize = 2;

// The SysV entry point: the stack holds argc, argv[], NULL, envp[], NULL, auxv.
global_asm!(
    ".globl _start",
    "_start:",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {main}",
    "ud2",
    main = sym init_main,
);

/// # Safety
/// `a` must be valid arguments for syscall `nr`.
unsafe fn syscall3(nr: usize, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller guarantees the arguments; `syscall` clobbers rcx and r11 only.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a, in("rsi") b, in("rdx") c,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

fn exit(status: usize) -> ! {
    // SAFETY: exit_group takes a plain integer and does not return.
    unsafe { syscall3(SYS_EXIT_GROUP, status, 0, 0) };
    loop {}
}

fn write_all(parts: &[&[u8]]) {
    for p in parts {
        // SAFETY: `p` is a valid slice for its length.
        unsafe { syscall3(SYS_WRITE, 2, p.as_ptr() as usize, p.len()) };
    }
}

/// # Safety
/// `p` must point to a NUL-terminated string.
unsafe fn cstr<'a>(p: *const u8) -> &'a [u8] {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated, per the caller. (A volatile read keeps the compiler
    // from turning the loop into a call to `strlen`, which a freestanding binary does not have.)
    while unsafe { p.add(n).read_volatile() } != 0 {
        n += 1;
    }
    // SAFETY: the `n` bytes before the NUL are part of the string.
    unsafe { core::slice::from_raw_parts(p, n) }
}

fn fail(what: &[u8], path: *const u8, errno: isize, status: usize) -> ! {
    let reason: &[u8] = match errno {
        2 => b"no such file or directory",
        8 => b"exec format error",
        13 => b"permission denied",
        20 => b"not a directory",
        _ => b"error",
    };
    // SAFETY: `path` comes from argv, NUL-terminated.
    let path = unsafe { cstr(path) };
    write_all(&[b"mvm: ", what, b" ", path, b": ", reason, b"\n"]);
    exit(status)
}

extern "C" fn init_main(sp: *const usize) -> ! {
    // SAFETY: the initial stack layout is the SysV ABI's, built by mvm.
    let (argc, argv) = unsafe { (*sp, sp.add(1) as *const *const u8) };
    if argc < 4 {
        write_all(&[b"mvm: guest-init: bad arguments\n"]);
        exit(125);
    }
    // SAFETY: argv has argc entries and a NULL; envp follows it.
    let (cwd, program, prog_argv, envp) =
        unsafe { (*argv.add(1), *argv.add(2), argv.add(3), argv.add(argc + 1)) };
    // SAFETY: `cwd` is a NUL-terminated string from argv.
    let r = unsafe { syscall3(SYS_CHDIR, cwd as usize, 0, 0) };
    if r < 0 {
        fail(b"cannot enter working directory", cwd, -r, 125);
    }
    // SAFETY: program, prog_argv and envp are NUL-terminated and NULL-terminated as execve wants.
    let r = unsafe { syscall3(SYS_EXECVE, program as usize, prog_argv as usize, envp as usize) };
    let status = if -r == ENOENT { 127 } else { 126 };
    fail(b"cannot execute", program, -r, status)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(125)
}
