//! The ELF loader and the `#!` parser on any bytes (a program's execve of a file it wrote):
//! parsing never panics, and an image that parses loads into a fresh address space, with its
//! initial stack built, without panicking.
#![no_main]

use std::io::Write;
use std::os::fd::FromRawFd;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use vmm::boot::{elf, stack};
use vmm::mm::AddressSpace;
use vmm::vstate::memory::GuestRam;

fn memfd(data: &[u8]) -> std::fs::File {
    // SAFETY: memfd_create with a static name; the result is checked.
    let fd = unsafe { libc::memfd_create(c"fuzz".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0, "memfd_create");
    // SAFETY: a fresh descriptor owned by nobody else.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    f.write_all(data).expect("write the memfd");
    f
}

fuzz_target!(|data: &[u8]| {
    let file = memfd(data);
    let _ = elf::shebang(&file);
    let Ok(image) = elf::parse(&file) else {
        return;
    };
    let Ok(ram) = GuestRam::new(256 << 20, 64 << 20) else {
        return;
    };
    let Some(mut space) = AddressSpace::new(ram) else {
        return;
    };
    let file = Arc::new(file);
    let Ok(loaded) = image.load(&mut space, &file, b"/fuzz", 0x5555_5555_4000) else {
        return;
    };
    let aux = stack::AuxInfo {
        hwcap: 0,
        uid: 0,
        gid: 0,
        vdso: 0,
    };
    let argv = [b"/fuzz".to_vec(), data.iter().take(64).copied().collect()];
    let _ = stack::build(
        &mut space,
        &loaded,
        0,
        &argv,
        &[b"A=B".to_vec()],
        b"/fuzz",
        &aux,
    );
    space.settle();
});
