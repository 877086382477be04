//! mvm on hardware-style KVM: a machine with AMD SVM emulated by QEMU's TCG (`-cpu EPYC`, and
//! `-cpu max`, which adds protection keys), Debian's kernel with kvm-amd loaded, nested paging
//! on and (EPYC) off (scripts/svm-machine). Inside it, the core of the PVM suite runs each
//! program natively and under mvm and compares them (tests/svm/init.sh): static and dynamic
//! programs, fork/exec/pipes, signal handlers that return, sigaltstack and SIGSEGV handlers,
//! threads, mmap/mprotect/munmap, 2 MiB pages split, FP/SSE/AVX state, faults, timeouts,
//! SIGTERM, the memory limit. One boot is ~25 s of the emulated kernel plus the cases.

#[path = "common/mod.rs"]
mod common;

use common::{mvm_bin, program, BUSYBOX};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Debian programs that run dynamically linked (their libraries go into the machine).
const DYNAMIC: &[&str] = &[
    "/bin/ls",
    "/usr/bin/sha256sum",
    "/bin/dash",
    "/usr/bin/sort",
];

fn cases() -> (String, Vec<String>) {
    let p = |n: &str| program(n).display().to_string();
    let mut files: Vec<String> = [
        "hello",
        "hello_rs",
        "sig_self",
        "sig_regs",
        "threads_misc",
        "threads_futex",
        "threads_counter",
        "mprotect_fault",
        "mmap_cycles",
        "large_pages",
        "crash",
        "fpu_state",
        "kernel_probe",
        "memhog",
        "sleep_forever",
        "fork_calls",
        "exit_status",
    ]
    .iter()
    .map(|n| p(n))
    .collect();
    files.push(BUSYBOX.into());
    files.extend(DYNAMIC.iter().map(|s| s.to_string()));
    files.push(mvm_bin().display().to_string());
    let mut c = vec![
        format!("same static {} a 'b c'", p("hello")),
        format!("same rust-std {} one 'two words'", p("hello_rs")),
        "same dynamic-ls /bin/ls -l /bin/ls".into(),
        format!("same dynamic-sha256 /usr/bin/sha256sum {}", BUSYBOX),
        "same dash-fork-pipes /bin/dash -c 'x=$(echo sub); echo $x; for i in 3 1 2; do echo $i; done | /usr/bin/sort; exit 5'".into(),
        format!("same busybox-pipes {BUSYBOX} sh -c 'echo abc | {BUSYBOX} wc -c; y=$({BUSYBOX} echo hi); echo $y'"),
        format!("same fork-calls {}", p("fork_calls")),
        format!("same exit-status {} 42", p("exit_status")),
        format!("same sig-regs {}", p("sig_regs")),
        format!("same fpu-avx {}", p("fpu_state")),
        format!("same mmap-cycles {}", p("mmap_cycles")),
        format!("same large-pages {}", p("large_pages")),
        format!("same mprotect-fault {}", p("mprotect_fault")),
        format!("same threads-futex {}", p("threads_futex")),
        format!("status timeout 124 'timed out' --timeout 1s {}", p("sleep_forever")),
        format!("status memory-limit 137 'out of memory' --memory 32m {} 100", p("memhog")),
        format!("status kernel-code-readonly 139 'SIGSEGV' {} write-code", p("kernel_probe")),
        format!(
            "{} & pid=$!; sleep 2; kill -TERM $pid; wait $pid; s=$?; \
             [ $s = 143 ] && echo 'CASE sigterm PASS' || echo \"CASE sigterm FAIL status $s\"",
            "$MVM run ".to_string() + &p("sleep_forever")
        ),
    ];
    for case in [
        "info",
        "mask",
        "resethand",
        "nodefer",
        "segv",
        "skip",
        "fpe",
        "ill",
        "altstack",
        "suspend",
        "ppoll",
        "abort-handled",
    ] {
        c.push(format!("same signals-{case} {} {case}", p("sig_self")));
    }
    for fault in ["null", "ud2", "div0", "abort"] {
        c.push(format!("same fault-{fault} {} {fault}", p("crash")));
    }
    for group in [
        "ids",
        "stacks",
        "clone",
        "tls",
        "signals",
        "exits",
        "concurrency",
        "robust",
        "pi",
        "remap",
    ] {
        c.push(format!(
            "same threads-{group} {} {group}",
            p("threads_misc")
        ));
    }
    c.push(format!(
        "same threads-counter {} 4 20000",
        p("threads_counter")
    ));
    (c.join("\n"), files)
}

/// Boots the machine with `cpu` and kvm-amd's `npt`, runs the cases, and returns the console.
fn boot(cpu: &str, npt: u8) -> String {
    let (cases, files) = cases();
    let template =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/svm/init.sh"))
            .unwrap();
    let init = template
        .replace("@CASES@", &cases)
        .replace("@MVM@", &mvm_bin().display().to_string());
    let dir = common::scratch(&format!("svm-{cpu}-{npt}"));
    let init_path = dir.join("init");
    std::fs::write(&init_path, init).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/svm-machine");
    let start = Instant::now();
    let out = Command::new(script)
        .arg(cpu)
        .arg(npt.to_string())
        .arg(&init_path)
        .args(&files)
        .output()
        .expect("run scripts/svm-machine");
    let console = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    std::fs::write(dir.join("console"), &console).unwrap();
    eprintln!(
        "svm machine {cpu} npt={npt}: {:?}\n{}",
        start.elapsed(),
        String::from_utf8_lossy(&out.stderr)
    );
    console
}

fn check(cpu: &str, npt: u8) {
    let console = boot(cpu, npt);
    let header = console
        .lines()
        .find(|l| l.contains("SVM-MACHINE"))
        .unwrap_or_else(|| panic!("the machine did not start:\n{console}"));
    assert!(
        header.contains(&format!("npt={}", if npt == 1 { "Y" } else { "N" })),
        "{header}"
    );
    assert!(header.contains("kvm=yes"), "{header}\n{console}");
    assert!(
        console.contains("SVM-DONE"),
        "the cases did not finish:\n{console}"
    );
    let failed: Vec<&str> = console.lines().filter(|l| l.contains(" FAIL")).collect();
    let passed = console.lines().filter(|l| l.contains(" PASS")).count();
    assert!(failed.is_empty(), "{cpu} npt={npt}: {failed:?}\n{console}");
    assert_eq!(passed, cases().0.lines().count(), "{console}");
    // The FP test saw AVX there (XCR0 0x7), which this PVM host does not offer.
    assert!(console.contains("CASE fpu-avx PASS"), "{console}");
}

#[test]
fn svm_epyc_nested_paging() {
    check("EPYC", 1);
}

#[test]
fn svm_max_with_protection_keys() {
    check("max", 1);
}

#[test]
fn svm_epyc_shadow_paging() {
    check("EPYC", 0);
}
