//! Process syscalls: identity, limits, the thread area, threads (clone on a new vCPU), futexes,
//! execve, exit. The program is pid 1 in its VM, as in a container (its main thread is tid 1,
//! the others 2, 3, …); its user and group are mvm's.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{err, host, Args, SysError, SysResult};
use crate::layout::{MAX_VCPUS, USER_TOP};
use crate::sys::fs::max_fds;
use crate::task::{
    ExitReason, FutexWaiter, JobReport, ProcHandle, SharedKey, SharedWaiter, Task, Wake,
};
use crate::vstate::vcpu::{CpuArea, IretFrame, Vcpu};
use std::sync::Arc;

/// exit(2): the calling thread ends; the program ends with the last one.
pub fn exit(_task: &mut Task, a: Args) -> SysResult {
    Err(SysError::ThreadExit(a[0] as u8))
}

/// exit_group(2): every thread ends.
pub fn exit_group(_task: &mut Task, a: Args) -> SysResult {
    Err(SysError::Exit(ExitReason::Exited(a[0] as u8)))
}

/// gettid(2).
pub fn gettid(task: &mut Task, _a: Args) -> SysResult {
    Ok(task.tid as u64)
}

/// getpid(2).
pub fn getpid(task: &mut Task, _a: Args) -> SysResult {
    Ok(task.pid() as u64)
}

/// getppid(2): the first program has nobody above it in the VM (0, as in a pid namespace).
pub fn getppid(task: &mut Task, _a: Args) -> SysResult {
    Ok(task.me.ppid.load(Ordering::Acquire) as u64)
}

/// getpgrp(2).
pub fn getpgrp(task: &mut Task, _a: Args) -> SysResult {
    Ok(task.me.job.pgid() as u64)
}

/// The program `pid` names (0: the caller).
fn program(task: &Task, pid: i32) -> Result<Arc<ProcHandle>, SysError> {
    if pid == 0 || pid == task.pid() {
        return Ok(task.me.clone());
    }
    if pid < 0 {
        return err(libc::ESRCH);
    }
    task.machine
        .find(pid)
        .filter(|p| p.status.lock().unwrap().is_none())
        .ok_or(SysError::Errno(libc::ESRCH))
}

/// getpgid(2).
pub fn getpgid(task: &mut Task, a: Args) -> SysResult {
    Ok(program(task, a[0] as i32)?.job.pgid() as u64)
}

/// getsid(2).
pub fn getsid(task: &mut Task, a: Args) -> SysResult {
    Ok(program(task, a[0] as i32)?.job.sid() as u64)
}

/// setsid(2): a new session and process group led by the caller, without a controlling
/// terminal; EPERM for a process group leader (the first program leads group 1).
pub fn setsid(task: &mut Task, _a: Args) -> SysResult {
    let pid = task.pid();
    if task.me.job.pgid() == pid || !task.machine.group(pid).is_empty() {
        return err(libc::EPERM);
    }
    task.me.job.sid.store(pid, Ordering::Release);
    task.me.job.pgid.store(pid, Ordering::Release);
    task.me.job.ctty.store(false, Ordering::Release);
    Ok(pid as u64)
}

/// setpgid(2), as Linux checks it: the caller or a child of its that has not exec'd, in the
/// caller's session, not a session leader, into a group of that session (or a new one).
pub fn setpgid(task: &mut Task, a: Args) -> SysResult {
    let (pid, pgid) = (a[0] as i32, a[1] as i32);
    if pgid < 0 {
        return err(libc::EINVAL);
    }
    let target = program(task, pid)?;
    let mine = target.pid == task.pid();
    if !mine {
        if target.ppid.load(Ordering::Acquire) != task.pid() {
            return err(libc::ESRCH);
        }
        if target.job.sid() != task.me.job.sid() {
            return err(libc::EPERM);
        }
        if target.execd.load(Ordering::Acquire) {
            return err(libc::EACCES);
        }
    }
    if target.job.sid() == target.pid {
        return err(libc::EPERM);
    }
    let pgid = if pgid == 0 { target.pid } else { pgid };
    if pgid != target.pid
        && !task
            .machine
            .group(pgid)
            .iter()
            .any(|p| p.job.sid() == task.me.job.sid())
    {
        return err(libc::EPERM);
    }
    target.job.pgid.store(pgid, Ordering::Release);
    Ok(0)
}

/// getuid(2), geteuid(2).
pub fn getuid(task: &mut Task, _a: Args) -> SysResult {
    Ok(task.aux.uid as u64)
}

/// getgid(2), getegid(2).
pub fn getgid(task: &mut Task, _a: Args) -> SysResult {
    Ok(task.aux.gid as u64)
}

fn write_ids(task: &mut Task, a: Args, id: u32) -> SysResult {
    for p in &a[..3] {
        task.mm.write_obj(*p, &id)?;
    }
    Ok(0)
}

/// getresuid(2).
pub fn getresuid(task: &mut Task, a: Args) -> SysResult {
    write_ids(task, a, task.aux.uid)
}

/// getresgid(2).
pub fn getresgid(task: &mut Task, a: Args) -> SysResult {
    write_ids(task, a, task.aux.gid)
}

/// The ids the program sees are its own: root may take any id, anyone else only the one it
/// has. Real, effective and saved ids are one. The host threads that serve the program make
/// their file accesses with them (`creds`), so the host's permission checks are the program's.
fn set_id(task: &mut Task, group: bool, want: u64) -> SysResult {
    let want = want as u32;
    if want == u32::MAX {
        return Ok(0); // -1: unchanged
    }
    let uid = task.aux.uid;
    let current = if group { task.aux.gid } else { uid };
    if uid != 0 && want != current {
        return err(libc::EPERM);
    }
    if group {
        task.aux.gid = want;
    } else {
        task.aux.uid = want;
    }
    task.creds_gen += 1;
    Ok(0)
}

/// Makes the calling host thread's file accesses those of the program's ids (fsuid, fsgid and
/// supplementary groups are per thread on Linux), when they changed since it last looked. Only
/// a root mvm can take other ids; otherwise its own stay.
pub fn creds(task: &mut Task) {
    if task.creds_applied == Some(task.creds_gen) {
        return;
    }
    task.creds_applied = Some(task.creds_gen);
    // SAFETY: plain id query.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let (uid, gid, groups) = (task.aux.uid, task.aux.gid, task.groups.clone());
    // SAFETY: raw per-thread calls (glibc's wrappers would change every thread of mvm); the
    // group list is valid for its length.
    unsafe {
        libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr());
        libc::syscall(libc::SYS_setfsgid, gid);
        libc::syscall(libc::SYS_setfsuid, uid);
    }
}

/// The id a set*id call asks for: the first of `ids` that is not -1 (unchanged).
fn pick(ids: &[u64]) -> u64 {
    ids.iter()
        .copied()
        .find(|v| *v as u32 != u32::MAX)
        .unwrap_or(u64::MAX)
}

/// setuid(2).
pub fn setuid(task: &mut Task, a: Args) -> SysResult {
    if a[0] as u32 == u32::MAX {
        return err(libc::EINVAL);
    }
    set_id(task, false, a[0])
}

/// setgid(2).
pub fn setgid(task: &mut Task, a: Args) -> SysResult {
    if a[0] as u32 == u32::MAX {
        return err(libc::EINVAL);
    }
    set_id(task, true, a[0])
}

/// setreuid(2), setresuid(2) (`n` ids): the first id given.
fn set_uids(task: &mut Task, a: Args, n: usize) -> SysResult {
    set_id(task, false, pick(&a[..n]))
}

/// setregid(2), setresgid(2).
fn set_gids(task: &mut Task, a: Args, n: usize) -> SysResult {
    set_id(task, true, pick(&a[..n]))
}

/// setreuid(2).
pub fn setreuid(task: &mut Task, a: Args) -> SysResult {
    set_uids(task, a, 2)
}

/// setresuid(2).
pub fn setresuid(task: &mut Task, a: Args) -> SysResult {
    set_uids(task, a, 3)
}

/// setregid(2).
pub fn setregid(task: &mut Task, a: Args) -> SysResult {
    set_gids(task, a, 2)
}

/// setresgid(2).
pub fn setresgid(task: &mut Task, a: Args) -> SysResult {
    set_gids(task, a, 3)
}

/// setgroups(2): root may set them.
pub fn setgroups(task: &mut Task, a: Args) -> SysResult {
    if task.aux.uid != 0 {
        return err(libc::EPERM);
    }
    if a[0] > 65536 {
        return err(libc::EINVAL);
    }
    let mut groups = Vec::with_capacity(a[0] as usize);
    for i in 0..a[0] {
        groups.push(task.mm.read_obj::<u32>(a[1] + 4 * i)?);
    }
    task.groups = groups;
    task.creds_gen += 1;
    Ok(0)
}

/// getgroups(2).
pub fn getgroups(task: &mut Task, a: Args) -> SysResult {
    let n = task.groups.len() as u64;
    if (a[0] as i32) < 0 {
        return err(libc::EINVAL);
    }
    if a[0] == 0 {
        return Ok(n);
    }
    if a[0] < n {
        return err(libc::EINVAL);
    }
    let groups = task.groups.clone();
    for (i, g) in groups.iter().enumerate() {
        task.mm.write_obj(a[1] + 4 * i as u64, g)?;
    }
    Ok(n)
}

/// capget(2): the program holds no capabilities (as an unprivileged program, whatever its
/// uid says); version probes get the current version back.
pub fn capget(task: &mut Task, a: Args) -> SysResult {
    const V3: u32 = 0x2008_0522;
    let version: u32 = task.mm.read_obj(a[0])?;
    if !matches!(version, 0x1998_0330 | 0x2007_1026 | V3) {
        task.mm.write_obj(a[0], &V3)?;
        return if a[1] == 0 { Ok(0) } else { err(libc::EINVAL) };
    }
    if a[1] != 0 {
        let words = if version == 0x1998_0330 { 1 } else { 2 };
        for i in 0..words {
            task.mm.write_obj(a[1] + 12 * i, &[0u32; 3])?;
        }
    }
    Ok(0)
}

/// capset(2): dropping what it does not hold is fine; gaining anything is EPERM.
pub fn capset(task: &mut Task, a: Args) -> SysResult {
    let version: u32 = task.mm.read_obj(a[0])?;
    let words = match version {
        0x1998_0330 => 1,
        0x2007_1026 | 0x2008_0522 => 2,
        _ => return err(libc::EINVAL),
    };
    for i in 0..words {
        let set: [u32; 3] = task.mm.read_obj(a[1] + 12 * i)?;
        if set != [0; 3] {
            return err(libc::EPERM);
        }
    }
    Ok(0)
}

/// prctl(2): the thread name, the "dumpable" and no-new-privileges flags and the parent-death
/// signal are accepted and reported; other options are EINVAL.
pub fn prctl(task: &mut Task, a: Args) -> SysResult {
    const PR_SET_PDEATHSIG: u64 = 1;
    const PR_GET_PDEATHSIG: u64 = 2;
    const PR_GET_DUMPABLE: u64 = 3;
    const PR_SET_DUMPABLE: u64 = 4;
    const PR_SET_NAME: u64 = 15;
    const PR_GET_NAME: u64 = 16;
    const PR_SET_NO_NEW_PRIVS: u64 = 38;
    const PR_GET_NO_NEW_PRIVS: u64 = 39;
    match a[0] {
        PR_SET_PDEATHSIG if a[1] <= 64 => Ok(0),
        PR_GET_PDEATHSIG => task
            .mm
            .write_obj(a[1], &0i32)
            .map(|_| 0)
            .map_err(Into::into),
        PR_GET_DUMPABLE => Ok(1),
        PR_SET_DUMPABLE if a[1] <= 1 => Ok(0),
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            task.mm.read(a[1], &mut name[..15])?;
            Ok(0)
        }
        PR_GET_NAME => {
            let mut name = [0u8; 16];
            let exe = task.exe.rsplit(|&b| b == b'/').next().unwrap_or_default();
            let n = exe.len().min(15);
            name[..n].copy_from_slice(&exe[..n]);
            task.mm.write(a[1], &name)?;
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS if a[1] == 1 && a[2] == 0 && a[3] == 0 && a[4] == 0 => Ok(0),
        PR_GET_NO_NEW_PRIVS => Ok(0),
        _ => err(libc::EINVAL),
    }
}

/// uname(2): the host's, with the run's host name (`-h`; the host's own by default).
pub fn uname(task: &mut Task, a: Args) -> SysResult {
    // SAFETY: plain struct filled by the host.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is valid for writing.
    host(unsafe { libc::uname(&mut u) } as isize)?;
    let name = task.machine.conf.hostname.as_bytes();
    u.nodename.fill(0);
    for (d, s) in u.nodename.iter_mut().zip(name.iter().take(64)) {
        *d = *s as libc::c_char;
    }
    // SAFETY: `utsname` is six arrays of bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            &u as *const _ as *const u8,
            std::mem::size_of::<libc::utsname>(),
        )
    };
    task.mm.write(a[0], bytes)?;
    Ok(0)
}

/// The host's name, what a run's programs are told unless `-h` names another.
pub fn host_name() -> String {
    // SAFETY: plain struct filled by the host.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is valid for writing.
    if unsafe { libc::uname(&mut u) } != 0 {
        return "localhost".into();
    }
    let bytes: Vec<u8> = u
        .nodename
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;

/// arch_prctl(2): the thread pointer.
pub fn arch_prctl(task: &mut Task, a: Args) -> SysResult {
    let vmm = |_| SysError::Errno(libc::EINVAL);
    match a[0] {
        ARCH_SET_FS | ARCH_SET_GS if a[1] >= USER_TOP => err(libc::EPERM),
        ARCH_SET_FS => task.vcpu.set_fs_base(a[1]).map(|_| 0).map_err(vmm),
        ARCH_SET_GS => task.vcpu.set_gs_base(a[1]).map(|_| 0).map_err(vmm),
        ARCH_GET_FS => {
            let v = task.vcpu.fs_base();
            task.mm.write_obj(a[1], &v)?;
            Ok(0)
        }
        ARCH_GET_GS => {
            let v = task.vcpu.gs_base();
            task.mm.write_obj(a[1], &v)?;
            Ok(0)
        }
        _ => err(libc::EINVAL),
    }
}

/// set_tid_address(2).
pub fn set_tid_address(task: &mut Task, a: Args) -> SysResult {
    task.clear_child_tid = a[0];
    Ok(task.tid as u64)
}

/// set_robust_list(2): the list is walked when the thread exits (`thread_exit_cleanup`).
pub fn set_robust_list(task: &mut Task, a: Args) -> SysResult {
    if a[1] != 24 {
        return err(libc::EINVAL);
    }
    task.robust_list = a[0];
    Ok(0)
}

/// get_robust_list(2), for the caller or another thread of the program (only the caller's is
/// kept where others can read it: another live thread's reads as empty).
pub fn get_robust_list(task: &mut Task, a: Args) -> SysResult {
    let tid = a[0] as i32;
    let head = if tid == 0 || tid == task.tid {
        task.robust_list
    } else if task.me.kicker.has(tid) {
        0
    } else {
        return err(libc::ESRCH);
    };
    task.mm.write_obj(a[1], &head)?;
    task.mm.write_obj(a[2], &24u64)?;
    Ok(0)
}

/// rseq(2): registration; one CPU, so `cpu_id` is 0 and never changes.
pub fn rseq(task: &mut Task, a: Args) -> SysResult {
    const UNREGISTER: u64 = 1;
    if a[2] & !UNREGISTER != 0 || a[1] < 32 || !a[0].is_multiple_of(32) {
        return err(libc::EINVAL);
    }
    if a[2] == UNREGISTER {
        return Ok(0);
    }
    task.mm.write_obj(a[0], &[0u32, 0u32])?;
    Ok(0)
}

/// sched_yield(2): the host thread yields (without the process lock).
pub fn sched_yield(task: &mut Task, _a: Args) -> SysResult {
    task.unlocked(|| {
        // SAFETY: no preconditions.
        unsafe { libc::sched_yield() };
    });
    Ok(0)
}

/// Whether `tid` names a thread of the program (0: the caller).
fn is_thread(task: &Task, tid: i32) -> bool {
    tid == 0 || tid == task.tid || tid == task.pid() || task.me.kicker.has(tid)
}

/// How many CPUs mvm itself may run on: what a run's VM shows unless `--cpus` says fewer (its
/// threads run the program's threads, in parallel), as a container sees its host's.
pub fn host_cpus() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        // SAFETY: a zeroed cpu_set_t filled by the host.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is valid for writing, its size given.
        let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
        let n = if r == 0 {
            // SAFETY: reading the set just filled.
            unsafe { libc::CPU_COUNT(&set) }
        } else {
            1
        };
        (n as usize).clamp(1, 64)
    })
}

/// How many CPUs the program's VM shows.
pub fn vm_cpus(task: &Task) -> usize {
    task.machine.conf.cpus
}

/// sched_getaffinity(2): CPUs 0..vm_cpus(task).
pub fn sched_getaffinity(task: &mut Task, a: Args) -> SysResult {
    if !is_thread(task, a[0] as i32) {
        return err(libc::ESRCH);
    }
    if a[1] < 8 || !a[1].is_multiple_of(8) {
        return err(libc::EINVAL);
    }
    let n = vm_cpus(task);
    let mask = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    task.mm.write_obj(a[2], &mask)?;
    Ok(8)
}

/// sched_setaffinity(2): accepted when the mask names CPU 0; threads are not pinned
/// (each vCPU's host thread runs where the host schedules it).
pub fn sched_setaffinity(task: &mut Task, a: Args) -> SysResult {
    if !is_thread(task, a[0] as i32) {
        return err(libc::ESRCH);
    }
    if a[1] == 0 {
        return err(libc::EINVAL);
    }
    let first: u8 = task.mm.read_obj(a[2])?;
    if first & 1 == 0 {
        return err(libc::EINVAL);
    }
    Ok(0)
}

const RLIM_INFINITY: u64 = u64::MAX;

fn rlimit(task: &Task, res: u32) -> (u64, u64) {
    if let Some(&(_, s, h)) = task.rlimits.iter().find(|(r, _, _)| *r == res) {
        if res == libc::RLIMIT_CPU {
            // Raised at each SIGXCPU.
            return (task.cpu_limit.soft().unwrap_or(s), h);
        }
        return (s, h);
    }
    match res {
        libc::RLIMIT_STACK => (8 << 20, RLIM_INFINITY),
        libc::RLIMIT_NOFILE => (max_fds() as u64, max_fds() as u64),
        libc::RLIMIT_CORE => (0, RLIM_INFINITY),
        libc::RLIMIT_MEMLOCK => (8 << 20, 8 << 20),
        libc::RLIMIT_SIGPENDING | libc::RLIMIT_NPROC => (63_000, 63_000),
        libc::RLIMIT_MSGQUEUE => (819_200, 819_200),
        libc::RLIMIT_NICE | libc::RLIMIT_RTPRIO => (0, 0),
        _ => (RLIM_INFINITY, RLIM_INFINITY),
    }
}

/// The program's RLIMIT_FSIZE soft limit, in bytes (`u64::MAX`: none).
pub fn fsize_limit(task: &Task) -> u64 {
    rlimit(task, libc::RLIMIT_FSIZE).0
}

/// prlimit64(2), for the program itself.
pub fn prlimit64(task: &mut Task, a: Args) -> SysResult {
    if a[0] as i32 != 0 && a[0] as i32 != task.pid() {
        return err(libc::ESRCH);
    }
    let res = a[1] as u32;
    if res >= 16 {
        return err(libc::EINVAL);
    }
    let old = rlimit(task, res);
    if a[2] != 0 {
        let [soft, hard]: [u64; 2] = task.mm.read_obj(a[2])?;
        if soft > hard || hard > old.1 {
            return err(if soft > hard {
                libc::EINVAL
            } else {
                libc::EPERM
            });
        }
        task.rlimits.retain(|(r, _, _)| *r != res);
        task.rlimits.push((res, soft, hard));
        if res == libc::RLIMIT_NOFILE {
            task.fds.set_limit(soft);
        }
        if res == libc::RLIMIT_CPU {
            let me = task.me.clone();
            crate::sys::time::watch_cpu_limit(&mut task.cpu_limit, &me, soft, hard);
        }
    }
    if a[3] != 0 {
        task.mm.write_obj(a[3], &[old.0, old.1])?;
    }
    Ok(0)
}

/// getrlimit(2).
pub fn getrlimit(task: &mut Task, a: Args) -> SysResult {
    prlimit64(task, [0, a[0], 0, a[1], 0, 0])
}

/// getrandom(2): from the host.
pub fn getrandom(task: &mut Task, a: Args) -> SysResult {
    if a[2] & !7 != 0 {
        return err(libc::EINVAL);
    }
    let len = a[1].min(32 << 20) as usize;
    let iov = task.mm.iovecs(a[0], len, true)?;
    let mut done = 0u64;
    for v in iov {
        // SAFETY: `v` points into checked guest memory, the guest is stopped.
        let n = host(unsafe { libc::getrandom(v.iov_base, v.iov_len, 0) })?;
        done += n;
    }
    Ok(done)
}

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_REQUEUE: u64 = 3;
const FUTEX_CMP_REQUEUE: u64 = 4;
const FUTEX_WAKE_OP: u64 = 5;
const FUTEX_LOCK_PI: u64 = 6;
const FUTEX_UNLOCK_PI: u64 = 7;
const FUTEX_TRYLOCK_PI: u64 = 8;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_LOCK_PI2: u64 = 13;
const FUTEX_CLOCK_REALTIME: u64 = 256;
const FUTEX_PRIVATE_FLAG: u64 = 128;

const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// The futex word at `uaddr`, for atomic access from the host while other vCPUs run.
fn word(task: &mut Task, uaddr: u64) -> Result<&'static AtomicU32, SysError> {
    if !uaddr.is_multiple_of(4) {
        return err(libc::EINVAL);
    }
    let phys = task.mm.translate(uaddr, true)?;
    let p = task
        .mm
        .ram
        .checked_ptr(phys, 4)
        .map_err(|_| SysError::Errno(libc::EFAULT))?;
    // SAFETY: `p` is 4-byte aligned inside guest memory, which stays mapped for the life of
    // the process (the reference is used only while serving this call); the guest accesses the
    // word only atomically or racily on its own account.
    Ok(unsafe { &*(p as *const AtomicU32) })
}

/// When a futex wait with timeout `tsp` ends: relative (FUTEX_WAIT) or absolute on `clock`.
fn futex_deadline(
    task: &mut Task,
    tsp: u64,
    absolute: bool,
    clock: libc::clockid_t,
) -> Result<Option<Instant>, SysError> {
    if tsp == 0 {
        return Ok(None);
    }
    let ts: [i64; 2] = task.mm.read_obj(tsp)?;
    if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
        return err(libc::EINVAL);
    }
    let mut d = Duration::new(ts[0].min(1 << 40) as u64, ts[1] as u32);
    if absolute {
        let now = super::time::now(clock as u64)?;
        let now = Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec as u32);
        d = d.saturating_sub(now);
    }
    Ok(Some(Instant::now() + d))
}

/// Wakes up to `n` threads waiting on `uaddr` whose bitset meets `bitset`; returns how many.
pub fn futex_wake(task: &mut Task, uaddr: u64, n: usize, bitset: u32) -> usize {
    wake_first(&mut task.threads.futexes, n, |w| {
        (w.uaddr == uaddr && w.bitset & bitset != 0).then_some(&*w.wake)
    })
}

/// Wakes (and takes off `queue`) the first `n` waiters for which `pick` gives a wake-up.
fn wake_first<W>(queue: &mut Vec<W>, n: usize, pick: impl Fn(&W) -> Option<&Wake>) -> usize {
    let mut woken = 0;
    queue.retain(|w| match pick(w) {
        Some(wake) if woken < n => {
            wake.wake();
            woken += 1;
            false
        }
        _ => true,
    });
    woken
}

/// Queues the caller on `uaddr` and sleeps (without the process lock) until a wake takes it off
/// the queue (0), the deadline passes (ETIMEDOUT), or a signal or the program's end interrupts
/// it (EINTR).
fn futex_wait(task: &mut Task, uaddr: u64, bitset: u32, deadline: Option<Instant>) -> SysResult {
    let tid = task.tid;
    let enqueue = |task: &mut Task| {
        let wake = task.wake.clone();
        task.threads.futexes.push(FutexWaiter {
            tid,
            uaddr,
            bitset,
            wake,
        });
    };
    let queued = |task: &mut Task| task.threads.futexes.iter().any(|w| w.tid == tid);
    let leave = |task: &mut Task| task.threads.futexes.retain(|w| w.tid != tid);
    sleep_queued(task, deadline, enqueue, queued, leave)
}

/// A futex wait's sleep: `enqueue` puts the caller on its queue, then it sleeps (without the
/// process lock) until a wake takes it off (`queued` turns false: 0), the deadline passes
/// (ETIMEDOUT) or a signal or the program's end interrupts it (EINTR); `leave` takes it off
/// then.
fn sleep_queued(
    task: &mut Task,
    deadline: Option<Instant>,
    enqueue: impl FnOnce(&mut Task),
    queued: impl Fn(&mut Task) -> bool,
    leave: impl Fn(&mut Task),
) -> SysResult {
    task.wake.take();
    if super::signal::interrupted(task) {
        return err(libc::EINTR);
    }
    enqueue(task);
    loop {
        let in_time = task.wait_wake(deadline);
        if !queued(task) {
            return Ok(0);
        }
        let end = if !in_time {
            libc::ETIMEDOUT
        } else if super::signal::interrupted(task) {
            libc::EINTR
        } else {
            continue;
        };
        leave(task);
        return err(end);
    }
}

/// Wakes up to `n` threads of the run waiting on the shared futex `key` whose bitset meets
/// `bitset`; how many it woke.
fn shared_futex_wake(task: &Task, key: SharedKey, n: usize, bitset: u32) -> usize {
    let mut queue = task.machine.shared_futexes.lock().unwrap();
    wake_first(&mut queue, n, |w| {
        (w.key == key && w.bitset & bitset != 0).then_some(&*w.wake)
    })
}

/// `futex_wait` on a futex in shared memory: queued in the run's table, so that a wake from
/// any program that maps the memory reaches it.
fn shared_futex_wait(
    task: &mut Task,
    key: SharedKey,
    bitset: u32,
    deadline: Option<Instant>,
) -> SysResult {
    let (tid, machine) = (task.tid, task.machine.clone());
    let table = || machine.shared_futexes.lock().unwrap();
    let enqueue = |task: &mut Task| {
        table().push(SharedWaiter {
            key,
            tid,
            bitset,
            wake: task.wake.clone(),
        })
    };
    let queued = |_: &mut Task| table().iter().any(|w| w.tid == tid);
    let leave = |_: &mut Task| table().retain(|w| w.tid != tid);
    sleep_queued(task, deadline, enqueue, queued, leave)
}

/// FUTEX_WAKE_OP's operation on the old value, and its comparison.
fn wake_op(val3: u32, old: u32) -> (u32, bool) {
    let op = (val3 >> 28) & 7;
    let cmp = (val3 >> 24) & 15;
    let sext = |v: u32| ((v << 20) as i32 >> 20) as u32;
    let mut oparg = sext((val3 >> 12) & 0xfff);
    let cmparg = sext(val3 & 0xfff);
    if (val3 >> 28) & 8 != 0 {
        oparg = 1u32.wrapping_shl(oparg & 31);
    }
    let new = match op {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        _ => old ^ oparg,
    };
    let ok = match cmp {
        0 => old == cmparg,
        1 => old != cmparg,
        2 => (old as i32) < cmparg as i32,
        3 => (old as i32) <= cmparg as i32,
        4 => (old as i32) > cmparg as i32,
        _ => (old as i32) >= cmparg as i32,
    };
    (new, ok)
}

/// futex(2): wait/wake (with bitsets), requeue, wake-op, and priority-inheritance locks (as a
/// plain handoff: there are no priorities to inherit in a VM whose vCPUs the host schedules).
pub fn futex(task: &mut Task, a: Args) -> SysResult {
    let [uaddr, op, val, timeout, uaddr2, val3] = a;
    if !uaddr.is_multiple_of(4) {
        return err(libc::EINVAL);
    }
    let cmd = op & 0x7f;
    // A futex without FUTEX_PRIVATE_FLAG in shared memory may be another program's too.
    let shared = if op & FUTEX_PRIVATE_FLAG == 0 {
        task.mm.shared_key(uaddr)
    } else {
        None
    };
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let clock = if realtime {
        libc::CLOCK_REALTIME
    } else {
        libc::CLOCK_MONOTONIC
    };
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { !0 } else { val3 as u32 };
            if bitset == 0 {
                return err(libc::EINVAL);
            }
            let deadline = futex_deadline(task, timeout, cmd == FUTEX_WAIT_BITSET, clock)?;
            let cur = word(task, uaddr)?.load(Ordering::SeqCst);
            if cur != val as u32 {
                return err(libc::EAGAIN);
            }
            match shared {
                Some(key) => shared_futex_wait(task, key, bitset, deadline),
                None => futex_wait(task, uaddr, bitset, deadline),
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { !0 } else { val3 as u32 };
            if bitset == 0 {
                return err(libc::EINVAL);
            }
            let n = val as u32 as usize;
            Ok(match shared {
                Some(key) => shared_futex_wake(task, key, n, bitset),
                None => futex_wake(task, uaddr, n, bitset),
            } as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if (val as i32) < 0 || (timeout as i32) < 0 {
                return err(libc::EINVAL);
            }
            if cmd == FUTEX_CMP_REQUEUE && word(task, uaddr)?.load(Ordering::SeqCst) != val3 as u32
            {
                return err(libc::EAGAIN);
            }
            let woken = futex_wake(task, uaddr, val as u32 as usize, !0);
            let mut moved = 0usize;
            for w in task.threads.futexes.iter_mut() {
                if moved < timeout as u32 as usize && w.uaddr == uaddr {
                    w.uaddr = uaddr2;
                    moved += 1;
                }
            }
            Ok((woken + moved) as u64)
        }
        FUTEX_WAKE_OP => {
            let w2 = word(task, uaddr2)?;
            let mut old = w2.load(Ordering::SeqCst);
            let ok = loop {
                let (new, ok) = wake_op(val3 as u32, old);
                match w2.compare_exchange(old, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => break ok,
                    Err(now) => old = now,
                }
            };
            let mut n = futex_wake(task, uaddr, val as u32 as usize, !0);
            if ok {
                n += futex_wake(task, uaddr2, timeout as u32 as usize, !0);
            }
            Ok(n as u64)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI => {
            // LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's on the clock asked.
            let clock = if cmd == FUTEX_LOCK_PI {
                libc::CLOCK_REALTIME
            } else {
                clock
            };
            let deadline = futex_deadline(task, timeout, true, clock)?;
            lock_pi(task, uaddr, cmd == FUTEX_TRYLOCK_PI, deadline)
        }
        FUTEX_UNLOCK_PI => unlock_pi(task, uaddr),
        _ => err(libc::ENOSYS),
    }
}

/// Takes a PI futex for the caller: the word holds the owner's tid (with FUTEX_WAITERS when
/// someone sleeps on it); a lock whose owner is gone is taken over with FUTEX_OWNER_DIED.
fn lock_pi(task: &mut Task, uaddr: u64, try_only: bool, deadline: Option<Instant>) -> SysResult {
    let me = task.tid as u32;
    loop {
        let w = word(task, uaddr)?;
        let v = w.load(Ordering::SeqCst);
        let owner = v & FUTEX_TID_MASK;
        if owner == me {
            return err(libc::EDEADLK);
        }
        let waiters = task.threads.futexes.iter().any(|f| f.uaddr == uaddr);
        if owner == 0 || !is_thread(task, owner as i32) {
            let died = if owner != 0 {
                FUTEX_OWNER_DIED
            } else {
                v & FUTEX_OWNER_DIED
            };
            let new = me | died | if waiters { FUTEX_WAITERS } else { 0 };
            if w.compare_exchange(v, new, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Ok(0);
            }
            continue;
        }
        if try_only {
            return err(libc::EBUSY);
        }
        if w.compare_exchange(v, v | FUTEX_WAITERS, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            continue;
        }
        // Handed over by unlock_pi (the word then holds our tid), or interrupted.
        return match futex_wait(task, uaddr, !0, deadline) {
            Ok(_) => Ok(0),
            Err(e) => {
                // Nobody else waits any more: clear FUTEX_WAITERS again.
                if !task.threads.futexes.iter().any(|f| f.uaddr == uaddr) {
                    let w = word(task, uaddr)?;
                    let _ = w.fetch_and(!FUTEX_WAITERS, Ordering::SeqCst);
                }
                Err(e)
            }
        };
    }
}

/// Releases a PI futex the caller owns, handing it to the first waiter.
fn unlock_pi(task: &mut Task, uaddr: u64) -> SysResult {
    let me = task.tid as u32;
    let w = word(task, uaddr)?;
    let v = w.load(Ordering::SeqCst);
    if v & FUTEX_TID_MASK != me {
        return err(libc::EPERM);
    }
    let next = task.threads.futexes.iter().position(|f| f.uaddr == uaddr);
    match next {
        Some(i) => {
            let waiter = task.threads.futexes.remove(i);
            let more = task.threads.futexes.iter().any(|f| f.uaddr == uaddr);
            let new = waiter.tid as u32 | if more { FUTEX_WAITERS } else { 0 };
            w.store(new, Ordering::SeqCst);
            waiter.wake.wake();
        }
        None => w.store(0, Ordering::SeqCst),
    }
    Ok(0)
}

/// What a thread's exit does for the others (Linux's `mm_release` and `exit_robust_list`):
/// robust futexes it holds are marked FUTEX_OWNER_DIED and a waiter woken; its
/// CLONE_CHILD_CLEARTID word is zeroed and woken (pthread_join waits on it).
pub fn thread_exit_cleanup(task: &mut Task) {
    let me = task.tid as u32;
    let release = |task: &mut Task, at: u64| {
        let Ok(w) = word(task, at) else { return };
        let mut v = w.load(Ordering::SeqCst);
        while v & FUTEX_TID_MASK == me {
            let new = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
            match w.compare_exchange(v, new, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => {
                    if v & FUTEX_WAITERS != 0 {
                        // A PI waiter takes it over itself (lock_pi); a plain one is woken.
                        futex_wake(task, at, 1, !0);
                    }
                    break;
                }
                Err(now) => v = now,
            }
        }
    };
    let head = task.robust_list;
    if head != 0 {
        let next: Result<u64, _> = task.mm.read_obj(head);
        let offset: Result<i64, _> = task.mm.read_obj(head + 8);
        let pending: Result<u64, _> = task.mm.read_obj(head + 16);
        if let (Ok(mut entry), Ok(offset), Ok(pending)) = (next, offset, pending) {
            let mut n = 0;
            while entry != head && entry != 0 && n < 2048 {
                let e = entry & !1;
                let following: Result<u64, _> = task.mm.read_obj(e);
                if e != pending & !1 {
                    release(task, e.wrapping_add(offset as u64));
                }
                let Ok(f) = following else { break };
                entry = f;
                n += 1;
            }
            if pending != 0 {
                release(task, (pending & !1).wrapping_add(offset as u64));
            }
        }
    }
    let ctid = task.clear_child_tid;
    if ctid != 0 && task.mm.write_obj(ctid, &0u32).is_ok() {
        futex_wake(task, ctid, 1, !0);
    }
}

/// Points `vcpu` (on `cpu`, in the memory `ram`) where the calling thread returns from its
/// clone, fork or vfork: its registers with rax 0, its FPU state and GS base, and its FS base
/// unless CLONE_SETTLS gives `tls`; on stack `sp` if given.
fn start_like_caller(
    task: &Task,
    vcpu: &mut Vcpu,
    ram: &crate::vstate::memory::GuestRam,
    cpu: &CpuArea,
    flags: u64,
    sp: u64,
    tls: u64,
) -> Result<(), crate::vstate::vm::VmError> {
    let parent = task.vcpu.regs();
    let user_sp = if sp != 0 { sp } else { task.sig.syscall_rsp };
    let frame = IretFrame::user(parent.rcx, user_sp, parent.r11);
    vcpu.set_xsave(&task.vcpu.xsave()?)?;
    let fs = if flags & CLONE_SETTLS != 0 {
        tls
    } else {
        task.vcpu.fs_base()
    };
    vcpu.set_fs_base(fs)?;
    vcpu.set_gs_base(task.vcpu.gs_base())?;
    let r = vcpu.regs_mut();
    *r = parent;
    r.rax = 0;
    crate::task::write_iret(ram, cpu, vcpu, frame);
    Ok(())
}

const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x1_0000;
const CLONE_SYSVSEM: u64 = 0x4_0000;
const CLONE_SETTLS: u64 = 0x8_0000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_DETACHED: u64 = 0x40_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;
const THREAD: u64 = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
const THREAD_EXTRA: u64 = CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_DETACHED
    | CLONE_CHILD_SETTID;

/// clone(2): threads (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD), each on a
/// vCPU and host thread of its own; new programs (fork, and vfork as a fork whose parent waits
/// for the child's exec or exit), each in a micro-VM of its own.
pub fn clone(task: &mut Task, a: Args) -> SysResult {
    // x86-64 order: flags, stack, parent_tid, child_tid, tls.
    new_thread(task, a[0] & !0xff, a[1], a[2], a[3], a[4])
}

/// fork(2).
pub fn fork(task: &mut Task, _a: Args) -> SysResult {
    new_process(task, 0, 0, 0, 0, 0)
}

/// vfork(2).
pub fn vfork(task: &mut Task, _a: Args) -> SysResult {
    new_process(task, CLONE_VM | CLONE_VFORK, 0, 0, 0, 0)
}

/// Most programs one run may hold at once (each is a micro-VM with its own host memory, beyond
/// what `--memory` counts): past it fork fails with EAGAIN, as past RLIMIT_NPROC, so a fork
/// bomb stays in its run.
const MAX_PROGRAMS: usize = 1024;

/// A new program: a copy of the caller's memory in a new micro-VM, its descriptors (sharing
/// the open files), its signal dispositions and mask, and only the calling thread, which
/// returns 0 there. With CLONE_VFORK the caller waits until the child has exec'd or ended; the
/// memory is copied, not shared, but what a child that ends without exec'ing wrote comes back
/// to the caller (`AddressSpace::take_writes_from`), which is what programs rely on.
fn new_process(task: &mut Task, flags: u64, sp: u64, ptid: u64, ctid: u64, tls: u64) -> SysResult {
    const ALLOWED: u64 = CLONE_VM
        | CLONE_VFORK
        | CLONE_SETTLS
        | CLONE_PARENT_SETTID
        | CLONE_CHILD_CLEARTID
        | CLONE_CHILD_SETTID
        | CLONE_DETACHED;
    if flags & !ALLOWED != 0 {
        return err(libc::EINVAL);
    }
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
        // Shared memory between two programs: not served.
        return err(libc::ENOSYS);
    }
    if task.machine.count() >= MAX_PROGRAMS || task.machine.at_pids_limit() {
        return err(libc::EAGAIN);
    }
    let pid = task.machine.next_id();
    // What the host refuses mvm for the child (a VM, its descriptors) is EAGAIN, as Linux's
    // fork says of a resource it lacks; fork never fails with EMFILE.
    let eagain = |e: crate::vstate::vm::VmError| {
        if std::env::var_os("MVM_DEBUG").is_some() {
            eprintln!("fork: {e}");
        }
        SysError::Errno(libc::EAGAIN)
    };
    let mut mm = task.mm.fork().map_err(|_| SysError::Errno(libc::ENOMEM))?;
    // The child attaches its parent's shared memory segments: Linux does so in the parent's
    // fork, whose pid becomes their last.
    super::ipc::shm_touch(&mm, task.pid(), true);
    // A vfork child's memory, for its writes to come back if it ends without exec'ing.
    let vfork_memory = if flags & CLONE_VFORK != 0 {
        Some(
            mm.ram
                .snapshot_handle()
                .map_err(|_| SysError::Errno(libc::EAGAIN))?,
        )
    } else {
        None
    };
    if flags & CLONE_CHILD_SETTID != 0 {
        mm.write_obj(ctid, &(pid as u32))?;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        task.mm.write_obj(ptid, &(pid as u32))?;
    }
    // With other threads running here during the vfork, only the pages the child changes may
    // come back: what the child's memory holds as it starts tells them apart.
    let vfork_digests = match &vfork_memory {
        Some(m) if task.live > 1 => Some(task.mm.vfork_digests(m)),
        _ => None,
    };
    let vm = task.vm.sibling(&mut mm.ram).map_err(eagain)?;
    let cpu = CpuArea::boot();
    let mut vcpu = Vcpu::new(&vm, 0, &task.cpuid, mm.cr3(), &cpu).map_err(eagain)?;
    let (khz, offset) = (vcpu.tsc_khz(), vcpu.tsc_offset());
    start_like_caller(task, &mut vcpu, &mm.ram, &cpu, flags, sp, tls).map_err(eagain)?;

    let me = ProcHandle::new(
        pid,
        task.pid(),
        Default::default(),
        Default::default(),
        task.me.job.inherit(),
    );
    *me.shown.lock().unwrap() = task.me.shown.lock().unwrap().clone();
    let mut sigs = task.sigs.clone();
    sigs.pending = 0;
    let mask = task.sig.mask;
    let process = crate::task::Process {
        spare: Vec::new(),
        vm,
        cpuid: task.cpuid.clone(),
        // Fresh ids, and kernel-window pages never mapped in the copy: a present page-table
        // entry rewritten from the host would not reach KVM's shadow (the copies of the
        // parent's vCPU pages stay, unused).
        vcpus: task.vcpus,
        fds: task.fds.clone(),
        sigs,
        cwd: task.cwd.clone(),
        fs: task
            .fs
            .try_clone()
            .map_err(|_| SysError::Errno(libc::EAGAIN))?,
        ports: task.ports.clone(),
        itimer: Default::default(),
        timers: Vec::new(),
        cpu_itimers: Default::default(),
        cpu_limit: Default::default(),
        children_cpu: Default::default(),
        trace: task.trace.clone(),
        exe: task.exe.clone(),
        aux: task.aux,
        vdso_file: task.vdso_file.clone(),
        vdso: task.vdso,
        clock: crate::vdso::Clock::new(khz, offset),
        rlimits: task.rlimits.clone(),
        groups: task.groups.clone(),
        creds_gen: 0,
        me: me.clone(),
        machine: task.machine.clone(),
        live: 1,
        main_mask: Some(mask),
        threads: Default::default(),
        stats: Default::default(),
        mm,
    };
    let mut child = Task::main(process, vcpu);
    child.tid = pid;
    // RLIMIT_CPU is inherited, and counts the child's own CPU time from zero.
    let (soft, hard) = rlimit(&child, libc::RLIMIT_CPU);
    let child_me = child.me.clone();
    crate::sys::time::watch_cpu_limit(&mut child.cpu_limit, &child_me, soft, hard);
    child.sig = task.sig.for_fork();
    if flags & CLONE_CHILD_CLEARTID != 0 {
        child.clear_child_tid = ctid;
    }
    task.machine.add(me.clone());
    let spawned = std::thread::Builder::new()
        .name(format!("vcpu-p{pid}"))
        .stack_size(256 << 10)
        .spawn(move || child.run_child());
    match spawned {
        Ok(h) => task.machine.keep(h),
        Err(_) => {
            task.machine.remove(pid);
            return err(libc::EAGAIN);
        }
    }
    if let Some(child_memory) = vfork_memory {
        while !me.released.load(Ordering::Acquire) && task.stop_requested().is_none() {
            task.wait_wake(Some(Instant::now() + Duration::from_millis(20)));
        }
        if me.released.load(Ordering::Acquire) && !me.execd.load(Ordering::Acquire) {
            task.mm
                .take_writes_from(&child_memory, vfork_digests.as_ref());
        }
    }
    Ok(pid as u64)
}

const WNOHANG: i32 = 1;
const WUNTRACED: i32 = 2;
const WCONTINUED: i32 = 8;
const WNOWAIT: i32 = 0x0100_0000;
const WALL: i32 = 0x4000_0000;
const WCLONE: i32 = 0x8000_0000u32 as i32;
const WNOTHREAD: i32 = 0x2000_0000;

/// Waits for a child `sel` picks (-1: any; 0: of the caller's group; -N: of group N; else that
/// pid) to have ended, or with WUNTRACED / WCONTINUED to have stopped or continued: its pid and
/// wait status, reaped (or the report taken) unless WNOWAIT; `None` if none has and WNOHANG.
fn reap(task: &mut Task, sel: i32, options: i32) -> Result<Option<Reaped>, SysError> {
    let group = match sel {
        0 => Some(task.me.job.pgid()),
        s if s < -1 => Some(s.wrapping_neg()),
        _ => None,
    };
    reap_from(task, sel.max(0), group, options)
}

/// A child wait found: its pid, its wait status, and its (user, system) CPU time if it ended.
type Reaped = (i32, i32, (Duration, Duration));

/// `reap` of the children that are `pid` (0: any) and in `group` (if given).
fn reap_from(
    task: &mut Task,
    pid: i32,
    group: Option<i32>,
    options: i32,
) -> Result<Option<Reaped>, SysError> {
    loop {
        let me = task.pid();
        let kids: Vec<_> = task
            .machine
            .all()
            .into_iter()
            .filter(|p| {
                p.ppid.load(Ordering::Acquire) == me
                    && (pid == 0 || p.pid == pid)
                    && group.is_none_or(|g| p.job.pgid() == g)
            })
            .collect();
        if kids.is_empty() {
            return err(libc::ECHILD);
        }
        for k in &kids {
            let status = *k.status.lock().unwrap();
            if let Some(st) = status.filter(|_| options & WEXITED != 0) {
                let used = *k.ended_cpu.lock().unwrap();
                if options & WNOWAIT == 0 {
                    task.machine.remove(k.pid);
                    let c = &mut task.children_cpu;
                    *c = (c.0 + used.0, c.1 + used.1);
                }
                return Ok(Some((k.pid, st, used)));
            }
            let mut s = k.suspended.lock().unwrap();
            let st = match s.report {
                Some(JobReport::Stopped(sig)) if options & WUNTRACED != 0 => (sig << 8) | 0x7f,
                Some(JobReport::Continued) if options & WCONTINUED != 0 => 0xffff,
                _ => continue,
            };
            if options & WNOWAIT == 0 {
                s.report = None;
            }
            return Ok(Some((k.pid, st, Default::default())));
        }
        if options & WNOHANG != 0 {
            return Ok(None);
        }
        if super::signal::interrupted(task) {
            return err(libc::EINTR);
        }
        task.wait_wake(None);
    }
}

/// wait4(2): a child that has ended, waiting for one unless WNOHANG (no stopped or continued
/// children: there is no job control).
pub fn wait4(task: &mut Task, a: Args) -> SysResult {
    let (sel, wstatus, options, rusage) = (a[0] as i32, a[1], a[2] as i32, a[3]);
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE | WNOTHREAD) != 0 {
        return err(libc::EINVAL);
    }
    if sel == i32::MIN {
        return err(libc::ESRCH);
    }
    let Some((pid, st, used)) = reap(task, sel, options | WEXITED)? else {
        return Ok(0);
    };
    if wstatus != 0 {
        task.mm.write_obj(wstatus, &st)?;
    }
    if rusage != 0 {
        task.mm.write_obj(rusage, &rusage_of(used))?;
    }
    Ok(pid as u64)
}

const WEXITED: i32 = 4;
const WSTOPPED: i32 = 2;

/// waitid(2): as wait4, reporting in a siginfo (P_ALL, P_PID, P_PGID; WEXITED).
pub fn waitid(task: &mut Task, a: Args) -> SysResult {
    let (idtype, id, infop, options, rusage) = (a[0] as i32, a[1] as i32, a[2], a[3] as i32, a[4]);
    let known = WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | WALL | WCLONE | WNOTHREAD;
    if options & !known != 0 || options & (WEXITED | WSTOPPED | WCONTINUED) == 0 {
        return err(libc::EINVAL);
    }
    let (pid, group) = match idtype {
        0 => (0, None),
        1 if id > 0 => (id, None),
        2 if id == 0 => (0, Some(task.me.job.pgid())),
        2 if id > 0 => (0, Some(id)),
        _ => return err(libc::EINVAL),
    };
    let found = reap_from(task, pid, group, options)?;
    if infop != 0 {
        // Nothing ended yet (WNOHANG): all zeros, si_pid 0.
        let info = found.map_or([0u8; 128], |(pid, st, _)| {
            super::sigframe::SigInfo::child(pid, task.aux.uid, st).to_bytes()
        });
        task.mm.write(infop, &info)?;
    }
    if rusage != 0 {
        let used = found.map(|(_, _, used)| used).unwrap_or_default();
        task.mm.write_obj(rusage, &rusage_of(used))?;
    }
    Ok(0)
}

/// clone3(2): as clone, from a `struct clone_args`.
pub fn clone3(task: &mut Task, a: Args) -> SysResult {
    let size = a[1];
    if !(64..=4096).contains(&size) {
        return err(libc::EINVAL);
    }
    let mut raw = vec![0u8; size as usize];
    task.mm.read(a[0], &mut raw)?;
    if raw[88.min(raw.len())..].iter().any(|&b| b != 0) {
        return err(libc::E2BIG);
    }
    let f = |i: usize| {
        raw.get(8 * i..8 * i + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    let (flags, child_tid, parent_tid, exit_signal) = (f(0), f(2), f(3), f(4));
    let (stack, stack_size, tls, set_tid_size) = (f(5), f(6), f(7), f(9));
    if exit_signal != 0 && flags & CLONE_THREAD != 0 || set_tid_size != 0 {
        return err(libc::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return err(libc::EINVAL);
    }
    let sp = if stack == 0 { 0 } else { stack + stack_size };
    new_thread(task, flags, sp, parent_tid, child_tid, tls)
}

fn new_thread(task: &mut Task, flags: u64, sp: u64, ptid: u64, ctid: u64, tls: u64) -> SysResult {
    if flags & CLONE_THREAD == 0 {
        return new_process(task, flags, sp, ptid, ctid, tls);
    }
    if flags & THREAD != THREAD || flags & !(THREAD | THREAD_EXTRA) != 0 {
        return err(libc::EINVAL);
    }
    if flags & CLONE_SETTLS != 0 && tls >= USER_TOP {
        return err(libc::EPERM);
    }
    if task.live as u64 >= MAX_VCPUS || task.machine.at_pids_limit() {
        return err(libc::EAGAIN);
    }
    let tid = task.machine.next_id();
    if flags & CLONE_PARENT_SETTID != 0 {
        task.mm.write_obj(ptid, &(tid as u32))?;
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        task.mm.write_obj(ctid, &(tid as u32))?;
    }
    let (mut vcpu, cpu) = match task.spare.pop() {
        Some(v) => v,
        None => {
            let n = task.vcpus;
            let cpu = CpuArea::create(&mut task.mm, n).ok_or(SysError::Errno(libc::EAGAIN))?;
            let cr3 = task.mm.cr3();
            let vcpu = Vcpu::new(&task.vm, n, &task.cpuid, cr3, &cpu)
                .map_err(|_| SysError::Errno(libc::EAGAIN))?;
            task.vcpus += 1;
            (vcpu, cpu)
        }
    };
    // The child starts where the parent returns, with rax 0, on `sp` (or the parent's stack),
    // with the parent's registers, FPU state and (unless CLONE_SETTLS) thread pointer.
    vcpu.clear_immediate_exit();
    start_like_caller(task, &mut vcpu, &task.mm.ram, &cpu, flags, sp, tls)
        .map_err(|_| SysError::Errno(libc::EAGAIN))?;
    let sig = task.sig.for_thread();
    let mut child = match task.sibling(vcpu, cpu, tid, sig) {
        Ok(c) => c,
        Err(_) => return err(libc::EAGAIN),
    };
    if flags & CLONE_CHILD_CLEARTID != 0 {
        child.clear_child_tid = ctid;
    }
    let (wake, flags) = (child.wake.clone(), child.flags.clone());
    let spawned = std::thread::Builder::new()
        .name(format!("vcpu-t{tid}"))
        .stack_size(256 << 10)
        .spawn(move || child.run_thread());
    let handle = match spawned {
        Ok(h) => h,
        Err(_) => return err(libc::EAGAIN),
    };
    use std::os::unix::thread::JoinHandleExt;
    task.me.kicker.add(tid, handle.as_pthread_t(), wake, flags);
    crate::task::join_finished(&mut task.threads.handles);
    task.threads.handles.push(handle);
    task.live += 1;
    Ok(tid as u64)
}

/// An executable opened for execve, with its guest path (bytes, as the program named it).
type Opened = (std::fs::File, Vec<u8>);

/// Opens what `execve(path, argv)` runs: the file itself, or for a script the interpreter its
/// `#!` line names (resolved in the view; scripts may name scripts, 4 deep), with the arguments
/// Linux gives it: the interpreter, its one optional argument, the script's path as the caller
/// gave it, then the caller's arguments after argv[0].
fn open_script_or_exec(
    task: &mut Task,
    mut path: Vec<u8>,
    mut argv: Vec<Vec<u8>>,
    mut opened: Option<Opened>,
) -> Result<(Opened, Vec<Vec<u8>>), SysError> {
    use crate::boot::elf;
    for _ in 0..=elf::MAX_SCRIPT_DEPTH {
        // execveat of a descriptor starts from its file (a script's interpreter then gets
        // /dev/fd/N as its path); otherwise the path is opened in the view.
        let (file, guest) = match opened.take() {
            Some(f) => f,
            None => open_exec_in_view(task, &path)?,
        };
        let Some((interp, arg)) = elf::shebang(&file).map_err(|e| SysError::Errno(e.errno()))?
        else {
            return Ok(((file, guest), argv));
        };
        let mut next = vec![interp.clone()];
        next.extend(arg);
        next.push(path);
        next.extend(argv.into_iter().skip(1));
        (path, argv) = (interp, next);
    }
    err(libc::ELOOP)
}

/// Opens `name` for execve as open(2) finds it, synthesized links included (busybox re-executes
/// itself through /proc/self/exe; fexecve's fallback is /proc/self/fd/N): the file and its path
/// in the view.
fn open_exec_in_view(task: &mut Task, name: &[u8]) -> Result<Opened, SysError> {
    let cwd = task.cwd.clone();
    let r = task.fs.resolve(&cwd, name, true).map_err(SysError::Errno)?;
    if task.fs.synthesized(&r).is_none() {
        return task.fs.open_exec_resolved(r).map_err(SysError::Errno);
    }
    let f = super::procfs::open(task, &r, libc::O_RDONLY)?;
    let guest = f.path.clone().unwrap_or(r.guest);
    Ok((executable_copy(&f)?, guest))
}

/// A descriptor of its own for the file `f` holds, if execve may run it.
fn executable_copy(f: &super::fs::OpenFile) -> Result<std::fs::File, SysError> {
    crate::policy::check_executable(f.raw()).map_err(SysError::Errno)?;
    // SAFETY: plain host call; the duplicate is owned below.
    let dup = unsafe { libc::fcntl(f.raw(), libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return err(libc::EMFILE);
    }
    // SAFETY: `dup` is a fresh descriptor owned by nobody else.
    Ok(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(dup) })
}

/// execve(2): replaces the program; the path is resolved in the program's filesystem view.
pub fn execve(task: &mut Task, a: Args) -> SysResult {
    let path = task.mm.read_cstr(a[0])?;
    // Linux bounds the arguments and environment together by a quarter of the stack limit.
    let mut budget = 2 << 20;
    let argv = task.mm.read_cstr_array(a[1], &mut budget)?;
    let envp = task.mm.read_cstr_array(a[2], &mut budget)?;
    let (Some(argv), Some(envp)) = (argv, envp) else {
        return err(libc::E2BIG);
    };
    let ((file, path), argv) = open_script_or_exec(task, path, argv, None)?;
    exec_prepared(task, file, path, argv, envp)
}

/// execveat(2): as execve, with the path relative to a directory descriptor, or with
/// AT_EMPTY_PATH and an empty path the file open as the descriptor itself (fexecve).
pub fn execveat(task: &mut Task, a: Args) -> SysResult {
    let allowed = (libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) as u64;
    if a[4] & !allowed != 0 {
        return err(libc::EINVAL);
    }
    let path = task.mm.read_cstr(a[1])?;
    let mut budget = 2 << 20;
    let argv = task.mm.read_cstr_array(a[2], &mut budget)?;
    let envp = task.mm.read_cstr_array(a[3], &mut budget)?;
    let (Some(argv), Some(envp)) = (argv, envp) else {
        return err(libc::E2BIG);
    };
    let dirfd = a[0] as i32;
    let ((file, path), argv) = if path.is_empty() {
        if a[4] & libc::AT_EMPTY_PATH as u64 == 0 {
            return err(libc::ENOENT);
        }
        let f = task.fds.file(a[0])?;
        let file = executable_copy(&f)?;
        let shown = format!("/dev/fd/{}", a[0]).into_bytes();
        let guest = f.path.clone().unwrap_or_else(|| shown.clone());
        open_script_or_exec(task, shown, argv, Some((file, guest)))?
    } else if path.starts_with(b"/") || dirfd == libc::AT_FDCWD {
        open_script_or_exec(task, path, argv, None)?
    } else {
        let dir = task.fds.file(a[0])?;
        let Some(base) = dir.path.clone() else {
            return err(libc::ENOTDIR);
        };
        let mut full = base;
        full.push(b'/');
        full.extend_from_slice(&path);
        open_script_or_exec(task, full, argv, None)?
    };
    exec_prepared(task, file, path, argv, envp)
}

/// The rest of execve once the file to run is open: the old image goes, the new one starts.
fn exec_prepared(
    task: &mut Task,
    file: std::fs::File,
    path: Vec<u8>,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> SysResult {
    let prepared = task
        .prepare_exec(file, path.clone())
        .map_err(|e| SysError::Errno(e.errno()))?;
    // The other threads go first (Linux's de_thread): kicked until each has left; the caller
    // takes the program's id.
    if task.live > 1 {
        task.threads.zap = Some(task.tid);
        while task.live > 1 {
            if let Some(r) = task.stop_requested() {
                task.threads.zap = None;
                return Err(SysError::Exit(r));
            }
            let me = task.tid;
            task.me.kicker.kick_all(me);
            task.wait_wake(Some(Instant::now() + Duration::from_millis(5)));
        }
        task.threads.zap = None;
        if task.tid != task.pid() {
            let (old, pid) = (task.tid, task.pid());
            let (wake, flags) = (task.wake.clone(), task.flags.clone());
            task.me.kicker.remove(old);
            task.tid = pid;
            // SAFETY: no preconditions.
            let me = unsafe { libc::pthread_self() };
            task.me.kicker.add(pid, me, wake, flags);
        }
    }
    // Past this point the old image is gone: a failure kills the program, as on Linux.
    match task.exec_image(&prepared, &argv, &envp) {
        Ok((entry, sp)) => {
            // A vfork parent goes on now.
            task.me.execd.store(true, Ordering::Release);
            task.me.released.store(true, Ordering::Release);
            let ppid = task.me.ppid.load(Ordering::Acquire);
            if let Some(p) = task.machine.find(ppid) {
                p.kicker.kick_all(0);
            }
            Err(SysError::Exec { entry, sp })
        }
        Err(e) => Err(SysError::Exit(ExitReason::Signaled {
            sig: libc::SIGKILL,
            detail: format!(
                "execve of {} failed after the point of no return: {e}",
                super::fs::shown(&path)
            ),
        })),
    }
}

/// sysinfo(2): the VM's memory (glibc's `sysconf(_SC_PHYS_PAGES)` and qsort read it), the host's
/// uptime and load, one process.
pub fn sysinfo(task: &mut Task, a: Args) -> SysResult {
    // SAFETY: plain struct filled by the host.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: `si` is valid for writing.
    host(unsafe { libc::sysinfo(&mut si) } as isize)?;
    let page = 4096u64;
    let total = task.mm.ram.user_limit() * page;
    let used = task.mm.ram.run_frames() * page;
    si.totalram = total;
    si.freeram = total.saturating_sub(used);
    si.sharedram = 0;
    si.bufferram = 0;
    si.totalswap = 0;
    si.freeswap = 0;
    si.procs = 1;
    si.totalhigh = 0;
    si.freehigh = 0;
    si.mem_unit = 1;
    // SAFETY: `sysinfo` is plain data.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            &si as *const _ as *const u8,
            std::mem::size_of::<libc::sysinfo>(),
        )
    };
    task.mm.write(a[0], bytes)?;
    Ok(0)
}

/// The niceness mvm started with: a program may raise its threads' niceness, never lower it
/// below this (Linux's answer to an unprivileged process, EACCES), so that a program cannot
/// take more of the host's CPU than mvm's caller gave it.
static BASE_NICE: std::sync::OnceLock<i32> = std::sync::OnceLock::new();

/// Records `BASE_NICE`; called once at start, before any program runs.
pub fn record_base_nice() {
    // SAFETY: plain host call; -1 is a valid niceness, so errno tells failure apart.
    let nice = unsafe {
        *libc::__errno_location() = 0;
        libc::getpriority(libc::PRIO_PROCESS, 0)
    };
    let _ = BASE_NICE.set(nice);
}

/// The thread `which`/`who` names, if it is the caller (the only one served).
fn priority_target(task: &Task, which: u64, who: u64) -> Result<(), SysError> {
    match (which as u32, who as i32) {
        (libc::PRIO_PROCESS | libc::PRIO_PGRP | libc::PRIO_USER, 0) => Ok(()),
        (libc::PRIO_PROCESS, w) if w == task.tid => Ok(()),
        (libc::PRIO_PROCESS | libc::PRIO_PGRP | libc::PRIO_USER, _) => err(libc::ESRCH),
        _ => err(libc::EINVAL),
    }
}

/// getpriority(2), for the calling thread: its host thread's niceness (the raw call returns
/// 20 - nice).
pub fn getpriority(task: &mut Task, a: Args) -> SysResult {
    priority_target(task, a[0], a[1])?;
    // SAFETY: plain host call on this thread.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as u32) };
    Ok((20 - nice) as u64)
}

/// setpriority(2), for the calling thread: sets its host thread's niceness (threads and
/// programs it starts afterwards inherit it, as on Linux); below mvm's own, EACCES.
pub fn setpriority(task: &mut Task, a: Args) -> SysResult {
    priority_target(task, a[0], a[1])?;
    let nice = (a[2] as i32).clamp(-20, 19);
    if nice < *BASE_NICE.get().unwrap_or(&0) {
        return err(libc::EACCES);
    }
    // SAFETY: plain host call on this thread.
    host(unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as u32, nice) } as isize)
}

/// CPU time split as user and system time: user time is the time in the guest (measured around
/// `KVM_RUN`, so never more than the CPU time), system time the rest of the host threads' CPU
/// time (mvm serving the exits: what Linux would count as the kernel's).
fn split_cpu(total: Duration, guest: Duration) -> (Duration, Duration) {
    let user = guest.min(total);
    (user, total - user)
}

/// What a program that ended leaves its parent's wait: its (user, system) CPU time with its
/// reaped children's.
pub fn usage_at_end(task: &Task) -> (Duration, Duration) {
    let (user, system) = process_cpu(task);
    (user + task.children_cpu.0, system + task.children_cpu.1)
}

/// A `struct rusage` with these (user, system) times, the rest zeros.
fn rusage_of((user, system): (Duration, Duration)) -> [i64; 18] {
    let mut ru = [0i64; 18];
    ru[0] = user.as_secs() as i64;
    ru[1] = i64::from(user.subsec_micros());
    ru[2] = system.as_secs() as i64;
    ru[3] = i64::from(system.subsec_micros());
    ru
}

/// The program's (user, system) CPU time.
pub fn process_cpu(task: &Task) -> (Duration, Duration) {
    split_cpu(task.me.kicker.cpu_time(), task.stats.guest_time)
}

/// getrusage(2): RUSAGE_SELF and RUSAGE_THREAD give the program's or the thread's CPU time
/// (`split_cpu`) and the program's memory as the peak; RUSAGE_CHILDREN the CPU time of the
/// children it has reaped (and theirs, as Linux).
pub fn getrusage(task: &mut Task, a: Args) -> SysResult {
    const RUSAGE_SELF: i32 = 0;
    const RUSAGE_CHILDREN: i32 = -1;
    const RUSAGE_THREAD: i32 = 1;
    let who = a[0] as i32;
    let mut ru = [0i64; 18];
    let timeval = |d: Duration| [d.as_secs() as i64, i64::from(d.subsec_micros())];
    let times = match who {
        RUSAGE_SELF => Some(process_cpu(task)),
        RUSAGE_THREAD => {
            let total = task.me.kicker.thread_cpu_time(task.tid).unwrap_or_default();
            Some(split_cpu(total, task.guest_time))
        }
        RUSAGE_CHILDREN => {
            let ru = rusage_of(task.children_cpu);
            task.mm.write_obj(a[1], &ru)?;
            return Ok(0);
        }
        _ => return err(libc::EINVAL),
    };
    if let Some((user, system)) = times {
        ru[0..2].copy_from_slice(&timeval(user));
        ru[2..4].copy_from_slice(&timeval(system));
        ru[4] = (task.mm.ram.user_frames() * 4) as i64;
    }
    task.mm.write_obj(a[1], &ru)?;
    Ok(0)
}

/// times(2): the program's user and system time (`split_cpu`) and its reaped children's, in
/// clock ticks (100 a second), and ticks
/// since an arbitrary point (the host's boot).
pub fn times(task: &mut Task, a: Args) -> SysResult {
    let ticks = |d: Duration| (d.as_millis() / 10) as i64;
    if a[0] != 0 {
        let (user, system) = process_cpu(task);
        let (cuser, csystem) = task.children_cpu;
        let tms = [ticks(user), ticks(system), ticks(cuser), ticks(csystem)];
        task.mm.write_obj(a[0], &tms)?;
    }
    let now = super::time::now(libc::CLOCK_MONOTONIC as u64)?;
    Ok((now.tv_sec * 100 + now.tv_nsec / 10_000_000) as u64)
}
