//! Guest-physical memory: one sparse, shared memfd mapping that costs nothing until touched, and
//! the frame allocator over it.
//!
//! The memory is a memfd mapped `MAP_SHARED | MAP_NORESERVE` so that mvm can do two things to a
//! frame without the guest running: `invalidate` it (drop the host page-table entries but keep
//! the data in the memfd — KVM's MMU notifier then forgets every guest mapping of the frame, so the
//! guest walks its page tables again on the next access) and `release` it (punch it out of the
//! memfd: the memory goes back to the host and reads as zero next time).

use std::fs::File;
use std::os::fd::FromRawFd;

use vm_memory::{Bytes, FileOffset, GuestAddress, GuestMemoryMmap, GuestRegionMmap, MmapRegion};

use crate::layout::{FRAMES_START, PAGE_SIZE};

/// Errors setting up guest memory.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// Creating the memfd failed.
    #[error("cannot create guest memory: {0}")]
    Memfd(#[source] std::io::Error),
    /// Mapping the memfd failed.
    #[error("cannot map guest memory: {0}")]
    Mmap(#[source] vm_memory::mmap::MmapRegionError),
}

/// Guest-physical memory and its frames.
#[derive(Debug)]
pub struct GuestRam {
    mem: GuestMemoryMmap,
    host: *mut u8,
    size: u64,
    _memfd: File,
    next: u64,
    free: Vec<u64>,
    /// Frames holding program data (not page tables), for `--memory`.
    user_frames: u64,
    user_limit: u64,
}

// SAFETY: `host` points into the mapping owned by `mem`, which lives as long as `self`; the raw
// pointer is only a cached base address.
unsafe impl Send for GuestRam {}

/// What a frame is for: program data counts against `--memory`, page tables do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUse {
    /// A page of the program's memory.
    User,
    /// A page table.
    Table,
}

impl GuestRam {
    /// Reserves `size` bytes of guest-physical memory, of which `user_limit` bytes may hold program
    /// data at once. Nothing is touched.
    pub fn new(size: u64, user_limit: u64) -> Result<Self, MemoryError> {
        // SAFETY: memfd_create with a static NUL-terminated name; the result is checked.
        let fd = unsafe { libc::memfd_create(c"mvm-guest".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(MemoryError::Memfd(std::io::Error::last_os_error()));
        }
        // SAFETY: `fd` was just created and is owned by nobody else.
        let memfd = unsafe { File::from_raw_fd(fd) };
        memfd.set_len(size).map_err(MemoryError::Memfd)?;
        let region = MmapRegion::build(
            Some(FileOffset::new(
                memfd.try_clone().map_err(MemoryError::Memfd)?,
                0,
            )),
            size as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_NORESERVE,
        )
        .map_err(MemoryError::Mmap)?;
        let host = region.as_ptr();
        let region = GuestRegionMmap::new(region, GuestAddress(0)).expect("region fits");
        let mem = GuestMemoryMmap::from_regions(vec![region]).expect("one region");
        Ok(GuestRam {
            mem,
            host,
            size,
            _memfd: memfd,
            next: FRAMES_START,
            free: Vec::new(),
            user_frames: 0,
            user_limit: user_limit / PAGE_SIZE,
        })
    }

    /// The vm-memory view, for loaders.
    pub fn memory(&self) -> &GuestMemoryMmap {
        &self.mem
    }

    /// Host address of the start of guest-physical memory (for the KVM memory slot).
    pub fn host_base(&self) -> u64 {
        self.host as u64
    }

    /// Size of guest-physical memory.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Host pointer to `len` bytes at `phys`, if they lie inside guest memory.
    pub fn host_ptr(&self, phys: u64, len: u64) -> Option<*mut u8> {
        let end = phys.checked_add(len)?;
        // SAFETY: the offset is inside the mapping, checked just above.
        (end <= self.size).then(|| unsafe { self.host.add(phys as usize) })
    }

    /// Reads a 64-bit value (a page-table entry) at `phys`.
    pub fn read_u64(&self, phys: u64) -> u64 {
        self.mem
            .read_obj(GuestAddress(phys))
            .expect("page tables lie in guest memory")
    }

    /// Writes a 64-bit value (a page-table entry) at `phys`.
    pub fn write_u64(&self, phys: u64, v: u64) {
        self.mem
            .write_obj(v, GuestAddress(phys))
            .expect("page tables lie in guest memory")
    }

    /// Copies `data` to `phys`.
    pub fn write(&self, phys: u64, data: &[u8]) {
        self.mem
            .write_slice(data, GuestAddress(phys))
            .expect("inside guest memory")
    }

    /// Copies from `phys` into `buf`.
    pub fn read(&self, phys: u64, buf: &mut [u8]) {
        self.mem
            .read_slice(buf, GuestAddress(phys))
            .expect("inside guest memory")
    }

    /// Allocates a zeroed frame, or `None` when memory (or, for user frames, `--memory`) is
    /// exhausted.
    pub fn alloc(&mut self, use_: FrameUse) -> Option<u64> {
        if use_ == FrameUse::User {
            if self.user_frames >= self.user_limit {
                return None;
            }
            self.user_frames += 1;
        }
        if let Some(f) = self.free.pop() {
            return Some(f);
        }
        if self.next + PAGE_SIZE > self.size {
            if use_ == FrameUse::User {
                self.user_frames -= 1;
            }
            return None;
        }
        let f = self.next;
        self.next += PAGE_SIZE;
        Some(f)
    }

    /// Returns user frames to the host: their contents are dropped and every guest mapping of
    /// them is forgotten by KVM. The caller has already removed them from the page tables and
    /// stopped counting them (`uncount`). Contiguous frames go in one `madvise`.
    pub fn release(&mut self, frames: &mut Vec<u64>) {
        self.madvise_runs(frames, libc::MADV_REMOVE);
        self.free.append(frames);
    }

    /// Stops counting a user frame against `--memory` (it is on its way back to the host).
    pub fn uncount(&mut self) {
        self.user_frames -= 1;
    }

    /// Makes KVM forget every guest mapping of `frames` while keeping their contents, so that a
    /// changed page-table entry that was present is seen (shadow paging caches present entries).
    pub fn invalidate(&self, frames: &mut Vec<u64>) {
        self.madvise_runs(frames, libc::MADV_DONTNEED);
        frames.clear();
    }

    /// One past the highest guest-physical byte ever handed out.
    pub fn high_water(&self) -> u64 {
        self.next
    }

    /// Frames of program data in use.
    pub fn user_frames(&self) -> u64 {
        self.user_frames
    }

    /// Frames of program data allowed.
    pub fn user_limit(&self) -> u64 {
        self.user_limit
    }

    /// One `madvise` per run of contiguous frames (sorts `frames`).
    fn madvise_runs(&self, frames: &mut [u64], advice: libc::c_int) {
        frames.sort_unstable();
        let mut i = 0;
        while i < frames.len() {
            let start = frames[i];
            let mut end = start + PAGE_SIZE;
            i += 1;
            while i < frames.len() && frames[i] <= end {
                end = end.max(frames[i] + PAGE_SIZE);
                i += 1;
            }
            let p = self
                .host_ptr(start, end - start)
                .expect("frames inside guest memory");
            // SAFETY: `p..p+len` lies in our own shared mapping; both advices keep it valid.
            let r = unsafe { libc::madvise(p.cast(), (end - start) as usize, advice) };
            debug_assert_eq!(r, 0, "madvise on guest memory");
        }
    }
}
