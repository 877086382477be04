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
//! directory's fd and a single name. Guest paths are bytes (`Vec<u8>`, `&[u8]`) from the program
//! to the host and back, as Linux names are; only the mount points, from mvm's command line, are
//! text, and they are matched against guest paths byte by byte.
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

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use crate::spec::{Network, Proto, Publish, Volume};
use crate::sys::fs::{join, normalize};

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
    /// Guest path: `/` or `/a/b` (normalized, no trailing slash); bytes, as the program's
    /// paths are (the program itself may live at a path that is not UTF-8).
    pub guest: Vec<u8>,
    /// The host directory or file, opened `O_PATH` (none for synthesized mounts).
    root: Option<OwnedFd>,
    /// Writable.
    pub rw: bool,
    /// What it serves.
    pub kind: MountKind,
    /// Host inodes `(dev, ino)` never served from this mount (secrets, and their hard links).
    hidden: HashSet<(u64, u64)>,
}

/// What a run's sockets may bind and reach (decided here, enforced by `sys::net`), as on
/// Docker's default network: a program may bind any port; a published one (`-p`) is bound on
/// the host's port and address the publication names, any other on the host's loopback at a
/// port the host picks, which the run's programs reach by the number the program knows (the
/// run's ports are kept here: `bound`). Its loopback is its own: a connection to 127.0.0.1 or
/// ::1 reaches the run's own ports, DNS on port 53, and the host's loopback peers that
/// contacted the run (UDP replies), and is refused otherwise. `--network none`: nothing beyond
/// that loopback; `--network host`: the host's ports and loopback, as they are.
#[derive(Debug, Clone, Default)]
pub struct Ports {
    published: Vec<Publish>,
    network: Network,
    /// The run's bound ports (shared by its programs).
    own: Arc<Mutex<Vec<Own>>>,
    /// Loopback peers (protocol, host port) that sent to one of the run's sockets.
    peers: Arc<Mutex<HashSet<(Proto, u16)>>>,
    /// Where UDP to the host's loopback goes instead (IPv4 and IPv6 sockets mvm holds and
    /// never reads), made when first needed.
    sinks: Arc<Mutex<Option<(std::net::UdpSocket, std::net::UdpSocket)>>>,
}

/// One of the run's bound ports.
#[derive(Debug, Clone, Copy)]
struct Own {
    proto: Proto,
    /// The port the program knows.
    guest: u16,
    /// The host's port.
    host: u16,
    /// The address the program bound.
    ip: IpAddr,
    /// The program's socket is IPv6.
    v6: bool,
    /// Bound on IPv4 loopback only (127.0.0.1, also v4-mapped on an IPv6 socket).
    v4: bool,
}

/// Where a loopback connection may always go: DNS stubs (systemd-resolved's 127.0.0.53).
const DNS_PORT: u16 = 53;
/// Most loopback peers remembered for replies.
const MAX_PEERS: usize = 4096;

/// Where the host socket of a program's bind goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindTo {
    /// The host address to bind instead of the program's (`None`: the program's).
    pub ip: Option<IpAddr>,
    /// The host port (0: the host picks one).
    pub port: u16,
}

impl Ports {
    /// The run's publications and network mode.
    pub fn new(published: &[Publish], network: Network) -> Ports {
        Ports {
            published: published.to_vec(),
            network,
            ..Default::default()
        }
    }

    /// The host ports the run's TCP sockets may bind (Landlock), or `None` for any.
    pub fn tcp_binds(&self) -> Option<Vec<u16>> {
        (self.network != Network::Host).then(|| {
            let mut v: Vec<u16> = self
                .published
                .iter()
                .filter(|p| p.proto == Proto::Tcp)
                .map(|p| p.host)
                .collect();
            v.push(0);
            v
        })
    }

    /// Where the program's bind of `addr` (a socket address in the host's layout, its port the
    /// program's) with protocol `proto` goes on the host. An unpublished port goes on loopback
    /// (the program's own loopback address if it named one; 127.0.0.1 otherwise, v4-mapped on
    /// an IPv6 socket so that both families reach it: `outbound`).
    pub fn bind(&self, proto: Proto, addr: &[u8]) -> BindTo {
        let guest = port_of(addr).unwrap_or(0);
        let v6 = family_of(addr) == Some(libc::AF_INET6);
        let loopback = if is_loopback(addr) && !is_unspecified(addr) {
            None
        } else if v6 {
            Some(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()))
        } else {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        };
        match self.network {
            Network::Host => BindTo {
                ip: None,
                port: guest,
            },
            // The host picks a port, on the program's address: what a client socket needs.
            _ if guest == 0 => BindTo { ip: None, port: 0 },
            Network::None => BindTo {
                ip: loopback,
                port: 0,
            },
            Network::Default => match self
                .published
                .iter()
                .find(|p| p.guest == guest && p.proto == proto)
            {
                Some(p) => BindTo {
                    ip: p.ip.map(|ip| match (ip, v6) {
                        (IpAddr::V4(a), true) => IpAddr::V6(a.to_ipv6_mapped()),
                        (ip, _) => ip,
                    }),
                    port: p.host,
                },
                None => BindTo {
                    ip: loopback,
                    port: 0,
                },
            },
        }
    }

    /// Records that one of the run's sockets, asked to bind `asked` (the program's address and
    /// port), bound `host` (socket addresses in the host's layout).
    pub fn bound(&self, proto: Proto, asked: &[u8], host: &[u8]) {
        let (Some(port), Some(ip)) = (port_of(host), ip_of(asked)) else {
            return;
        };
        let guest = port_of(asked).filter(|&p| p != 0).unwrap_or(port);
        let v4 = family_of(host) == Some(libc::AF_INET) || is_v4_mapped(host);
        let mut own = self.own.lock().unwrap();
        own.retain(|o| !(o.proto == proto && o.host == port));
        own.push(Own {
            proto,
            guest,
            host: port,
            ip,
            v6: family_of(asked) == Some(libc::AF_INET6),
            v4,
        });
    }

    /// A host socket address of one of the run's sockets as the program knows it: its port,
    /// and for its own name (`own`) the address it bound.
    pub fn shown(&self, proto: Proto, addr: &mut [u8], own: bool) {
        let Some(port) = port_of(addr) else { return };
        let found = self
            .own
            .lock()
            .unwrap()
            .iter()
            .find(|o| o.proto == proto && o.host == port)
            .copied();
        if let Some(o) = found {
            set_port(addr, o.guest);
            if own {
                let _ = set_ip(addr, o.ip);
            }
        }
    }

    /// The run's own port `guest`, if one of its sockets bound it.
    fn own_port(&self, proto: Proto, guest: u16) -> Option<Own> {
        let own = self.own.lock().unwrap();
        own.iter()
            .rev()
            .find(|o| o.proto == proto && o.guest == guest)
            .copied()
    }

    /// Notes that a loopback peer at host port `port` sent to one of the run's sockets: it may
    /// be answered.
    pub fn heard_from(&self, proto: Proto, addr: &[u8]) {
        if self.network != Network::Default || !is_loopback(addr) {
            return;
        }
        let Some(port) = port_of(addr) else { return };
        if self.own_port(proto, port).is_some() {
            return;
        }
        let mut peers = self.peers.lock().unwrap();
        if peers.len() >= MAX_PEERS {
            peers.clear();
        }
        peers.insert((proto, port));
    }

    /// Checks a destination the program gives (a socket address in the host's layout) and, for
    /// the run's own port on loopback, rewrites the port to the host's: ECONNREFUSED for the
    /// host's loopback services unless the run shares them, ENETUNREACH off loopback with
    /// `--network none`. An AF_UNSPEC destination is checked as the IPv4 one the host's UDP
    /// takes it for, and stays AF_UNSPEC (which an IPv6 socket ignores).
    pub fn outbound(&self, proto: Proto, addr: &mut [u8]) -> Result<(), i32> {
        if self.network == Network::Host {
            return Ok(());
        }
        if family_of(addr) == Some(libc::AF_UNSPEC) {
            let mut v4 = addr.to_vec();
            v4[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            self.outbound(proto, &mut v4)?;
            addr[2..].copy_from_slice(&v4[2..]);
            return Ok(());
        }
        if !is_loopback(addr) {
            return match self.network {
                Network::None => Err(libc::ENETUNREACH),
                _ => Ok(()),
            };
        }
        let Some(port) = port_of(addr) else {
            return Ok(());
        };
        if let Some(o) = self.own_port(proto, port) {
            let to_v6 = family_of(addr) == Some(libc::AF_INET6) && !is_v4_mapped(addr);
            if to_v6 && !o.v6 {
                // An IPv4 socket's port, asked for over IPv6: nothing listens there.
                return Err(libc::ECONNREFUSED);
            }
            set_port(addr, o.host);
            if to_v6 && o.v4 {
                set_ip(addr, IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()))?;
            }
            return Ok(());
        }
        if self.network == Network::Default
            && (port == DNS_PORT || self.peers.lock().unwrap().contains(&(proto, port)))
        {
            return Ok(());
        }
        if proto == Proto::Udp {
            // A datagram to a closed port is sent all the same (connect(2) of a UDP socket
            // checks nothing): it goes to a sink instead of the host's service.
            return self.to_sink(addr);
        }
        Err(libc::ECONNREFUSED)
    }

    /// Points a UDP destination on loopback at the run's sink, of its family.
    fn to_sink(&self, addr: &mut [u8]) -> Result<(), i32> {
        use std::net::{Ipv6Addr, UdpSocket};
        let mut sinks = self.sinks.lock().unwrap();
        if sinks.is_none() {
            let v4 = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|_| libc::ENOBUFS)?;
            let v6 = UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).or_else(|_| v4.try_clone());
            *sinks = Some((v4, v6.map_err(|_| libc::ENOBUFS)?));
        }
        let (v4, v6) = sinks.as_ref().expect("made above");
        let port = |s: &UdpSocket| s.local_addr().map(|a| a.port()).unwrap_or(0);
        let v6_dest = family_of(addr) == Some(libc::AF_INET6) && !is_v4_mapped(addr);
        let v6_sink = v6.local_addr().is_ok_and(|a| a.is_ipv6());
        let (ip, p) = if v6_dest && v6_sink {
            (IpAddr::V6(Ipv6Addr::LOCALHOST), port(v6))
        } else {
            (IpAddr::V4(Ipv4Addr::LOCALHOST), port(v4))
        };
        set_ip(addr, ip)?;
        set_port(addr, p);
        Ok(())
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

/// Sets the address of an IPv4/IPv6 socket address: an IPv4 one on an IPv6 socket address is
/// v4-mapped; an IPv6 one on an IPv4 socket address is EADDRNOTAVAIL unless v4-mapped.
pub fn set_ip(addr: &mut [u8], ip: IpAddr) -> Result<(), i32> {
    match (family_of(addr), ip) {
        (Some(libc::AF_INET), IpAddr::V4(a)) if addr.len() >= 8 => {
            addr[4..8].copy_from_slice(&a.octets())
        }
        (Some(libc::AF_INET), IpAddr::V6(a)) if addr.len() >= 8 => {
            let a = a.to_ipv4_mapped().ok_or(libc::EADDRNOTAVAIL)?;
            addr[4..8].copy_from_slice(&a.octets());
        }
        (Some(libc::AF_INET6), ip) if addr.len() >= 24 => {
            let a = match ip {
                IpAddr::V4(a) => a.to_ipv6_mapped(),
                IpAddr::V6(a) => a,
            };
            addr[8..24].copy_from_slice(&a.octets());
        }
        _ => return Err(libc::EINVAL),
    }
    Ok(())
}

/// The address of an IPv4/IPv6 socket address.
fn ip_of(addr: &[u8]) -> Option<IpAddr> {
    match family_of(addr)? {
        libc::AF_INET if addr.len() >= 8 => {
            Some(IpAddr::from(<[u8; 4]>::try_from(&addr[4..8]).ok()?))
        }
        libc::AF_INET6 if addr.len() >= 24 => {
            Some(IpAddr::from(<[u8; 16]>::try_from(&addr[8..24]).ok()?))
        }
        _ => None,
    }
}

/// Whether an IPv6 socket address is v4-mapped (`::ffff:a.b.c.d`).
fn is_v4_mapped(addr: &[u8]) -> bool {
    family_of(addr) == Some(libc::AF_INET6)
        && addr.len() >= 24
        && addr[8..18].iter().all(|&b| b == 0)
        && addr[18..20] == [0xff, 0xff]
}

/// Whether an IPv4/IPv6 socket address is the unspecified address (0.0.0.0, ::, and
/// ::ffff:0.0.0.0, which an IPv6 socket binds as every IPv4 address).
fn is_unspecified(addr: &[u8]) -> bool {
    match family_of(addr) {
        Some(libc::AF_INET) => addr.len() >= 8 && addr[4..8] == [0; 4],
        Some(libc::AF_INET6) => {
            addr.len() >= 24
                && (addr[8..24] == [0; 16] || (is_v4_mapped(addr) && addr[20..24] == [0; 4]))
        }
        _ => false,
    }
}

/// Whether an IPv4/IPv6 socket address names this machine's loopback: 127.0.0.0/8 or ::1, or
/// the unspecified address (a connection to it goes to loopback), also as v4-mapped IPv6.
pub fn is_loopback(addr: &[u8]) -> bool {
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

/// An I/O error as one lower-case phrase, without Rust's "(os error N)".
pub fn io_text(e: &std::io::Error) -> String {
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
    pub guest: Vec<u8>,
    /// Index of its mount.
    pub mount: usize,
    /// Path inside the mount: `.` for the mount's root.
    pub rel: Vec<u8>,
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
    /// The working directory mvm started in, shown as an empty directory (the default view
    /// without a volume there): a path under it that the host has is worth a hint.
    pub empty_cwd: Option<Vec<u8>>,
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
            empty_cwd: self.empty_cwd.clone(),
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

fn cstring(s: &[u8]) -> Result<CString, i32> {
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
fn secret(guest: &[u8]) -> bool {
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
    if HIDDEN.iter().any(|h| {
        guest == h.as_bytes()
            || guest
                .strip_prefix(h.as_bytes())
                .is_some_and(|r| r.starts_with(b"/"))
    }) {
        return true;
    }
    if let Some(name) = guest.strip_prefix(b"/etc/ssh/") {
        return !name.contains(&b'/')
            && name.windows(3).any(|w| w == b"key")
            && !name.ends_with(b".pub");
    }
    guest.starts_with(b"/etc/ssl/private/")
}

/// Components of a guest path.
fn components(p: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    p.split(|&b| b == b'/').filter(|c| !c.is_empty())
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
/// once, atomically), or built in `scratch` when there is no cache.
fn synthetic_root(
    recipe: &[(char, String, String)],
    cache: Option<&Path>,
    scratch: &Path,
) -> Result<PathBuf, String> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (k, a, b) in recipe {
        for byte in format!("{k}\0{a}\0{b}\0").bytes() {
            h = (h ^ byte as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    let final_dir = match cache {
        Some(c) => c.join("roots").join(format!("{h:016x}")),
        None => scratch.join("root"),
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

    /// The view of one run. `private` are the run's own writable directories (its `/tmp`,
    /// `/dev/shm`, `--tmpfs`: `tmpfs`), each a guest path and the descriptor of its root;
    /// `scratch` is a directory of the run's for what would be cached if mvm had a cache (the
    /// default view's synthetic root); `extra_dirs` are guest directories to create in that root
    /// (the working directory).
    pub fn build(
        rootfs: Option<&Path>,
        volumes: &[Volume],
        private: Vec<(String, OwnedFd)>,
        scratch: &Path,
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
        // root) is built once and cached; only the private directories are new for each run.
        let cache = shared_dir_base();
        let empty = match &cache {
            Some(c) => c.join("empty"),
            None => scratch.join("empty"),
        };
        std::fs::create_dir_all(&empty).map_err(io(&empty))?;
        v.empty = Some(host_dir(&empty)?);
        match rootfs {
            Some(r) => v.add(
                b"/",
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
                            format!("/{d}").as_bytes(),
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
                for d in extra_dirs
                    .iter()
                    .copied()
                    .chain(private.iter().map(|p| p.0.as_str()))
                {
                    recipe.push(('d', d.to_string(), String::new()));
                }
                let root = synthetic_root(&recipe, cache.as_deref(), scratch)?;
                v.add(b"/", Some(host_dir(&root)?), false, MountKind::Dir);
                v.hide_secrets();
            }
        }
        v.add(b"/proc", None, false, MountKind::Proc);
        // A few of sysfs's files, synthesized with procfs's (the CPUs, which programs count).
        v.add(b"/sys", None, false, MountKind::Proc);
        v.add(b"/dev", None, false, MountKind::Dev);
        for (guest, root) in private {
            v.add(guest.as_bytes(), Some(root), true, MountKind::Dir);
        }
        for vol in volumes {
            let kind = if vol.host.is_dir() {
                MountKind::Dir
            } else {
                MountKind::File
            };
            v.add(
                vol.guest.as_bytes(),
                Some(host_dir(&vol.host)?),
                vol.rw,
                kind,
            );
        }
        Ok(v)
    }

    fn add(&mut self, guest: &[u8], root: Option<OwnedFd>, rw: bool, kind: MountKind) {
        self.mounts.retain(|m| m.guest != guest);
        self.mounts.push(Mount {
            guest: guest.to_vec(),
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
                    if secret(g.as_os_str().as_bytes()) {
                        note(&g);
                    }
                }
            }
        }
        if let Some(m) = self.mounts.iter_mut().find(|m| m.guest == b"/etc") {
            m.hidden = ids;
        }
    }

    /// Makes the host file `host` (absolute) visible, read-only, at its own path (the program
    /// itself), unless the view already shows it there.
    pub fn expose_file(&mut self, host: &Path) -> Result<(), String> {
        let guest = host.as_os_str().as_bytes();
        let exec = self.open_exec(b"/", guest);
        if let (Ok((f, _)), Ok(md)) = (exec, std::fs::metadata(host)) {
            use std::os::unix::fs::MetadataExt;
            if f.metadata()
                .is_ok_and(|m| m.ino() == md.ino() && m.dev() == md.dev())
            {
                return Ok(());
            }
        }
        // The mount needs no mount point: paths go to mounts by their guest prefix.
        self.add(guest, Some(host_dir(host)?), false, MountKind::File);
        Ok(())
    }

    /// Shows the host file `host` read-only at guest path `guest` (a file mvm wrote for the
    /// run: `/etc/hostname`, `/etc/hosts`).
    pub fn add_file(&mut self, guest: &str, host: &Path) -> Result<(), String> {
        self.add(
            guest.as_bytes(),
            Some(host_dir(host)?),
            false,
            MountKind::File,
        );
        Ok(())
    }

    /// Whether guest path `guest` lies in the view's root mount (nothing is mounted there).
    pub fn in_root_mount(&self, guest: &[u8]) -> bool {
        self.mount_of(guest)
            .is_some_and(|(m, _)| self.mounts[m].guest == b"/")
    }

    /// Whether something is mounted at guest path `guest` (the run's own /dev/pts, say).
    pub fn has_mount(&self, guest: &str) -> bool {
        self.mounts.iter().any(|m| m.guest == guest.as_bytes())
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

    fn mount_of(&self, guest: &[u8]) -> Option<(usize, Vec<u8>)> {
        let trim = |r: &[u8]| -> usize { r.iter().take_while(|&&b| b == b'/').count() };
        for (i, m) in self.mounts.iter().enumerate() {
            let rest = if m.guest == b"/" {
                Some(&guest[trim(guest)..])
            } else {
                under(guest, &m.guest).map(|r| &r[trim(r)..])
            };
            if let Some(r) = rest {
                let rel: &[u8] = if r.is_empty() { b"." } else { r };
                return Some((i, rel.to_vec()));
            }
        }
        None
    }

    /// Opens `rel` inside mount `m` (no `..`, no symlinks) with host `flags`.
    fn open_in(&self, m: usize, rel: &[u8], flags: i32, mode: u32) -> Result<OwnedFd, i32> {
        let mount = &self.mounts[m];
        let root = mount.root.as_ref().ok_or(libc::ENOENT)?;
        let fd = if mount.kind == MountKind::File {
            if rel != b"." {
                return Err(libc::ENOTDIR);
            }
            if flags & libc::O_DIRECTORY != 0 {
                return Err(libc::ENOTDIR);
            }
            // Reopen the file through mvm's own descriptor of it (not a guest path).
            let p = cstring(format!("/proc/self/fd/{}", root.as_raw_fd()).as_bytes())?;
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
    pub fn resolve(&self, base: &[u8], path: &[u8], follow: bool) -> Result<Resolved, i32> {
        if path.is_empty() {
            return Err(libc::ENOENT);
        }
        if path.len() >= libc::PATH_MAX as usize {
            return Err(libc::ENAMETOOLONG);
        }
        let dir_only = path.ends_with(b"/") || path.ends_with(b"/.") || path.ends_with(b"/..");
        let follow = follow || dir_only;
        // Fast path: no `..`, so the lexical path is the real one unless a symlink is met.
        let r = if !components(path).any(|c| c == b"..") {
            let guest = normalize(base, path);
            self.fast(&guest, follow)
        } else {
            None
        };
        let mut r = r.unwrap_or_else(|| self.walk(base, path, follow))?;
        r.follow = follow;
        Ok(r)
    }

    fn fast(&self, guest: &[u8], follow: bool) -> Option<Result<Resolved, i32>> {
        if self.secrets && secret(guest) {
            return Some(Err(libc::ENOENT));
        }
        let (m, rel) = self.mount_of(guest)?;
        let r = Resolved {
            guest: guest.to_vec(),
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

    fn walk(&self, base: &[u8], path: &[u8], follow: bool) -> Result<Resolved, i32> {
        let mut done: Vec<Vec<u8>> = if path.starts_with(b"/") {
            Vec::new()
        } else {
            components(base).map(<[u8]>::to_vec).collect()
        };
        let mut todo: std::collections::VecDeque<Vec<u8>> =
            components(path).map(<[u8]>::to_vec).collect();
        let mut links = 0;
        while let Some(c) = todo.pop_front() {
            match c.as_slice() {
                b"." => continue,
                b".." => {
                    done.pop();
                    continue;
                }
                _ => done.push(c),
            }
            let guest = join(&done);
            if self.secrets && secret(&guest) {
                return Err(libc::ENOENT);
            }
            let (m, rel) = self.mount_of(&guest).ok_or(libc::ENOENT)?;
            if !matches!(self.mounts[m].kind, MountKind::Dir | MountKind::File) {
                // Synthesized: its names are the synthesizer's, taken as they are; a `..` that
                // leaves it, or a deeper real mount (/dev/shm), is walked on from where it leads.
                continue;
            }
            let last = todo.iter().all(|t| t == b".");
            if last && !follow {
                break;
            }
            // A directory on the way to a deeper mount (a volume under /tmp, say) exists in the
            // view even where the enclosing mount has no such directory (or has something
            // else there), when the path goes on into that mount.
            let deeper = |mt: &Mount| under(&mt.guest, &guest).is_some_and(|r| !r.is_empty());
            if !last && self.mounts.iter().any(deeper) {
                let ahead = normalize(
                    &guest,
                    &todo.iter().cloned().collect::<Vec<_>>().join(&b'/'),
                );
                let into = |mt: &Mount| deeper(mt) && under(&ahead, &mt.guest).is_some();
                if self.mounts.iter().any(into) {
                    continue;
                }
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
                    if target.starts_with(b"/") {
                        done.clear();
                    }
                    for t in components(&target).rev() {
                        todo.push_front(t.to_vec());
                    }
                }
                libc::S_IFDIR => {}
                _ if !last => return Err(libc::ENOTDIR),
                _ => {}
            }
        }
        let guest = join(&done);
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
                    (MountKind::Proc, _) if m.guest == b"/sys" => "sysfs",
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
        if r.rel == b"." {
            return Err(libc::EBUSY);
        }
        if write {
            self.check_writable(r)?;
        }
        let (dir, name): (&[u8], &[u8]) = match r.rel.iter().rposition(|&b| b == b'/') {
            Some(i) => (&r.rel[..i], &r.rel[i + 1..]),
            None => (b".", &r.rel),
        };
        let fd = self.open_in(r.mount, dir, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        Ok((fd, cstring(name)?))
    }

    /// Whether a directory entry `name` in guest directory `dir` is hidden from listings.
    pub fn hidden_entry(&self, dir: &[u8], name: &[u8]) -> bool {
        if !self.secrets || !dir.starts_with(b"/etc") {
            return false;
        }
        let dir = &dir[..dir.len() - dir.iter().rev().take_while(|&&b| b == b'/').count()];
        secret(&[dir, b"/", name].concat())
    }

    /// Opens `path` (absolute, or relative to `cwd`, as the program names it) for `execve`:
    /// ENOENT, EACCES (not a regular file, or no execute permission), or the file and its
    /// normalized guest path.
    pub fn open_exec(&self, cwd: &[u8], path: &[u8]) -> Result<(File, Vec<u8>), i32> {
        let r = self.resolve(cwd, path, true)?;
        self.open_exec_resolved(r)
    }

    /// `open_exec` of a path already resolved (not in a synthesized mount).
    pub fn open_exec_resolved(&self, r: Resolved) -> Result<(File, Vec<u8>), i32> {
        let fd = self.open(&r, libc::O_RDONLY, 0)?;
        check_executable(fd.as_raw_fd())?;
        Ok((File::from(fd), r.guest))
    }
}

/// What `execve` asks of a file: a regular file with an execute bit, on a file system that
/// allows executing (not `noexec`); EACCES otherwise.
pub fn check_executable(fd: RawFd) -> Result<(), i32> {
    let st = fstat(fd)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG || st.st_mode & 0o111 == 0 {
        return Err(libc::EACCES);
    }
    // SAFETY: a plain struct filled by the host.
    let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `vfs` is valid for writing.
    if unsafe { libc::fstatvfs(fd, &mut vfs) } == 0 && vfs.f_flag & libc::ST_NOEXEC != 0 {
        return Err(libc::EACCES);
    }
    Ok(())
}

/// readlink(2) of an `O_PATH | O_NOFOLLOW` fd of a symlink.
pub fn readlink_fd(fd: RawFd) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `buf` is valid for `len` bytes; empty path with an O_PATH fd reads the link itself.
    let n = unsafe { libc::readlinkat(fd, c"".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(errno());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// What is left of guest path `p` below the mount point `at`: `p` itself, or a path under it
/// (the rest begins with `/`, or is empty). Bytes, so a name that is not UTF-8 matches too.
fn under<'a>(p: &'a [u8], at: &[u8]) -> Option<&'a [u8]> {
    if at == b"/" {
        return p.starts_with(b"/").then_some(p);
    }
    p.strip_prefix(at)
        .filter(|r| r.is_empty() || r.starts_with(b"/"))
}

/// Host paths the syscall server opens by name for synthesized files (`sys::procfs`), beyond
/// the mounts: read-write devices and read-only procfs.
const HOST_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];
const HOST_READ_ONLY: &[&str] = &["/proc"];

impl FsView {
    /// Confines the calling thread (the vCPU thread, which serves the program's syscalls) with
    /// Landlock to what this view can reach: each mount's host directory or file (read-only
    /// unless the mount is writable), the devices and procfs that synthesized files come from,
    /// nothing else (but the run's terminal, `tty`); and TCP binds to the host ports `ports`
    /// publishes (and port 0) only, unless the run has the host's network. A second wall behind
    /// the path resolution and port policy above: a bug there cannot reach the rest of the
    /// host. Best effort: returns whether the kernel enforces it fully.
    pub fn confine_thread(&self, ports: &Ports, tty: Option<RawFd>) -> Result<bool, String> {
        use landlock::{
            Access, AccessFs, AccessNet, NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr,
            RulesetCreatedAttr, RulesetStatus, ABI,
        };
        let abi = ABI::V3;
        let read = AccessFs::from_read(abi);
        let all = AccessFs::from_all(abi);
        let err = |e: landlock::RulesetError| e.to_string();
        let binds = ports.tcp_binds();
        let mut rs = Ruleset::default().handle_access(all).map_err(err)?;
        if binds.is_some() {
            rs = rs.handle_access(AccessNet::BindTcp).map_err(err)?;
        }
        let mut rs = rs.create().map_err(err)?;
        for port in binds.unwrap_or_default() {
            rs = rs
                .add_rule(NetPort::new(port, AccessNet::BindTcp))
                .map_err(err)?;
        }
        if let Some(fd) = tty {
            // SAFETY: `fd` is the run's terminal, which mvm holds for the whole run.
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
                .try_clone_to_owned()
                .map_err(|e| e.to_string())?;
            let access = AccessFs::from_file(abi) & !AccessFs::Execute;
            rs = rs.add_rule(PathBeneath::new(fd, access)).map_err(err)?;
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
        Ok(status.ruleset == RulesetStatus::FullyEnforced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guest and mount-relative paths of `r`, as text (every name in these tests is).
    fn text(r: &Resolved) -> (&str, &str) {
        let s = |b| std::str::from_utf8(b).unwrap();
        (s(&r.guest), s(&r.rel))
    }

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

    fn tcp(host: u16, guest: u16) -> Publish {
        Publish {
            ip: None,
            host,
            guest,
            proto: Proto::Tcp,
        }
    }

    #[test]
    fn loopback_reaches_the_runs_own_ports_only() {
        let ports = Ports::new(&[tcp(18080, 80)], Network::Default);
        ports.bound(Proto::Tcp, &v4([0, 0, 0, 0], 0), &v4([0, 0, 0, 0], 40000));
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
            (v4([192, 0, 2, 7], 5432), Ok(())),
        ] {
            assert_eq!(ports.outbound(Proto::Tcp, &mut a), want, "{a:?}");
        }
        // The program's own published port, once bound, by the number it knows: the host's.
        let mut a = v4([127, 0, 0, 1], 80);
        assert_eq!(ports.outbound(Proto::Tcp, &mut a), Err(libc::ECONNREFUSED));
        assert_eq!(
            ports.bind(Proto::Tcp, &v4([0, 0, 0, 0], 80)),
            BindTo {
                ip: None,
                port: 18080
            }
        );
        ports.bound(Proto::Tcp, &v4([0, 0, 0, 0], 80), &v4([0, 0, 0, 0], 18080));
        assert_eq!(ports.outbound(Proto::Tcp, &mut a), Ok(()));
        assert_eq!(u16::from_be_bytes([a[2], a[3]]), 18080);
        let mut name = v4([0, 0, 0, 0], 18080);
        ports.shown(Proto::Tcp, &mut name, true);
        assert_eq!(name, v4([0, 0, 0, 0], 80));
        // Only for TCP: 80/udp is not published, so it goes on loopback.
        let udp = ports.bind(Proto::Udp, &v4([0, 0, 0, 0], 80));
        assert_eq!(udp.ip, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(udp.port, 0);
        // The program's own loopback address stays; an IPv6 socket's unspecified address is
        // v4-mapped loopback.
        assert_eq!(ports.bind(Proto::Udp, &v4([127, 0, 0, 2], 81)).ip, None);
        assert_eq!(
            ports.bind(Proto::Tcp, &v6([0; 16], 81)).ip,
            Some(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()))
        );
        // An unpublished port: loopback, a port the host picks, reached by its own number.
        ports.bound(
            Proto::Udp,
            &v6([0; 16], 5000),
            &v6(Ipv4Addr::LOCALHOST.to_ipv6_mapped().octets(), 41000),
        );
        // Its name, as the program bound it.
        let mut name = v6(Ipv4Addr::LOCALHOST.to_ipv6_mapped().octets(), 41000);
        ports.shown(Proto::Udp, &mut name, true);
        assert_eq!(name, v6([0; 16], 5000));
        let mut a = v4([127, 0, 0, 1], 5000);
        assert_eq!(ports.outbound(Proto::Udp, &mut a), Ok(()));
        assert_eq!(u16::from_be_bytes([a[2], a[3]]), 41000);
        // An IPv4 listener is not reached over IPv6, as natively.
        assert_eq!(
            ports.outbound(Proto::Tcp, &mut v6(one, 40000)),
            Err(libc::ECONNREFUSED)
        );
        // ... from IPv6 too: ::1 is pointed at the v4-mapped loopback.
        let mut a = v6(one, 5000);
        assert_eq!(ports.outbound(Proto::Udp, &mut a), Ok(()));
        assert_eq!(&a[8..24], &Ipv4Addr::LOCALHOST.to_ipv6_mapped().octets());
        // A host peer that wrote to the run may be answered.
        let peer = v4([127, 0, 0, 1], 50123);
        let mut sunk = peer.clone();
        assert_eq!(ports.outbound(Proto::Udp, &mut sunk), Ok(()));
        assert_ne!(
            sunk, peer,
            "a datagram for the host's loopback goes to the sink"
        );
        ports.heard_from(Proto::Udp, &peer);
        let mut answer = peer.clone();
        assert_eq!(ports.outbound(Proto::Udp, &mut answer), Ok(()));
        assert_eq!(answer, peer);
        // The host's network: everything as it is; no network: loopback only.
        let host = Ports::new(&[], Network::Host);
        assert_eq!(
            host.outbound(Proto::Tcp, &mut v4([127, 0, 0, 1], 5432)),
            Ok(())
        );
        assert_eq!(host.bind(Proto::Tcp, &v4([0, 0, 0, 0], 80)).port, 80);
        let none = Ports::new(&[], Network::None);
        assert_eq!(
            none.outbound(Proto::Tcp, &mut v4([192, 0, 2, 7], 80)),
            Err(libc::ENETUNREACH)
        );
        assert_eq!(
            none.outbound(Proto::Tcp, &mut v4([127, 0, 0, 53], 53)),
            Err(libc::ECONNREFUSED)
        );
    }

    #[test]
    fn an_unpublished_port_on_the_v4_mapped_any_address_goes_on_loopback() {
        // Found by fuzz/fuzz_targets/sockaddr.rs: ::ffff:0.0.0.0 is the IPv4 any address on an
        // IPv6 socket; bound as the program asked, it listened on every host interface.
        let ports = Ports::new(&[], Network::Default);
        let mut any = [0u8; 16];
        any[10..12].copy_from_slice(&[0xff, 0xff]);
        for net in [Network::Default, Network::None] {
            let ports = Ports::new(&[], net);
            assert_eq!(
                ports.bind(Proto::Tcp, &v6(any, 4351)),
                BindTo {
                    ip: Some(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped())),
                    port: 0
                }
            );
        }
        // The program's own loopback address (v4-mapped) stays as it is.
        let mut lo = any;
        lo[12..].copy_from_slice(&[127, 0, 0, 2]);
        assert_eq!(ports.bind(Proto::Udp, &v6(lo, 4351)).ip, None);
    }

    #[test]
    fn an_af_unspec_destination_is_checked_as_the_ipv4_one_it_is() {
        // The host's UDP sends to an AF_UNSPEC sockaddr_in as if it were AF_INET
        // (udp_sendmsg): unchecked, sendto reached the host's loopback, and anywhere with
        // --network none.
        let unspec = |a, port| {
            let mut v = v4(a, port);
            v[..2].copy_from_slice(&(libc::AF_UNSPEC as u16).to_ne_bytes());
            v
        };
        let none = Ports::new(&[], Network::None);
        assert_eq!(
            none.outbound(Proto::Udp, &mut unspec([192, 0, 2, 7], 53)),
            Err(libc::ENETUNREACH)
        );
        let ports = Ports::new(&[], Network::Default);
        assert_eq!(
            ports.outbound(Proto::Tcp, &mut unspec([127, 0, 0, 1], 5432)),
            Err(libc::ECONNREFUSED)
        );
        let mut a = unspec([127, 0, 0, 1], 5432);
        assert_eq!(ports.outbound(Proto::Udp, &mut a), Ok(()));
        assert_ne!(
            a[2..4],
            5432u16.to_be_bytes(),
            "a datagram goes to the sink"
        );
        assert_eq!(family_of(&a), Some(libc::AF_UNSPEC), "left AF_UNSPEC");
        // Off loopback on the default network, and short ones, pass as they are.
        let mut far = unspec([192, 0, 2, 7], 53);
        assert_eq!(ports.outbound(Proto::Udp, &mut far), Ok(()));
        assert_eq!(far, unspec([192, 0, 2, 7], 53));
        assert_eq!(ports.outbound(Proto::Udp, &mut [0u8; 2]), Ok(()));
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
        let ports = Ports::new(&[tcp(published, 80)], Network::Default);
        let base = std::env::temp_dir().join(format!("mvm-landlock-net-{}", std::process::id()));
        let (root, run) = (base.join("root"), base.join("run"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        let view = FsView::build(Some(&root), &[], Vec::new(), &run, &[]).unwrap();
        let results = std::thread::spawn(move || {
            assert!(
                view.confine_thread(&ports, None).unwrap(),
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
    fn a_confined_thread_reaches_the_view_and_nothing_else() {
        let base = std::env::temp_dir().join(format!("mvm-landlock-{}", std::process::id()));
        let (root, run) = (base.join("root"), base.join("run"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(root.join("inside"), b"yes").unwrap();
        let view = FsView::build(Some(&root), &[], Vec::new(), &run, &[]).unwrap();
        let (inside, outside) = std::thread::spawn(move || {
            let enforced = view.confine_thread(&Ports::default(), None).unwrap();
            let r = view.resolve(b"/", b"/inside", true).unwrap();
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
    fn a_symlink_on_the_way_to_a_deeper_mount_is_followed_off_it() {
        // Found by fuzz/fuzz_targets/path.rs: with a volume at /esc/vol and /esc a symlink in
        // the root, /esc/f resolved to the root's "esc/f" through the host's symlink (ELOOP
        // on use, and a host location outside the mount); the walk skipped /esc as a
        // directory on the way to the volume even where the path does not go there.
        let base = std::env::temp_dir().join(format!("mvm-deeper-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (root, vol, run) = (base.join("root"), base.join("vol"), base.join("run"));
        for d in [root.join("dir"), vol.clone(), run.clone()] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(root.join("dir/f"), b"f").unwrap();
        std::fs::write(vol.join("y"), b"y").unwrap();
        std::os::unix::fs::symlink("dir", root.join("esc")).unwrap();
        let volume = Volume {
            host: vol.canonicalize().unwrap(),
            guest: "/esc/vol".into(),
            rw: false,
        };
        let view = FsView::build(Some(&root), &[volume], Vec::new(), &run, &[]).unwrap();
        for follow in [false, true] {
            let r = view.resolve(b"/", b"/esc/f", follow).unwrap();
            assert_eq!(text(&r), ("/dir/f", "dir/f"));
            // Into the volume, by the mount's path, with or without `..`.
            for p in ["/esc/vol/y", "/esc/vol/../vol/y", "/esc/../esc/vol/y"] {
                let r = view.resolve(b"/", p.as_bytes(), follow).unwrap();
                assert_eq!(text(&r), ("/esc/vol/y", "y"), "{p}");
            }
        }
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_path_that_leaves_a_synthesized_mount_by_dotdot_is_walked_on() {
        // Found by fuzz/fuzz_targets/path.rs: the rest of a path met in /proc was taken
        // lexically whatever it named, so /proc/x/../../t came out as /t, a symlink not
        // followed, and /proc/self/../../etc/security/opasswd passed the secret check.
        let base = std::env::temp_dir().join(format!("mvm-synth-dotdot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (root, run, shm) = (base.join("root"), base.join("run"), base.join("shm"));
        std::fs::create_dir_all(root.join("dir")).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        std::fs::create_dir_all(shm.join("d")).unwrap();
        std::os::unix::fs::symlink("dir", root.join("t")).unwrap();
        std::os::unix::fs::symlink("d", shm.join("l")).unwrap();
        let private = vec![("/dev/shm".to_string(), host_dir(&shm).unwrap())];
        let view = FsView::build(Some(&root), &[], private, &run, &[]).unwrap();
        let r = view.resolve(b"/", b"/proc/x/../../t", true).unwrap();
        assert_eq!(text(&r), ("/dir", "dir"));
        let r = view.resolve(b"/proc", b"self/../../t", false).unwrap();
        assert_eq!(text(&r), ("/t", "t"));
        // Within the synthesized mount, the rest is still the synthesizer's.
        let r = view.resolve(b"/", b"/proc/self/../1/status", true).unwrap();
        assert_eq!(r.guest, b"/proc/1/status");
        assert_eq!(view.synthesized(&r), Some(MountKind::Proc));
        // A real mount inside a synthesized one is walked as any other: a new name in it, a
        // symlink in it followed, and a `..` out of it back into the synthesized one.
        let r = view.resolve(b"/", b"/dev/shm/new", false).unwrap();
        assert_eq!(text(&r), ("/dev/shm/new", "new"));
        let r = view.resolve(b"/", b"/dev/shm/l/new", false).unwrap();
        assert_eq!(text(&r), ("/dev/shm/d/new", "d/new"));
        let r = view.resolve(b"/dev/shm", b"../null", true).unwrap();
        assert_eq!(r.guest, b"/dev/null");
        assert_eq!(view.synthesized(&r), Some(MountKind::Dev));
        let default = FsView::build(None, &[], Vec::new(), &run, &[]).unwrap();
        for p in [
            "/proc/self/../../etc/shadow",
            "/proc/self/../../etc/security/opasswd",
            "/sys/x/../../etc/security/opasswd",
        ] {
            assert_eq!(
                default.resolve(b"/", p.as_bytes(), true).err(),
                Some(libc::ENOENT),
                "{p}"
            );
        }
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn names_that_are_not_utf8_resolve_byte_for_byte() {
        // Paths were `String`s: a name that is not UTF-8 was ENOENT before it reached the host.
        use std::ffi::OsStr;
        let base = std::env::temp_dir().join(format!("mvm-bytes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (root, vol, run) = (base.join("root"), base.join("vol"), base.join("run"));
        let name = |b: &[u8]| OsStr::from_bytes(b).to_os_string();
        std::fs::create_dir_all(root.join(name(b"d\xff"))).unwrap();
        std::fs::create_dir_all(&vol).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(root.join(name(b"d\xff/f\x80")), b"x").unwrap();
        std::os::unix::fs::symlink(name(b"d\xff"), root.join(name(b"l\xc3("))).unwrap();
        std::fs::write(vol.join(name(b"\xfe")), b"y").unwrap();
        let volume = Volume {
            host: vol.canonicalize().unwrap(),
            guest: "/caf\u{e9}".into(),
            rw: false,
        };
        let view = FsView::build(Some(&root), &[volume], Vec::new(), &run, &[]).unwrap();
        for p in [
            &b"/d\xff/f\x80"[..],
            b"/l\xc3(/f\x80",
            b"/l\xc3(/../d\xff/f\x80",
        ] {
            let r = view.resolve(b"/", p, true).unwrap();
            assert_eq!(r.guest, b"/d\xff/f\x80", "{}", p.escape_ascii());
            assert_eq!(r.rel, b"d\xff/f\x80");
            assert!(view.open(&r, libc::O_RDONLY, 0).is_ok());
        }
        // A mount point given as text is matched by its bytes.
        let r = view.resolve(b"/caf\xc3\xa9", b"\xfe", true).unwrap();
        assert_eq!(
            (&r.guest[..], &r.rel[..]),
            (&b"/caf\xc3\xa9/\xfe"[..], &b"\xfe"[..])
        );
        assert!(view.open(&r, libc::O_RDONLY, 0).is_ok());
        // A name that differs only in its invalid bytes is another name.
        let r = view.resolve(b"/", b"/d\xfe/f\x80", true);
        assert_eq!(r.err(), Some(libc::ENOENT));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn secrets() {
        assert!(secret(b"/etc/shadow"));
        assert!(secret(b"/etc/sudoers.d/x"));
        assert!(secret(b"/etc/ssh/ssh_host_rsa_key"));
        assert!(!secret(b"/etc/ssh/ssh_host_rsa_key.pub"));
        assert!(!secret(b"/etc/passwd"));
        assert!(!secret(b"/etc/shadowx"));
        assert!(secret(b"/etc/ssl/private/a.pem"));
    }
}
