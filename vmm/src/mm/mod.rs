//! The program's address space: the page tables mvm builds and keeps in guest memory, the list of
//! mappings (VMAs) Linux would have, demand paging, and the one checked way to reach guest
//! memory from a virtual address (`uaccess`).
//!
//! How page-table changes reach the guest, on every kind of KVM mvm runs on. mvm writes the
//! tables from the host, so nothing KVM write-protects sees the writes; what may still hold an
//! old entry is, under KVM's shadow MMU (PVM, and SVM/VMX with `npt=0`/`ept=0`), KVM's shadow
//! page tables, and with nested paging (SVM NPT, VMX EPT) the guest CPU's own TLB and
//! paging-structure caches, which it fills by walking these tables itself.
//! - Not present → present, or more permissions: written directly. No cache holds a not-present
//!   entry: a shadow entry for it is not present either, so the guest's next access faults into
//!   KVM, which walks the tables again; x86 CPUs cache no translation with a not-present entry
//!   on its path, and a page fault drops the faulting address's translation, so a narrower one
//!   that was cached is gone once the fault it caused is served (`fault` answers such a
//!   spurious fault by retrying it).
//! - Anything that takes away a present mapping (unmap, fewer permissions, another frame): written
//!   directly, then the old frame is queued (`set_pte`, `free_pte`: the one place the rule is
//!   kept) and `settle`, before this thread's vCPU runs again, unmaps it from mvm's own mapping
//!   (`GuestRam::invalidate`, which keeps its contents, or `release`). That calls KVM's MMU
//!   notifier for the frame whether mvm's mapping had it or not; KVM drops every mapping it has
//!   of that frame (the shadow entries that map it; the nested entry of its guest-physical page)
//!   and, having dropped a present one, flushes every vCPU's TLB and waits for them
//!   (on SVM a flush of the VM's ASID, on VMX an INVEPT, both of which drop the guest's linear
//!   translations with the nested ones). A vCPU can hold a translation to the frame only if the
//!   nested entry was there since the last such flush, so none is left when `settle` returns:
//!   the syscall that changed the mapping returns after every thread lost the old one, as
//!   Linux's TLB shootdown does. Other threads may use the old mapping until then, as on Linux.
//! - A 2 MiB page split into a table, or a page-directory slot reused after holding one: all of
//!   KVM's mappings are dropped by re-registering the memory slots, with every vCPU stopped
//!   (`take_flush`, `Vm::flush`; see `LARGE`). The shadow MMU needs that; with nested paging a
//!   TLB flush would do (the frames stay), and the re-registration gives one.
//! - Every entry mvm writes has Accessed and Dirty set, so the CPU never writes a page-table
//!   entry itself: no hardware A/D update races a host rewrite of the same entry.
//! - Page-table frames are never freed or reused while the VM lives, upper entries never change
//!   once present, CR3 is set once at boot (`execve` empties the same tables) and no entry is
//!   global, so no stale upper-level entry can be reached again.
//! - A forked program runs in a new VM on a copy of the memory: nothing is cached there yet.

pub mod uaccess;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::layout::{MMAP_BASE, MMAP_MIN, PAGE_SIZE, USER_TOP};
use crate::vstate::memory::{FrameUse, GuestRam};

pub use uaccess::Fault;

/// Page-table entry bits.
pub mod pte {
    /// Present.
    pub const P: u64 = 1 << 0;
    /// Writable.
    pub const RW: u64 = 1 << 1;
    /// User-accessible.
    pub const US: u64 = 1 << 2;
    /// Accessed (pre-set, so KVM need not write it).
    pub const A: u64 = 1 << 5;
    /// Dirty (pre-set, likewise).
    pub const D: u64 = 1 << 6;
    /// A 2 MiB or 1 GiB page (in a PDE or PDPTE).
    pub const PS: u64 = 1 << 7;
    /// Software bit: the entry holds a frame the program may not access now (`PROT_NONE`).
    pub const KEEP: u64 = 1 << 9;
    /// No execute.
    pub const NX: u64 = 1 << 63;
    /// The frame address.
    pub const ADDR: u64 = 0x000f_ffff_ffff_f000;
}

/// Protection bits, as `PROT_READ | PROT_WRITE | PROT_EXEC`.
pub type Prot = u32;
/// `PROT_READ`.
pub const PROT_READ: Prot = 1;
/// `PROT_WRITE`.
pub const PROT_WRITE: Prot = 2;
/// `PROT_EXEC`.
pub const PROT_EXEC: Prot = 4;

/// A file a mapping reads its pages from, lazily, page by page as they are first touched: a
/// private copy (`MAP_PRIVATE`) or, for `shared`, the file's own pages in a writable window.
#[derive(Debug, Clone)]
pub struct FileMap {
    /// The open file.
    pub file: Arc<File>,
    /// Its path as the program knows it (for `/proc/self/maps`).
    pub name: Arc<[u8]>,
    /// File offset of the mapping's first byte.
    pub offset: u64,
    /// File offset from which the mapping reads zeros (an ELF segment's `p_offset + p_filesz`).
    pub limit: u64,
    /// The file's window, found once per open file and VM and shared by every mapping made
    /// from it: looking it up costs an `fstat`.
    pub window: WindowCache,
    /// `MAP_SHARED` of a file opened for writing (or shared anonymous memory): writes reach the
    /// file, and every program mapping it sees them.
    pub shared: bool,
    /// The System V shared memory segment this mapping attaches (`shmat`): each mapping holds
    /// one clone, so the segment's attachment count follows mappings as they are split, forked
    /// and unmapped, as Linux's `shm_nattch` follows its VMAs.
    pub shm: Option<Arc<crate::sys::ipc::Attach>>,
}

/// See `FileMap::window`: the `GuestRam::id` of the memory where the window was found, and its
/// guest-physical start there.
pub type WindowCache = Arc<std::sync::Mutex<Option<(u64, u64)>>>;

/// What a mapping holds.
#[derive(Debug, Clone)]
pub enum VmaKind {
    /// Anonymous memory.
    Anon,
    /// The program's heap (`brk`).
    Heap,
    /// The main thread's stack.
    Stack,
    /// Pages of a file.
    File(FileMap),
}

impl VmaKind {
    /// Whether a mapping of this kind may be merged with a neighbour of `other` kind (files are
    /// never merged: their offsets would have to line up).
    fn merges_with(&self, other: &VmaKind) -> bool {
        matches!(
            (self, other),
            (VmaKind::Anon, VmaKind::Anon)
                | (VmaKind::Heap, VmaKind::Heap)
                | (VmaKind::Stack, VmaKind::Stack)
        )
    }

    /// This kind as seen from `delta` bytes into the mapping (a file mapping's offset moves).
    pub fn advanced(&self, delta: u64) -> VmaKind {
        match self {
            VmaKind::File(f) => VmaKind::File(FileMap {
                offset: f.offset + delta,
                ..f.clone()
            }),
            k => k.clone(),
        }
    }
}

/// One mapping: `[start, end)` with one protection.
#[derive(Debug, Clone)]
pub struct Vma {
    /// One past the last byte.
    pub end: u64,
    /// `PROT_*` bits.
    pub prot: Prot,
    /// What it holds.
    pub kind: VmaKind,
    /// `MADV_WIPEONFORK`: a forked program gets zeros here instead of a copy.
    pub wipe_on_fork: bool,
}

/// How many pages a fault on anonymous memory fills at once (aligned, inside the mapping): each
/// fault costs a VM exit, so a little memory is traded for fewer exits, as Linux's fault-around.
const FAULT_AROUND_PAGES: u64 = 16;

/// The same for file mappings (executables, libraries): their pages are read from the host's
/// page cache, and programs touch their code in scattered places, so a larger block pays.
const FILE_FAULT_AROUND_PAGES: u64 = 64;

/// A program's address space.
#[derive(Debug)]
pub struct AddressSpace {
    /// Guest-physical memory.
    pub ram: GuestRam,
    pml4: u64,
    vmas: BTreeMap<u64, Vma>,
    /// Start of the heap.
    pub brk_start: u64,
    /// Current program break.
    pub brk: u64,
    /// Frames whose present mappings changed: KVM must forget them before the guest runs.
    stale: Vec<u64>,
    /// Frames unmapped: they go back to the host before the guest runs.
    freed: Vec<u64>,
    /// Frames of large pages zeroed in place (`MADV_DONTNEED` on part of one).
    zeroed: Vec<u64>,
    /// Page-directory entries that have held a 2 MiB page since KVM last dropped all its shadow
    /// page tables (see `LARGE`).
    tainted: std::collections::HashSet<u64>,
    /// Whether KVM must drop all its shadow page tables before the guest runs again.
    flush: bool,
    /// How many times that was asked for.
    flushes: u32,
    /// `window_shrinks()` when this address space last forgot dead window pages.
    shrinks_seen: u64,
}

/// A 2 MiB page. mvm maps anonymous read-write memory with them where a whole aligned block lies
/// in one mapping: under shadow paging, touching memory behind one costs ~3 µs a 4 KiB page
/// instead of ~20 µs (plus a fault exit per 16 pages). The catch, measured on this host's KVM: a
/// guest large page is shadowed by a "direct" shadow page keyed by its first frame, linked from
/// the shadow of the page directory, and nothing mvm can do from the host unlinks it short of
/// dropping every shadow page table (re-registering the memory slots). So a page-directory entry
/// that ever held a large page is "tainted": changing it (splitting it for a partial `munmap` or
/// `mprotect`, or reusing the slot after an unmap) asks for that full flush before the guest
/// runs again. `MADV_DONTNEED` on a large page zeroes its frames in place instead. A program
/// that needs more than `MAX_FLUSHES` flushes gets 4 KiB pages from then on.
pub const LARGE: u64 = 2 << 20;

/// See `LARGE`.
const MAX_FLUSHES: u32 = 2;

/// The frame address in a 2 MiB page-directory entry.
const LARGE_ADDR: u64 = 0x000f_ffff_ffe0_0000;

/// What `for_each_frame` does with a large page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnLarge {
    /// Split it into 4 KiB entries first.
    Split,
    /// Hand a wholly covered one to the callback as one entry (with `PS`); split others.
    Whole,
    /// Zero the covered part of it in place; the callback does not see it.
    Zero,
}

/// Rounds up to a page.
pub fn page_up(x: u64) -> u64 {
    x.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// Rounds down to a page.
pub fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

fn leaf_bits(prot: Prot) -> u64 {
    if prot & (PROT_READ | PROT_WRITE | PROT_EXEC) == 0 {
        return 0;
    }
    let mut b = pte::P | pte::US | pte::A | pte::D;
    if prot & PROT_WRITE != 0 {
        b |= pte::RW;
    }
    if prot & PROT_EXEC == 0 {
        b |= pte::NX;
    }
    b
}

/// Whether going from entry `old` to `new` takes away something the guest may have cached.
fn narrows(old: u64, new: u64) -> bool {
    if old & pte::P == 0 {
        return false;
    }
    new & pte::P == 0
        || (old & pte::ADDR) != (new & pte::ADDR)
        || (old & pte::RW != 0 && new & pte::RW == 0)
        || (old & pte::NX == 0 && new & pte::NX != 0)
}

impl AddressSpace {
    /// An empty address space over `ram`, with its top-level table allocated.
    pub fn new(mut ram: GuestRam) -> Option<Self> {
        let pml4 = ram.alloc(FrameUse::Table)?;
        Some(AddressSpace {
            ram,
            pml4,
            vmas: BTreeMap::new(),
            brk_start: 0,
            brk: 0,
            stale: Vec::new(),
            freed: Vec::new(),
            zeroed: Vec::new(),
            tainted: Default::default(),
            flush: false,
            flushes: 0,
            shrinks_seen: crate::vstate::memory::window_shrinks(),
        })
    }

    /// A copy for a forked program: the same mappings and page tables in a copy of guest memory
    /// (same guest-physical addresses, so the tables stay valid as they are). Pending frame
    /// releases are settled first; the copy's KVM starts with no shadow state to flush.
    pub fn fork(&mut self) -> Result<AddressSpace, crate::vstate::memory::MemoryError> {
        self.settle();
        let mut child = AddressSpace {
            ram: self.ram.fork()?,
            pml4: self.pml4,
            vmas: self.vmas.clone(),
            brk_start: self.brk_start,
            brk: self.brk,
            stale: Vec::new(),
            freed: Vec::new(),
            zeroed: Vec::new(),
            tainted: self.tainted.clone(),
            flush: false,
            flushes: self.flushes,
            shrinks_seen: self.shrinks_seen,
        };
        let wiped: Vec<(u64, u64)> = child
            .vmas
            .iter()
            .filter(|(_, v)| v.wipe_on_fork)
            .map(|(s, v)| (*s, v.end))
            .collect();
        for (start, end) in wiped {
            child.discard(start, end);
        }
        child.settle();
        Ok(child)
    }

    /// Guest-physical address of the top-level page table (CR3).
    pub fn cr3(&self) -> u64 {
        self.pml4
    }

    /// The physical address of the page-directory entry for `va`, creating the tables above it
    /// if `create`. `Err(())` when a table cannot be allocated.
    fn pd_slot(&mut self, va: u64, create: bool) -> Result<Option<u64>, ()> {
        let mut table = self.pml4;
        for shift in [39u32, 30] {
            let slot = table + ((va >> shift) & 511) * 8;
            let e = self.ram.read_u64(slot);
            if e & pte::P != 0 {
                table = e & pte::ADDR;
                continue;
            }
            if !create {
                return Ok(None);
            }
            let t = self.ram.alloc(FrameUse::Table).ok_or(())?;
            self.ram
                .write_u64(slot, t | pte::P | pte::RW | pte::US | pte::A);
            table = t;
        }
        Ok(Some(table + ((va >> 21) & 511) * 8))
    }

    /// The physical address of the entry for `va` at the last level, creating tables if `create`
    /// (and splitting a large page in the way). `Ok(None)` without `create` when there is no
    /// such entry (nothing mapped, or a large page). `Err(())` when a table cannot be allocated.
    fn pte_addr(&mut self, va: u64, create: bool) -> Result<Option<u64>, ()> {
        let Some(pd) = self.pd_slot(va, create)? else {
            return Ok(None);
        };
        let mut e = self.ram.read_u64(pd);
        if e & pte::P != 0 && e & pte::PS != 0 {
            if !create {
                return Ok(None);
            }
            self.split_large(pd)?;
            e = self.ram.read_u64(pd);
        }
        if e & pte::P == 0 {
            if !create {
                return Ok(None);
            }
            if self.tainted.contains(&pd) {
                self.flush = true;
            }
            let t = self.ram.alloc(FrameUse::Table).ok_or(())?;
            e = t | pte::P | pte::RW | pte::US | pte::A;
            self.ram.write_u64(pd, e);
        }
        Ok(Some((e & pte::ADDR) + ((va >> 12) & 511) * 8))
    }

    /// The large page mapping `va`, if any: (page-directory entry slot, entry).
    fn large_at(&mut self, va: u64) -> Option<(u64, u64)> {
        let pd = self.pd_slot(va, false).ok()??;
        let e = self.ram.read_u64(pd);
        (e & pte::P != 0 && e & pte::PS != 0).then_some((pd, e))
    }

    /// Replaces the large page at page-directory slot `pd` by a table of 512 entries for the
    /// same frames and permissions, and asks for the full flush (see `LARGE`).
    fn split_large(&mut self, pd: u64) -> Result<(), ()> {
        let e = self.ram.read_u64(pd);
        let t = self.ram.alloc(FrameUse::Table).ok_or(())?;
        let bits = e & (pte::P | pte::RW | pte::US | pte::A | pte::D | pte::NX);
        for i in 0..512 {
            self.ram
                .write_u64(t + 8 * i, ((e & LARGE_ADDR) + i * PAGE_SIZE) | bits);
        }
        self.ram
            .write_u64(pd, t | pte::P | pte::RW | pte::US | pte::A);
        self.flush = true;
        Ok(())
    }

    /// Maps the whole aligned 2 MiB block around `va` with a large page if it fits: anonymous
    /// read-write memory whose mapping covers the block, nothing mapped there yet, and memory
    /// left. Returns whether it did.
    fn try_large(&mut self, va: u64, start: u64, end: u64, prot: Prot, kind: &VmaKind) -> bool {
        let block = va & !(LARGE - 1);
        if self.flushes >= MAX_FLUSHES
            || !matches!(kind, VmaKind::Anon | VmaKind::Heap)
            || prot != PROT_READ | PROT_WRITE
            || block < start
            || block + LARGE > end
        {
            return false;
        }
        let Ok(Some(pd)) = self.pd_slot(va, true) else {
            return false;
        };
        if self.ram.read_u64(pd) & pte::P != 0 {
            return false;
        }
        let Some(chunk) = self.ram.alloc_large() else {
            return false;
        };
        if !self.tainted.insert(pd) {
            self.flush = true;
        }
        let e = chunk | pte::P | pte::RW | pte::US | pte::A | pte::D | pte::PS | pte::NX;
        self.ram.write_u64(pd, e);
        true
    }

    /// How many full flushes large pages have cost so far.
    pub fn flushes(&self) -> u32 {
        self.flushes
    }

    /// Whether KVM must drop all its shadow page tables before the guest runs again (and counts
    /// it); the caller does it. Clears the taints.
    pub fn take_flush(&mut self) -> bool {
        if !self.flush {
            return false;
        }
        self.flush = false;
        self.flushes += 1;
        self.tainted.clear();
        true
    }

    /// The last-level entry for `va`, creating tables as needed (`Oom` when they cannot be).
    fn slot(&mut self, va: u64) -> Result<u64, Fault> {
        Ok(self
            .pte_addr(va, true)
            .map_err(|_| Fault::Oom)?
            .expect("created"))
    }

    /// Maps a kernel page (supervisor-only unless `user`), used once at boot.
    pub fn map_kernel(&mut self, va: u64, phys: u64, writable: bool, user: bool) -> Option<()> {
        let slot = self.pte_addr(va, true).ok()??;
        let mut e = phys | pte::P | pte::A | pte::D;
        if writable {
            e |= pte::RW | pte::NX;
        }
        if user {
            e |= pte::US;
        }
        self.ram.write_u64(slot, e);
        Some(())
    }

    /// The one place a leaf entry changes: writes it and, when it takes something away, queues
    /// the old frame so that KVM forgets its mappings before the guest runs again (`settle`).
    fn set_pte(&mut self, slot: u64, new: u64) {
        let old = self.ram.read_u64(slot);
        self.ram.write_u64(slot, new);
        if narrows(old, new) {
            self.stale.push(old & pte::ADDR);
        }
    }

    /// Removes the entry at `slot`, holding frame entry `e`, and queues the frame to go back to
    /// the host (it is not reused before `settle`, so nothing new lands in it before it is wiped).
    fn free_pte(&mut self, slot: u64, e: u64) {
        self.ram.write_u64(slot, 0);
        if self.ram.is_pool(e & pte::ADDR) {
            self.ram.uncount();
            self.freed.push(e & pte::ADDR);
        } else if e & pte::P != 0 {
            // A file window's page is the host's: just make KVM forget this mapping of it.
            self.stale.push(e & pte::ADDR);
        }
    }

    /// The entry bits for `frame` mapped with `prot`: a file window's page is never writable
    /// (a write to it faults, and the fault gives the page a private copy).
    fn bits_for(&self, frame: u64, prot: Prot) -> u64 {
        let prot = if self.ram.writable(frame) {
            prot
        } else {
            prot & !PROT_WRITE
        };
        leaf_bits(prot)
            | if prot & (PROT_READ | PROT_WRITE | PROT_EXEC) == 0 {
                pte::KEEP
            } else {
                0
            }
    }

    /// The window page showing the file's page at `off`, if the whole page is the file's (a page
    /// that holds the end of an ELF segment's file data must be a copy, zeroed past it).
    /// `Fault::Bus` for a page of an `mmap`ed file past the file's end, as Linux.
    fn window_page(&mut self, f: &FileMap, off: u64) -> Result<Option<u64>, Fault> {
        if off.checked_add(PAGE_SIZE).is_none_or(|end| end > f.limit) {
            return Ok(None);
        }
        let id = self.ram.id();
        let cached = *f.window.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((known, gpa)) = cached {
            // A place learned in this VM only: another program's VM may have another window
            // there (a forked program finds places for its new windows on its own).
            if known == id {
                if let Some(w) = self.ram.window_starting_at(gpa) {
                    if off < w.valid() {
                        return Ok(Some(gpa + off));
                    }
                }
            }
        }
        // Not yet found in this VM, or the file's length changed: look again.
        let found = if f.shared {
            self.ram.shared_window_for(&f.file)
        } else {
            self.ram.window_for(&f.file)
        }
        .map(|w| (w.gpa, w.valid()));
        let mapped_file = f.limit == u64::MAX;
        match found {
            Some((gpa, valid)) => {
                *f.window.lock().unwrap_or_else(|e| e.into_inner()) = Some((id, gpa));
                if off < valid {
                    Ok(Some(gpa + off))
                } else if mapped_file {
                    Err(Fault::Bus)
                } else {
                    Ok(None)
                }
            }
            None if mapped_file && off >= f.file.metadata().map_or(0, |m| m.len()) => {
                Err(Fault::Bus)
            }
            None => Ok(None),
        }
    }

    /// Forgets every page-table entry that maps a window's pages that lost their file (a file
    /// truncated under its mapping, seen here or in another program's VM): the program's next
    /// access there faults and gets SIGBUS.
    fn forget_dead_window_pages(&mut self) {
        let gone = self.ram.dead_window_ranges();
        let files: Vec<(u64, u64)> = self
            .vmas
            .iter()
            .filter(|(_, v)| matches!(v.kind, VmaKind::File(_)))
            .map(|(s, v)| (*s, v.end))
            .collect();
        for (start, end) in files {
            self.for_each_frame(start, end, OnLarge::Split, |me, _, slot, e| {
                let frame = e & pte::ADDR;
                if gone.iter().any(|&(from, to)| (from..to).contains(&frame)) {
                    me.free_pte(slot, e);
                }
            });
        }
    }

    /// The shared-memory identity of the futex word at `uaddr`, if it lies in a shared mapping
    /// (where other programs of the run may wait on it too).
    pub fn shared_key(&self, uaddr: u64) -> Option<(u64, u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        match self.vma(uaddr) {
            Some((start, v)) if uaddr < v.end => match &v.kind {
                VmaKind::File(f) if f.shared => {
                    let md = f.file.metadata().ok()?;
                    Some((md.dev(), md.ino(), f.offset + (uaddr - start)))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Makes every page-table change so far visible to the guest and returns unmapped memory to
    /// the host. Called before the guest runs again; batched, so that a large `munmap` costs a
    /// few `madvise` calls, not one per page.
    pub fn settle(&mut self) {
        let shrinks = crate::vstate::memory::window_shrinks();
        if shrinks != self.shrinks_seen {
            self.shrinks_seen = shrinks;
            self.forget_dead_window_pages();
        }
        if !self.freed.is_empty() {
            // Releasing a frame also makes KVM forget it.
            self.freed.sort_unstable();
            let freed = &self.freed;
            self.stale.retain(|f| freed.binary_search(f).is_err());
            self.ram.release(&mut self.freed);
        }
        if !self.stale.is_empty() {
            self.ram.invalidate(&mut self.stale);
        }
        if !self.zeroed.is_empty() {
            self.ram.zero(&mut self.zeroed);
        }
    }

    /// Calls `f(va, slot, entry)` for every last-level entry that holds a frame in `[start, end)`;
    /// large pages are handled as `on_large` says.
    fn for_each_frame(
        &mut self,
        start: u64,
        end: u64,
        on_large: OnLarge,
        mut f: impl FnMut(&mut Self, u64, u64, u64),
    ) {
        let mut va = start;
        while va < end {
            // Skip whole empty tables quickly.
            let pd = match self.pd_slot(va, false) {
                Ok(Some(pd)) => pd,
                _ => {
                    // An upper table is missing: skip to the next 1 GiB or 512 GiB boundary.
                    let skip = if self.pml4_entry(va) & pte::P == 0 {
                        1u64 << 39
                    } else {
                        1u64 << 30
                    };
                    va = (va & !(skip - 1)) + skip;
                    continue;
                }
            };
            let de = self.ram.read_u64(pd);
            if de & pte::P == 0 {
                va = (va & !(LARGE - 1)) + LARGE;
                continue;
            }
            if de & pte::PS != 0 {
                let block = va & !(LARGE - 1);
                let whole = block >= start && block + LARGE <= end;
                match on_large {
                    OnLarge::Whole if whole => {
                        f(self, block, pd, de);
                        va = block + LARGE;
                        continue;
                    }
                    OnLarge::Zero => {
                        let stop = (block + LARGE).min(end);
                        let mut p = va;
                        while p < stop {
                            self.zeroed.push((de & LARGE_ADDR) + (p - block));
                            p += PAGE_SIZE;
                        }
                        va = stop;
                        continue;
                    }
                    _ => {
                        if self.split_large(pd).is_err() {
                            va = block + LARGE;
                            continue;
                        }
                    }
                }
            }
            let table = self.ram.read_u64(pd) & pte::ADDR;
            let stop = ((va & !(LARGE - 1)) + LARGE).min(end);
            while va < stop {
                let slot = table + ((va >> 12) & 511) * 8;
                let e = self.ram.read_u64(slot);
                if e & (pte::P | pte::KEEP) != 0 {
                    f(self, va, slot, e);
                }
                va += PAGE_SIZE;
            }
        }
    }

    fn pml4_entry(&self, va: u64) -> u64 {
        self.ram.read_u64(self.pml4 + ((va >> 39) & 511) * 8)
    }

    /// Gives page `va` a frame with `prot`: the one it has, or a fresh one filled as its mapping
    /// says (zeros, or the file's bytes for the page). Returns the frame.
    fn populate(&mut self, va: u64, prot: Prot) -> Result<u64, Fault> {
        self.populate_for(va, prot, true)
    }

    /// `populate`, for an access that writes (`write`) or only reads. A read of a private,
    /// writable mapping of an `mmap`ed file maps the file's own page read-only, as Linux does
    /// (the copy is made when the program first writes it): until then the page shows what
    /// the file holds, truncations and writes through other descriptors included.
    fn populate_for(&mut self, va: u64, prot: Prot, write: bool) -> Result<u64, Fault> {
        let slot = self.slot(va)?;
        let e = self.ram.read_u64(slot);
        if e & (pte::P | pte::KEEP) != 0 {
            let frame = e & pte::ADDR;
            if !self.ram.writable(frame) && prot & PROT_WRITE != 0 {
                // Copy on write: the program gets its own copy of the file's page.
                let mut page = vec![0u8; PAGE_SIZE as usize];
                self.ram.read(frame, &mut page)?;
                let copy = self.ram.alloc(FrameUse::User).ok_or(Fault::Oom)?;
                self.ram.write_pool(copy, &page);
                self.set_pte(slot, copy | self.bits_for(copy, prot));
                return Ok(copy);
            }
            self.set_pte(slot, frame | self.bits_for(frame, prot));
            return Ok(frame);
        }
        let file = match self.vma(va) {
            Some((
                start,
                Vma {
                    kind: VmaKind::File(f),
                    ..
                },
            )) => Some((f.clone(), f.offset + (va - start))),
            _ => None,
        };
        if let Some((f, off)) = &file {
            if prot & PROT_WRITE == 0 || f.shared || (!write && f.limit == u64::MAX) {
                if let Some(gpa) = self.window_page(f, *off)? {
                    self.set_pte(slot, gpa | self.bits_for(gpa, prot));
                    return Ok(gpa);
                }
            }
        }
        let frame = self.ram.alloc(FrameUse::User).ok_or(Fault::Oom)?;
        if let Some((f, off)) = &file {
            if self.fill_from_file(frame, f, *off, PAGE_SIZE) == 0
                && f.limit == u64::MAX
                && *off >= f.file.metadata().map_or(0, |m| m.len())
            {
                // A private copy of a page past the file's end: SIGBUS, as Linux.
                self.ram.uncount();
                self.freed.push(frame);
                return Err(Fault::Bus);
            }
        }
        self.set_pte(slot, frame | self.bits_for(frame, prot));
        Ok(frame)
    }

    /// Copies `len` bytes of the file from `off` (zeros past `limit` or the end of the file) into
    /// the contiguous fresh frames at `frame`, which are already zero. Returns how many bytes
    /// came from the file.
    fn fill_from_file(&self, frame: u64, f: &FileMap, off: u64, len: u64) -> usize {
        if off >= f.limit {
            return 0;
        }
        let n = (f.limit - off).min(len);
        let p = self.ram.host_ptr(frame, n).expect("frame in guest memory");
        // SAFETY: `p` addresses `n` bytes of a frame no one else uses yet: it is not mapped in
        // the guest until the caller writes its entry.
        let dst = unsafe { std::slice::from_raw_parts_mut(p, n as usize) };
        let mut done = 0;
        while done < dst.len() {
            match f.file.read_at(&mut dst[done..], off + done as u64) {
                Ok(0) => break,
                Ok(k) => done += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        done
    }

    /// The pages present and writable here, as (virtual page, frame of the pool).
    fn writable_pool_pages(&mut self) -> Vec<(u64, u64)> {
        let writable: Vec<(u64, u64)> = self
            .vmas
            .iter()
            .filter(|(_, v)| v.prot & PROT_WRITE != 0)
            .map(|(s, v)| (*s, v.end))
            .collect();
        let mut pages = Vec::new();
        for (start, end) in writable {
            self.for_each_frame(start, end, OnLarge::Whole, |me, va, _, e| {
                if e & pte::PS != 0 {
                    for i in 0..512 {
                        pages.push((va + i * PAGE_SIZE, (e & LARGE_ADDR) + i * PAGE_SIZE));
                    }
                } else if e & pte::P != 0 && me.ram.is_pool(e & pte::ADDR) {
                    pages.push((va, e & pte::ADDR));
                }
            });
        }
        pages
    }

    /// What a `vfork` child's memory holds as it starts: a digest of each of its pages that is
    /// present and writable here, read from the child's copy (`child`, its memfd) before the
    /// child runs. `take_writes_from` then takes only the pages the child changed, and leaves
    /// those this program's other threads change meanwhile (their stacks, their buffers).
    pub fn vfork_digests(&mut self, child: &File) -> HashMap<u64, u64> {
        let Some(view) = ChildMemory::map(child, self.ram.size(), self.pml4) else {
            return HashMap::new();
        };
        self.writable_pool_pages()
            .into_iter()
            .filter_map(|(va, _)| Some((va, digest(view.page(view.walk(va)?)?))))
            .collect()
    }

    /// Takes into this address space what a `vfork` child wrote before it exited: the child ran
    /// on a copy (`fork`) of this memory, whose guest memory `child` holds (same guest-physical
    /// layout, same page-table root); every page present and writable here whose contents
    /// differ there gets the child's, unless `before` (`vfork_digests`) shows the child did not
    /// change it (another thread of this program did). A vfork child shares its parent's memory
    /// on Linux, and programs rely on that: glibc's posix_spawn reports a failed exec through
    /// it. Pages the child mapped afresh are left out. Returns how many pages were taken.
    pub fn take_writes_from(&mut self, child: &File, before: Option<&HashMap<u64, u64>>) -> usize {
        let Some(view) = ChildMemory::map(child, self.ram.size(), self.pml4) else {
            return 0;
        };
        let mut taken = 0;
        let mut cur = vec![0u8; PAGE_SIZE as usize];
        for (va, mine) in self.writable_pool_pages() {
            let Some(src) = view.walk(va).and_then(|f| view.page(f)) else {
                continue;
            };
            self.ram.read_pool(mine, &mut cur);
            if cur == src {
                continue;
            }
            if let Some(before) = before {
                if before.get(&va).is_none_or(|d| *d == digest(src)) {
                    continue;
                }
            }
            self.ram.write_pool(mine, src);
            taken += 1;
        }
        taken
    }

    /// The frame behind page `va` whatever its protection, if it has one (for loaders).
    pub fn frame_of(&mut self, va: u64) -> Option<u64> {
        if let Some((_, e)) = self.large_at(va) {
            return Some((e & LARGE_ADDR) + (page_down(va) & (LARGE - 1)));
        }
        let slot = self.pte_addr(va, false).ok()??;
        let e = self.ram.read_u64(slot);
        (e & (pte::P | pte::KEEP) != 0).then_some(e & pte::ADDR)
    }

    /// The mapping containing `va`.
    pub fn vma(&self, va: u64) -> Option<(u64, &Vma)> {
        self.vmas
            .range(..=va)
            .next_back()
            .filter(|(_, v)| va < v.end)
            .map(|(s, v)| (*s, v))
    }

    /// All mappings, in address order.
    pub fn vmas(&self) -> impl Iterator<Item = (u64, &Vma)> {
        self.vmas.iter().map(|(s, v)| (*s, v))
    }

    /// The mappings that overlap `[start, end)`, in address order, found without walking the
    /// others.
    pub fn vmas_overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = (u64, &Vma)> {
        let first = self.vma(start).filter(|(s, _)| *s < start);
        first
            .into_iter()
            .chain(self.vmas.range(start..end.max(start)).map(|(s, v)| (*s, v)))
    }

    /// Splits mappings so that none straddles `addr`.
    fn split_at(&mut self, addr: u64) {
        if let Some((s, v)) = self.vma(addr) {
            if s < addr {
                let tail = Vma {
                    end: v.end,
                    prot: v.prot,
                    kind: v.kind.advanced(addr - s),
                    wipe_on_fork: v.wipe_on_fork,
                };
                self.vmas.get_mut(&s).expect("exists").end = addr;
                self.vmas.insert(addr, tail);
            }
        }
    }

    /// Whether `[start, end)` is entirely covered by mappings.
    pub fn covered(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.vma(at) {
                Some((_, v)) => at = v.end,
                None => return false,
            }
        }
        true
    }

    /// Whether `[start, end)` touches no mapping.
    fn is_free(&self, start: u64, end: u64) -> bool {
        if start < MMAP_MIN || end > USER_TOP || start >= end {
            return false;
        }
        self.vmas
            .range(..end)
            .next_back()
            .is_none_or(|(_, v)| v.end <= start)
    }

    /// A free range of `len` bytes: at `hint` if it is free, else the highest one below
    /// `MMAP_BASE`, as Linux's top-down allocator.
    pub fn find_free(&self, hint: u64, len: u64) -> Option<u64> {
        if hint != 0 {
            let h = page_down(hint);
            if self.is_free(h, h.checked_add(len)?) {
                return Some(h);
            }
        }
        let mut top = MMAP_BASE;
        for (s, v) in self.vmas.range(..MMAP_BASE).rev() {
            if v.end <= top && top - v.end >= len {
                return Some(top - len);
            }
            top = top.min(*s);
        }
        (top >= MMAP_MIN + len).then(|| top - len)
    }

    /// Adds a mapping over `[start, end)`, replacing whatever was there (as `MAP_FIXED`).
    pub fn map(&mut self, start: u64, end: u64, prot: Prot, kind: VmaKind) {
        self.unmap(start, end);
        let mut start = start;
        // Merge with a neighbour of the same kind and protection, as Linux does (brk, stacks).
        if let Some((s, v)) = self.vmas.range(..start).next_back() {
            if v.end == start && v.prot == prot && v.kind.merges_with(&kind) && !v.wipe_on_fork {
                start = *s;
            }
        }
        let mut stop = end;
        if let Some(v) = self.vmas.get(&end) {
            if v.prot == prot && v.kind.merges_with(&kind) && !v.wipe_on_fork {
                stop = v.end;
                self.vmas.remove(&end);
            }
        }
        self.vmas.insert(
            start,
            Vma {
                end: stop,
                prot,
                kind,
                wipe_on_fork: false,
            },
        );
    }

    /// The file open as host descriptor `fd` was truncated to `len` bytes: as Linux's
    /// truncation does, every page of a mapping of it past the new end goes, private copies
    /// included (a private mapping's copied page of the cut part reads as the file again, so
    /// zeros once it grows back, or SIGBUS).
    pub fn truncated(&mut self, fd: std::os::fd::RawFd, len: u64) {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: `fstat` into a local.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return;
        }
        let cut = page_up(len);
        let doomed: Vec<(u64, u64)> = self
            .vmas
            .iter()
            .filter_map(|(s, v)| match &v.kind {
                VmaKind::File(f) if f.limit == u64::MAX => {
                    let md = f.file.metadata().ok()?;
                    if md.dev() != st.st_dev || md.ino() != st.st_ino {
                        return None;
                    }
                    let end_off = f.offset + (v.end - s);
                    (end_off > cut).then(|| (s + cut.saturating_sub(f.offset), v.end))
                }
                _ => None,
            })
            .collect();
        for (start, end) in doomed {
            self.discard(start, end);
        }
    }

    /// Sets or clears `MADV_WIPEONFORK` on `[start, end)`, which is mapped; `Err` (EINVAL) if
    /// part of it is not private anonymous memory, as Linux.
    pub fn set_wipe_on_fork(&mut self, start: u64, end: u64, wipe: bool) -> Result<(), Fault> {
        let private_anon = self
            .vmas
            .range(..end)
            .filter(|(s, v)| v.end > start && **s < end)
            .all(|(_, v)| matches!(v.kind, VmaKind::Anon | VmaKind::Heap | VmaKind::Stack));
        if !private_anon {
            return Err(Fault::Access);
        }
        self.split_at(start);
        self.split_at(end);
        for (_, v) in self.vmas.range_mut(start..end) {
            v.wipe_on_fork = wipe;
        }
        Ok(())
    }

    /// Gives back the frames of `[start, end)` but keeps the mappings: the next access reads zeros
    /// (`MADV_DONTNEED` on private anonymous memory).
    pub fn discard(&mut self, start: u64, end: u64) {
        self.for_each_frame(start, end, OnLarge::Zero, |me, _, slot, e| {
            me.free_pte(slot, e);
        });
    }

    /// Removes `[start, end)`: mappings, page-table entries, and frames (given back to the host).
    pub fn unmap(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        let doomed: Vec<u64> = self.vmas.range(start..end).map(|(s, _)| *s).collect();
        for s in doomed {
            self.vmas.remove(&s);
        }
        self.for_each_frame(start, end, OnLarge::Whole, |me, _, slot, e| {
            if e & pte::PS != 0 {
                // A whole large page: its 512 frames go back, its slot stays tainted.
                me.ram.write_u64(slot, 0);
                for i in 0..512 {
                    me.ram.uncount();
                    me.freed.push((e & LARGE_ADDR) + i * PAGE_SIZE);
                }
            } else {
                me.free_pte(slot, e);
            }
        });
    }

    /// Changes the protection of `[start, end)`; `ENOMEM` if part of it is not mapped.
    pub fn protect(&mut self, start: u64, end: u64, prot: Prot) -> Result<(), Fault> {
        if !self.covered(start, end) {
            return Err(Fault::Unmapped);
        }
        self.split_at(start);
        self.split_at(end);
        for (_, v) in self.vmas.range_mut(start..end) {
            v.prot = prot;
        }
        self.for_each_frame(start, end, OnLarge::Split, |me, _, slot, e| {
            let frame = e & pte::ADDR;
            let bits = me.bits_for(frame, prot);
            me.set_pte(slot, frame | bits)
        });
        Ok(())
    }

    /// Moves the frames of `[old, old + len)` to `[new, new + len)` (mremap with a move). The
    /// destination must be free of frames.
    pub fn move_pages(&mut self, old: u64, new: u64, len: u64) -> Result<(), Fault> {
        let mut moved = Vec::new();
        self.for_each_frame(old, old + len, OnLarge::Split, |me, va, slot, e| {
            me.set_pte(slot, 0);
            moved.push((va - old, e));
        });
        for (off, e) in moved {
            let slot = self.slot(new + off)?;
            self.set_pte(slot, e);
        }
        Ok(())
    }

    /// Handles a page fault at `va` (`write`/`exec` say what was tried): fills it from its mapping
    /// or says why the program must get SIGSEGV.
    pub fn fault(&mut self, va: u64, write: bool, exec: bool) -> Result<(), Fault> {
        let (start, end, prot, kind) = match self.vma(va) {
            Some((s, v)) => (s, v.end, v.prot, v.kind.clone()),
            None => return Err(Fault::Unmapped),
        };
        let allowed = if write {
            prot & PROT_WRITE != 0
        } else if exec {
            prot & PROT_EXEC != 0
        } else {
            prot != 0
        };
        if !allowed {
            return Err(Fault::Access);
        }
        if self.large_at(va).is_some() {
            // A large page (always read-write) already allows the access: a stale shadow entry.
            self.flush = true;
            return Ok(());
        }
        if self.try_large(va, start, end, prot, &kind) {
            return Ok(());
        }
        let page = page_down(va);
        if let Ok(Some(slot)) = self.pte_addr(page, false) {
            let e = self.ram.read_u64(slot);
            if e & pte::P != 0 && e == (e & pte::ADDR) | leaf_bits(prot) {
                // The entry already allows the access: the guest faulted on a stale cached
                // translation. Make KVM forget it rather than retry into the same fault forever.
                self.stale.push(e & pte::ADDR);
                return Ok(());
            }
        }
        self.populate_for(page, prot, write)?;
        // Fault-around: neighbours in the same aligned block that have no frame yet.
        let pages = match self.vma(va) {
            Some((
                _,
                Vma {
                    kind: VmaKind::File(_),
                    ..
                },
            )) => FILE_FAULT_AROUND_PAGES,
            _ => FAULT_AROUND_PAGES,
        };
        let block = pages * PAGE_SIZE;
        let lo = (page & !(block - 1)).max(start);
        let hi = ((page & !(block - 1)) + block).min(end);
        let mut va = lo;
        while va < hi {
            if va != page {
                let slot = self.slot(va)?;
                if self.ram.read_u64(slot) & (pte::P | pte::KEEP) == 0 {
                    if self.ram.run_frames() + 1 >= self.ram.user_limit() {
                        break;
                    }
                    match self.populate_for(va, prot, false) {
                        // Past the end of a mapped file: only a touch there gets SIGBUS.
                        Err(Fault::Bus) => break,
                        r => r.map(drop)?,
                    }
                }
            }
            va += PAGE_SIZE;
        }
        Ok(())
    }

    /// Frames every page of `[start, end)` now (for images, stacks and `MAP_POPULATE`).
    /// A file mapping's pages are read with one read per run of contiguous frames.
    pub fn populate_range(&mut self, start: u64, end: u64, prot: Prot) -> Result<(), Fault> {
        let file = match self.vma(start) {
            Some((
                s,
                Vma {
                    kind: VmaKind::File(f),
                    end: e,
                    ..
                },
            )) if end <= *e && prot & PROT_WRITE != 0 && !f.shared => Some((s, f.clone())),
            _ => None,
        };
        // Read-only and shared file pages are window pages (no copy): one at a time is fine.
        let Some((vma_start, f)) = file else {
            let mut va = page_down(start);
            while va < end {
                match self.populate(va, prot) {
                    // Past the end of a mapped file: left for a touch there to get SIGBUS.
                    Err(Fault::Bus) => break,
                    r => r.map(drop)?,
                }
                va += PAGE_SIZE;
            }
            return Ok(());
        };
        // (frame, file offset, length) runs still to read.
        let mut runs: Vec<(u64, u64, u64)> = Vec::new();
        let mut va = page_down(start);
        while va < end {
            let slot = self.slot(va)?;
            let e = self.ram.read_u64(slot);
            if e & (pte::P | pte::KEEP) != 0 {
                // A page already framed (perhaps a file window's page, which must get a copy).
                self.populate(va, prot)?;
            } else {
                let frame = self.ram.alloc(FrameUse::User).ok_or(Fault::Oom)?;
                self.set_pte(slot, frame | self.bits_for(frame, prot));
                let off = f.offset + (va - vma_start);
                match runs.last_mut() {
                    Some((fr, o, n)) if *fr + *n == frame && *o + *n == off => *n += PAGE_SIZE,
                    _ => runs.push((frame, off, PAGE_SIZE)),
                }
            }
            va += PAGE_SIZE;
        }
        for (frame, off, len) in runs {
            self.fill_from_file(frame, &f, off, len);
        }
        Ok(())
    }

    /// Maps a file mapping's pages now where that is cheap: a mapping that cannot be written
    /// shows the file's pages themselves (page-table entries only, no copy, no later faults); a
    /// writable one is copied now only if it is small (at most `copy_limit` bytes).
    pub fn prefault_file(&mut self, start: u64, end: u64, copy_limit: u64) -> Result<(), Fault> {
        let (prot, mapped_file) = match self.vma(start) {
            Some((
                _,
                Vma {
                    kind: VmaKind::File(f),
                    prot,
                    ..
                },
            )) => (*prot, f.limit == u64::MAX && !f.shared),
            _ => return Ok(()),
        };
        if prot == 0 || (prot & PROT_WRITE != 0 && end - start > copy_limit) {
            return Ok(());
        }
        if prot & PROT_WRITE != 0 && mapped_file {
            // Read-only views of the file's pages: a copy comes with the first write.
            let mut va = page_down(start);
            while va < end {
                match self.populate_for(va, prot, false) {
                    Err(Fault::Bus) => break,
                    r => r.map(drop)?,
                }
                va += PAGE_SIZE;
            }
            return Ok(());
        }
        self.populate_range(start, end, prot)
    }

    /// Removes every mapping (for `execve`).
    pub fn clear(&mut self) {
        self.unmap(0, USER_TOP);
        self.brk_start = 0;
        self.brk = 0;
    }

    /// The frame behind `va` if it is mapped with at least the access asked for, filling it on
    /// demand as the guest's own access would. `Err` is EFAULT.
    pub fn translate(&mut self, va: u64, write: bool) -> Result<u64, Fault> {
        if va >= USER_TOP {
            return Err(Fault::Unmapped);
        }
        if let Some((_, e)) = self.large_at(va) {
            return Ok((e & LARGE_ADDR) + (va & (LARGE - 1)));
        }
        if let Ok(Some(slot)) = self.pte_addr(va, false) {
            let e = self.ram.read_u64(slot);
            if e & pte::P != 0 && (!write || e & pte::RW != 0) {
                return Ok((e & pte::ADDR) + (va & (PAGE_SIZE - 1)));
            }
        }
        self.fault(va, write, false)?;
        let slot = self
            .pte_addr(va, false)
            .ok()
            .flatten()
            .ok_or(Fault::Unmapped)?;
        Ok((self.ram.read_u64(slot) & pte::ADDR) + (va & (PAGE_SIZE - 1)))
    }
}

/// A forked program's guest memory, mapped read-only to look at it from here.
struct ChildMemory {
    base: *mut libc::c_void,
    size: usize,
    root: u64,
}

impl ChildMemory {
    /// Maps `memfd` (`size` bytes of guest memory whose page tables start at `root`).
    fn map(memfd: &File, size: u64, root: u64) -> Option<ChildMemory> {
        // SAFETY: a fresh read-only shared mapping of the memfd, unmapped on drop.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                libc::PROT_READ,
                libc::MAP_SHARED,
                std::os::fd::AsRawFd::as_raw_fd(memfd),
                0,
            )
        };
        (base != libc::MAP_FAILED).then_some(ChildMemory {
            base,
            size: size as usize,
            root,
        })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `size` bytes long and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.base as *const u8, self.size) }
    }

    /// The page at guest-physical `frame`, if it lies in the pool.
    fn page(&self, frame: u64) -> Option<&[u8]> {
        let at = usize::try_from(frame).ok()?;
        self.bytes().get(at..at.checked_add(PAGE_SIZE as usize)?)
    }

    fn word(&self, at: u64) -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let b = self.bytes().get(at..at.checked_add(8)?)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    /// The frame behind page `va` in the child's own page tables.
    fn walk(&self, va: u64) -> Option<u64> {
        let mut table = self.root;
        for shift in [39u64, 30, 21, 12] {
            let e = self.word(table + ((va >> shift) & 511) * 8)?;
            if e & pte::P == 0 {
                return None;
            }
            if shift == 21 && e & pte::PS != 0 {
                return Some((e & LARGE_ADDR) + (va & (LARGE - 1) & !(PAGE_SIZE - 1)));
            }
            table = e & pte::ADDR;
        }
        Some(table)
    }
}

impl Drop for ChildMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`.
        unsafe { libc::munmap(self.base, self.size) };
    }
}

/// A 64-bit digest of a page (four independent multiply-xor lanes, so it runs near memory
/// speed): tells a page the child changed from one it did not.
fn digest(page: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut lanes = [1u64, 2, 3, 4];
    for chunk in page.chunks_exact(32) {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(chunk[8 * i..8 * i + 8].try_into().expect("8 bytes"));
            *lane = (*lane ^ w).wrapping_mul(K).rotate_left(29);
        }
    }
    lanes
        .iter()
        .fold(0u64, |h, l| (h ^ l).wrapping_mul(K).rotate_left(31))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> AddressSpace {
        AddressSpace::new(GuestRam::new(64 << 20, 32 << 20).unwrap()).unwrap()
    }

    #[test]
    fn demand_fill_and_translate() {
        let mut s = space();
        let a = s.find_free(0, 1 << 20).unwrap();
        s.map(a, a + (1 << 20), PROT_READ | PROT_WRITE, VmaKind::Anon);
        assert_eq!(
            s.ram.user_frames(),
            0,
            "mapping costs nothing until touched"
        );
        s.fault(a + 5 * PAGE_SIZE, true, false).unwrap();
        assert_eq!(s.ram.user_frames(), FAULT_AROUND_PAGES);
        let p = s.translate(a + 5 * PAGE_SIZE + 7, true).unwrap();
        assert_eq!(p & (PAGE_SIZE - 1), 7);
        assert_eq!(s.fault(a - PAGE_SIZE, false, false), Err(Fault::Unmapped));
    }

    #[test]
    fn vmas_overlapping_finds_exactly_the_overlaps() {
        let mut s = space();
        let a = 0x4000_0000;
        let p = PAGE_SIZE;
        for i in [0, 2, 4] {
            s.map(a + i * p, a + (i + 1) * p, PROT_READ, VmaKind::Anon);
        }
        let starts = |x: u64, y: u64| -> Vec<u64> {
            s.vmas_overlapping(x, y)
                .map(|(st, _)| (st - a) / p)
                .collect()
        };
        assert_eq!(starts(a, a + 5 * p), vec![0, 2, 4]);
        assert_eq!(starts(a + p / 2, a + 2 * p), vec![0]);
        assert_eq!(starts(a + p, a + 2 * p), Vec::<u64>::new());
        assert_eq!(starts(a + 2 * p + 1, a + 4 * p + 1), vec![2, 4]);
        assert_eq!(starts(a + 3 * p, a + 3 * p), Vec::<u64>::new());
    }

    #[test]
    fn unmap_gives_frames_back_and_protect_splits() {
        let mut s = space();
        let a = 0x4000_0000;
        s.map(a, a + 64 * PAGE_SIZE, PROT_READ | PROT_WRITE, VmaKind::Anon);
        s.populate_range(a, a + 64 * PAGE_SIZE, PROT_READ | PROT_WRITE)
            .unwrap();
        assert_eq!(s.ram.user_frames(), 64);
        s.protect(a + PAGE_SIZE, a + 2 * PAGE_SIZE, PROT_READ)
            .unwrap();
        assert_eq!(s.vmas().count(), 3);
        assert_eq!(s.translate(a + PAGE_SIZE, true), Err(Fault::Access));
        assert!(s.translate(a + PAGE_SIZE, false).is_ok());
        s.unmap(a, a + 32 * PAGE_SIZE);
        assert_eq!(s.ram.user_frames(), 32);
        assert!(s.protect(a, a + 64 * PAGE_SIZE, PROT_READ).is_err());
    }

    #[test]
    fn large_pages_fit_whole_blocks_and_split_with_a_flush() {
        let mut s = AddressSpace::new(GuestRam::new(64 << 20, 48 << 20).unwrap()).unwrap();
        let a = 0x4000_0000; // 2 MiB aligned
        s.map(a, a + 3 * LARGE, PROT_READ | PROT_WRITE, VmaKind::Anon);
        s.fault(a + 5, true, false).unwrap();
        assert_eq!(s.ram.user_frames(), 512, "one large page");
        let p0 = s.translate(a, true).unwrap();
        assert_eq!(
            s.translate(a + 3 * PAGE_SIZE, true).unwrap(),
            p0 + 3 * PAGE_SIZE
        );
        // Zeroing part of it keeps the mapping and needs no flush.
        s.discard(a + PAGE_SIZE, a + 2 * PAGE_SIZE);
        assert!(!s.take_flush());
        assert_eq!(s.translate(a + PAGE_SIZE, false).unwrap(), p0 + PAGE_SIZE);
        // A hole splits it: 4 KiB entries for the rest, and a full flush before the guest runs.
        s.unmap(a + 2 * PAGE_SIZE, a + 3 * PAGE_SIZE);
        assert!(s.take_flush());
        assert_eq!(s.ram.user_frames(), 511);
        assert_eq!(
            s.translate(a + 4 * PAGE_SIZE, false).unwrap(),
            p0 + 4 * PAGE_SIZE
        );
        assert_eq!(s.translate(a + 2 * PAGE_SIZE, false), Err(Fault::Unmapped));
        // A block only partly in the mapping gets 4 KiB pages.
        s.map(
            a + 4 * LARGE,
            a + 5 * LARGE - PAGE_SIZE,
            PROT_READ | PROT_WRITE,
            VmaKind::Anon,
        );
        s.fault(a + 4 * LARGE, true, false).unwrap();
        assert_eq!(s.ram.user_frames(), 511 + FAULT_AROUND_PAGES);
    }

    #[test]
    fn huge_reservation_is_free() {
        let mut s = space();
        let len = 64u64 << 30;
        let a = s.find_free(0, len).unwrap();
        s.map(a, a + len, 0, VmaKind::Anon);
        s.protect(a + len / 2, a + len / 2 + PAGE_SIZE, PROT_READ | PROT_WRITE)
            .unwrap();
        s.fault(a + len / 2, true, false).unwrap();
        assert_eq!(s.ram.user_frames(), 1);
        s.unmap(a, a + len);
        assert_eq!(s.ram.user_frames(), 0);
    }
}
