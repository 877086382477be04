//! KVM objects: the VM with its memory slot, and the vCPU with its registers and run loop.

pub mod memory;
pub mod vcpu;
pub mod vm;
