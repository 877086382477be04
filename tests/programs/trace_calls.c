/* A fixed list of syscalls for tests/trace.rs to compare mvm's --trace with strace's: each
 * call between the "BEGIN" and "END" lines on stdout gives the same line in both traces (after
 * addresses are normalized). argv[1] is a scratch file path (created, then removed), argv[2] a
 * scratch directory path (likewise). Raw syscalls where libc would add or hide calls. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <asm/prctl.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *path = argv[1], *dir = argv[2];
    char buf[128];
    struct stat st;
    write(1, "BEGIN\n", 6);

    int fd = syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    static const char data[] = "hello\ttrace\n\0\1\0017\177\377\"\\ and more than thirty-two bytes";
    syscall(SYS_write, fd, data, sizeof data - 1);
    syscall(SYS_lseek, fd, 0, SEEK_SET);
    syscall(SYS_read, fd, buf, sizeof buf);
    syscall(SYS_read, fd, buf, sizeof buf);
    syscall(SYS_pread64, fd, buf, 5, 6);
    syscall(SYS_lseek, fd, -3L, SEEK_END);
    syscall(SYS_fstat, fd, &st);
    syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0);
    syscall(SYS_newfstatat, AT_FDCWD, dir, &st, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_openat, AT_FDCWD, "/nonexistent/trace", O_RDONLY);
    syscall(SYS_access, path, R_OK | W_OK);
    syscall(SYS_faccessat, AT_FDCWD, "/nonexistent", F_OK);
    syscall(SYS_fcntl, fd, F_GETFD);
    syscall(SYS_fcntl, fd, F_SETFD, 0);
    syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
    syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 20);
    syscall(SYS_dup3, fd, 21, O_CLOEXEC);
    syscall(SYS_close, 21);
    syscall(SYS_close, 20);
    syscall(SYS_close, -1);

    char *p = (char *)syscall(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1;
    syscall(SYS_mprotect, p, 4096, PROT_READ);
    syscall(SYS_madvise, p, 8192, MADV_DONTNEED);
    syscall(SYS_munmap, p, 8192);
    p = (char *)syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, fd, 0);
    syscall(SYS_munmap, p, 4096);
    p = (char *)syscall(SYS_mmap, 0, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    syscall(SYS_munmap, p, 1 << 20);

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR1, NULL, &old);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGPIPE, &sa, &old);
    sigaction(SIGPIPE, NULL, &old);
    unsigned long set = (1UL << (SIGUSR2 - 1)) | (1UL << (SIGRTMIN + 2 - 1)), oldset = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oldset, 8);
    set = ~0UL;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, &oldset, 8);
    set = ~((1UL << (SIGCHLD - 1)) | (1UL << (SIGHUP - 1)));
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, &oldset, 8);
    set = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, NULL, &oldset, 8);

    syscall(SYS_wait4, -1L, NULL, WNOHANG, NULL);
    int status;
    syscall(SYS_wait4, 99999, &status, 0, NULL);

    int s = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    syscall(SYS_connect, s, &sin, sizeof sin);
    syscall(SYS_close, s);
    s = syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = 0};
    sin6.sin6_addr = in6addr_loopback;
    syscall(SYS_bind, s, &sin6, sizeof sin6);
    syscall(SYS_close, s);
    s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, "/nonexistent/socket");
    syscall(SYS_connect, s, &sun, sizeof sun);
    syscall(SYS_close, s);

    struct timespec ts = {0, 1000000};
    syscall(SYS_nanosleep, &ts, NULL);
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
    struct timespec res;
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res);

    int fds[2];
    syscall(SYS_pipe2, fds, O_CLOEXEC);
    int n = 0;
    syscall(SYS_ioctl, fds[0], FIONREAD, &n);
    syscall(SYS_ioctl, 1, TCGETS, buf);
    syscall(SYS_close, fds[0]);
    /* SIGPIPE is ignored (above): the signal still shows, after the write that raised it. */
    syscall(SYS_write, fds[1], "x", 1);
    syscall(SYS_close, fds[1]);

    struct rlimit rl = {0, 0};
    syscall(SYS_prlimit64, 0, RLIMIT_CORE, &rl, NULL);
    syscall(SYS_prlimit64, 0, RLIMIT_CORE, NULL, &rl);

    int word = 0;
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    int word2 = 0;
    syscall(SYS_futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, 1, &word2, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0));
    /* CLONE_SIGHAND without CLONE_VM is EINVAL; bit 32 is not a clone(2) flag. */
    syscall(SYS_clone, CLONE_SIGHAND | 0x100000000UL | SIGCHLD, 0, 0, 0, 0);
    unsigned long fs;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);

    syscall(SYS_mkdirat, AT_FDCWD, dir, 0755);
    syscall(SYS_mkdir, dir, 0700);
    syscall(SYS_getcwd, buf, sizeof buf);
    syscall(SYS_chdir, dir);
    syscall(SYS_chdir, "/");
    syscall(SYS_unlinkat, AT_FDCWD, dir, AT_REMOVEDIR);
    syscall(SYS_close, fd);
    syscall(SYS_unlink, path);

    write(1, "END\n", 4);
    return 0;
}
