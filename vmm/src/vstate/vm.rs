//! The KVM VM: `/dev/kvm`, the VM file descriptor, and its memory slots (which `GuestRam` fills).

use kvm_bindings::{kvm_userspace_memory_region, CpuId, KVM_MAX_CPUID_ENTRIES, KVM_MEM_READONLY};
use kvm_ioctls::{Cap, Kvm, VmFd};
use std::sync::Arc;

use super::memory::GuestRam;

/// Errors creating the VM.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// `/dev/kvm` cannot be opened.
    #[error("cannot open /dev/kvm: {0} (is KVM available and are you allowed to use it?)")]
    NoKvm(#[source] kvm_ioctls::Error),
    /// A KVM capability mvm relies on is missing.
    #[error("this host's KVM lacks {0}")]
    MissingCap(&'static str),
    /// A KVM ioctl failed.
    #[error("KVM {0} failed: {1}")]
    Kvm(&'static str, #[source] kvm_ioctls::Error),
}

/// The VM.
#[derive(Debug)]
pub struct Vm {
    kvm: Arc<Kvm>,
    fd: Arc<VmFd>,
}

/// The first memory slot's size; each later slot doubles what is registered (`GuestRam`
/// registers memory as the program comes to use it). KVM keeps ~2 KiB of host kernel memory per
/// MiB of memory slot (the shadow MMU's reverse maps), so a slot that covered all of `--memory`
/// up front cost ~1 MiB per VM even for a program using 1 MiB; a first slot of 4 MiB (an idle
/// static program fits) instead of 16 costs 28 KiB less of vmalloc per VM (bench/instance-cost,
/// K = 300).
pub const FIRST_SLOT: u64 = 4 << 20;

/// One VM's memory slots. Guest memory and file windows are registered here before any page
/// table points at them: a vCPU of another thread may reach a new mapping at once, and KVM
/// treats a guest-physical address outside every slot as MMIO.
#[derive(Debug)]
pub struct Slots {
    fd: Arc<VmFd>,
    regions: Vec<kvm_userspace_memory_region>,
}

impl Slots {
    /// Registers `len` bytes at guest-physical `gpa`, backed by host memory at `host` that lives
    /// as long as the VM (the caller's promise: it owns the mapping and outlives the slots).
    pub fn add(&mut self, gpa: u64, len: u64, host: u64, read_only: bool) -> Result<(), VmError> {
        let region = kvm_userspace_memory_region {
            slot: self.regions.len() as u32,
            flags: if read_only { KVM_MEM_READONLY } else { 0 },
            guest_phys_addr: gpa,
            memory_size: len,
            userspace_addr: host,
        };
        // SAFETY: the region is host memory the caller keeps mapped while the VM lives.
        unsafe { self.fd.set_user_memory_region(region) }
            .map_err(|e| VmError::Kvm("SET_USER_MEMORY_REGION", e))?;
        self.regions.push(region);
        Ok(())
    }

    /// Makes KVM drop every shadow page table, by deleting and re-adding every memory slot: the
    /// one host-side way to make it forget a guest page-directory entry that changed (see
    /// `mm::LARGE`). With nested paging (NPT/EPT) deleting a slot zaps its nested entries and
    /// flushes every vCPU's TLB, which drops the guest's cached translations the same way. Costly (each page is shadowed again when next touched), so rare. No vCPU
    /// may run meanwhile: for a moment the VM has no memory (`Kicker::stop_guests`).
    pub fn flush(&self) -> Result<(), VmError> {
        for r in &self.regions {
            let gone = kvm_userspace_memory_region {
                memory_size: 0,
                ..*r
            };
            // SAFETY: deleting a slot this VM registered.
            unsafe { self.fd.set_user_memory_region(gone) }
                .map_err(|e| VmError::Kvm("SET_USER_MEMORY_REGION (delete)", e))?;
        }
        for r in &self.regions {
            // SAFETY: the same regions as before, whose memory still lives (see `add`).
            unsafe { self.fd.set_user_memory_region(*r) }
                .map_err(|e| VmError::Kvm("SET_USER_MEMORY_REGION (re-add)", e))?;
        }
        Ok(())
    }
}

impl Vm {
    /// Opens `/dev/kvm`, creates a VM and gives `ram` its memory slots.
    pub fn new(ram: &mut GuestRam) -> Result<Self, VmError> {
        let kvm = Kvm::new().map_err(VmError::NoKvm)?;
        for (cap, name) in [
            (Cap::SyncRegs, "KVM_CAP_SYNC_REGS"),
            (Cap::ImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"),
            (Cap::Xcrs, "KVM_CAP_XCRS"),
        ] {
            if !kvm.check_extension(cap) {
                return Err(VmError::MissingCap(name));
            }
        }
        Self::with_kvm(Arc::new(kvm), ram)
    }

    /// Another VM from the same `/dev/kvm` handle (a forked program's: the thread that creates
    /// it is confined and cannot open `/dev/kvm` again).
    pub fn sibling(&self, ram: &mut GuestRam) -> Result<Self, VmError> {
        Self::with_kvm(self.kvm.clone(), ram)
    }

    fn with_kvm(kvm: Arc<Kvm>, ram: &mut GuestRam) -> Result<Self, VmError> {
        // A kick (a signal for the program) can interrupt it: try again.
        let fd = loop {
            match kvm.create_vm() {
                Err(e) if e.errno() == libc::EINTR => continue,
                r => break r.map_err(|e| VmError::Kvm("CREATE_VM", e))?,
            }
        };
        let fd = Arc::new(fd);
        ram.attach(Slots {
            fd: fd.clone(),
            regions: Vec::new(),
        })?;
        Ok(Vm { kvm, fd })
    }

    /// The CPUID the host supports, given to the guest as is. Asking KVM costs ~0.3 ms of every
    /// start, so the answer is cached in a file keyed by the host kernel and CPU (`cpuid_cache`).
    pub fn supported_cpuid(&self) -> Result<CpuId, VmError> {
        let path = cpuid_cache::path();
        if let Some(c) = path.as_deref().and_then(cpuid_cache::load) {
            return Ok(c);
        }
        let c = self
            .kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(|e| VmError::Kvm("GET_SUPPORTED_CPUID", e))?;
        if let Some(p) = path {
            cpuid_cache::store(&p, &c);
        }
        Ok(c)
    }

    /// The VM file descriptor.
    pub fn fd(&self) -> &VmFd {
        &self.fd
    }
}

/// A file cache of `KVM_GET_SUPPORTED_CPUID`. The key covers what the answer depends on: the
/// host kernel (release and build) and the host CPU (its own CPUID leaves 0, 1 and 7). A missing,
/// unreadable or malformed file just means asking KVM again.
mod cpuid_cache {
    use std::path::{Path, PathBuf};

    use kvm_bindings::{kvm_cpuid_entry2, CpuId};
    use vm_memory::ByteValued;

    /// `kvm_cpuid_entry2` is plain data.
    #[derive(Clone, Copy, Default)]
    #[repr(transparent)]
    struct Entry(kvm_cpuid_entry2);
    // SAFETY: `kvm_cpuid_entry2` is a C struct of integers with no padding invariants.
    unsafe impl ByteValued for Entry {}

    fn key() -> u64 {
        // FNV-1a over the kernel's identity and the CPU's.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |b: &[u8]| {
            for x in b {
                h = (h ^ *x as u64).wrapping_mul(0x100_0000_01b3);
            }
        };
        // SAFETY: plain struct filled by uname.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: `u` is valid for writing.
        unsafe { libc::uname(&mut u) };
        for f in [&u.release[..], &u.version[..], &u.machine[..]] {
            eat(&f.iter().map(|c| *c as u8).collect::<Vec<u8>>());
        }
        for (leaf, sub) in [(0u32, 0u32), (1, 0), (7, 0)] {
            let r = std::arch::x86_64::__cpuid_count(leaf, sub);
            for w in [r.eax, r.ebx, r.ecx, r.edx] {
                eat(&w.to_le_bytes());
            }
        }
        h
    }

    /// Where the cache lives: `$XDG_CACHE_HOME/mvm` or `~/.cache/mvm`, outside any checkout.
    pub fn path() -> Option<PathBuf> {
        let dir = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(dir.join("mvm").join(format!("cpuid-{:016x}", key())))
    }

    pub fn load(p: &Path) -> Option<CpuId> {
        let bytes = std::fs::read(p).ok()?;
        let size = std::mem::size_of::<Entry>();
        if bytes.is_empty() || bytes.len() % size != 0 || bytes.len() / size > 256 {
            return None;
        }
        let entries: Vec<kvm_cpuid_entry2> = bytes
            .chunks_exact(size)
            .map(|c| Entry::from_slice(c).expect("exact size").0)
            .collect();
        CpuId::from_entries(&entries).ok()
    }

    pub fn store(p: &Path, c: &CpuId) {
        let mut bytes = Vec::new();
        for e in c.as_slice() {
            bytes.extend_from_slice(Entry(*e).as_slice());
        }
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        let ok = p
            .parent()
            .is_some_and(|d| std::fs::create_dir_all(d).is_ok())
            && std::fs::write(&tmp, &bytes).is_ok()
            && std::fs::rename(&tmp, p).is_ok();
        if !ok {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trip_and_refuses_garbage() {
            let dir = std::env::temp_dir().join(format!("mvm-cpuid-test-{}", std::process::id()));
            let p = dir.join("c");
            let e = kvm_cpuid_entry2 {
                function: 7,
                index: 1,
                eax: 0xdead,
                ..Default::default()
            };
            store(&p, &CpuId::from_entries(&[e, e]).unwrap());
            let back = load(&p).unwrap();
            assert_eq!(back.as_slice().len(), 2);
            assert_eq!(back.as_slice()[1].eax, 0xdead);
            std::fs::write(&p, b"short").unwrap();
            assert!(load(&p).is_none());
            std::fs::remove_dir_all(&dir).unwrap();
            assert_eq!(key(), key());
        }
    }
}
