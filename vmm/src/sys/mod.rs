//! The syscall server: one table from syscall number to handler, each entry stating its own
//! support level (the compatibility docs are generated from it), one module per family, errors
//! as Linux errno values. Every guest pointer goes through `AddressSpace`'s checked accessors.

pub mod fs;
pub mod ipc;
pub mod mem;
pub mod mqueue;
pub mod net;
pub mod path;
pub mod poll;
pub mod process;
pub mod procfs;
pub mod sigframe;
pub mod signal;
pub mod signalfd;
pub mod table;
pub mod time;
pub mod trace;
pub mod tty;

use crate::mm::Fault;
use crate::task::{ExitReason, Task};

/// The arguments of a syscall, in ABI order (rdi, rsi, rdx, r10, r8, r9).
pub type Args = [u64; 6];

/// How a syscall ends when it does not simply return a value.
#[derive(Debug)]
pub enum SysError {
    /// Return `-errno` to the program.
    Errno(i32),
    /// The program ends (exit_group, a fatal signal, its last thread's exit).
    Exit(ExitReason),
    /// The calling thread ends (exit(2)) with this status; the others go on.
    ThreadExit(u8),
    /// `execve` succeeded: start the new image at `entry` with stack `sp`.
    Exec {
        /// Entry point.
        entry: u64,
        /// Initial stack pointer.
        sp: u64,
    },
}

/// What a handler returns.
pub type SysResult = Result<u64, SysError>;

impl From<Fault> for SysError {
    fn from(f: Fault) -> Self {
        match f {
            Fault::Oom => SysError::Errno(libc::ENOMEM),
            Fault::Unmapped | Fault::Access | Fault::Bus => SysError::Errno(libc::EFAULT),
        }
    }
}

/// Shorthand for an errno result.
pub fn err<T>(e: i32) -> Result<T, SysError> {
    Err(SysError::Errno(e))
}

/// The host call's result as a syscall result: `-1` becomes the host's errno.
pub fn host(r: isize) -> SysResult {
    if r < 0 {
        err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(r as u64)
    }
}

/// Serves syscall `nr`. Unknown numbers return ENOSYS (and show in `--trace`).
pub fn dispatch(task: &mut Task, nr: u64, args: Args) -> SysResult {
    process::creds(task);
    let entry = table::lookup(nr);
    let Some(entry) = entry else {
        if task.trace.is_some() {
            trace::unknown(task, nr, &args);
        }
        return err(libc::ENOSYS);
    };
    if task.trace.is_none() {
        return (entry.handler)(task, args);
    }
    let call = trace::enter(task, entry, &args);
    let r = (entry.handler)(task, args);
    if let Some(call) = call {
        trace::exit(task, call, &r);
    }
    r
}
