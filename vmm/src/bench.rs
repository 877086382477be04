//! `mvm bench -- PROGRAM [ARGS]`: the user's own program started N times natively and under mvm,
//! interleaved, with start→exit latency (median, p90, p99) and peak RSS of each.
//!
//! PROGRAM is found once, as `execvp` finds it, and both kinds run that file with this
//! process's environment (`--env-host` for mvm).
//!
//! Each mvm run is this binary itself (`/proc/self/exe run --memory SIZE -- PROGRAM ARGS`), not
//! `runner::run` in this process: that is exactly what a user pays for `mvm run` (the exec of
//! mvm, its dynamic loading, the VM), it gives every run its own peak RSS from `wait4`, and
//! the guest's output goes to /dev/null without touching this process's descriptors or signal
//! mask (which `runner::run` takes over for its control loop).
//!
//! Both kinds are started the same way: `fork` (not `vfork`/`posix_spawn`: at `execve` the
//! kernel folds the old address space's peak RSS into the child's `ru_maxrss`, and with
//! `vfork` that would be this whole process), `execve`, `wait4`. What `fork` copies of this
//! small process still shows in `ru_maxrss`; it is measured (a child that exits without
//! `exec`) and printed as the floor.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::spec::parse_size;

/// `mvm bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Runs of each kind (native and mvm), interleaved.
    #[arg(short = 'n', long = "runs", value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub runs: u32,
    /// `--memory` for the mvm runs (e.g. 64m, 1g).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "512m")]
    pub memory: u64,
    /// The program and its arguments, run as they are (stdin, stdout and stderr: /dev/null).
    #[arg(value_name = "PROGRAM", required = true, trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

/// One kind's measurements.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    /// Start→exit of each successful run.
    pub wall: Vec<Duration>,
    /// `ru_maxrss` of each successful run, KiB.
    pub maxrss_kib: Vec<u64>,
    /// Runs whose status differed from the first run's, with the first such status.
    pub failed: u32,
    /// The status of the first (untimed) run, as a shell reports it.
    pub status: Option<i32>,
}

/// The result of `mvm bench`.
#[derive(Debug)]
pub struct BenchReport {
    pub native: Samples,
    pub mvm: Samples,
    /// `ru_maxrss` of a child forked from this process that exits at once: included in both.
    pub floor_kib: u64,
}

/// What one run ended with.
struct Outcome {
    wall: Duration,
    status: i32,
    maxrss_kib: u64,
}

/// Runs `cmd` once: fork, exec, wait4. The status is the shell's (128+N for signal N).
fn run_once(cmd: &mut Command) -> std::io::Result<Outcome> {
    let start = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child, with valid out-pointers.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
    let wall = start.elapsed();
    drop(child); // already reaped by wait4
    let status = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok(Outcome {
        wall,
        status,
        maxrss_kib: ru.ru_maxrss as u64,
    })
}

/// A command started with `fork` (a `pre_exec` hook makes std use fork rather than
/// `posix_spawn`'s vfork), all three standard streams on /dev/null.
fn command(argv: &[OsString]) -> Command {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the hook makes one async-signal-safe call (and steers std to fork+exec): both
    // kinds of run start under the descriptor limit mvm was given.
    unsafe {
        c.pre_exec(|| {
            crate::sys::fs::restore_host_fd_limit();
            Ok(())
        });
    }
    c
}

/// `ru_maxrss` of a child of this process that exits without exec: the part of every run's
/// peak RSS that is only this process's memory copied by fork.
fn fork_floor_kib() -> u64 {
    // SAFETY: the child calls only async-signal-safe _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: leaving the forked child at once.
        unsafe { libc::_exit(0) };
    }
    if pid < 0 {
        return 0;
    }
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for the child forked above.
    unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    ru.ru_maxrss as u64
}

/// The file `name` names, found once for both kinds of run as `execvp` finds it: a path (made
/// absolute), or the first executable file of that name in `PATH`.
pub fn resolve(name: &OsStr) -> Result<PathBuf, String> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let not_found = || format!("{}: not found", name.to_string_lossy());
    if name.as_bytes().contains(&b'/') {
        let p =
            std::path::absolute(name).map_err(|e| format!("{}: {e}", name.to_string_lossy()))?;
        return if executable(&p) {
            Ok(p)
        } else {
            Err(not_found())
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| crate::cli::DEFAULT_PATH.into());
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| executable(p))
        .ok_or_else(not_found)
}

/// Runs the benchmark. `progress` is told about each phase (stderr in the binary).
pub fn run(args: &BenchArgs, mut progress: impl FnMut(&str)) -> Result<BenchReport, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find mvm's binary: {e}"))?;
    // Both kinds run the same file, with the same environment.
    let program = resolve(&args.command[0])?;
    let mut native_argv = args.command.clone();
    native_argv[0] = program.clone().into();
    let mut mvm_argv: Vec<OsString> = vec![
        exe.into(),
        "run".into(),
        "--env-host".into(),
        "--memory".into(),
        args.memory.to_string().into(),
        "--".into(),
        program.into(),
    ];
    mvm_argv.extend(args.command[1..].iter().cloned());

    let mut kinds = [
        ("native", command(&native_argv), Samples::default()),
        ("mvm", command(&mvm_argv), Samples::default()),
    ];
    // One untimed run each: page cache, first-run effects, and the status runs must repeat.
    for (name, cmd, s) in kinds.iter_mut() {
        let o = run_once(cmd).map_err(|e| {
            format!(
                "cannot start the {name} run of {}: {e}",
                args.command[0].to_string_lossy()
            )
        })?;
        s.status = Some(o.status);
    }
    progress(&format!("{} runs of each kind, interleaved", args.runs));
    for i in 0..args.runs as usize {
        // Alternate who goes first, so slow drifts of the machine hit both alike.
        let order: [usize; 2] = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for k in order {
            let (_, cmd, s) = &mut kinds[k];
            match run_once(cmd) {
                Ok(o) if Some(o.status) == s.status => {
                    s.wall.push(o.wall);
                    s.maxrss_kib.push(o.maxrss_kib);
                }
                _ => s.failed += 1,
            }
        }
    }
    let [(_, _, native), (_, _, mvm)] = kinds;
    Ok(BenchReport {
        native,
        mvm,
        floor_kib: fork_floor_kib(),
    })
}

/// Nearest-rank percentile (q in 0..=100) of unsorted samples.
pub fn percentile<T: Copy + Ord>(samples: &[T], q: u32) -> Option<T> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_unstable();
    let k = (s.len() * q as usize).div_ceil(100).max(1);
    Some(s[k - 1])
}

fn ms(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.3} ms", d.as_secs_f64() * 1e3))
        .unwrap_or_else(|| "n/a".into())
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "n/a".into(),
    }
}

/// The report as printed: one header line, then a table of `metric  native  mvm  mvm/native`.
pub fn render(args: &BenchArgs, r: &BenchReport) -> String {
    let program: Vec<String> = args
        .command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "mvm bench: {} (n={} each, interleaved; stdio /dev/null; mvm run --memory {})",
        program.join(" "),
        args.runs,
        if args.memory.is_multiple_of(1 << 20) {
            format!("{}m", args.memory >> 20)
        } else {
            args.memory.to_string()
        }
    );
    let _ = writeln!(
        out,
        "{:<22} {:>14} {:>14} {:>11}",
        "", "native", "mvm", "mvm/native"
    );
    for (name, q) in [
        ("start->exit median", 50),
        ("start->exit p90", 90),
        ("start->exit p99", 99),
    ] {
        let (n, m) = (percentile(&r.native.wall, q), percentile(&r.mvm.wall, q));
        let _ = writeln!(
            out,
            "{name:<22} {:>14} {:>14} {:>11}",
            ms(n),
            ms(m),
            ratio(m.map(|d| d.as_secs_f64()), n.map(|d| d.as_secs_f64()))
        );
    }
    let (n, m) = (
        percentile(&r.native.maxrss_kib, 50),
        percentile(&r.mvm.maxrss_kib, 50),
    );
    let kib = |v: Option<u64>| {
        v.map(|v| format!("{v} KiB"))
            .unwrap_or_else(|| "n/a".into())
    };
    let _ = writeln!(
        out,
        "{:<22} {:>14} {:>14} {:>11}",
        "peak RSS median",
        kib(n),
        kib(m),
        ratio(m.map(|v| v as f64), n.map(|v| v as f64))
    );
    let _ = writeln!(
        out,
        "{:<22} {:>14} {:>14}",
        "exit status",
        r.native.status.map_or("n/a".into(), |s| s.to_string()),
        r.mvm.status.map_or("n/a".into(), |s| s.to_string()),
    );
    let _ = writeln!(
        out,
        "peak RSS is ru_maxrss of each run (for mvm: the whole VMM, with the guest memory it touched); \
         {} KiB of it is mvm bench's own memory copied by fork",
        r.floor_kib
    );
    for (name, s) in [("native", &r.native), ("mvm", &r.mvm)] {
        if s.failed > 0 {
            let _ = writeln!(
                out,
                "warning: {} of {} {name} runs ended with another status than the first ({}); they are left out",
                s.failed,
                args.runs,
                s.status.unwrap_or(-1)
            );
        }
    }
    if r.native.status != r.mvm.status {
        let _ = writeln!(
            out,
            "warning: the program's status differs: native {}, mvm {}",
            r.native.status.unwrap_or(-1),
            r.mvm.status.unwrap_or(-1)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 90), Some(90));
        assert_eq!(percentile(&v, 99), Some(99));
        assert_eq!(percentile(&[7u32], 99), Some(7));
        assert_eq!(percentile::<u32>(&[], 50), None);
        assert_eq!(percentile(&[3u32, 1, 2], 50), Some(2));
    }
}
