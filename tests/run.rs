//! Integration tests: drive the real `mvm` binary on real static programs (tests/programs and
//! Debian's busybox-static) and check what the guest did, comparing with a native run of the
//! same program wherever that makes sense.

#[path = "common/mod.rs"]
mod common;

use common::{
    assert_group_gone, first_difference, mvm_bin, program, pseudo_random_bytes, scratch, Outcome,
    Run, BUSYBOX,
};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// Asserts that the mvm run and the native run agree byte for byte on stdout and stderr and on
/// the status (the native status as a shell reports it: 128+N for death by signal N).
fn assert_same(vm: &Outcome, native: &Outcome) {
    assert_eq!(
        vm.code(),
        native.shell_status(),
        "status differs from the native run\n== mvm ==\n{}\n== native ==\n{}",
        vm.describe(),
        native.describe()
    );
    assert!(
        vm.stdout == native.stdout,
        "stdout differs from the native run\n== mvm ==\n{}\n== native ==\n{}",
        vm.describe(),
        native.describe()
    );
    assert!(
        vm.stderr == native.stderr,
        "stderr differs from the native run\n== mvm ==\n{}\n== native ==\n{}",
        vm.describe(),
        native.describe()
    );
}

/// Runs `prog args` under mvm and natively, with the same stdin, and asserts they agree.
fn compare(prog: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> Outcome {
    let mut vm = Run::mvm_run(&[], prog, args);
    let mut native = Run::native(prog, args);
    if let Some(data) = stdin {
        vm = vm.stdin(data.clone());
        native = native.stdin(data);
    }
    let (vm, native) = (vm.run(), native.run());
    assert_same(&vm, &native);
    vm
}

// ---- arguments and output ----------------------------------------------------------------------

#[test]
fn hello_args_with_spaces_empty_strings_and_utf8() {
    let out = compare(
        &program("hello"),
        &[
            "a b",
            "",
            "héllo wörld ✓ 日本",
            "quote\"back\\slash",
            "tab\there",
            "--not-a-flag",
        ],
        None,
    );
    assert!(
        out.stdout_str()
            .starts_with("hello, args: [\"a b\", \"\", \"héllo"),
        "{}",
        out.describe()
    );
}

#[test]
fn many_and_long_arguments() {
    let many: Vec<String> = (0..2000).map(|i| format!("arg-{i}")).collect();
    let long = "x".repeat(100_000);
    let mut args: Vec<&str> = many.iter().map(String::as_str).collect();
    args.push(&long);
    compare(&program("hello"), &args, None);
}

#[test]
fn hello_without_args() {
    compare(&program("hello"), &[], None);
}

#[test]
fn stderr_and_status_of_a_failing_program() {
    let out = compare(&program("crash"), &["no-such-fault"], None);
    out.assert_code(2);
    assert_eq!(out.stderr_str(), "crash: unknown fault\n");
}

#[test]
fn rust_std_program() {
    let prog = program("hello_rs");
    let args = ["one", "two words", "ünïcödé"];
    let vm = Run::mvm_run(&["-e", "MVM_GREETING=hi there"], &prog, &args).run();
    let native = Run::native(&prog, &args)
        .env("MVM_GREETING", "hi there")
        .run();
    assert_same(&vm, &native);
    assert!(
        vm.stdout_str().contains("MVM_GREETING=hi there"),
        "{}",
        vm.describe()
    );
}

// ---- exit statuses -----------------------------------------------------------------------------

#[test]
fn every_exit_status_passes_through() {
    let prog = program("exit_status");
    let threads = 4;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let prog = prog.clone();
            thread::spawn(move || {
                let mut failures = Vec::new();
                for status in (0..=255).filter(|s| s % threads == t) {
                    let out = Run::mvm_run(&[], &prog, &[&status.to_string()]).run();
                    if out.status.code() != Some(status)
                        || !out.stdout.is_empty()
                        || !out.stderr.is_empty()
                    {
                        failures.push(format!("exit {status}:\n{}", out.describe()));
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of 256 statuses wrong; first:\n{}",
        failures.len(),
        failures[0]
    );
}

// ---- faults ------------------------------------------------------------------------------------

fn check_fault(which: &str, signame: &str, status: i32) {
    let prog = program("crash");
    let native = Run::native(&prog, &[which]).run();
    assert_eq!(
        native.shell_status(),
        status,
        "native run\n{}",
        native.describe()
    );
    let vm = Run::mvm_run(&[], &prog, &[which]).run();
    vm.assert_code(status);
    assert_eq!(
        vm.stdout,
        native.stdout,
        "stdout before the fault\n{}",
        vm.describe()
    );
    vm.assert_mvm_error_line(&format!("killed by {signame}"));
    assert!(
        vm.stderr_str().contains("crash"),
        "names the program\n{}",
        vm.describe()
    );
}

#[test]
fn fault_null_deref_is_sigsegv() {
    check_fault("null", "SIGSEGV", 139);
}

#[test]
fn fault_ud2_is_sigill() {
    check_fault("ud2", "SIGILL", 132);
}

#[test]
fn fault_divide_by_zero_is_sigfpe() {
    check_fault("div0", "SIGFPE", 136);
}

#[test]
fn fault_abort_is_sigabrt() {
    check_fault("abort", "SIGABRT", 134);
}

#[test]
fn mprotect_downgrade_is_enforced() {
    let prog = program("mprotect_fault");
    let native = Run::native(&prog, &[]).run();
    assert_eq!(
        native.shell_status(),
        139,
        "native run\n{}",
        native.describe()
    );
    let vm = Run::mvm_run(&[], &prog, &[]).run();
    vm.assert_code(139);
    assert_eq!(vm.stdout, native.stdout, "{}", vm.describe());
    vm.assert_mvm_error_line("killed by SIGSEGV");
}

// ---- memory ------------------------------------------------------------------------------------

#[test]
fn mmap_cycles_never_see_a_stale_page() {
    let prog = program("mmap_cycles");
    let native = Run::native(&prog, &[]).run();
    assert_eq!(
        native.stdout_str(),
        "ok\n",
        "native run\n{}",
        native.describe()
    );
    let vm = Run::mvm_run(&[], &prog, &[]).run();
    assert_same(&vm, &native);
}

#[test]
fn huge_reservations_do_not_count_against_the_memory_limit() {
    let prog = program("mmap_cycles");
    let vm = Run::mvm_run(&["--memory", "64m"], &prog, &[]).run();
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "ok\n", "{}", vm.describe());
}

#[test]
fn malloc_churn() {
    let out = compare(&program("malloc_churn"), &[], None);
    assert_eq!(out.stdout_str(), "ok\n");
}

#[test]
fn memory_limit_kills_with_sigkill() {
    let prog = program("memhog");
    let vm = Run::mvm_run(&["--memory", "32m"], &prog, &["100"]).run();
    vm.assert_code(137);
    assert!(
        !vm.stdout_str().contains("touched"),
        "the program finished despite the limit\n{}",
        vm.describe()
    );
}

#[test]
fn memory_limit_allows_what_fits() {
    let prog = program("memhog");
    let vm = Run::mvm_run(&["--memory", "64m"], &prog, &["8"]).run();
    let native = Run::native(&prog, &["8"]).run();
    assert_same(&vm, &native);
}

#[test]
fn memory_limit_counts_only_what_is_mapped() {
    // 20 rounds of map, touch and unmap 16 MiB: 320 MiB in all, never more than 16 at once.
    let prog = program("memhog");
    let vm = Run::mvm_run(&["--memory", "32m"], &prog, &["16", "20"]).run();
    let native = Run::native(&prog, &["16", "20"]).run();
    assert_same(&vm, &native);
}

#[test]
fn memhog_without_limit() {
    compare(&program("memhog"), &["100"], None);
}

#[test]
fn hostile_arguments_get_linux_errnos() {
    let out = compare(&program("bad_args"), &[], None);
    assert!(out.stdout_str().ends_with("\nok\n"), "{}", out.describe());
}

#[test]
fn clocks_sleep_random_uname() {
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let prog = program("misc");
    let out = Run::mvm_run(&[], &prog, &[&format!("{host:.3}")]).run();
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "ok\n", "{}", out.describe());
}

// ---- environment and cwd -----------------------------------------------------------------------

#[test]
fn environment_with_env_host_inherited_and_overridden() {
    let prog = program("env");
    let names = [
        "MVM_T_INHERITED",
        "MVM_T_OVERRIDE",
        "MVM_T_NEW",
        "MVM_T_EMPTY",
        "MVM_T_EQ",
        "MVM_T_UNSET",
        "PATH",
    ];
    let vm = Run::mvm_run(
        &[
            "--env-host",
            "-e",
            "MVM_T_OVERRIDE=vm",
            "-e",
            "MVM_T_NEW=new value",
            "-e",
            "MVM_T_EMPTY=",
            "-e",
            "MVM_T_EQ=a=b=c",
        ],
        &prog,
        &names,
    )
    .env("MVM_T_INHERITED", "from the host ✓")
    .env("MVM_T_OVERRIDE", "host")
    .env_remove("MVM_T_UNSET")
    .run();
    let native = Run::native(&prog, &names)
        .host_env()
        .env("MVM_T_INHERITED", "from the host ✓")
        .env("MVM_T_OVERRIDE", "vm")
        .env("MVM_T_NEW", "new value")
        .env("MVM_T_EMPTY", "")
        .env("MVM_T_EQ", "a=b=c")
        .env_remove("MVM_T_UNSET")
        .run();
    assert_same(&vm, &native);
    let out = vm.stdout_str();
    for line in [
        "MVM_T_INHERITED=from the host ✓\n",
        "MVM_T_OVERRIDE=vm\n",
        "MVM_T_EMPTY=\n",
        "MVM_T_UNSET unset\n",
    ] {
        assert!(out.contains(line), "missing {line:?}\n{}", vm.describe());
    }
}

#[test]
fn whole_environment_passes_unchanged_with_env_host() {
    let prog = program("env");
    let vm = Run::mvm_run(&["--env-host"], &prog, &["--all"])
        .env("MVM_T_SPACES", " a  b ")
        .env("MVM_T_UTF8", "grüße ✓")
        .run();
    let native = Run::native(&prog, &["--all"])
        .host_env()
        .env("MVM_T_SPACES", " a  b ")
        .env("MVM_T_UTF8", "grüße ✓")
        .run();
    assert_same(&vm, &native);
}

#[test]
fn cwd_is_inherited_from_mvm() {
    let prog = program("env");
    // A directory the default view shows (the checkout may be under /tmp, which it does not).
    let dir = Path::new("/usr/share");
    let vm = Run::mvm_run(&[], &prog, &[]).cwd(dir).run();
    let native = Run::native(&prog, &[]).cwd(dir).run();
    assert_same(&vm, &native);
    assert_eq!(vm.stdout_str(), format!("cwd={}\n", dir.display()));
}

#[test]
fn cwd_under_tmp_falls_back_to_root() {
    // /tmp is private to the run, so mvm's own cwd under it is not in the view: the program
    // starts in / rather than failing to start.
    let dir = std::env::temp_dir().join(format!("mvm-cwd-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let vm = Run::mvm_run(&[], program("env"), &[]).cwd(&dir).run();
    std::fs::remove_dir_all(&dir).unwrap();
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "cwd=/\n", "{}", vm.describe());
}

#[test]
fn cwd_flag_sets_the_working_directory() {
    let prog = program("env");
    let vm = Run::mvm_run(&["-w", "/tmp"], &prog, &[]).run();
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "cwd=/tmp\n", "{}", vm.describe());
}

// ---- stdio -------------------------------------------------------------------------------------

const BIG: usize = 100_000_000;

fn pipe_through(prog: &Path, args: &[&str]) {
    let data = pseudo_random_bytes(BIG, 0x5eed_1234_abcd_ef01);
    let start = Instant::now();
    let vm = Run::mvm_run(&[], prog, args).stdin(data.clone()).run();
    vm.assert_code(0);
    assert!(vm.stderr.is_empty(), "{}", vm.describe());
    if let Some(at) = first_difference(&vm.stdout, &data) {
        panic!(
            "output differs from input at byte {at} (got {} bytes of {})",
            vm.stdout.len(),
            data.len()
        );
    }
    eprintln!(
        "{} {:?}: 100 MB through a pipe in {:?}",
        prog.display(),
        args,
        start.elapsed()
    );
}

#[test]
fn pipe_100mb_through_cat_stdin() {
    pipe_through(&program("cat_stdin"), &[]);
}

#[test]
fn pipe_100mb_through_busybox_cat() {
    pipe_through(Path::new(BUSYBOX), &["cat"]);
}

#[test]
fn small_and_empty_stdin() {
    let out = compare(&program("cat_stdin"), &[], Some(b"a small line\n".to_vec()));
    assert_eq!(out.stdout, b"a small line\n");
    compare(&program("cat_stdin"), &[], None);
    compare(&program("cat_stdin"), &[], Some(Vec::new()));
}

// ---- busybox -----------------------------------------------------------------------------------

#[test]
fn busybox_echo() {
    compare(
        Path::new(BUSYBOX),
        &["echo", "hello", "from", "busybox", "✓"],
        None,
    );
}

#[test]
fn busybox_true_and_false() {
    compare(Path::new(BUSYBOX), &["true"], None).assert_code(0);
    compare(Path::new(BUSYBOX), &["false"], None).assert_code(1);
}

#[test]
fn busybox_stdin_applets() {
    let data = pseudo_random_bytes(3_000_000, 42);
    compare(Path::new(BUSYBOX), &["cat"], Some(data.clone()));
    compare(Path::new(BUSYBOX), &["wc", "-c"], Some(data.clone()));
    let out = compare(Path::new(BUSYBOX), &["sha256sum"], Some(data));
    assert_eq!(out.stdout.len(), 64 + 3 + 1, "{}", out.describe());
}

#[test]
fn busybox_seq() {
    let out = compare(Path::new(BUSYBOX), &["seq", "1", "1000"], None);
    assert_eq!(out.stdout_str().lines().count(), 1000);
}

#[test]
fn busybox_large_output() {
    let out = compare(Path::new(BUSYBOX), &["seq", "1", "300000"], None);
    assert!(out.stdout.len() > 1_000_000);
}

#[test]
fn writing_to_a_closed_pipe_is_sigpipe() {
    let bb = Path::new(BUSYBOX);
    let vm = Run::mvm_run(&[], bb, &["yes"]).stdout_limit(1).run();
    let native = Run::native(bb, &["yes"]).stdout_limit(1).run();
    assert_eq!(native.shell_status(), 141, "{}", native.describe());
    assert_eq!(vm.code(), 141, "{}", vm.describe());
}

#[test]
fn busybox_sleep() {
    let out = compare(Path::new(BUSYBOX), &["sleep", "0.1"], None);
    out.assert_code(0);
    assert!(
        out.elapsed >= Duration::from_millis(100),
        "{}",
        out.describe()
    );
}

#[test]
fn program_found_on_path() {
    let vm = Run::mvm(["run", "-e", "PATH", "busybox", "echo", "via", "PATH"])
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .run();
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "via PATH\n", "{}", vm.describe());
}

// ---- timeouts and signals ----------------------------------------------------------------------

#[test]
fn timeout_expires_with_124() {
    let prog = program("sleep_forever");
    let cases = [
        ("300ms", 300),
        ("500ms", 500),
        ("0.5s", 500),
        ("1", 1000),
        ("2s", 2000),
    ];
    let handles: Vec<_> = cases
        .iter()
        .map(|&(spec, ms)| {
            let prog = prog.clone();
            thread::spawn(move || {
                let running = Run::mvm_run(&["--timeout", spec], &prog, &[]).spawn();
                let pgid = running.pid();
                let out = running.wait();
                (spec, ms, pgid, out)
            })
        })
        .collect();
    for h in handles {
        let (spec, ms, pgid, out) = h.join().unwrap();
        assert_eq!(out.code(), 124, "--timeout {spec}\n{}", out.describe());
        assert_eq!(
            out.stdout_str(),
            "ready\n",
            "--timeout {spec}\n{}",
            out.describe()
        );
        assert!(
            out.elapsed >= Duration::from_millis(ms)
                && out.elapsed < Duration::from_millis(ms + 5000),
            "--timeout {spec} ended after {:?}",
            out.elapsed
        );
        assert_group_gone(pgid);
    }
}

#[test]
fn timeout_ends_a_program_that_never_makes_a_syscall() {
    let running = Run::mvm_run(&["--timeout", "300ms"], program("spin"), &[]).spawn();
    let pgid = running.pid();
    let out = running.wait();
    out.assert_code(124);
    assert_eq!(out.stdout_str(), "ready\n", "{}", out.describe());
    assert!(
        out.elapsed < Duration::from_secs(5),
        "took {:?}",
        out.elapsed
    );
    assert_group_gone(pgid);
}

#[test]
fn timeout_ends_a_program_blocked_reading_stdin() {
    let running = Run::mvm_run(&["--timeout", "300ms"], program("cat_stdin"), &[])
        .hold_stdin()
        .spawn();
    let pgid = running.pid();
    let out = running.wait();
    out.assert_code(124);
    assert!(
        out.elapsed < Duration::from_secs(5),
        "took {:?}",
        out.elapsed
    );
    assert_group_gone(pgid);
}

#[test]
fn timeout_that_does_not_expire() {
    let prog = program("hello");
    let vm = Run::mvm_run(&["--timeout", "30s"], &prog, &["x"]).run();
    let native = Run::native(&prog, &["x"]).run();
    assert_same(&vm, &native);
}

fn signal_ends_vm(sig: i32, want: i32) {
    signal_ends(
        Run::mvm_run(&[], program("sleep_forever"), &[]),
        "ready\n",
        sig,
        want,
    );
}

/// Starts `run`, waits for `ready` on its stdout (empty: waits 300 ms), sends `sig` to mvm and
/// checks the status and that nothing is left behind.
fn signal_ends(run: Run, ready: &str, sig: i32, want: i32) {
    let mut running = run.spawn();
    if ready.is_empty() {
        thread::sleep(Duration::from_millis(300));
    } else {
        running.wait_for_stdout(ready);
    }
    let pgid = running.pid();
    let sent = Instant::now();
    running.signal(sig);
    let out = running.wait();
    // mvm may exit with 128+N or re-raise the signal on itself; a shell reports both as 128+N.
    assert_eq!(out.shell_status(), want, "{}", out.describe());
    assert!(
        out.status.code().is_some() || out.status.signal() == Some(sig),
        "mvm died of another signal\n{}",
        out.describe()
    );
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "took {:?} to stop",
        sent.elapsed()
    );
    assert!(
        !Path::new(&format!("/proc/{pgid}")).exists(),
        "mvm pid {pgid} still there"
    );
    assert_group_gone(pgid);
}

#[test]
fn sigterm_to_mvm_gives_143() {
    signal_ends_vm(libc::SIGTERM, 143);
}

#[test]
fn sigint_to_mvm_gives_130() {
    signal_ends_vm(libc::SIGINT, 130);
}

#[test]
fn sigterm_ends_a_program_that_never_makes_a_syscall() {
    signal_ends(
        Run::mvm_run(&[], program("spin"), &[]),
        "ready\n",
        libc::SIGTERM,
        143,
    );
}

#[test]
fn sigint_ends_a_program_blocked_reading_stdin() {
    let run = Run::mvm_run(&[], program("cat_stdin"), &[]).hold_stdin();
    signal_ends(run, "", libc::SIGINT, 130);
}

#[test]
fn kernel_pages_are_out_of_reach() {
    let prog = program("kernel_probe");
    // The kernel's code is readable (PVM needs ring-0 code on a user-readable page): the entry
    // starts `out 0xe0, al` (e6 e0).
    let out = Run::mvm_run(&[], &prog, &["read-code"]).run();
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        "code starts e6 e0\nsurvived read-code\n",
        "{}",
        out.describe()
    );
    for what in ["write-code", "read-gdt", "read-stack", "read-cpu-area"] {
        let out = Run::mvm_run(&[], &prog, &[what]).run();
        out.assert_code(139);
        assert!(
            out.stderr_str().contains("killed by SIGSEGV"),
            "{}",
            out.describe()
        );
        assert!(!out.stdout_str().contains("survived"), "{}", out.describe());
    }
}

#[test]
fn clocks_are_read_without_exits() {
    // The vDSO answers clock_gettime, gettimeofday and time in the guest: right, monotonic, and
    // without a syscall (the program's own explicit syscalls are the only clock_gettime exits).
    let prog = program("vdso_clock");
    let out = compare(&prog, &[], None);
    assert_eq!(out.stdout_str(), "ok\n", "{}", out.describe());
    let traced = Run::mvm_run(&["--trace"], &prog, &[]).run();
    traced.assert_code(0);
    let calls = traced
        .stderr_str()
        .lines()
        .filter(|l| l.starts_with("clock_gettime("))
        .count();
    assert_eq!(
        calls,
        12,
        "only the explicit syscalls exit\n{}",
        traced.describe()
    );
}

#[test]
fn large_pages_split_zero_unmap_and_reuse() {
    // Anonymous memory covering aligned 2 MiB blocks gets large pages; holes, read-only pages,
    // MADV_DONTNEED and unmap/remap inside them must behave exactly as with 4 KiB pages.
    let out = compare(&program("large_pages"), &[], None);
    assert_eq!(out.stdout_str(), "ok\n", "{}", out.describe());
}

// ---- mvm's own errors --------------------------------------------------------------------------

#[test]
fn missing_kvm_gives_125() {
    // /dev/kvm hidden in a private mount namespace: one clear line, mvm's own status.
    let script = format!(
        "mount -t tmpfs none /dev && exec {} run {}",
        mvm_bin().display(),
        program("hello").display()
    );
    let out = Run::native("/usr/bin/unshare", &["-m", "sh", "-c", &script]).run();
    out.assert_code(125);
    assert!(
        out.stderr_str().starts_with("mvm: cannot open /dev/kvm"),
        "{}",
        out.describe()
    );
    assert_eq!(out.stderr_str().lines().count(), 1, "{}", out.describe());
}

#[test]
fn bad_flags_give_125() {
    let hello = program("hello");
    let hello = hello.to_str().unwrap();
    let cases: [&[&str]; 7] = [
        &["run", "--no-such-flag", hello],
        &["run", "-Z", hello],
        &["run", "--memory", hello],
        &["run", "--memory", "lots", hello],
        &["run", "--timeout", "never", hello],
        &["run"],
        &["no-such-subcommand"],
    ];
    let mut failures = Vec::new();
    for args in cases {
        let out = Run::mvm(args.iter().copied()).run();
        let err = out.stderr_str();
        let one_line = err.lines().count() == 1 && err.starts_with("mvm: ");
        if out.status.code() != Some(125) || !one_line || !out.stdout.is_empty() {
            failures.push(format!(
                "mvm {args:?}: want 125 and one `mvm: ` line\n{}",
                out.describe()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn missing_program_gives_127() {
    let out = Run::mvm(["run", "/nonexistent/program"]).run();
    out.assert_code(127);
    assert!(out.stderr_str().starts_with("mvm: "), "{}", out.describe());
    let out = Run::mvm(["run", "no-such-program-anywhere-mvm"]).run();
    out.assert_code(127);
}

#[test]
fn not_executable_gives_126() {
    let dir = scratch("not_executable");
    // A real static ELF without the execute bit.
    let no_x = dir.join("hello-no-x");
    std::fs::copy(program("hello"), &no_x).unwrap();
    std::fs::set_permissions(&no_x, std::fs::Permissions::from_mode(0o644)).unwrap();
    // Executable, but not ELF: a text file and a shell script without a shebang.
    let text = dir.join("text");
    std::fs::write(&text, "just some text\n").unwrap();
    std::fs::set_permissions(&text, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = dir.join("script");
    std::fs::write(&script, "echo hi\nexit 3\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Too short to be anything.
    let empty = dir.join("empty");
    std::fs::write(&empty, "").unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o755)).unwrap();
    for path in [&no_x, &text, &script, &empty, &dir] {
        let out = Run::mvm(["run".as_ref(), path.as_os_str()]).run();
        assert_eq!(out.code(), 126, "{}\n{}", path.display(), out.describe());
        assert!(
            out.stderr_str().starts_with("mvm: "),
            "{}\n{}",
            path.display(),
            out.describe()
        );
        assert!(out.stdout.is_empty(), "{}", out.describe());
    }
}

#[test]
fn dynamically_linked_programs_run() {
    // glibc's dynamic loader (PT_INTERP), its libraries opened and mapped from the view.
    let out = compare(Path::new("/bin/true"), &[], None);
    out.assert_code(0);
    compare(Path::new("/bin/echo"), &["dynamic", "echo"], None);
    compare(Path::new("/bin/false"), &[], None);
}

// ---- diagnostics -------------------------------------------------------------------------------

#[test]
fn trace_prints_syscalls() {
    let prog = program("hello");
    let native = Run::native(&prog, &["traced"]).run();
    let vm = Run::mvm_run(&["--trace"], &prog, &["traced"]).run();
    vm.assert_code(0);
    assert_eq!(vm.stdout, native.stdout, "{}", vm.describe());
    let want = format!(" = {}", native.stdout.len());
    assert!(
        vm.stderr_str()
            .lines()
            .any(|l| l.contains("write(1, ") && l.contains(&want)),
        "no `write(1, ...) {want}` line in the trace\n{}",
        vm.describe()
    );
    assert!(
        vm.stderr_str().lines().any(|l| l.contains("exit_group(0")),
        "no exit_group in the trace\n{}",
        vm.describe()
    );
}

#[test]
fn timings_print_phases() {
    let prog = program("hello");
    let native = Run::native(&prog, &["timed"]).run();
    let vm = Run::mvm_run(&["--timings"], &prog, &["timed"]).run();
    vm.assert_code(0);
    assert_eq!(vm.stdout, native.stdout, "{}", vm.describe());
    assert!(vm.stderr_str().lines().count() >= 2, "{}", vm.describe());
}

#[test]
fn version_and_help() {
    let v = Run::mvm(["--version"]).run();
    v.assert_code(0);
    assert!(
        v.stdout_str().contains(env!("CARGO_PKG_VERSION")),
        "{}",
        v.describe()
    );
    let h = Run::mvm(["--help"]).run();
    h.assert_code(0);
    assert!(h.stdout_str().contains("run"), "{}", h.describe());
}

// ---- cost --------------------------------------------------------------------------------------

#[test]
fn many_syscalls() {
    let n = 20_000;
    let prog = program("getppid_loop");
    let out = compare(&prog, &[&n.to_string()], None);
    eprintln!(
        "{n} getppid calls under mvm in {:?} ({:?} each, start-up included)",
        out.elapsed,
        out.elapsed / n
    );
}

#[test]
fn scripts_and_bad_executables_as_linux_treats_them() {
    // A `#!` interpreter that is a script itself runs; `#!/bin/sh\r` (a CRLF script) names a
    // file that does not exist; a missing interpreter is reported as the interpreter (127); a
    // truncated ELF is ENOEXEC, which a shell answers by running the file as a script through
    // /proc/self/exe. Each inside a guest shell against the same shell natively, and each
    // started by `mvm run` with the status a shell gives.
    let dir = scratch("scripts_as_linux");
    let write = |name: &str, body: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.to_str().unwrap().to_string()
    };
    let inner = write("inner", b"#!/bin/sh\necho inner \"$@\"\n");
    let outer = write("outer", format!("#!{inner}\necho outer\n").as_bytes());
    let crlf = write("crlf", b"#!/bin/sh\r\necho crlf\r\n");
    let missing = write("missing", b"#!/nonexistent/interpreter\n");
    let not_utf8 = write("not-utf8", b"#!/nonexistent/\xff\xc3(\n");
    let elf = std::fs::read(program("hello")).unwrap();
    let truncated = write("truncated", &elf[..64]);
    let vol = format!("{}:{}", dir.display(), dir.display());
    for script in [&outer, &crlf, &missing] {
        let line = format!("{script} a b; echo status $?");
        let native = Run::native(BUSYBOX, &["sh", "-c", &line]).run();
        let vm = Run::mvm_run(&["-v", &vol], BUSYBOX, &["sh", "-c", &line]).run();
        assert_same(&vm, &native);
    }
    // execve's own errors, seen without a shell's fallbacks.
    let py = "import os, sys\nfor p in sys.argv[1:]:\n    try:\n        os.execv(p, [p])\n    except OSError as e:\n        print(p, e.errno)\n";
    let args = ["-c", py, &truncated, &crlf, &missing];
    let native = Run::native("/usr/bin/python3", &args).run();
    let vm = Run::mvm_run(&["-v", &vol], "/usr/bin/python3", &args).run();
    assert_same(&vm, &native);
    assert!(
        vm.stdout_str().contains(" 8\n"),
        "ENOEXEC for a truncated ELF\n{}",
        vm.describe()
    );
    let run = |script: &str| Run::mvm_run(&["-v", &vol], script, &["a"]).run();
    let out = run(&outer);
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        format!("inner {outer} a\n"),
        "{}",
        out.describe()
    );
    run(&crlf)
        .assert_code(127)
        .assert_mvm_error_line("bad interpreter /bin/sh\\r: no such file or directory");
    run(&missing)
        .assert_code(127)
        .assert_mvm_error_line("bad interpreter /nonexistent/interpreter");
    // A name that is not UTF-8 is shown with those bytes escaped, as strace escapes them.
    run(&not_utf8)
        .assert_code(127)
        .assert_mvm_error_line("bad interpreter /nonexistent/\\xff\\xc3(: no such file");
    run(&truncated)
        .assert_code(126)
        .assert_mvm_error_line("cannot execute");
}

#[test]
fn the_cpus_are_counted_in_sys_as_programs_count_them() {
    // glibc's _NPROCESSORS_CONF (and stress-ng) count /sys/devices/system/cpu/cpuN; it must say
    // what sched_getaffinity (nproc) says: the run's --cpus.
    for cpus in ["1", "2"] {
        let conf = Run::mvm_run(
            &["--cpus", cpus],
            "/usr/bin/getconf",
            &["_NPROCESSORS_CONF"],
        )
        .run();
        conf.assert_code(0);
        assert_eq!(
            conf.stdout_str(),
            format!("{cpus}\n"),
            "{}",
            conf.describe()
        );
        let online = Run::mvm_run(
            &["--cpus", cpus],
            BUSYBOX,
            &["cat", "/sys/devices/system/cpu/online"],
        )
        .run();
        let want = if cpus == "1" { "0\n" } else { "0-1\n" };
        assert_eq!(online.stdout_str(), want, "{}", online.describe());
    }
}

#[test]
fn getrusage_and_times_report_the_programs_time_and_memory() {
    // Served since stress-ng's stressors called them and got ENOSYS.
    let py = "import os, resource\nsum(range(3 * 10**6))\nr = resource.getrusage(resource.RUSAGE_SELF)\nprint(r.ru_utime > 0, r.ru_maxrss > 1000, os.times().user > 0)\nc = resource.getrusage(resource.RUSAGE_CHILDREN)\nprint(c.ru_utime >= 0)\n";
    let native = Run::native("/usr/bin/python3", &["-c", py]).run();
    let vm = Run::mvm_run(&[], "/usr/bin/python3", &["-c", py]).run();
    assert_same(&vm, &native);
    assert_eq!(
        vm.stdout_str(),
        "True True True\nTrue\n",
        "{}",
        vm.describe()
    );
}

#[test]
fn nice_raises_a_threads_niceness_and_never_lowers_it_below_mvms() {
    // getpriority/setpriority were ENOSYS. A program's threads are mvm's host threads: raising
    // their niceness is real (coreutils' nice, python's os.nice), lowering it below mvm's own
    // is refused, so a program cannot take more of the host than mvm was given.
    let py = "import os\nprint(os.nice(0), os.nice(5), os.getpriority(os.PRIO_PROCESS, 0))\n";
    let native = Run::native("/usr/bin/python3", &["-c", py]).run();
    let vm = Run::mvm_run(&[], "/usr/bin/python3", &["-c", py]).run();
    assert_same(&vm, &native);
    let native = Run::native("/usr/bin/nice", &["-n", "3", "/usr/bin/nice"]).run();
    let vm = Run::mvm_run(&[], "/usr/bin/nice", &["-n", "3", "/usr/bin/nice"]).run();
    assert_same(&vm, &native);
    let lower = "import os\ntry:\n    os.nice(-5)\nexcept OSError as e:\n    print(e.errno)\n";
    let vm = Run::mvm_run(&[], "/usr/bin/python3", &["-c", lower]).run();
    assert_eq!(
        vm.stdout_str(),
        "1\n",
        "EPERM (glibc's nice for EACCES)\n{}",
        vm.describe()
    );
}
