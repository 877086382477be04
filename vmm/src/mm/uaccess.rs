//! The one checked way mvm reaches a program's memory: every guest pointer goes through
//! `AddressSpace::{read, write, read_cstr, iovecs}`, which translate page by page, fill pages on
//! demand exactly as the program's own access would, and refuse (EFAULT) what the program
//! itself could not access.

use super::{page_down, AddressSpace};
use crate::layout::PAGE_SIZE;

/// Why an access to program memory failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No mapping at that address (SEGV_MAPERR, or EFAULT for mvm).
    Unmapped,
    /// A mapping without the permission asked for (SEGV_ACCERR, or EFAULT).
    Access,
    /// Out of memory (`--memory` reached): the OOM killer's SIGKILL.
    Oom,
    /// A file mapping's page past the end of its file (SIGBUS, BUS_ADRERR; EFAULT for mvm).
    Bus,
}

impl From<crate::vstate::memory::NoMemory> for Fault {
    fn from(_: crate::vstate::memory::NoMemory) -> Fault {
        Fault::Bus
    }
}

/// Longest string (path, argument) mvm reads from a program: Linux's `PATH_MAX`/`MAX_ARG_STRLEN`.
pub const MAX_CSTR: usize = 128 * 1024;

impl AddressSpace {
    /// Calls `f(phys, offset, len)` for each piece of `[va, va + len)` that lies in one page.
    fn pieces(
        &mut self,
        va: u64,
        len: usize,
        write: bool,
        mut f: impl FnMut(&mut Self, u64, usize, usize) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        va.checked_add(len as u64).ok_or(Fault::Unmapped)?;
        let mut done = 0usize;
        while done < len {
            let at = va + done as u64;
            let n = ((page_down(at) + PAGE_SIZE - at) as usize).min(len - done);
            let phys = self.translate(at, write)?;
            f(self, phys, done, n)?;
            done += n;
        }
        Ok(())
    }

    /// Copies program memory at `va` into `buf`.
    pub fn read(&mut self, va: u64, buf: &mut [u8]) -> Result<(), Fault> {
        self.pieces(va, buf.len(), false, |me, phys, off, n| {
            Ok(me.ram.read(phys, &mut buf[off..off + n])?)
        })
    }

    /// Copies `data` into program memory at `va`.
    pub fn write(&mut self, va: u64, data: &[u8]) -> Result<(), Fault> {
        self.pieces(va, data.len(), true, |me, phys, off, n| {
            Ok(me.ram.write(phys, &data[off..off + n])?)
        })
    }

    /// Reads a little-endian `u64`.
    pub fn read_u64(&mut self, va: u64) -> Result<u64, Fault> {
        let mut b = [0u8; 8];
        self.read(va, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Writes a plain-data value.
    pub fn write_obj<T: vm_memory::ByteValued>(&mut self, va: u64, v: &T) -> Result<(), Fault> {
        self.write(va, v.as_slice())
    }

    /// Reads a plain-data value.
    pub fn read_obj<T: vm_memory::ByteValued + Default>(&mut self, va: u64) -> Result<T, Fault> {
        let mut v = T::default();
        self.read(va, v.as_mut_slice())?;
        Ok(v)
    }

    /// Reads a NUL-terminated string of at most `MAX_CSTR` bytes (without the NUL).
    pub fn read_cstr(&mut self, va: u64) -> Result<Vec<u8>, Fault> {
        let mut out = Vec::new();
        let mut at = va;
        loop {
            let n = (page_down(at) + PAGE_SIZE - at) as usize;
            let mut chunk = vec![0u8; n];
            self.read(at, &mut chunk)?;
            if let Some(z) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk);
            if out.len() > MAX_CSTR {
                return Err(Fault::Access);
            }
            at += n as u64;
        }
    }

    /// Reads a NULL-terminated array of string pointers (argv, envp), charging each string and
    /// pointer to `budget` (bytes): `Ok(None)` when the budget runs out (execve's E2BIG).
    pub fn read_cstr_array(
        &mut self,
        va: u64,
        budget: &mut usize,
    ) -> Result<Option<Vec<Vec<u8>>>, Fault> {
        let mut out = Vec::new();
        if va == 0 {
            return Ok(Some(out));
        }
        loop {
            let p = self.read_u64(va + 8 * out.len() as u64)?;
            if p == 0 {
                return Ok(Some(out));
            }
            let s = self.read_cstr(p)?;
            let cost = s.len() + 1 + 8;
            if cost > *budget {
                return Ok(None);
            }
            *budget -= cost;
            out.push(s);
        }
    }

    /// Host iovecs covering `[va, va + len)` for a host read/write straight into or out of program
    /// memory. `write` means mvm will write into it (the program reads data).
    pub fn iovecs(&mut self, va: u64, len: usize, write: bool) -> Result<Vec<libc::iovec>, Fault> {
        let mut v: Vec<libc::iovec> = Vec::new();
        self.pieces(va, len, write, |me, phys, _, n| {
            let p = me.ram.checked_ptr(phys, n as u64)?;
            match v.last_mut() {
                // SAFETY: only comparing addresses.
                Some(last) if unsafe { (last.iov_base as *mut u8).add(last.iov_len) } == p => {
                    last.iov_len += n
                }
                _ => v.push(libc::iovec {
                    iov_base: p.cast(),
                    iov_len: n,
                }),
            }
            Ok(())
        })?;
        Ok(v)
    }
}
