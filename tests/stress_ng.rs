//! stress-ng (Debian's, installed by scripts/setup), a suite nobody here wrote: each stressor
//! runs for a second natively and under mvm on the same machine. Every stressor that passes
//! natively must pass under mvm (exit 0, no `fail:`/`error:` line, some bogo-ops), unless it is
//! listed in `KNOWN` with its reason (docs/compatibility.md carries the same list). A listed
//! stressor that starts passing fails the test too, so the list stays true. Each group prints
//! its table of bogo-ops/s, native and under mvm, and the ratio.
//!
//! The native run gets the descriptor limit mvm gives a program where the host allows it
//! (`RLIMIT_NOFILE` 1024) so both meet the same limits, and works in a scratch directory; the
//! mvm run in its private /tmp.

#[path = "common/mod.rs"]
mod common;

use common::{scratch, Outcome, Run};
use std::time::Duration;

const STRESS_NG: &str = "/usr/bin/stress-ng";

/// Stressors that pass natively and fail under mvm today, and why. Not run at all: vm-segv,
/// whose child stops itself for a tracer (ptrace is not served) and so waits out the run.
const KNOWN: &[(&str, &str)] = &[
    (
        "sigpipe",
        "clone(CLONE_VM) of a new program (not a thread): memory shared between programs this way is not served",
    ),
];

/// tests/fixtures/stress-ng.txt: `GROUP STRESSOR [OPTIONS...]` per line (shared with
/// bench/stress-ng).
const STRESSORS: &str = include_str!("fixtures/stress-ng.txt");

/// The stressors of `group`, each with its extra options.
fn stressors(group: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    STRESSORS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(group))
                .then(|| (words.next().expect("a stressor"), words.collect()))
        })
        .collect()
}

/// One stressor's run: passed, and bogo-ops per second (real time).
struct Result {
    passed: bool,
    ops_per_sec: f64,
    why: String,
}

fn judge(out: &Outcome, stressor: &str) -> Result {
    let text = format!("{}{}", out.stdout_str(), out.stderr_str());
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" fail: ") || l.contains(" error: ") || l.contains("mvm: "))
        .collect();
    // `stress-ng: metrc: [PID] NAME BOGO-OPS REAL USR SYS OPS/S OPS/S-CPU`
    let (ops, ops_per_sec) = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 9 && f[1] == "metrc:" && f[3] == stressor)
                .then(|| Some((f[4].parse::<u64>().ok()?, f[8].parse::<f64>().ok()?)))
                .flatten()
        })
        .next_back()
        .unwrap_or((0, 0.0));
    let status = out.shell_status();
    let passed = status == 0 && bad.is_empty() && ops > 0;
    let why = if passed {
        String::new()
    } else {
        format!(
            "status {status}, {ops} bogo-ops; {}",
            bad.iter().take(3).copied().collect::<Vec<_>>().join(" | ")
        )
    };
    Result {
        passed,
        ops_per_sec,
        why,
    }
}

fn run_group(group: &str) {
    let dir = scratch(&format!("stress_ng_{group}"));
    let list = stressors(group);
    assert!(!list.is_empty(), "no stressors for group {group}");
    let args = |s: &str, extra: &[&str]| {
        let mut v = vec![
            format!("--{s}"),
            "1".into(),
            "--timeout".into(),
            "1s".into(),
            "--metrics-brief".into(),
        ];
        v.extend(extra.iter().map(|e| e.to_string()));
        v
    };
    let mut table = "| stressor | native ops/s | mvm ops/s | mvm/native |
|---|---:|---:|---:|
"
    .to_string();
    let mut wrong = Vec::new();
    for (s, extra) in &list {
        let a = args(s, extra);
        let native_args: Vec<&str> = a.iter().map(String::as_str).collect();
        let native = Run::native(STRESS_NG, &native_args)
            .nofile(1024)
            .cwd(&dir)
            .deadline(Duration::from_secs(60))
            .run();
        let mut vm_args: Vec<&str> = vec![STRESS_NG];
        vm_args.extend(a.iter().map(String::as_str));
        let vm = Run::mvm_run(&["-w", "/tmp"], vm_args[0], &vm_args[1..])
            .deadline(Duration::from_secs(60))
            .run();
        let (n, v) = (judge(&native, s), judge(&vm, s));
        let known = KNOWN.iter().find(|(k, _)| k == s);
        let ratio = if n.ops_per_sec > 0.0 {
            format!("{:.3}", v.ops_per_sec / n.ops_per_sec)
        } else {
            "-".into()
        };
        let mark = match (n.passed, v.passed, known) {
            (false, _, _) => " (fails natively here)",
            (true, false, Some(_)) => " (known)",
            _ => "",
        };
        table.push_str(&format!(
            "| {s}{mark} | {:.1} | {:.1} | {ratio} |\n",
            n.ops_per_sec, v.ops_per_sec
        ));
        match (n.passed, v.passed, known) {
            (true, false, None) => wrong.push(format!("{s}: fails under mvm: {}", v.why)),
            (true, true, Some(_)) => wrong.push(format!("{s}: passes now: take it out of KNOWN")),
            _ => {}
        }
    }
    println!("stress-ng, group {group}, 1 s each (bogo-ops/s, real time):\n{table}");
    assert!(wrong.is_empty(), "{}\n{table}", wrong.join("\n"));
}

#[test]
fn stress_ng_processes_and_signals() {
    run_group("processes");
}

#[test]
fn stress_ng_memory() {
    run_group("memory");
}

#[test]
fn stress_ng_files_pipes_and_sockets() {
    run_group("files");
}
