//! File descriptors and the syscalls on them: the descriptor table (shared open file
//! descriptions, so `dup` shares offsets and flags as on Linux; fds 0-2 are mvm's own streams),
//! the read/write family, close, dup, fcntl (record locks pass through to the host file), flock,
//! ioctl, pipes, eventfd, memfd, fsync, ftruncate/fallocate, sendfile/copy_file_range and
//! getdents64. Calls that name paths are in `path`.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::{err, host, Args, SysError, SysResult};
use crate::task::Task;

/// Most file descriptors a program may have open (`RLIMIT_NOFILE`), where the host gives
/// mvm enough (`max_fds`).
pub const MAX_FDS: usize = 1024;

/// Host descriptors kept for mvm's own use beside a program's (its streams, the KVM, VM and
/// vCPU descriptors, memory windows, file mappings, mounts: some 25 for each program of the
/// run).
const RESERVED_FDS: usize = 256;

/// The program's descriptor limit this run, set once at start from mvm's own.
static PROGRAM_FDS: AtomicUsize = AtomicUsize::new(MAX_FDS);

/// Most file descriptors a program may have open (`RLIMIT_NOFILE`): `MAX_FDS`, or fewer where
/// mvm's own limit leaves less room (each is a host descriptor in mvm), so a program meets
/// its own limit, never the host's behind it.
pub fn max_fds() -> usize {
    PROGRAM_FDS.load(Ordering::Relaxed)
}

/// The descriptor limit mvm asks for itself: every program of a run keeps its descriptors in
/// mvm's one host table (up to `MAX_FDS` each, besides each micro-VM's own few), so an
/// inherited limit of 1024 would run out before the first program reached its own.
const HOST_FDS: u64 = 1 << 20;

/// mvm's descriptor limit as it started, given back to the commands it starts.
static INHERITED_NOFILE: std::sync::OnceLock<libc::rlimit> = std::sync::OnceLock::new();

/// Raises mvm's own `RLIMIT_NOFILE`: both limits to `HOST_FDS` (capped by `fs.nr_open`) where
/// mvm may (CAP_SYS_RESOURCE), else the soft one to the hard one; then sets `max_fds` from
/// what it got. Called once at start.
pub fn raise_host_fd_limit() {
    let Some(old) = nofile() else { return };
    let _ = INHERITED_NOFILE.set(old);
    let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(HOST_FDS);
    let want = HOST_FDS.min(nr_open);
    if old.rlim_cur < want {
        let tries = [
            (want, want.max(old.rlim_max)),
            (old.rlim_max.min(want), old.rlim_max),
        ];
        for (rlim_cur, rlim_max) in tries {
            let new = libc::rlimit { rlim_cur, rlim_max };
            // SAFETY: setrlimit reads one rlimit; raising the hard limit may fail (EPERM).
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0 {
                break;
            }
        }
    }
    if let Some(now) = nofile() {
        let room = usize::try_from(now.rlim_cur).unwrap_or(usize::MAX);
        let fds = room.saturating_sub(RESERVED_FDS).clamp(16, MAX_FDS);
        PROGRAM_FDS.store(fds, Ordering::Relaxed);
    }
}

/// mvm's own `RLIMIT_NOFILE`.
fn nofile() -> Option<libc::rlimit> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0).then_some(r)
}

/// Gives a command mvm starts the descriptor limit mvm inherited. Only async-signal-safe calls:
/// it runs between fork and exec.
pub fn restore_host_fd_limit() {
    if let Some(old) = INHERITED_NOFILE.get() {
        // SAFETY: setrlimit reads one rlimit; lowering a limit does not fail.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, old) };
    }
}

/// The host descriptor behind an open file description.
#[derive(Debug)]
pub enum HostFd {
    /// One of mvm's own standard streams (never closed by the program).
    Std(i32),
    /// A descriptor mvm opened for the program.
    Owned(OwnedFd),
}

/// A synthesized directory's entries (name, `d_type`).
pub type Listing = Vec<(Vec<u8>, u8)>;

/// One open file description: shared by `dup`ed descriptors, so they share the offset and
/// status flags, as on Linux.
#[derive(Debug)]
pub struct OpenFile {
    /// The host descriptor serving it.
    pub host: HostFd,
    /// Its guest path (for `/proc/self/fd`), or `None` to ask the host (pipes, the streams).
    pub path: Option<Vec<u8>>,
    /// Whether its mount is writable (EROFS for metadata changes otherwise).
    pub writable: bool,
    /// A synthesized directory's entries (name, `d_type`) and the listing position.
    pub listing: Option<(Listing, AtomicUsize)>,
    /// The file as the program's mappings of it hold it (`mapped`).
    pub mapped: Mutex<Weak<std::fs::File>>,
    /// A signalfd's state: its reads are mvm's, its host descriptor only tells a host poll
    /// whether it is readable (see `signalfd`).
    pub signalfd: Option<super::signalfd::SignalFd>,
    /// A POSIX message queue's descriptor (mqd): the queue (its host descriptor shows the
    /// queue's readiness to poll).
    pub mq: Option<Arc<super::mqueue::MqOpen>>,
}

impl OpenFile {
    /// A file mvm opened on the host for the program.
    pub fn owned(fd: OwnedFd, path: Option<Vec<u8>>, writable: bool) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            host: HostFd::Owned(fd),
            path,
            writable,
            listing: None,
            mapped: Mutex::default(),
            signalfd: None,
            mq: None,
        })
    }

    /// The file for a mapping of it: one duplicate of the host descriptor shared by all the
    /// mappings made through this open file (the dynamic loader maps each library in four or
    /// five pieces), kept while any of them is, so the mappings outlive the program's close of
    /// the descriptor and cost mvm one descriptor a file, not one a piece.
    pub fn mapped(&self) -> Result<Arc<std::fs::File>, SysError> {
        let mut held = self.mapped.lock().unwrap();
        if let Some(f) = held.upgrade() {
            return Ok(f);
        }
        // SAFETY: a plain host call on the descriptor this open file owns.
        let dup = unsafe { libc::fcntl(self.raw(), libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return err(libc::ENFILE);
        }
        // SAFETY: `dup` is a fresh descriptor owned by nobody else.
        let f = Arc::new(unsafe { std::fs::File::from_raw_fd(dup) });
        *held = Arc::downgrade(&f);
        Ok(f)
    }

    /// The host fd.
    pub fn raw(&self) -> i32 {
        match &self.host {
            HostFd::Std(fd) => *fd,
            HostFd::Owned(fd) => fd.as_raw_fd(),
        }
    }
}

/// One descriptor: an open file description and the descriptor's own flag.
#[derive(Debug, Clone)]
pub struct FdEntry {
    /// The open file description.
    pub file: Arc<OpenFile>,
    /// `FD_CLOEXEC`.
    pub cloexec: bool,
}

/// The program's descriptor table (a fork's copy shares the open file descriptions).
#[derive(Debug, Default, Clone)]
pub struct FdTable {
    fds: Vec<Option<FdEntry>>,
    /// The program's own `RLIMIT_NOFILE` once it set one (`max_fds` until then).
    limit: Option<usize>,
    /// Whether it ever held a signalfd (a poll looks for them only then).
    signalfds: bool,
}

impl FdTable {
    /// The standard streams: mvm's own, or (`-t`) one open file of the run's terminal.
    pub fn stdio(tty: Option<OwnedFd>) -> Self {
        let tty = tty.map(|fd| OpenFile::owned(fd, None, true));
        FdTable {
            fds: (0..3)
                .map(|fd| {
                    let file = tty.clone().unwrap_or_else(|| {
                        Arc::new(OpenFile {
                            host: HostFd::Std(fd),
                            path: None,
                            writable: true,
                            listing: None,
                            mapped: Mutex::default(),
                            signalfd: None,
                            mq: None,
                        })
                    });
                    Some(FdEntry {
                        file,
                        cloexec: false,
                    })
                })
                .collect(),
            limit: None,
            signalfds: false,
        }
    }

    /// One past the highest descriptor the program may open (its `RLIMIT_NOFILE`).
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or_else(max_fds)
    }

    /// The program set its `RLIMIT_NOFILE` soft limit to `soft` (at most `max_fds`): descriptors
    /// already open stay, new ones must be below it.
    pub fn set_limit(&mut self, soft: u64) {
        self.limit = Some(soft.min(max_fds() as u64) as usize);
    }

    /// The host fd behind guest `fd`, or EBADF.
    pub fn get(&self, fd: u64) -> Result<i32, SysError> {
        Ok(self.file(fd)?.raw())
    }

    /// The open file description behind guest `fd`, or EBADF.
    pub fn file(&self, fd: u64) -> Result<Arc<OpenFile>, SysError> {
        match self.fds.get(fd as usize) {
            Some(Some(e)) => Ok(e.file.clone()),
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
        self.signalfds |= e.file.signalfd.is_some();
        if self.fds.len() <= fd {
            self.fds.resize(fd + 1, None);
        }
        self.fds[fd] = Some(e);
    }

    fn lowest_free(&self, from: usize) -> Result<usize, SysError> {
        let fd = (from..)
            .find(|&i| self.fds.get(i).is_none_or(|e| e.is_none()))
            .unwrap();
        if fd >= self.limit() {
            return err(libc::EMFILE);
        }
        Ok(fd)
    }

    /// Installs `file` at the lowest free descriptor (EMFILE past `RLIMIT_NOFILE`).
    pub fn install(&mut self, file: Arc<OpenFile>, cloexec: bool) -> SysResult {
        let fd = self.lowest_free(0)?;
        self.install_at(fd, FdEntry { file, cloexec });
        Ok(fd as u64)
    }

    /// The open descriptors, lowest first.
    pub fn open_fds(&self) -> Vec<(usize, Arc<OpenFile>)> {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i, e.file.clone())))
            .collect()
    }

    /// The signalfds among the open descriptors (none looked for unless one was ever opened).
    pub fn signalfds(&self) -> Vec<Arc<OpenFile>> {
        if !self.signalfds {
            return Vec::new();
        }
        self.fds
            .iter()
            .flatten()
            .filter(|e| e.file.signalfd.is_some())
            .map(|e| e.file.clone())
            .collect()
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

/// RLIMIT_FSIZE, as Linux applies it to a write of `len` bytes at `off` (`None`: at the file's
/// offset, or its end if it appends) to regular file `h`: the bytes that may go, fewer if the
/// write would pass the limit; at or past it, EFBIG and SIGXFSZ. Other files are not limited.
fn fsize_clip(task: &mut Task, h: i32, off: Option<i64>, len: u64) -> Result<u64, SysError> {
    let limit = super::process::fsize_limit(task);
    if limit == u64::MAX || len == 0 {
        return Ok(len);
    }
    let Ok(st) = crate::policy::fstat(h) else {
        return Ok(len);
    };
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Ok(len);
    }
    let pos = match off {
        Some(o) => o as u64,
        None => {
            // SAFETY: plain host calls on a descriptor the program holds.
            let flags = unsafe { libc::fcntl(h, libc::F_GETFL) };
            if flags >= 0 && flags & libc::O_APPEND != 0 {
                st.st_size as u64
            } else {
                // SAFETY: as above.
                let at = unsafe { libc::lseek(h, 0, libc::SEEK_CUR) };
                if at < 0 {
                    return Ok(len);
                }
                at as u64
            }
        }
    };
    if pos >= limit {
        super::signal::raise(task, libc::SIGXFSZ)?;
        return err(libc::EFBIG);
    }
    Ok(len.min(limit - pos))
}

/// RLIMIT_FSIZE for growing regular file `h` to `size` bytes (ftruncate, truncate,
/// fallocate): past the limit, EFBIG and SIGXFSZ, as Linux; shrinking is never limited.
pub fn fsize_grow(task: &mut Task, h: i32, size: u64) -> Result<(), SysError> {
    let limit = super::process::fsize_limit(task);
    if limit == u64::MAX || size <= limit {
        return Ok(());
    }
    let Ok(st) = crate::policy::fstat(h) else {
        return Ok(());
    };
    if st.st_mode & libc::S_IFMT != libc::S_IFREG || size <= st.st_size as u64 {
        return Ok(());
    }
    super::signal::raise(task, libc::SIGXFSZ)?;
    err(libc::EFBIG)
}

/// Host read/write on a guest buffer, through the checked accessor.
fn rw(task: &mut Task, fd: u64, buf: u64, len: u64, off: Option<i64>, write: bool) -> SysResult {
    let file = task.fds.file(fd)?;
    let mut len = len.min(0x7fff_f000) as usize;
    if write {
        len = fsize_clip(task, file.raw(), off, len as u64)? as usize;
    }
    if file.signalfd.is_some() {
        return super::signalfd::rw(task, &file, &[(buf, len as u64)], off, write);
    }
    if let Some(m) = &file.mq {
        // A message queue reads as its status line and cannot be written (Linux's mqueue fs).
        if write {
            return err(libc::EINVAL);
        }
        let line = m.status_line(len);
        task.mm.write(buf, &line)?;
        return Ok(line.len() as u64);
    }
    // Data flows into program memory on read.
    let iov = task.mm.iovecs(buf, len, !write)?;
    host_iov(task, &file, &iov, off, write)
}

/// The host read or write, made without the process lock (it may block on a pipe, a terminal,
/// a lock): the open file is held, so a close by another thread meanwhile cannot recycle it.
fn host_iov(
    task: &mut Task,
    file: &Arc<OpenFile>,
    iov: &[libc::iovec],
    off: Option<i64>,
    write: bool,
) -> SysResult {
    if iov.is_empty() {
        return Ok(0);
    }
    let h = file.raw();
    if write {
        super::tty::on_write(task, h)?;
    } else {
        super::tty::on_read(task, h)?;
    }
    let n = iov.len().min(1024) as i32;
    struct Iov<'a>(&'a [libc::iovec]);
    // SAFETY: the iovecs point into guest memory, which stays mapped while the process lives.
    unsafe impl Send for Iov<'_> {}
    let v = Iov(iov);
    let r = task.unlocked(move || {
        let v = v;
        // SAFETY: every iovec points into guest memory mapped by mvm, checked by `iovecs`; the
        // memory stays mapped (a concurrent munmap by another thread changes only what the
        // guest sees, as on Linux).
        unsafe {
            match (write, off) {
                (false, None) => libc::readv(h, v.0.as_ptr(), n),
                (true, None) => libc::writev(h, v.0.as_ptr(), n),
                (false, Some(o)) => libc::preadv(h, v.0.as_ptr(), n, o),
                (true, Some(o)) => libc::pwritev(h, v.0.as_ptr(), n, o),
            }
        }
    });
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
    vectored_at(task, a, None, write)
}

fn vectored_at(task: &mut Task, a: Args, off: Option<i64>, write: bool) -> SysResult {
    let file = task.fds.file(a[0])?;
    let cnt = a[2] as i64;
    if !(0..=1024).contains(&cnt) {
        return err(libc::EINVAL);
    }
    let mut host_iov = Vec::new();
    let mut guest = Vec::new();
    let mut total: u64 = 0;
    for i in 0..cnt as u64 {
        let base = task.mm.read_u64(a[1] + 16 * i)?;
        let len = task.mm.read_u64(a[1] + 16 * i + 8)?;
        total = total
            .checked_add(len)
            .filter(|t| *t <= isize::MAX as u64)
            .ok_or(SysError::Errno(libc::EINVAL))?;
        if file.signalfd.is_some() {
            guest.push((base, len));
        } else {
            host_iov.extend(task.mm.iovecs(base, len as usize, !write)?);
        }
    }
    if file.signalfd.is_some() {
        return super::signalfd::rw(task, &file, &guest, off, write);
    }
    if write {
        let mut allowed = fsize_clip(task, file.raw(), off, total)?;
        if allowed < total {
            // A write past RLIMIT_FSIZE is cut at the limit.
            host_iov.retain_mut(|v| {
                let keep = (v.iov_len as u64).min(allowed);
                v.iov_len = keep as usize;
                allowed -= keep;
                keep > 0
            });
        }
    }
    self::host_iov(task, &file, &host_iov, off, write)
}

/// The offset of preadv/pwritev (and the *v2 calls): the low and high halves.
fn vector_offset(a: Args) -> Result<i64, SysError> {
    let off = (a[3] | (a[4] << 32)) as i64;
    if off < 0 {
        return err(libc::EINVAL);
    }
    Ok(off)
}

/// preadv(2).
pub fn preadv(task: &mut Task, a: Args) -> SysResult {
    let off = vector_offset(a)?;
    vectored_at(task, a, Some(off), false)
}

/// pwritev(2).
pub fn pwritev(task: &mut Task, a: Args) -> SysResult {
    let off = vector_offset(a)?;
    vectored_at(task, a, Some(off), true)
}

/// readv(2).
pub fn readv(task: &mut Task, a: Args) -> SysResult {
    vectored(task, a, false)
}

/// writev(2).
pub fn writev(task: &mut Task, a: Args) -> SysResult {
    vectored(task, a, true)
}

/// close(2). A standard stream stays open for mvm; a file closes with its last descriptor.
pub fn close(task: &mut Task, a: Args) -> SysResult {
    task.fds.entry_mut(a[0])?;
    task.fds.fds[a[0] as usize] = None;
    Ok(0)
}

/// close_range(2): closes, or with `CLOSE_RANGE_CLOEXEC` marks, `[first, last]`.
pub fn close_range(task: &mut Task, a: Args) -> SysResult {
    const UNSHARE: u64 = 2;
    const CLOEXEC: u64 = 4;
    let (first, last) = (a[0] as u32 as usize, a[1] as u32 as usize);
    if a[2] & !(UNSHARE | CLOEXEC) != 0 || first > last {
        return err(libc::EINVAL);
    }
    let end = last.min(task.fds.fds.len().saturating_sub(1));
    for fd in first..=end {
        if fd >= task.fds.fds.len() {
            break;
        }
        if a[2] & CLOEXEC != 0 {
            if let Some(e) = task.fds.fds[fd].as_mut() {
                e.cloexec = true;
            }
        } else {
            task.fds.fds[fd] = None;
        }
    }
    Ok(0)
}

/// lseek(2).
pub fn lseek(task: &mut Task, a: Args) -> SysResult {
    let f = task.fds.file(a[0])?;
    if let Some((_, pos)) = &f.listing {
        if a[2] as i32 != libc::SEEK_SET || (a[1] as i64) < 0 {
            return err(libc::EINVAL);
        }
        pos.store(a[1] as usize, Ordering::Relaxed);
        return Ok(a[1]);
    }
    // SAFETY: plain host call on a descriptor mvm serves.
    host(unsafe { libc::lseek(f.raw(), a[1] as i64, a[2] as i32) } as isize)
}

/// Writes a plain-data host struct into program memory.
pub fn write_struct<T>(task: &mut Task, at: u64, v: &T) -> SysResult {
    // SAFETY: `T` is a plain C struct with the kernel's x86-64 layout, read as bytes.
    let bytes =
        unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) };
    task.mm.write(at, bytes)?;
    Ok(0)
}

/// Reads a plain-data host struct from program memory.
pub fn read_struct<T>(task: &mut Task, at: u64) -> Result<T, SysError> {
    let mut buf = vec![0u8; std::mem::size_of::<T>()];
    task.mm.read(at, &mut buf)?;
    // SAFETY: `T` is a plain C struct for which any bytes are a valid value.
    Ok(unsafe { std::ptr::read_unaligned(buf.as_ptr() as *const T) })
}

/// fstat of host fd `h` into the program's `struct stat` at `out`.
pub fn stat_host(task: &mut Task, h: i32, out: u64) -> SysResult {
    let st = crate::policy::fstat(h).map_err(SysError::Errno)?;
    write_struct(task, out, &st)
}

/// fstat(2).
pub fn fstat(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    stat_host(task, h, a[1])
}

/// fstatfs(2).
pub fn fstatfs(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    // SAFETY: plain struct filled by the host.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is valid for writing.
    host(unsafe { libc::fstatfs(h, &mut st) } as isize)?;
    write_struct(task, a[1], &st)
}

/// ioctl(2): the descriptor requests programs make, and the terminal ones (`tty`).
pub fn ioctl(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    // The request is 32 bits; the upper half of the register is ignored, as on Linux.
    let request = a[1] & 0xffff_ffff;
    match request {
        libc::FIOCLEX | libc::FIONCLEX => {
            task.fds.entry_mut(a[0])?.cloexec = request == libc::FIOCLEX;
            return Ok(0);
        }
        libc::FIOASYNC => {
            // Accepted, but no SIGIO is ever sent (the host's would reach mvm, not the
            // program): programs that ask for it (nginx's channels) also poll.
            let _: i32 = read_struct(task, a[2])?;
            return Ok(0);
        }
        libc::FIONBIO => {
            let on: i32 = read_struct(task, a[2])?;
            // SAFETY: plain host calls on a descriptor mvm serves.
            let fl = host(unsafe { libc::fcntl(h, libc::F_GETFL) } as isize)? as i32;
            let fl = if on != 0 {
                fl | libc::O_NONBLOCK
            } else {
                fl & !libc::O_NONBLOCK
            };
            // SAFETY: as above.
            return host(unsafe { libc::fcntl(h, libc::F_SETFL, fl) } as isize).map(|_| 0);
        }
        _ => {}
    }
    super::tty::ioctl(task, h, request, a).unwrap_or(err(libc::ENOTTY))
}

fn dup_to(task: &mut Task, old: u64, new: usize, cloexec: bool) -> SysResult {
    let file = task.fds.file(old)?;
    if new >= task.fds.limit() {
        return err(libc::EBADF);
    }
    task.fds.install_at(new, FdEntry { file, cloexec });
    Ok(new as u64)
}

/// dup(2).
pub fn dup(task: &mut Task, a: Args) -> SysResult {
    let file = task.fds.file(a[0])?;
    task.fds.install(file, false)
}

/// dup2(2).
pub fn dup2(task: &mut Task, a: Args) -> SysResult {
    task.fds.get(a[0])?;
    if a[0] == a[1] {
        return Ok(a[1]);
    }
    dup_to(task, a[0], a[1] as u32 as usize, false)
}

/// dup3(2).
pub fn dup3(task: &mut Task, a: Args) -> SysResult {
    if a[0] == a[1] || a[2] & !(libc::O_CLOEXEC as u64) != 0 {
        return err(libc::EINVAL);
    }
    dup_to(task, a[0], a[1] as u32 as usize, a[2] != 0)
}

const F_OFD_GETLK: i32 = 36;
const F_OFD_SETLK: i32 = 37;
const F_OFD_SETLKW: i32 = 38;

/// fcntl(2).
pub fn fcntl(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    let cmd = a[1] as i32;
    match cmd {
        libc::F_GETFD => Ok(task.fds.entry_mut(a[0])?.cloexec as u64),
        // The owner for SIGIO: accepted, never used (see FIOASYNC in ioctl).
        libc::F_SETOWN => Ok(0),
        libc::F_GETOWN => Ok(0),
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
            if a[2] as usize >= task.fds.limit() {
                return err(libc::EINVAL);
            }
            let new = task.fds.lowest_free(a[2] as usize)?;
            dup_to(task, a[0], new, cmd == libc::F_DUPFD_CLOEXEC)
        }
        libc::F_GETLK
        | libc::F_SETLK
        | libc::F_SETLKW
        | F_OFD_GETLK
        | F_OFD_SETLK
        | F_OFD_SETLKW => {
            let mut fl: libc::flock = read_struct(task, a[2])?;
            let file = task.fds.file(a[0])?;
            let flp = &mut fl as *mut libc::flock as usize;
            // SETLKW waits: without the process lock.
            // SAFETY: the command reads and may fill one `struct flock`, a local.
            let r =
                task.unlocked(|| unsafe { libc::fcntl(file.raw(), cmd, flp as *mut libc::flock) });
            host(r as isize)?;
            if cmd == libc::F_GETLK || cmd == F_OFD_GETLK {
                if fl.l_type != libc::F_UNLCK as i16 {
                    // The holder is outside the VM: the program sees no pid it could name.
                    fl.l_pid = if cmd == F_OFD_GETLK { -1 } else { 0 };
                }
                write_struct(task, a[2], &fl)?;
            }
            Ok(0)
        }
        libc::F_GETPIPE_SZ | libc::F_SETPIPE_SZ | libc::F_ADD_SEALS | libc::F_GET_SEALS => {
            // SAFETY: integer argument, plain host call.
            host(unsafe { libc::fcntl(h, cmd, a[2] as i32) } as isize)
        }
        _ => err(libc::EINVAL),
    }
}

/// flock(2).
pub fn flock(task: &mut Task, a: Args) -> SysResult {
    let file = task.fds.file(a[0])?;
    let h = file.raw();
    // Waiting for a lock: without the process lock.
    // SAFETY: plain host call.
    host(task.unlocked(|| unsafe { libc::flock(h, a[1] as i32) }) as isize)
}

fn own(fd: i32) -> OwnedFd {
    // SAFETY: `fd` is a fresh descriptor from the host, owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// pipe2(2): a host pipe.
pub fn pipe2(task: &mut Task, a: Args) -> SysResult {
    let allowed = libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_DIRECT;
    if a[1] as i32 & !allowed != 0 {
        return err(libc::EINVAL);
    }
    let mut p = [0i32; 2];
    let flags = (a[1] as i32 & (libc::O_NONBLOCK | libc::O_DIRECT)) | libc::O_CLOEXEC;
    // SAFETY: `p` has room for two fds.
    host(unsafe { libc::pipe2(p.as_mut_ptr(), flags) } as isize)?;
    let (r, w) = (own(p[0]), own(p[1]));
    let cloexec = a[1] as i32 & libc::O_CLOEXEC != 0;
    if task
        .fds
        .lowest_free(0)
        .is_ok_and(|f| f + 1 >= task.fds.limit())
    {
        return err(libc::EMFILE);
    }
    let fr = task.fds.install(OpenFile::owned(r, None, true), cloexec)?;
    let fw = task.fds.install(OpenFile::owned(w, None, true), cloexec)?;
    if let Err(e) = task.mm.write_obj(a[0], &[fr as i32, fw as i32]) {
        task.fds.fds[fr as usize] = None;
        task.fds.fds[fw as usize] = None;
        return Err(e.into());
    }
    Ok(0)
}

/// pipe(2).
pub fn pipe(task: &mut Task, a: Args) -> SysResult {
    pipe2(task, [a[0], 0, 0, 0, 0, 0])
}

/// eventfd2(2): a host eventfd.
pub fn eventfd2(task: &mut Task, a: Args) -> SysResult {
    let allowed = libc::EFD_CLOEXEC | libc::EFD_NONBLOCK | libc::EFD_SEMAPHORE;
    if a[1] as i32 & !allowed != 0 {
        return err(libc::EINVAL);
    }
    // SAFETY: plain host call.
    let fd = host(unsafe { libc::eventfd(a[0] as u32, a[1] as i32 | libc::EFD_CLOEXEC) } as isize)?;
    let file = OpenFile::owned(own(fd as i32), None, true);
    task.fds.install(file, a[1] as i32 & libc::EFD_CLOEXEC != 0)
}

/// eventfd(2).
pub fn eventfd(task: &mut Task, a: Args) -> SysResult {
    eventfd2(task, [a[0], 0, 0, 0, 0, 0])
}

/// memfd_create(2): a host memfd.
pub fn memfd_create(task: &mut Task, a: Args) -> SysResult {
    let name = task.mm.read_cstr(a[0])?;
    if name.len() > 249 {
        return err(libc::EINVAL);
    }
    let allowed = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING | libc::MFD_NOEXEC_SEAL;
    if a[1] as u32 & !allowed != 0 {
        return err(libc::EINVAL);
    }
    let c = std::ffi::CString::new(name.clone()).map_err(|_| SysError::Errno(libc::EINVAL))?;
    // SAFETY: `c` is a valid C string.
    let fd =
        host(unsafe { libc::memfd_create(c.as_ptr(), a[1] as u32 | libc::MFD_CLOEXEC) } as isize)?;
    let path = [&b"/memfd:"[..], &name, b" (deleted)"].concat();
    let file = OpenFile::owned(own(fd as i32), Some(path), true);
    task.fds.install(file, a[1] as u32 & libc::MFD_CLOEXEC != 0)
}

/// fsync(2).
pub fn fsync(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    // SAFETY: plain host call.
    host(unsafe { libc::fsync(h) } as isize)
}

/// fdatasync(2).
pub fn fdatasync(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    // SAFETY: plain host call.
    host(unsafe { libc::fdatasync(h) } as isize)
}

/// sync_file_range(2).
pub fn sync_file_range(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    // SAFETY: plain host call.
    host(unsafe { libc::sync_file_range(h, a[1] as i64, a[2] as i64, a[3] as u32) } as isize)
}

/// fadvise64(2).
pub fn fadvise64(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    // SAFETY: plain host call; it returns the error number itself.
    let r = unsafe { libc::posix_fadvise(h, a[1] as i64, a[2] as i64, a[3] as i32) };
    if r != 0 {
        return err(r);
    }
    Ok(0)
}

/// ftruncate(2).
pub fn ftruncate(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    if (a[1] as i64) < 0 {
        return err(libc::EINVAL);
    }
    fsize_grow(task, h, a[1])?;
    // SAFETY: plain host call.
    let r = host(unsafe { libc::ftruncate(h, a[1] as i64) } as isize)?;
    task.mm.truncated(h, a[1]);
    Ok(r)
}

/// fallocate(2).
pub fn fallocate(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    if a[1] as i32 & libc::FALLOC_FL_KEEP_SIZE == 0 && (a[2] as i64) >= 0 && (a[3] as i64) > 0 {
        fsize_grow(task, h, a[2].saturating_add(a[3]))?;
    }
    // SAFETY: plain host call.
    host(unsafe { libc::fallocate(h, a[1] as i32, a[2] as i64, a[3] as i64) } as isize)
}

fn writable_file(task: &Task, fd: u64) -> Result<i32, SysError> {
    let f = task.fds.file(fd)?;
    if !f.writable {
        return err(libc::EROFS);
    }
    Ok(f.raw())
}

/// fchmod(2).
pub fn fchmod(task: &mut Task, a: Args) -> SysResult {
    let h = task.fds.get(a[0])?;
    let Ok(st) = crate::policy::fstat(h) else {
        return err(libc::EBADF);
    };
    let h = writable_file(task, a[0])?;
    let dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    let mode = super::path::without_setid(a[1] as u32 & 0o7777, dir);
    // SAFETY: plain host call.
    host(unsafe { libc::fchmod(h, mode) } as isize)
}

/// fchown(2).
pub fn fchown(task: &mut Task, a: Args) -> SysResult {
    let h = writable_file(task, a[0])?;
    // SAFETY: plain host call.
    host(unsafe { libc::fchown(h, a[1] as u32, a[2] as u32) } as isize)
}

fn read_off(task: &mut Task, at: u64) -> Result<Option<i64>, SysError> {
    if at == 0 {
        return Ok(None);
    }
    let v: i64 = read_struct(task, at)?;
    if v < 0 {
        return err(libc::EINVAL);
    }
    Ok(Some(v))
}

/// sendfile(2): host to host.
pub fn sendfile(task: &mut Task, a: Args) -> SysResult {
    let (out, inp) = (task.fds.get(a[0])?, task.fds.get(a[1])?);
    let mut off = read_off(task, a[2])?;
    let count = fsize_clip(task, out, None, a[3].min(0x7fff_f000))?;
    let p = off.as_mut().map_or(std::ptr::null_mut(), |o| o as *mut i64);
    // SAFETY: `p` is null or points to `off`.
    let r = host(unsafe { libc::sendfile(out, inp, p, count as usize) });
    if let Some(o) = off {
        task.mm.write_obj(a[2], &o)?;
    }
    r
}

/// copy_file_range(2): host to host.
pub fn copy_file_range(task: &mut Task, a: Args) -> SysResult {
    let (inp, out) = (task.fds.get(a[0])?, task.fds.get(a[2])?);
    let mut oi = read_off(task, a[1])?;
    let mut oo = read_off(task, a[3])?;
    let count = fsize_clip(task, out, oo, a[4].min(0x7fff_f000))?;
    let pi = oi.as_mut().map_or(std::ptr::null_mut(), |o| o as *mut i64);
    let po = oo.as_mut().map_or(std::ptr::null_mut(), |o| o as *mut i64);
    // SAFETY: the offsets are null or point to locals.
    let r = host(
        unsafe { libc::copy_file_range(inp, pi, out, po, count as usize, a[5] as u32) } as isize,
    );
    if let Some(o) = oi {
        task.mm.write_obj(a[1], &o)?;
    }
    if let Some(o) = oo {
        task.mm.write_obj(a[3], &o)?;
    }
    r
}

/// getdents64(2): the host's entries (without hidden ones), or a synthesized listing.
pub fn getdents64(task: &mut Task, a: Args) -> SysResult {
    let f = task.fds.file(a[0])?;
    let cap = (a[2] as usize).min(1 << 20);
    let mut out = Vec::with_capacity(cap);
    let put = |out: &mut Vec<u8>, ino: u64, off: i64, ty: u8, name: &[u8]| -> bool {
        let len = (19 + name.len() + 1).next_multiple_of(8);
        if out.len() + len > cap {
            return false;
        }
        out.extend_from_slice(&ino.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.push(ty);
        out.extend_from_slice(name);
        out.resize(out.len() + len - 19 - name.len(), 0);
        true
    };
    if let Some((entries, pos)) = &f.listing {
        let mut i = pos.load(Ordering::Relaxed);
        while let Some((name, ty)) = entries.get(i) {
            if !put(&mut out, 1000 + i as u64, i as i64 + 1, *ty, name) {
                break;
            }
            i += 1;
        }
        if out.is_empty() && i < entries.len() {
            return err(libc::EINVAL);
        }
        pos.store(i, Ordering::Relaxed);
    } else {
        let dir = f.path.clone().unwrap_or_default();
        let mut buf = vec![0u8; cap];
        loop {
            // SAFETY: `buf` is valid for `cap` bytes.
            let n =
                host(
                    unsafe { libc::syscall(libc::SYS_getdents64, f.raw(), buf.as_mut_ptr(), cap) }
                        as isize,
                )? as usize;
            if n == 0 {
                break;
            }
            let mut at = 0;
            while at + 19 <= n {
                let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
                let rec = &buf[at..at + reclen];
                let name = &rec[19..];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                if !task.fs.hidden_entry(&dir, name) {
                    out.extend_from_slice(rec);
                }
                at += reclen;
            }
            if !out.is_empty() {
                break;
            }
        }
    }
    task.mm.write(a[1], &out)?;
    Ok(out.len() as u64)
}

/// Joins `path` onto `cwd` and removes `.`, `..` and repeated slashes. Paths are bytes, as
/// Linux names are: nothing here asks them to be UTF-8.
pub fn normalize(cwd: &[u8], path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let relative = !path.starts_with(b"/");
    let base = if relative { cwd } else { &[][..] };
    for c in base.split(|&b| b == b'/').chain(path.split(|&b| b == b'/')) {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    join(&parts)
}

/// `normalize` of text (paths from mvm's command line): `/` is ASCII, so UTF-8 in is UTF-8 out.
pub fn normalize_text(cwd: &str, path: &str) -> String {
    String::from_utf8_lossy(&normalize(cwd.as_bytes(), path.as_bytes())).into_owned()
}

/// `/` and `parts` joined by `/`: an absolute guest path.
pub fn join<T: AsRef<[u8]>>(parts: &[T]) -> Vec<u8> {
    let mut p = Vec::with_capacity(parts.iter().map(|c| c.as_ref().len() + 1).sum::<usize>() + 1);
    for c in parts {
        p.push(b'/');
        p.extend_from_slice(c.as_ref());
    }
    if p.is_empty() {
        p.push(b'/');
    }
    p
}

/// A path as text for mvm's own messages: as it is where it is UTF-8, each byte that is not
/// (and each control character but `\t \n \r`) as `\xNN`, strace's escapes, so the name shown tells the bytes
/// the program used and cannot move the terminal's cursor.
pub fn shown(p: &[u8]) -> String {
    let mut s = String::with_capacity(p.len());
    let hex = |s: &mut String, b: u8| s.push_str(&format!("\\x{b:02x}"));
    for chunk in p.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\t' => s.push_str("\\t"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\0'..='\x1f' | '\x7f' => hex(&mut s, c as u8),
                c => s.push(c),
            }
        }
        for &b in chunk.invalid() {
            hex(&mut s, b);
        }
    }
    s
}

/// timerfd_create(2): a host timerfd (the program's clocks are the host's).
pub fn timerfd_create(task: &mut Task, a: Args) -> SysResult {
    let clock = a[0] as i32;
    if !matches!(
        clock,
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME
    ) {
        // The *_ALARM clocks need CAP_WAKE_ALARM on the host, which a program does not get.
        return err(
            if clock == libc::CLOCK_REALTIME_ALARM || clock == libc::CLOCK_BOOTTIME_ALARM {
                libc::EPERM
            } else {
                libc::EINVAL
            },
        );
    }
    let flags = a[1] as i32;
    if flags & !(libc::TFD_CLOEXEC | libc::TFD_NONBLOCK) != 0 {
        return err(libc::EINVAL);
    }
    // SAFETY: plain host call.
    let fd = host(unsafe { libc::timerfd_create(clock, flags | libc::TFD_CLOEXEC) } as isize)?;
    let file = OpenFile::owned(own(fd as i32), Some("anon_inode:[timerfd]".into()), false);
    task.fds.install(file, flags & libc::TFD_CLOEXEC != 0)
}

/// timerfd_settime(2).
pub fn timerfd_settime(task: &mut Task, a: Args) -> SysResult {
    let fd = task.fds.get(a[0])?;
    let new: [i64; 4] = task.mm.read_obj(a[2])?;
    let spec = itimerspec(new);
    let mut old = itimerspec([0; 4]);
    // SAFETY: both structs are valid for the call.
    host(unsafe { libc::timerfd_settime(fd, a[1] as i32, &spec, &mut old) } as isize)?;
    if a[3] != 0 {
        task.mm.write_obj(a[3], &from_itimerspec(&old))?;
    }
    Ok(0)
}

/// timerfd_gettime(2).
pub fn timerfd_gettime(task: &mut Task, a: Args) -> SysResult {
    let fd = task.fds.get(a[0])?;
    let mut cur = itimerspec([0; 4]);
    // SAFETY: `cur` is valid for writing.
    host(unsafe { libc::timerfd_gettime(fd, &mut cur) } as isize)?;
    task.mm.write_obj(a[1], &from_itimerspec(&cur))?;
    Ok(0)
}

fn itimerspec(v: [i64; 4]) -> libc::itimerspec {
    libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: v[0],
            tv_nsec: v[1],
        },
        it_value: libc::timespec {
            tv_sec: v[2],
            tv_nsec: v[3],
        },
    }
}

fn from_itimerspec(s: &libc::itimerspec) -> [i64; 4] {
    [
        s.it_interval.tv_sec,
        s.it_interval.tv_nsec,
        s.it_value.tv_sec,
        s.it_value.tv_nsec,
    ]
}

/// tee(2): host to host, between pipes (it may block: made without the process lock).
pub fn tee(task: &mut Task, a: Args) -> SysResult {
    let (inp, out) = (task.fds.file(a[0])?, task.fds.file(a[1])?);
    let (i, o) = (inp.raw(), out.raw());
    let (len, flags) = (a[2] as usize, a[3] as u32);
    let r = task.unlocked(move || {
        // SAFETY: plain host call on descriptors the open files hold.
        unsafe { libc::tee(i, o, len, flags) }
    });
    host(r)
}

/// splice(2): host to host (one side a pipe); it may block, so it is made without the process
/// lock, with the offsets in mvm's memory.
pub fn splice(task: &mut Task, a: Args) -> SysResult {
    let (inp, out) = (task.fds.file(a[0])?, task.fds.file(a[2])?);
    let (i, o) = (inp.raw(), out.raw());
    let mut oi = read_off(task, a[1])?;
    let mut oo = read_off(task, a[3])?;
    let (len, flags) = (a[4] as usize, a[5] as u32);
    let r = task.unlocked(|| {
        let pi = oi.as_mut().map_or(std::ptr::null_mut(), |o| o as *mut i64);
        let po = oo.as_mut().map_or(std::ptr::null_mut(), |o| o as *mut i64);
        // SAFETY: the offsets are null or point to locals; plain host call.
        unsafe { libc::splice(i, pi, o, po, len, flags) }
    });
    if let Some(v) = oi {
        task.mm.write_obj(a[1], &v)?;
    }
    if let Some(v) = oo {
        task.mm.write_obj(a[3], &v)?;
    }
    let r = host(r);
    if let Err(SysError::Errno(libc::EPIPE)) = r {
        return super::signal::raise(task, libc::SIGPIPE).and(r);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::{normalize, shown};

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize(b"/a/b", b"../c/./d//"), b"/a/c/d");
        assert_eq!(normalize(b"/a", b"/x/../../y"), b"/y");
        assert_eq!(normalize(b"/", b"."), b"/");
        assert_eq!(normalize(b"/", b""), b"/");
        // Names are bytes: nothing but `/` splits them, whatever else they hold.
        assert_eq!(normalize(b"/\xff", b"a\x80/../\xc3("), b"/\xff/\xc3(");
    }

    #[test]
    fn a_path_is_shown_with_its_bytes_that_are_not_utf8_escaped() {
        assert_eq!(shown(b"/tmp/caf\xc3\xa9"), "/tmp/caf\u{e9}");
        assert_eq!(shown(b"/tmp/\xff\xc3(x"), "/tmp/\\xff\\xc3(x");
        assert_eq!(shown(b"/bin/sh\r"), "/bin/sh\\r");
        assert_eq!(shown(b"a\nb\x1b"), "a\\nb\\x1b");
    }
}
