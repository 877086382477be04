//! Guest-physical memory: one sparse, shared memfd mapping that costs nothing until touched, and
//! the frame allocator over it.
//!
//! The memory is a memfd mapped `MAP_SHARED | MAP_NORESERVE` so that mvm can do two things to a
//! frame without the guest running: `invalidate` it (drop the host page-table entries but keep
//! the data in the memfd — KVM's MMU notifier then forgets every guest mapping of the frame, so the
//! guest walks its page tables again on the next access) and `release` it (punch it out of the
//! memfd: the memory goes back to the host and reads as zero next time).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use vm_memory::{Bytes, FileOffset, GuestAddress, GuestMemoryMmap, GuestRegionMmap, MmapRegion};

use super::vm::{Slots, VmError, FIRST_SLOT};
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

/// Where the next `GuestRam` gets its `id`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How many times a window lost pages to a truncated file (`Window::shrink`), in any VM of the
/// process: each address space forgets such pages before its program runs again.
static SHRINKS: AtomicU64 = AtomicU64::new(0);

/// See `SHRINKS`.
pub fn window_shrinks() -> u64 {
    SHRINKS.load(Ordering::Acquire)
}

/// An access to guest-physical memory that has no memory behind it: outside the pool and every
/// window, or in a window's pages past the end of its file (a file truncated under its mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoMemory;

/// Guest-physical memory and its frames.
#[derive(Debug)]
pub struct GuestRam {
    /// The VM's memory slots (none until a VM `attach`es; unit tests run without). Declared
    /// first so that the VM's last handle closes before the memory is unmapped.
    slots: Option<Slots>,
    /// Guest-physical memory below this is registered in `slots`.
    registered: u64,
    mem: GuestMemoryMmap,
    host: *mut u8,
    size: u64,
    _memfd: File,
    next: u64,
    free: Vec<u64>,
    /// Frames holding program data (not page tables) here.
    user_frames: u64,
    /// `--memory`, shared by every program of the run (a forked program's memory is another
    /// copy and counts again).
    budget: Arc<Budget>,
    /// Files shown to the guest as guest-physical windows, in address order. The places are
    /// this VM's: a forked program's memory starts with the same windows at the same places,
    /// and from then on each finds places for its new windows on its own.
    windows: Vec<Arc<Window>>,
    /// Tells this memory from every other one of the process (a forked program's copy too), so
    /// that a window's place learned here is never used in another VM.
    id: u64,
}

/// A file mapped into guest-physical memory above the frame pool: the guest's read-only pages
/// of executables and libraries are the host's page-cache pages themselves, shared by every VM
/// (and every native process) that uses the file, and never copied. A writable window is the
/// file mapped shared (`MAP_SHARED` with write access, and shared anonymous memory): writes go
/// to the file's pages, seen by every program of the run that maps it (a forked program's
/// memory shows the same windows) and by the host.
#[derive(Debug)]
pub struct Window {
    /// Guest-physical start.
    pub gpa: u64,
    /// Length (whole pages of the file).
    pub len: u64,
    host: *mut u8,
    key: (u64, u64, i64, i64, u64),
    /// Mapped shared and writable (its KVM slot is writable too).
    pub writable: bool,
    /// The file, to see how long it is now.
    file: Arc<File>,
    /// How much of the window the file still backs. A file truncated under its mapping leaves
    /// host pages that raise SIGBUS when touched; once seen (`GuestRam::shrink_windows`, or
    /// mvm's own SIGBUS handler) they are replaced by zero pages and this shrinks: the guest's
    /// accesses there get SIGBUS from mvm, as Linux gives them, and nothing touches the file's
    /// pages past this again.
    valid: AtomicU64,
}

impl Window {
    /// Host address of the mapping, for the KVM memory slot.
    pub fn host_addr(&self) -> u64 {
        self.host as u64
    }

    /// Bytes from the window's start that the file backs (see `valid`).
    pub fn valid(&self) -> u64 {
        self.valid.load(Ordering::Acquire)
    }

    /// The file's length now, in whole pages.
    fn file_pages_len(&self) -> u64 {
        let len = self.file.metadata().map_or(0, |m| m.len());
        len.div_ceil(PAGE_SIZE) * PAGE_SIZE
    }

    /// Sees whether the file still backs `[off, off + len)` of the window; if it was truncated
    /// below that, stops using the pages past its end (zero pages replace them on the host,
    /// which also makes KVM forget them) and says no.
    fn backs(&self, off: u64, len: u64) -> bool {
        if off + len <= self.valid() && off + len <= self.file_pages_len() {
            return true;
        }
        self.shrink();
        false
    }

    /// Stops using the pages past the file's end (see `valid`). Returns whether it shrank.
    fn shrink(&self) -> bool {
        let now = self.file_pages_len().min(self.len);
        let before = self.valid.fetch_min(now, Ordering::AcqRel);
        if now >= before {
            return false;
        }
        // SAFETY: `host + now .. host + before` lies inside this window's mapping; a private
        // anonymous mapping over it keeps the range mapped (mvm and KVM may still reach it:
        // they now read zeros and write nowhere) and runs KVM's MMU notifier.
        unsafe {
            libc::mmap(
                self.host.add(now as usize).cast(),
                (before - now) as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        SHRINKS.fetch_add(1, Ordering::AcqRel);
        true
    }
}

// SAFETY: a window is a host mapping unmapped only when its last owner drops it; `host` is its
// base address. A read-only one is immutable memory; a writable one is shared memory that the
// guests and mvm reach only as guest memory is reached (byte copies and atomics, never Rust
// references), as the program would natively. Sharing it between VMs (a forked program's
// memory shows the same windows) or threads is therefore sound.
unsafe impl Send for Window {}
// SAFETY: as above.
unsafe impl Sync for Window {}

impl Drop for Window {
    fn drop(&mut self) {
        // SAFETY: `host..host+len` is the mapping this window created and nobody else unmaps.
        unsafe { libc::munmap(self.host.cast(), self.len as usize) };
    }
}

/// Where windows start: above the frame pool, 1 GiB aligned.
fn windows_base(size: u64) -> u64 {
    (size + (1 << 30) - 1) & !((1 << 30) - 1)
}

// SAFETY: `host` points into the mapping owned by `mem`, which lives as long as `self`; the raw
// pointer is only a cached base address.
unsafe impl Send for GuestRam {}

impl Drop for GuestRam {
    fn drop(&mut self) {
        // This program's memory goes back to the host with it: the run may use it again.
        self.budget.give(self.user_frames);
    }
}

/// The run's `--memory`, in frames, and how many its programs hold.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    used: std::sync::atomic::AtomicU64,
}

impl Budget {
    /// Takes `n` frames; false (taking nothing) if the run would exceed its limit.
    pub fn take(&self, n: u64) -> bool {
        use std::sync::atomic::Ordering;
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            if cur + n > self.limit {
                return false;
            }
            match self
                .used
                .compare_exchange_weak(cur, cur + n, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// Gives back `n` frames taken.
    pub fn give(&self, n: u64) {
        self.used.fetch_sub(n, std::sync::atomic::Ordering::AcqRel);
    }
}

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
        let budget = Budget {
            limit: user_limit / PAGE_SIZE,
            used: Default::default(),
        };
        Self::with_budget(size, Arc::new(budget))
    }

    /// Fresh memory of `size` bytes drawing program data frames from `budget`.
    fn with_budget(size: u64, budget: Arc<Budget>) -> Result<Self, MemoryError> {
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
            slots: None,
            registered: 0,
            mem,
            host,
            size,
            _memfd: memfd,
            next: FRAMES_START,
            free: Vec::new(),
            user_frames: 0,
            budget,
            windows: Vec::new(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Tells this memory from every other one (see `id`).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// A copy for a forked program: a new memfd holding the same data at the same
    /// guest-physical addresses (only the parts that hold data are copied: holes stay holes),
    /// its frames counted again in the run's budget, and the same file windows (read-only ones
    /// are immutable; writable ones are the memory the two programs share).
    pub fn fork(&self) -> Result<GuestRam, MemoryError> {
        let mut child = GuestRam::with_budget(self.size, self.budget.clone())?;
        if !self.budget.take(self.user_frames) {
            return Err(MemoryError::Memfd(std::io::Error::from_raw_os_error(
                libc::ENOMEM,
            )));
        }
        child.user_frames = self.user_frames;
        let fd = self._memfd.as_raw_fd();
        let mut at: i64 = 0;
        let end = self.next as i64;
        while at < end {
            // SAFETY: plain lseek on our own memfd.
            let data = unsafe { libc::lseek(fd, at, libc::SEEK_DATA) };
            if data < 0 || data >= end {
                break;
            }
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
            let stop = if hole < 0 { end } else { hole.min(end) };
            // SAFETY: both ranges lie inside the two mappings (`stop <= next <= size`), which
            // do not overlap; the guest is stopped while mvm forks it.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.host.add(data as usize),
                    child.host.add(data as usize),
                    (stop - data) as usize,
                )
            };
            at = stop;
        }
        child.next = self.next;
        child.free = self.free.clone();
        child.windows = self.windows.clone();
        Ok(child)
    }

    /// Gives this memory a VM: registers what is handed out so far (at least the first slot)
    /// and every file window; from now on memory is registered before it is handed out.
    pub fn attach(&mut self, slots: Slots) -> Result<(), VmError> {
        self.slots = Some(slots);
        self.registered = 0;
        self.cover(self.next.max(FIRST_SLOT.min(self.size)))?;
        for i in 0..self.windows.len() {
            self.register_window(i)?;
        }
        Ok(())
    }

    /// Registers guest memory up to at least `end`, in slots that double what is registered.
    fn cover(&mut self, end: u64) -> Result<(), VmError> {
        let Some(slots) = self.slots.as_mut() else {
            return Ok(());
        };
        while self.registered < end {
            let to = (self.registered * 2).max(FIRST_SLOT).min(self.size);
            let from = self.registered;
            slots.add(from, to - from, self.host as u64 + from, false)?;
            self.registered = to;
        }
        Ok(())
    }

    fn register_window(&mut self, i: usize) -> Result<(), VmError> {
        let (Some(slots), Some(w)) = (self.slots.as_mut(), self.windows.get(i)) else {
            return Ok(());
        };
        slots.add(w.gpa, w.len, w.host_addr(), !w.writable)
    }

    /// Makes KVM drop every shadow page table (`Slots::flush`; no vCPU may run meanwhile).
    pub fn flush_shadow(&self) -> Result<(), VmError> {
        self.slots.as_ref().map_or(Ok(()), Slots::flush)
    }

    /// A read-only view of this memory that outlives it (a forked program's, for `vfork`'s
    /// parent to look at after the child is gone).
    pub fn snapshot_handle(&self) -> std::io::Result<File> {
        self._memfd.try_clone()
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
        if end <= self.size {
            // SAFETY: the offset is inside the mapping, checked just above.
            return Some(unsafe { self.host.add(phys as usize) });
        }
        let w = self.window_at(phys)?;
        // SAFETY: the offset is inside the window's mapping, checked by the filter.
        (end <= w.gpa + w.len).then(|| unsafe { w.host.add((phys - w.gpa) as usize) })
    }

    /// Host pointer to `len` bytes at `phys` that mvm may touch now: in the pool, or in a
    /// window whose file still backs them (checked against the file's length now, so that a
    /// truncated file gives `NoMemory` here rather than SIGBUS to mvm; a truncation racing with
    /// the access itself is caught by `catch_window_sigbus`).
    pub fn checked_ptr(&self, phys: u64, len: u64) -> Result<*mut u8, NoMemory> {
        let end = phys.checked_add(len).ok_or(NoMemory)?;
        if end <= self.size {
            // SAFETY: the offset is inside the mapping, checked just above.
            return Ok(unsafe { self.host.add(phys as usize) });
        }
        let w = self.window_at(phys).ok_or(NoMemory)?;
        if end > w.gpa + w.len || !w.backs(phys - w.gpa, len) {
            return Err(NoMemory);
        }
        // SAFETY: inside the window's mapping, checked above.
        Ok(unsafe { w.host.add((phys - w.gpa) as usize) })
    }

    /// The window at `gpa` (its start), if this memory has one there.
    pub fn window_starting_at(&self, gpa: u64) -> Option<&Window> {
        self.window_at(gpa).filter(|w| w.gpa == gpa)
    }

    /// Shrinks every window whose file was truncated (see `Window::valid`): KVM_RUN fails with
    /// EFAULT when the guest touches such a page. Returns whether one shrank.
    pub fn shrink_windows(&self) -> bool {
        self.windows.iter().fold(false, |any, w| w.shrink() | any)
    }

    /// Whether `frame` belongs to the pool (rather than to a file window).
    pub fn is_pool(&self, frame: u64) -> bool {
        frame < self.size
    }

    fn window_at(&self, phys: u64) -> Option<&Window> {
        let i = self.windows.partition_point(|w| w.gpa + w.len <= phys);
        self.windows.get(i).map(|w| &**w).filter(|w| w.gpa <= phys)
    }

    /// The windows, for registering them with KVM.
    pub fn windows(&self) -> &[Arc<Window>] {
        &self.windows
    }

    /// The guest-physical ranges of windows that lost their file's pages (`Window::valid`).
    pub fn dead_window_ranges(&self) -> Vec<(u64, u64)> {
        self.windows
            .iter()
            .filter(|w| w.valid() < w.len)
            .map(|w| (w.gpa + w.valid(), w.gpa + w.len))
            .collect()
    }

    /// The guest-physical window showing `file` (created on first use, then shared by every
    /// mapping of the same unchanged file). `None` if the file cannot be mapped.
    pub fn window_for(&mut self, file: &Arc<File>) -> Option<&Window> {
        self.window(file, false)
    }

    /// The writable window showing `file` shared (created on first use, then shared by every
    /// shared mapping of the file while it is no longer). `None` if the file cannot be mapped
    /// (or is empty).
    pub fn shared_window_for(&mut self, file: &Arc<File>) -> Option<&Window> {
        self.window(file, true)
    }

    fn window(&mut self, file: &Arc<File>, writable: bool) -> Option<&Window> {
        use std::os::unix::fs::MetadataExt;
        let md = file.metadata().ok()?;
        if !md.is_file() || md.len() == 0 {
            return None;
        }
        let len = md.len().div_ceil(PAGE_SIZE) * PAGE_SIZE;
        // A shared window stays the file's while the file changes: it is found by inode.
        let key = if writable {
            (md.dev(), md.ino(), 0, 0, 0)
        } else {
            (md.dev(), md.ino(), md.mtime(), md.mtime_nsec(), md.len())
        };
        if let Some(i) = self
            .windows
            .iter()
            .rposition(|w| w.key == key && w.writable == writable && w.valid() >= len)
        {
            return self.windows.get(i).map(|w| &**w);
        }
        let gpa = self.windows.last().map_or(windows_base(self.size), |w| {
            (w.gpa + w.len + (2 << 20) - 1) & !((2 << 20) - 1)
        });
        if gpa + len > 1 << 39 {
            return None;
        }
        let (prot, flags) = if writable {
            (libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED)
        } else {
            (libc::PROT_READ, libc::MAP_PRIVATE)
        };
        // SAFETY: a fresh mapping of an open regular file; checked below.
        let host = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len as usize,
                prot,
                flags,
                std::os::fd::AsRawFd::as_raw_fd(file),
                0,
            )
        };
        if host == libc::MAP_FAILED {
            return None;
        }
        // The window holds the mappings' own file (no descriptor of its own).
        let file = file.clone();
        self.windows.push(Arc::new(Window {
            gpa,
            len,
            host: host.cast(),
            key,
            writable,
            file,
            valid: AtomicU64::new(len),
        }));
        if self.register_window(self.windows.len() - 1).is_err() {
            self.windows.pop();
            return None;
        }
        self.windows.last().map(|w| &**w)
    }

    /// Whether the guest may write `frame`: a frame of the pool, or of a writable window.
    pub fn writable(&self, frame: u64) -> bool {
        self.is_pool(frame) || self.window_at(frame).is_some_and(|w| w.writable)
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

    /// Copies `data` to `phys`: the pool, or a writable window's pages the file backs.
    pub fn write(&self, phys: u64, data: &[u8]) -> Result<(), NoMemory> {
        if phys >= self.size && !self.window_at(phys).is_some_and(|w| w.writable) {
            return Err(NoMemory);
        }
        let p = self.checked_ptr(phys, data.len() as u64)?;
        // SAFETY: `p..p+len` is inside the pool or a writable window's shared mapping (checked
        // above); other programs may write the same shared bytes meanwhile, which a byte copy
        // tolerates, as the same race between programs does natively.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    /// Copies from `phys` into `buf`: the pool, or a window's pages the file backs.
    pub fn read(&self, phys: u64, buf: &mut [u8]) -> Result<(), NoMemory> {
        let p = self.checked_ptr(phys, buf.len() as u64)?;
        // SAFETY: `p..p+len` is inside the pool or a window's mapping (checked above); the file
        // or another program may change the bytes underneath, which a byte copy tolerates.
        unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies a page-sized or smaller piece of the pool (page tables, the kernel's own pages):
    /// these always lie in the pool, which has a fixed size.
    pub fn read_pool(&self, phys: u64, buf: &mut [u8]) {
        self.mem
            .read_slice(buf, GuestAddress(phys))
            .expect("inside the pool")
    }

    /// The pool counterpart of `read_pool` for writes.
    pub fn write_pool(&self, phys: u64, data: &[u8]) {
        self.mem
            .write_slice(data, GuestAddress(phys))
            .expect("inside the pool")
    }

    /// Allocates a zeroed frame, or `None` when memory (or, for user frames, `--memory`) is
    /// exhausted.
    pub fn alloc(&mut self, use_: FrameUse) -> Option<u64> {
        if use_ == FrameUse::User {
            if !self.budget.take(1) {
                return None;
            }
            self.user_frames += 1;
        }
        if let Some(f) = self.free.pop() {
            return Some(f);
        }
        if self.next + PAGE_SIZE > self.size || self.cover(self.next + PAGE_SIZE).is_err() {
            if use_ == FrameUse::User {
                self.user_frames -= 1;
                self.budget.give(1);
            }
            return None;
        }
        let f = self.next;
        self.next += PAGE_SIZE;
        Some(f)
    }

    /// Allocates a zeroed, 2 MiB-aligned run of 512 user frames for a large page, or `None` when
    /// `--memory` or guest memory would be exceeded. (Its frames are later freed one by one.)
    pub fn alloc_large(&mut self) -> Option<u64> {
        const LARGE: u64 = 2 << 20;
        let start = (self.next + LARGE - 1) & !(LARGE - 1);
        if start + LARGE > self.size || !self.budget.take(512) {
            return None;
        }
        if self.cover(start + LARGE).is_err() {
            self.budget.give(512);
            return None;
        }
        // The gap below an aligned run is not wasted: its frames go on the free list.
        let mut f = self.next;
        while f < start {
            self.free.push(f);
            f += PAGE_SIZE;
        }
        self.next = start + LARGE;
        self.user_frames += 512;
        Some(start)
    }

    /// Zeroes frames that stay mapped (`MADV_DONTNEED` on part of a large page): their memory
    /// goes back to the host and KVM forgets their mappings; they read as zero next time.
    pub fn zero(&self, frames: &mut Vec<u64>) {
        self.madvise_runs(frames, libc::MADV_REMOVE);
        frames.clear();
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
        self.budget.give(1);
    }

    /// Makes KVM forget every guest mapping of `frames` while keeping their contents, so that a
    /// changed page-table entry that was present is seen: `MADV_DONTNEED` on the shared memfd
    /// mapping runs KVM's MMU notifier, which drops the shadow entries (shadow paging) or the
    /// nested entries (NPT/EPT) of these frames and flushes every vCPU's TLB (see `mm`).
    pub fn invalidate(&self, frames: &mut Vec<u64>) {
        self.madvise_runs(frames, libc::MADV_DONTNEED);
        frames.clear();
    }

    /// One past the highest guest-physical byte ever handed out.
    pub fn high_water(&self) -> u64 {
        self.next
    }

    /// Frames of program data in use here.
    pub fn user_frames(&self) -> u64 {
        self.user_frames
    }

    /// Frames of program data the run allows (`--memory`), shared by its programs.
    pub fn user_limit(&self) -> u64 {
        self.budget.limit
    }

    /// The run's `--memory` budget, for memory the run holds outside any program's frames
    /// (System V shared memory segments).
    pub fn budget(&self) -> Arc<Budget> {
        self.budget.clone()
    }

    /// Frames of program data the run's programs hold together.
    pub fn run_frames(&self) -> u64 {
        self.budget.used.load(std::sync::atomic::Ordering::Acquire)
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

/// Makes a host SIGBUS in one of mvm's threads harmless when it comes from a window: a file
/// truncated under a mapping raises SIGBUS (BUS_ADRERR) on the pages past its new end, and mvm
/// touches windows on the program's behalf (copies, futex words). `GuestRam::checked_ptr`
/// refuses such pages beforehand; this catches a truncation that races with the access itself.
/// The handler puts a zero page over the page that faulted and returns, so the access completes
/// on it; the window is shrunk (`Window::shrink`) the next time mvm checks it. mvm's only
/// file-backed mappings that can lose their file's pages are windows (guest memory is a memfd
/// of a fixed size; its own executable cannot be truncated while it runs), so every other
/// SIGBUS is left to kill mvm, as before.
pub fn catch_window_sigbus() {
    extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
        let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
        const BUS_ADRERR: libc::c_int = 2;
        let page = addr & !(PAGE_SIZE as usize - 1);
        if code == BUS_ADRERR && page != 0 {
            // SAFETY: replaces one page that is mapped (it just faulted) with a zero page;
            // mmap is async-signal-safe.
            let p = unsafe {
                libc::mmap(
                    page as *mut libc::c_void,
                    PAGE_SIZE as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                return;
            }
        }
        // Not a window's page: die of it as without this handler.
        // SAFETY: resetting the disposition; the fault repeats on return and kills the process.
        unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
    }
    // SAFETY: installing a handler that only calls async-signal-safe functions.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigbus as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
    }
}
