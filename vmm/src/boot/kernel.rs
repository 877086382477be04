//! Loading the tiny kernel (`images/kernel`, built by `build.rs`) with linux-loader's ELF loader,
//! and checking that its layout is the one `layout.rs` describes.

use std::io::Cursor;

use linux_loader::loader::{elf::Elf, KernelLoader};
use vm_memory::GuestAddress;

use crate::layout::*;
use crate::vstate::memory::GuestRam;

/// The kernel image.
pub static KERNEL_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kernel.elf"));

/// Errors loading the kernel.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// linux-loader refused the image.
    #[error("cannot load the guest kernel: {0}")]
    Load(#[source] linux_loader::loader::Error),
    /// The image does not match `layout.rs`.
    #[error("the guest kernel's layout does not match mvm's: {0}")]
    Layout(&'static str),
}

/// The bytes every kernel entry consists of: `out 0xe0, al; iretq`.
const ENTRY: [u8; 4] = [0xe6, HYPERCALL_PORT as u8, 0x48, 0xcf];

/// Loads the kernel into guest memory at `KERNEL_TEXT_PHYS` and checks its entries.
pub fn load(ram: &GuestRam) -> Result<(), KernelError> {
    let r = Elf::load(ram.memory(), None, &mut Cursor::new(KERNEL_ELF), None)
        .map_err(KernelError::Load)?;
    // linux-loader reports the entry point as `kernel_load` and the physical end of the image.
    if r.kernel_load != GuestAddress(SYSCALL_ENTRY) || r.kernel_end != KERNEL_TEXT_PHYS + PAGE_SIZE
    {
        return Err(KernelError::Layout(
            "not one page at KERNEL_TEXT_PHYS entered at SYSCALL_ENTRY",
        ));
    }
    check(ram)
}

fn check(ram: &GuestRam) -> Result<(), KernelError> {
    let mut b = [0u8; 4];
    ram.read_pool(KERNEL_TEXT_PHYS, &mut b);
    if b != ENTRY {
        return Err(KernelError::Layout("syscall entry"));
    }
    for v in 0..EXC_VECTORS {
        ram.read_pool(EXC_ENTRY_BASE - KERNEL_VBASE + v * EXC_ENTRY_STRIDE, &mut b);
        if b != ENTRY {
            return Err(KernelError::Layout("exception entry"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_matches_layout() {
        let ram = crate::vstate::memory::GuestRam::new(1 << 20, 0).unwrap();
        super::load(&ram).unwrap();
    }
}
