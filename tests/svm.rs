//! mvm on hardware-style KVM: a machine with AMD SVM emulated by QEMU's TCG (`-cpu EPYC`, and
//! `-cpu EPYC-Milan`, a Zen 3 with protection keys), Debian's kernel with kvm-amd loaded, nested
//! paging on and (EPYC) off (scripts/svm-machine). Inside it, the core of the PVM suite runs
//! each program natively and under mvm and compares them (tests/svm/init.sh): static and dynamic
//! programs, fork/exec/pipes, signal handlers that return, sigaltstack and SIGSEGV handlers,
//! threads, mmap/mprotect/munmap, 2 MiB pages split, FP/SSE/AVX state, faults, timeouts,
//! SIGTERM, the memory limit; and bench/floor, which must name the KVM. One machine boots in
//! ~5 s and runs the cases in ~2 min; the machines run one after another.
//!
//! Why EPYC-Milan for protection keys and not `-cpu max`: on Debian 12's QEMU (7.2) a `max`
//! machine hung in 8 of 14 boots (both vCPUs halted with the timer interrupt pending in the
//! APIC, or one spinning with interrupts off), with `la57=off`, `pku=off` or kvm-amd's
//! `vgif=0` alike; EPYC-Milan hung in 1 of 3 and EPYC in 0 of 1 of the same stress runs. A hung
//! machine is booted again for the cases left (`check`). Still open: mvm's guest died of a
//! triple fault 3 times there, always in threads_counter (on max and EPYC-Milan, never on EPYC).

#[path = "common/mod.rs"]
mod common;

use common::{mvm_bin, program, BUSYBOX};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Debian programs that run dynamically linked (their libraries go into the machine).
const DYNAMIC: &[&str] = &[
    "/bin/ls",
    "/usr/bin/sha256sum",
    "/bin/dash",
    "/usr/bin/sort",
];

fn cases() -> (Vec<String>, Vec<String>) {
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
    files.push(floor_bin().display().to_string());
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
    // What bench/floor says about the KVM it ran on (the test checks the kind it names).
    c.push(format!(
        "{} 1 > /tmp/f.out 2>&1; s=$?; echo \"FLOOR $(head -1 /tmp/f.out)\"; \
         [ $s = 0 ] && echo 'CASE floor PASS' || {{ echo \"CASE floor FAIL status $s\"; cat /tmp/f.out; }}",
        floor_bin().display()
    ));
    (c, files)
}

/// bench/floor's binary beside mvm's, built by cargo (another package; a no-op when it is
/// up to date).
fn floor_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let release = mvm_bin().parent().unwrap().to_path_buf();
            let bin = release.join("mvm-floor");
            let status = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--release",
                    "-q",
                    "-p",
                    "mvm-floor",
                    "--target-dir",
                ])
                .arg(release.parent().unwrap())
                .status()
                .expect("run cargo build -p mvm-floor");
            assert!(status.success() && bin.exists(), "cannot build mvm-floor");
            bin
        })
        .clone()
}

/// One emulated machine at a time: each is two busy vCPUs, and this host has two cores (three
/// at once made every one of them slow enough to time out).
static ONE_MACHINE: Mutex<()> = Mutex::new(());

/// The machine printed nothing for this long: it hung. Every `mvm run` in it has its own
/// 120 s limit (tests/svm/init.sh), so a hung mvm is a failed case, not this. What this catches
/// is the emulated machine itself stopping: QEMU 7.2's TCG (Debian 12's) now and then leaves
/// both of its vCPUs halted with no timer interrupt to come, or spinning in the machine's KVM
/// with interrupts off, with no program of ours able to make its kernel do either.
const STALL: Duration = Duration::from_secs(180);

/// Boots the machine with `cpu` and kvm-amd's `npt`, runs `cases`, and returns the console and
/// whether the machine hung (then it was stopped).
fn boot(cpu: &str, npt: u8, cases: &[String], files: &[String], attempt: usize) -> (String, bool) {
    let template =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/svm/init.sh"))
            .unwrap();
    let init = template
        .replace("@CASES@", &cases.join("\n"))
        .replace("@MVM@", &mvm_bin().display().to_string());
    let dir = common::scratch(&format!("svm-{cpu}-{npt}-{attempt}"));
    let init_path = dir.join("init");
    std::fs::write(&init_path, init).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/svm-machine");
    let start = Instant::now();
    let mut child = Command::new(script)
        .arg(cpu)
        .arg(npt.to_string())
        .arg(&init_path)
        .args(files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("run scripts/svm-machine");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        while matches!(r.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                break;
            }
            buf.clear();
        }
    });
    let mut console = String::new();
    let mut stalled = false;
    loop {
        match rx.recv_timeout(STALL) {
            Ok(line) => console.push_str(&line),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                stalled = true;
                // SIGTERM to the whole group: QEMU ends, and the script removes its files.
                // SAFETY: kill(2) on the process group this test made.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
                break;
            }
        }
    }
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let _ = child.wait();
    let console = console.replace("\r\n", "\n");
    std::fs::write(dir.join("console"), &console).unwrap();
    eprintln!(
        "svm machine {cpu} npt={npt} (boot {attempt}): {:?}{}\n{err}",
        start.elapsed(),
        if stalled { ", hung" } else { "" }
    );
    (console, stalled)
}

/// Runs every case on one kind of machine. A machine that hangs (see `STALL`) is booted again
/// for the cases left, the one it hung in first; the same case hanging it twice, or a third
/// hang, fails the test.
fn check(cpu: &str, npt: u8) {
    let _one = ONE_MACHINE.lock().unwrap_or_else(|e| e.into_inner());
    let (cases, files) = cases();
    let mut results: Vec<String> = Vec::new();
    let mut hung_at: Vec<usize> = Vec::new();
    let mut consoles = String::new();
    loop {
        let next = results.len();
        let (console, stalled) = boot(cpu, npt, &cases[next..], &files, hung_at.len());
        consoles.push_str(&console);
        let header = console
            .lines()
            .find(|l| l.contains("SVM-MACHINE"))
            .unwrap_or_else(|| panic!("the machine did not start:\n{console}"));
        assert!(
            header.contains(&format!("npt={}", if npt == 1 { "Y" } else { "N" })),
            "{header}"
        );
        assert!(header.contains("kvm=yes"), "{header}\n{console}");
        results.extend(
            console
                .lines()
                .filter(|l| l.starts_with("CASE "))
                .map(str::to_string),
        );
        if !stalled {
            assert!(
                console.contains("SVM-DONE"),
                "the cases did not finish:\n{console}"
            );
            break;
        }
        let at = results.len();
        assert!(
            at < cases.len() && !hung_at.contains(&at) && hung_at.len() < 2,
            "{cpu} npt={npt}: the machine hung in case {at} ({}) again:\n{consoles}",
            cases.get(at).map_or("", |c| &c[..c.len().min(60)])
        );
        eprintln!(
            "{cpu} npt={npt}: the machine hung in case {at} ({}); booting it again for the rest",
            &cases[at][..cases[at].len().min(60)]
        );
        hung_at.push(at);
    }
    let failed: Vec<&String> = results.iter().filter(|l| l.contains(" FAIL")).collect();
    let passed = results.iter().filter(|l| l.contains(" PASS")).count();
    assert!(failed.is_empty(), "{cpu} npt={npt}: {failed:?}\n{consoles}");
    assert_eq!(passed, cases.len(), "{consoles}");
    // The FP test saw AVX there (XCR0 0x7), which this PVM host does not offer.
    assert!(consoles.contains("CASE fpu-avx PASS"), "{consoles}");
    // bench/floor names the KVM it measured as bench/run reports it.
    let kind = if npt == 1 {
        "kvm SVM NPT"
    } else {
        "kvm SVM shadow-paging"
    };
    assert!(
        consoles.contains(&format!("FLOOR {kind}")),
        "{kind}:\n{consoles}"
    );
}

#[test]
#[ignore = "the emulated SVM machine (QEMU 7.2 TCG) hangs its own kernel too often for CI; run with --ignored (issue 8)"]
fn svm_epyc_nested_paging() {
    check("EPYC", 1);
}

#[test]
#[ignore = "the emulated SVM machine (QEMU 7.2 TCG) hangs its own kernel too often for CI; run with --ignored (issue 8)"]
fn svm_epyc_milan_with_protection_keys() {
    check("EPYC-Milan", 1);
}

#[test]
#[ignore = "the emulated SVM machine (QEMU 7.2 TCG) hangs its own kernel too often for CI; run with --ignored (issue 8)"]
fn svm_epyc_shadow_paging() {
    check("EPYC", 0);
}
