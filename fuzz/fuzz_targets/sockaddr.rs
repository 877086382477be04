//! Socket addresses a program passes to bind, connect, sendto and sendmsg, of any length and
//! family, through the run's port policy (`policy::Ports`: bind, bound, shown, heard_from,
//! outbound, with any publications and network mode), the address helpers it uses, and the
//! trace's `sockaddr` decoder. Nothing may panic, and the policy keeps its promises: an
//! unpublished port is bound on loopback (port 0 excepted: on the program's address), a
//! published one on its host port and address; a destination on loopback is passed only to
//! the run's own ports, DNS, a peer that wrote to the run or (UDP) the run's sink, and
//! anything off loopback is unreachable with `--network none` (an AF_UNSPEC destination is
//! the IPv4 one the host's UDP takes it for); `--network host` changes nothing.
//!
//! Input: the network mode, up to four publications, then operations, each with an address.
#![no_main]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vmm::policy::{family_of, is_loopback, port_of, set_ip, set_port, BindTo, Ports};
use vmm::spec::{Network, Proto, Publish};
use vmm::sys::trace::structs;

fn take<'a>(d: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (a, b) = d.split_at(n.min(d.len()));
    *d = b;
    a
}

fn byte(d: &mut &[u8]) -> u8 {
    take(d, 1).first().copied().unwrap_or(0)
}

fn u16_of(d: &mut &[u8]) -> u16 {
    let b = take(d, 2);
    u16::from_le_bytes([
        b.first().copied().unwrap_or(0),
        b.get(1).copied().unwrap_or(0),
    ])
}

fn ip_from(kind: u8, d: &mut &[u8]) -> Option<IpAddr> {
    let mut a = [0u8; 16];
    let b = take(d, 4);
    a[..b.len()].copy_from_slice(b);
    let v4 = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
    match kind % 7 {
        0 => None,
        1 => Some(Ipv4Addr::LOCALHOST.into()),
        2 => Some(Ipv4Addr::UNSPECIFIED.into()),
        3 => Some(v4.into()),
        4 => Some(Ipv6Addr::LOCALHOST.into()),
        5 => Some(v4.to_ipv6_mapped().into()),
        _ => Some(Ipv6Addr::from(u128::from(u32::from(v4)) << 96).into()),
    }
}

/// An address: raw bytes of any length (0 to 63), or a well-formed sockaddr_in/in6 (with
/// addresses the policy cares about: loopback, unspecified, v4-mapped) cut to any length.
fn addr(d: &mut &[u8]) -> Vec<u8> {
    let shape = byte(d);
    if shape & 0x80 == 0 {
        return take(d, usize::from(shape & 0x3f)).to_vec();
    }
    let port = u16_of(d);
    let ip = ip_from(byte(d), d);
    let v6 = shape & 0x40 != 0;
    let mut a = vec![0u8; if v6 { 28 } else { 16 }];
    let family = if v6 { libc::AF_INET6 } else { libc::AF_INET } as u16;
    a[..2].copy_from_slice(&family.to_ne_bytes());
    set_port(&mut a, port);
    if let Some(ip) = ip {
        let _ = set_ip(&mut a, ip);
    }
    let cut = usize::from(shape & 0x1f);
    if shape & 0x20 != 0 && cut < a.len() {
        a.truncate(cut);
    }
    a
}

/// The address bytes of an IPv4/IPv6 socket address, as the host would take them.
fn ip_of(a: &[u8]) -> Option<IpAddr> {
    match family_of(a)? {
        libc::AF_INET if a.len() >= 8 => Some(IpAddr::from(<[u8; 4]>::try_from(&a[4..8]).ok()?)),
        libc::AF_INET6 if a.len() >= 24 => {
            Some(IpAddr::from(<[u8; 16]>::try_from(&a[8..24]).ok()?))
        }
        _ => None,
    }
}

fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_loopback(),
        IpAddr::V6(a) => a.is_loopback() || a.to_ipv4_mapped().is_some_and(|m| m.is_loopback()),
    }
}

/// What the run knows of its own sockets and peers (a superset of what `Ports` keeps).
#[derive(Default)]
struct Model {
    own: HashSet<(Proto, u16)>,
    peers: HashSet<(Proto, u16)>,
    /// The UDP sink's port, per family, once seen.
    sink: [Option<u16>; 2],
}

/// The address helpers on any bytes.
fn helpers(a: &[u8]) {
    let fam = family_of(a);
    assert_eq!(fam.is_some(), a.len() >= 2);
    let port = port_of(a);
    if let Some(p) = port {
        assert!(matches!(fam, Some(libc::AF_INET | libc::AF_INET6)));
        let mut b = a.to_vec();
        set_port(&mut b, p.wrapping_add(1));
        assert_eq!(port_of(&b), Some(p.wrapping_add(1)));
        assert_eq!((b.len(), &b[..2], &b[4..]), (a.len(), &a[..2], &a[4..]));
    }
    if is_loopback(a) {
        assert!(a.len() >= 8 && port.is_some(), "loopback without a port");
    }
    for ip in [
        IpAddr::from(Ipv4Addr::LOCALHOST),
        IpAddr::from(Ipv6Addr::LOCALHOST),
        IpAddr::from(Ipv4Addr::LOCALHOST.to_ipv6_mapped()),
    ] {
        let mut b = a.to_vec();
        match set_ip(&mut b, ip) {
            Ok(()) => {
                assert_eq!((b.len(), &b[..4]), (a.len(), &a[..4]));
                assert!(is_loopback(&b), "set_ip({ip}) gave {b:?}");
            }
            Err(_) => assert_eq!(b, a, "a refused set_ip changed the address"),
        }
    }
    let shown = structs::sockaddr(a);
    assert!(
        shown.len() <= 4 * a.len() + 256,
        "{} bytes shown",
        shown.len()
    );
}

fn check_bind(ports: &Ports, network: Network, published: &[Publish], proto: Proto, a: &[u8]) {
    let to = ports.bind(proto, a);
    let guest = port_of(a).unwrap_or(0);
    let v6 = family_of(a) == Some(libc::AF_INET6);
    if network == Network::Host {
        assert_eq!(
            to,
            BindTo {
                ip: None,
                port: guest
            },
            "host network"
        );
        return;
    }
    if guest == 0 {
        assert_eq!(to, BindTo { ip: None, port: 0 }, "port 0");
        return;
    }
    let publication = published
        .iter()
        .find(|p| p.guest == guest && p.proto == proto)
        .filter(|_| network == Network::Default);
    if let Some(p) = publication {
        assert_eq!(to.port, p.host, "a published port on its host port");
        let want = p.ip.map(|ip| match (ip, v6) {
            (IpAddr::V4(a), true) => IpAddr::V6(a.to_ipv6_mapped()),
            (ip, _) => ip,
        });
        assert_eq!(to.ip, want, "a published port on its address");
        return;
    }
    // Unpublished: on loopback, at a port the host picks.
    assert_eq!(
        to.port, 0,
        "an unpublished port bound on the host's port {}",
        to.port
    );
    let on = to.ip.or_else(|| ip_of(a));
    assert!(
        on.is_some_and(is_loopback_ip),
        "an unpublished port bound off loopback: {to:?} for {a:?}"
    );
}

fn check_outbound(ports: &Ports, network: Network, m: &mut Model, proto: Proto, a: &[u8]) {
    let mut b = a.to_vec();
    let r = ports.outbound(proto, &mut b);
    assert_eq!(b.len(), a.len());
    // The host's UDP takes an AF_UNSPEC address as an AF_INET one: so must the policy (it
    // stays AF_UNSPEC).
    let (a, b) = if family_of(a) == Some(libc::AF_UNSPEC) {
        assert_eq!(family_of(&b), Some(libc::AF_UNSPEC), "AF_UNSPEC changed");
        let inet = |x: &[u8]| {
            let mut x = x.to_vec();
            x[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            x
        };
        (inet(a), inet(&b))
    } else {
        (a.to_vec(), b)
    };
    let a = &a[..];
    if network == Network::Host {
        assert_eq!((r, &b[..]), (Ok(()), a), "host network");
        return;
    }
    if !is_loopback(a) {
        let want = if network == Network::None {
            Err(libc::ENETUNREACH)
        } else {
            Ok(())
        };
        assert_eq!((r, &b[..]), (want, a), "off loopback");
        return;
    }
    let Ok(()) = r else {
        assert!(
            matches!(r, Err(libc::ECONNREFUSED | libc::EINVAL | libc::ENOBUFS)),
            "{r:?}"
        );
        return;
    };
    assert!(
        is_loopback(&b),
        "a loopback destination sent off loopback: {b:?}"
    );
    assert_eq!(&b[..2], &a[..2], "family changed");
    let port = port_of(&b).expect("a port");
    let default = network == Network::Default;
    let known = m.own.contains(&(proto, port))
        || (default && (port == 53 || m.peers.contains(&(proto, port))));
    if known {
        return;
    }
    // Anything else on loopback is refused, or for UDP sent to the run's sink: always the
    // same socket of the family, on the loopback address itself.
    assert_eq!(
        proto,
        Proto::Udp,
        "TCP to the host's loopback port {port} passed"
    );
    let v6 = matches!(ip_of(&b), Some(IpAddr::V6(ip)) if ip.to_ipv4_mapped().is_none());
    let ip = ip_of(&b).expect("an address");
    assert!(
        ip == IpAddr::from(Ipv4Addr::LOCALHOST)
            || ip == IpAddr::from(Ipv6Addr::LOCALHOST)
            || ip == IpAddr::from(Ipv4Addr::LOCALHOST.to_ipv6_mapped()),
        "sink on {ip}"
    );
    let sink = &mut m.sink[usize::from(v6)];
    match *sink {
        Some(s) => assert_eq!(
            s, port,
            "a datagram to the host's loopback port {port} passed"
        ),
        None => *sink = Some(port),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut d = data;
    let network = match byte(&mut d) % 3 {
        0 => Network::Default,
        1 => Network::None,
        _ => Network::Host,
    };
    let mut published = Vec::new();
    for _ in 0..byte(&mut d) % 5 {
        let proto = if byte(&mut d) & 1 == 0 {
            Proto::Tcp
        } else {
            Proto::Udp
        };
        let (host, guest) = (u16_of(&mut d), u16_of(&mut d));
        let kind = byte(&mut d);
        published.push(Publish {
            ip: ip_from(kind, &mut d),
            host,
            guest,
            proto,
        });
    }
    let ports = Ports::new(&published, network);
    let mut m = Model::default();
    while !d.is_empty() {
        let op = byte(&mut d);
        let proto = if op & 0x80 == 0 {
            Proto::Tcp
        } else {
            Proto::Udp
        };
        let a = addr(&mut d);
        helpers(&a);
        match op % 5 {
            0 => check_bind(&ports, network, &published, proto, &a),
            1 => {
                // As sys::net's bind: the host socket is bound where the policy says, its
                // name recorded (the host's port, picked when 0).
                let to = ports.bind(proto, &a);
                let mut host = a.clone();
                if let Some(ip) = to.ip {
                    let _ = set_ip(&mut host, ip);
                }
                if port_of(&host).is_some() {
                    let picked = u16_of(&mut d) | 0x8000;
                    set_port(&mut host, if to.port == 0 { picked } else { to.port });
                }
                ports.bound(proto, &a, &host);
                if let (Some(p), Some(_)) = (port_of(&host), ip_of(&a)) {
                    m.own.insert((proto, p));
                }
                // Its name, as the program knows it: the port and address it asked for.
                let mut name = host.clone();
                ports.shown(proto, &mut name, true);
                assert_eq!(name.len(), host.len());
                if let (Some(asked), Some(_)) = (port_of(&a).filter(|&p| p != 0), ip_of(&a)) {
                    assert_eq!(port_of(&name), Some(asked), "its own name's port");
                }
            }
            2 => {
                let mut b = a.clone();
                ports.shown(proto, &mut b, op & 0x40 != 0);
                assert_eq!((b.len(), b.get(..2)), (a.len(), a.get(..2)));
                if port_of(&a).is_none() {
                    assert_eq!(b, a);
                }
            }
            3 => {
                ports.heard_from(proto, &a);
                if let (true, Some(p)) = (is_loopback(&a), port_of(&a)) {
                    m.peers.insert((proto, p));
                }
            }
            _ => check_outbound(&ports, network, &mut m, proto, &a),
        }
    }
});
