//! The ELF loader for programs: static executables (`ET_EXEC`) and static PIEs (`ET_DYN` without
//! an interpreter), mapped into the program's address space with the protections their segments
//! ask for. Headers are checked completely before the address space is touched, so a failed
//! `execve` leaves the caller's program intact.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use linux_loader::elf::{Elf64_Ehdr, Elf64_Phdr};
use vm_memory::ByteValued;

use crate::layout::{PAGE_SIZE, PIE_BASE, USER_TOP};
use crate::mm::{
    page_down, page_up, AddressSpace, Fault, VmaKind, PROT_EXEC, PROT_READ, PROT_WRITE,
};

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// Why a file cannot be executed; each maps to the errno `execve` returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Not an ELF file, or not one for x86-64 (`ENOEXEC`).
    #[error("not an x86-64 ELF executable")]
    NotElf,
    /// A malformed ELF file (`ENOEXEC`).
    #[error("malformed ELF executable: {0}")]
    Malformed(&'static str),
    /// Dynamically linked (it names an interpreter) — not supported yet (`ENOEXEC`).
    #[error("dynamically linked executables are not supported yet (interpreter {0})")]
    Dynamic(String),
    /// Reading the file failed.
    #[error("cannot read the executable: {0}")]
    Io(i32),
    /// Out of memory while loading (`ENOMEM`).
    #[error("out of memory loading the executable")]
    Oom,
}

impl ExecError {
    /// The errno `execve` returns for it.
    pub fn errno(&self) -> i32 {
        match self {
            ExecError::NotElf | ExecError::Malformed(_) | ExecError::Dynamic(_) => libc::ENOEXEC,
            ExecError::Io(e) => *e,
            ExecError::Oom => libc::ENOMEM,
        }
    }
}

/// Where an executable's bytes come from: a host file or an image embedded in mvm.
pub trait Source {
    /// Reads exactly `buf.len()` bytes at `off`; bytes past the end read as zero.
    fn read_exact_at(&self, buf: &mut [u8], off: u64) -> Result<(), ExecError>;
}

impl Source for File {
    fn read_exact_at(&self, buf: &mut [u8], off: u64) -> Result<(), ExecError> {
        let mut done = 0;
        while done < buf.len() {
            match self.read_at(&mut buf[done..], off + done as u64) {
                Ok(0) => {
                    buf[done..].fill(0);
                    break;
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ExecError::Io(e.raw_os_error().unwrap_or(libc::EIO))),
            }
        }
        Ok(())
    }
}

impl Source for &[u8] {
    fn read_exact_at(&self, buf: &mut [u8], off: u64) -> Result<(), ExecError> {
        let start = (off as usize).min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        buf[n..].fill(0);
        Ok(())
    }
}

/// A parsed executable, ready to map.
#[derive(Debug)]
pub struct Image {
    ehdr: Elf64_Ehdr,
    phdrs: Vec<Elf64_Phdr>,
    /// The interpreter it names, if any.
    pub interp: Option<String>,
}

/// What the loader placed where, for the initial stack's auxiliary vector.
#[derive(Debug, Clone, Copy)]
pub struct Loaded {
    /// Entry point (relocated).
    pub entry: u64,
    /// Program headers in memory (`AT_PHDR`).
    pub phdr: u64,
    /// Program header count (`AT_PHNUM`).
    pub phnum: u64,
    /// One past the highest byte mapped: the heap starts here.
    pub end: u64,
}

/// Reads and checks the headers of `src`.
pub fn parse(src: &dyn Source) -> Result<Image, ExecError> {
    let mut ehdr = Elf64_Ehdr::default();
    src.read_exact_at(ehdr.as_mut_slice(), 0)?;
    if ehdr.e_ident[..4] != *b"\x7fELF" || ehdr.e_ident[4] != 2 || ehdr.e_ident[5] != 1 {
        return Err(ExecError::NotElf);
    }
    if ehdr.e_machine != EM_X86_64 || !(ehdr.e_type == ET_EXEC || ehdr.e_type == ET_DYN) {
        return Err(ExecError::NotElf);
    }
    if ehdr.e_phentsize as usize != std::mem::size_of::<Elf64_Phdr>() || ehdr.e_phnum == 0 {
        return Err(ExecError::Malformed("program headers"));
    }
    if ehdr.e_phnum > 512 {
        return Err(ExecError::Malformed("too many program headers"));
    }
    let mut phdrs = vec![Elf64_Phdr::default(); ehdr.e_phnum as usize];
    for (i, ph) in phdrs.iter_mut().enumerate() {
        let off = ehdr.e_phoff + (i * std::mem::size_of::<Elf64_Phdr>()) as u64;
        src.read_exact_at(ph.as_mut_slice(), off)?;
    }
    let mut interp = None;
    for ph in &phdrs {
        match ph.p_type {
            PT_LOAD
                if (ph.p_filesz > ph.p_memsz
                    || ph.p_vaddr % PAGE_SIZE != ph.p_offset % PAGE_SIZE
                    || ph
                        .p_vaddr
                        .checked_add(ph.p_memsz)
                        .is_none_or(|e| e > USER_TOP)) =>
            {
                return Err(ExecError::Malformed("loadable segment"));
            }
            PT_INTERP => {
                if ph.p_filesz == 0 || ph.p_filesz > 4096 {
                    return Err(ExecError::Malformed("interpreter path"));
                }
                let mut b = vec![0u8; ph.p_filesz as usize];
                src.read_exact_at(&mut b, ph.p_offset)?;
                let s = b.split(|&c| c == 0).next().unwrap_or_default();
                interp = Some(String::from_utf8_lossy(s).into_owned());
            }
            _ => {}
        }
    }
    if !phdrs.iter().any(|p| p.p_type == PT_LOAD) {
        return Err(ExecError::Malformed("no loadable segment"));
    }
    Ok(Image {
        ehdr,
        phdrs,
        interp,
    })
}

fn prot_of(flags: u32) -> u32 {
    let mut p = 0;
    if flags & PF_R != 0 {
        p |= PROT_READ;
    }
    if flags & PF_W != 0 {
        p |= PROT_WRITE;
    }
    if flags & PF_X != 0 {
        p |= PROT_EXEC;
    }
    p
}

impl Image {
    /// Maps the image into `space` (which the caller has emptied) and copies its contents.
    pub fn load(
        &self,
        space: &mut AddressSpace,
        src: &dyn Source,
        name: &str,
    ) -> Result<Loaded, ExecError> {
        if let Some(i) = &self.interp {
            return Err(ExecError::Dynamic(i.clone()));
        }
        let loads: Vec<&Elf64_Phdr> = self.phdrs.iter().filter(|p| p.p_type == PT_LOAD).collect();
        let bias = if self.ehdr.e_type == ET_DYN {
            PIE_BASE - page_down(loads.iter().map(|p| p.p_vaddr).min().unwrap_or(0))
        } else {
            0
        };
        let kind = VmaKind::Image(Arc::from(name));
        let oom = |_: Fault| ExecError::Oom;
        let mut end = 0;
        for ph in &loads {
            let va = bias + ph.p_vaddr;
            let (start, stop) = (page_down(va), page_up(va + ph.p_memsz));
            let prot = prot_of(ph.p_flags);
            // A page shared with the previous segment keeps what that segment put there.
            let mut shared = None;
            if space.vma(start).is_some() {
                let mut page = vec![0u8; PAGE_SIZE as usize];
                if let Some(phys) = space.frame_of(start) {
                    space.ram.read(phys, &mut page);
                }
                shared = Some(page);
            }
            space.map(start, stop, prot, kind.clone());
            space.populate_range(start, stop, prot).map_err(oom)?;
            if let Some(page) = shared {
                let phys = space.frame_of(start).expect("populated");
                space.ram.write(phys, &page);
            }
            // Copy the file's bytes straight into the frames, one read per run of contiguous
            // frames (fresh frames usually are).
            let mut done = 0u64;
            while done < ph.p_filesz {
                let at = va + done;
                let mut n = (page_down(at) + PAGE_SIZE - at).min(ph.p_filesz - done);
                let phys = space.frame_of(page_down(at)).expect("populated") + (at % PAGE_SIZE);
                while done + n < ph.p_filesz && space.frame_of(at + n) == Some(phys + n) {
                    n += PAGE_SIZE.min(ph.p_filesz - done - n);
                }
                let p = space.ram.host_ptr(phys, n).expect("frame in guest memory");
                // SAFETY: `p` addresses `n` bytes of contiguous guest frames; the guest is not
                // running while mvm loads an image, so nothing else accesses them.
                let dst = unsafe { std::slice::from_raw_parts_mut(p, n as usize) };
                src.read_exact_at(dst, ph.p_offset + done)?;
                done += n;
            }
            end = end.max(stop);
        }
        let phdr = self
            .phdrs
            .iter()
            .find(|p| p.p_type == PT_PHDR)
            .map(|p| p.p_vaddr)
            .or_else(|| {
                loads
                    .iter()
                    .find(|p| {
                        p.p_offset <= self.ehdr.e_phoff
                            && self.ehdr.e_phoff < p.p_offset + p.p_filesz
                    })
                    .map(|p| p.p_vaddr + self.ehdr.e_phoff - p.p_offset)
            })
            .unwrap_or(0);
        Ok(Loaded {
            entry: bias + self.ehdr.e_entry,
            phdr: if phdr == 0 { 0 } else { bias + phdr },
            phnum: self.ehdr.e_phnum as u64,
            end,
        })
    }
}
