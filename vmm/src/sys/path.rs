//! The syscalls that name paths: open, stat, readlink, access, mkdir, unlink, rename, links,
//! chmod/chown, truncate, utimensat, statfs, the working directory and umask. Every path goes
//! through the filesystem view (`policy::FsView`), which resolves it inside its mount and hands
//! back host fds; `*at` calls resolve relative to the guest path of their directory fd.
//! Paths under `/proc` and `/dev` are synthesized (`procfs`).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use super::fs::{read_struct, write_struct, OpenFile};
use super::{err, host, procfs, Args, SysError, SysResult};
use crate::policy::{fstat, readlink_fd, Resolved};
use crate::task::Task;

fn errno(e: i32) -> SysError {
    SysError::Errno(e)
}

/// Reads a path argument: bytes, whatever they are (a Linux name is any bytes but NUL and `/`).
pub fn path_arg(task: &mut Task, at: u64) -> Result<Vec<u8>, SysError> {
    let b = task.mm.read_cstr(at)?;
    if b.len() >= libc::PATH_MAX as usize {
        return err(libc::ENAMETOOLONG);
    }
    Ok(b)
}

/// The guest directory a relative `path` of an `*at` call starts from.
fn base(task: &Task, dirfd: u64, path: &[u8]) -> Result<Vec<u8>, SysError> {
    if path.starts_with(b"/") {
        return Ok(b"/".to_vec());
    }
    if dirfd as i32 == libc::AT_FDCWD {
        return Ok(task.cwd.clone());
    }
    let f = task.fds.file(dirfd as i32 as u64)?;
    let st = fstat(f.raw()).map_err(errno)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return err(libc::ENOTDIR);
    }
    f.path.clone().ok_or(errno(libc::ENOTDIR))
}

/// What an `*at` call operates on.
enum At {
    /// A path in the view.
    Path(Resolved),
    /// The descriptor itself (`AT_EMPTY_PATH`).
    Fd(Arc<OpenFile>),
}

fn resolve_at(
    task: &mut Task,
    dirfd: u64,
    path: u64,
    follow: bool,
    empty_ok: bool,
) -> Result<At, SysError> {
    let p = path_arg(task, path)?;
    if p.is_empty() {
        if !empty_ok {
            return err(libc::ENOENT);
        }
        if dirfd as i32 == libc::AT_FDCWD {
            let cwd = task.cwd.clone();
            return Ok(At::Path(task.fs.resolve(b"/", &cwd, true).map_err(errno)?));
        }
        return Ok(At::Fd(task.fds.file(dirfd as i32 as u64)?));
    }
    let b = base(task, dirfd, &p)?;
    Ok(At::Path(task.fs.resolve(&b, &p, follow).map_err(errno)?))
}

fn resolve_path(
    task: &mut Task,
    dirfd: u64,
    path: u64,
    follow: bool,
) -> Result<Resolved, SysError> {
    match resolve_at(task, dirfd, path, follow, false)? {
        At::Path(r) => Ok(r),
        At::Fd(_) => err(libc::ENOENT),
    }
}

// ---- open ----------------------------------------------------------------------------------

/// A path the program did not find: if it lies under the working directory the view shows
/// empty and the host has it, the run's end gives a hint (`Machine::hint`).
fn missed(task: &mut Task, dirfd: u64, path: u64) {
    let Some(cwd) = task.fs.empty_cwd.clone() else {
        return;
    };
    if task.machine.hint.lock().unwrap().is_some() {
        return;
    }
    let Ok(p) = path_arg(task, path) else { return };
    let Ok(b) = base(task, dirfd, &p) else { return };
    let guest = super::fs::normalize(&b, &p);
    let under = guest == cwd || guest.starts_with(&[&cwd[..], b"/"].concat());
    // (A stat of a host path: Landlock confines opening, not looking.)
    let host = std::path::Path::new(std::ffi::OsStr::from_bytes(&guest));
    if under && host.exists() {
        let (guest, cwd) = (super::fs::shown(&guest), super::fs::shown(&cwd));
        *task.machine.hint.lock().unwrap() = Some(format!(
            "{guest} exists on the host but not in the program's view, where {cwd} is an empty directory; -v {cwd}:{cwd} would show it"
        ));
    }
}

/// The run's files are `nosuid`, as Docker users expect of what a container can leave on the
/// host: set-user-ID is never stored, set-group-ID only on directories (where it means the
/// group new entries get, not privilege).
pub fn without_setid(mode: u32, dir: bool) -> u32 {
    let mut m = mode & !libc::S_ISUID;
    if !dir {
        m &= !libc::S_ISGID;
    }
    m
}

fn do_open(task: &mut Task, dirfd: u64, path: u64, flags: i32, mode: u32) -> SysResult {
    let r = open_at(task, dirfd, path, flags, without_setid(mode, false));
    if let Err(SysError::Errno(libc::ENOENT)) = r {
        missed(task, dirfd, path);
    }
    r
}

fn open_at(task: &mut Task, dirfd: u64, path: u64, flags: i32, mode: u32) -> SysResult {
    let excl_create = flags & (libc::O_CREAT | libc::O_EXCL) == libc::O_CREAT | libc::O_EXCL;
    let follow = flags & libc::O_NOFOLLOW == 0 && !excl_create;
    let r = resolve_path(task, dirfd, path, follow)?;
    let cloexec = flags & libc::O_CLOEXEC != 0;
    let file = if task.fs.synthesized(&r).is_some() {
        procfs::open(task, &r, flags)?
    } else {
        let fd = task.fs.open(&r, flags, mode).map_err(errno)?;
        let writable = task.fs.mount(&r).rw;
        OpenFile::owned(fd, Some(r.guest), writable)
    };
    task.fds.install(file, cloexec)
}

/// openat(2).
pub fn openat(task: &mut Task, a: Args) -> SysResult {
    do_open(task, a[0], a[1], a[2] as i32, a[3] as u32)
}

/// open(2).
pub fn open(task: &mut Task, a: Args) -> SysResult {
    do_open(task, libc::AT_FDCWD as u64, a[0], a[1] as i32, a[2] as u32)
}

/// creat(2).
pub fn creat(task: &mut Task, a: Args) -> SysResult {
    let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC;
    do_open(task, libc::AT_FDCWD as u64, a[0], flags, a[1] as u32)
}

/// openat2(2): the flags as openat; of the `resolve` flags, RESOLVE_NO_SYMLINKS (last
/// component), RESOLVE_BENEATH and RESOLVE_IN_ROOT (no absolute path, no `..` above the start).
pub fn openat2(task: &mut Task, a: Args) -> SysResult {
    if a[3] < 24 {
        return err(libc::EINVAL);
    }
    let how: [u64; 3] = task.mm.read_obj(a[2])?;
    if how[0] >> 32 != 0 || how[1] >> 12 != 0 || how[2] & !0x3f != 0 {
        return err(libc::EINVAL);
    }
    let flags = how[0] as i32;
    if flags & (libc::O_CREAT | libc::O_TMPFILE) == 0 && how[1] != 0 {
        return err(libc::EINVAL);
    }
    let p = path_arg(task, a[1])?;
    let confined = libc::RESOLVE_BENEATH | libc::RESOLVE_IN_ROOT;
    if how[2] & confined != 0
        && (p.starts_with(b"/")
            || p.split(|&b| b == b'/')
                .try_fold(0i32, |d, c| match c {
                    b"" | b"." => Some(d),
                    b".." if d == 0 => None,
                    b".." => Some(d - 1),
                    _ => Some(d + 1),
                })
                .is_none())
    {
        return err(libc::EXDEV);
    }
    let flags = if how[2] & libc::RESOLVE_NO_SYMLINKS != 0 {
        flags | libc::O_NOFOLLOW
    } else {
        flags
    };
    do_open(task, a[0], a[1], flags, how[1] as u32)
}

// ---- stat ----------------------------------------------------------------------------------

fn stat_of(task: &mut Task, r: &Resolved) -> Result<libc::stat, SysError> {
    if task.fs.synthesized(r).is_some() {
        return procfs::stat(task, r);
    }
    let fd = task.fs.path_fd(r).map_err(errno)?;
    fstat(fd.as_raw_fd()).map_err(errno)
}

fn stat_at(task: &mut Task, dirfd: u64, path: u64, flags: u64) -> Result<libc::stat, SysError> {
    let allowed = libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT;
    if flags & !(allowed as u64) != 0 {
        return err(libc::EINVAL);
    }
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let empty = flags & libc::AT_EMPTY_PATH as u64 != 0;
    let r = match resolve_at(task, dirfd, path, follow, empty) {
        Ok(At::Path(r)) => stat_of(task, &r),
        Ok(At::Fd(f)) => fstat(f.raw()).map_err(errno),
        Err(e) => Err(e),
    };
    if let Err(SysError::Errno(libc::ENOENT)) = r {
        missed(task, dirfd, path);
    }
    r
}

/// newfstatat(2).
pub fn newfstatat(task: &mut Task, a: Args) -> SysResult {
    let st = stat_at(task, a[0], a[1], a[3])?;
    write_struct(task, a[2], &st)
}

/// stat(2).
pub fn stat(task: &mut Task, a: Args) -> SysResult {
    let st = stat_at(task, libc::AT_FDCWD as u64, a[0], 0)?;
    write_struct(task, a[1], &st)
}

/// lstat(2).
pub fn lstat(task: &mut Task, a: Args) -> SysResult {
    let st = stat_at(
        task,
        libc::AT_FDCWD as u64,
        a[0],
        libc::AT_SYMLINK_NOFOLLOW as u64,
    )?;
    write_struct(task, a[1], &st)
}

fn statx_of_stat(st: &libc::stat) -> libc::statx {
    // SAFETY: plain struct, zero is valid.
    let mut x: libc::statx = unsafe { std::mem::zeroed() };
    x.stx_mask = libc::STATX_BASIC_STATS;
    x.stx_blksize = st.st_blksize as u32;
    x.stx_nlink = st.st_nlink as u32;
    x.stx_uid = st.st_uid;
    x.stx_gid = st.st_gid;
    x.stx_mode = st.st_mode as u16;
    x.stx_ino = st.st_ino;
    x.stx_size = st.st_size as u64;
    x.stx_blocks = st.st_blocks as u64;
    x.stx_atime.tv_sec = st.st_atime;
    x.stx_mtime.tv_sec = st.st_mtime;
    x.stx_ctime.tv_sec = st.st_ctime;
    x.stx_rdev_major = libc::major(st.st_rdev);
    x.stx_rdev_minor = libc::minor(st.st_rdev);
    x.stx_dev_major = libc::major(st.st_dev);
    x.stx_dev_minor = libc::minor(st.st_dev);
    x
}

fn host_statx(fd: i32, flags: u64, mask: u32) -> Result<libc::statx, SysError> {
    // SAFETY: plain struct filled by the host.
    let mut x: libc::statx = unsafe { std::mem::zeroed() };
    let flags = libc::AT_EMPTY_PATH | (flags as i32 & libc::AT_STATX_SYNC_TYPE);
    // SAFETY: valid empty path and output struct.
    let r = unsafe { libc::statx(fd, c"".as_ptr(), flags, mask, &mut x) };
    host(r as isize)?;
    Ok(x)
}

/// statx(2).
pub fn statx(task: &mut Task, a: Args) -> SysResult {
    let allowed = libc::AT_SYMLINK_NOFOLLOW
        | libc::AT_EMPTY_PATH
        | libc::AT_NO_AUTOMOUNT
        | libc::AT_STATX_SYNC_TYPE;
    if a[2] & !(allowed as u64) != 0 || a[3] & libc::STATX__RESERVED as u64 != 0 {
        return err(libc::EINVAL);
    }
    let follow = a[2] & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let empty = a[2] & libc::AT_EMPTY_PATH as u64 != 0;
    let x = match resolve_at(task, a[0], a[1], follow, empty)? {
        At::Fd(f) => host_statx(f.raw(), a[2], a[3] as u32)?,
        At::Path(r) if task.fs.synthesized(&r).is_some() => statx_of_stat(&procfs::stat(task, &r)?),
        At::Path(r) => {
            let fd = task.fs.path_fd(&r).map_err(errno)?;
            host_statx(fd.as_raw_fd(), a[2], a[3] as u32)?
        }
    };
    write_struct(task, a[4], &x)
}

/// statfs(2).
pub fn statfs(task: &mut Task, a: Args) -> SysResult {
    let r = resolve_path(task, libc::AT_FDCWD as u64, a[0], true)?;
    let fd = if task.fs.synthesized(&r).is_some() {
        procfs::stat(task, &r)?;
        task.fs.empty_dir().map_err(errno)?
    } else {
        task.fs.path_fd(&r).map_err(errno)?
    };
    // SAFETY: plain struct filled by the host.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is valid for writing.
    host(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) } as isize)?;
    write_struct(task, a[1], &st)
}

// ---- links ---------------------------------------------------------------------------------

/// readlinkat(2).
pub fn readlinkat(task: &mut Task, a: Args) -> SysResult {
    if (a[3] as i64) <= 0 {
        return err(libc::EINVAL);
    }
    let r = resolve_path(task, a[0], a[1], false)?;
    let target = if task.fs.synthesized(&r).is_some() {
        procfs::readlink(task, &r)?
    } else {
        let fd = task.fs.path_fd(&r).map_err(errno)?;
        let st = fstat(fd.as_raw_fd()).map_err(errno)?;
        if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
            return err(libc::EINVAL);
        }
        readlink_fd(fd.as_raw_fd()).map_err(errno)?
    };
    let b = &target[..];
    let n = b.len().min(a[3] as usize);
    task.mm.write(a[2], &b[..n])?;
    Ok(n as u64)
}

/// readlink(2).
pub fn readlink(task: &mut Task, a: Args) -> SysResult {
    readlinkat(task, [libc::AT_FDCWD as u64, a[0], a[1], a[2], 0, 0])
}

/// The parent fd and name of `r` for a call that creates it: EEXIST before EROFS, as Linux.
fn for_create(task: &Task, r: &Resolved) -> Result<(OwnedFd, CString), SysError> {
    if task.fs.synthesized(r).is_some() || r.rel == b"." {
        return err(libc::EEXIST);
    }
    let (pfd, name) = task.fs.parent(r, false).map_err(errno)?;
    if task.fs.check_writable(r).is_err() {
        return err(if exists(&pfd, &name) {
            libc::EEXIST
        } else {
            libc::EROFS
        });
    }
    Ok((pfd, name))
}

/// The parent fd and name of `r` for a call that removes or changes it: ENOENT before EROFS.
fn for_change(task: &Task, r: &Resolved, root_err: i32) -> Result<(OwnedFd, CString), SysError> {
    if task.fs.synthesized(r).is_some() {
        return err(libc::EROFS);
    }
    if r.rel == b"." {
        return err(root_err);
    }
    let (pfd, name) = task.fs.parent(r, false).map_err(errno)?;
    if !exists(&pfd, &name) {
        return err(libc::ENOENT);
    }
    task.fs.check_writable(r).map_err(errno)?;
    Ok((pfd, name))
}

fn exists(dir: &OwnedFd, name: &CString) -> bool {
    // SAFETY: plain struct filled by the host.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd, name and output.
    unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        ) == 0
    }
}

/// symlinkat(2).
pub fn symlinkat(task: &mut Task, a: Args) -> SysResult {
    let target = task.mm.read_cstr(a[0])?;
    if target.is_empty() {
        return err(libc::ENOENT);
    }
    let target = CString::new(target).map_err(|_| errno(libc::EINVAL))?;
    let r = resolve_path(task, a[1], a[2], false)?;
    let (pfd, name) = for_create(task, &r)?;
    // SAFETY: valid strings and fd.
    host(unsafe { libc::symlinkat(target.as_ptr(), pfd.as_raw_fd(), name.as_ptr()) } as isize)
}

/// symlink(2).
pub fn symlink(task: &mut Task, a: Args) -> SysResult {
    symlinkat(task, [a[0], libc::AT_FDCWD as u64, a[1], 0, 0, 0])
}

/// linkat(2): within one mount (EXDEV across mounts, as across filesystems).
pub fn linkat(task: &mut Task, a: Args) -> SysResult {
    let allowed = libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH;
    if a[4] & !(allowed as u64) != 0 {
        return err(libc::EINVAL);
    }
    let follow = a[4] & libc::AT_SYMLINK_FOLLOW as u64 != 0;
    let old = match resolve_at(
        task,
        a[0],
        a[1],
        follow,
        a[4] & libc::AT_EMPTY_PATH as u64 != 0,
    )? {
        At::Path(r) => r,
        At::Fd(_) => return err(libc::EPERM),
    };
    let new = resolve_path(task, a[2], a[3], false)?;
    if task.fs.synthesized(&old).is_some() {
        return err(libc::EXDEV);
    }
    let (nfd, nname) = for_create(task, &new)?;
    if old.mount != new.mount {
        return err(libc::EXDEV);
    }
    let (ofd, oname) = task
        .fs
        .parent(&old, false)
        .map_err(|e| errno(if e == libc::EBUSY { libc::EPERM } else { e }))?;
    // SAFETY: valid strings and fds; no flag: a symlink `old` is linked itself.
    host(unsafe {
        libc::linkat(
            ofd.as_raw_fd(),
            oname.as_ptr(),
            nfd.as_raw_fd(),
            nname.as_ptr(),
            0,
        )
    } as isize)
}

/// link(2).
pub fn link(task: &mut Task, a: Args) -> SysResult {
    let cwd = libc::AT_FDCWD as u64;
    linkat(task, [cwd, a[0], cwd, a[1], 0, 0])
}

// ---- directories and names -----------------------------------------------------------------

/// mkdirat(2).
pub fn mkdirat(task: &mut Task, a: Args) -> SysResult {
    let r = resolve_path(task, a[0], a[1], false)?;
    let (pfd, name) = for_create(task, &r)?;
    let mode = a[2] as u32 & 0o7777 & !task.fs.umask;
    // SAFETY: valid fd and name.
    host(unsafe { libc::mkdirat(pfd.as_raw_fd(), name.as_ptr(), mode) } as isize)
}

/// mkdir(2).
pub fn mkdir(task: &mut Task, a: Args) -> SysResult {
    mkdirat(task, [libc::AT_FDCWD as u64, a[0], a[1], 0, 0, 0])
}

/// mknodat(2): FIFOs, regular files and socket files in a writable mount; device nodes need a
/// privilege the program lacks (EPERM).
pub fn mknodat(task: &mut Task, a: Args) -> SysResult {
    let mode = a[2] as u32;
    let kind = match mode & libc::S_IFMT {
        0 => libc::S_IFREG,
        k @ (libc::S_IFREG | libc::S_IFIFO | libc::S_IFSOCK) => k,
        libc::S_IFCHR | libc::S_IFBLK => return err(libc::EPERM),
        _ => return err(libc::EINVAL),
    };
    let r = resolve_path(task, a[0], a[1], false)?;
    let (pfd, name) = for_create(task, &r)?;
    let perm = without_setid(mode & 0o7777 & !task.fs.umask, false);
    // SAFETY: valid fd and name; no device number (not a device node).
    host(unsafe { libc::mknodat(pfd.as_raw_fd(), name.as_ptr(), kind | perm, 0) } as isize)
}

/// mknod(2).
pub fn mknod(task: &mut Task, a: Args) -> SysResult {
    mknodat(task, [libc::AT_FDCWD as u64, a[0], a[1], a[2], 0, 0])
}

/// unlinkat(2).
pub fn unlinkat(task: &mut Task, a: Args) -> SysResult {
    if a[2] & !(libc::AT_REMOVEDIR as u64) != 0 {
        return err(libc::EINVAL);
    }
    let p = path_arg(task, a[1])?;
    let rmdir = a[2] != 0;
    if rmdir && (p == b"." || p.ends_with(b"/.")) {
        return err(libc::EINVAL);
    }
    let r = resolve_path(task, a[0], a[1], false)?;
    let root_err = if rmdir { libc::EBUSY } else { libc::EISDIR };
    let (pfd, name) = for_change(task, &r, root_err)?;
    // SAFETY: valid fd and name.
    host(unsafe { libc::unlinkat(pfd.as_raw_fd(), name.as_ptr(), a[2] as i32) } as isize)
}

/// unlink(2).
pub fn unlink(task: &mut Task, a: Args) -> SysResult {
    unlinkat(task, [libc::AT_FDCWD as u64, a[0], 0, 0, 0, 0])
}

/// rmdir(2).
pub fn rmdir(task: &mut Task, a: Args) -> SysResult {
    unlinkat(
        task,
        [
            libc::AT_FDCWD as u64,
            a[0],
            libc::AT_REMOVEDIR as u64,
            0,
            0,
            0,
        ],
    )
}

/// renameat2(2): within one mount (EXDEV across mounts).
pub fn renameat2(task: &mut Task, a: Args) -> SysResult {
    let allowed = libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE | libc::RENAME_WHITEOUT;
    if a[4] as u32 & !allowed != 0 {
        return err(libc::EINVAL);
    }
    let old = resolve_path(task, a[0], a[1], false)?;
    let new = resolve_path(task, a[2], a[3], false)?;
    let (ofd, oname) = for_change(task, &old, libc::EBUSY)?;
    if task.fs.synthesized(&new).is_some() || new.rel == b"." {
        return err(libc::EBUSY);
    }
    let (nfd, nname) = task.fs.parent(&new, true).map_err(errno)?;
    if old.mount != new.mount {
        return err(libc::EXDEV);
    }
    // SAFETY: valid fds and names.
    host(unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            ofd.as_raw_fd(),
            oname.as_ptr(),
            nfd.as_raw_fd(),
            nname.as_ptr(),
            a[4] as u32,
        )
    } as isize)
}

/// renameat(2).
pub fn renameat(task: &mut Task, a: Args) -> SysResult {
    renameat2(task, [a[0], a[1], a[2], a[3], 0, 0])
}

/// rename(2).
pub fn rename(task: &mut Task, a: Args) -> SysResult {
    let cwd = libc::AT_FDCWD as u64;
    renameat2(task, [cwd, a[0], cwd, a[1], 0, 0])
}

// ---- metadata ------------------------------------------------------------------------------

/// An `O_PATH` fd of what an `*at` call names, checked writable (EROFS).
fn changeable(
    task: &mut Task,
    dirfd: u64,
    path: u64,
    follow: bool,
    empty: bool,
) -> Result<OwnedFd, SysError> {
    match resolve_at(task, dirfd, path, follow, empty)? {
        At::Path(r) => {
            if task.fs.synthesized(&r).is_some() {
                procfs::stat(task, &r)?;
                return err(libc::EROFS);
            }
            let fd = task.fs.path_fd(&r).map_err(errno)?;
            task.fs.check_writable(&r).map_err(errno)?;
            Ok(fd)
        }
        At::Fd(f) => {
            if !f.writable {
                return err(libc::EROFS);
            }
            // SAFETY: duplicating a descriptor mvm holds.
            let d = unsafe { libc::fcntl(f.raw(), libc::F_DUPFD_CLOEXEC, 0) };
            host(d as isize)?;
            // SAFETY: a fresh descriptor.
            Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(d) })
        }
    }
}

fn proc_path(fd: &OwnedFd) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL")
}

fn chmod_at(task: &mut Task, dirfd: u64, path: u64, mode: u64, flags: u64) -> SysResult {
    let allowed = libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH;
    if flags & !(allowed as u64) != 0 {
        return err(libc::EINVAL);
    }
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let fd = changeable(
        task,
        dirfd,
        path,
        follow,
        flags & libc::AT_EMPTY_PATH as u64 != 0,
    )?;
    let st = fstat(fd.as_raw_fd()).map_err(errno)?;
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return err(libc::EOPNOTSUPP);
    }
    // The fd pins the inode; its /proc path is mvm's own, not a guest path.
    let dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    let mode = without_setid(mode as u32 & 0o7777, dir);
    // SAFETY: valid path.
    host(unsafe { libc::chmod(proc_path(&fd).as_ptr(), mode) } as isize)
}

/// fchmodat(2).
pub fn fchmodat(task: &mut Task, a: Args) -> SysResult {
    chmod_at(task, a[0], a[1], a[2], 0)
}

/// fchmodat2(2).
pub fn fchmodat2(task: &mut Task, a: Args) -> SysResult {
    chmod_at(task, a[0], a[1], a[2], a[3])
}

/// chmod(2).
pub fn chmod(task: &mut Task, a: Args) -> SysResult {
    chmod_at(task, libc::AT_FDCWD as u64, a[0], a[1], 0)
}

/// fchownat(2).
pub fn fchownat(task: &mut Task, a: Args) -> SysResult {
    let allowed = libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH;
    if a[4] & !(allowed as u64) != 0 {
        return err(libc::EINVAL);
    }
    let follow = a[4] & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let fd = changeable(
        task,
        a[0],
        a[1],
        follow,
        a[4] & libc::AT_EMPTY_PATH as u64 != 0,
    )?;
    // SAFETY: valid fd; the empty path names the fd's own inode.
    host(unsafe {
        libc::fchownat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            a[2] as u32,
            a[3] as u32,
            libc::AT_EMPTY_PATH,
        )
    } as isize)
}

/// chown(2).
pub fn chown(task: &mut Task, a: Args) -> SysResult {
    fchownat(task, [libc::AT_FDCWD as u64, a[0], a[1], a[2], 0, 0])
}

/// lchown(2).
pub fn lchown(task: &mut Task, a: Args) -> SysResult {
    let nofollow = libc::AT_SYMLINK_NOFOLLOW as u64;
    fchownat(task, [libc::AT_FDCWD as u64, a[0], a[1], a[2], nofollow, 0])
}

/// utimensat(2); a NULL path is the descriptor itself (futimens).
pub fn utimensat(task: &mut Task, a: Args) -> SysResult {
    if a[3] & !(libc::AT_SYMLINK_NOFOLLOW as u64 | libc::AT_EMPTY_PATH as u64) != 0 {
        return err(libc::EINVAL);
    }
    let times: Option<[libc::timespec; 2]> = if a[2] == 0 {
        None
    } else {
        Some(read_struct(task, a[2])?)
    };
    utimens(task, a, times)
}

/// utime(2): (access, modification) in whole seconds, or now.
pub fn utime(task: &mut Task, a: Args) -> SysResult {
    let times = if a[1] == 0 {
        None
    } else {
        let t: [i64; 2] = read_struct(task, a[1])?;
        Some(t.map(|s| libc::timespec {
            tv_sec: s,
            tv_nsec: 0,
        }))
    };
    utimens(task, [libc::AT_FDCWD as u64, a[0], 0, 0, 0, 0], times)
}

/// Two `struct timeval`s (utimes, futimesat) as timespecs; EINVAL for a bad microsecond count.
fn timevals(task: &mut Task, at: u64) -> Result<Option<[libc::timespec; 2]>, SysError> {
    if at == 0 {
        return Ok(None);
    }
    let t: [i64; 4] = read_struct(task, at)?;
    if !(0..1_000_000).contains(&t[1]) || !(0..1_000_000).contains(&t[3]) {
        return err(libc::EINVAL);
    }
    Ok(Some([
        libc::timespec {
            tv_sec: t[0],
            tv_nsec: t[1] * 1000,
        },
        libc::timespec {
            tv_sec: t[2],
            tv_nsec: t[3] * 1000,
        },
    ]))
}

/// utimes(2).
pub fn utimes(task: &mut Task, a: Args) -> SysResult {
    let times = timevals(task, a[1])?;
    utimens(task, [libc::AT_FDCWD as u64, a[0], 0, 0, 0, 0], times)
}

/// futimesat(2).
pub fn futimesat(task: &mut Task, a: Args) -> SysResult {
    let times = timevals(task, a[2])?;
    utimens(task, [a[0], a[1], 0, 0, 0, 0], times)
}

/// Sets the times of `a[1]` relative to `a[0]` (or of fd `a[0]` with no path), flags `a[3]`.
fn utimens(task: &mut Task, a: Args, times: Option<[libc::timespec; 2]>) -> SysResult {
    let tp = times.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
    if a[1] == 0 {
        let f = task.fds.file(a[0])?;
        if !f.writable {
            return err(libc::EROFS);
        }
        // SAFETY: `tp` is null or two timespecs; a NULL path means the fd itself.
        return host(
            unsafe { libc::syscall(libc::SYS_utimensat, f.raw(), 0usize, tp, 0) } as isize,
        );
    }
    let follow = a[3] & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let empty = a[3] & libc::AT_EMPTY_PATH as u64 != 0;
    if !follow {
        if let At::Path(r) = resolve_at(task, a[0], a[1], false, empty)? {
            if task.fs.synthesized(&r).is_none() && r.rel != b"." {
                let (pfd, name) = for_change(task, &r, libc::EBUSY)?;
                // SAFETY: valid fd, name and times; the last component is never followed.
                return host(unsafe {
                    libc::utimensat(
                        pfd.as_raw_fd(),
                        name.as_ptr(),
                        tp,
                        libc::AT_SYMLINK_NOFOLLOW,
                    )
                } as isize);
            }
        }
    }
    let fd = changeable(task, a[0], a[1], true, empty)?;
    // SAFETY: valid path and times.
    host(unsafe { libc::utimensat(libc::AT_FDCWD, proc_path(&fd).as_ptr(), tp, 0) } as isize)
}

/// truncate(2).
pub fn truncate(task: &mut Task, a: Args) -> SysResult {
    if (a[1] as i64) < 0 {
        return err(libc::EINVAL);
    }
    let r = resolve_path(task, libc::AT_FDCWD as u64, a[0], true)?;
    if task.fs.synthesized(&r).is_some() {
        return err(libc::EACCES);
    }
    let fd = task.fs.open(&r, libc::O_WRONLY, 0).map_err(errno)?;
    super::fs::fsize_grow(task, fd.as_raw_fd(), a[1])?;
    // SAFETY: plain host call.
    let ret = host(unsafe { libc::ftruncate(fd.as_raw_fd(), a[1] as i64) } as isize)?;
    task.mm.truncated(fd.as_raw_fd(), a[1]);
    Ok(ret)
}

/// faccessat2(2).
pub fn faccessat2(task: &mut Task, a: Args) -> SysResult {
    let allowed = libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_EACCESS;
    if a[2] & !7 != 0 || a[3] & !(allowed as u64) != 0 {
        return err(libc::EINVAL);
    }
    let follow = a[3] & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let (fd, writable) = match resolve_at(
        task,
        a[0],
        a[1],
        follow,
        a[3] & libc::AT_EMPTY_PATH as u64 != 0,
    )? {
        At::Path(r) if task.fs.synthesized(&r).is_some() => {
            let st = procfs::stat(task, &r)?;
            let ok = st.st_mode as u64 >> 6 & a[2] == a[2];
            return if ok { Ok(0) } else { err(libc::EACCES) };
        }
        At::Path(r) => (task.fs.path_fd(&r).map_err(errno)?, task.fs.mount(&r).rw),
        At::Fd(f) => {
            // SAFETY: duplicating a descriptor mvm holds.
            let d = host(unsafe { libc::fcntl(f.raw(), libc::F_DUPFD_CLOEXEC, 0) } as isize)?;
            // SAFETY: a fresh descriptor.
            (
                unsafe { std::os::fd::FromRawFd::from_raw_fd(d as i32) },
                f.writable,
            )
        }
    };
    if a[2] & libc::W_OK as u64 != 0 && !writable {
        let st = fstat(fd.as_raw_fd()).map_err(errno)?;
        if matches!(
            st.st_mode & libc::S_IFMT,
            libc::S_IFREG | libc::S_IFDIR | libc::S_IFLNK
        ) {
            return err(libc::EROFS);
        }
    }
    let flags = libc::AT_EMPTY_PATH | (a[3] as i32 & libc::AT_EACCESS);
    // SAFETY: valid fd and empty path.
    host(unsafe {
        libc::syscall(
            libc::SYS_faccessat2,
            fd.as_raw_fd(),
            c"".as_ptr(),
            a[2] as i32,
            flags,
        )
    } as isize)
}

/// faccessat(2).
pub fn faccessat(task: &mut Task, a: Args) -> SysResult {
    faccessat2(task, [a[0], a[1], a[2], 0, 0, 0])
}

/// access(2).
pub fn access(task: &mut Task, a: Args) -> SysResult {
    faccessat2(task, [libc::AT_FDCWD as u64, a[0], a[1], 0, 0, 0])
}

// ---- working directory and umask -------------------------------------------------------------

/// getcwd(2).
pub fn getcwd(task: &mut Task, a: Args) -> SysResult {
    let mut s = task.cwd.clone();
    s.push(0);
    if (a[1] as usize) < s.len() {
        return err(libc::ERANGE);
    }
    task.mm.write(a[0], &s)?;
    Ok(s.len() as u64)
}

fn enter(task: &mut Task, r: Resolved) -> SysResult {
    let st = stat_of(task, &r)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return err(libc::ENOTDIR);
    }
    task.cwd = r.guest;
    Ok(0)
}

/// chdir(2): the directory must exist in the view.
pub fn chdir(task: &mut Task, a: Args) -> SysResult {
    let r = resolve_path(task, libc::AT_FDCWD as u64, a[0], true)?;
    enter(task, r)
}

/// fchdir(2).
pub fn fchdir(task: &mut Task, a: Args) -> SysResult {
    let f = task.fds.file(a[0])?;
    let st = fstat(f.raw()).map_err(errno)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return err(libc::ENOTDIR);
    }
    task.cwd = f.path.clone().ok_or(errno(libc::ENOTDIR))?;
    Ok(0)
}

/// umask(2).
pub fn umask(task: &mut Task, a: Args) -> SysResult {
    let old = task.fs.umask;
    task.fs.umask = a[0] as u32 & 0o777;
    Ok(old as u64)
}

/// A guest path's stat, for the synthesized tree (directories stand in as the empty dir).
pub fn stat_empty_dir(task: &mut Task) -> Result<libc::stat, SysError> {
    let fd = task.fs.empty_dir().map_err(errno)?;
    let mut st = fstat(fd.as_raw_fd()).map_err(errno)?;
    st.st_mode = libc::S_IFDIR | 0o555;
    Ok(st)
}

// ---- extended attributes -------------------------------------------------------------------

/// The view shows no extended attributes (and so no ACLs or file capabilities): every file
/// exists as natively, but reads find no attribute (ENODATA, as a file without any on ext4),
/// lists are empty, and setting or removing one is not supported (ENOTSUP).
fn xattr_name(task: &mut Task, at: u64) -> Result<(), SysError> {
    let name = task.mm.read_cstr(at)?;
    if name.is_empty() || name.len() > 255 {
        return err(libc::ERANGE);
    }
    Ok(())
}

/// The object an xattr call names: its path (following symlinks unless `l*`) or its fd.
fn xattr_target(task: &mut Task, a: &Args, by: u8) -> Result<(), SysError> {
    match by {
        b'f' => task.fds.get(a[0]).map(|_| ()),
        _ => {
            let r = resolve_path(task, libc::AT_FDCWD as u64, a[0], by == b'p')?;
            stat_of(task, &r).map(|_| ())
        }
    }
}

fn getxattr_by(task: &mut Task, a: Args, by: u8) -> SysResult {
    xattr_target(task, &a, by)?;
    xattr_name(task, a[1])?;
    err(libc::ENODATA)
}

fn listxattr_by(task: &mut Task, a: Args, by: u8) -> SysResult {
    xattr_target(task, &a, by)?;
    Ok(0)
}

fn setxattr_by(task: &mut Task, a: Args, by: u8) -> SysResult {
    xattr_target(task, &a, by)?;
    xattr_name(task, a[1])?;
    err(libc::ENOTSUP)
}

/// getxattr(2).
pub fn getxattr(task: &mut Task, a: Args) -> SysResult {
    getxattr_by(task, a, b'p')
}

/// lgetxattr(2).
pub fn lgetxattr(task: &mut Task, a: Args) -> SysResult {
    getxattr_by(task, a, b'l')
}

/// fgetxattr(2).
pub fn fgetxattr(task: &mut Task, a: Args) -> SysResult {
    getxattr_by(task, a, b'f')
}

/// listxattr(2).
pub fn listxattr(task: &mut Task, a: Args) -> SysResult {
    listxattr_by(task, a, b'p')
}

/// llistxattr(2).
pub fn llistxattr(task: &mut Task, a: Args) -> SysResult {
    listxattr_by(task, a, b'l')
}

/// flistxattr(2).
pub fn flistxattr(task: &mut Task, a: Args) -> SysResult {
    listxattr_by(task, a, b'f')
}

/// setxattr(2) and removexattr(2).
pub fn setxattr(task: &mut Task, a: Args) -> SysResult {
    setxattr_by(task, a, b'p')
}

/// lsetxattr(2) and lremovexattr(2).
pub fn lsetxattr(task: &mut Task, a: Args) -> SysResult {
    setxattr_by(task, a, b'l')
}

/// fsetxattr(2) and fremovexattr(2).
pub fn fsetxattr(task: &mut Task, a: Args) -> SysResult {
    setxattr_by(task, a, b'f')
}

/// inotify_init1(2): a host inotify instance.
pub fn inotify_init1(task: &mut Task, a: Args) -> SysResult {
    let flags = a[0] as i32;
    if flags & !(libc::IN_CLOEXEC | libc::IN_NONBLOCK) != 0 {
        return err(libc::EINVAL);
    }
    // SAFETY: plain host call.
    let fd = host(unsafe { libc::inotify_init1(flags | libc::IN_CLOEXEC) } as isize)?;
    // SAFETY: a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let file = OpenFile::owned(fd, None, true);
    task.fds.install(file, flags & libc::IN_CLOEXEC != 0)
}

/// inotify_init(2).
pub fn inotify_init(task: &mut Task, _a: Args) -> SysResult {
    inotify_init1(task, [0; 6])
}

/// inotify_add_watch(2): the path is resolved in the program's view (symlinks followed unless
/// IN_DONT_FOLLOW), then watched through mvm's descriptor of it; events name entries relative
/// to the watched directory, so they need no translation.
pub fn inotify_add_watch(task: &mut Task, a: Args) -> SysResult {
    let ifd = task.fds.file(a[0])?;
    let mask = a[2] as u32;
    let r = resolve_path(
        task,
        libc::AT_FDCWD as u64,
        a[1],
        mask & libc::IN_DONT_FOLLOW == 0,
    )?;
    if task.fs.synthesized(&r).is_some() {
        return err(libc::EACCES);
    }
    let target = task.fs.path_fd(&r).map_err(errno)?;
    let p = CString::new(format!("/proc/self/fd/{}", target.as_raw_fd())).expect("no NUL");
    // The view already followed (or not) the last symlink: the magic link must be followed.
    let host_mask = mask & !libc::IN_DONT_FOLLOW;
    // SAFETY: valid descriptors and a NUL-terminated path.
    host(unsafe { libc::inotify_add_watch(ifd.raw(), p.as_ptr(), host_mask) } as isize)
}

/// inotify_rm_watch(2).
pub fn inotify_rm_watch(task: &mut Task, a: Args) -> SysResult {
    let ifd = task.fds.file(a[0])?;
    // SAFETY: plain host call on a descriptor mvm serves.
    host(unsafe { libc::inotify_rm_watch(ifd.raw(), a[1] as i32) } as isize)
}
