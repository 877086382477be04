//! `mvm bench`: the user's program started N times natively and under mvm; checks the report's
//! shape and that every number in it is a positive measurement.

#[path = "common/mod.rs"]
mod common;

use common::{Run, BUSYBOX};

/// The numbers on the report line that starts with `label`, in order (units dropped).
fn numbers(out: &str, label: &str) -> Vec<f64> {
    let line = out
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no line starting with {label:?} in:\n{out}"));
    line[label.len()..]
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches('x').parse::<f64>().ok())
        .collect()
}

#[test]
fn bench_busybox_true_three_runs() {
    let out = Run::mvm(["bench", "-n", "3", "--", BUSYBOX, "true"]).run();
    out.assert_code(0);
    let text = out.stdout_str();
    assert!(
        text.starts_with("mvm bench: /bin/busybox true (n=3 each"),
        "{}",
        out.describe()
    );
    let header = text.lines().nth(1).unwrap_or_default();
    assert!(
        header.contains("native") && header.contains("mvm") && header.contains("mvm/native"),
        "{}",
        out.describe()
    );
    for label in [
        "start->exit median",
        "start->exit p90",
        "start->exit p99",
        "peak RSS median",
    ] {
        let v = numbers(&text, label);
        assert_eq!(v.len(), 3, "{label}: want native, mvm, ratio\n{text}");
        assert!(v.iter().all(|x| *x > 0.0), "{label}: {v:?}\n{text}");
    }
    // Percentiles are ordered, for each kind.
    let (m, p90, p99) = (
        numbers(&text, "start->exit median"),
        numbers(&text, "start->exit p90"),
        numbers(&text, "start->exit p99"),
    );
    for k in 0..2 {
        assert!(m[k] <= p90[k] && p90[k] <= p99[k], "{text}");
    }
    // A micro-VM costs more than the process it runs: the VMM is in its peak RSS.
    let rss = numbers(&text, "peak RSS median");
    assert!(
        rss[1] > rss[0],
        "mvm's peak RSS should exceed native's\n{text}"
    );
    assert_eq!(numbers(&text, "exit status"), vec![0.0, 0.0], "{text}");
    assert!(!text.contains("warning:"), "{text}");
}

#[test]
fn bench_reports_a_program_that_is_missing() {
    let out = Run::mvm(["bench", "-n", "1", "--", "/nonexistent/program"]).run();
    out.assert_code(125);
    out.assert_mvm_error_line("/nonexistent/program: not found");
    let out = Run::mvm(["bench", "-n", "1", "--", "no-such-program-anywhere"]).run();
    out.assert_code(125);
    out.assert_mvm_error_line("no-such-program-anywhere: not found");
}

#[test]
fn bench_runs_the_same_file_on_both_sides() {
    // A name found on mvm's PATH, in a directory the program's view does not have: both kinds
    // run that file (it exits 3), with the same environment (it checks a variable).
    let dir = common::scratch("bench_path");
    let script = dir.join("mvm-bench-probe");
    std::fs::write(
        &script,
        "#!/bin/sh\ntest \"$MVM_T_BENCH\" = yes || exit 9\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Run::mvm(["bench", "-n", "2", "--", "mvm-bench-probe"])
        .env("PATH", &path)
        .env("MVM_T_BENCH", "yes")
        .run();
    out.assert_code(0);
    let text = out.stdout_str();
    assert_eq!(numbers(&text, "exit status"), vec![3.0, 3.0], "{text}");
    assert!(!text.contains("warning:"), "{text}");
}
