//! The initial stack of a program, per the x86-64 SysV ABI: argc, argv, envp, the auxiliary
//! vector, and the strings and random bytes they point to.

use crate::layout::{PAGE_SIZE, STACK_SIZE, STACK_TOP};
use crate::mm::{AddressSpace, Fault, VmaKind, PROT_READ, PROT_WRITE};

use super::elf::Loaded;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_EXECFN: u64 = 31;
const AT_SYSINFO_EHDR: u64 = 33;

/// What the auxiliary vector says about the machine and the user.
#[derive(Debug, Clone, Copy)]
pub struct AuxInfo {
    /// `AT_HWCAP`: CPUID.1:EDX, as Linux reports it.
    pub hwcap: u64,
    /// User and group ids.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Where the vDSO is (`AT_SYSINFO_EHDR`), or 0.
    pub vdso: u64,
}

/// Maps the stack, writes the strings and vectors, and returns the initial stack pointer.
pub fn build(
    space: &mut AddressSpace,
    image: &Loaded,
    interp_base: u64,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    aux: &AuxInfo,
) -> Result<u64, Fault> {
    space.map(
        STACK_TOP - STACK_SIZE,
        STACK_TOP,
        PROT_READ | PROT_WRITE,
        VmaKind::Stack,
    );
    let mut sp = STACK_TOP - 8; // a NULL word at the very top, as Linux leaves
    let mut push_str = |space: &mut AddressSpace, s: &[u8]| -> Result<u64, Fault> {
        sp -= s.len() as u64 + 1;
        space.write(sp, s)?;
        space.write(sp + s.len() as u64, &[0])?;
        Ok(sp)
    };
    let execfn_p = push_str(space, execfn)?;
    let mut env_p = Vec::with_capacity(envp.len());
    for e in envp.iter().rev() {
        env_p.push(push_str(space, e)?);
    }
    env_p.reverse();
    let mut arg_p = Vec::with_capacity(argv.len());
    for a in argv.iter().rev() {
        arg_p.push(push_str(space, a)?);
    }
    arg_p.reverse();
    let platform = push_str(space, b"x86_64")?;
    sp &= !15;
    sp -= 16;
    let random = sp;
    let mut rnd = [0u8; 16];
    getrandom(&mut rnd);
    space.write(random, &rnd)?;

    let mut auxv: Vec<(u64, u64)> = vec![
        (AT_PHDR, image.phdr),
        (AT_PHENT, 56),
        (AT_PHNUM, image.phnum),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_BASE, interp_base),
        (AT_FLAGS, 0),
        (AT_ENTRY, image.entry),
        (AT_UID, aux.uid as u64),
        (AT_EUID, aux.uid as u64),
        (AT_GID, aux.gid as u64),
        (AT_EGID, aux.gid as u64),
        (AT_SECURE, 0),
        (AT_HWCAP, aux.hwcap),
        (AT_HWCAP2, 0),
        (AT_PLATFORM, platform),
        (AT_CLKTCK, 100),
        (AT_RANDOM, random),
        (AT_EXECFN, execfn_p),
    ];
    if aux.vdso != 0 {
        auxv.push((AT_SYSINFO_EHDR, aux.vdso));
    }
    let words = 1 + arg_p.len() + 1 + env_p.len() + 1 + 2 * (auxv.len() + 1);
    sp -= 8 * words as u64;
    sp &= !15;
    let mut v: Vec<u64> = Vec::with_capacity(words);
    v.push(argv.len() as u64);
    v.extend(&arg_p);
    v.push(0);
    v.extend(&env_p);
    v.push(0);
    for (k, val) in auxv {
        v.extend([k, val]);
    }
    v.extend([AT_NULL, 0]);
    let bytes: Vec<u8> = v.iter().flat_map(|w| w.to_le_bytes()).collect();
    space.write(sp, &bytes)?;
    Ok(sp)
}

/// Fills `buf` from the host's random source.
pub fn getrandom(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writes at most the remaining bytes of `buf`.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if n > 0 {
            done += n as usize;
        }
    }
}
