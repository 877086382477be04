//! CI use: cargo's runner in one line. `cargo test` of a crate whose tests read fixtures
//! (by relative paths and through CARGO_MANIFEST_DIR), write temp files (the run's private
//! /tmp, and CARGO_TARGET_TMPDIR in the crate's target directory) and start programs, with
//! every test binary run by `mvm run --env-host -v .:.` in a micro-VM of its own.

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[test]
fn cargo_test_runs_each_test_binary_in_a_micro_vm() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/runner-crate");
    let krate = common::scratch("cargo_runner").join("runner-crate");
    copy_dir(&fixture, &krate);
    // The one line a user adds (here with this suite's mvm binary).
    std::fs::create_dir_all(krate.join(".cargo")).unwrap();
    std::fs::write(
        krate.join(".cargo/config.toml"),
        format!(
            "[target.x86_64-unknown-linux-gnu]\nrunner = \"{} run --env-host -v .:.\"\n",
            common::mvm_bin().display()
        ),
    )
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "--offline", "--quiet"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", krate.join("target"))
        .env("MVM_FIXTURE_EXPECT", "mvm")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "cargo test failed\n{stdout}\n{stderr}"
    );
    let results: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .collect();
    assert!(
        results
            .iter()
            .any(|l| l.starts_with("test result: ok. 2 passed"))
            && results
                .iter()
                .any(|l| l.starts_with("test result: ok. 4 passed")),
        "{stdout}\n{stderr}"
    );
    // What a test wrote to CARGO_TARGET_TMPDIR is in the crate's target directory (a
    // read-write view of it); what it wrote to /tmp stayed in the run.
    let written = std::fs::read_to_string(krate.join("target/tmp/out.txt")).unwrap();
    assert_eq!(written, "written by the test");
}
