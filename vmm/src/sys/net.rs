//! Sockets and epoll, served by host sockets under the run's port policy (`policy::Ports`):
//! TCP and UDP over IPv4 and IPv6, and Unix sockets. A program may listen only on ports
//! published with `-p HOST:GUEST` (it binds GUEST; mvm binds HOST), or on port 0; it may connect
//! out, as a container on Docker's default network can, and its loopback is its own (the run's
//! ports, DNS on 53; the host's with `--network host`: `policy::Ports::outbound`). A Unix socket's path is resolved in the
//! program's filesystem view like any other path (binding one needs a writable mount); abstract
//! names are the run's own (mvm gives them a prefix of its own on the host, so a program reaches
//! the other programs of its run, not the host's abstract sockets). Raw and packet sockets and
//! options that need privileges are refused as an unprivileged program is refused them. Calls
//! that can wait (connect, accept, send, receive, epoll_wait) are made without the process lock.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use super::fs::OpenFile;
use super::{err, host, Args, SysError, SysResult};
use crate::policy::{family_of, is_loopback, set_ip, set_port};
use crate::spec::Proto;
use crate::task::Task;

const MAX_ADDR: usize = 128;

fn own(fd: i32) -> OwnedFd {
    // SAFETY: `fd` is a fresh descriptor from the host, owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The host descriptor behind guest `fd`, held (a close by another thread meanwhile cannot
/// recycle it). Whether it is a socket the host call itself says (ENOTSOCK).
fn sock(task: &Task, fd: u64) -> Result<Arc<OpenFile>, SysError> {
    task.fds.file(fd)
}

fn unsafe_zeroed<T>() -> T {
    // SAFETY: used only for plain C structs (stat, sockaddr storage) for which zero is valid.
    unsafe { std::mem::zeroed() }
}

/// Runs a host call that may wait, without the process lock; the result as a syscall result.
fn blocking(task: &mut Task, f: impl FnOnce() -> isize) -> SysResult {
    let r = task.unlocked(f);
    host(r)
}

/// The host's abstract Unix names of this run start with this (after the leading NUL): one mvm
/// process serves one run, so its pid keeps runs apart.
fn abstract_prefix() -> Vec<u8> {
    format!("mvm.{}.", std::process::id()).into_bytes()
}

const SUN_PATH: usize = 108;

fn unix_sockaddr(path: &[u8]) -> Vec<u8> {
    let mut a = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
    a.extend_from_slice(path);
    a
}

/// The host address for a program's Unix socket address, and the descriptor its path goes
/// through (kept open until the host call is made). `bind`: the name is created (its parent
/// must be in a writable mount); otherwise it names an existing socket. An unnamed address
/// (autobind) passes as it is.
fn host_unix_addr(
    task: &mut Task,
    guest: &[u8],
    bind: bool,
) -> Result<(Vec<u8>, Option<OwnedFd>), SysError> {
    let path = &guest[2..guest.len().min(2 + SUN_PATH)];
    if path.is_empty() {
        return Ok((guest.to_vec(), None));
    }
    if path[0] == 0 {
        let mut host = vec![0u8];
        host.extend(abstract_prefix());
        host.extend_from_slice(&path[1..]);
        if host.len() > SUN_PATH {
            return err(libc::EINVAL);
        }
        return Ok((unix_sockaddr(&host), None));
    }
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    let name = path[..end].to_vec();
    let cwd = task.cwd.clone();
    let r = task
        .fs
        .resolve(&cwd, &name, !bind)
        .map_err(SysError::Errno)?;
    let (fd, host) = if bind {
        let (dir, leaf) = task.fs.parent(&r, true).map_err(SysError::Errno)?;
        let host = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
        (dir, [host, leaf.into_bytes()].concat())
    } else {
        let fd = task.fs.path_fd(&r).map_err(SysError::Errno)?;
        let host = format!("/proc/self/fd/{}", fd.as_raw_fd()).into_bytes();
        (fd, host)
    };
    if host.len() >= SUN_PATH {
        return err(libc::ENAMETOOLONG);
    }
    if bind {
        task.machine
            .unix_names
            .lock()
            .unwrap()
            .insert(host.clone(), path[..end].to_vec());
    }
    Ok((unix_sockaddr(&host), Some(fd)))
}

/// A host Unix socket address as the program knows it: its own path or abstract name; a name
/// mvm did not give out shows as unnamed.
fn guest_unix_addr(task: &Task, host: &[u8]) -> Vec<u8> {
    let path = &host[2.min(host.len())..];
    if path.is_empty() {
        return host.to_vec();
    }
    if path[0] == 0 {
        let prefix = abstract_prefix();
        return match path[1..].strip_prefix(prefix.as_slice()) {
            Some(rest) => unix_sockaddr(&[&[0u8][..], rest].concat()),
            None => host.to_vec(), // autobound: the kernel's own name, unique already
        };
    }
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    match task.machine.unix_names.lock().unwrap().get(&path[..end]) {
        Some(g) => unix_sockaddr(&[g.as_slice(), &[0u8]].concat()),
        None => unix_sockaddr(&[]),
    }
}

/// Reads a guest socket address of `len` bytes.
fn read_addr(task: &mut Task, at: u64, len: u64) -> Result<Vec<u8>, SysError> {
    if len as usize > MAX_ADDR || len < 2 {
        return err(libc::EINVAL);
    }
    let mut a = vec![0u8; len as usize];
    task.mm.read(at, &mut a)?;
    Ok(a)
}

/// The port policy's protocol of host socket `h`: UDP for a datagram socket, else TCP.
fn proto_of(h: i32) -> Proto {
    let mut ty: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as u32;
    // SAFETY: SO_TYPE writes one int.
    unsafe {
        libc::getsockopt(
            h,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut i32).cast(),
            &mut len,
        )
    };
    if ty == libc::SOCK_DGRAM {
        Proto::Udp
    } else {
        Proto::Tcp
    }
}

/// Writes a host socket address back to the guest (`at`, with its length at `len_at`, in/out as
/// the ABI says). The run's own ports are shown as the program knows them: a socket's own name
/// (`own`), and a peer on loopback (one of the run's sockets).
fn write_addr(
    task: &mut Task,
    addr: &[u8],
    at: u64,
    len_at: u64,
    proto: Proto,
    own: bool,
) -> Result<(), SysError> {
    if at == 0 {
        return Ok(());
    }
    let room: u32 = task.mm.read_obj(len_at)?;
    let mut a = if family_of(addr) == Some(libc::AF_UNIX) {
        guest_unix_addr(task, addr)
    } else {
        addr.to_vec()
    };
    if own || is_loopback(addr) {
        task.ports.shown(proto, &mut a, own);
    }
    let n = a.len().min(room as usize);
    task.mm.write(at, &a[..n])?;
    task.mm.write_obj(len_at, &(a.len() as u32))?;
    Ok(())
}

/// socket(2): AF_INET/AF_INET6 stream and datagram sockets, AF_UNIX sockets.
pub fn socket(task: &mut Task, a: Args) -> SysResult {
    let (domain, ty, proto) = (a[0] as i32, a[1] as i32, a[2] as i32);
    let base = ty & 0xf;
    let flags = ty & !0xf;
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return err(libc::EINVAL);
    }
    match domain {
        libc::AF_INET | libc::AF_INET6 => match (base, proto) {
            (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP)
            | (libc::SOCK_DGRAM, 0 | libc::IPPROTO_UDP) => {}
            (libc::SOCK_RAW, _) => return err(libc::EPERM),
            _ => return err(libc::EPROTONOSUPPORT),
        },
        // (Linux takes SOCK_RAW as SOCK_DGRAM here.)
        libc::AF_UNIX => match (base, proto) {
            (libc::SOCK_STREAM | libc::SOCK_DGRAM | libc::SOCK_SEQPACKET | libc::SOCK_RAW, 0) => {}
            (libc::SOCK_STREAM | libc::SOCK_DGRAM | libc::SOCK_SEQPACKET | libc::SOCK_RAW, _) => {
                return err(libc::EPROTONOSUPPORT)
            }
            _ => return err(libc::ESOCKTNOSUPPORT),
        },
        libc::AF_PACKET | libc::AF_NETLINK => return err(libc::EACCES),
        _ => return err(libc::EAFNOSUPPORT),
    }
    // SAFETY: plain host call.
    let fd = host(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) } as isize)?;
    let cloexec = flags & libc::SOCK_CLOEXEC != 0;
    task.fds
        .install(OpenFile::owned(own(fd as i32), None, true), cloexec)
}

/// socketpair(2): anonymous Unix socket pairs.
pub fn socketpair(task: &mut Task, a: Args) -> SysResult {
    let (domain, ty, proto) = (a[0] as i32, a[1] as i32, a[2] as i32);
    if domain != libc::AF_UNIX {
        return err(libc::EOPNOTSUPP);
    }
    if ty & !(0xf | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return err(libc::EINVAL);
    }
    let mut sv = [0i32; 2];
    let flags = ty | libc::SOCK_CLOEXEC;
    // SAFETY: `sv` has room for two descriptors.
    let r = unsafe { libc::socketpair(domain, flags, proto, sv.as_mut_ptr()) };
    host(r as isize)?;
    let (x, y) = (own(sv[0]), own(sv[1]));
    let cloexec = ty & libc::SOCK_CLOEXEC != 0;
    let fx = task.fds.install(OpenFile::owned(x, None, true), cloexec)?;
    let fy = match task.fds.install(OpenFile::owned(y, None, true), cloexec) {
        Ok(f) => f,
        Err(e) => {
            let _ = super::fs::close(task, [fx, 0, 0, 0, 0, 0]);
            return Err(e);
        }
    };
    task.mm.write_obj(a[3], &[fx as i32, fy as i32])?;
    Ok(0)
}

/// bind(2): any port (`policy::Ports::bind` says where it goes on the host: a published one
/// on its host port, another on loopback); a Unix socket's path in a writable mount, or an
/// abstract name.
pub fn bind(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    let mut addr = read_addr(task, a[1], a[2])?;
    let family = family_of(&addr).unwrap_or(0);
    if family == libc::AF_UNIX {
        let (name, _dir) = host_unix_addr(task, &addr, true)?;
        // SAFETY: `name` holds its length of a socket address.
        return host(
            unsafe { libc::bind(s.raw(), name.as_ptr().cast(), name.len() as u32) } as isize,
        );
    }
    let need = match family {
        libc::AF_INET => std::mem::size_of::<libc::sockaddr_in>(),
        libc::AF_INET6 => 24,
        _ => return err(libc::EAFNOSUPPORT),
    };
    if addr.len() < need {
        return err(libc::EINVAL);
    }
    let proto = proto_of(s.raw());
    let to = task.ports.bind(proto, &addr);
    let asked = addr.clone();
    if let Some(ip) = to.ip {
        set_ip(&mut addr, ip).map_err(SysError::Errno)?;
    }
    set_port(&mut addr, to.port);
    // SAFETY: `addr` holds `len` bytes of a socket address.
    let bind = |a: &[u8]| unsafe { libc::bind(s.raw(), a.as_ptr().cast(), a.len() as u32) };
    if bind(&addr) != 0 {
        let e = crate::policy::errno();
        // An IPv6-only socket cannot take the v4-mapped loopback: its own loopback, then.
        if family == libc::AF_INET6 && to.ip.is_some() && e == libc::EINVAL {
            set_ip(&mut addr, std::net::Ipv6Addr::LOCALHOST.into()).map_err(SysError::Errno)?;
            host(bind(&addr) as isize)?;
        } else {
            return err(e);
        }
    }
    // The run's own port now: its loopback may reach it (`Ports::outbound`).
    let mut st = [0u8; MAX_ADDR];
    let mut len = MAX_ADDR as u32;
    // SAFETY: `st` and `len` are valid for writing.
    if unsafe { libc::getsockname(s.raw(), st.as_mut_ptr().cast(), &mut len) } == 0 {
        task.ports.bound(proto, &asked, &st[..len as usize]);
    }
    Ok(0)
}

/// listen(2).
pub fn listen(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    // SAFETY: plain host call.
    host(unsafe { libc::listen(s.raw(), a[1] as i32) } as isize)
}

/// connect(2): out to any IPv4/IPv6 address; to a Unix socket of the program's view or run.
pub fn connect(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    let mut addr = read_addr(task, a[1], a[2])?;
    let family = family_of(&addr).unwrap_or(0);
    let mut through = None;
    match family {
        libc::AF_INET | libc::AF_INET6 => task
            .ports
            .outbound(proto_of(s.raw()), &mut addr)
            .map_err(SysError::Errno)?,
        libc::AF_UNSPEC => {}
        libc::AF_UNIX => (addr, through) = host_unix_addr(task, &addr, false)?,
        _ => return err(libc::EAFNOSUPPORT),
    }
    let h = s.raw();
    // SAFETY: `addr` holds its length of a socket address.
    let r = blocking(task, move || unsafe {
        libc::connect(h, addr.as_ptr().cast(), addr.len() as u32) as isize
    });
    drop(through);
    r
}

/// accept4(2).
pub fn accept4(task: &mut Task, a: Args) -> SysResult {
    let flags = a[3] as i32;
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return err(libc::EINVAL);
    }
    let s = sock(task, a[0])?;
    let h = s.raw();
    let mut st = [0u8; MAX_ADDR];
    let mut len = MAX_ADDR as u32;
    let (sp, lp) = (st.as_mut_ptr() as usize, &mut len as *mut u32 as usize);
    // SAFETY: `st` and `len` are locals that outlive the call.
    let fd = blocking(task, move || unsafe {
        libc::accept4(
            h,
            sp as *mut libc::sockaddr,
            lp as *mut u32,
            flags | libc::SOCK_CLOEXEC,
        ) as isize
    })?;
    let new = own(fd as i32);
    let cloexec = flags & libc::SOCK_CLOEXEC != 0;
    let gfd = task
        .fds
        .install(OpenFile::owned(new, None, true), cloexec)?;
    if a[1] != 0 {
        write_addr(task, &st[..len as usize], a[1], a[2], Proto::Tcp, false)?;
    }
    Ok(gfd)
}

/// accept(2).
pub fn accept(task: &mut Task, a: Args) -> SysResult {
    accept4(task, [a[0], a[1], a[2], 0, 0, 0])
}

fn name_of(task: &mut Task, a: Args, peer: bool) -> SysResult {
    let s = sock(task, a[0])?;
    let mut st = [0u8; MAX_ADDR];
    let mut len = MAX_ADDR as u32;
    // SAFETY: `st` and `len` are valid for writing.
    let r = unsafe {
        if peer {
            libc::getpeername(s.raw(), st.as_mut_ptr().cast(), &mut len)
        } else {
            libc::getsockname(s.raw(), st.as_mut_ptr().cast(), &mut len)
        }
    };
    host(r as isize)?;
    write_addr(
        task,
        &st[..len as usize],
        a[1],
        a[2],
        proto_of(s.raw()),
        !peer,
    )?;
    Ok(0)
}

/// getsockname(2): a published port shows as the program's port.
pub fn getsockname(task: &mut Task, a: Args) -> SysResult {
    name_of(task, a, false)
}

/// getpeername(2).
pub fn getpeername(task: &mut Task, a: Args) -> SysResult {
    name_of(task, a, true)
}

/// shutdown(2).
pub fn shutdown(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    // SAFETY: plain host call.
    host(unsafe { libc::shutdown(s.raw(), a[1] as i32) } as isize)
}

/// Options a program without privileges cannot set (mvm itself runs as root).
fn privileged(level: i32, name: i32) -> bool {
    matches!(
        (level, name),
        (libc::SOL_SOCKET, libc::SO_BINDTODEVICE)
            | (libc::SOL_SOCKET, libc::SO_MARK)
            | (libc::SOL_SOCKET, libc::SO_ATTACH_FILTER)
            | (libc::SOL_SOCKET, libc::SO_ATTACH_BPF)
            | (libc::SOL_SOCKET, libc::SO_PRIORITY)
            | (libc::IPPROTO_IP, libc::IP_TRANSPARENT)
            | (libc::IPPROTO_IPV6, libc::IPV6_TRANSPARENT)
    )
}

/// setsockopt(2).
pub fn setsockopt(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    let (level, name) = (a[1] as i32, a[2] as i32);
    if privileged(level, name) {
        return err(libc::EPERM);
    }
    if a[4] > 256 {
        return err(libc::EINVAL);
    }
    let mut v = vec![0u8; a[4] as usize];
    task.mm.read(a[3], &mut v)?;
    // SAFETY: `v` holds the option's bytes.
    host(
        unsafe { libc::setsockopt(s.raw(), level, name, v.as_ptr().cast(), v.len() as u32) }
            as isize,
    )
}

/// getsockopt(2).
pub fn getsockopt(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    let room: u32 = task.mm.read_obj(a[4])?;
    let mut v = vec![0u8; (room as usize).min(256)];
    let mut len = v.len() as u32;
    // SAFETY: `v` and `len` are valid for writing.
    host(unsafe {
        libc::getsockopt(
            s.raw(),
            a[1] as i32,
            a[2] as i32,
            v.as_mut_ptr().cast(),
            &mut len,
        )
    } as isize)?;
    task.mm.write(a[3], &v[..(len as usize).min(v.len())])?;
    task.mm.write_obj(a[4], &len)?;
    Ok(0)
}

/// The message header a guest `struct msghdr` at `at` describes, with host iovecs into guest
/// memory; the peer address (for sendmsg) and where to write it back (for recvmsg); the host
/// control buffer (SCM_RIGHTS with host descriptors, held open in `held`).
struct Msg {
    iov: Vec<libc::iovec>,
    name: Vec<u8>,
    name_at: u64,
    name_len_at: u64,
    control: Vec<u8>,
    held: Vec<Arc<OpenFile>>,
    /// The descriptor a Unix peer's path goes through, until the send.
    through: Option<OwnedFd>,
    /// recvmsg's `msg_flags` from the host.
    flags: i32,
}

const CMSG_HDR: usize = 16;

fn cmsg_align(n: usize) -> usize {
    (n + 7) & !7
}

/// One control message header: (length, level, type).
fn cmsg_at(buf: &[u8], off: usize) -> (usize, i32, i32) {
    let word = |a: usize| i32::from_le_bytes(buf[a..a + 4].try_into().unwrap());
    let len = u64::from_le_bytes(buf[off..off + 8].try_into().unwrap()) as usize;
    (len, word(off + 8), word(off + 12))
}

fn push_rights(out: &mut Vec<u8>, fds: &[i32]) {
    let n = CMSG_HDR + 4 * fds.len();
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out.extend_from_slice(&libc::SOL_SOCKET.to_le_bytes());
    out.extend_from_slice(&libc::SCM_RIGHTS.to_le_bytes());
    for f in fds {
        out.extend_from_slice(&f.to_le_bytes());
    }
    out.resize(cmsg_align(out.len()), 0);
}

/// The host control buffer for a guest one: SCM_RIGHTS only, each guest descriptor replaced by
/// its host descriptor (the open files are held until the message is sent).
type Control = (Vec<u8>, Vec<Arc<OpenFile>>);

fn host_control(task: &mut Task, at: u64, len: u64) -> Result<Control, SysError> {
    if len > 4096 {
        return err(libc::ENOBUFS);
    }
    let mut buf = vec![0u8; len as usize];
    task.mm.read(at, &mut buf)?;
    let (mut out, mut held, mut off) = (Vec::new(), Vec::new(), 0usize);
    while off + CMSG_HDR <= buf.len() {
        let (clen, level, ty) = cmsg_at(&buf, off);
        if clen < CMSG_HDR || off + clen > buf.len() {
            return err(libc::EINVAL);
        }
        if level != libc::SOL_SOCKET || ty != libc::SCM_RIGHTS {
            return err(libc::EOPNOTSUPP);
        }
        let mut fds = Vec::new();
        for c in buf[off + CMSG_HDR..off + clen].chunks_exact(4) {
            let fd = i32::from_le_bytes(c.try_into().unwrap());
            let f = task.fds.file(fd as u64)?;
            // A signalfd is mvm's own file: its host descriptor would arrive as a plain eventfd.
            if f.signalfd.is_some() {
                return err(libc::EOPNOTSUPP);
            }
            fds.push(f.raw());
            held.push(f);
        }
        push_rights(&mut out, &fds);
        off += cmsg_align(clen);
    }
    Ok((out, held))
}

/// Installs the descriptors a received control buffer carries and rewrites it for the guest
/// (at most `room` bytes); returns it and whether anything had to be left out (MSG_CTRUNC).
fn guest_control(task: &mut Task, host: &[u8], room: usize, cloexec: bool) -> (Vec<u8>, bool) {
    let (mut out, mut cut, mut off) = (Vec::new(), false, 0usize);
    while off + CMSG_HDR <= host.len() {
        let (clen, level, ty) = cmsg_at(host, off);
        if clen < CMSG_HDR || off + clen > host.len() {
            break;
        }
        let received: Vec<OwnedFd> = if level == libc::SOL_SOCKET && ty == libc::SCM_RIGHTS {
            host[off + CMSG_HDR..off + clen]
                .chunks_exact(4)
                .map(|c| own(i32::from_le_bytes(c.try_into().unwrap())))
                .collect()
        } else {
            cut = true;
            Vec::new()
        };
        let mut gfds = Vec::new();
        for h in received {
            if cmsg_align(out.len() + CMSG_HDR + 4 * (gfds.len() + 1)) > room {
                cut = true; // dropped: `h` closes
                continue;
            }
            if let Ok(g) = task.fds.install(OpenFile::owned(h, None, true), cloexec) {
                gfds.push(g as i32);
            }
        }
        if !gfds.is_empty() {
            push_rights(&mut out, &gfds);
        }
        off += cmsg_align(clen);
    }
    out.truncate(room);
    (out, cut)
}

/// A destination address for sendto/sendmsg on host socket `h` as the host takes it.
fn outgoing_name(
    task: &mut Task,
    h: i32,
    name: Vec<u8>,
) -> Result<(Vec<u8>, Option<OwnedFd>), SysError> {
    match family_of(&name) {
        Some(libc::AF_UNIX) => host_unix_addr(task, &name, false),
        // The host's UDP sends to an AF_UNSPEC address as to an AF_INET one.
        Some(libc::AF_INET | libc::AF_INET6 | libc::AF_UNSPEC) => {
            let mut name = name;
            task.ports
                .outbound(proto_of(h), &mut name)
                .map_err(SysError::Errno)?;
            Ok((name, None))
        }
        _ => Ok((name, None)),
    }
}

fn read_msghdr(task: &mut Task, h: i32, at: u64, incoming: bool) -> Result<Msg, SysError> {
    let w: [u64; 7] = task.mm.read_obj(at)?;
    let (name_at, name_len, iov_at, iov_len) = (w[0], w[1] as u32, w[2], w[3]);
    let (control_at, control_len) = (w[4], w[5]);
    if iov_len > 1024 {
        return err(libc::EMSGSIZE);
    }
    // Descriptors travel (SCM_RIGHTS); other ancillary data does not.
    let (control, held) = if control_len == 0 || control_at == 0 {
        (Vec::new(), Vec::new())
    } else if incoming {
        (vec![0u8; (control_len as usize).min(4096)], Vec::new())
    } else {
        host_control(task, control_at, control_len)?
    };
    let mut iov = Vec::new();
    for i in 0..iov_len {
        let base = task.mm.read_u64(iov_at + 16 * i)?;
        let len = task.mm.read_u64(iov_at + 16 * i + 8)?;
        iov.extend(
            task.mm
                .iovecs(base, len.min(0x7fff_f000) as usize, incoming)?,
        );
    }
    let (name, through) = if name_at != 0 && !incoming && name_len > 0 {
        let name = read_addr(task, name_at, name_len as u64)?;
        outgoing_name(task, h, name)?
    } else {
        (Vec::new(), None)
    };
    Ok(Msg {
        iov,
        name,
        name_at: if incoming { name_at } else { 0 },
        name_len_at: at + 8,
        control,
        held,
        through,
        flags: 0,
    })
}

/// The host send or receive of `m` on socket `h` with `flags`, without the process lock.
fn transfer(task: &mut Task, h: i32, m: &mut Msg, flags: i32, incoming: bool) -> SysResult {
    struct Hdr(libc::msghdr);
    // SAFETY: the pointers in the header point into guest memory and locals that outlive the
    // call, which only the host kernel reads or writes.
    unsafe impl Send for Hdr {}
    let mut st = [0u8; MAX_ADDR];
    let mut hdr: libc::msghdr = unsafe_zeroed();
    hdr.msg_iov = m.iov.as_mut_ptr();
    hdr.msg_iovlen = m.iov.len();
    if incoming {
        hdr.msg_name = st.as_mut_ptr().cast();
        hdr.msg_namelen = MAX_ADDR as u32;
    } else if !m.name.is_empty() {
        hdr.msg_name = m.name.as_mut_ptr().cast();
        hdr.msg_namelen = m.name.len() as u32;
    }
    if !m.control.is_empty() {
        hdr.msg_control = m.control.as_mut_ptr().cast();
        hdr.msg_controllen = m.control.len();
    }
    let mut msg = Hdr(hdr);
    let p = &mut msg as *mut Hdr as usize;
    let r = blocking(task, move || {
        // SAFETY: `p` points at `msg`, alive for the call.
        let hdr = unsafe { &mut (*(p as *mut Hdr)).0 };
        // SAFETY: a valid message header (see `Hdr`).
        unsafe {
            if incoming {
                libc::recvmsg(h, hdr, flags) as isize
            } else {
                libc::sendmsg(h, hdr, flags | libc::MSG_NOSIGNAL) as isize
            }
        }
    });
    if !incoming {
        if let Err(SysError::Errno(libc::EPIPE)) = r {
            if flags & libc::MSG_NOSIGNAL == 0 {
                return super::signal::raise(task, libc::SIGPIPE).and(r);
            }
        }
    }
    let n = r?;
    m.held.clear();
    m.through = None;
    if incoming {
        m.control.truncate(msg.0.msg_controllen);
        m.flags = msg.0.msg_flags;
    }
    if incoming {
        let len = (msg.0.msg_namelen as usize).min(MAX_ADDR);
        let proto = proto_of(h);
        // A loopback peer that wrote to the run may be answered (`Ports::outbound`).
        task.ports.heard_from(proto, &st[..len]);
        if m.name_at != 0 {
            write_addr(task, &st[..len], m.name_at, m.name_len_at, proto, false)?;
        }
    }
    Ok(n)
}

/// sendmsg(2), without ancillary data.
pub fn sendmsg(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    let mut m = read_msghdr(task, s.raw(), a[1], false)?;
    transfer(task, s.raw(), &mut m, a[2] as i32, false)
}

/// recvmsg(2): descriptors received (SCM_RIGHTS) join the program's table; other ancillary
/// data is left out (MSG_CTRUNC).
pub fn recvmsg(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    let [_, _, _, _, control_at, room, _]: [u64; 7] = task.mm.read_obj(a[1])?;
    let mut m = read_msghdr(task, s.raw(), a[1], true)?;
    let flags = a[2] as i32;
    let n = transfer(task, s.raw(), &mut m, flags & !libc::MSG_CMSG_CLOEXEC, true)?;
    let cloexec = flags & libc::MSG_CMSG_CLOEXEC != 0;
    let control = std::mem::take(&mut m.control);
    let (out, cut) = guest_control(task, &control, room.min(4096) as usize, cloexec);
    if !out.is_empty() {
        task.mm.write(control_at, &out)?;
    }
    task.mm.write_obj(a[1] + 40, &(out.len() as u64))?;
    let mflags = if cut {
        m.flags | libc::MSG_CTRUNC
    } else {
        m.flags
    };
    task.mm.write_obj(a[1] + 48, &mflags)?;
    Ok(n)
}

/// sendto(2).
pub fn sendto(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    let iov = task
        .mm
        .iovecs(a[1], a[2].min(0x7fff_f000) as usize, false)?;
    let (name, through) = if a[4] != 0 {
        let name = read_addr(task, a[4], a[5])?;
        outgoing_name(task, s.raw(), name)?
    } else {
        (Vec::new(), None)
    };
    let mut m = Msg {
        iov,
        name,
        name_at: 0,
        name_len_at: 0,
        control: Vec::new(),
        held: Vec::new(),
        through,
        flags: 0,
    };
    transfer(task, s.raw(), &mut m, a[3] as i32, false)
}

/// recvfrom(2).
pub fn recvfrom(task: &mut Task, a: Args) -> SysResult {
    let s = sock(task, a[0])?;
    let iov = task.mm.iovecs(a[1], a[2].min(0x7fff_f000) as usize, true)?;
    let mut m = Msg {
        iov,
        name: Vec::new(),
        name_at: a[4],
        name_len_at: a[5],
        control: Vec::new(),
        held: Vec::new(),
        through: None,
        flags: 0,
    };
    transfer(task, s.raw(), &mut m, a[3] as i32, true)
}

/// epoll_create1(2): a host epoll instance over the program's host descriptors.
pub fn epoll_create1(task: &mut Task, a: Args) -> SysResult {
    if a[0] as i32 & !libc::EPOLL_CLOEXEC != 0 {
        return err(libc::EINVAL);
    }
    // SAFETY: plain host call.
    let fd = host(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) } as isize)?;
    let cloexec = a[0] as i32 & libc::EPOLL_CLOEXEC != 0;
    task.fds
        .install(OpenFile::owned(own(fd as i32), None, true), cloexec)
}

/// epoll_create(2).
pub fn epoll_create(task: &mut Task, a: Args) -> SysResult {
    if a[0] as i32 <= 0 {
        return err(libc::EINVAL);
    }
    epoll_create1(task, [0; 6])
}

/// epoll_ctl(2): the program's `data` travels untouched.
pub fn epoll_ctl(task: &mut Task, a: Args) -> SysResult {
    let ep = task.fds.file(a[0])?;
    let target = task.fds.file(a[2])?;
    let op = a[1] as i32;
    let mut ev = libc::epoll_event { events: 0, u64: 0 };
    if op != libc::EPOLL_CTL_DEL {
        let raw: [u8; 12] = task.mm.read_obj(a[3])?;
        ev.events = u32::from_le_bytes(raw[0..4].try_into().unwrap());
        ev.u64 = u64::from_le_bytes(raw[4..12].try_into().unwrap());
        // A signalfd is never writable, though the eventfd behind it is.
        if target.signalfd.is_some() {
            ev.events &= !(libc::EPOLLOUT | libc::EPOLLWRNORM | libc::EPOLLWRBAND) as u32;
        }
    }
    // SAFETY: `ev` is a valid event.
    host(unsafe { libc::epoll_ctl(ep.raw(), op, target.raw(), &mut ev) } as isize)
}

/// epoll_wait(2), without the process lock.
pub fn epoll_wait(task: &mut Task, a: Args) -> SysResult {
    let ep = task.fds.file(a[0])?;
    let max = a[2] as i32;
    if !(1..=4096).contains(&max) {
        return err(libc::EINVAL);
    }
    let mut evs = vec![libc::epoll_event { events: 0, u64: 0 }; max as usize];
    let (h, p, timeout) = (ep.raw(), evs.as_mut_ptr() as usize, a[3] as i32);
    let deadline = (timeout > 0)
        .then(|| std::time::Instant::now() + std::time::Duration::from_millis(timeout as u64));
    let n = loop {
        super::signalfd::refresh(task);
        if timeout != 0 {
            // Wait for the instance to be ready or the thread to be woken (a signal sent just
            // before the wait starts still ends it), then collect without waiting.
            let left = match deadline {
                Some(d) => d
                    .saturating_duration_since(std::time::Instant::now())
                    .as_millis() as i32,
                None => -1,
            };
            let wake = task.wake.clone();
            let mut fds = [
                libc::pollfd {
                    fd: h,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: wake.fd()?,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            let fp = fds.as_mut_ptr() as usize;
            // SAFETY: two valid pollfds that outlive the call.
            blocking(task, move || unsafe {
                libc::poll(fp as *mut libc::pollfd, 2, left) as isize
            })?;
            if fds[1].revents != 0 {
                wake.take();
                if fds[0].revents == 0 {
                    return err(libc::EINTR);
                }
            }
        }
        // SAFETY: `evs` has room for `max` events and outlives the call.
        let n = host(unsafe { libc::epoll_wait(h, p as *mut libc::epoll_event, max, 0) } as isize)?;
        // The instance looked ready but its events were gone by now (another program took the
        // connection that made a shared listener ready): wait again, as Linux's wait would.
        if n > 0 || timeout == 0 || deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            break n;
        }
    };
    let mut out = Vec::with_capacity(12 * n as usize);
    for e in &evs[..n as usize] {
        let (events, data) = (e.events, e.u64);
        out.extend_from_slice(&events.to_le_bytes());
        out.extend_from_slice(&data.to_le_bytes());
    }
    task.mm.write(a[1], &out)?;
    Ok(n)
}

/// epoll_pwait(2): with a signal mask in force while it waits, as ppoll.
pub fn epoll_pwait(task: &mut Task, a: Args) -> SysResult {
    super::signal::call_mask(task, a[4], a[5])?;
    epoll_wait(task, a)
}
