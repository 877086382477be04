/* signalfd: records read for raised, killed and child signals, nonblocking reads, poll, select
 * and epoll readiness, blocking reads woken by another thread, a forked child and (case "host")
 * a signal sent from outside, mask changes, several records in one read, inheritance over fork
 * and execve. One case per argv[1]; only what is the same on every run is printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *self_path;

static void block(int a, int b)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, a);
    if (b)
        sigaddset(&s, b);
    if (sigprocmask(SIG_BLOCK, &s, NULL) != 0)
        perror("sigprocmask");
}

static int sfd_for(int a, int b, int flags)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, a);
    if (b)
        sigaddset(&s, b);
    int fd = signalfd(-1, &s, flags);
    if (fd < 0)
        perror("signalfd");
    return fd;
}

static const char *err(long r)
{
    if (r >= 0)
        return "ok";
    switch (errno) {
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EINTR: return "EINTR";
    case ESPIPE: return "ESPIPE";
    case EFAULT: return "EFAULT";
    default: return "other";
    }
}

static void ms(int n)
{
    struct timespec t = {n / 1000, (n % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Reads one record and prints what of it is the same on every run. */
static void show(const char *what, struct signalfd_siginfo *si)
{
    printf("%s: signo=%u code=%d pid_self=%d uid_ok=%d\n", what, si->ssi_signo, si->ssi_code,
           si->ssi_pid == (unsigned)getpid(), si->ssi_uid == getuid());
}

static void read_one(int fd, const char *what)
{
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    if (n != sizeof si) {
        printf("%s: read=%zd %s\n", what, n, err(n));
        return;
    }
    show(what, &si);
}

static void case_basic(void)
{
    block(SIGUSR1, 0);
    int fd = sfd_for(SIGUSR1, 0, 0);
    raise(SIGUSR1);
    read_one(fd, "raise");
    kill(getpid(), SIGUSR1);
    read_one(fd, "kill");
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
    read_one(fd, "tgkill");
    union sigval v = {.sival_ptr = (void *)42};
    sigqueue(getpid(), SIGUSR1, v);
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    printf("sigqueue: read=%zd signo=%u code=%d int=%d ptr=%llu pid_self=%d\n", n, si.ssi_signo,
           si.ssi_code, si.ssi_int, (unsigned long long)si.ssi_ptr,
           si.ssi_pid == (unsigned)getpid());
    sigset_t pend;
    sigpending(&pend);
    printf("pending after reads: %d\n", sigismember(&pend, SIGUSR1));
}

static void case_errors(void)
{
    block(SIGUSR1, 0);
    int fd = sfd_for(SIGUSR1, 0, SFD_NONBLOCK | SFD_CLOEXEC);
    char small[127];
    struct signalfd_siginfo si;
    long r = read(fd, &si, sizeof si);
    printf("empty nonblocking read: %s\n", err(r));
    raise(SIGUSR1);
    r = read(fd, small, sizeof small);
    printf("short buffer: %s\n", err(r));
    r = write(fd, &si, sizeof si);
    printf("write: %s\n", err(r));
    r = pread(fd, &si, sizeof si, 0);
    printf("pread: %s\n", err(r));
    /* The record that cannot be written is lost, as on Linux. */
    void *volatile bad = (void *)8;
    r = read(fd, bad, sizeof si);
    printf("bad buffer: %s\n", err(r));
    read_one(fd, "lost");
    printf("O_NONBLOCK=%d FD_CLOEXEC=%d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0,
           (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    char link[64] = {0}, path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    r = readlink(path, link, sizeof link - 1);
    printf("link: %s\n", r > 0 ? link : err(r));
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    r = signalfd(1, &s, 0);
    printf("signalfd on stdout: %s\n", err(r));
    r = signalfd(999, &s, 0);
    printf("signalfd on a closed fd: %s\n", err(r));
    r = signalfd(-1, &s, 0x8000000);
    printf("unknown flag: %s\n", err(r));
    r = syscall(SYS_signalfd4, -1, &s, 4, 0);
    printf("sigset size 4: %s\n", err(r));
    r = syscall(SYS_signalfd4, -1, (void *)8, 8, 0);
    printf("bad mask: %s\n", err(r));
    r = syscall(SYS_signalfd, -1, &s, 8);
    printf("old signalfd: %s\n", r >= 0 ? "fd" : err(r));
    int pl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, pl & ~O_NONBLOCK);
    printf("O_NONBLOCK cleared: %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
}

static void case_two(void)
{
    block(SIGUSR1, SIGUSR2);
    int fd = sfd_for(SIGUSR1, SIGUSR2, SFD_NONBLOCK);
    kill(getpid(), SIGUSR1);
    raise(SIGUSR2);
    struct signalfd_siginfo si[3];
    ssize_t n = read(fd, si, sizeof si);
    printf("two at once: read=%zd\n", n);
    for (int i = 0; i < n / (ssize_t)sizeof si[0]; i++)
        show("record", &si[i]);
    /* Room for one and a half: one record. */
    raise(SIGUSR1);
    raise(SIGUSR2);
    n = read(fd, si, sizeof si[0] + 64);
    printf("one and a half: read=%zd signo=%u\n", n, si[0].ssi_signo);
    n = read(fd, si, sizeof si);
    printf("the other: read=%zd signo=%u\n", n, si[0].ssi_signo);
    /* readv across two buffers. */
    raise(SIGUSR1);
    raise(SIGUSR2);
    char a[100], b[300];
    struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
    n = readv(fd, iov, 2);
    memcpy(si, a, sizeof a);
    memcpy((char *)si + sizeof a, b, 256 - sizeof a);
    printf("readv: read=%zd signos=%u,%u\n", n, si[0].ssi_signo, si[1].ssi_signo);
}

static void case_mask(void)
{
    block(SIGUSR1, SIGUSR2);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGKILL);
    sigaddset(&s, SIGSTOP);
    int fd = signalfd(-1, &s, SFD_NONBLOCK);
    printf("SIGKILL and SIGSTOP in the mask: %s\n", fd >= 0 ? "ok" : err(fd));
    raise(SIGUSR2);
    struct signalfd_siginfo si;
    long r = read(fd, &si, sizeof si);
    printf("USR2 not in the mask: %s\n", err(r));
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    r = signalfd(fd, &s, 0);
    printf("new mask: same fd=%d\n", r == fd);
    read_one(fd, "after the change");
    sigpending(&s);
    printf("USR2 still pending: %d\n", sigismember(&s, SIGUSR2));
}

static void case_chld(void)
{
    block(SIGCHLD, 0);
    int fd = sfd_for(SIGCHLD, 0, 0);
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    printf("SIGCHLD: read=%zd signo=%u code=%d pid_child=%d status=%d\n", n, si.ssi_signo,
           si.ssi_code, si.ssi_pid == (unsigned)pid, si.ssi_status);
    int st;
    waitpid(pid, &st, 0);
    pid = fork();
    if (pid == 0) {
        raise(SIGKILL);
        _exit(1);
    }
    n = read(fd, &si, sizeof si);
    printf("killed child: read=%zd code=%d pid_child=%d status=%d\n", n, si.ssi_code,
           si.ssi_pid == (unsigned)pid, si.ssi_status);
    waitpid(pid, &st, 0);
}

static int poll_in(int fd, int timeout)
{
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, timeout);
    return r < 0 ? -1 : r == 0 ? 0 : (p.revents & POLLIN) ? 1 : 2;
}

static int select_in(int fd)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(fd, &r);
    struct timeval tv = {0, 0};
    int n = select(fd + 1, &r, NULL, NULL, &tv);
    return n < 0 ? -1 : n == 1 && FD_ISSET(fd, &r);
}

static void case_poll(void)
{
    block(SIGUSR1, SIGUSR2);
    int fd = sfd_for(SIGUSR1, 0, SFD_NONBLOCK);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1234};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    struct epoll_event out[2];
    printf("nothing pending: poll=%d select=%d epoll=%d\n", poll_in(fd, 0), select_in(fd),
           epoll_wait(ep, out, 2, 0));
    /* Never writable. */
    struct pollfd pw = {fd, POLLIN | POLLOUT, 0};
    fd_set w;
    FD_ZERO(&w);
    FD_SET(fd, &w);
    struct timeval tv = {0, 0};
    int ep2 = epoll_create1(0);
    struct epoll_event evw = {.events = EPOLLIN | EPOLLOUT, .data.u64 = 1};
    epoll_ctl(ep2, EPOLL_CTL_ADD, fd, &evw);
    printf("for writing: poll=%d select=%d epoll=%d\n", poll(&pw, 1, 0),
           select(fd + 1, NULL, &w, NULL, &tv), epoll_wait(ep2, out, 2, 0));
    close(ep2);
    raise(SIGUSR2);
    printf("another signal pending: poll=%d select=%d epoll=%d\n", poll_in(fd, 0),
           select_in(fd), epoll_wait(ep, out, 2, 0));
    raise(SIGUSR1);
    int p = poll_in(fd, 0), s = select_in(fd);
    int e = epoll_wait(ep, out, 2, 0);
    printf("USR1 pending: poll=%d select=%d epoll=%d data=%#llx events=%#x\n", p, s, e,
           (unsigned long long)out[0].data.u64, out[0].events);
    read_one(fd, "read");
    printf("after the read: poll=%d select=%d epoll=%d\n", poll_in(fd, 0), select_in(fd),
           epoll_wait(ep, out, 2, 0));
    /* Process-directed, with a timeout that must not run out. */
    kill(getpid(), SIGUSR1);
    printf("kill: poll=%d epoll=%d\n", poll_in(fd, 5000), epoll_wait(ep, out, 2, 5000));
    read_one(fd, "read");
}

static pthread_t main_thread;

static void *sender(void *arg)
{
    int how = (int)(long)arg;
    ms(150);
    if (how == 0)
        kill(getpid(), SIGUSR1);
    else
        pthread_kill(main_thread, SIGUSR1);
    return NULL;
}

static void after_thread(int how, void (*wait)(int), int fd)
{
    pthread_t t;
    pthread_create(&t, NULL, sender, (void *)(long)how);
    wait(fd);
    pthread_join(t, NULL);
}

static void wait_read(int fd) { read_one(fd, "blocking read"); }

static void wait_poll(int fd)
{
    printf("blocking poll=%d\n", poll_in(fd, -1));
    read_one(fd, "then read");
}

static int epfd;

static void wait_epoll(int fd)
{
    struct epoll_event out[2];
    int n = epoll_wait(epfd, out, 2, -1);
    printf("blocking epoll=%d data=%#llx\n", n, (unsigned long long)out[0].data.u64);
    read_one(fd, "then read");
}

static void case_thread(void)
{
    block(SIGUSR1, 0);
    main_thread = pthread_self();
    int fd = sfd_for(SIGUSR1, 0, 0);
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    for (int how = 0; how < 2; how++) {
        printf("sent by %s\n", how ? "pthread_kill" : "kill from a thread");
        after_thread(how, wait_read, fd);
        after_thread(how, wait_poll, fd);
        after_thread(how, wait_epoll, fd);
    }
}

static void case_fork(void)
{
    block(SIGUSR1, SIGUSR2);
    int fd = sfd_for(SIGUSR1, SIGUSR2, 0);
    pid_t parent = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* The child reads its own signals from the inherited signalfd. */
        raise(SIGUSR2);
        read_one(fd, "child, inherited fd");
        ms(150);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    printf("woken by the child: read=%zd signo=%u code=%d pid_child=%d uid_ok=%d\n", n,
           si.ssi_signo, si.ssi_code, si.ssi_pid == (unsigned)pid, si.ssi_uid == getuid());
    int st;
    waitpid(pid, &st, 0);
    printf("child status=%d\n", WEXITSTATUS(st));
    /* Across execve: kept unless close-on-exec. */
    int cx = sfd_for(SIGUSR1, 0, SFD_CLOEXEC);
    char a[16], b[16];
    snprintf(a, sizeof a, "%d", fd);
    snprintf(b, sizeof b, "%d", cx);
    fflush(stdout);
    execl(self_path, self_path, "after-exec", a, b, (char *)NULL);
    perror("execl");
}

static void case_after_exec(char **argv)
{
    int fd = atoi(argv[2]), cx = atoi(argv[3]);
    printf("after exec: kept fd open=%d cloexec fd open=%d\n", fcntl(fd, F_GETFD) >= 0,
           fcntl(cx, F_GETFD) >= 0);
    sigset_t m;
    sigprocmask(SIG_BLOCK, NULL, &m);
    printf("mask kept: %d\n", sigismember(&m, SIGUSR1));
    raise(SIGUSR1);
    read_one(fd, "after exec");
}

static volatile sig_atomic_t handled;

static void on_usr2(int sig)
{
    char m[] = "handler 0\n";
    m[8] = '0' + ++handled;
    write(1, m, sizeof m - 1);
    (void)sig;
}

static void case_host(void)
{
    block(SIGUSR1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    int fd = sfd_for(SIGUSR1, 0, 0);
    struct signalfd_siginfo si;
    printf("ready\n");
    ssize_t n = read(fd, &si, sizeof si);
    printf("read=%zd %s\n", n, err(n));
    /* With SA_RESTART the read goes on after the handler and takes the next SIGUSR1. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    printf("ready again\n");
    n = read(fd, &si, sizeof si);
    printf("read=%zd signo=%u code=%d\n", n, si.ssi_signo, si.ssi_code);
    printf("ready to poll\n");
    printf("poll=%d\n", poll_in(fd, -1));
    n = read(fd, &si, sizeof si);
    printf("read=%zd signo=%u\n", n, si.ssi_signo);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    self_path = argv[0];
    const char *c = argc > 1 ? argv[1] : "";
    if (!strcmp(c, "basic"))
        case_basic();
    else if (!strcmp(c, "errors"))
        case_errors();
    else if (!strcmp(c, "two"))
        case_two();
    else if (!strcmp(c, "mask"))
        case_mask();
    else if (!strcmp(c, "chld"))
        case_chld();
    else if (!strcmp(c, "poll"))
        case_poll();
    else if (!strcmp(c, "thread"))
        case_thread();
    else if (!strcmp(c, "fork"))
        case_fork();
    else if (argc > 3 && !strcmp(c, "after-exec"))
        case_after_exec(argv);
    else if (!strcmp(c, "host"))
        case_host();
    else {
        fprintf(stderr, "unknown case\n");
        return 2;
    }
    return 0;
}
