//! Builds the two guest images mvm embeds: the tiny ring-0 kernel (`images/kernel`) and
//! `guest-init`. Both are freestanding (`no_std`, no libc, `panic = abort`), so they are compiled
//! here with `rustc` and their own flags rather than as workspace members, which share the
//! workspace's profile and would be built with unwinding.

use std::path::{Path, PathBuf};
use std::process::Command;

fn rustc(src: &Path, out: &Path, extra: &[String]) {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "bin",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        .args([
            "-C",
            "panic=abort",
            "-C",
            "opt-level=s",
            "-C",
            "relocation-model=static",
        ])
        .args(["-C", "target-feature=+crt-static", "-C", "debuginfo=0"])
        .args(["-C", "link-arg=-nostdlib", "-C", "link-arg=-nostartfiles"])
        .args([
            "-C",
            "link-arg=-static",
            "-C",
            "link-arg=-Wl,--build-id=none",
        ])
        .args(extra)
        .arg("-o")
        .arg(out)
        .arg(src)
        .status()
        .expect("run rustc for a guest image");
    assert!(status.success(), "building {} failed", src.display());
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let kernel_dir = root.join("images/kernel");
    let init_src = root.join("guest-init/src/main.rs");
    for p in [
        kernel_dir.join("kernel.rs"),
        kernel_dir.join("kernel.ld"),
        init_src.clone(),
    ] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let ld = format!("link-arg=-Wl,-T,{}", kernel_dir.join("kernel.ld").display());
    rustc(
        &kernel_dir.join("kernel.rs"),
        &out.join("kernel.elf"),
        &["-C".into(), ld],
    );
    rustc(&init_src, &out.join("guest-init"), &[]);
}
