//! Signals: dispositions, the mask, the alternate stack, and raising a signal at the program
//! itself. Default actions are carried out; running handlers comes with the signals work.

use super::{err, Args, SysError, SysResult};
use crate::task::{ExitReason, Task};

const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
/// Signals `1..=NSIG`.
pub const NSIG: usize = 64;

/// A `struct kernel_sigaction`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigAction {
    /// Handler address, `SIG_DFL` or `SIG_IGN`.
    pub handler: u64,
    /// `SA_*` flags.
    pub flags: u64,
    /// `sa_restorer`.
    pub restorer: u64,
    /// Signals blocked while the handler runs.
    pub mask: u64,
}

/// The program's signal state.
#[derive(Debug, Clone)]
pub struct SignalState {
    actions: [SigAction; NSIG],
    /// Blocked signals (bit `sig - 1`).
    pub mask: u64,
    /// Raised while blocked.
    pub pending: u64,
    /// `sigaltstack`: (sp, flags, size).
    pub altstack: (u64, i32, u64),
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState {
            actions: [SigAction::default(); NSIG],
            mask: 0,
            pending: 0,
            altstack: (0, 2, 0),
        }
    }
}

fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// What a signal does when its disposition is `SIG_DFL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default_ {
    /// Nothing.
    Ignore,
    /// The program ends.
    Terminate,
    /// Stop/continue: no job control in a micro-VM, so nothing.
    Stop,
}

/// The default action of `sig`.
pub fn default_action(sig: i32) -> Default_ {
    match sig {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT => Default_::Ignore,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => Default_::Stop,
        _ => Default_::Terminate,
    }
}

/// The program's end by signal `sig`.
pub fn fatal(sig: i32, detail: String) -> ExitReason {
    ExitReason::Signaled { sig, detail }
}

impl SignalState {
    /// On execve: handled signals revert to their default; ignored ones stay ignored.
    pub fn on_exec(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            }
        }
        self.altstack = (0, 2, 0);
    }
}

/// Raises `sig` at the program: the default action happens now, a blocked signal waits.
pub fn raise(task: &mut Task, sig: i32) -> Result<(), SysError> {
    let s = &mut task.sig;
    let a = s.actions[sig as usize - 1];
    let unstoppable = sig == libc::SIGKILL || sig == libc::SIGSTOP;
    if !unstoppable && s.mask & bit(sig) != 0 {
        s.pending |= bit(sig);
        return Ok(());
    }
    if a.handler == SIG_IGN && !unstoppable {
        return Ok(());
    }
    if a.handler != SIG_DFL && !unstoppable {
        // Handlers are recorded but not run yet: the signal is dropped, as if handled.
        return Ok(());
    }
    match default_action(sig) {
        Default_::Terminate => Err(SysError::Exit(fatal(sig, String::new()))),
        Default_::Ignore | Default_::Stop => Ok(()),
    }
}

fn valid(sig: u64) -> Result<i32, SysError> {
    if sig == 0 || sig > NSIG as u64 {
        return err(libc::EINVAL);
    }
    Ok(sig as i32)
}

/// rt_sigaction(2).
pub fn rt_sigaction(task: &mut Task, a: Args) -> SysResult {
    let sig = valid(a[0])?;
    if a[3] != 8 {
        return err(libc::EINVAL);
    }
    let new = if a[1] != 0 {
        let w: [u64; 4] = task.mm.read_obj(a[1])?;
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            return err(libc::EINVAL);
        }
        Some(SigAction {
            handler: w[0],
            flags: w[1],
            restorer: w[2],
            mask: w[3],
        })
    } else {
        None
    };
    let old = task.sig.actions[sig as usize - 1];
    if a[2] != 0 {
        task.mm
            .write_obj(a[2], &[old.handler, old.flags, old.restorer, old.mask])?;
    }
    if let Some(n) = new {
        task.sig.actions[sig as usize - 1] = n;
        if n.handler == SIG_IGN || (n.handler == SIG_DFL && default_action(sig) == Default_::Ignore)
        {
            task.sig.pending &= !bit(sig);
        }
    }
    Ok(0)
}

/// Acts on pending signals that are no longer blocked.
fn deliver_unblocked(task: &mut Task) -> Result<(), SysError> {
    let ready = task.sig.pending & !task.sig.mask;
    for sig in 1..=NSIG as i32 {
        if ready & bit(sig) != 0 {
            task.sig.pending &= !bit(sig);
            raise(task, sig)?;
        }
    }
    Ok(())
}

/// rt_sigprocmask(2).
pub fn rt_sigprocmask(task: &mut Task, a: Args) -> SysResult {
    if a[3] != 8 {
        return err(libc::EINVAL);
    }
    let old = task.sig.mask;
    if a[1] != 0 {
        let set = task.mm.read_u64(a[1])? & !(bit(libc::SIGKILL) | bit(libc::SIGSTOP));
        task.sig.mask = match a[0] as i32 {
            libc::SIG_BLOCK => old | set,
            libc::SIG_UNBLOCK => old & !set,
            libc::SIG_SETMASK => set,
            _ => return err(libc::EINVAL),
        };
    }
    if a[2] != 0 {
        task.mm.write_obj(a[2], &old)?;
    }
    deliver_unblocked(task)?;
    Ok(0)
}

/// sigaltstack(2).
pub fn sigaltstack(task: &mut Task, a: Args) -> SysResult {
    let old = task.sig.altstack;
    if a[0] != 0 {
        let sp: u64 = task.mm.read_obj(a[0])?;
        let flags: i32 = task.mm.read_obj(a[0] + 8)?;
        let size: u64 = task.mm.read_obj(a[0] + 16)?;
        const SS_DISABLE: i32 = 2;
        const SS_AUTODISARM: i32 = 1 << 31;
        if flags & !(SS_DISABLE | SS_AUTODISARM) != 0 {
            return err(libc::EINVAL);
        }
        task.sig.altstack = if flags & SS_DISABLE != 0 {
            (0, SS_DISABLE, 0)
        } else {
            if size < 2048 {
                return err(libc::ENOMEM);
            }
            (sp, flags, size)
        };
    }
    if a[1] != 0 {
        task.mm.write_obj(a[1], &old.0)?;
        task.mm.write_obj(a[1] + 8, &(old.1 as u64))?;
        task.mm.write_obj(a[1] + 16, &old.2)?;
    }
    Ok(0)
}

fn to_self(task: &mut Task, sig: u64) -> SysResult {
    if sig == 0 {
        return Ok(0);
    }
    let sig = valid(sig)?;
    raise(task, sig)?;
    Ok(0)
}

/// kill(2): the program is pid 1, alone in its VM.
pub fn kill(task: &mut Task, a: Args) -> SysResult {
    match a[0] as i32 {
        -1..=1 => to_self(task, a[1]),
        _ => err(libc::ESRCH),
    }
}

/// tgkill(2).
pub fn tgkill(task: &mut Task, a: Args) -> SysResult {
    if a[0] as i32 != 1 || a[1] as i32 != 1 {
        return err(if (a[0] as i32) <= 0 || (a[1] as i32) <= 0 {
            libc::EINVAL
        } else {
            libc::ESRCH
        });
    }
    to_self(task, a[2])
}

/// tkill(2).
pub fn tkill(task: &mut Task, a: Args) -> SysResult {
    if a[0] as i32 != 1 {
        return err(if (a[0] as i32) <= 0 {
            libc::EINVAL
        } else {
            libc::ESRCH
        });
    }
    to_self(task, a[1])
}

/// Waits until mvm's vCPU thread is kicked (a signal for the program, or mvm stopping it).
pub fn wait_for_signal(task: &mut Task) -> SysResult {
    if task.stop_requested().is_some() {
        return err(libc::EINTR);
    }
    // SAFETY: plain host call; the vCPU thread's kick signal interrupts it.
    unsafe { libc::pause() };
    err(libc::EINTR)
}

/// pause(2).
pub fn pause(task: &mut Task, _a: Args) -> SysResult {
    wait_for_signal(task)
}
