//! The program's address space driven by any sequence of what its syscalls and faults do:
//! mmap (anonymous, fixed or not), munmap, mprotect, MADV_DONTNEED, mremap moves, page faults,
//! and reads and writes through the one checked accessor. Nothing may panic, and the frames the
//! space holds never exceed its budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmm::mm::{AddressSpace, VmaKind, PROT_EXEC, PROT_READ, PROT_WRITE};
use vmm::vstate::memory::GuestRam;

/// Addresses stay in a 1 GiB area so that operations meet each other.
const BASE: u64 = 0x4000_0000;
const AREA: u64 = 1 << 30;

fn addr(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..b.len().min(4)].copy_from_slice(&b[..b.len().min(4)]);
    BASE + (u64::from_le_bytes(w) * 4096) % AREA
}

fn len(b: u8) -> u64 {
    // Up to 4 MiB, some exactly 2 MiB (large pages).
    match b % 8 {
        0 => 2 << 20,
        1 => 4 << 20,
        _ => (u64::from(b) + 1) * 4096,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(ram) = GuestRam::new(128 << 20, 16 << 20) else {
        return;
    };
    let Some(mut s) = AddressSpace::new(ram) else {
        return;
    };
    for op in data.chunks(7) {
        if op.len() < 7 {
            break;
        }
        let (a, n, prot) = (addr(&op[1..5]), len(op[5]), u32::from(op[6]) & 7);
        let prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
        match op[0] % 9 {
            0 => s.map(a, a + n, prot, VmaKind::Anon),
            1 => {
                if let Some(at) = s.find_free(0, n) {
                    s.map(at, at + n, prot, VmaKind::Anon);
                }
            }
            2 => s.unmap(a, a + n),
            3 => {
                let _ = s.protect(a, a + n, prot);
            }
            4 => s.discard(a, a + n),
            5 => {
                let _ = s.fault(a + u64::from(op[6]), op[6] & 1 != 0, op[6] & 2 != 0);
            }
            6 => {
                let _ = s.write(a + u64::from(op[5]), &op[..]);
            }
            7 => {
                let mut buf = [0u8; 64];
                let _ = s.read(a + u64::from(op[5]), &mut buf);
            }
            _ => {
                let to = addr(&op[3..7]);
                if s.vma(a).is_some() && s.find_free(to, n) == Some(to) {
                    let _ = s.move_pages(a, to, n.min(1 << 20));
                }
            }
        }
        let _ = s.take_flush();
        s.settle();
        assert!(s.ram.user_frames() <= s.ram.user_limit(), "over the budget");
    }
});
