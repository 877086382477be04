// POSIX message queues: priorities, O_NONBLOCK (EAGAIN both ways), a timed receive
// (ETIMEDOUT), message sizes, mq_notify with SIGEV_SIGNAL, poll and epoll on a queue
// descriptor, its close-on-exec flag, a receive woken by a forked child's send, names and
// permissions. Prints only what is the same on every run (no names, pids or times).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *e(long r) {
    return r < 0 ? strerror(errno) : "ok";
}

static int reap(pid_t pid) {
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void rcv(mqd_t q, const char *what) {
    char buf[128];
    unsigned prio = 0;
    ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
    if (n < 0)
        printf("%s: %s\n", what, strerror(errno));
    else
        printf("%s: prio %u '%.*s'\n", what, prio, (int)n, buf);
}

static int revents(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    poll(&p, 1, 0);
    return p.revents;
}

static void on_usr2(int sig) {
    (void)sig;
}

// A child blocked in mq_receive gets SIGUSR2 (handled with `flags`), then a message: EINTR
// without SA_RESTART; with it the call goes on and takes the message (unlike semop/msgrcv).
static void interrupted_receive(mqd_t q, int flags) {
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr2;
        sa.sa_flags = flags;
        sigaction(SIGUSR2, &sa, NULL);
        rcv(q, flags ? "SA_RESTART receive" : "plain receive");
        _exit(0);
    }
    usleep(100 * 1000);
    kill(pid, SIGUSR2);
    usleep(100 * 1000);
    mq_send(q, "after signal", 12, 0);
    reap(pid);
    struct mq_attr a;
    mq_getattr(q, &a);
    if (a.mq_curmsgs) {
        char buf[128];
        mq_receive(q, buf, sizeof buf, NULL);
    }
}

static void read_file(const char *path) {
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("%s: %s\n", path, strerror(errno));
        return;
    }
    if (!fgets(buf, sizeof buf, f))
        buf[0] = 0;
    fclose(f);
    printf("%s: %s", path, buf);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    read_file("/proc/sys/fs/mqueue/msg_max");
    read_file("/proc/sys/fs/mqueue/msgsize_max");
    read_file("/proc/sys/fs/mqueue/msg_default");
    read_file("/proc/sys/fs/mqueue/msgsize_default");
    read_file("/proc/sys/fs/mqueue/queues_max");

    char name[64], other[64];
    snprintf(name, sizeof name, "/mvm-test-%d", getpid());
    snprintf(other, sizeof other, "/mvm-test-%d-other", getpid());

    // The defaults.
    mqd_t d = mq_open(other, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
    struct mq_attr a;
    mq_getattr(d, &a);
    printf("default: maxmsg %ld msgsize %ld curmsgs %ld flags %ld\n", a.mq_maxmsg, a.mq_msgsize,
           a.mq_curmsgs, a.mq_flags);
    printf("open excl again: %s\n", e(mq_open(other, O_CREAT | O_EXCL | O_RDWR, 0600, NULL)));
    printf("close: %s\n", e(mq_close(d)));
    printf("unlink: %s\n", e(mq_unlink(other)));
    printf("unlink again: %s\n", e(mq_unlink(other)));
    printf("open missing: %s\n", e(mq_open(other, O_RDWR)));
    printf("open no slash: %s\n", e(mq_open("noslash", O_CREAT | O_RDWR, 0600, NULL)));
    struct mq_attr huge = {.mq_maxmsg = 100000, .mq_msgsize = 8};
    printf("open too many msgs: %s\n", e(mq_open(other, O_CREAT | O_RDWR, 0600, &huge)));

    struct mq_attr want = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &want);
    printf("open: %s, cloexec %d\n", e(q), fcntl(q, F_GETFD) & FD_CLOEXEC);
    mq_getattr(q, &a);
    printf("attr: maxmsg %ld msgsize %ld\n", a.mq_maxmsg, a.mq_msgsize);
    printf("poll empty: %#x\n", revents(q));

    // Priorities: highest first, oldest first within one.
    mq_send(q, "low", 3, 1);
    printf("poll one: %#x\n", revents(q));
    mq_send(q, "high-a", 6, 5);
    mq_send(q, "mid", 3, 3);
    mq_send(q, "high-b", 6, 5);
    printf("poll full: %#x\n", revents(q));
    char status[128] = {0};
    ssize_t sn = read(q, status, sizeof status - 1);
    printf("read: %zd %s", sn, status);
    mq_getattr(q, &a);
    printf("curmsgs %ld\n", a.mq_curmsgs);

    // Full, nonblocking: EAGAIN; blocking with a deadline: ETIMEDOUT.
    struct mq_attr nb = {.mq_flags = O_NONBLOCK}, old;
    mq_setattr(q, &nb, &old);
    printf("setattr: old flags %ld\n", old.mq_flags);
    printf("send full nonblock: %s\n", e(mq_send(q, "x", 1, 0)));
    nb.mq_flags = 0;
    mq_setattr(q, &nb, NULL);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 50 * 1000 * 1000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    printf("timed send full: %s\n", e(mq_timedsend(q, "x", 1, 0, &t)));
    char small[8];
    printf("receive small buffer: %s\n", e(mq_receive(q, small, sizeof small, NULL)));
    printf("send too long: %s\n", e(mq_send(q, status, 65, 0)));
    printf("send bad prio: %s\n", e(mq_send(q, "x", 1, 40000)));
    for (int i = 0; i < 4; i++)
        rcv(q, "receive");

    mqd_t nbq = mq_open(name, O_RDONLY | O_NONBLOCK);
    rcv(nbq, "receive empty nonblock");
    printf("send on read-only: %s\n", e(mq_send(nbq, "x", 1, 0)));
    mq_close(nbq);
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 50 * 1000 * 1000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    char buf[128];
    printf("timed receive empty: %s\n", e(mq_timedreceive(q, buf, sizeof buf, NULL, &t)));
    t.tv_nsec = 2000000000;
    printf("bad timeout: %s\n", e(mq_timedreceive(q, buf, sizeof buf, NULL, &t)));

    // mq_notify with SIGEV_SIGNAL: one signal, when a message reaches the empty queue.
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    ev.sigev_value.sival_int = 42;
    printf("notify: %s\n", e(mq_notify(q, &ev)));
    printf("notify again: %s\n", e(mq_notify(q, &ev)));
    pid_t pid = fork();
    if (pid == 0) {
        printf("child notify: %s\n", e(mq_notify(q, &ev)));
        _exit(0);
    }
    reap(pid);
    mq_send(q, "wake", 4, 0);
    siginfo_t si;
    struct timespec two = {.tv_sec = 2};
    int sig = sigtimedwait(&usr1, &si, &two);
    printf("signal %d code %d value %d pid is me %d\n", sig, si.si_code, si.si_value.sival_int,
           si.si_pid == getpid());
    mq_send(q, "again", 5, 0);
    struct timespec short_wait = {.tv_nsec = 100 * 1000 * 1000};
    printf("second signal: %d\n", sigtimedwait(&usr1, &si, &short_wait));
    rcv(q, "receive");
    rcv(q, "receive");
    printf("notify off: %s\n", e(mq_notify(q, NULL)));

    // A receive and a poll woken by a forked child's sends.
    pid = fork();
    if (pid == 0) {
        usleep(100 * 1000);
        mq_send(q, "from child", 10, 2);
        usleep(100 * 1000);
        mq_send(q, "for poll", 8, 0);
        _exit(0);
    }
    rcv(q, "parent receive");
    struct pollfd p = {.fd = q, .events = POLLIN};
    int n = poll(&p, 1, 5000);
    printf("poll: %d %#x\n", n, p.revents);
    int ep = epoll_create1(0);
    struct epoll_event ee = {.events = EPOLLIN}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, q, &ee);
    n = epoll_wait(ep, &out, 1, 5000);
    printf("epoll: %d %#x\n", n, out.events);
    rcv(q, "receive");
    printf("epoll empty: %d\n", epoll_wait(ep, &out, 1, 0));
    close(ep);
    printf("child: %d\n", reap(pid));

    interrupted_receive(q, 0);
    interrupted_receive(q, SA_RESTART);

    // Another user may not open a 0600 queue, nor unlink it.
    pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(9);
        printf("other user open: %s\n", e(mq_open(name, O_RDONLY)));
        printf("other user unlink: %s\n", e(mq_unlink(name)));
        _exit(0);
    }
    printf("child: %d\n", reap(pid));
    printf("close: %s\n", e(mq_close(q)));
    printf("send on closed: %s\n", e(mq_send(q, "x", 1, 0)));
    printf("unlink: %s\n", e(mq_unlink(name)));
    printf("done\n");
    return 0;
}
