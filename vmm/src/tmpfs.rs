//! The run's private places — its `/tmp`, `/dev/shm` and `--tmpfs` directories — as tmpfs
//! file systems that belong to mvm alone: each is made with the mount API (`fsopen`,
//! `fsconfig`, `fsmount`) and never attached anywhere, so no host path reaches it, it is
//! bounded by its size, and the kernel frees it when mvm's last descriptor of it closes —
//! however mvm ends, SIGKILL included. Where mvm may not mount (no CAP_SYS_ADMIN), they are
//! directories under `$XDG_RUNTIME_DIR` or `/tmp`, removed when the run ends (not on SIGKILL,
//! and not bounded).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const FSOPEN_CLOEXEC: u32 = 1;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;
const FSMOUNT_CLOEXEC: u32 = 1;
const MOUNT_ATTR_NOSUID: u32 = 0x02;
const MOUNT_ATTR_NODEV: u32 = 0x04;
const MOUNT_ATTR_NOEXEC: u32 = 0x08;

fn check(r: libc::c_long) -> std::io::Result<RawFd> {
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r as RawFd)
    }
}

/// A new tmpfs of at most `size` bytes whose root has `mode`, owned by `uid`:`gid`, with
/// set-user-id bits and devices of no effect (and programs not executable from it when
/// `noexec`). Returns an `O_PATH` descriptor of its root.
pub fn new(size: u64, mode: u32, owner: (u32, u32), noexec: bool) -> std::io::Result<OwnedFd> {
    // SAFETY: fsopen with a static name; the result is checked and owned.
    let fs = unsafe {
        OwnedFd::from_raw_fd(check(libc::syscall(
            libc::SYS_fsopen,
            c"tmpfs".as_ptr(),
            FSOPEN_CLOEXEC,
        ))?)
    };
    let set = |key: &str, value: String| -> std::io::Result<()> {
        let (k, v) = (CString::new(key)?, CString::new(value)?);
        // SAFETY: valid C strings for the key and value of a string parameter.
        check(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fs.as_raw_fd(),
                FSCONFIG_SET_STRING,
                k.as_ptr(),
                v.as_ptr(),
                0,
            )
        })
        .map(|_| ())
    };
    set("size", size.max(4096).to_string())?;
    set("mode", format!("{:o}", mode & 0o7777))?;
    set("uid", owner.0.to_string())?;
    set("gid", owner.1.to_string())?;
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
    let attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | if noexec { MOUNT_ATTR_NOEXEC } else { 0 };
    // SAFETY: fsmount of the configured context; the result is a new fd we own.
    let root = unsafe {
        OwnedFd::from_raw_fd(check(libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            FSMOUNT_CLOEXEC,
            attrs,
        ))?)
    };
    Ok(root)
}

/// Whether this process may make tmpfs mounts of its own.
pub fn available() -> bool {
    new(4096, 0o700, (0, 0), false).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_tmpfs_is_bounded_and_reachable_only_through_its_descriptor() {
        // SAFETY: plain id queries.
        let owner = unsafe { (libc::getuid(), libc::getgid()) };
        let root = match new(64 << 10, 0o1777, owner, false) {
            Ok(r) => r,
            // Without CAP_SYS_ADMIN the fallback directories are used instead.
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => return,
            Err(e) => panic!("fsmount: {e}"),
        };
        let dir = format!("/proc/self/fd/{}", root.as_raw_fd());
        let st = std::fs::metadata(&dir).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(st.permissions().mode() & 0o7777, 0o1777);
        std::fs::write(format!("{dir}/small"), vec![7u8; 4096]).unwrap();
        let big = std::fs::write(format!("{dir}/big"), vec![7u8; 128 << 10]);
        assert_eq!(big.unwrap_err().raw_os_error(), Some(libc::ENOSPC));
    }
}
