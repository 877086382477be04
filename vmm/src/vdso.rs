//! The vDSO mvm gives every program (`images/vdso`): time without a VM exit. This side maps it
//! (a read-only file window, and the data page below it) and keeps the data page current: the
//! TSC value of a reference moment, the clocks at that moment, and the TSC period.
//!
//! The guest reads the host's TSC natively (measured here: same value and rate as the host's),
//! so time in the guest is the host's time. The data page is refreshed before the guest runs
//! whenever it is more than a millisecond old, never moving the monotonic clocks backwards.

use std::fs::File;
use std::sync::Arc;

use crate::layout::PAGE_SIZE;
use crate::mm::{AddressSpace, Fault, FileMap, VmaKind, PROT_EXEC, PROT_READ};

/// The vDSO image, built by `build.rs`.
pub static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// Where a program's vDSO is.
#[derive(Debug, Clone, Copy)]
pub struct Mapped {
    /// The image's address (`AT_SYSINFO_EHDR`).
    pub base: u64,
    /// The data page's frame.
    data_frame: u64,
}

/// The clocks' state, as last written to a data page.
#[derive(Debug)]
pub struct Clock {
    /// 2^32 × nanoseconds per TSC tick.
    mult: u64,
    /// The guest's TSC minus the host's.
    offset: i64,
    tsc_khz: u64,
    last: Option<[u64; 5]>,
    seq: u64,
}

fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86-64.
    unsafe { std::arch::x86_64::_rdtsc() }
}

fn ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for writing.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Clock {
    /// A clock for a guest TSC of `tsc_khz` kHz (`KVM_GET_TSC_KHZ`) that reads `offset` ticks
    /// ahead of the host's.
    pub fn new(tsc_khz: u32, offset: i64) -> Self {
        let khz = tsc_khz.max(1) as u64;
        Clock {
            mult: (1_000_000u64 << 32) / khz,
            offset,
            tsc_khz: khz,
            last: None,
            seq: 0,
        }
    }

    /// Writes the current reference into the program's data page if the last one is more than
    /// a millisecond old (or `force`).
    pub fn refresh(&mut self, space: &AddressSpace, at: &Mapped, force: bool) {
        let tsc = rdtsc().wrapping_add(self.offset as u64);
        if let Some(l) = self.last {
            if !force && tsc.wrapping_sub(l[0]) < self.tsc_khz {
                return;
            }
        }
        let (real, mut mono, mut boot) = (
            ns(libc::CLOCK_REALTIME),
            ns(libc::CLOCK_MONOTONIC),
            ns(libc::CLOCK_BOOTTIME),
        );
        if let Some(l) = self.last {
            // What the guest computes from the old reference right now: never go below it.
            let ahead = ((tsc.wrapping_sub(l[0]) as u128 * self.mult as u128) >> 32) as u64;
            mono = mono.max(l[3] + ahead);
            boot = boot.max(l[4] + ahead);
        }
        let fields = [tsc, self.mult, real, mono, boot];
        self.seq += 2;
        let mut page = Vec::with_capacity(48);
        page.extend_from_slice(&(self.seq - 1).to_le_bytes());
        for f in fields {
            page.extend_from_slice(&f.to_le_bytes());
        }
        // Odd sequence first, then the data, then the even sequence: a reader on another vCPU
        // that sees a torn update retries.
        space.ram.write_pool(at.data_frame, &page[..8]);
        space.ram.write_pool(at.data_frame + 8, &page[8..]);
        space.ram.write_pool(at.data_frame, &self.seq.to_le_bytes());
        self.last = Some(fields);
    }
}

/// A memfd holding the vDSO image, shared by every exec of the run.
pub fn file() -> Result<Arc<File>, i32> {
    crate::boot::embedded_file(IMAGE).map(Arc::new)
}

/// Maps the data page and the vDSO (read-only, straight from its file window) into `space`.
pub fn map(space: &mut AddressSpace, file: &Arc<File>) -> Result<Mapped, Fault> {
    let len = (IMAGE.len() as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let data = space.find_free(0, len + PAGE_SIZE).ok_or(Fault::Oom)?;
    let base = data + PAGE_SIZE;
    space.map(data, base, PROT_READ, VmaKind::Anon);
    space.populate_range(data, base, PROT_READ)?;
    let data_frame = space.frame_of(data).ok_or(Fault::Oom)?;
    let kind = VmaKind::File(FileMap {
        file: file.clone(),
        name: Arc::from(&b"[vdso]"[..]),
        offset: 0,
        limit: u64::MAX,
        window: Default::default(),
        shared: false,
        shm: None,
    });
    space.map(base, base + len, PROT_READ | PROT_EXEC, kind);
    space.prefault_file(base, base + len, 0)?;
    Ok(Mapped { base, data_frame })
}

#[cfg(test)]
mod tests {
    use super::IMAGE;

    #[test]
    fn image_needs_no_relocation_and_exports_the_clocks() {
        // Nobody relocates a vDSO: its dynamic section must have no REL/RELA/JMPREL entries.
        let rd = |o: usize| u64::from_le_bytes(IMAGE[o..o + 8].try_into().unwrap());
        let phoff = rd(0x20) as usize;
        let phnum = u16::from_le_bytes([IMAGE[0x38], IMAGE[0x39]]) as usize;
        let mut dynamic = None;
        for i in 0..phnum {
            let ph = phoff + 56 * i;
            if u32::from_le_bytes(IMAGE[ph..ph + 4].try_into().unwrap()) == 2 {
                dynamic = Some((rd(ph + 8) as usize, rd(ph + 32) as usize));
            }
        }
        let (off, size) = dynamic.expect("PT_DYNAMIC");
        for e in (off..off + size).step_by(16) {
            assert!(![7, 17, 23].contains(&rd(e)), "the vDSO has relocations");
        }
        let text = String::from_utf8_lossy(IMAGE);
        for sym in [
            "__vdso_clock_gettime",
            "__vdso_gettimeofday",
            "__vdso_time",
            "__vdso_getcpu",
        ] {
            assert!(text.contains(sym), "{sym} missing");
        }
    }
}
