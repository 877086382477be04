//! What a run may touch, decided and enforced in one place: the program's filesystem view (its
//! root and mounts). Every path the program names reaches the host only through `FsView`.
//!
//! The view is a list of mounts, each a guest path and a host directory (or one file) opened
//! once; a guest path goes to the mount with the longest matching prefix. Resolution walks the
//! path at the guest level: `.`/`..` are applied to guest paths (so `..` at a mount's root leaves
//! the mount, as a bind mount does) and each symlink met on the way is read and substituted,
//! absolute targets starting again from the guest's `/` — so a symlink may point across mounts.
//! Every host call that names a path is `openat2` on a mount's root fd with `RESOLVE_IN_ROOT |
//! RESOLVE_NO_SYMLINKS` (which implies `RESOLVE_NO_MAGICLINKS`), given a path with no `..` and no
//! symlinks: a concurrent rename or symlink swap makes the call fail (ELOOP, ENOENT), never
//! reach outside the mount. Calls on the entry itself (unlink, mkdir, rename…) get the parent
//! directory's fd and a single name. A path that is not valid UTF-8 is ENOENT (a limitation).
//!
//! Views: `--rootfs DIR` is the guest's `/` (read-only); without it the guest's `/` is a
//! synthetic directory holding mount points and the host's top-level symlinks (`/bin -> usr/bin`),
//! with the host's system tree read-only (`/usr`, `/bin`, `/sbin`, `/lib*`, `/etc` without
//! secrets), the program itself at its own path, and nothing else. Both views add a private,
//! empty, writable `/tmp`, `-v HOST:GUEST[:ro|:rw]` binds, and the synthesized `/proc` and `/dev`
//! (served by `sys::procfs`).

use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::sys::fs::normalize;

/// What a mount serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    /// A host directory.
    Dir,
    /// One host file (the program itself).
    File,
    /// The synthesized `/proc`.
    Proc,
    /// The synthesized `/dev`.
    Dev,
}

/// One mount of the view.
#[derive(Debug)]
pub struct Mount {
    /// Guest path: `/` or `/a/b` (normalized, no trailing slash).
    pub guest: String,
    /// The host directory or file, opened `O_PATH` (none for synthesized mounts).
    root: Option<OwnedFd>,
    /// Writable.
    pub rw: bool,
    /// What it serves.
    pub kind: MountKind,
    /// Host inodes `(dev, ino)` never served from this mount (secrets, and their hard links).
    hidden: HashSet<(u64, u64)>,
}

/// A `-p HOST:GUEST` publication: the program's GUEST port is the host's HOST port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Publish {
    /// The host's port.
    pub host: u16,
    /// The program's port.
    pub guest: u16,
}

impl Publish {
    /// Parses `HOST:GUEST` or `PORT` (both the same), with an optional `/tcp` or `/udp` (a
    /// publication covers both).
    pub fn parse(s: &str) -> Result<Publish, String> {
        let bad = || format!("-p {s}: expected HOST:GUEST or PORT (ports 1-65535)");
        let body = s
            .strip_suffix("/tcp")
            .or_else(|| s.strip_suffix("/udp"))
            .unwrap_or(s);
        let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad);
        match body.split(':').collect::<Vec<_>>().as_slice() {
            [p] => Ok(Publish {
                host: port(p)?,
                guest: port(p)?,
            }),
            [h, g] => Ok(Publish {
                host: port(h)?,
                guest: port(g)?,
            }),
            _ => Err(bad()),
        }
    }
}

/// The ports a run may listen on and reach (decided here, enforced by `sys::net`): it listens
/// on those published with `-p`, mapped to their host ports, and on port 0 (the host picks one,
/// as for a client). Its loopback is its own, as a container's is: a connection to 127.0.0.1 or
/// ::1 reaches a port the run itself bound (a published port by the number the program knows),
/// or DNS on port 53, and is refused otherwise, unless the run shares the host's loopback
/// (`--network host`).
#[derive(Debug, Clone, Default)]
pub struct Ports {
    published: Vec<Publish>,
    host_loopback: bool,
    /// Host ports the run's sockets have bound (shared by its programs).
    own: std::sync::Arc<std::sync::Mutex<HashSet<u16>>>,
}

/// Where a loopback connection may always go: DNS stubs (systemd-resolved's 127.0.0.53).
const DNS_PORT: u16 = 53;

impl Ports {
    /// The run's publications, and whether it shares the host's loopback.
    pub fn new(published: &[Publish], host_loopback: bool) -> Ports {
        Ports {
            published: published.to_vec(),
            host_loopback,
            own: Default::default(),
        }
    }

    /// The host port to bind for the program's `guest` port, or EACCES (as binding a port
    /// needs a privilege the program lacks).
    pub fn bind(&self, guest: u16) -> Result<u16, i32> {
        if guest == 0 {
            return Ok(0);
        }
        self.published
            .iter()
            .find(|p| p.guest == guest)
            .map(|p| p.host)
            .ok_or(libc::EACCES)
    }

    /// Records that one of the run's sockets bound host port `host`.
    pub fn bound(&self, host: u16) {
        self.own.lock().unwrap().insert(host);
    }

    /// The port the program knows for host port `host`.
    pub fn guest_port(&self, host: u16) -> u16 {
        self.published
            .iter()
            .find(|p| p.host == host)
            .map_or(host, |p| p.guest)
    }

    /// Checks a destination the program gives (a socket address in the host's layout) and, for
    /// its own published port on loopback, rewrites the port to the host's: ECONNREFUSED for
    /// the host's loopback services unless the run shares them.
    pub fn outbound(&self, addr: &mut [u8]) -> Result<(), i32> {
        if self.host_loopback || !is_loopback(addr) {
            return Ok(());
        }
        let Some(port) = port_of(addr) else {
            return Ok(());
        };
        if let Some(p) = self.published.iter().find(|p| p.guest == port) {
            set_port(addr, p.host);
            return Ok(());
        }
        if port == DNS_PORT || self.own.lock().unwrap().contains(&port) {
            return Ok(());
        }
        Err(libc::ECONNREFUSED)
    }
}

/// The family of a socket address (its first two bytes), if it has them.
pub fn family_of(addr: &[u8]) -> Option<i32> {
    Some(u16::from_ne_bytes([*addr.first()?, *addr.get(1)?]) as i32)
}

/// The port of an IPv4/IPv6 socket address, if it is one.
pub fn port_of(addr: &[u8]) -> Option<u16> {
    let port = [*addr.get(2)?, *addr.get(3)?];
    matches!(family_of(addr)?, libc::AF_INET | libc::AF_INET6).then(|| u16::from_be_bytes(port))
}

/// Sets the port of an IPv4/IPv6 socket address.
pub fn set_port(addr: &mut [u8], port: u16) {
    addr[2..4].copy_from_slice(&port.to_be_bytes());
}

/// Whether an IPv4/IPv6 socket address names this machine's loopback: 127.0.0.0/8 or ::1, or
/// the unspecified address (a connection to it goes to loopback), also as v4-mapped IPv6.
fn is_loopback(addr: &[u8]) -> bool {
    let family = family_of(addr);
    let v4 = |a: &[u8]| a[0] == 127 || a == [0, 0, 0, 0];
    match family {
        Some(libc::AF_INET) if addr.len() >= 8 => v4(&addr[4..8]),
        Some(libc::AF_INET6) if addr.len() >= 24 => {
            let a = &addr[8..24];
            let mapped = a[..10].iter().all(|&b| b == 0) && a[10..12] == [0xff, 0xff];
            (mapped && v4(&a[12..16]))
                || (a[..15].iter().all(|&b| b == 0) && (a[15] == 1 || a[15] == 0))
        }
        _ => false,
    }
}

/// A `-v HOST:GUEST[:ro|:rw]` bind mount.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Volume {
    /// Host directory (absolute).
    pub host: PathBuf,
    /// Guest path (absolute, normalized).
    pub guest: String,
    /// Read-write (`:rw`); read-only otherwise.
    pub rw: bool,
}

impl Volume {
    /// Parses `HOST:GUEST[:ro|:rw]`; HOST must be an existing directory (or file).
    pub fn parse(s: &str) -> Result<Volume, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let (host, guest, rw) = match parts.as_slice() {
            [h, g] => (*h, *g, false),
            [h, g, "ro"] => (*h, *g, false),
            [h, g, "rw"] => (*h, *g, true),
            _ => return Err(format!("invalid -v '{s}': expected HOST:GUEST[:ro|:rw]")),
        };
        if host.is_empty() || !guest.starts_with('/') {
            return Err(format!(
                "invalid -v '{s}': HOST must be given and GUEST must be absolute"
            ));
        }
        let host = std::fs::canonicalize(host)
            .map_err(|e| format!("invalid -v '{s}': {host}: {}", io_text(&e)))?;
        Ok(Volume {
            host,
            guest: normalize("/", guest),
            rw,
        })
    }
}

/// An I/O error's message as mvm words its own: lower case, without `(os error N)`.
pub(crate) fn io_text(e: &std::io::Error) -> String {
    e.to_string()
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

/// A guest path resolved to a mount: where an operation on it goes.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The guest path, absolute, without `.`, `..` or symlinks (the last component excepted when
    /// not followed).
    pub guest: String,
    /// Index of its mount.
    pub mount: usize,
    /// Path inside the mount: `.` for the mount's root.
    pub rel: String,
    /// Whether a symlink in the last component is to be followed (synthesized links).
    pub follow: bool,
}

/// The program's filesystem view.
#[derive(Debug, Default)]
pub struct FsView {
    /// Longest guest path first.
    mounts: Vec<Mount>,
    /// Hide the host's secrets under `/etc` (the default view).
    secrets: bool,
    /// An empty directory that stands in for synthesized directories.
    empty: Option<OwnedFd>,
    /// The program's file mode creation mask.
    pub umask: u32,
}

impl FsView {
    /// The same view for a forked program (its mounts' host descriptors duplicated).
    pub fn try_clone(&self) -> std::io::Result<FsView> {
        let mounts = self
            .mounts
            .iter()
            .map(|m| {
                Ok(Mount {
                    guest: m.guest.clone(),
                    root: m.root.as_ref().map(|f| f.try_clone()).transpose()?,
                    rw: m.rw,
                    kind: m.kind,
                    hidden: m.hidden.clone(),
                })
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(FsView {
            mounts,
            secrets: self.secrets,
            empty: self.empty.as_ref().map(|f| f.try_clone()).transpose()?,
            umask: self.umask,
        })
    }
}

const RESOLVE: u64 = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS;
const MAX_LINKS: usize = 40;

/// `openat2(dir, path, flags, mode, resolve)` with `O_CLOEXEC`.
fn openat2(dir: RawFd, path: &CStr, flags: i32, mode: u32, resolve: u64) -> Result<OwnedFd, i32> {
    // The kernel's `struct open_how` (libc's is non-exhaustive): flags, mode, resolve.
    let how: [u64; 3] = [
        (flags | libc::O_CLOEXEC) as u64,
        if flags & (libc::O_CREAT | libc::O_TMPFILE) != 0 {
            mode as u64
        } else {
            0
        },
        resolve,
    ];
    loop {
        // SAFETY: `how` and `path` are valid for the call; the result is a new fd we own.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir,
                path.as_ptr(),
                how.as_ptr(),
                std::mem::size_of_val(&how),
            )
        };
        if r >= 0 {
            // SAFETY: a fresh descriptor from the kernel.
            return Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) });
        }
        let e = errno();
        if e != libc::EAGAIN && e != libc::EINTR {
            return Err(e);
        }
    }
}

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The type name of the host filesystem `fd` lies on, as `/proc/mounts` spells the common ones.
fn fs_type(fd: RawFd) -> &'static str {
    // SAFETY: statfs is a plain C struct for which zero is valid.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is valid for writing.
    if unsafe { libc::fstatfs(fd, &mut st) } != 0 {
        return "none";
    }
    match st.f_type as u32 {
        0xef53 => "ext4",
        0x0102_1994 => "tmpfs",
        0x794c_7630 => "overlay",
        0x9123_683e => "btrfs",
        0x5846_5342 => "xfs",
        0x6573_5546 => "fuse",
        _ => "unknown",
    }
}

/// fstat(2) on a host fd.
pub fn fstat(fd: RawFd) -> Result<libc::stat, i32> {
    // SAFETY: plain struct filled by the host.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is valid for writing.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(errno());
    }
    Ok(st)
}

fn cstring(s: &str) -> Result<CString, i32> {
    CString::new(s).map_err(|_| libc::EINVAL)
}

fn host_dir(path: &Path) -> Result<OwnedFd, String> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| "bad path".to_string())?;
    // SAFETY: `c` is a valid C string; the result is a new fd we own.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(format!(
            "{}: {}",
            path.display(),
            io_text(&std::io::Error::last_os_error())
        ));
    }
    // SAFETY: a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `guest` names one of the host's secrets in the default view.
fn secret(guest: &str) -> bool {
    const HIDDEN: [&str; 8] = [
        "/etc/shadow",
        "/etc/shadow-",
        "/etc/gshadow",
        "/etc/gshadow-",
        "/etc/sudoers",
        "/etc/sudoers.d",
        "/etc/security/opasswd",
        "/etc/.pwd.lock",
    ];
    if HIDDEN
        .iter()
        .any(|h| guest == *h || guest.strip_prefix(h).is_some_and(|r| r.starts_with('/')))
    {
        return true;
    }
    if let Some(name) = guest.strip_prefix("/etc/ssh/") {
        return !name.contains('/') && name.contains("key") && !name.ends_with(".pub");
    }
    guest.starts_with("/etc/ssl/private/")
}

/// Components of a guest path.
fn components(p: &str) -> impl DoubleEndedIterator<Item = &str> {
    p.split('/').filter(|c| !c.is_empty())
}

/// The host's system tree that the default view shows read-only.
const SYSTEM_DIRS: [&str; 8] = [
    "usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32", "etc",
];

/// Where mvm keeps what runs can share: `$XDG_CACHE_HOME/mvm` or `~/.cache/mvm` (`None` if
/// neither can be made).
fn shared_dir_base() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?
        .join("mvm");
    std::fs::create_dir_all(&base).ok()?;
    Some(base)
}

/// The default view's synthetic root for `recipe` ((kind, guest path, symlink target): `d`
/// directory, `l` symlink, `f` empty file): from the cache (`roots/<hash of the recipe>`, built
/// once, atomically), or built in `run_dir` when there is no cache.
fn synthetic_root(
    recipe: &[(char, String, String)],
    cache: Option<&Path>,
    run_dir: &Path,
) -> Result<PathBuf, String> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, a, b) in recipe {
        for byte in format!("{k}\0{a}\0{b}\0").bytes() {
            h = (h ^ byte as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    let final_dir = match cache {
        Some(c) => c.join("roots").join(format!("{h:016x}")),
        None => run_dir.join("root"),
    };
    if cache.is_some() && final_dir.is_dir() {
        return Ok(final_dir);
    }
    let build = match cache {
        Some(_) => final_dir.with_extension(format!("tmp{}", std::process::id())),
        None => final_dir.clone(),
    };
    let io = |p: &Path, e: std::io::Error| format!("{}: {}", p.display(), io_text(&e));
    std::fs::create_dir_all(&build).map_err(|e| io(&build, e))?;
    for (k, g, target) in recipe {
        let p = build.join(g.trim_start_matches('/'));
        match k {
            'd' => std::fs::create_dir_all(&p).map_err(|e| io(&p, e))?,
            'l' => std::os::unix::fs::symlink(target, &p).map_err(|e| io(&p, e))?,
            _ => {
                let _ = File::create(&p);
            }
        }
    }
    if build != final_dir && std::fs::rename(&build, &final_dir).is_err() {
        // Another run built the same root meanwhile: use it.
        let _ = std::fs::remove_dir_all(&build);
    }
    Ok(final_dir)
}

impl FsView {
    /// An empty view: nothing is reachable until the runner installs the run's view.
    pub fn host() -> Self {
        FsView::default()
    }

    /// The view of one run. `run_dir` is the run's private directory (its `tmp/` becomes the
    /// guest's `/tmp`, its `root/` the default view's `/`); `extra_dirs` are guest directories to
    /// create in the default view's synthetic root (the working directory).
    pub fn build(
        rootfs: Option<&Path>,
        volumes: &[Volume],
        run_dir: &Path,
        extra_dirs: &[&str],
    ) -> Result<FsView, String> {
        let mut v = FsView {
            secrets: rootfs.is_none(),
            // SAFETY: a plain query of the process umask, put back at once.
            umask: unsafe {
                let m = libc::umask(0o022);
                libc::umask(m);
                m
            },
            ..Default::default()
        };
        let io = |what: &Path| {
            let what = what.to_path_buf();
            move |e: std::io::Error| format!("{}: {}", what.display(), io_text(&e))
        };
        // What never changes between runs (the empty directory, the default view's synthetic
        // root) is built once and cached; only `/tmp` is made afresh for each run.
        let cache = shared_dir_base();
        let empty = match &cache {
            Some(c) => c.join("empty"),
            None => run_dir.join("empty"),
        };
        std::fs::create_dir_all(&empty).map_err(io(&empty))?;
        v.empty = Some(host_dir(&empty)?);
        // The run's private /tmp and /dev/shm (POSIX shared memory and semaphores live there).
        let (tmp, shm) = (run_dir.join("tmp"), run_dir.join("shm"));
        for d in [&tmp, &shm] {
            std::fs::create_dir_all(d).map_err(io(d))?;
            std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o1777))
                .map_err(io(d))?;
        }
        match rootfs {
            Some(r) => v.add(
                "/",
                Some(host_dir(r).map_err(|e| format!("--rootfs {e}"))?),
                false,
                MountKind::Dir,
            ),
            None => {
                // The synthetic root's recipe: mount points, the host's top-level symlinks, and
                // the directories the volumes and the working directory need.
                let mut recipe: Vec<(char, String, String)> = ["proc", "dev", "tmp"]
                    .iter()
                    .map(|d| ('d', d.to_string(), String::new()))
                    .collect();
                for d in SYSTEM_DIRS {
                    let host = Path::new("/").join(d);
                    let Ok(md) = std::fs::symlink_metadata(&host) else {
                        continue;
                    };
                    if md.file_type().is_symlink() {
                        let target = std::fs::read_link(&host).map_err(io(&host))?;
                        recipe.push(('l', d.to_string(), target.to_string_lossy().into_owned()));
                    } else if md.is_dir() {
                        recipe.push(('d', d.to_string(), String::new()));
                        v.add(
                            &format!("/{d}"),
                            Some(host_dir(&host)?),
                            false,
                            MountKind::Dir,
                        );
                    }
                }
                for vol in volumes {
                    if vol.host.is_dir() {
                        recipe.push(('d', vol.guest.clone(), String::new()));
                    } else if let Some(parent) = Path::new(&vol.guest).parent() {
                        recipe.push(('d', parent.to_string_lossy().into_owned(), String::new()));
                        recipe.push(('f', vol.guest.clone(), String::new()));
                    }
                }
                for d in extra_dirs {
                    recipe.push(('d', d.to_string(), String::new()));
                }
                let root = synthetic_root(&recipe, cache.as_deref(), run_dir)?;
                v.add("/", Some(host_dir(&root)?), false, MountKind::Dir);
                v.hide_secrets();
            }
        }
        v.add("/tmp", Some(host_dir(&tmp)?), true, MountKind::Dir);
        v.add("/proc", None, false, MountKind::Proc);
        v.add("/dev", None, false, MountKind::Dev);
        v.add("/dev/shm", Some(host_dir(&shm)?), true, MountKind::Dir);
        for vol in volumes {
            let kind = if vol.host.is_dir() {
                MountKind::Dir
            } else {
                MountKind::File
            };
            v.add(&vol.guest, Some(host_dir(&vol.host)?), vol.rw, kind);
        }
        Ok(v)
    }

    fn add(&mut self, guest: &str, root: Option<OwnedFd>, rw: bool, kind: MountKind) {
        self.mounts.retain(|m| m.guest != guest);
        self.mounts.push(Mount {
            guest: guest.to_string(),
            root,
            rw,
            kind,
            hidden: HashSet::new(),
        });
        self.mounts
            .sort_by_key(|m| std::cmp::Reverse(m.guest.len()));
    }

    /// Records the inodes of the host's secrets so a hard link to one is refused too.
    fn hide_secrets(&mut self) {
        let mut ids = HashSet::new();
        let mut note = |p: &Path| {
            if let Ok(md) = std::fs::symlink_metadata(p) {
                use std::os::unix::fs::MetadataExt;
                ids.insert((md.dev(), md.ino()));
            }
        };
        for p in [
            "/etc/shadow",
            "/etc/shadow-",
            "/etc/gshadow",
            "/etc/gshadow-",
            "/etc/sudoers",
        ] {
            note(Path::new(p));
        }
        for dir in ["/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d"] {
            if let Ok(rd) = std::fs::read_dir(dir) {
                for e in rd.flatten() {
                    let g = e.path();
                    if secret(&g.to_string_lossy()) {
                        note(&g);
                    }
                }
            }
        }
        if let Some(m) = self.mounts.iter_mut().find(|m| m.guest == "/etc") {
            m.hidden = ids;
        }
    }

    /// Makes the host file `host` (absolute) visible, read-only, at its own path (the program
    /// itself), unless the view already shows it there.
    pub fn expose_file(&mut self, host: &Path, run_dir: &Path) -> Result<(), String> {
        let guest = host.to_string_lossy().into_owned();
        if let (Ok((f, _)), Ok(md)) = (self.open_exec("/", &guest), std::fs::metadata(host)) {
            use std::os::unix::fs::MetadataExt;
            if f.metadata()
                .is_ok_and(|m| m.ino() == md.ino() && m.dev() == md.dev())
            {
                return Ok(());
            }
        }
        if !self.secrets {
            // --rootfs: the mount point is not created in the user's tree; the mount works anyway.
        } else if let Some(parent) = host.parent() {
            let p = run_dir
                .join("root")
                .join(parent.strip_prefix("/").unwrap_or(parent));
            let _ = std::fs::create_dir_all(p);
        }
        self.add(&guest, Some(host_dir(host)?), false, MountKind::File);
        Ok(())
    }

    /// The mount of `r`.
    pub fn mount(&self, r: &Resolved) -> &Mount {
        &self.mounts[r.mount]
    }

    /// An fd of an empty directory, standing in for synthesized directories.
    pub fn empty_dir(&self) -> Result<OwnedFd, i32> {
        let e = self.empty.as_ref().ok_or(libc::ENOENT)?;
        openat2(
            e.as_raw_fd(),
            c".",
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
            RESOLVE,
        )
    }

    fn mount_of(&self, guest: &str) -> Option<(usize, String)> {
        for (i, m) in self.mounts.iter().enumerate() {
            let rest = if m.guest == "/" {
                Some(guest.trim_start_matches('/'))
            } else {
                guest
                    .strip_prefix(m.guest.as_str())
                    .filter(|r| r.is_empty() || r.starts_with('/'))
                    .map(|r| r.trim_start_matches('/'))
            };
            if let Some(r) = rest {
                let rel = if r.is_empty() { "." } else { r };
                return Some((i, rel.to_string()));
            }
        }
        None
    }

    /// Opens `rel` inside mount `m` (no `..`, no symlinks) with host `flags`.
    fn open_in(&self, m: usize, rel: &str, flags: i32, mode: u32) -> Result<OwnedFd, i32> {
        let mount = &self.mounts[m];
        let root = mount.root.as_ref().ok_or(libc::ENOENT)?;
        let fd = if mount.kind == MountKind::File {
            if rel != "." {
                return Err(libc::ENOTDIR);
            }
            if flags & libc::O_DIRECTORY != 0 {
                return Err(libc::ENOTDIR);
            }
            // Reopen the file through mvm's own descriptor of it (not a guest path).
            let p = cstring(&format!("/proc/self/fd/{}", root.as_raw_fd()))?;
            let flags = flags & !(libc::O_NOFOLLOW | libc::O_CREAT | libc::O_EXCL);
            openat2(libc::AT_FDCWD, &p, flags, 0, 0)?
        } else {
            openat2(root.as_raw_fd(), &cstring(rel)?, flags, mode, RESOLVE)?
        };
        if !mount.hidden.is_empty() {
            let st = fstat(fd.as_raw_fd())?;
            if mount.hidden.contains(&(st.st_dev, st.st_ino)) {
                return Err(libc::ENOENT);
            }
        }
        Ok(fd)
    }

    /// Resolves `path` (absolute, or relative to the guest directory `base`) in the view.
    /// `follow`: follow a symlink in the last component. The result may not exist (its parent
    /// does); it is never a secret.
    pub fn resolve(&self, base: &str, path: &str, follow: bool) -> Result<Resolved, i32> {
        if path.is_empty() {
            return Err(libc::ENOENT);
        }
        if path.len() >= libc::PATH_MAX as usize {
            return Err(libc::ENAMETOOLONG);
        }
        let dir_only = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
        let follow = follow || dir_only;
        // Fast path: no `..`, so the lexical path is the real one unless a symlink is met.
        let r = if !components(path).any(|c| c == "..") {
            let guest = normalize(base, path);
            self.fast(&guest, follow)
        } else {
            None
        };
        let mut r = r.unwrap_or_else(|| self.walk(base, path, follow))?;
        r.follow = follow;
        Ok(r)
    }

    fn fast(&self, guest: &str, follow: bool) -> Option<Result<Resolved, i32>> {
        if self.secrets && secret(guest) {
            return Some(Err(libc::ENOENT));
        }
        let (m, rel) = self.mount_of(guest)?;
        let r = Resolved {
            guest: guest.to_string(),
            mount: m,
            rel,
            follow,
        };
        if !matches!(self.mounts[m].kind, MountKind::Dir | MountKind::File) {
            return Some(Ok(r));
        }
        match self.open_in(m, &r.rel, libc::O_PATH | libc::O_NOFOLLOW, 0) {
            Ok(fd) => {
                let link = fstat(fd.as_raw_fd())
                    .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFLNK);
                (!link || !follow).then_some(Ok(r))
            }
            Err(_) => None,
        }
    }

    fn walk(&self, base: &str, path: &str, follow: bool) -> Result<Resolved, i32> {
        let mut done: Vec<String> = if path.starts_with('/') {
            Vec::new()
        } else {
            components(base).map(str::to_string).collect()
        };
        let mut todo: std::collections::VecDeque<String> =
            components(path).map(str::to_string).collect();
        let mut links = 0;
        while let Some(c) = todo.pop_front() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => done.push(c),
            }
            let guest = format!("/{}", done.join("/"));
            if self.secrets && secret(&guest) {
                return Err(libc::ENOENT);
            }
            let (m, rel) = self.mount_of(&guest).ok_or(libc::ENOENT)?;
            if !matches!(self.mounts[m].kind, MountKind::Dir | MountKind::File) {
                // Synthesized: the rest of the path is the synthesizer's.
                let mut g = guest;
                for t in todo.iter().filter(|t| *t != ".") {
                    g.push('/');
                    g.push_str(t);
                }
                let g = normalize("/", &g);
                let (m, rel) = self.mount_of(&g).ok_or(libc::ENOENT)?;
                return Ok(Resolved {
                    guest: g,
                    mount: m,
                    rel,
                    follow,
                });
            }
            let last = todo.iter().all(|t| t == ".");
            if last && !follow {
                break;
            }
            // A directory on the way to a deeper mount (a volume under /tmp, say) exists in the
            // view even where the enclosing mount has no such directory.
            let prefix = format!("{guest}/");
            if !last && self.mounts.iter().any(|mt| mt.guest.starts_with(&prefix)) {
                continue;
            }
            let fd = match self.open_in(m, &rel, libc::O_PATH | libc::O_NOFOLLOW, 0) {
                Ok(fd) => fd,
                Err(libc::ENOENT) if last => break,
                Err(e) => return Err(e),
            };
            let st = fstat(fd.as_raw_fd())?;
            match st.st_mode & libc::S_IFMT {
                libc::S_IFLNK => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(libc::ELOOP);
                    }
                    let target = readlink_fd(fd.as_raw_fd())?;
                    done.pop();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    for t in components(&target).rev() {
                        todo.push_front(t.to_string());
                    }
                }
                libc::S_IFDIR => {}
                _ if !last => return Err(libc::ENOTDIR),
                _ => {}
            }
        }
        let guest = format!("/{}", done.join("/"));
        let (mount, rel) = self.mount_of(&guest).ok_or(libc::ENOENT)?;
        Ok(Resolved {
            guest,
            mount,
            rel,
            follow,
        })
    }

    /// The mounts, shortest guest path first (parents before what is mounted in them), each
    /// with the name of its host filesystem's type (for `/proc/self/mountinfo`).
    pub fn mounts(&self) -> Vec<(&Mount, &'static str)> {
        let mut v: Vec<_> = self
            .mounts
            .iter()
            .map(|m| {
                let ty = match (m.kind, &m.root) {
                    (MountKind::Proc, _) => "proc",
                    (MountKind::Dev, _) => "devtmpfs",
                    (_, Some(root)) => fs_type(root.as_raw_fd()),
                    (_, None) => "none",
                };
                (m, ty)
            })
            .collect();
        v.sort_by_key(|(m, _)| m.guest.len());
        v
    }

    /// Whether `r` lies in a synthesized mount (and which).
    pub fn synthesized(&self, r: &Resolved) -> Option<MountKind> {
        let k = self.mounts[r.mount].kind;
        matches!(k, MountKind::Proc | MountKind::Dev).then_some(k)
    }

    /// EROFS unless `r`'s mount is writable.
    pub fn check_writable(&self, r: &Resolved) -> Result<(), i32> {
        if self.mounts[r.mount].rw {
            Ok(())
        } else {
            Err(libc::EROFS)
        }
    }

    /// Opens `r` with the guest's open flags (`O_CLOEXEC` is always set on the host side).
    /// Mutating opens of a read-only mount fail with EROFS, as Linux checks them.
    pub fn open(&self, r: &Resolved, flags: i32, mode: u32) -> Result<OwnedFd, i32> {
        if self.synthesized(r).is_some() {
            return Err(libc::ENOENT);
        }
        let keep = libc::O_ACCMODE
            | libc::O_CREAT
            | libc::O_EXCL
            | libc::O_TRUNC
            | libc::O_APPEND
            | libc::O_NONBLOCK
            | libc::O_DIRECTORY
            | libc::O_NOFOLLOW
            | libc::O_DSYNC
            | libc::O_SYNC
            | libc::O_PATH
            | libc::O_TMPFILE
            | libc::O_NOCTTY
            | libc::O_NOATIME;
        let flags = flags & keep;
        let mode = mode & 0o7777 & !self.umask;
        let writes = flags & libc::O_ACCMODE != libc::O_RDONLY
            || flags & libc::O_TRUNC != 0
            || flags & libc::O_TMPFILE == libc::O_TMPFILE;
        if !self.mounts[r.mount].rw && flags & libc::O_PATH == 0 {
            if writes {
                // Opening a directory for writing is EISDIR even on a read-only mount.
                if let Ok(fd) = self.open_in(r.mount, &r.rel, libc::O_PATH, 0) {
                    if fstat(fd.as_raw_fd())
                        .is_ok_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFDIR)
                        && flags & libc::O_TMPFILE != libc::O_TMPFILE
                    {
                        return Err(libc::EISDIR);
                    }
                }
                return Err(libc::EROFS);
            }
            if flags & libc::O_CREAT != 0 {
                // Creating is refused; opening what exists is not (EEXIST with O_EXCL).
                return match self.open_in(
                    r.mount,
                    &r.rel,
                    flags & !(libc::O_CREAT | libc::O_EXCL),
                    0,
                ) {
                    Ok(_) if flags & libc::O_EXCL != 0 => Err(libc::EEXIST),
                    Ok(fd) => Ok(fd),
                    Err(libc::ENOENT) => Err(libc::EROFS),
                    Err(e) => Err(e),
                };
            }
        }
        self.open_in(r.mount, &r.rel, flags, mode)
    }

    /// An `O_PATH` fd of `r` itself (a symlink stays a symlink).
    pub fn path_fd(&self, r: &Resolved) -> Result<OwnedFd, i32> {
        if self.synthesized(r).is_some() {
            return Err(libc::ENOENT);
        }
        self.open_in(r.mount, &r.rel, libc::O_PATH | libc::O_NOFOLLOW, 0)
    }

    /// The parent directory of `r` (an `O_PATH` fd) and `r`'s name in it, for calls on the entry
    /// itself. `write`: the call changes the mount (EROFS on a read-only one). A mount's root has
    /// no parent in its mount: EBUSY.
    pub fn parent(&self, r: &Resolved, write: bool) -> Result<(OwnedFd, CString), i32> {
        if self.synthesized(r).is_some() {
            return Err(if write { libc::EROFS } else { libc::ENOENT });
        }
        if r.rel == "." {
            return Err(libc::EBUSY);
        }
        if write {
            self.check_writable(r)?;
        }
        let (dir, name) = match r.rel.rfind('/') {
            Some(i) => (&r.rel[..i], &r.rel[i + 1..]),
            None => (".", r.rel.as_str()),
        };
        let fd = self.open_in(r.mount, dir, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        Ok((fd, cstring(name)?))
    }

    /// Whether a directory entry `name` in guest directory `dir` is hidden from listings.
    pub fn hidden_entry(&self, dir: &str, name: &[u8]) -> bool {
        if !self.secrets || !dir.starts_with("/etc") {
            return false;
        }
        let name = String::from_utf8_lossy(name);
        secret(&format!("{}/{}", dir.trim_end_matches('/'), name))
    }

    /// Opens `path` (absolute, or relative to `cwd`, as the program names it) for `execve`:
    /// ENOENT, EACCES (not a regular file, or no execute permission), or the file and its
    /// normalized guest path.
    pub fn open_exec(&self, cwd: &str, path: &str) -> Result<(File, String), i32> {
        let r = self.resolve(cwd, path, true)?;
        let fd = self.open(&r, libc::O_RDONLY, 0)?;
        check_executable(fd.as_raw_fd())?;
        Ok((File::from(fd), r.guest))
    }
}

/// What `execve` asks of a file: a regular file with an execute bit (EACCES otherwise).
pub fn check_executable(fd: RawFd) -> Result<(), i32> {
    let st = fstat(fd)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG || st.st_mode & 0o111 == 0 {
        return Err(libc::EACCES);
    }
    Ok(())
}

/// readlink(2) of an `O_PATH | O_NOFOLLOW` fd of a symlink.
pub fn readlink_fd(fd: RawFd) -> Result<String, i32> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `buf` is valid for `len` bytes; empty path with an O_PATH fd reads the link itself.
    let n = unsafe { libc::readlinkat(fd, c"".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(errno());
    }
    buf.truncate(n as usize);
    String::from_utf8(buf).map_err(|_| libc::ENOENT)
}

/// Host paths the syscall server opens by name for synthesized files (`sys::procfs`), beyond
/// the mounts: read-write devices and read-only procfs.
const HOST_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];
const HOST_READ_ONLY: &[&str] = &["/proc"];

impl FsView {
    /// Confines the calling thread (the vCPU thread, which serves the program's syscalls) with
    /// Landlock to what this view can reach: each mount's host directory or file (read-only
    /// unless the mount is writable), the devices and procfs that synthesized files come from,
    /// nothing else; and TCP binds to the host ports `ports` publishes (and port 0) only. A
    /// second wall behind the path resolution and port policy above: a bug there cannot reach
    /// the rest of the host. Best effort: returns whether the kernel enforces it fully.
    pub fn confine_thread(&self, ports: &Ports) -> Result<bool, String> {
        use landlock::{
            Access, AccessFs, AccessNet, NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr,
            RulesetCreatedAttr, RulesetStatus, ABI,
        };
        let abi = ABI::V3;
        let read = AccessFs::from_read(abi);
        let all = AccessFs::from_all(abi);
        let err = |e: landlock::RulesetError| e.to_string();
        let mut rs = Ruleset::default()
            .handle_access(all)
            .map_err(err)?
            .handle_access(AccessNet::BindTcp)
            .map_err(err)?
            .create()
            .map_err(err)?;
        for port in std::iter::once(0).chain(ports.published.iter().map(|p| p.host)) {
            rs = rs
                .add_rule(NetPort::new(port, AccessNet::BindTcp))
                .map_err(err)?;
        }
        for m in &self.mounts {
            let Some(root) = &m.root else { continue };
            let fd = root.try_clone().map_err(|e| e.to_string())?;
            // A file mount (the program itself) takes only file rights.
            let is_dir =
                fstat(fd.as_raw_fd()).is_ok_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFDIR);
            let mut access = if m.rw { all } else { read };
            if !is_dir {
                access &= AccessFs::from_file(abi);
            }
            rs = rs.add_rule(PathBeneath::new(fd, access)).map_err(err)?;
        }
        if let Some(empty) = &self.empty {
            let fd = empty.try_clone().map_err(|e| e.to_string())?;
            rs = rs.add_rule(PathBeneath::new(fd, read)).map_err(err)?;
        }
        for (paths, access) in [
            (HOST_DEVICES, AccessFs::from_file(abi)),
            (HOST_READ_ONLY, read),
        ] {
            for p in paths {
                if let Ok(fd) = PathFd::new(p) {
                    let access = if p.starts_with("/dev/") {
                        access & !AccessFs::Execute
                    } else {
                        access
                    };
                    rs = rs.add_rule(PathBeneath::new(fd, access)).map_err(err)?;
                }
            }
        }
        let status = rs.restrict_self().map_err(err)?;
        deny_host_administration()?;
        Ok(status.ruleset == RulesetStatus::FullyEnforced)
    }
}

/// Host syscalls a thread serving a program never makes: administration of the host (mounts,
/// modules, clocks, swap, reboot), namespaces, tracing and reading other processes, BPF and
/// perf, keyrings, file handles that bypass paths. A seccomp filter makes them EPERM for the
/// serving threads (and the threads they start), a third wall behind the view and Landlock: a
/// bug in mvm's serving code cannot use them.
const DENIED_SYSCALLS: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kcmp,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_iopl,
    libc::SYS_ioperm,
    libc::SYS_syslog,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_adjtimex,
    libc::SYS_clock_adjtime,
    libc::SYS_fanotify_init,
    libc::SYS_vhangup,
];

/// Installs the filter of `DENIED_SYSCALLS` on the calling thread.
fn deny_host_administration() -> Result<(), String> {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    let rules = DENIED_SYSCALLS.iter().map(|&nr| (nr, Vec::new())).collect();
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        TargetArch::x86_64,
    )
    .map_err(|e| format!("seccomp filter: {e}"))?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| format!("seccomp filter: {e}"))?;
    seccompiler::apply_filter(&program).map_err(|e| format!("seccomp: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4], port: u16) -> Vec<u8> {
        let mut v = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        v.extend(port.to_be_bytes());
        v.extend(a);
        v.extend([0u8; 8]);
        v
    }

    fn v6(a: [u8; 16], port: u16) -> Vec<u8> {
        let mut v = (libc::AF_INET6 as u16).to_ne_bytes().to_vec();
        v.extend(port.to_be_bytes());
        v.extend([0u8; 4]);
        v.extend(a);
        v.extend([0u8; 4]);
        v
    }

    #[test]
    fn loopback_reaches_the_runs_own_ports_only() {
        let ports = Ports::new(
            &[Publish {
                host: 18080,
                guest: 80,
            }],
            false,
        );
        ports.bound(40000);
        let mut mapped = [0u8; 16];
        mapped[10..12].copy_from_slice(&[0xff, 0xff]);
        mapped[12..].copy_from_slice(&[127, 0, 0, 1]);
        let mut one = [0u8; 16];
        one[15] = 1;
        for (mut a, want) in [
            (v4([127, 0, 0, 1], 5432), Err(libc::ECONNREFUSED)),
            (v4([127, 1, 2, 3], 5432), Err(libc::ECONNREFUSED)),
            (v4([0, 0, 0, 0], 5432), Err(libc::ECONNREFUSED)),
            (v6(one, 5432), Err(libc::ECONNREFUSED)),
            (v6(mapped, 5432), Err(libc::ECONNREFUSED)),
            (v6([0; 16], 5432), Err(libc::ECONNREFUSED)),
            (v4([127, 0, 0, 53], 53), Ok(())),
            (v4([127, 0, 0, 1], 40000), Ok(())),
            (v6(one, 40000), Ok(())),
            (v4([192, 0, 2, 7], 5432), Ok(())),
        ] {
            assert_eq!(ports.outbound(&mut a), want, "{a:?}");
        }
        // The program's own published port by the number it knows: the host's port.
        let mut a = v4([127, 0, 0, 1], 80);
        assert_eq!(ports.outbound(&mut a), Ok(()));
        assert_eq!(u16::from_be_bytes([a[2], a[3]]), 18080);
        let shared = Ports::new(&[], true);
        assert_eq!(shared.outbound(&mut v4([127, 0, 0, 1], 5432)), Ok(()));
    }

    #[test]
    fn a_confined_thread_binds_only_published_tcp_ports() {
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (published, other) = (free(), free());
        let ports = Ports::new(
            &[Publish {
                host: published,
                guest: 80,
            }],
            false,
        );
        let base = std::env::temp_dir().join(format!("mvm-landlock-net-{}", std::process::id()));
        let (root, run) = (base.join("root"), base.join("run"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        let view = FsView::build(Some(&root), &[], &run, &[]).unwrap();
        let results = std::thread::spawn(move || {
            assert!(
                view.confine_thread(&ports).unwrap(),
                "Landlock not fully enforced"
            );
            [published, other, 0].map(|p| {
                std::net::TcpListener::bind(("127.0.0.1", p))
                    .map(|_| ())
                    .map_err(|e| e.kind())
            })
        })
        .join()
        .unwrap();
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(results[0], Ok(()), "the published port");
        assert_eq!(
            results[1],
            Err(std::io::ErrorKind::PermissionDenied),
            "another port"
        );
        assert_eq!(results[2], Ok(()), "port 0");
    }

    #[test]
    fn a_confined_thread_cannot_administer_the_host() {
        let base = std::env::temp_dir().join(format!("mvm-seccomp-{}", std::process::id()));
        let (root, run) = (base.join("root"), base.join("run"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        let view = FsView::build(Some(&root), &[], &run, &[]).unwrap();
        let errnos = std::thread::spawn(move || {
            view.confine_thread(&Ports::default()).unwrap();
            // SAFETY: plain syscalls, each expected to fail.
            let calls = unsafe {
                [
                    libc::unshare(libc::CLONE_NEWUSER),
                    libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) as libc::c_int,
                    libc::syscall(libc::SYS_bpf, 0, 0, 0) as libc::c_int,
                    libc::mount(
                        c"none".as_ptr(),
                        c"/".as_ptr(),
                        std::ptr::null(),
                        0,
                        std::ptr::null(),
                    ),
                ]
            };
            let errno = errno();
            // What serving needs still works: a thread, a file, the clock.
            let ok = std::thread::spawn(|| 7).join().unwrap() == 7
                && std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .is_ok();
            (calls, errno, ok)
        })
        .join()
        .unwrap();
        assert_eq!(errnos.0, [-1; 4]);
        assert_eq!(errnos.1, libc::EPERM);
        assert!(errnos.2);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_confined_thread_reaches_the_view_and_nothing_else() {
        let base = std::env::temp_dir().join(format!("mvm-landlock-{}", std::process::id()));
        let (root, run) = (base.join("root"), base.join("run"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(root.join("inside"), b"yes").unwrap();
        let view = FsView::build(Some(&root), &[], &run, &[]).unwrap();
        let (inside, outside) = std::thread::spawn(move || {
            let enforced = view.confine_thread(&Ports::default()).unwrap();
            let r = view.resolve("/", "/inside", true).unwrap();
            let inside = view.open(&r, libc::O_RDONLY, 0).is_ok();
            let outside = std::fs::read("/etc/hostname");
            assert!(enforced, "Landlock is not fully enforced on this kernel");
            (inside, outside.map_err(|e| e.kind()))
        })
        .join()
        .unwrap();
        assert!(inside, "the view's own files stay reachable");
        assert_eq!(outside, Err(std::io::ErrorKind::PermissionDenied));
        // This thread was not confined.
        assert!(std::fs::read("/etc/hostname").is_ok());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn secrets() {
        assert!(secret("/etc/shadow"));
        assert!(secret("/etc/sudoers.d/x"));
        assert!(secret("/etc/ssh/ssh_host_rsa_key"));
        assert!(!secret("/etc/ssh/ssh_host_rsa_key.pub"));
        assert!(!secret("/etc/passwd"));
        assert!(!secret("/etc/shadowx"));
        assert!(secret("/etc/ssl/private/a.pem"));
    }

    #[test]
    fn volumes() {
        assert!(Volume::parse("/nonexistent-xyz:/data").is_err());
        assert!(Volume::parse("/tmp:data").is_err());
        assert!(Volume::parse("/tmp:/data:rx").is_err());
        let v = Volume::parse("/tmp:/data/:rw").unwrap();
        assert_eq!((v.guest.as_str(), v.rw), ("/data", true));
    }
}
