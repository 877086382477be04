//! mvm's own namespaces, entered once a run has opened everything of the host it serves from
//! (its view's directories, the program, /dev/kvm, its terminal), before any thread that
//! serves or relays for the program starts: a wall behind the view, Landlock and seccomp that
//! holds for every thread of mvm, whatever its filters allow.
//!
//! - A mount namespace whose root is an empty, read-only tmpfs with only what mvm still opens
//!   by name: `/proc` (the host's procfs, for `/proc/self/fd/N` and the host facts synthesized
//!   files show) and the character devices of `/dev` that synthesized device files come from (and KVM's).
//!   The host's tree is detached: what the run may reach, it reaches through descriptors taken
//!   before. Mounts made in it (none are) could never propagate to the host.
//! - With `--network none` and nothing published, a network namespace of its own with only a
//!   loopback: the program's sockets (mvm's, on the host) reach the run's own ports and
//!   nothing else, whatever the port policy says.
//!
//! Both need CAP_SYS_ADMIN; a rootless mvm keeps its other walls (the view, Landlock,
//! seccomp, the port policy), as the README says.

use std::ffi::CString;
use std::io::{Error, Result};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Host devices the synthesized `/dev` opens by name (`sys::procfs`), `/dev/tty`, which it
/// stats, and `/dev/kvm`, for the run's first VM. Missing ones are left out.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty", "kvm"];

fn cstr(s: &str) -> Result<CString> {
    CString::new(s).map_err(Error::other)
}

fn check(r: libc::c_int) -> Result<()> {
    if r < 0 {
        Err(Error::last_os_error())
    } else {
        Ok(())
    }
}

fn mount(src: &str, target: &str, fstype: Option<&str>, flags: libc::c_ulong) -> Result<()> {
    let (src, target) = (cstr(src)?, cstr(target)?);
    let fstype = fstype.map(cstr).transpose()?;
    // SAFETY: valid C strings (or null) for mount(2); no data argument.
    check(unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
            flags,
            std::ptr::null(),
        )
    })
}

/// Enters a mount namespace of mvm's own whose root holds only `/proc` and the devices above.
/// `Ok(false)` when mvm may not (no CAP_SYS_ADMIN). Call it before the run's threads start:
/// a thread takes the namespace of the one that starts it.
pub fn own_mounts() -> Result<bool> {
    // SAFETY: unshare of the calling thread's mount namespace (and its fs information).
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        let e = Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EPERM) => Ok(false),
            _ => Err(e),
        };
    }
    // Nothing done here reaches the host's mount table, nor the other way.
    mount("none", "/", None, libc::MS_REC | libc::MS_PRIVATE)?;
    // The new root is built on /tmp, which every host has (hidden in this namespace only).
    let new = "/tmp";
    mount(
        "mvm",
        new,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
    )?;
    let dir = |p: &str, mode| -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(mode)
            .create(format!("{new}/{p}"))
    };
    dir("proc", 0o555)?;
    dir("dev", 0o755)?;
    dir("old", 0o700)?;
    mount(
        "/proc",
        &format!("{new}/proc"),
        None,
        libc::MS_BIND | libc::MS_REC,
    )?;
    for d in DEVICES {
        let host = format!("/dev/{d}");
        if std::fs::metadata(&host).is_err() {
            continue;
        }
        let at = format!("{new}/dev/{d}");
        std::fs::File::create(&at)?;
        mount(&host, &at, None, libc::MS_BIND)?;
    }
    // The new root replaces the host's, which is then detached: only descriptors reach it.
    let root: OwnedFd = std::fs::File::open(new)?.into();
    // SAFETY: fchdir to a directory we hold; pivot_root and umount2 with C strings.
    unsafe {
        check(libc::fchdir(root.as_raw_fd()))?;
        let (dot, old) = (cstr(".")?, cstr("old")?);
        check(libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), old.as_ptr()) as libc::c_int)?;
        check(libc::chdir(c"/".as_ptr()))?;
        check(libc::umount2(c"/old".as_ptr(), libc::MNT_DETACH))?;
        check(libc::rmdir(c"/old".as_ptr()))?;
    }
    // Read-only from here on: mvm creates nothing by name in its own root.
    mount(
        "none",
        "/",
        None,
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
    )?;
    Ok(true)
}

/// Enters a network namespace of mvm's own with only a loopback, which it brings up.
/// `Ok(false)` when mvm may not (no CAP_SYS_ADMIN). Call it before the run's threads start.
pub fn own_network() -> Result<bool> {
    // SAFETY: unshare of the calling thread's network namespace.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        let e = Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EPERM) => Ok(false),
            _ => Err(e),
        };
    }
    // SAFETY: a socket for the interface ioctls, owned at once.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(Error::last_os_error());
    }
    // SAFETY: `sock` was just made and is ours.
    let sock = unsafe { OwnedFd::from_raw_fd(sock) };
    // SAFETY: a zeroed ifreq named "lo"; SIOCGIFFLAGS/SIOCSIFFLAGS read and write its flags.
    unsafe {
        let mut req: libc::ifreq = std::mem::zeroed();
        for (d, s) in req.ifr_name.iter_mut().zip(b"lo") {
            *d = *s as libc::c_char;
        }
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req))?;
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        check(libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req))?;
    }
    Ok(true)
}
