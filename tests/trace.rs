//! `--trace` and `--trace-file`: real programs in real micro-VMs, their trace compared with what
//! the real `strace -f` prints for the same programs run natively.

#[path = "common/mod.rs"]
mod common;

use common::{program, scratch, Outcome, Run, BUSYBOX};
use std::collections::BTreeSet;

const STRACE: &str = "/usr/bin/strace";

/// `line` with every hex number as `ADDR`, the `[pid N]` prefix's number and a siginfo's
/// sender (`si_pid=N`) as `PID`, and the padding before ` = ` (which depends on the addresses'
/// widths) as one space.
fn normalize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    if let Some(after) = rest.strip_prefix("[pid ") {
        if let Some(end) = after.find("] ") {
            if after[..end].trim().chars().all(|c| c.is_ascii_digit()) {
                out.push_str("[pid PID] ");
                rest = &after[end + 2..];
            }
        }
    }
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'0' && b.get(i + 1) == Some(&b'x') {
            let mut j = i + 2;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                j += 1;
            }
            if j > i + 2 {
                out.push_str("ADDR");
                i = j;
                continue;
            }
        }
        if rest[i..].starts_with("si_pid=") {
            let digits = rest[i + 7..].bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                out.push_str("si_pid=PID");
                i += 7 + digits;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    // `) = ` after any padding.
    match out.find(")  ") {
        Some(p) if out[p + 1..].trim_start().starts_with("= ") => {
            let tail = out[p + 1..].trim_start().to_string();
            format!("{} {tail}", &out[..=p])
        }
        _ => out,
    }
}

/// The syscall a trace line shows (`None` for signal and exit lines, and strace's own), after
/// its pid prefix (`[pid N] `, or strace -o's `N `).
fn call_name(line: &str) -> Option<&str> {
    let mut l = line;
    if let Some(after) = l.strip_prefix("[pid ") {
        l = &after[after.find("] ")? + 2..];
    } else if l.starts_with(|c: char| c.is_ascii_digit()) {
        l = l
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start();
    }
    let end = l.find('(')?;
    let name = &l[..end];
    (!name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'))
    .then_some(name)
}

/// Whether `line` is one whole trace line: a call with its result, or a `--- SIG ---` or
/// `+++ ... +++` line, after an optional `[pid N] ` prefix.
fn is_whole_trace_line(line: &str) -> bool {
    let mut l = line;
    if let Some(after) = l.strip_prefix("[pid ") {
        match after.find("] ") {
            Some(end) if after[..end].trim().parse::<u32>().is_ok() => l = &after[end + 2..],
            _ => return false,
        }
    }
    if l.starts_with("--- ") {
        return l.ends_with(" ---");
    }
    if l.starts_with("+++ ") {
        return l.ends_with(" +++");
    }
    let Some(name) = call_name(l) else {
        return false;
    };
    let after = &l[name.len()..];
    match after.rfind(") ") {
        Some(p) => {
            let result = after[p + 1..].trim_start();
            result.starts_with("= ") && result.len() > 2
        }
        None => false,
    }
}

fn both(what: &str, vm: &str, native: &str) -> String {
    format!("{what}\n== mvm --trace ==\n{vm}\n== strace -f ==\n{native}")
}

/// Runs `prog args` under `mvm run --trace` and under `strace -f` natively; returns both
/// outcomes (strace's trace is its stderr).
fn traced(prog: &str, args: &[&str]) -> (Outcome, Outcome) {
    let vm = Run::mvm_run(&["--trace"], prog, args).run();
    let mut sargs = vec!["-f", prog];
    sargs.extend_from_slice(args);
    let native = Run::native(STRACE, &sargs).run();
    (vm, native)
}

#[test]
fn a_pipelines_calls_are_named_as_strace_names_them() {
    let scripts: [(&str, &[&str]); 2] = [
        (BUSYBOX, &["sh", "-c", "echo hi | /bin/busybox cat"]),
        (
            "/bin/dash",
            &["-c", "echo hi | /bin/busybox cat; /bin/busybox true"],
        ),
    ];
    for (prog, args) in scripts {
        let (vm, native) = traced(prog, args);
        vm.assert_code(0);
        native.assert_code(0);
        assert_eq!(vm.stdout, native.stdout, "{}", vm.describe());
        let (vt, nt) = (vm.stderr_str(), native.stderr_str());
        let names = |t: &str| -> BTreeSet<String> {
            t.lines()
                .filter_map(call_name)
                .map(str::to_string)
                .collect()
        };
        let (vn, nn) = (names(&vt), names(&nt));
        let extra: Vec<&String> = vn.difference(&nn).collect();
        assert!(
            extra.is_empty(),
            "{}",
            both(
                &format!("calls strace does not name so: {extra:?}"),
                &vt,
                &nt
            )
        );
        for want in [
            "execve",
            "pipe2",
            "dup2",
            "wait4",
            "exit_group",
            "rt_sigaction",
        ] {
            assert!(
                vn.contains(want),
                "{}",
                both(&format!("no {want}"), &vt, &nt)
            );
        }
        assert!(
            vn.contains("clone") || vn.contains("vfork") || vn.contains("clone3"),
            "{}",
            both("no process made", &vt, &nt)
        );
        // The first line is the program's execve with its argv, as strace's.
        let first = |t: &str| t.lines().next().map(normalize).unwrap_or_default();
        assert_eq!(
            first(&vt),
            first(&nt),
            "{}",
            both("first lines differ", &vt, &nt)
        );
        // Other programs' lines carry `[pid N]` as strace -f's do (five columns for the pid);
        // each program ends with its `+++` line; the last line is the first program's end.
        let prefixed = |t: &str| {
            t.lines()
                .filter(|l| l.starts_with("[pid ") && l.as_bytes().get(10) == Some(&b']'))
                .count()
        };
        assert!(prefixed(&vt) > 0, "{}", both("no [pid N] lines", &vt, &nt));
        assert!(prefixed(&nt) > 0, "{}", both("no [pid N] lines", &vt, &nt));
        let exits = |t: &str| {
            t.lines()
                .filter(|l| l.ends_with("+++ exited with 0 +++"))
                .count()
        };
        assert_eq!(
            exits(&vt),
            exits(&nt),
            "{}",
            both("+++ lines differ", &vt, &nt)
        );
        assert_eq!(vt.lines().last(), Some("+++ exited with 0 +++"), "{vt}");
        assert!(vt.lines().all(is_whole_trace_line), "{vt}");
    }
}

/// The lines of `trace` from the program's `BEGIN` write to its `END` write, with the first
/// line (execve) and the last two (exit_group and its `+++`), normalized.
fn calls_section(trace: &str) -> Vec<String> {
    let lines: Vec<&str> = trace.lines().collect();
    let begin = lines
        .iter()
        .position(|l| l.starts_with("write(1, \"BEGIN\\n\""));
    let end = lines
        .iter()
        .position(|l| l.starts_with("write(1, \"END\\n\""));
    let (Some(begin), Some(end)) = (begin, end) else {
        return vec![];
    };
    let mut out = vec![normalize(lines[0])];
    out.extend(lines[begin..=end].iter().map(|l| normalize(l)));
    out.extend(
        lines[lines.len().saturating_sub(2)..]
            .iter()
            .map(|l| normalize(l)),
    );
    out
}

#[test]
fn a_fixed_list_of_calls_prints_as_strace_prints_it() {
    let prog = program("trace_calls");
    let prog = prog.to_str().unwrap();
    let file = format!("/tmp/mvm-trace-calls-{}.file", std::process::id());
    let dir = format!("/tmp/mvm-trace-calls-{}.dir", std::process::id());
    let (vm, native) = traced(prog, &[&file, &dir]);
    vm.assert_code(0);
    native.assert_code(0);
    assert_eq!(vm.stdout_str(), "BEGIN\nEND\n", "{}", vm.describe());
    let (vt, nt) = (vm.stderr_str(), native.stderr_str());
    let (vs, ns) = (calls_section(&vt), calls_section(&nt));
    assert!(
        ns.len() > 70,
        "{}",
        both("strace's trace has no BEGIN..END", &vt, &nt)
    );
    for (i, (v, n)) in vs.iter().zip(&ns).enumerate() {
        assert_eq!(
            v,
            n,
            "{}",
            both(&format!("line {i} of the section differs"), &vt, &nt)
        );
    }
    assert_eq!(
        vs.len(),
        ns.len(),
        "{}",
        both("section lengths differ", &vt, &nt)
    );
    // Whatever the comparison covers, these are in it.
    for want in [
        "O_RDWR|O_CREAT|O_TRUNC|O_CLOEXEC, 0640) = 3",
        "-1 ENOENT (No such file or directory)",
        "-1 ECHILD (No child processes)",
        "-1 EBADF (Bad file descriptor)",
        "-1 ECONNREFUSED (Connection refused)",
        "sin_addr=inet_addr(\"127.0.0.1\")",
        "sa_flags=SA_RESTORER|SA_RESTART",
        "[USR2 RT_4]",
        "~[HUP CHLD]",
        "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ADDR",
        "{st_mode=S_IFREG|0640, st_size=51, ...}",
        "\\0\\1\\0017\\177\\377\\\"\\\\ and more th\"...",
        "FUTEX_WAIT_PRIVATE",
        "ARCH_GET_FS",
        "RLIMIT_CORE",
        "{tv_sec=0, tv_nsec=1000000}",
        "--- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=PID, si_uid=0} ---",
        "FUTEX_OP_ADD<<28|ADDR<<12|FUTEX_OP_CMP_GT<<24|0) = 0",
        "flags=CLONE_SIGHAND|ADDR|SIGCHLD) = -1 EINVAL (Invalid argument)",
    ] {
        assert!(
            vs.iter().any(|l| l.contains(want)),
            "{}",
            both(&format!("no {want:?} in the section"), &vt, &nt)
        );
    }
}

#[test]
fn a_killing_signal_ends_the_trace_as_in_strace() {
    let (vm, native) = traced(BUSYBOX, &["sh", "-c", "kill -TERM $$"]);
    assert_eq!(vm.code(), 128 + libc::SIGTERM, "{}", vm.describe());
    let (vt, nt) = (vm.stderr_str(), native.stderr_str());
    let tail = |t: &str| -> Vec<String> {
        let lines: Vec<&str> = t.lines().filter(|l| !l.starts_with("mvm: ")).collect();
        lines[lines.len().saturating_sub(2)..]
            .iter()
            .map(|l| normalize(l))
            .collect()
    };
    assert_eq!(
        tail(&vt),
        tail(&nt),
        "{}",
        both("the ends differ", &vt, &nt)
    );
    assert_eq!(
        tail(&vt).last().map(String::as_str),
        Some("+++ killed by SIGTERM +++")
    );
}

#[test]
fn trace_file_takes_the_trace_and_leaves_stderr_to_the_program() {
    let dir = scratch("trace_file");
    let file = dir.join("trace.out");
    std::fs::write(&file, "stale content that must go\n".repeat(100)).unwrap();
    let script = ["sh", "-c", "echo out; echo err >&2; ls /proc/self/fd >&2"];
    let plain = Run::mvm_run(&[], BUSYBOX, &script).run();
    plain.assert_code(0);
    let f = file.to_str().unwrap();
    for opts in [["-o", f], ["--trace-file", f]] {
        let vm = Run::mvm_run(&opts, BUSYBOX, &script).run();
        vm.assert_code(0);
        assert_eq!(vm.stdout, plain.stdout, "{}", vm.describe());
        // The program's stderr is as it was without the trace; its descriptors too (mvm's
        // trace file is not among them).
        assert_eq!(vm.stderr_str(), plain.stderr_str(), "{}", vm.describe());
        assert_eq!(plain.stderr_str(), "err\n0\n1\n2\n", "{}", plain.describe());
        let trace = std::fs::read_to_string(&file).unwrap();
        assert!(!trace.contains("stale"), "not truncated:\n{trace}");
        // As strace -f -o FILE writes it: every line starts with the thread id.
        assert!(
            trace.lines().all(|l| l
                .split_once(' ')
                .is_some_and(|(pid, _)| pid.parse::<u32>().is_ok())),
            "{trace}"
        );
        for want in [
            " execve(\"/bin/busybox\", [\"/bin/busybox\", \"sh\", \"-c\", ",
            " dup2(2, 1)",
            " write(1, \"err\\n\", 4)",
            " write(1, \"out\\n\", 4)",
            " +++ exited with 0 +++",
        ] {
            assert!(trace.contains(want), "no {want:?} in\n{trace}");
        }
    }
}

#[test]
fn a_trace_file_that_cannot_be_opened_is_mvms_error() {
    let out = Run::mvm_run(&["-o", "/nonexistent/dir/trace"], BUSYBOX, &["true"]).run();
    out.assert_code(125);
    out.assert_mvm_error_line("/nonexistent/dir/trace");
    assert!(out.stdout.is_empty(), "{}", out.describe());
}

#[test]
fn trace_lines_are_never_split_by_the_programs_stderr() {
    let vm = Run::mvm_run(&["--trace"], program("trace_stderr"), &[]).run();
    vm.assert_code(0);
    let err = vm.stderr_str();
    let mut seen = BTreeSet::new();
    let mut writes = 0;
    for line in err.lines() {
        if let Some(rest) = line.strip_prefix("child ") {
            let ok = rest
                .split_once(" line ")
                .is_some_and(|(t, i)| t.parse::<u8>().is_ok() && i.parse::<u32>().is_ok());
            assert!(ok, "a program line was split: {line:?}\n{err}");
            assert!(seen.insert(line.to_string()), "{line:?} twice");
            continue;
        }
        assert!(is_whole_trace_line(line), "not a whole line: {line:?}");
        if line.contains("write(2, \"child ") {
            writes += 1;
        }
    }
    assert_eq!(seen.len(), 600, "program lines missing\n{err}");
    assert_eq!(writes, 600, "trace lines missing\n{err}");
}

#[test]
fn normalization_of_the_tests_themselves() {
    assert_eq!(
        normalize("[pid   123] mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000"),
        "[pid PID] mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = ADDR"
    );
    assert_eq!(normalize("brk(0x1000)      = 0x1000"), "brk(ADDR) = ADDR");
    assert_eq!(
        normalize("--- SIGPIPE {si_signo=SIGPIPE, si_pid=1234, si_uid=0} ---"),
        "--- SIGPIPE {si_signo=SIGPIPE, si_pid=PID, si_uid=0} ---"
    );
    assert_eq!(call_name("1234  read(0, \"\", 1) = 0"), Some("read"));
    assert_eq!(call_name("[pid  12] <... read resumed>) = 0"), None);
    assert!(is_whole_trace_line(
        "[pid     2] getppid()                   = 1"
    ));
    assert!(is_whole_trace_line("--- SIGCHLD {si_signo=SIGCHLD} ---"));
    assert!(!is_whole_trace_line(
        "[pid     2] write(2, \"child 1\\n\", 9child 2 line 3"
    ));
    assert!(!is_whole_trace_line("= 3"));
}

#[test]
fn names_that_are_not_utf8_are_shown_as_strace_shows_them() {
    // A name's bytes reach the trace as the program gave them (octal escapes past ASCII, as
    // strace without -x), now that mvm serves such names at all.
    let code = "import os\n\
                fd = os.open(b'n\\xff\\xc3\\xa9', os.O_CREAT | os.O_WRONLY, 0o644)\n\
                os.symlink(b'\\x80', b'l\\xfe')\n\
                os.readlink(b'l\\xfe')\n\
                os.rename(b'l\\xfe', b'm\\xc3(')\n\
                os.unlink(b'm\\xc3(')\n\
                os.unlink(b'n\\xff\\xc3\\xa9')\n";
    let dir = scratch("trace_bytes");
    let vm = Run::mvm_run(
        &["--trace", "-w", "/tmp"],
        "/usr/bin/python3",
        &["-c", code],
    )
    .run();
    let native = Run::native(STRACE, &["-f", "/usr/bin/python3", "-c", code])
        .cwd(&dir)
        .run();
    vm.assert_code(0);
    native.assert_code(0);
    let ours = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| {
                ["\"n\\377", "\"l\\376", "\"m\\303("]
                    .iter()
                    .any(|n| l.contains(n))
            })
            .map(normalize)
            .collect()
    };
    let (vt, nt) = (vm.stderr_str(), native.stderr_str());
    assert_eq!(ours(&vt).len(), 6, "{}", both("the calls", &vt, &nt));
    assert_eq!(ours(&vt), ours(&nt), "{}", both("lines differ", &vt, &nt));
}
