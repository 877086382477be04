//! File descriptors and the file syscalls. For now the program's files are mvm's own standard
//! streams (fds 0, 1, 2), so pipes, redirects and terminals behave as for the program run natively;
//! the filesystem view comes with the policy work.

use super::{err, host, Args, SysError, SysResult};
use crate::task::Task;

/// Most file descriptors a program may have open (`RLIMIT_NOFILE`).
pub const MAX_FDS: usize = 1024;

/// One open file description the program can reach.
#[derive(Debug, Clone)]
pub struct FdEntry {
    /// The host descriptor serving it.
    pub host: i32,
    /// `FD_CLOEXEC`.
    pub cloexec: bool,
}

/// The program's descriptor table.
#[derive(Debug, Default)]
pub struct FdTable {
    fds: Vec<Option<FdEntry>>,
}

impl FdTable {
    /// The standard streams, served by mvm's own.
    pub fn stdio() -> Self {
        FdTable {
            fds: (0..3)
                .map(|fd| {
                    Some(FdEntry {
                        host: fd,
                        cloexec: false,
                    })
                })
                .collect(),
        }
    }

    /// The host fd behind guest `fd`, or EBADF.
    pub fn get(&self, fd: u64) -> Result<i32, SysError> {
        match self.fds.get(fd as usize) {
            Some(Some(e)) => Ok(e.host),
            _ => err(libc::EBADF),
        }
    }

    fn entry_mut(&mut self, fd: u64) -> Result<&mut FdEntry, SysError> {
        match self.fds.get_mut(fd as usize) {
            Some(Some(e)) => Ok(e),
            _ => err(libc::EBADF),
        }
    }

    fn install_at(&mut self, fd: usize, e: FdEntry) {
        if self.fds.len() <= fd {
            self.fds.resize(fd + 1, None);
        }
        self.fds[fd] = Some(e);
    }

    fn lowest_free(&self, from: usize) -> Result<usize, SysError> {
        let fd = (from..)
            .find(|&i| self.fds.get(i).is_none_or(|e| e.is_none()))
            .unwrap();
        if fd >= MAX_FDS {
            return err(libc::EMFILE);
        }
        Ok(fd)
    }

    /// Closes every `FD_CLOEXEC` descriptor (execve).
    pub fn on_exec(&mut self) {
        for e in self.fds.iter_mut() {
            if e.as_ref().is_some_and(|e| e.cloexec) {
                *e = None;
            }
        }
    }
}

/// Host read/write on a guest buffer, through the checked accessor.
fn rw(task: &mut Task, fd: u64, buf: u64, len: u64, off: Option<i64>, write: bool) -> SysResult {
    let h = task.fds.get(fd)?;
    let len = len.min(0x7fff_f000) as usize;
    // Data flows into program memory on read.
    let iov = task.mm.iovecs(buf, len, !write)?;
    host_iov(task, h, &iov, off, write)
}

fn host_iov(
    task: &mut Task,
    h: i32,
    iov: &[libc::iovec],
    off: Option<i64>,
    write: bool,
) -> SysResult {
    if iov.is_empty() {
        return Ok(0);
    }
    let n = iov.len().min(1024) as i32;
    // SAFETY: every iovec points into guest memory mapped by mvm, checked by `iovecs`; the guest
    // is stopped while mvm serves its syscall.
    let r = unsafe {
        match (write, off) {
            (false, None) => libc::readv(h, iov.as_ptr(), n),
            (true, None) => libc::writev(h, iov.as_ptr(), n),
            (false, Some(o)) => libc::preadv(h, iov.as_ptr(), n, o),
            (true, Some(o)) => libc::pwritev(h, iov.as_ptr(), n, o),
        }
    };
    let r = host(r);
    if write {
        if let Err(SysError::Errno(libc::EPIPE)) = r {
            return super::signal::raise(task, libc::SIGPIPE).and(r);
        }
    }
    r
}

/// read(2).
pub fn read(task: &mut Task, a: Args) -> SysResult {
    rw(task, a[0], a[1], a[2], None, false)
}

/// write(2).
pub fn write(task: &mut Task, a: Args) -> SysResult {
    rw(task, a[0], a[1], a[2], None, true)
}

/// pread64(2).
pub fn pread64(task: &mut Task, a: Args) -> SysResult {
    if (a[3] as i64) < 0 {
        return err(libc::EINVAL);
    }
    rw(task, a[0], a[1], a[2], Some(a[3] as i64), false)
}

/// pwrite64(2).
pub fn pwrite64(task: &mut Task, a: Args) -> SysResult {
    if (a[3] as i64) < 0 {
        return err(libc::EINVAL);
    }
    rw(task, a[0], a[1], a[2], Some(a[3] as i64), true)
}

fn vectored(task: &mut Task, a: Args, write: bool) -> SysResult {
    let h = task.fds.get(a[0])?;
    let cnt = a[2] as i64;
    if !(0..=1024).contains(&cnt) {
        return err(libc::EINVAL);
    }
    let mut host_iov = Vec::new();
    let mut total: u64 = 0;
    for i in 0..cnt as u64 {
        let base = task.mm.read_u64(a[1] + 16 * i)?;
        let len = task.mm.read_u64(a[1] + 16 * i + 8)?;
        total = total
            .checked_add(len)
            .filter(|t| *t <= isize::MAX as u64)
            .ok_or(SysError::Errno(libc::EINVAL))?;
        host_iov.extend(task.mm.iovecs(base, len as usize, !write)?);
    }
    self::host_iov(task, h, &host_iov, None, write)
}

/// readv(2).
pub fn readv(task: &mut Task, a: Args) -> SysResult {
    vectored(task, a, false)
}

/// writev(2).
pub fn writev(task: &mut Task, a: Args) -> SysResult {
    vectored(task, a, true)
}

/// close(2). The host stream stays open for mvm.
pub fn close(task: &mut Task, a: Args) -> SysResult {
    task.fds.entry_mut(a[0])?;
    task.fds.fds[a[0] as usize] = None;
    Ok(0)
}

/// lseek(2).
pub fn lseek(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    // SAFETY: plain host call on a descriptor mvm serves.
    host(unsafe { libc::lseek(h, a[1] as i64, a[2] as i32) } as isize)
}

fn stat_host(task: &mut Task, h: i32, out: u64) -> SysResult {
    // SAFETY: `st` is a plain struct filled by the host.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is valid for writing.
    host(unsafe { libc::fstat(h, &mut st) } as isize)?;
    // SAFETY: `libc::stat` is plain data with x86-64 Linux's layout, as the program expects.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            &st as *const _ as *const u8,
            std::mem::size_of::<libc::stat>(),
        )
    };
    task.mm.write(out, bytes)?;
    Ok(0)
}

/// fstat(2).
pub fn fstat(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    stat_host(task, h, a[1])
}

/// newfstatat(2): only `AT_EMPTY_PATH` on an open descriptor for now.
pub fn newfstatat(task: &mut Task, a: Args) -> SysResult {
    let path = task.mm.read_cstr(a[1])?;
    if path.is_empty() && a[3] & libc::AT_EMPTY_PATH as u64 != 0 {
        let h = task.fds.get(a[0])?;
        return stat_host(task, h, a[2]);
    }
    err(libc::ENOENT)
}

/// statx(2): only `AT_EMPTY_PATH` on an open descriptor for now.
pub fn statx(task: &mut Task, a: Args) -> SysResult {
    let path = task.mm.read_cstr(a[1])?;
    if !(path.is_empty() && a[2] & libc::AT_EMPTY_PATH as u64 != 0) {
        return err(libc::ENOENT);
    }
    let h = task.fds.get(a[0])?;
    // SAFETY: plain struct filled by the host.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: valid empty path and output struct.
    let r = unsafe { libc::statx(h, c"".as_ptr(), libc::AT_EMPTY_PATH, a[3] as u32, &mut stx) };
    host(r as isize)?;
    // SAFETY: `statx` is plain data with the kernel's layout.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            &stx as *const _ as *const u8,
            std::mem::size_of::<libc::statx>(),
        )
    };
    task.mm.write(a[4], bytes)?;
    Ok(0)
}

/// ioctl(2): the terminal queries programs make on their standard streams.
pub fn ioctl(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    let size = match a[1] {
        libc::TCGETS => std::mem::size_of::<libc::termios>(),
        libc::TIOCGWINSZ => std::mem::size_of::<libc::winsize>(),
        libc::TIOCGPGRP | libc::FIONREAD => 4,
        _ => return err(libc::ENOTTY),
    };
    let mut buf = vec![0u8; size];
    // SAFETY: each request writes at most `size` bytes to `buf`.
    host(unsafe { libc::ioctl(h, a[1], buf.as_mut_ptr()) } as isize)?;
    if a[1] == libc::TIOCGPGRP {
        buf.copy_from_slice(&1i32.to_le_bytes());
    }
    task.mm.write(a[2], &buf)?;
    Ok(0)
}

fn dup_to(task: &mut Task, old: u64, new: usize, cloexec: bool) -> SysResult {
    let host = task.fds.get(old)?;
    if new >= MAX_FDS {
        return err(libc::EBADF);
    }
    task.fds.install_at(new, FdEntry { host, cloexec });
    Ok(new as u64)
}

/// dup(2).
pub fn dup(task: &mut Task, a: Args) -> SysResult {
    task.fds.get(a[0])?;
    let new = task.fds.lowest_free(0)?;
    dup_to(task, a[0], new, false)
}

/// dup2(2).
pub fn dup2(task: &mut Task, a: Args) -> SysResult {
    task.fds.get(a[0])?;
    if a[0] == a[1] {
        return Ok(a[1]);
    }
    dup_to(task, a[0], a[1] as usize, false)
}

/// dup3(2).
pub fn dup3(task: &mut Task, a: Args) -> SysResult {
    if a[0] == a[1] || a[2] & !(libc::O_CLOEXEC as u64) != 0 {
        return err(libc::EINVAL);
    }
    dup_to(task, a[0], a[1] as usize, a[2] != 0)
}

/// fcntl(2).
pub fn fcntl(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    match a[1] as i32 {
        libc::F_GETFD => Ok(task.fds.entry_mut(a[0])?.cloexec as u64),
        libc::F_SETFD => {
            task.fds.entry_mut(a[0])?.cloexec = a[2] & libc::FD_CLOEXEC as u64 != 0;
            Ok(0)
        }
        // SAFETY: plain host call on a descriptor mvm serves.
        libc::F_GETFL => host(unsafe { libc::fcntl(h, libc::F_GETFL) } as isize),
        libc::F_SETFL => {
            // Only O_APPEND and O_NONBLOCK may change, as on Linux.
            let keep = libc::O_APPEND | libc::O_NONBLOCK;
            // SAFETY: plain host call.
            host(unsafe { libc::fcntl(h, libc::F_SETFL, a[2] as i32 & keep) } as isize)
        }
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            let new = task.fds.lowest_free(a[2] as usize)?;
            dup_to(task, a[0], new, a[1] as i32 == libc::F_DUPFD_CLOEXEC)
        }
        _ => err(libc::EINVAL),
    }
}

/// getcwd(2).
pub fn getcwd(task: &mut Task, a: Args) -> SysResult {
    let mut s = task.cwd.clone().into_bytes();
    s.push(0);
    if (a[1] as usize) < s.len() {
        return err(libc::ERANGE);
    }
    task.mm.write(a[0], &s)?;
    Ok(s.len() as u64)
}

/// Joins `path` onto `cwd` and removes `.`, `..` and repeated slashes.
pub fn normalize(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    for c in full.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// chdir(2): records the new working directory.
pub fn chdir(task: &mut Task, a: Args) -> SysResult {
    let p = task.mm.read_cstr(a[0])?;
    if p.is_empty() {
        return err(libc::ENOENT);
    }
    let p = String::from_utf8(p).map_err(|_| SysError::Errno(libc::ENOENT))?;
    task.cwd = normalize(&task.cwd, &p);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize("/a/b", "../c/./d//"), "/a/c/d");
        assert_eq!(normalize("/a", "/x/../../y"), "/y");
        assert_eq!(normalize("/", "."), "/");
    }
}
