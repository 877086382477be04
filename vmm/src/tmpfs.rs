//! The run's private places — its `/tmp`, `/dev/shm` and `--tmpfs` directories — as tmpfs
//! file systems that belong to mvm alone: each is made with the mount API (`fsopen`,
//! `fsconfig`, `fsmount`) and never attached anywhere, so no host path reaches it, it is
//! bounded by its size, and the kernel frees it when mvm's last descriptor of it closes —
//! however mvm ends, SIGKILL included.
//!
//! Where mvm may not mount (no CAP_SYS_ADMIN: a user with access to /dev/kvm), a short-lived
//! child makes them instead, in a user namespace (and mount namespace) of its own where it has
//! that capability over nothing but itself, and hands their descriptors back: tmpfs is one of
//! the file systems a user namespace may make. The namespace maps only mvm's own user and
//! group, so the files keep mvm's ids on the host side and nothing else changes for the
//! program. Only where the kernel refuses user namespaces too are they directories under
//! `$XDG_RUNTIME_DIR` or `/tmp`, removed when the run ends (not on SIGKILL, and not bounded).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const FSOPEN_CLOEXEC: u32 = 1;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;
const FSMOUNT_CLOEXEC: u32 = 1;
const MOUNT_ATTR_NOSUID: u32 = 0x02;
const MOUNT_ATTR_NODEV: u32 = 0x04;
const MOUNT_ATTR_NOEXEC: u32 = 0x08;

/// At most this many file systems in one call (one run: /tmp, /dev/shm, its `--tmpfs`
/// places and a scratch directory).
pub const MAX: usize = 32;

/// What one file system is to be: a tmpfs of at most `size` bytes whose root has `mode`
/// (programs not executable from it when `noexec`), or a devpts instance of the run's own
/// (its pseudo-terminals, numbered from 0, seen by no one else).
pub enum Spec {
    Tmpfs { size: u64, mode: u32, noexec: bool },
    Devpts,
}

fn check(r: libc::c_long) -> std::io::Result<RawFd> {
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r as RawFd)
    }
}

/// A spec's file system type and mount parameters as C strings, made before anything runs
/// where allocation is not allowed (the child after `fork`).
struct Prepared {
    fstype: &'static std::ffi::CStr,
    params: Vec<(&'static std::ffi::CStr, CString)>,
    attrs: u32,
}

fn prepare(spec: &Spec, owner: (u32, u32)) -> std::io::Result<Prepared> {
    let c = |s: String| CString::new(s).map_err(std::io::Error::other);
    Ok(match spec {
        Spec::Tmpfs { size, mode, noexec } => Prepared {
            fstype: c"tmpfs",
            params: vec![
                (c"size", c((*size).max(4096).to_string())?),
                (c"mode", c(format!("{:o}", mode & 0o7777))?),
                (c"uid", c(owner.0.to_string())?),
                (c"gid", c(owner.1.to_string())?),
            ],
            attrs: MOUNT_ATTR_NOSUID
                | MOUNT_ATTR_NODEV
                | if *noexec { MOUNT_ATTR_NOEXEC } else { 0 },
        },
        // Anyone of the run may make a terminal (ptmx); a terminal is its maker's, readable
        // and writable by it and writable by its group, as Linux's /dev/pts gives them.
        Spec::Devpts => Prepared {
            fstype: c"devpts",
            params: vec![(c"ptmxmode", c("666".into())?), (c"mode", c("620".into())?)],
            attrs: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
        },
    })
}

/// Makes one file system and returns an `O_PATH`-like descriptor of its root (the mount's).
/// Only system calls: it runs in the child after `fork` too.
fn make(p: &Prepared) -> std::io::Result<OwnedFd> {
    // SAFETY: fsopen with a static name; the result is checked and owned.
    let fs = unsafe {
        OwnedFd::from_raw_fd(check(libc::syscall(
            libc::SYS_fsopen,
            p.fstype.as_ptr(),
            FSOPEN_CLOEXEC,
        ))?)
    };
    for (key, value) in &p.params {
        // SAFETY: valid C strings for the key and value of a string parameter.
        check(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs.as_raw_fd(),
                FSCONFIG_SET_STRING,
                key.as_ptr(),
                value.as_ptr(),
                0,
            )
        })?;
    }
    // SAFETY: the create command takes no key or value.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    // SAFETY: fsmount of the configured context; the result is a new fd we own.
    let root = unsafe {
        OwnedFd::from_raw_fd(check(libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            p.attrs,
        ))?)
    };
    Ok(root)
}

/// A new file system for `spec`, owned by `owner` (user, group), made by mvm itself.
pub fn new(spec: &Spec, owner: (u32, u32)) -> std::io::Result<OwnedFd> {
    make(&prepare(spec, owner)?)
}

/// New file systems for `specs`, each owned by `owner`: made by mvm itself where it may mount,
/// else in a user namespace of a child's (tmpfs and devpts are file systems a user namespace
/// may make). `None` when neither may be done here.
pub fn new_all(specs: &[Spec], owner: (u32, u32)) -> std::io::Result<Option<Vec<OwnedFd>>> {
    if specs.len() > MAX {
        return Err(std::io::Error::from_raw_os_error(libc::E2BIG));
    }
    let prepared = specs
        .iter()
        .map(|s| prepare(s, owner))
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut made = Vec::new();
    for p in &prepared {
        match make(p) {
            Ok(fd) => made.push(fd),
            Err(e) if e.raw_os_error() == Some(libc::EPERM) && made.is_empty() => {
                return in_user_namespace(&prepared, owner);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(made))
}

/// The child's exit status when the kernel refuses it a user namespace (or its id maps).
const NO_NAMESPACE: i32 = 255;

/// Writes `data` to the file at `path`: only system calls.
fn write_file(path: &std::ffi::CStr, data: &[u8]) -> bool {
    // SAFETY: a static path; the fd is closed below; `data` is a valid buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let n = libc::write(fd, data.as_ptr().cast(), data.len());
        libc::close(fd);
        n == data.len() as isize
    }
}

/// Makes `prepared` in a forked child that enters a new user and mount namespace, where it
/// may mount, and sends their descriptors back over a socket pair.
fn in_user_namespace(
    prepared: &[Prepared],
    owner: (u32, u32),
) -> std::io::Result<Option<Vec<OwnedFd>>> {
    // Everything the child needs is made here: after fork it only makes system calls.
    let uid_map = format!("{0} {0} 1\n", owner.0).into_bytes();
    let gid_map = format!("{0} {0} 1\n", owner.1).into_bytes();
    let space = {
        // SAFETY: CMSG_SPACE is arithmetic.
        unsafe { libc::CMSG_SPACE((prepared.len() * std::mem::size_of::<RawFd>()) as u32) }
    } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut pair = [-1; 2];
    // SAFETY: a socket pair into a local array; checked.
    check(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            pair.as_mut_ptr(),
        )
    } as libc::c_long)?;
    // SAFETY: both fds were just made and are ours.
    let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(pair[0]), OwnedFd::from_raw_fd(pair[1])) };
    // SAFETY: fork; the child below makes only system calls on memory prepared above, and
    // leaves by _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid == 0 {
        drop(ours);
        // SAFETY: _exit never returns; the child's code is async-signal-safe.
        unsafe {
            // The child must not outlive mvm.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) != 0
                || !write_file(c"/proc/self/setgroups", b"deny")
                || !write_file(c"/proc/self/uid_map", &uid_map)
                || !write_file(c"/proc/self/gid_map", &gid_map)
            {
                libc::_exit(NO_NAMESPACE);
            }
            let mut fds = [-1 as RawFd; MAX];
            for (i, p) in prepared.iter().enumerate() {
                match make(p) {
                    Ok(fd) => fds[i] = std::os::fd::IntoRawFd::into_raw_fd(fd),
                    Err(e) => libc::_exit(e.raw_os_error().unwrap_or(libc::EIO).min(254)),
                }
            }
            let n = prepared.len();
            let mut byte = 0u8;
            let mut iov = libc::iovec {
                iov_base: (&raw mut byte).cast(),
                iov_len: 1,
            };
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = space;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN((n * std::mem::size_of::<RawFd>()) as u32) as usize;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(c).cast::<RawFd>(), n);
            if libc::sendmsg(theirs.as_raw_fd(), &msg, 0) != 1 {
                libc::_exit(libc::EIO);
            }
            libc::_exit(0);
        }
    }
    drop(theirs);
    let received = receive_fds(&ours, &mut control, prepared.len());
    let mut status = 0;
    // SAFETY: reaping our own child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
    {}
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => received.map(Some),
        (true, NO_NAMESPACE) => Ok(None),
        (true, errno) => Err(std::io::Error::from_raw_os_error(errno)),
        _ => Err(std::io::Error::other("the tmpfs maker died")),
    }
}

/// Receives `n` descriptors sent with one byte over `sock`.
fn receive_fds(sock: &OwnedFd, control: &mut [u64], n: usize) -> std::io::Result<Vec<OwnedFd>> {
    let mut byte = 0u8;
    let mut iov = libc::iovec {
        iov_base: (&raw mut byte).cast(),
        iov_len: 1,
    };
    // SAFETY: a zeroed msghdr pointing at local buffers that outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(control);
    // SAFETY: recvmsg into the buffers above.
    let got = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if got < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut fds = Vec::new();
    // SAFETY: walking the control messages the kernel wrote into `control`.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let len = (*c).cmsg_len - libc::CMSG_LEN(0) as usize;
                let data = libc::CMSG_DATA(c).cast::<RawFd>();
                for i in 0..len / std::mem::size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if fds.len() != n {
        return Err(std::io::Error::other("the tmpfs maker sent no descriptors"));
    }
    Ok(fds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded(root: &OwnedFd) {
        let dir = format!("/proc/self/fd/{}", root.as_raw_fd());
        let st = std::fs::metadata(&dir).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(st.permissions().mode() & 0o7777, 0o1777);
        std::fs::write(format!("{dir}/small"), vec![7u8; 4096]).unwrap();
        let big = std::fs::write(format!("{dir}/big"), vec![7u8; 128 << 10]);
        assert_eq!(big.unwrap_err().raw_os_error(), Some(libc::ENOSPC));
    }

    const SMALL: Spec = Spec::Tmpfs {
        size: 64 << 10,
        mode: 0o1777,
        noexec: false,
    };

    #[test]
    fn a_private_tmpfs_is_bounded_and_reachable_only_through_its_descriptor() {
        // SAFETY: plain id queries.
        let owner = unsafe { (libc::getuid(), libc::getgid()) };
        let root = match new(&SMALL, owner) {
            Ok(r) => r,
            // Without CAP_SYS_ADMIN the user namespace's are used instead (below).
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => return,
            Err(e) => panic!("fsmount: {e}"),
        };
        bounded(&root);
    }

    #[test]
    fn a_tmpfs_made_in_a_user_namespace_is_bounded_and_usable_from_here() {
        // SAFETY: plain id queries.
        let owner = unsafe { (libc::getuid(), libc::getgid()) };
        let prepared = [
            prepare(&SMALL, owner).unwrap(),
            prepare(&SMALL, owner).unwrap(),
        ];
        let Some(roots) = in_user_namespace(&prepared, owner).unwrap() else {
            eprintln!("this kernel refuses user namespaces: nothing to test");
            return;
        };
        assert_eq!(roots.len(), 2);
        for root in &roots {
            bounded(root);
        }
        // The files are mvm's own on this side.
        let st = std::fs::metadata(format!("/proc/self/fd/{}/small", roots[0].as_raw_fd()));
        use std::os::unix::fs::MetadataExt;
        assert_eq!(st.unwrap().uid(), owner.0);
    }
}
