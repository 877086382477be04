//! Names for polling and socket arguments: poll and epoll events, address families, socket
//! types, protocols, option levels and options, message flags.

use super::Table;

/// poll events.
pub static POLL: Table = &[
    (libc::POLLIN as u64, "POLLIN"),
    (libc::POLLPRI as u64, "POLLPRI"),
    (libc::POLLOUT as u64, "POLLOUT"),
    (libc::POLLERR as u64, "POLLERR"),
    (libc::POLLHUP as u64, "POLLHUP"),
    (libc::POLLNVAL as u64, "POLLNVAL"),
    (libc::POLLRDNORM as u64, "POLLRDNORM"),
    (libc::POLLRDBAND as u64, "POLLRDBAND"),
    (libc::POLLWRNORM as u64, "POLLWRNORM"),
    (libc::POLLWRBAND as u64, "POLLWRBAND"),
    (0x400, "POLLMSG"),
    (libc::POLLRDHUP as u64, "POLLRDHUP"),
    (0x8000, "POLL_BUSY_LOOP"),
];

/// epoll events.
pub static EPOLL: Table = &[
    (libc::EPOLLIN as u32 as u64, "EPOLLIN"),
    (libc::EPOLLPRI as u32 as u64, "EPOLLPRI"),
    (libc::EPOLLOUT as u32 as u64, "EPOLLOUT"),
    (libc::EPOLLERR as u32 as u64, "EPOLLERR"),
    (libc::EPOLLHUP as u32 as u64, "EPOLLHUP"),
    (0x20, "EPOLLNVAL"),
    (libc::EPOLLRDNORM as u32 as u64, "EPOLLRDNORM"),
    (libc::EPOLLRDBAND as u32 as u64, "EPOLLRDBAND"),
    (libc::EPOLLWRNORM as u32 as u64, "EPOLLWRNORM"),
    (libc::EPOLLWRBAND as u32 as u64, "EPOLLWRBAND"),
    (libc::EPOLLMSG as u32 as u64, "EPOLLMSG"),
    (libc::EPOLLRDHUP as u32 as u64, "EPOLLRDHUP"),
    (libc::EPOLLEXCLUSIVE as u32 as u64, "EPOLLEXCLUSIVE"),
    (libc::EPOLLWAKEUP as u32 as u64, "EPOLLWAKEUP"),
    (libc::EPOLLONESHOT as u32 as u64, "EPOLLONESHOT"),
    (libc::EPOLLET as u32 as u64, "EPOLLET"),
];

/// epoll_ctl operations.
pub static EPOLL_CTL: Table = libc_names![EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD];

/// epoll_create1 flags.
pub static EPOLL_FLAGS: Table = libc_names![EPOLL_CLOEXEC];

/// Address families.
pub static AF: Table = libc_names![
    AF_UNSPEC,
    AF_UNIX,
    AF_INET,
    AF_AX25,
    AF_IPX,
    AF_APPLETALK,
    AF_NETROM,
    AF_BRIDGE,
    AF_ATMPVC,
    AF_X25,
    AF_INET6,
    AF_ROSE,
    AF_DECnet,
    AF_NETBEUI,
    AF_SECURITY,
    AF_KEY,
    AF_NETLINK,
    AF_PACKET,
    AF_ASH,
    AF_ECONET,
    AF_ATMSVC,
    AF_RDS,
    AF_SNA,
    AF_IRDA,
    AF_PPPOX,
    AF_WANPIPE,
    AF_LLC,
    AF_IB,
    AF_MPLS,
    AF_CAN,
    AF_TIPC,
    AF_BLUETOOTH,
    AF_IUCV,
    AF_RXRPC,
    AF_ISDN,
    AF_PHONET,
    AF_IEEE802154,
    AF_CAIF,
    AF_ALG,
    AF_NFC,
    AF_VSOCK,
    AF_XDP,
];

/// Socket types (`type & 0xf`).
pub static SOCK_TYPE: Table = &[
    (libc::SOCK_STREAM as u64, "SOCK_STREAM"),
    (libc::SOCK_DGRAM as u64, "SOCK_DGRAM"),
    (libc::SOCK_RAW as u64, "SOCK_RAW"),
    (libc::SOCK_RDM as u64, "SOCK_RDM"),
    (libc::SOCK_SEQPACKET as u64, "SOCK_SEQPACKET"),
    (libc::SOCK_DCCP as u64, "SOCK_DCCP"),
    (10, "SOCK_PACKET"),
];

/// socket/accept4 flags.
pub static SOCK_FLAGS: Table = libc_names![SOCK_CLOEXEC, SOCK_NONBLOCK];

/// IP protocols.
pub static IPPROTO: Table = libc_names![
    IPPROTO_IP,
    IPPROTO_ICMP,
    IPPROTO_IGMP,
    IPPROTO_IPIP,
    IPPROTO_TCP,
    IPPROTO_EGP,
    IPPROTO_PUP,
    IPPROTO_UDP,
    IPPROTO_IDP,
    IPPROTO_TP,
    IPPROTO_DCCP,
    IPPROTO_IPV6,
    IPPROTO_RSVP,
    IPPROTO_GRE,
    IPPROTO_ESP,
    IPPROTO_AH,
    IPPROTO_ICMPV6,
    IPPROTO_MTP,
    IPPROTO_BEETPH,
    IPPROTO_ENCAP,
    IPPROTO_PIM,
    IPPROTO_COMP,
    IPPROTO_SCTP,
    IPPROTO_UDPLITE,
    IPPROTO_MPLS,
    IPPROTO_RAW,
    IPPROTO_MPTCP,
];

/// Socket option levels, as strace names them.
pub static SOL: Table = &[
    (libc::SOL_SOCKET as u64, "SOL_SOCKET"),
    (libc::SOL_IP as u64, "SOL_IP"),
    (libc::SOL_TCP as u64, "SOL_TCP"),
    (libc::SOL_UDP as u64, "SOL_UDP"),
    (libc::SOL_IPV6 as u64, "SOL_IPV6"),
    (libc::SOL_ICMPV6 as u64, "SOL_ICMPV6"),
    (libc::SOL_RAW as u64, "SOL_RAW"),
    (libc::SOL_PACKET as u64, "SOL_PACKET"),
    (libc::SOL_NETLINK as u64, "SOL_NETLINK"),
];

/// SOL_SOCKET options.
pub static SO: Table = &[
    (libc::SO_DEBUG as u64, "SO_DEBUG"),
    (libc::SO_REUSEADDR as u64, "SO_REUSEADDR"),
    (libc::SO_TYPE as u64, "SO_TYPE"),
    (libc::SO_ERROR as u64, "SO_ERROR"),
    (libc::SO_DONTROUTE as u64, "SO_DONTROUTE"),
    (libc::SO_BROADCAST as u64, "SO_BROADCAST"),
    (libc::SO_SNDBUF as u64, "SO_SNDBUF"),
    (libc::SO_RCVBUF as u64, "SO_RCVBUF"),
    (libc::SO_KEEPALIVE as u64, "SO_KEEPALIVE"),
    (libc::SO_OOBINLINE as u64, "SO_OOBINLINE"),
    (libc::SO_NO_CHECK as u64, "SO_NO_CHECK"),
    (libc::SO_PRIORITY as u64, "SO_PRIORITY"),
    (libc::SO_LINGER as u64, "SO_LINGER"),
    (libc::SO_BSDCOMPAT as u64, "SO_BSDCOMPAT"),
    (libc::SO_REUSEPORT as u64, "SO_REUSEPORT"),
    (libc::SO_PASSCRED as u64, "SO_PASSCRED"),
    (libc::SO_PEERCRED as u64, "SO_PEERCRED"),
    (libc::SO_RCVLOWAT as u64, "SO_RCVLOWAT"),
    (libc::SO_SNDLOWAT as u64, "SO_SNDLOWAT"),
    (20, "SO_RCVTIMEO_OLD"),
    (21, "SO_SNDTIMEO_OLD"),
    (libc::SO_BINDTODEVICE as u64, "SO_BINDTODEVICE"),
    (libc::SO_TIMESTAMP as u64, "SO_TIMESTAMP_OLD"),
    (libc::SO_ACCEPTCONN as u64, "SO_ACCEPTCONN"),
    (libc::SO_PEERSEC as u64, "SO_PEERSEC"),
    (libc::SO_SNDBUFFORCE as u64, "SO_SNDBUFFORCE"),
    (libc::SO_RCVBUFFORCE as u64, "SO_RCVBUFFORCE"),
    (libc::SO_PASSSEC as u64, "SO_PASSSEC"),
    (libc::SO_MARK as u64, "SO_MARK"),
    (libc::SO_PROTOCOL as u64, "SO_PROTOCOL"),
    (libc::SO_DOMAIN as u64, "SO_DOMAIN"),
    (libc::SO_RXQ_OVFL as u64, "SO_RXQ_OVFL"),
    (libc::SO_PEEK_OFF as u64, "SO_PEEK_OFF"),
    (libc::SO_BUSY_POLL as u64, "SO_BUSY_POLL"),
    (libc::SO_INCOMING_CPU as u64, "SO_INCOMING_CPU"),
    (libc::SO_ZEROCOPY as u64, "SO_ZEROCOPY"),
];

/// SOL_TCP options.
pub static TCP: Table = libc_names![
    TCP_NODELAY,
    TCP_MAXSEG,
    TCP_CORK,
    TCP_KEEPIDLE,
    TCP_KEEPINTVL,
    TCP_KEEPCNT,
    TCP_SYNCNT,
    TCP_LINGER2,
    TCP_DEFER_ACCEPT,
    TCP_WINDOW_CLAMP,
    TCP_INFO,
    TCP_QUICKACK,
    TCP_CONGESTION,
    TCP_MD5SIG,
    TCP_THIN_LINEAR_TIMEOUTS,
    TCP_THIN_DUPACK,
    TCP_USER_TIMEOUT,
    TCP_REPAIR,
    TCP_REPAIR_QUEUE,
    TCP_QUEUE_SEQ,
    TCP_REPAIR_OPTIONS,
    TCP_FASTOPEN,
    TCP_TIMESTAMP,
    TCP_NOTSENT_LOWAT,
    TCP_CC_INFO,
    TCP_SAVE_SYN,
    TCP_SAVED_SYN,
    TCP_REPAIR_WINDOW,
    TCP_FASTOPEN_CONNECT,
    TCP_ULP,
    TCP_MD5SIG_EXT,
    TCP_FASTOPEN_KEY,
    TCP_FASTOPEN_NO_COOKIE,
    TCP_ZEROCOPY_RECEIVE,
    TCP_INQ,
];

/// SOL_IP options.
pub static IP: Table = libc_names![
    IP_TOS,
    IP_TTL,
    IP_HDRINCL,
    IP_OPTIONS,
    IP_RECVOPTS,
    IP_RETOPTS,
    IP_PKTINFO,
    IP_MTU_DISCOVER,
    IP_RECVERR,
    IP_RECVTTL,
    IP_RECVTOS,
    IP_MTU,
    IP_FREEBIND,
    IP_TRANSPARENT,
    IP_MULTICAST_IF,
    IP_MULTICAST_TTL,
    IP_MULTICAST_LOOP,
    IP_ADD_MEMBERSHIP,
    IP_DROP_MEMBERSHIP,
    IP_BIND_ADDRESS_NO_PORT,
];

/// SOL_IPV6 options.
pub static IPV6: Table = libc_names![
    IPV6_ADDRFORM,
    IPV6_2292PKTINFO,
    IPV6_CHECKSUM,
    IPV6_NEXTHOP,
    IPV6_UNICAST_HOPS,
    IPV6_MULTICAST_IF,
    IPV6_MULTICAST_HOPS,
    IPV6_MULTICAST_LOOP,
    IPV6_ADD_MEMBERSHIP,
    IPV6_DROP_MEMBERSHIP,
    IPV6_ROUTER_ALERT,
    IPV6_MTU_DISCOVER,
    IPV6_MTU,
    IPV6_RECVERR,
    IPV6_V6ONLY,
    IPV6_RECVPKTINFO,
    IPV6_PKTINFO,
    IPV6_TCLASS,
];

/// send/recv flags.
pub static MSG: Table = &[
    (libc::MSG_OOB as u64, "MSG_OOB"),
    (libc::MSG_PEEK as u64, "MSG_PEEK"),
    (libc::MSG_DONTROUTE as u64, "MSG_DONTROUTE"),
    (libc::MSG_CTRUNC as u64, "MSG_CTRUNC"),
    (0x10, "MSG_PROXY"),
    (libc::MSG_TRUNC as u64, "MSG_TRUNC"),
    (libc::MSG_DONTWAIT as u64, "MSG_DONTWAIT"),
    (libc::MSG_EOR as u64, "MSG_EOR"),
    (libc::MSG_WAITALL as u64, "MSG_WAITALL"),
    (libc::MSG_FIN as u64, "MSG_FIN"),
    (libc::MSG_SYN as u64, "MSG_SYN"),
    (libc::MSG_CONFIRM as u64, "MSG_CONFIRM"),
    (libc::MSG_RST as u64, "MSG_RST"),
    (libc::MSG_ERRQUEUE as u64, "MSG_ERRQUEUE"),
    (libc::MSG_NOSIGNAL as u64, "MSG_NOSIGNAL"),
    (libc::MSG_MORE as u64, "MSG_MORE"),
    (libc::MSG_WAITFORONE as u64, "MSG_WAITFORONE"),
    (libc::MSG_ZEROCOPY as u64, "MSG_ZEROCOPY"),
    (libc::MSG_FASTOPEN as u64, "MSG_FASTOPEN"),
    (libc::MSG_CMSG_CLOEXEC as u64, "MSG_CMSG_CLOEXEC"),
];

/// shutdown's how.
pub static SHUT: Table = libc_names![SHUT_RD, SHUT_WR, SHUT_RDWR];

/// Control message types at SOL_SOCKET.
pub static SCM: Table = libc_names![SCM_RIGHTS, SCM_CREDENTIALS];
