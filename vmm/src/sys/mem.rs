//! Memory syscalls: brk, mmap, munmap, mprotect, mremap, madvise — all in terms of
//! `AddressSpace`, which keeps Linux's semantics (hints, `MAP_FIXED`, free reservations).

use super::{err, Args, SysError, SysResult};
use crate::layout::{PAGE_SIZE, USER_TOP};
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::Arc;

use crate::mm::{page_down, page_up, FileMap, VmaKind, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::task::Task;

const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_32BIT: u64 = 0x40;
const MAP_POPULATE: u64 = 0x8000;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;

fn aligned(x: u64) -> bool {
    x.is_multiple_of(PAGE_SIZE)
}

fn prot_ok(prot: u64) -> Option<u32> {
    // PROT_GROWSDOWN/GROWSUP are accepted and ignored.
    let p = prot & !0x0300_0000;
    (p & !7 == 0).then_some(p as u32 & (PROT_READ | PROT_WRITE | PROT_EXEC))
}

/// `[addr, addr + len)` as a page range inside user space, or the errno Linux gives.
fn range(addr: u64, len: u64) -> Result<(u64, u64), super::SysError> {
    if !aligned(addr) || len == 0 {
        return err(libc::EINVAL);
    }
    let end = addr
        .checked_add(page_up(len))
        .filter(|e| *e <= USER_TOP && page_up(len) != 0);
    match end {
        Some(e) => Ok((addr, e)),
        None => err(libc::EINVAL),
    }
}

/// The mapping of `fd` from `off`: the file's pages are read when first touched, into memory
/// private to the program; a shared mapping of a file open for writing shows the file's own
/// pages (a writable window), so writes reach the file and every program that maps it.
fn file_mapping(
    task: &mut Task,
    fd: u64,
    off: u64,
    prot: u32,
    shared: bool,
) -> Result<VmaKind, SysError> {
    let open = task.fds.file(fd)?;
    let h = open.raw();
    if !aligned(off) || (off as i64) < 0 {
        return err(libc::EINVAL);
    }
    // SAFETY: plain host calls on a descriptor mvm serves.
    let mode = unsafe { libc::fcntl(h, libc::F_GETFL) } & libc::O_ACCMODE;
    if mode == libc::O_WRONLY {
        return err(libc::EACCES);
    }
    if shared && prot & PROT_WRITE != 0 && mode == libc::O_RDONLY {
        return err(libc::EACCES);
    }
    let shared = shared && mode == libc::O_RDWR;
    let file = open.mapped()?;
    let md = file.metadata().map_err(|_| SysError::Errno(libc::EACCES))?;
    if !md.is_file() {
        return err(libc::ENODEV);
    }
    Ok(VmaKind::File(FileMap {
        file,
        name: Arc::from(open.path.clone().unwrap_or_default()),
        offset: off,
        limit: u64::MAX,
        window: Default::default(),
        shared,
        shm: None,
    }))
}

/// Shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`) of `len` bytes: a fresh memfd shown
/// as a writable window, so that the programs this one forks share it, as on Linux.
fn shared_anonymous(len: u64) -> Result<VmaKind, SysError> {
    // SAFETY: memfd_create with a static NUL-terminated name; the result is checked.
    let fd = unsafe { libc::memfd_create(c"mvm-shared".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return err(libc::ENOMEM);
    }
    // SAFETY: `fd` is fresh and owned by nobody else.
    let file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.set_len(len)
        .map_err(|_| SysError::Errno(libc::ENOMEM))?;
    Ok(VmaKind::File(FileMap {
        file: Arc::new(file),
        name: Arc::from(&b"/dev/zero (deleted)"[..]),
        offset: 0,
        limit: u64::MAX,
        window: Default::default(),
        shared: true,
        shm: None,
    }))
}

/// brk(2).
pub fn brk(task: &mut Task, a: Args) -> SysResult {
    let mm = &mut task.mm;
    let want = a[0];
    if want < mm.brk_start || want >= USER_TOP {
        return Ok(mm.brk);
    }
    let (old, new) = (page_up(mm.brk), page_up(want));
    if new > old {
        if mm.vmas().any(|(s, v)| s < new && v.end > old) {
            return Ok(mm.brk);
        }
        mm.map(old, new, PROT_READ | PROT_WRITE, VmaKind::Heap);
    } else if new < old {
        mm.unmap(new, old);
    }
    mm.brk = want;
    Ok(want)
}

/// mmap(2): anonymous memory.
pub fn mmap(task: &mut Task, a: Args) -> SysResult {
    let [addr, len, prot, flags, fd, off] = a;
    let Some(prot) = prot_ok(prot) else {
        return err(libc::EINVAL);
    };
    let kind = flags & MAP_SHARED_VALIDATE;
    if len == 0 || !(kind == MAP_SHARED || kind == MAP_PRIVATE || kind == MAP_SHARED_VALIDATE) {
        return err(libc::EINVAL);
    }
    let len = page_up(len);
    if len == 0 || len > USER_TOP {
        return err(libc::ENOMEM);
    }
    let vma_kind = if flags & MAP_ANONYMOUS == 0 {
        file_mapping(task, fd, off, prot, kind != MAP_PRIVATE)?
    } else if kind != MAP_PRIVATE {
        shared_anonymous(len)?
    } else {
        VmaKind::Anon
    };
    let mm = &mut task.mm;
    let start = if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
        if !aligned(addr) {
            return err(libc::EINVAL);
        }
        if addr.checked_add(len).is_none_or(|e| e > USER_TOP) {
            return err(libc::ENOMEM);
        }
        if flags & MAP_FIXED == 0 && mm.vmas().any(|(s, v)| s < addr + len && v.end > addr) {
            return err(libc::EEXIST);
        }
        addr
    } else if flags & MAP_32BIT != 0 {
        let hint = if addr != 0 { addr } else { 0x4000_0000 };
        match mm.find_free(hint, len).filter(|s| s + len <= 0x8000_0000) {
            Some(s) => s,
            None => return err(libc::ENOMEM),
        }
    } else {
        match mm.find_free(addr, len) {
            Some(s) => s,
            None => return err(libc::ENOMEM),
        }
    };
    mm.map(start, start + len, prot, vma_kind);
    // Read-only file mappings (libraries' code) show the file's pages at once; small writable
    // ones are copied now. Either saves page-fault exits.
    if mm.prefault_file(start, start + len, 64 << 10).is_err() {
        mm.unmap(start, start + len);
        return err(libc::ENOMEM);
    }
    if flags & MAP_POPULATE != 0
        && prot != 0
        && mm.populate_range(start, start + len, prot).is_err()
    {
        mm.unmap(start, start + len);
        return err(libc::ENOMEM);
    }
    Ok(start)
}

/// munmap(2).
pub fn munmap(task: &mut Task, a: Args) -> SysResult {
    // Linux's limit is its TASK_SIZE: a program may unmap up to there (stress-ng's vm-segv
    // unmaps everything with one call), though its mappings end below mvm's USER_TOP.
    const TASK_SIZE: u64 = 0x7fff_ffff_f000;
    if !aligned(a[0]) || a[1] == 0 {
        return err(libc::EINVAL);
    }
    let e = a[0]
        .checked_add(page_up(a[1]))
        .filter(|e| *e <= TASK_SIZE && page_up(a[1]) != 0)
        .ok_or(SysError::Errno(libc::EINVAL))?;
    if a[0] < USER_TOP {
        super::ipc::shm_range_touch(&task.mm, task.pid(), a[0], e.min(USER_TOP), true);
        task.mm.unmap(a[0], e.min(USER_TOP));
    }
    Ok(0)
}

/// mprotect(2).
pub fn mprotect(task: &mut Task, a: Args) -> SysResult {
    let Some(prot) = prot_ok(a[2]) else {
        return err(libc::EINVAL);
    };
    if a[1] == 0 && aligned(a[0]) {
        return Ok(0);
    }
    let (s, e) = range(a[0], a[1])?;
    if task.mm.covered(s, e) {
        super::ipc::shm_range_touch(&task.mm, task.pid(), s, e, false);
    }
    match task.mm.protect(s, e, prot) {
        Ok(()) => Ok(0),
        Err(_) => err(libc::ENOMEM),
    }
}

/// mlock(2), munlock(2), mlock2(2): the range must be mapped (ENOMEM otherwise); the pages
/// stay where they are (mvm does not page the program's memory out itself).
pub fn mlock(task: &mut Task, a: Args) -> SysResult {
    if a[1] == 0 {
        return Ok(0);
    }
    let (s, e) = range(page_down(a[0]), a[1] + (a[0] - page_down(a[0])))?;
    let mut at = s;
    while at < e {
        match task.mm.vma(at) {
            Some((_, v)) => at = v.end,
            None => return err(libc::ENOMEM),
        }
    }
    Ok(0)
}

/// mlockall(2), munlockall(2): accepted (see `mlock`).
pub fn mlockall(_task: &mut Task, a: Args) -> SysResult {
    const KNOWN: u64 = (libc::MCL_CURRENT | libc::MCL_FUTURE | libc::MCL_ONFAULT) as u64;
    if a[0] & !KNOWN != 0 {
        return err(libc::EINVAL);
    }
    Ok(0)
}

/// madvise(2).
pub fn madvise(task: &mut Task, a: Args) -> SysResult {
    if a[1] == 0 && aligned(a[0]) {
        return Ok(0);
    }
    let (s, e) = range(a[0], a[1])?;
    if !task.mm.covered(s, e) {
        return err(libc::ENOMEM);
    }
    match a[2] as i32 {
        libc::MADV_DONTNEED | libc::MADV_FREE => task.mm.discard(s, e),
        libc::MADV_REMOVE => {
            // Frees the file's pages behind a shared mapping (a hole is punched); EINVAL for
            // private memory, as Linux.
            let mut holes = Vec::new();
            let mut at = s;
            while at < e {
                let (vs, v) = task.mm.vma(at).ok_or(SysError::Errno(libc::ENOMEM))?;
                let stop = v.end.min(e);
                match &v.kind {
                    VmaKind::File(f) if f.shared => {
                        holes.push((f.file.clone(), f.offset + (at - vs), stop - at))
                    }
                    _ => return err(libc::EINVAL),
                }
                at = stop;
            }
            for (file, off, len) in holes {
                // SAFETY: plain host call on a file mvm holds.
                let r = unsafe {
                    libc::fallocate(
                        file.as_raw_fd(),
                        libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                        off as i64,
                        len as i64,
                    )
                };
                if r != 0 {
                    return err(libc::EOPNOTSUPP);
                }
            }
            task.mm.discard(s, e);
        }
        libc::MADV_WIPEONFORK | libc::MADV_KEEPONFORK => {
            let wipe = a[2] as i32 == libc::MADV_WIPEONFORK;
            task.mm
                .set_wipe_on_fork(s, e, wipe)
                .map_err(|_| SysError::Errno(libc::EINVAL))?;
        }
        libc::MADV_NORMAL
        | libc::MADV_RANDOM
        | libc::MADV_SEQUENTIAL
        | libc::MADV_WILLNEED
        | libc::MADV_DONTFORK
        | libc::MADV_DOFORK
        | libc::MADV_MERGEABLE
        | libc::MADV_UNMERGEABLE
        | libc::MADV_HUGEPAGE
        | libc::MADV_NOHUGEPAGE
        | libc::MADV_DONTDUMP
        | libc::MADV_DODUMP
        | libc::MADV_COLD
        | libc::MADV_PAGEOUT => {}
        _ => return err(libc::EINVAL),
    }
    Ok(0)
}

/// mremap(2).
pub fn mremap(task: &mut Task, a: Args) -> SysResult {
    let [old, old_len, new_len, flags, new_addr, _] = a;
    if !aligned(old) || flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0 {
        return err(libc::EINVAL);
    }
    if flags & MREMAP_FIXED != 0 && (flags & MREMAP_MAYMOVE == 0 || !aligned(new_addr)) {
        return err(libc::EINVAL);
    }
    let (old_len, new_len) = (page_up(old_len), page_up(new_len));
    if new_len == 0 || old_len == 0 {
        return err(libc::EINVAL);
    }
    let mm = &mut task.mm;
    let Some((vma_start, vma)) = mm.vma(old) else {
        return err(libc::EFAULT);
    };
    if old + old_len > vma.end {
        return err(libc::EFAULT);
    }
    // A file mapping's offset follows the part being remapped.
    let (prot, kind) = (vma.prot, vma.kind.advanced(old - vma_start));
    if flags & MREMAP_FIXED == 0 {
        if new_len <= old_len {
            mm.unmap(old + new_len, old + old_len);
            return Ok(old);
        }
        let grow_end = old + new_len;
        if grow_end <= USER_TOP
            && !mm
                .vmas()
                .any(|(s, v)| s < grow_end && v.end > old + old_len)
        {
            mm.map(old + old_len, grow_end, prot, kind.advanced(old_len));
            return Ok(old);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return err(libc::ENOMEM);
        }
    }
    let dst = if flags & MREMAP_FIXED != 0 {
        if new_addr.checked_add(new_len).is_none_or(|e| e > USER_TOP)
            || (new_addr < old + old_len && old < new_addr + new_len)
        {
            return err(libc::EINVAL);
        }
        new_addr
    } else {
        match mm.find_free(0, new_len) {
            Some(d) => d,
            None => return err(libc::ENOMEM),
        }
    };
    let keep = old_len.min(new_len);
    mm.map(dst, dst + new_len, prot, kind);
    if mm.move_pages(old, dst, keep).is_err() {
        return err(libc::ENOMEM);
    }
    mm.unmap(old, old + old_len);
    Ok(dst)
}

/// The end of `[addr, addr + len)` in whole pages, checked as msync and mincore check it:
/// EINVAL unless `addr` is page-aligned, ENOMEM unless every page of it is mapped.
fn mapped_end(task: &Task, addr: u64, len: u64) -> Result<u64, SysError> {
    if !aligned(addr) {
        return err(libc::EINVAL);
    }
    let end = addr
        .checked_add(page_up(len))
        .filter(|e| *e <= USER_TOP)
        .ok_or(SysError::Errno(libc::ENOMEM))?;
    if !task.mm.covered(addr, end) {
        return err(libc::ENOMEM);
    }
    Ok(end)
}

/// msync(2): writes of a shared file mapping are the file's pages already; MS_SYNC also
/// flushes the files to their device, as Linux's writeback would.
pub fn msync(task: &mut Task, a: Args) -> SysResult {
    let flags = a[2] as i32;
    if flags & !(libc::MS_ASYNC | libc::MS_SYNC | libc::MS_INVALIDATE) != 0
        || (flags & libc::MS_ASYNC != 0 && flags & libc::MS_SYNC != 0)
    {
        return err(libc::EINVAL);
    }
    let (start, end) = (a[0], mapped_end(task, a[0], a[1])?);
    let files: Vec<_> = task
        .mm
        .vmas()
        .filter(|(s, v)| v.end > start && *s < end)
        .filter_map(|(_, v)| match &v.kind {
            VmaKind::File(f) if f.shared => Some(f.file.clone()),
            _ => None,
        })
        .collect();
    if flags & libc::MS_SYNC != 0 {
        for f in files {
            // SAFETY: plain host call on a file mvm holds.
            unsafe { libc::fdatasync(f.as_raw_fd()) };
        }
    }
    Ok(0)
}

/// mincore(2): a page is "resident" when the program has a frame for it (touched, or a file's
/// page shown directly); ENOMEM past the mappings, as Linux.
pub fn mincore(task: &mut Task, a: Args) -> SysResult {
    let end = mapped_end(task, a[0], a[1])?;
    let pages = ((end - a[0]) / PAGE_SIZE) as usize;
    let mut vec = Vec::with_capacity(pages);
    for i in 0..pages as u64 {
        vec.push(u8::from(task.mm.frame_of(a[0] + i * PAGE_SIZE).is_some()));
    }
    task.mm.write(a[2], &vec)?;
    Ok(0)
}
