/* CPU time: ITIMER_PROF/ITIMER_VIRTUAL ticks over a busy loop, getitimer counting down, the
 * CPU-time clocks (the process's, the thread's, another thread's, a child's; the errors),
 * timer_create on a CPU-time clock, RLIMIT_CPU (SIGXCPU, then SIGKILL at the hard limit) and
 * RLIMIT_FSIZE (short write, EFBIG and SIGXFSZ, then death by SIGXFSZ). One mode per run, one
 * line per check, printed only as pass/fail facts (never raw timings) so that a native run
 * and an mvm run print the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double secs(clockid_t c)
{
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0)
        return -1;
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spins until the process has used `cpu` more seconds of CPU time, or `wall` seconds pass. */
static void spin_cpu(double cpu, double wall)
{
    double c0 = secs(CLOCK_PROCESS_CPUTIME_ID), w0 = secs(CLOCK_MONOTONIC);
    volatile unsigned long x = 0;
    while (secs(CLOCK_PROCESS_CPUTIME_ID) - c0 < cpu && secs(CLOCK_MONOTONIC) - w0 < wall)
        for (int i = 0; i < 100000; i++)
            x += i;
}

/* Spins for `wall` seconds with no syscall in between: the loop a guest makes no exit in. */
static void spin_wall_quiet(double wall)
{
    double w0 = secs(CLOCK_MONOTONIC);
    volatile unsigned long x = 0;
    while (secs(CLOCK_MONOTONIC) - w0 < wall)
        for (int i = 0; i < 20000000; i++)
            x += i;
}

/* Wall seconds a run may spin for at most (the machine may be shared). */
#define RUN_CAP 100

static volatile sig_atomic_t ticks, xcpu, xfsz, usr1;
static void on_tick(int s) { (void)s; ticks++; }
static void on_usr1(int s) { (void)s; usr1++; }
static void on_xfsz(int s) { (void)s; xfsz++; }
static void on_xcpu(int s)
{
    (void)s;
    xcpu++;
    /* Linux raises the soft limit a second at each SIGXCPU. */
    struct rlimit r;
    getrlimit(RLIMIT_CPU, &r);
    char msg[] = "SIGXCPU, soft limit now ?\n";
    msg[sizeof msg - 3] = r.rlim_cur < 10 ? '0' + r.rlim_cur : '+';
    write(1, msg, sizeof msg - 1);
}

static int itimer(int which, int sig)
{
    struct sigaction sa = {.sa_handler = on_tick};
    sigaction(sig, &sa, NULL);
    /* A one-shot timer of 5 s: what getitimer says goes down with CPU time. */
    struct itimerval v = {.it_value = {5, 0}}, a, b;
    setitimer(which, &v, NULL);
    getitimer(which, &a);
    spin_cpu(0.05, 10);
    getitimer(which, &b);
    double da = a.it_value.tv_sec + a.it_value.tv_usec / 1e6;
    double db = b.it_value.tv_sec + b.it_value.tv_usec / 1e6;
    printf("getitimer counts down: %s\n", db < da && db > 4 && da <= 5.1 ? "yes" : "no");
    /* 10 ms, then every 10 ms, over 300 ms of CPU time. */
    struct itimerval p = {.it_interval = {0, 10000}, .it_value = {0, 10000}}, old;
    setitimer(which, &p, &old);
    printf("old value kept: %s\n", old.it_value.tv_sec >= 4 ? "yes" : "no");
    spin_cpu(0.3, 30);
    struct itimerval off = {0}, left;
    setitimer(which, &off, &left);
    int n = ticks;
    printf("ticks in range: %s\n", n >= 5 && n <= 40 ? "yes" : "no");
    if (n < 5 || n > 40)
        fprintf(stderr, "ticks: %d\n", n);
    printf("interval read back: %s\n",
           left.it_interval.tv_sec == 0 && left.it_interval.tv_usec == 10000 ? "yes" : "no");
    /* Disarmed: no more ticks. */
    spin_cpu(0.05, 10);
    printf("disarmed: %s\n", ticks == n ? "yes" : "no");
    return 0;
}

static volatile int stop_spinner;
static void *spinner(void *arg)
{
    (void)arg;
    volatile unsigned long x = 0;
    while (!stop_spinner)
        x++;
    return NULL;
}

/* Spins without syscalls until this thread has used `cpu` more seconds, or `wall` pass. */
static void spin_thread_cpu(double cpu, double wall)
{
    double t0 = secs(CLOCK_THREAD_CPUTIME_ID), w0 = secs(CLOCK_MONOTONIC);
    while (secs(CLOCK_THREAD_CPUTIME_ID) - t0 < cpu && secs(CLOCK_MONOTONIC) - w0 < wall)
        spin_wall_quiet(0.001);
}

static int clocks(void)
{
    double c0 = secs(CLOCK_PROCESS_CPUTIME_ID), t0 = secs(CLOCK_THREAD_CPUTIME_ID);
    double w0 = secs(CLOCK_MONOTONIC);
    spin_thread_cpu(0.2, 20);
    double c1 = secs(CLOCK_PROCESS_CPUTIME_ID), t1 = secs(CLOCK_THREAD_CPUTIME_ID);
    double w1 = secs(CLOCK_MONOTONIC);
    double wall = w1 - w0, pc = c1 - c0, own = t1 - t0;
    /* One thread computes: at most the wall time, and a good part of it (the machine may be
     * shared: a load of 20 per CPU still passes). */
    int near = pc >= 0.2 && pc > 0.05 * wall && pc < 1.1 * wall + 0.01;
    printf("process clock near the wall time of a busy loop: %s\n", near ? "yes" : "no");
    if (!near)
        fprintf(stderr, "process clock %.3f s over %.3f s\n", pc, wall);
    near = own >= 0.2 && own > 0.05 * wall && own < 1.1 * wall + 0.01 && own <= pc + 0.001;
    printf("thread clock near the wall time of a busy loop: %s\n", near ? "yes" : "no");
    if (!near)
        fprintf(stderr, "thread clock %.3f s over %.3f s\n", own, wall);
    struct timespec res;
    printf("getres process: %d\n", clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res));
    printf("getres thread: %d\n", clock_getres(CLOCK_THREAD_CPUTIME_ID, &res));

    /* Another thread's clock, read from this one while it spins. */
    pthread_t th;
    pthread_create(&th, NULL, spinner, NULL);
    clockid_t tc;
    printf("pthread_getcpuclockid: %d\n", pthread_getcpuclockid(th, &tc));
    double o0 = secs(tc), o1 = o0;
    for (double w = secs(CLOCK_MONOTONIC); o1 - o0 < 0.05 && secs(CLOCK_MONOTONIC) - w < 20;)
        o1 = secs(tc);
    printf("other thread's clock counts: %s\n", o0 >= 0 && o1 - o0 >= 0.05 ? "yes" : "no");
    /* Its time is the process's too; still counted after it exits. */
    double p_live = secs(CLOCK_PROCESS_CPUTIME_ID);
    stop_spinner = 1;
    pthread_join(th, NULL);
    double p_after = secs(CLOCK_PROCESS_CPUTIME_ID);
    printf("process clock keeps an exited thread's time: %s\n",
           p_after >= p_live && p_after - c0 > (o1 - o0) + pc * 0.9 ? "yes" : "no");

    /* The process clock of this process and of a child; a thread clock of a child is not. */
    clockid_t sc;
    printf("clock_getcpuclockid self: %d\n", clock_getcpuclockid(getpid(), &sc));
    printf("self clock works: %s\n", secs(sc) > 0 ? "yes" : "no");
    pid_t child = fork();
    if (child == 0) {
        volatile unsigned long x = 0;
        for (;;)
            x++;
    }
    clockid_t kc;
    printf("clock_getcpuclockid child: %d\n", clock_getcpuclockid(child, &kc));
    double k0 = secs(kc), k1 = k0;
    for (double w = secs(CLOCK_MONOTONIC); k1 <= k0 && secs(CLOCK_MONOTONIC) - w < 20;)
        k1 = secs(kc);
    printf("child's clock counts: %s\n", k1 > k0 && k0 >= 0 ? "yes" : "no");
    clockid_t bad = (~(clockid_t)child << 3) | 6; /* its thread clock, from another process */
    struct timespec ts;
    errno = 0;
    int r = clock_gettime(bad, &ts);
    printf("child's thread clock: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = clock_gettime((~0 << 3) | 3, &ts); /* no such kind of CPU clock */
    printf("bad kind: %d %s\n", r, strerrorname_np(errno));
    kill(child, SIGKILL);
    struct rusage cru, all;
    wait4(child, NULL, 0, &cru);
    getrusage(RUSAGE_CHILDREN, &all);
    double cu = cru.ru_utime.tv_sec + cru.ru_utime.tv_usec / 1e6 + cru.ru_stime.tv_sec +
                cru.ru_stime.tv_usec / 1e6;
    double au = all.ru_utime.tv_sec + all.ru_utime.tv_usec / 1e6 + all.ru_stime.tv_sec +
                all.ru_stime.tv_usec / 1e6;
    printf("wait4 reports the child's CPU time: %s\n", cu >= k1 - 0.001 && k1 > 0 ? "yes" : "no");
    printf("RUSAGE_CHILDREN counts it: %s\n", au >= cu - 0.001 && au < cu + 0.01 ? "yes" : "no");
    if (cu < k1 - 0.001 || au < cu - 0.001 || au >= cu + 0.01)
        fprintf(stderr, "child clock %.3f, wait4 %.3f, RUSAGE_CHILDREN %.3f\n", k1, cu, au);
    errno = 0;
    r = clock_gettime(kc, &ts);
    printf("reaped child's clock: %d %s\n", r, strerrorname_np(errno));

    /* getrusage agrees with the clock roughly. */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rs = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                ru.ru_stime.tv_usec / 1e6;
    double cc = secs(CLOCK_PROCESS_CPUTIME_ID);
    printf("getrusage near the clock: %s\n", rs > 0.8 * cc && rs <= cc + 0.02 ? "yes" : "no");
    return 0;
}

static int cpu_timer(void)
{
    struct sigaction sa = {.sa_handler = on_usr1};
    sigaction(SIGUSR1, &sa, NULL);
    timer_t t;
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    printf("create process timer: %d\n", timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &t));
    struct itimerspec its = {.it_value = {0, 100000000}}, cur;
    printf("settime: %d\n", timer_settime(t, 0, &its, NULL));
    timer_gettime(t, &cur);
    printf("gettime within the value: %s\n",
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
                   cur.it_value.tv_nsec <= 100000000
               ? "yes"
               : "no");
    double w0 = secs(CLOCK_MONOTONIC);
    while (!usr1 && secs(CLOCK_MONOTONIC) - w0 < 20)
        spin_wall_quiet(0.01);
    printf("process timer fired: %s\n", usr1 == 1 ? "yes" : "no");
    timer_delete(t);

    /* A thread clock's timer, with TIMER_ABSTIME, and a quiet loop (no syscall) to wake. */
    usr1 = 0;
    printf("create thread timer: %d\n", timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t));
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    now.tv_nsec += 50000000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000;
    }
    struct itimerspec abs = {.it_value = now};
    printf("settime abs: %d\n", timer_settime(t, TIMER_ABSTIME, &abs, NULL));
    spin_thread_cpu(0.1, 20);
    spin_wall_quiet(0.01);
    printf("thread timer fired: %s\n", usr1 == 1 ? "yes" : "no");
    timer_delete(t);

    /* clock_nanosleep on the process clock while another thread computes; not on this
     * thread's own clock. */
    stop_spinner = 0;
    pthread_t th;
    pthread_create(&th, NULL, spinner, NULL);
    double c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
    struct timespec d = {0, 100000000};
    int s = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &d, NULL);
    double c1 = secs(CLOCK_PROCESS_CPUTIME_ID);
    printf("sleep on the process clock: %d %s\n", s, c1 - c0 >= 0.099 ? "yes" : "no");
    stop_spinner = 1;
    pthread_join(th, NULL);
    printf("sleep on the thread clock: %s\n",
           strerrorname_np(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL)));

    errno = 0;
    int r = timer_create((~0 << 3) | 3, &ev, &t); /* a clock of a descriptor (stdin): none */
    printf("descriptor clock: %d %s\n", r, strerrorname_np(errno));
    return 0;
}

static int rlimit_cpu(void)
{
    struct sigaction sa = {.sa_handler = on_xcpu};
    sigaction(SIGXCPU, &sa, NULL);
    struct rlimit rl = {1, 2};
    printf("setrlimit: %d\n", setrlimit(RLIMIT_CPU, &rl));
    fflush(stdout);
    /* Never ends by itself: SIGXCPU at 1 s, SIGKILL at 2 s. */
    spin_wall_quiet(RUN_CAP);
    printf("still alive\n");
    return 1;
}

static int rlimit_fsize(void)
{
    struct sigaction sa = {.sa_handler = on_xfsz};
    sigaction(SIGXFSZ, &sa, NULL);
    char name[] = "/tmp/cpu_time_XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    unlink(name);
    struct rlimit rl = {10, 10};
    printf("setrlimit: %d\n", setrlimit(RLIMIT_FSIZE, &rl));
    char buf[20];
    memset(buf, 'x', sizeof buf);
    printf("write 20: %zd\n", write(fd, buf, 20));
    errno = 0;
    ssize_t n = write(fd, buf, 1);
    printf("write past: %zd %s xfsz=%d\n", n, strerrorname_np(errno), xfsz);
    errno = 0;
    n = pwrite(fd, buf, 5, 8);
    printf("pwrite across: %zd\n", n);
    errno = 0;
    int r = ftruncate(fd, 100);
    printf("ftruncate 100: %d %s xfsz=%d\n", r, strerrorname_np(errno), xfsz);
    printf("ftruncate 5: %d\n", ftruncate(fd, 5));
    printf("write 0 past: %zd\n", pwrite(fd, buf, 0, 50));
    int p[2];
    pipe(p);
    printf("pipe not limited: %zd\n", write(p[1], buf, 20));
    signal(SIGXFSZ, SIG_IGN);
    errno = 0;
    n = pwrite(fd, buf, 1, 10);
    printf("ignored: %zd %s\n", n, strerrorname_np(errno));
    signal(SIGXFSZ, SIG_DFL);
    fflush(stdout);
    lseek(fd, 10, SEEK_SET);
    write(fd, buf, 1);
    printf("still alive\n");
    return 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "prof"))
        return itimer(ITIMER_PROF, SIGPROF);
    if (!strcmp(mode, "virtual"))
        return itimer(ITIMER_VIRTUAL, SIGVTALRM);
    if (!strcmp(mode, "clocks"))
        return clocks();
    if (!strcmp(mode, "timer"))
        return cpu_timer();
    if (!strcmp(mode, "rlimit_cpu"))
        return rlimit_cpu();
    if (!strcmp(mode, "rlimit_fsize"))
        return rlimit_fsize();
    fprintf(stderr, "usage: cpu_time prof|virtual|clocks|timer|rlimit_cpu|rlimit_fsize\n");
    return 2;
}
