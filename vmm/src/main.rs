//! The `mvm` binary: parses the command line, runs, and turns the result into an exit status.
//! The program's own status passes through; death by signal N is 128+N; a timeout is 124;
//! mvm's own errors are 125, a program that cannot be executed 126, one not found 127.

use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use clap::Parser;
use vmm::cli::{Cli, Command};
use vmm::runner::{self, Report, RunError};
use vmm::task::ExitReason;

/// mvm's own failure (bad flags, no KVM, a broken VM).
const EXIT_MVM: u8 = 125;
const EXIT_CANNOT_EXECUTE: u8 = 126;
const EXIT_NOT_FOUND: u8 = 127;
const EXIT_TIMEOUT: u8 = 124;

fn signal_name(sig: i32) -> String {
    let names = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    match names.get((sig - 1) as usize) {
        Some(n) => format!("SIG{n}"),
        None => format!("signal {sig}"),
    }
}

fn status_of(program: &str, report: &Report) -> u8 {
    match &report.reason {
        ExitReason::Exited(s) => *s,
        ExitReason::Signaled { sig, detail } => {
            if !detail.is_empty() {
                eprintln!("mvm: {program} killed by {} ({detail})", signal_name(*sig));
            } else if *sig != libc::SIGPIPE && *sig != libc::SIGINT {
                eprintln!("mvm: {program} killed by {}", signal_name(*sig));
            }
            128 + *sig as u8
        }
        ExitReason::Timeout => {
            eprintln!("mvm: {program} timed out");
            EXIT_TIMEOUT
        }
        ExitReason::Stopped(sig) => 128 + *sig as u8,
        ExitReason::Broken(why) => {
            eprintln!("mvm: the micro-VM of {program} failed: {why}");
            EXIT_MVM
        }
    }
}

fn print_timings(report: &Report) {
    let mut total = std::time::Duration::ZERO;
    for (what, d) in &report.timings.0 {
        eprintln!("mvm: timing: {what:<28} {:>8.3} ms", d.as_secs_f64() * 1e3);
        total += *d;
    }
    eprintln!(
        "mvm: timing: {:<28} {:>8.3} ms",
        "start-up total",
        total.as_secs_f64() * 1e3
    );
    eprintln!(
        "mvm: timing: {:<28} {:>8.3} ms ({} syscalls, {} page faults)",
        "program (guest-init + run)",
        report.run_time.as_secs_f64() * 1e3,
        report.syscalls,
        report.faults
    );
    eprintln!(
        "mvm: timing: {:<28} {:>8.3} ms in KVM_RUN, {:.3} ms serving exits",
        "  of which",
        report.guest_time.as_secs_f64() * 1e3,
        (report.run_time - report.guest_time).as_secs_f64() * 1e3
    );
}

/// Names mvm's main thread after the run (`--name`), as the host's `ps` and `pgrep` show it.
fn set_process_name(name: &str) {
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name.as_bytes()[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr()) };
}

fn main() -> ExitCode {
    // One malloc arena: the threads that serve the program take turns under its process lock
    // anyway, and a second arena costs every idle instance ~12 KiB of anonymous memory and
    // ~20 KiB of PSS (bench/instance-cost -k 300).
    // SAFETY: called before any other thread exists.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
    vmm::sys::signal::record_inherited();
    vmm::vstate::memory::catch_window_sigbus();
    vmm::sys::process::record_base_nice();
    vmm::sys::fs::raise_host_fd_limit();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                return ExitCode::from(EXIT_MVM);
            }
            // One line: clap's first, with what it lists after a colon.
            let msg = e.to_string();
            let mut lines = msg.lines().map(str::trim).filter(|l| !l.is_empty());
            let mut first = lines.next().unwrap_or("invalid arguments").to_string();
            if first.ends_with(':') {
                first = format!("{first} {}", lines.next().unwrap_or_default());
            }
            eprintln!(
                "mvm: {} (see mvm --help)",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(EXIT_MVM);
        }
    };
    match cli.command {
        Command::Syscalls => {
            print!("{}", vmm::sys::table::markdown());
            ExitCode::SUCCESS
        }
        Command::Bench(args) => match vmm::bench::run(&args, |m| eprintln!("mvm bench: {m}")) {
            Ok(report) => {
                print!("{}", vmm::bench::render(&args, &report));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mvm: {e}");
                ExitCode::from(EXIT_MVM)
            }
        },
        Command::Run(args) => {
            let spec = match args.into_spec() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("mvm: {e}");
                    return ExitCode::from(EXIT_MVM);
                }
            };
            let program = match &spec.name {
                Some(n) => format!("{n}: {}", vmm::sys::fs::shown(spec.program.as_bytes())),
                None => vmm::sys::fs::shown(spec.program.as_bytes()),
            };
            if let Some(n) = &spec.name {
                set_process_name(n);
            }
            let timings = spec.timings;
            let name = spec.name.clone();
            match runner::run(spec) {
                Ok(report) => {
                    if timings {
                        print_timings(&report);
                    }
                    let status = status_of(&program, &report);
                    if let Some(h) = report.hint.as_ref().filter(|_| status != 0) {
                        eprintln!("mvm: hint: {h}");
                    }
                    ExitCode::from(status)
                }
                Err(e) => {
                    match &name {
                        Some(n) => eprintln!("mvm: {n}: {e}"),
                        None => eprintln!("mvm: {e}"),
                    }
                    ExitCode::from(match e {
                        RunError::NotFound(_) | RunError::BadInterpreter(..) => EXIT_NOT_FOUND,
                        RunError::CannotExecute(..) => EXIT_CANNOT_EXECUTE,
                        _ => EXIT_MVM,
                    })
                }
            }
        }
    }
}
