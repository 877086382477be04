//! Signals, as Linux delivers them to a single-threaded program: dispositions, the mask, pending
//! signals with their siginfo, the alternate stack, and delivery — running a handler on a
//! `rt_sigframe` (see `sigframe`), ignoring, or ending the program — at every return to ring 3.
//!
//! Signals come from the program itself (kill, tgkill, tkill, SIGPIPE), from its faults
//! (`force`), from the run's other programs and its terminal, and from the host: each is
//! mailed to the program (`ProcHandle::send`), whose threads are kicked and take their mail at
//! their next exit (`take_host`). A blocking host call interrupted by the kick ends in EINTR;
//! `on_eintr` decides, as Linux does, whether the program sees EINTR or the call is restarted.
//!
//! Job control: a stop signal's default action stops the program (its threads run no guest
//! code, its parent's `wait` hears of it) until SIGCONT or SIGKILL, as `prepare_signal` and
//! `do_signal_stop` do on Linux.

use std::sync::atomic::Ordering;

use super::sigframe::{self, code, SigContext, SigInfo};
use super::{err, Args, SysError, SysResult};
use crate::layout::{IRETQ, USER_DS};
use crate::task::{ExitReason, JobReport, Task};
use crate::vstate::vcpu::IretFrame;

const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
/// Signals `1..=NSIG`.
pub const NSIG: usize = 64;

const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTART: u64 = 0x1000_0000;
const SA_NODEFER: u64 = 0x4000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_NOCLDSTOP: u64 = 1;

const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;
const MINSIGSTKSZ: u64 = 2048;

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

/// What the program's threads share of signals: the dispositions, and the signals pending for
/// the whole program (sent to its pid, or to mvm), which any thread not blocking them takes.
#[derive(Debug, Clone)]
pub struct SigShared {
    actions: [SigAction; NSIG],
    /// Generated for the program and not yet delivered (bit `sig - 1`).
    pub pending: u64,
    info: [SigInfo; NSIG],
}

impl Default for SigShared {
    fn default() -> Self {
        SigShared {
            actions: [SigAction::default(); NSIG],
            pending: 0,
            info: [SigInfo::default(); NSIG],
        }
    }
}

/// The signals mvm's own caller left ignored (`nohup`, a shell's background job, a service
/// manager), as `record_inherited` found them; SIGPIPE is not among them (Rust's runtime ignores
/// it before `main`, so its inherited state is lost) and SIGKILL/SIGSTOP cannot be ignored.
static INHERITED_IGNORED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Notes which signals mvm was started with ignored; call first thing in `main`, before mvm
/// changes any disposition. The first program starts with them ignored, as `execve` would
/// leave them for the program run without mvm.
pub fn record_inherited() {
    let mut ignored = 0u64;
    for sig in 1..=31 {
        if matches!(sig, libc::SIGKILL | libc::SIGSTOP | libc::SIGPIPE) {
            continue;
        }
        // SAFETY: all-zero bytes are a valid `struct sigaction`.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: with a null new action, sigaction only reads the current one into `old`.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } == 0
            && old.sa_sigaction == libc::SIG_IGN
        {
            ignored |= bit(sig);
        }
    }
    let _ = INHERITED_IGNORED.set(ignored);
}

impl SigShared {
    /// The first program's: what `record_inherited` found ignored stays ignored, the rest is
    /// default.
    pub fn inherited() -> Self {
        let mut sh = SigShared::default();
        let ignored = INHERITED_IGNORED.get().copied().unwrap_or(0);
        for sig in 1..=31 {
            if ignored & bit(sig) != 0 {
                sh.actions[sig as usize - 1].handler = SIG_IGN;
            }
        }
        sh
    }

    /// On execve: handled signals revert to their default; ignored ones stay ignored.
    pub fn on_exec(&mut self) {
        for a in self.actions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            }
        }
    }

    fn action(&self, sig: i32) -> SigAction {
        self.actions[sig as usize - 1]
    }

    /// Whether `sig` would be discarded if delivered now.
    fn ignored(&self, sig: i32) -> bool {
        if sig == libc::SIGKILL {
            return false;
        }
        match self.action(sig).handler {
            SIG_IGN => true,
            SIG_DFL => default_action(sig) == Default_::Ignore,
            _ => false,
        }
    }
}

/// One thread's signal state.
#[derive(Debug, Clone)]
pub struct SignalState {
    /// Blocked signals (bit `sig - 1`).
    pub mask: u64,
    /// Generated and not yet delivered (bit `sig - 1`).
    pub pending: u64,
    /// The siginfo of each pending signal (standard signals do not queue: the first one counts).
    info: [SigInfo; NSIG],
    /// `sigaltstack`: (sp, flags, size).
    pub altstack: (u64, i32, u64),
    /// The mask to restore after `rt_sigsuspend` (or to save in the frame of the handler that
    /// ends it).
    saved_mask: Option<u64>,
    /// Where `rt_sigreturn` resumes the program.
    resume: Option<IretFrame>,
    /// The program's stack pointer at its current syscall.
    pub syscall_rsp: u64,
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState {
            mask: 0,
            pending: 0,
            info: [SigInfo::default(); NSIG],
            altstack: (0, SS_DISABLE, 0),
            saved_mask: None,
            resume: None,
            syscall_rsp: 0,
        }
    }
}

fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// What a signal does when its disposition is `SIG_DFL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default_ {
    /// Nothing.
    Ignore,
    /// The program ends.
    Terminate,
    /// The program stops until SIGCONT (job control).
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

/// The pending signal to deliver first among `pending`, if any is unblocked by `mask`.
fn first(pending: u64, mask: u64) -> Option<i32> {
    {
        let ready = pending & !mask;
        // Synchronous signals first, as Linux dequeues them.
        const SYNC: u64 = (1 << (libc::SIGSEGV - 1))
            | (1 << (libc::SIGBUS - 1))
            | (1 << (libc::SIGILL - 1))
            | (1 << (libc::SIGTRAP - 1))
            | (1 << (libc::SIGFPE - 1))
            | (1 << (libc::SIGSYS - 1));
        let pick = if ready & SYNC != 0 {
            ready & SYNC
        } else {
            ready
        };
        (pick != 0).then(|| pick.trailing_zeros() as i32 + 1)
    }
}

/// The signals that stop a program by default.
const STOP_SET: u64 = (1 << (libc::SIGSTOP - 1))
    | (1 << (libc::SIGTSTP - 1))
    | (1 << (libc::SIGTTIN - 1))
    | (1 << (libc::SIGTTOU - 1));

/// What generating a signal does at once, before it is queued (Linux's `prepare_signal`):
/// SIGCONT continues a stopped program and discards its pending stop signals; a stop signal
/// discards a pending SIGCONT. A child's stop or continue reported to a parent that asked not
/// to hear of them (`SA_NOCLDSTOP`) is dropped. Returns whether the signal is to be queued.
fn prepare(task: &mut Task, info: &SigInfo) -> bool {
    let sig = info.signo;
    if sig == libc::SIGCONT {
        task.sigs.pending &= !STOP_SET;
        task.sig.pending &= !STOP_SET;
        continue_program(task);
    } else if STOP_SET & bit(sig) != 0 {
        task.sigs.pending &= !bit(libc::SIGCONT);
        task.sig.pending &= !bit(libc::SIGCONT);
    } else if sig == libc::SIGCHLD
        && matches!(info.code, code::CLD_STOPPED | code::CLD_CONTINUED)
        && task.sigs.action(sig).flags & SA_NOCLDSTOP != 0
    {
        return false;
    }
    true
}

/// Tells the parent of the program that it stopped or continued: SIGCHLD with `code`, and a
/// wake-up for its `wait`. The first program's parent is mvm's control loop.
fn notify_parent(task: &Task, code: i32, status: i32) {
    let ppid = task.me.ppid.load(Ordering::Acquire);
    if let Some(parent) = task.machine.find(ppid).filter(|_| ppid != 0) {
        parent.send(SigInfo {
            signo: libc::SIGCHLD,
            code,
            pid: task.pid(),
            uid: task.aux.uid,
            status,
            ..Default::default()
        });
    }
    if task.pid() == 1 {
        let _ = task.machine.first_stopped.write(1);
    }
}

/// Stops the program by `sig` (a stop signal's default action): its threads run no guest code
/// until it is continued or killed (`Task::wait_suspended`).
fn stop_program(task: &mut Task, sig: i32) {
    {
        let mut s = task.me.suspended.lock().unwrap();
        s.by = Some(sig);
        s.report = Some(JobReport::Stopped(sig));
    }
    notify_parent(task, code::CLD_STOPPED, sig);
    let me = task.tid;
    task.me.kicker.kick_all(me);
}

/// Continues the program if it is stopped (SIGCONT).
fn continue_program(task: &mut Task) {
    let was = {
        let mut s = task.me.suspended.lock().unwrap();
        let was = s.by.take().is_some();
        if was {
            s.report = Some(JobReport::Continued);
        }
        was
    };
    if was {
        notify_parent(task, code::CLD_CONTINUED, libc::SIGCONT);
        let me = task.tid;
        task.me.kicker.kick_all(me);
    }
}

/// Whether `sig` is ignored or blocked by the calling thread (job control then does not stop
/// it: Linux's `is_ignored`).
pub fn ignored_or_blocked(task: &Task, sig: i32) -> bool {
    task.sig.mask & bit(sig) != 0 || task.sigs.action(sig).handler == SIG_IGN
}

/// Whether SIGKILL is pending for the program or this thread.
pub fn kill_pending(task: &Task) -> bool {
    (task.sig.pending | task.sigs.pending) & bit(libc::SIGKILL) != 0
}

/// Sends `info` to every program of process group `pgid`, the caller's own included; false if
/// the group has none.
pub fn signal_group(task: &mut Task, pgid: i32, info: SigInfo) -> bool {
    let mut any = false;
    for p in task.machine.group(pgid) {
        any = true;
        if p.pid == task.pid() {
            queue_process(task, info);
        } else {
            p.send(info);
        }
    }
    any
}

/// Generates a signal for one thread: an ignored, unblocked one is discarded now (as Linux
/// does); others become pending with their siginfo (standard signals do not queue).
pub fn queue_thread(task: &mut Task, info: SigInfo) {
    let sig = info.signo;
    if !prepare(task, &info) {
        return;
    }
    if task.sig.mask & bit(sig) == 0 && task.sigs.ignored(sig) {
        super::trace::signal(task, &info);
        super::time::timer_signal_dropped(task, &info);
        return;
    }
    if task.sig.pending & bit(sig) == 0 {
        task.sig.info[sig as usize - 1] = info;
        task.sig.pending |= bit(sig);
    } else {
        super::time::timer_signal_dropped(task, &info);
    }
}

/// Generates a signal for the whole program: pending until a thread that may take it does (the
/// main thread first, see `next`). Unless the caller is the main thread and does not block it,
/// the others are kicked to look.
pub fn queue_process(task: &mut Task, info: SigInfo) {
    let sig = info.signo;
    if !prepare(task, &info) {
        return;
    }
    let blocked_here = task.sig.mask & bit(sig) != 0;
    if !blocked_here && task.sigs.ignored(sig) {
        super::trace::signal(task, &info);
        super::time::timer_signal_dropped(task, &info);
        return;
    }
    if task.sigs.pending & bit(sig) == 0 {
        task.sigs.info[sig as usize - 1] = info;
        task.sigs.pending |= bit(sig);
    } else {
        super::time::timer_signal_dropped(task, &info);
    }
    if blocked_here || task.tid != task.pid() {
        let me = task.tid;
        task.me.kicker.kick_all(me);
    }
}

/// Takes the signals other threads sent to this one.
fn take_inbox(task: &mut Task) {
    if task.threads.inbox.is_empty() {
        return;
    }
    let me = task.tid;
    let mine: Vec<SigInfo> = {
        let inbox = &mut task.threads.inbox;
        let mut mine = Vec::new();
        inbox.retain(|(t, i)| {
            if *t == me {
                mine.push(*i);
            }
            *t != me
        });
        mine
    };
    for info in mine {
        queue_thread(task, info);
    }
}

/// The signal this thread delivers first, if any is pending for it or the program and unblocked.
/// A signal for the program is the main thread's to take unless the main thread blocks it (or
/// has exited), as Linux's `complete_signal` picks the main thread first.
fn next(task: &Task) -> Option<i32> {
    let shared = match task.main_mask {
        _ if task.tid == task.pid() => task.sigs.pending,
        None => task.sigs.pending,
        Some(main_blocks) => task.sigs.pending & main_blocks,
    };
    first(task.sig.pending | shared, task.sig.mask)
}

/// Takes `sig` off this thread's pending set, or else the program's.
fn dequeue(task: &mut Task, sig: i32) -> SigInfo {
    let mut info = if task.sig.pending & bit(sig) != 0 {
        task.sig.pending &= !bit(sig);
        task.sig.info[sig as usize - 1]
    } else {
        task.sigs.pending &= !bit(sig);
        task.sigs.info[sig as usize - 1]
    };
    super::time::on_timer_signal(task, &mut info);
    info
}

impl SignalState {
    /// On execve: the alternate stack is gone; the mask and pending signals are kept.
    pub fn on_exec(&mut self) {
        self.altstack = (0, SS_DISABLE, 0);
        self.saved_mask = None;
    }

    /// The state of a forked program's thread: the same mask and alternate stack, nothing
    /// pending.
    pub fn for_fork(&self) -> SignalState {
        SignalState {
            mask: self.mask,
            altstack: self.altstack,
            ..SignalState::default()
        }
    }

    /// The state of a new thread: the creator's mask, nothing pending, no alternate stack.
    pub fn for_thread(&self) -> SignalState {
        SignalState {
            mask: self.mask,
            ..SignalState::default()
        }
    }

    /// `sas_ss_flags(sp)`: whether `sp` is on the alternate stack, or it is disabled.
    fn sas_flags(&self, sp: u64) -> i32 {
        let (base, flags, size) = self.altstack;
        if size == 0 || flags & SS_DISABLE != 0 {
            return SS_DISABLE;
        }
        if flags & SS_AUTODISARM == 0 && sp > base && sp - base <= size {
            SS_ONSTACK
        } else {
            0
        }
    }

    /// `sigaltstack` on behalf of the program (or of `rt_sigreturn`), with its stack at `sp`.
    pub fn set_altstack(&mut self, sp: u64, new: (u64, i32, u64)) -> Result<(), i32> {
        if self.sas_flags(sp) == SS_ONSTACK {
            return Err(libc::EPERM);
        }
        let (ss_sp, flags, size) = new;
        let mode = flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE {
            return Err(libc::EINVAL);
        }
        self.altstack = if mode == SS_DISABLE {
            (0, SS_DISABLE, 0)
        } else {
            if size < MINSIGSTKSZ {
                return Err(libc::ENOMEM);
            }
            (ss_sp, flags & SS_AUTODISARM, size)
        };
        Ok(())
    }

    fn stack_t(&self, sp: u64) -> (u64, i32, u64) {
        let (base, flags, size) = self.altstack;
        let auto = flags & SS_AUTODISARM;
        (base, self.sas_flags(sp) | auto, size)
    }
}

/// The program's own identity in siginfo: its pid, its uid.
fn from_self(task: &Task, sig: i32, code: i32) -> SigInfo {
    SigInfo {
        signo: sig,
        code,
        pid: task.pid(),
        uid: task.aux.uid,
        ..Default::default()
    }
}

/// Raises `sig` at the program (SIGPIPE on EPIPE, kill to itself): it is delivered, or acted
/// on, when the current syscall returns.
pub fn raise(task: &mut Task, sig: i32) -> Result<(), SysError> {
    let info = from_self(task, sig, code::SI_USER);
    queue_thread(task, info);
    Ok(())
}

/// Takes the signals mailed to the program (by the host, its terminal, the run's other
/// programs) into its pending sets.
pub fn take_host(task: &mut Task) {
    task.answer_kicks();
    for (tid, info) in task.me.take_mail() {
        match tid {
            None => queue_process(task, info),
            Some(t) if t == task.tid => queue_thread(task, info),
            Some(t) => task.threads.inbox.push((t, info)),
        }
    }
}

/// Whether a blocking call must end now: mvm is stopping the program, or a signal is pending
/// that will run a handler or end the program. Takes the host's signals first.
pub fn interrupted(task: &mut Task) -> bool {
    take_host(task);
    take_inbox(task);
    task.stop_requested().is_some() || task.zapped() || next(task).is_some()
}

/// How a syscall interrupted by a handler ends (Linux's -ERESTARTSYS vs -ERESTARTNOHAND).
fn restarts_with_sa_restart(nr: u64, a: &Args) -> bool {
    match nr {
        // poll, select, pause, nanosleep, rt_sigtimedwait, rt_sigsuspend, clock_nanosleep,
        // epoll_wait, pselect6, ppoll, epoll_pwait, epoll_pwait2: never restarted after a handler.
        7 | 23 | 34 | 35 | 128 | 130 | 230 | 232 | 270 | 271 | 281 | 441 => false,
        // semop, msgsnd, msgrcv, semtimedop (System V IPC): never restarted after a handler.
        65 | 69 | 70 | 220 => false,
        // futex: a wait with a timeout is not restarted (restart_block), one without is.
        202 => a[3] == 0,
        _ => true,
    }
}

/// A syscall `nr` ended with EINTR: whether to restart it (the program re-executes its
/// `syscall`) or to let the program see EINTR. Nothing to deliver (an ignored or blocked host
/// signal woke the call): restart, as Linux never interrupts for those; a handler that will
/// run: restart with SA_RESTART where the call allows it.
pub fn on_eintr(task: &mut Task, nr: u64, a: &Args) -> bool {
    if !interrupted(task) {
        return true;
    }
    let Some(sig) = next(task) else {
        return false; // stopping
    };
    let act = task.sigs.action(sig);
    if act.handler == SIG_DFL && default_action(sig) == Default_::Stop {
        // The program stops; the call starts again once it is continued (no handler runs).
        return true;
    }
    act.handler > SIG_IGN && act.flags & SA_RESTART != 0 && restarts_with_sa_restart(nr, a)
}

/// How a call that ended with EINTR goes on, for `--trace` (which shows it as strace sees the
/// kernel end it).
pub enum Fate {
    /// Restarted with nothing to deliver: the same call goes on.
    Resumes,
    /// The program ends without a signal delivery (mvm stops it, another thread ended it, or
    /// SIGKILL).
    Ends,
    /// A signal is delivered next (its handler runs, or it kills the program).
    Signal,
}

/// The fate of a syscall that ended with EINTR (asked before `on_eintr`, which agrees).
pub fn eintr_fate(task: &mut Task) -> Fate {
    if !interrupted(task) {
        return Fate::Resumes;
    }
    if task.stop_requested().is_some() || task.zapped() {
        return Fate::Ends;
    }
    match next(task) {
        Some(sig) if sig != libc::SIGKILL => Fate::Signal,
        _ => Fate::Ends,
    }
}

/// Where the program's user-mode state is right now: in the vCPU's registers (it was stopped
/// in ring 3), or in the iret frame mvm wrote (stopped at the kernel's `iretq`). `None` while the
/// vCPU is anywhere else in ring 0 (inside an exception entry): deliver at the next exit.
fn user_state(task: &Task) -> Option<(bool, IretFrame)> {
    let r = task.vcpu.regs();
    match task.vcpu.cpl() {
        3 => Some((true, IretFrame::user(r.rip, r.rsp, r.rflags))),
        0 if r.rip == IRETQ && r.rsp == task.cpu.stack_top - 40 => {
            let mut raw = [0u8; 40];
            task.mm.ram.read_pool(task.cpu.phys(r.rsp), &mut raw);
            let w = |i: usize| u64::from_le_bytes(raw[8 * i..8 * i + 8].try_into().unwrap());
            Some((
                false,
                IretFrame {
                    rip: w(0),
                    cs: w(1),
                    rflags: w(2),
                    rsp: w(3),
                    ss: w(4),
                },
            ))
        }
        _ => None,
    }
}

fn set_user_state(task: &mut Task, in_ring3: bool, f: IretFrame) {
    if in_ring3 {
        let r = task.vcpu.regs_mut();
        (r.rip, r.rsp, r.rflags) = (f.rip, f.rsp, f.rflags);
    } else {
        task.resume_user(f);
    }
}

/// Fault details for the frame of a synchronous signal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trap {
    /// Exception vector.
    pub trapno: u64,
    /// Error code.
    pub err: u64,
    /// Faulting address (page faults).
    pub cr2: u64,
}

/// Delivers the pending, unblocked signals before the program resumes: each runs its handler,
/// is ignored, or ends the program (returned). Called after every exit; cheap when nothing is
/// pending.
pub fn deliver_pending(task: &mut Task) -> Option<ExitReason> {
    if (task.sig.pending | task.sigs.pending) & !task.sig.mask == 0
        && task.sig.saved_mask.is_none()
        && task.threads.inbox.is_empty()
        && !task.me.has_mail.load(Ordering::Relaxed)
    {
        return None;
    }
    let (in_ring3, _) = user_state(task)?;
    take_host(task);
    take_inbox(task);
    while let Some(sig) = next(task) {
        let info = dequeue(task, sig);
        let act = task.sigs.action(sig);
        super::trace::signal(task, &info);
        match act.handler {
            SIG_IGN => continue,
            SIG_DFL => match default_action(sig) {
                Default_::Ignore => continue,
                Default_::Stop => {
                    // A terminal's stop signals do not stop an orphaned process group.
                    if sig != libc::SIGSTOP && task.machine.orphaned(task.me.job.pgid()) {
                        continue;
                    }
                    stop_program(task, sig);
                    // What else is pending waits until the program is continued.
                    break;
                }
                _ => {
                    return Some(if info.from_host {
                        ExitReason::Stopped(sig)
                    } else {
                        fatal(sig, String::new())
                    });
                }
            },
            _ => {
                if let Err(why) = setup_frame(task, in_ring3, info, Trap::default()) {
                    return Some(fatal(libc::SIGSEGV, why));
                }
            }
        }
    }
    if let Some(m) = task.sig.saved_mask.take() {
        task.sig.mask = m;
    }
    None
}

/// A synchronous fault: the program resumes at `frame` into its handler for `info.signo`, or
/// (no handler, or the signal blocked) ends with `detail`, as Linux's force_sig does.
pub fn force(
    task: &mut Task,
    frame: IretFrame,
    info: SigInfo,
    trap: Trap,
    detail: String,
) -> Option<ExitReason> {
    let sig = info.signo;
    let act = task.sigs.action(sig);
    super::trace::signal(task, &info);
    if act.handler <= SIG_IGN || task.sig.mask & bit(sig) != 0 {
        return Some(fatal(sig, detail));
    }
    task.resume_user(frame);
    match setup_frame(task, false, info, trap) {
        Ok(()) => None,
        Err(why) => Some(fatal(libc::SIGSEGV, format!("{detail}; {why}"))),
    }
}

fn frame_err(what: &str) -> String {
    format!("cannot deliver a signal: {what}")
}

/// Builds the `rt_sigframe` for `info.signo` on the program's stack and points the program at
/// its handler (Linux's `x64_setup_rt_frame` and `handle_signal`).
fn setup_frame(task: &mut Task, in_ring3: bool, info: SigInfo, trap: Trap) -> Result<(), String> {
    let sig = info.signo;
    let act = task.sigs.action(sig);
    if act.flags & SA_RESTORER == 0 {
        return Err(frame_err("the handler has no SA_RESTORER"));
    }
    let (_, at) = user_state(task).ok_or_else(|| frame_err("the vCPU is in the kernel"))?;
    let regs = task.vcpu.regs();

    // The stack: below the red zone, or the top of the alternate stack.
    let user_sp = at.rsp;
    let nested_alt = task.sig.sas_flags(user_sp) == SS_ONSTACK;
    let mut sp = user_sp.wrapping_sub(128);
    let mut entering_alt = false;
    if act.flags & SA_ONSTACK != 0 && task.sig.sas_flags(user_sp) == 0 {
        sp = task.sig.altstack.0.wrapping_add(task.sig.altstack.2);
        entering_alt = true;
    }
    let xcr0 = task.vcpu.xcr0() | 3;
    let xsize = sigframe::xstate_size(xcr0);
    let fp = (sp.wrapping_sub(xsize as u64 + 4)) & !63;
    let frame = (fp.wrapping_sub(sigframe::FRAME_SIZE) & !15).wrapping_sub(8);
    if nested_alt || entering_alt {
        let (base, _, size) = task.sig.altstack;
        if !(frame > base && frame - base <= size) {
            return Err(frame_err("the alternate signal stack overflows"));
        }
    }

    // The FPU state, then the frame.
    let xs = task.vcpu.xsave().map_err(|e| frame_err(&e.to_string()))?;
    let mut fpbuf = sigframe::xsave_bytes(&xs);
    fpbuf.truncate(xsize);
    // The header says which components the frame holds: only the guest-enabled ones. KVM's
    // XSTATE_BV may carry others the host saves for the guest (PKRU on a CPU with protection
    // keys), which the frame has no room for and rt_sigreturn (as Linux's) would refuse.
    let bv = u64::from_le_bytes(fpbuf[512..520].try_into().expect("8 bytes")) & xcr0;
    fpbuf[512..520].copy_from_slice(&bv.to_le_bytes());
    fpbuf[520..576].fill(0);
    let sw = sigframe::SW_BYTES;
    fpbuf[sw..sw + 48].fill(0);
    fpbuf[sw..sw + 4].copy_from_slice(&sigframe::FP_XSTATE_MAGIC1.to_le_bytes());
    fpbuf[sw + 4..sw + 8].copy_from_slice(&(xsize as u32 + 4).to_le_bytes());
    fpbuf[sw + 8..sw + 16].copy_from_slice(&xcr0.to_le_bytes());
    fpbuf[sw + 16..sw + 20].copy_from_slice(&(xsize as u32).to_le_bytes());
    fpbuf.extend_from_slice(&sigframe::FP_XSTATE_MAGIC2.to_le_bytes());

    let old_mask = task.sig.saved_mask.take().unwrap_or(task.sig.mask);
    let mut sc = SigContext::capture(&regs, at.rip, at.rsp, at.rflags);
    sc.segs = at.cs | (USER_DS as u64) << 48;
    sc.err = trap.err;
    sc.trapno = trap.trapno;
    sc.oldmask = old_mask;
    sc.cr2 = trap.cr2;
    sc.fpstate = fp;
    let (ss_sp, ss_flags, ss_size) = task.sig.stack_t(user_sp);

    let mut f = vec![0u8; sigframe::FRAME_SIZE as usize];
    f[0..8].copy_from_slice(&act.restorer.to_le_bytes());
    let uc_flags =
        sigframe::UC_FP_XSTATE | sigframe::UC_SIGCONTEXT_SS | sigframe::UC_STRICT_RESTORE_SS;
    f[8..16].copy_from_slice(&uc_flags.to_le_bytes());
    f[24..32].copy_from_slice(&ss_sp.to_le_bytes());
    f[32..36].copy_from_slice(&ss_flags.to_le_bytes());
    f[40..48].copy_from_slice(&ss_size.to_le_bytes());
    let mc = (sigframe::UC + sigframe::MCONTEXT) as usize;
    f[mc..mc + 256].copy_from_slice(&sc.to_bytes());
    f[mc + 256..mc + 264].copy_from_slice(&old_mask.to_le_bytes());
    let si = sigframe::INFO as usize;
    f[si..si + 128].copy_from_slice(&info.to_bytes());

    task.mm
        .write(fp, &fpbuf)
        .map_err(|_| frame_err("the signal stack is not writable"))?;
    task.mm
        .write(frame, &f)
        .map_err(|_| frame_err("the signal stack is not writable"))?;

    // Enter the handler.
    if task.sig.altstack.1 & SS_AUTODISARM != 0 {
        task.sig.altstack = (0, SS_DISABLE, 0);
    }
    let mut mask = task.sig.mask | act.mask;
    if act.flags & SA_NODEFER == 0 {
        mask |= bit(sig);
    }
    task.sig.mask = mask & !UNBLOCKABLE;
    if act.flags & SA_RESETHAND != 0 {
        task.sigs.actions[sig as usize - 1].handler = SIG_DFL;
    }
    task.vcpu
        .set_xsave(&sigframe::xsave_init())
        .map_err(|e| frame_err(&e.to_string()))?;
    {
        let r = task.vcpu.regs_mut();
        r.rdi = sig as u64;
        r.rsi = frame + sigframe::INFO;
        r.rdx = frame + sigframe::UC;
        r.rax = 0;
    }
    // DF, TF and RF are cleared for the handler.
    let flags = at.rflags & !(0x400 | 0x100 | 0x1_0000);
    set_user_state(task, in_ring3, IretFrame::user(act.handler, frame, flags));
    Ok(())
}

/// rt_sigreturn(2): back from a handler to where the signal interrupted the program, with its
/// registers, flags, mask, alternate stack and FPU state restored from the frame the handler
/// returned over. A frame that cannot be read or does not make sense kills the program with
/// SIGSEGV, as Linux's `badframe` does.
pub fn rt_sigreturn(task: &mut Task, _a: Args) -> SysResult {
    let bad = |why: &str| {
        Err(SysError::Exit(fatal(
            libc::SIGSEGV,
            format!("rt_sigreturn with a bad signal frame ({why})"),
        )))
    };
    let frame = task.sig.syscall_rsp.wrapping_sub(8);
    let mut uc = [0u8; sigframe::UC_SIZE];
    if task.mm.read(frame + sigframe::UC, &mut uc).is_err() {
        return bad("unreadable");
    }
    let r = match sigframe::ucontext(&uc) {
        Ok(r) => r,
        Err(why) => return bad(why),
    };
    use sigframe::reg::*;
    // The FPU state first: it is the part that can be refused.
    if r.sc.fpstate == 0 {
        let _ = task.vcpu.set_xsave(&sigframe::xsave_init());
    } else {
        let xcr0 = task.vcpu.xcr0() | 3;
        let xsize = sigframe::xstate_size(xcr0);
        let mut buf = vec![0u8; xsize + 4];
        let whole = task.mm.read(r.sc.fpstate, &mut buf).is_ok();
        if !whole && task.mm.read(r.sc.fpstate, &mut buf[..512]).is_err() {
            return bad("unreadable fpstate");
        }
        let xsave = match sigframe::fpstate(buf, whole, xcr0, xsize) {
            Ok(x) => x,
            Err(why) => return bad(why),
        };
        if task.vcpu.set_xsave(&xsave).is_err() {
            return bad("FPU state refused");
        }
    }
    task.sig.mask = r.mask & !UNBLOCKABLE;
    // uc_stack: restored as sigaltstack would, errors ignored (as Linux).
    let _ = task.sig.set_altstack(r.sc.gp[RSP], r.altstack);
    r.sc.restore_into(task.vcpu.regs_mut());
    task.sig.resume = Some(r.resume);
    Ok(r.sc.gp[RAX])
}

impl Task {
    /// Where `rt_sigreturn` asked the program to resume, if it did.
    pub fn take_sigreturn(&mut self) -> Option<IretFrame> {
        self.sig.resume.take()
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
            mask: w[3] & !UNBLOCKABLE,
        })
    } else {
        None
    };
    let old = task.sigs.action(sig);
    if a[2] != 0 {
        task.mm
            .write_obj(a[2], &[old.handler, old.flags, old.restorer, old.mask])?;
    }
    if let Some(n) = new {
        task.sigs.actions[sig as usize - 1] = n;
        // A signal made ignored is discarded, even pending and blocked.
        if task.sigs.ignored(sig) {
            task.sig.pending &= !bit(sig);
            task.sigs.pending &= !bit(sig);
        }
    }
    Ok(0)
}

/// A guest `sigset_t` of `size` bytes (8, else EINVAL), without SIGKILL and SIGSTOP.
pub fn read_sigset(task: &mut Task, at: u64, size: u64) -> Result<u64, SysError> {
    if size != 8 {
        return err(libc::EINVAL);
    }
    Ok(task.mm.read_u64(at)? & !UNBLOCKABLE)
}

/// rt_sigprocmask(2). Signals it unblocks are delivered as it returns.
pub fn rt_sigprocmask(task: &mut Task, a: Args) -> SysResult {
    if a[3] != 8 {
        return err(libc::EINVAL);
    }
    let old = task.sig.mask;
    let new = if a[1] != 0 {
        let set = read_sigset(task, a[1], a[3])?;
        Some(match a[0] as i32 {
            libc::SIG_BLOCK => old | set,
            libc::SIG_UNBLOCK => old & !set,
            libc::SIG_SETMASK => set,
            _ => return err(libc::EINVAL),
        })
    } else {
        None
    };
    if a[2] != 0 {
        task.mm.write_obj(a[2], &old)?;
    }
    if let Some(m) = new {
        task.sig.mask = m;
    }
    Ok(0)
}

/// rt_sigpending(2).
pub fn rt_sigpending(task: &mut Task, a: Args) -> SysResult {
    if a[1] > 8 {
        return err(libc::EINVAL);
    }
    take_host(task);
    take_inbox(task);
    let set = ((task.sig.pending | task.sigs.pending) & task.sig.mask).to_le_bytes();
    task.mm.write(a[0], &set[..a[1] as usize])?;
    Ok(0)
}

/// The signal mask argument of ppoll/pselect6 (`at`, `size`; `at` 0: none): in force until the
/// call returns, as with rt_sigsuspend. A signal it unblocks that is already pending ends the
/// call at once with EINTR.
pub fn call_mask(task: &mut Task, at: u64, size: u64) -> Result<(), SysError> {
    if at == 0 {
        return Ok(());
    }
    let set = read_sigset(task, at, size)?;
    task.sig.saved_mask = Some(task.sig.mask);
    task.sig.mask = set;
    if interrupted(task) {
        return err(libc::EINTR);
    }
    Ok(())
}

/// rt_sigsuspend(2): waits, with the given mask, until a signal runs a handler or ends the
/// program; the old mask comes back when the handler returns.
pub fn rt_sigsuspend(task: &mut Task, a: Args) -> SysResult {
    let set = read_sigset(task, a[0], a[1])?;
    task.sig.saved_mask = Some(task.sig.mask);
    task.sig.mask = set;
    while !interrupted(task) {
        task.wait_wake(None);
    }
    err(libc::EINTR)
}

/// rt_sigtimedwait(2): takes a pending signal of `set` (raised by the program itself or sent to
/// mvm), waiting for one up to the timeout.
pub fn rt_sigtimedwait(task: &mut Task, a: Args) -> SysResult {
    let set = read_sigset(task, a[0], a[3])?;
    let deadline = if a[2] != 0 {
        let ts: [i64; 2] = task.mm.read_obj(a[2])?;
        if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
            return err(libc::EINVAL);
        }
        let d = std::time::Duration::new(ts[0].min(1 << 40) as u64, ts[1] as u32);
        Some(std::time::Instant::now() + d)
    } else {
        None
    };
    loop {
        take_host(task);
        take_inbox(task);
        let ready = (task.sig.pending | task.sigs.pending) & set;
        if ready != 0 {
            let sig = ready.trailing_zeros() as i32 + 1;
            let info = dequeue(task, sig);
            if a[1] != 0 {
                task.mm.write(a[1], &info.to_bytes())?;
            }
            return Ok(sig as u64);
        }
        if interrupted(task) {
            return err(libc::EINTR);
        }
        if !task.wait_wake(deadline) {
            return err(libc::EAGAIN);
        }
    }
}

/// The signals pending for this thread or the program (what makes a signalfd readable), once
/// what was sent to it is taken.
pub fn pending_now(task: &mut Task) -> u64 {
    take_host(task);
    take_inbox(task);
    task.sig.pending | task.sigs.pending
}

/// Takes the pending signal of `set` a signalfd reads next, blocked or not: this thread's
/// first, then the program's, each the synchronous ones first (Linux's `dequeue_signal`).
pub fn take_in(task: &mut Task, set: u64) -> Option<SigInfo> {
    take_host(task);
    take_inbox(task);
    let sig = first(task.sig.pending, !set).or_else(|| first(task.sigs.pending, !set))?;
    Some(dequeue(task, sig))
}

/// rt_sigqueueinfo(2): kill(2) of one program with the caller's siginfo (its code, sender and
/// value). A code the kernel keeps for itself or for kill/tkill is the program's own to send
/// only to itself (EPERM otherwise), as on Linux.
pub fn rt_sigqueueinfo(task: &mut Task, a: Args) -> SysResult {
    let pid = a[0] as i32;
    let sig = if a[1] == 0 { 0 } else { valid(a[1])? };
    let mut raw = [0u8; 128];
    task.mm.read(a[2], &mut raw)?;
    let word = |at: usize| i32::from_le_bytes(raw[at..at + 4].try_into().expect("4 bytes"));
    let si_code = word(8);
    let me = task.pid();
    if (si_code >= 0 || si_code == code::SI_TKILL) && pid != me {
        return err(libc::EPERM);
    }
    if pid <= 0 {
        return err(libc::ESRCH);
    }
    let info = SigInfo {
        signo: sig,
        code: si_code,
        pid: word(16),
        uid: word(20) as u32,
        value: u64::from_le_bytes(raw[24..32].try_into().expect("8 bytes")),
        ..Default::default()
    };
    if pid == me {
        if sig != 0 {
            queue_process(task, info);
        }
        return Ok(0);
    }
    let p = task.machine.find(pid).ok_or(SysError::Errno(libc::ESRCH))?;
    if sig != 0 && p.status.lock().unwrap().is_none() {
        p.send(info);
    }
    Ok(0)
}

/// sigaltstack(2).
pub fn sigaltstack(task: &mut Task, a: Args) -> SysResult {
    let sp = task.sig.syscall_rsp;
    let old = task.sig.stack_t(sp);
    if a[0] != 0 {
        let ss_sp: u64 = task.mm.read_obj(a[0])?;
        let flags: i32 = task.mm.read_obj(a[0] + 8)?;
        let size: u64 = task.mm.read_obj(a[0] + 16)?;
        task.sig
            .set_altstack(sp, (ss_sp, flags, size))
            .map_err(SysError::Errno)?;
    }
    if a[1] != 0 {
        task.mm.write_obj(a[1], &old.0)?;
        task.mm.write_obj(a[1] + 8, &(old.1 as u32 as u64))?;
        task.mm.write_obj(a[1] + 16, &old.2)?;
    }
    Ok(0)
}

/// Sends `sig` (0: only checks) to thread `tid` of the program.
fn to_thread(task: &mut Task, tid: i32, sig: u64) -> SysResult {
    let sig = if sig == 0 { 0 } else { valid(sig)? };
    if tid == task.tid {
        if sig != 0 {
            let info = from_self(task, sig, code::SI_TKILL);
            queue_thread(task, info);
        }
        return Ok(0);
    }
    if sig == 0 {
        return if task.me.kicker.has(tid) {
            Ok(0)
        } else {
            err(libc::ESRCH)
        };
    }
    let info = from_self(task, sig, code::SI_TKILL);
    task.threads.inbox.push((tid, info));
    if task.me.kicker.kick(tid) {
        Ok(0)
    } else {
        task.threads.inbox.pop();
        err(libc::ESRCH)
    }
}

/// kill(2): to the caller, another program of the run, a process group (0: the caller's,
/// -N: group N), or all but the first program and the caller (-1).
pub fn kill(task: &mut Task, a: Args) -> SysResult {
    let pid = a[0] as i32;
    let sig = if a[1] == 0 { 0 } else { valid(a[1])? };
    if pid == i32::MIN {
        return err(libc::ESRCH);
    }
    let me = task.pid();
    let targets: Vec<i32> = match pid {
        p if p > 0 => vec![p],
        -1 => task
            .machine
            .all()
            .into_iter()
            .map(|p| p.pid)
            .filter(|&p| p != 1 && p != me)
            .collect(),
        p => {
            let g = if p == 0 { task.me.job.pgid() } else { -p };
            task.machine.group(g).into_iter().map(|p| p.pid).collect()
        }
    };
    let mut any = false;
    for t in targets {
        let info = SigInfo {
            pid: me,
            ..from_self(task, sig.max(1), code::SI_USER)
        };
        if t == me {
            any = true;
            if sig != 0 {
                let info = SigInfo { signo: sig, ..info };
                queue_process(task, info);
            }
        } else if let Some(p) = task.machine.find(t) {
            any = true;
            if sig != 0 && p.status.lock().unwrap().is_none() {
                p.send(SigInfo { signo: sig, ..info });
            }
        }
    }
    if any {
        Ok(0)
    } else {
        err(libc::ESRCH)
    }
}

/// tgkill(2): to one thread of the calling program.
pub fn tgkill(task: &mut Task, a: Args) -> SysResult {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return err(libc::EINVAL);
    }
    if tgid != task.pid() {
        return err(libc::ESRCH);
    }
    to_thread(task, tid, a[2])
}

/// tkill(2).
pub fn tkill(task: &mut Task, a: Args) -> SysResult {
    let tid = a[0] as i32;
    if tid <= 0 {
        return err(libc::EINVAL);
    }
    to_thread(task, tid, a[1])
}

/// pause(2): sleeps until a signal runs a handler or ends the program.
pub fn pause(task: &mut Task, _a: Args) -> SysResult {
    while !interrupted(task) {
        task.wait_wake(None);
    }
    err(libc::EINTR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synchronous_signals_first_blocked_ones_wait() {
        let pending = bit(libc::SIGUSR1) | bit(libc::SIGTERM) | bit(libc::SIGSEGV);
        assert_eq!(first(pending, 0), Some(libc::SIGSEGV));
        assert_eq!(first(pending, bit(libc::SIGSEGV)), Some(libc::SIGUSR1));
        assert_eq!(first(pending, pending), None);
        let mut sh = SigShared::default();
        assert!(sh.ignored(libc::SIGCHLD));
        assert!(!sh.ignored(libc::SIGTERM));
        sh.actions[libc::SIGTERM as usize - 1].handler = SIG_IGN;
        assert!(sh.ignored(libc::SIGTERM));
        assert!(!sh.ignored(libc::SIGKILL));
    }

    #[test]
    fn altstack_flags() {
        let mut s = SignalState::default();
        assert_eq!(s.sas_flags(0x1000), SS_DISABLE);
        assert_eq!(s.set_altstack(0, (0x10000, 0, 100)), Err(libc::ENOMEM));
        assert_eq!(s.set_altstack(0, (0x10000, 4, 8192)), Err(libc::EINVAL));
        s.set_altstack(0, (0x10000, SS_ONSTACK, 8192)).unwrap();
        assert_eq!(s.sas_flags(0x11000), SS_ONSTACK);
        assert_eq!(s.sas_flags(0x9000), 0);
        assert_eq!(
            s.set_altstack(0x11000, (0, SS_DISABLE, 0)),
            Err(libc::EPERM)
        );
    }
}
