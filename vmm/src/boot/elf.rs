//! The ELF loader for programs: static executables (`ET_EXEC`) and static PIEs (`ET_DYN` without
//! an interpreter), mapped into the program's address space with the protections their segments
//! ask for; and the `#!` line of scripts. Headers are checked completely before the address space is touched, so a failed
//! `execve` leaves the caller's program intact.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use linux_loader::elf::{Elf64_Ehdr, Elf64_Phdr};
use vm_memory::ByteValued;

use crate::layout::{PAGE_SIZE, USER_TOP};
use crate::mm::{
    page_down, page_up, AddressSpace, FileMap, VmaKind, WindowCache, PROT_EXEC, PROT_READ,
    PROT_WRITE,
};

/// Writable segments of at most this many bytes are copied in at exec (read-only ones are
/// always mapped at exec: they cost no copy, see `AddressSpace::prefault_file`).
const EAGER_COPY_LIMIT: u64 = 256 << 10;

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
    /// Its interpreter cannot be used (the errno opening it, or `ENOEXEC`).
    #[error("cannot load its interpreter {path}: {why}", path = crate::sys::fs::shown(.0), why = errno_text(*.1))]
    Interp(Vec<u8>, i32),
    /// Reading the file failed.
    #[error("cannot read the executable: {why}", why = errno_text(*.0))]
    Io(i32),
    /// Out of memory while loading (`ENOMEM`).
    #[error("out of memory loading the executable")]
    Oom,
}

/// An errno in words, as mvm's messages give it.
fn errno_text(e: i32) -> String {
    crate::policy::io_text(&std::io::Error::from_raw_os_error(e))
}

impl ExecError {
    /// The errno `execve` returns for it.
    pub fn errno(&self) -> i32 {
        match self {
            ExecError::NotElf | ExecError::Malformed(_) => libc::ENOEXEC,
            ExecError::Interp(_, e) => *e,
            ExecError::Io(e) => *e,
            ExecError::Oom => libc::ENOMEM,
        }
    }
}

/// Reads `buf.len()` bytes at `off`; bytes past the end of the file read as zero. Returns how
/// many the file had.
fn read_exact_at(f: &File, buf: &mut [u8], off: u64) -> Result<usize, ExecError> {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], off + done as u64) {
            Ok(0) => {
                buf[done..].fill(0);
                break;
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ExecError::Io(e.raw_os_error().unwrap_or(libc::EIO))),
        }
    }
    Ok(done)
}

/// How many `#!` interpreters may lead to one another before the executable (Linux's limit).
pub const MAX_SCRIPT_DEPTH: usize = 4;

/// A script's `#!` line: the interpreter, and the one optional argument after it.
pub type Shebang = (Vec<u8>, Option<Vec<u8>>);

/// The `#!` line of a script, as Linux's binfmt_script reads it: the interpreter and the one
/// optional argument after it (the rest of the line, trimmed). `None` if `f` does not start
/// with `#!`; ENOEXEC if the line names no interpreter or does not fit in 256 bytes.
pub fn shebang(f: &File) -> Result<Option<Shebang>, ExecError> {
    let mut buf = [0u8; 256];
    let n = read_exact_at(f, &mut buf, 0)?;
    let Some(line) = buf[..n].strip_prefix(b"#!") else {
        return Ok(None);
    };
    // binfmt_script trims spaces and tabs only (a `\r` is part of the name, so a script saved
    // with CRLF endings names `/bin/sh\r`, which does not exist), and a NUL ends the name.
    let spacetab = |b: &u8| *b == b' ' || *b == b'\t';
    let line = match line.iter().position(|&b| b == b'\n') {
        Some(end) => &line[..end],
        // A line cut short is fine only if the interpreter's name ended within it.
        None if n < buf.len() => line,
        None => {
            let start = line.iter().position(|b| !spacetab(b)).unwrap_or(line.len());
            if !line[start..].iter().any(|b| spacetab(b) || *b == 0) {
                return Err(ExecError::NotElf);
            }
            line
        }
    };
    fn trim(mut l: &[u8]) -> &[u8] {
        let spacetab = |b: &u8| *b == b' ' || *b == b'\t';
        while let [first, rest @ ..] = l {
            if !spacetab(first) {
                break;
            }
            l = rest;
        }
        while let [rest @ .., last] = l {
            if !spacetab(last) {
                break;
            }
            l = rest;
        }
        l
    }
    let line = trim(line);
    let split = line
        .iter()
        .position(|b| spacetab(b) || *b == 0)
        .unwrap_or(line.len());
    let (interp, rest) = line.split_at(split);
    if interp.is_empty() {
        return Err(ExecError::NotElf);
    }
    let arg = trim(rest);
    // The argument is a C string: it ends at a NUL too.
    let arg = &arg[..arg.iter().position(|&b| b == 0).unwrap_or(arg.len())];
    Ok(Some((
        interp.to_vec(),
        (!arg.is_empty() && rest.first() != Some(&0)).then(|| arg.to_vec()),
    )))
}

/// A parsed executable, ready to map.
#[derive(Debug)]
pub struct Image {
    ehdr: Elf64_Ehdr,
    phdrs: Vec<Elf64_Phdr>,
    /// The interpreter it names, if any.
    pub interp: Option<Vec<u8>>,
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
    /// What was added to the image's addresses (`AT_BASE` for an interpreter).
    pub bias: u64,
}

/// Reads and checks the headers of `src`.
pub fn parse(src: &File) -> Result<Image, ExecError> {
    let mut ehdr = Elf64_Ehdr::default();
    read_exact_at(src, ehdr.as_mut_slice(), 0)?;
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
    let size = std::mem::size_of::<Elf64_Phdr>();
    let mut raw = vec![0u8; size * ehdr.e_phnum as usize];
    read_exact_at(src, &mut raw, ehdr.e_phoff)?;
    let phdrs: Vec<Elf64_Phdr> = raw
        .chunks_exact(size)
        .map(|c| *Elf64_Phdr::from_slice(c).expect("exact size"))
        .collect();
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
                read_exact_at(src, &mut b, ph.p_offset)?;
                let s = b.split(|&c| c == 0).next().unwrap_or_default();
                interp = Some(s.to_vec());
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
    /// Bytes of address space the image spans once loaded.
    pub fn span(&self) -> u64 {
        let loads = self.phdrs.iter().filter(|p| p.p_type == PT_LOAD);
        let lo = loads
            .clone()
            .map(|p| page_down(p.p_vaddr))
            .min()
            .unwrap_or(0);
        let hi = loads
            .map(|p| page_up(p.p_vaddr + p.p_memsz))
            .max()
            .unwrap_or(0);
        hi - lo
    }

    /// Whether it must be placed by the loader (`ET_DYN`: a PIE or a shared object).
    pub fn relocatable(&self) -> bool {
        self.ehdr.e_type == ET_DYN
    }

    /// Maps the image into `space` — at `base` if it is relocatable — as file mappings whose
    /// pages are read when first touched, plus anonymous memory for each segment's zero part.
    pub fn load(
        &self,
        space: &mut AddressSpace,
        file: &Arc<File>,
        name: &[u8],
        base: u64,
    ) -> Result<Loaded, ExecError> {
        let loads: Vec<&Elf64_Phdr> = self.phdrs.iter().filter(|p| p.p_type == PT_LOAD).collect();
        let bias = if self.relocatable() {
            base - page_down(loads.iter().map(|p| p.p_vaddr).min().unwrap_or(0))
        } else {
            0
        };
        let name: Arc<[u8]> = Arc::from(name);
        let window = WindowCache::default();
        let mut end = 0;
        for ph in &loads {
            let va = bias + ph.p_vaddr;
            let prot = prot_of(ph.p_flags);
            let file_end = page_up(va + ph.p_filesz);
            if ph.p_filesz > 0 {
                let start = page_down(va);
                let kind = VmaKind::File(FileMap {
                    file: file.clone(),
                    name: name.clone(),
                    offset: ph.p_offset - (va - start),
                    limit: ph.p_offset + ph.p_filesz,
                    window: window.clone(),
                    shared: false,
                    shm: None,
                });
                space.map(start, file_end, prot, kind);
                // Every page fault costs a VM exit: map what is cheap to map now.
                space
                    .prefault_file(start, file_end, EAGER_COPY_LIMIT)
                    .map_err(|_| ExecError::Oom)?;
            }
            let zero_start = if ph.p_filesz > 0 {
                file_end
            } else {
                page_down(va)
            };
            let stop = page_up(va + ph.p_memsz);
            if stop > zero_start {
                space.map(zero_start, stop, prot, VmaKind::Anon);
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
            bias,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(text: &[u8]) -> Result<Option<Shebang>, ExecError> {
        let path =
            std::env::temp_dir().join(format!("mvm-shebang-{}-{}", std::process::id(), text.len()));
        std::fs::write(&path, text).unwrap();
        let r = shebang(&File::open(&path).unwrap());
        std::fs::remove_file(&path).unwrap();
        r
    }

    #[test]
    fn interpreter_lines_as_linux_reads_them() {
        let some = |i: &str, a: Option<&str>| {
            Ok(Some((
                i.as_bytes().to_vec(),
                a.map(|a| a.as_bytes().to_vec()),
            )))
        };
        assert_eq!(parse_line(b"#!/bin/sh\necho\n"), some("/bin/sh", None));
        assert_eq!(
            parse_line(b"#!  /bin/sh  -e \t\n"),
            some("/bin/sh", Some("-e"))
        );
        // Everything after the interpreter is one argument.
        assert_eq!(
            parse_line(b"#!/usr/bin/env python3 -u\n"),
            some("/usr/bin/env", Some("python3 -u"))
        );
        assert_eq!(parse_line(b"#!/bin/sh"), some("/bin/sh", None));
        // Only spaces and tabs are trimmed: a CRLF line names "/bin/sh\r".
        assert_eq!(parse_line(b"#!/bin/sh\r\n"), some("/bin/sh\r", None));
        assert_eq!(
            parse_line(b"#!/bin/sh -e\r\n"),
            some("/bin/sh", Some("-e\r"))
        );
        // A NUL ends the name.
        assert_eq!(parse_line(b"#!/bin/sh\0 -x\n"), some("/bin/sh", None));
        assert_eq!(parse_line(b"\x7fELF"), Ok(None));
        assert_eq!(parse_line(b"# !/bin/sh\n"), Ok(None));
        assert_eq!(parse_line(b"#!\n"), Err(ExecError::NotElf));
        assert_eq!(parse_line(b"#!   \n"), Err(ExecError::NotElf));
        // A line longer than 256 bytes: fine if the interpreter's name ends within them.
        let mut long = b"#!/bin/sh ".to_vec();
        long.resize(400, b'x');
        assert_eq!(
            parse_line(&long).map(|s| s.map(|(i, _)| i)),
            Ok(Some(b"/bin/sh".to_vec()))
        );
        let mut cut = b"#!/".to_vec();
        cut.resize(400, b'x');
        assert_eq!(parse_line(&cut), Err(ExecError::NotElf));
    }
}
