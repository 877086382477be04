//! Process syscalls: identity, limits, the thread area, futexes (one thread), execve, exit.
//! The program is pid 1 (and tid 1) in its VM, as in a container; its user and group are mvm's.

use super::{err, host, Args, SysError, SysResult};
use crate::layout::USER_TOP;
use crate::sys::fs::MAX_FDS;
use crate::task::{ExitReason, Task};

/// exit(2) and exit_group(2): with one thread they are the same.
pub fn exit(_task: &mut Task, a: Args) -> SysResult {
    Err(SysError::Exit(ExitReason::Exited(a[0] as u8)))
}

/// getpid(2), gettid(2), getpgrp(2).
pub fn getpid(_task: &mut Task, _a: Args) -> SysResult {
    Ok(1)
}

/// getppid(2): nothing is above the program in its VM.
pub fn getppid(_task: &mut Task, _a: Args) -> SysResult {
    Ok(0)
}

/// getpgid(2), getsid(2).
pub fn getpgid(_task: &mut Task, a: Args) -> SysResult {
    match a[0] as i32 {
        0 | 1 => Ok(1),
        _ => err(libc::ESRCH),
    }
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

/// uname(2): the host's, as for the program run natively.
pub fn uname(task: &mut Task, a: Args) -> SysResult {
    // SAFETY: plain struct filled by the host.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is valid for writing.
    host(unsafe { libc::uname(&mut u) } as isize)?;
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
    Ok(1)
}

/// set_robust_list(2): recorded implicitly; with one thread there is nobody to wake.
pub fn set_robust_list(_task: &mut Task, a: Args) -> SysResult {
    if a[1] != 24 {
        return err(libc::EINVAL);
    }
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

/// sched_yield(2).
pub fn sched_yield(_task: &mut Task, _a: Args) -> SysResult {
    Ok(0)
}

/// sched_getaffinity(2): one CPU.
pub fn sched_getaffinity(task: &mut Task, a: Args) -> SysResult {
    if !matches!(a[0] as i32, 0 | 1) {
        return err(libc::ESRCH);
    }
    if a[1] < 8 || !a[1].is_multiple_of(8) {
        return err(libc::EINVAL);
    }
    task.mm.write_obj(a[2], &1u64)?;
    Ok(8)
}

const RLIM_INFINITY: u64 = u64::MAX;

fn rlimit(task: &Task, res: u32) -> (u64, u64) {
    if let Some(&(_, s, h)) = task.rlimits.iter().find(|(r, _, _)| *r == res) {
        return (s, h);
    }
    match res {
        libc::RLIMIT_STACK => (8 << 20, RLIM_INFINITY),
        libc::RLIMIT_NOFILE => (MAX_FDS as u64, MAX_FDS as u64),
        libc::RLIMIT_CORE => (0, RLIM_INFINITY),
        libc::RLIMIT_MEMLOCK => (8 << 20, 8 << 20),
        libc::RLIMIT_SIGPENDING | libc::RLIMIT_NPROC => (63_000, 63_000),
        libc::RLIMIT_MSGQUEUE => (819_200, 819_200),
        libc::RLIMIT_NICE | libc::RLIMIT_RTPRIO => (0, 0),
        _ => (RLIM_INFINITY, RLIM_INFINITY),
    }
}

/// prlimit64(2), for the program itself.
pub fn prlimit64(task: &mut Task, a: Args) -> SysResult {
    if !matches!(a[0] as i32, 0 | 1) {
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
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_CLOCK_REALTIME: u64 = 256;

/// futex(2) with one thread: a wait whose value matches can only end by timeout or signal.
pub fn futex(task: &mut Task, a: Args) -> SysResult {
    let [uaddr, op, val, timeout, _uaddr2, val3] = a;
    if uaddr % 4 != 0 {
        return err(libc::EINVAL);
    }
    match op & 0x7f {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let cur: u32 = task.mm.read_obj(uaddr)?;
            if cur != val as u32 {
                return err(libc::EAGAIN);
            }
            if timeout == 0 {
                return super::signal::wait_for_signal(task);
            }
            let ts: [i64; 2] = task.mm.read_obj(timeout)?;
            let (clock, flags) = if op & 0x7f == FUTEX_WAIT {
                (libc::CLOCK_MONOTONIC, 0)
            } else if op & FUTEX_CLOCK_REALTIME != 0 {
                (libc::CLOCK_REALTIME, libc::TIMER_ABSTIME)
            } else {
                (libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME)
            };
            match super::time::sleep(clock, flags, ts) {
                Ok(_) => err(libc::ETIMEDOUT),
                Err(e) => Err(e),
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => Ok(0),
        FUTEX_REQUEUE => Ok(0),
        FUTEX_CMP_REQUEUE => {
            let cur: u32 = task.mm.read_obj(uaddr)?;
            if cur != val3 as u32 {
                return err(libc::EAGAIN);
            }
            Ok(0)
        }
        _ => err(libc::ENOSYS),
    }
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
    let (file, path) = task
        .fs
        .open_exec(&task.cwd, &String::from_utf8_lossy(&path))
        .map_err(SysError::Errno)?;
    let prepared = task
        .prepare_exec(file, path.clone())
        .map_err(|e| SysError::Errno(e.errno()))?;
    // Past this point the old image is gone: a failure kills the program, as on Linux.
    match task.exec_image(&prepared, &argv, &envp) {
        Ok((entry, sp)) => Err(SysError::Exec { entry, sp }),
        Err(e) => Err(SysError::Exit(ExitReason::Signaled {
            sig: libc::SIGKILL,
            detail: format!("execve of {path} failed after the point of no return: {e}"),
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
    let used = task.mm.ram.user_frames() * page;
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
