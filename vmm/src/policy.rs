//! What a run may touch, decided and enforced in one place: the program's filesystem view (its
//! root and mounts). Every path the program names reaches the host only through `FsView`.
//!
//! Stage 1: the view is the host's own tree, for `execve` only (the program cannot open files
//! yet). The confined view (`--rootfs`, `-v`, the default read-only system tree, a private `/tmp`,
//! resolution with `openat2(RESOLVE_IN_ROOT)`) replaces the internals here.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;

use crate::sys::fs::normalize;

/// The program's filesystem view.
#[derive(Debug, Default)]
pub struct FsView {}

impl FsView {
    /// The host's tree as it is (stage 1).
    pub fn host() -> Self {
        FsView {}
    }

    /// Opens `path` (absolute, or relative to `cwd`, as the program names it) for `execve`:
    /// ENOENT, EACCES (not a regular file, or no execute permission), or the file and its
    /// normalized path.
    pub fn open_exec(&self, cwd: &str, path: &str) -> Result<(File, String), i32> {
        if path.is_empty() {
            return Err(libc::ENOENT);
        }
        let path = normalize(cwd, path);
        let f = File::open(&path).map_err(|e| e.raw_os_error().unwrap_or(libc::ENOENT))?;
        let md = f
            .metadata()
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        if !md.is_file() || md.permissions().mode() & 0o111 == 0 {
            return Err(libc::EACCES);
        }
        Ok((f, path))
    }
}
