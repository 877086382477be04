//! Builds the guest images mvm embeds: the tiny ring-0 kernel (`images/kernel`), `guest-init`,
//! and the vDSO (`images/vdso`). All are freestanding (`no_std`, no libc, `panic = abort`), so
//! they are compiled here with `rustc` and their own flags rather than as workspace members,
//! which share the workspace's profile and would be built with unwinding.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What kind of image: a static executable, or the object a relocation-free shared object is
/// linked from.
enum Kind {
    Static,
    Dso,
}

fn rustc(src: &Path, out: &Path, kind: Kind, script: Option<&Path>) {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.args(["--edition", "2021", "--target", "x86_64-unknown-linux-gnu"])
        .args(["-C", "panic=abort", "-C", "debuginfo=0"])
        .args([
            "-C",
            "link-arg=-nostdlib",
            "-C",
            "link-arg=-Wl,--build-id=none",
        ]);
    match kind {
        Kind::Static => cmd
            .args(["--crate-type", "bin", "-C", "opt-level=s"])
            .args([
                "-C",
                "relocation-model=static",
                "-C",
                "target-feature=+crt-static",
            ])
            .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-static"]),
        Kind::Dso => cmd
            .args(["--crate-type", "lib", "--emit", "obj", "-C", "opt-level=2"])
            .args(["-C", "relocation-model=pic"]),
    };
    if let Some(s) = script {
        cmd.arg("-C")
            .arg(format!("link-arg=-Wl,-T,{}", s.display()));
    }
    let status = cmd
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
    let kernel = root.join("images/kernel");
    let vdso = root.join("images/vdso");
    let init = root.join("guest-init/src/main.rs");
    for p in [
        kernel.join("kernel.rs"),
        kernel.join("kernel.ld"),
        vdso.join("vdso.rs"),
        vdso.join("vdso.ld"),
        vdso.join("vdso.ver"),
        init.clone(),
    ] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let ld = kernel.join("kernel.ld");
    rustc(
        &kernel.join("kernel.rs"),
        &out.join("kernel.elf"),
        Kind::Static,
        Some(&ld),
    );
    rustc(&init, &out.join("guest-init"), Kind::Static, None);
    // The vDSO: compiled to an object, then linked here with the linker script and a version
    // script (its symbols are LINUX_2.6's, as the kernel's are; rustc's own cdylib link would
    // add an unversioned export list instead).
    let obj = out.join("vdso.o");
    rustc(&vdso.join("vdso.rs"), &obj, Kind::Dso, None);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(cc)
        .args([
            "-shared",
            "-nostdlib",
            "-Wl,--build-id=none",
            "-Wl,--hash-style=both",
        ])
        .arg("-Wl,-soname,linux-vdso.so.1")
        .arg(format!("-Wl,-T,{}", vdso.join("vdso.ld").display()))
        .arg(format!(
            "-Wl,--version-script={}",
            vdso.join("vdso.ver").display()
        ))
        .arg("-o")
        .arg(out.join("vdso.so"))
        .arg(&obj)
        .status()
        .expect("run cc to link the vDSO");
    assert!(status.success(), "linking the vDSO failed");
}
