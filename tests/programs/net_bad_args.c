/* Hostile socket arguments: each must get an errno, never crash mvm or reach the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define R(what, call)                                                                            \
    do {                                                                                         \
        errno = 0;                                                                               \
        long r_ = (call);                                                                        \
        printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerrorname_np(errno) : "");                  \
    } while (0)

int main(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    unsigned char a[4] = {2, 0, 0x1f, 0x90};
    R("bind len 2", syscall(SYS_bind, s, a, 2));
    R("bind len 3", syscall(SYS_bind, s, a, 3));
    R("bind huge len", syscall(SYS_bind, s, a, 100000));
    R("bind bad pointer", syscall(SYS_bind, s, (void *)8, 16));
    R("connect len 3", syscall(SYS_connect, s, a, 3));
    R("setsockopt bad pointer", syscall(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, (void *)8, 4));
    R("setsockopt SO_BINDTODEVICE", syscall(SYS_setsockopt, s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
    R("getsockopt bad length pointer", syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, a, (void *)8));
    R("sendmsg bad header", syscall(SYS_sendmsg, s, (void *)8, 0));
    R("recvfrom on a file", syscall(SYS_recvfrom, 1, a, 4, 0, 0, 0));
    R("epoll_wait bad fd", syscall(SYS_epoll_wait, 999, (void *)0, 1, 0));
    R("epoll_wait zero events", syscall(SYS_epoll_wait, s, (void *)0, 0, 0));
    R("packet socket", syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0));
    R("raw socket", syscall(SYS_socket, AF_INET, SOCK_RAW, 1));
    R("netlink socket", syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0));
    R("unix socket, protocol 7", syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 7));
    R("unknown family", syscall(SYS_socket, 99, SOCK_STREAM, 0));
    printf("done\n");
    return 0;
}
