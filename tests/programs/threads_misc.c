/* Threads as Linux runs them, one line per check, nothing that depends on addresses, timing or
 * scheduling order (only main prints in the default mode). argv[1] picks a mode:
 *
 *   (none)/all           every check; exit 0
 *   ids, stacks, clone, tls, signals, exits, concurrency, affinity, timeouts, robust, pi, remap
 *                        one group of checks (see check_* below); exit 0
 *   exit-from-thread     a thread calls exit(3) while main and others are blocked: status 3
 *   main-returns         main returns 5 while other threads are blocked: status 5
 *   main-pthread-exit    main calls pthread_exit(77); the last thread joins main, prints and
 *                        returns: the process ends with status 0
 *   abort-in-thread      a thread calls abort(): SIGABRT, 134
 *   segv-in-thread       a thread writes through NULL: SIGSEGV, 139
 *   segv-handled         the SIGSEGV handler runs on the faulting thread, which _exits 4
 *   churn [N]            N threads (default 300) created and joined one after another
 *   hang-join            prints "ready" with threads blocked forever (futex, nanosleep, read)
 *                        and main in pthread_join: for --timeout and signals to mvm
 *   hang-spin            prints "ready" with threads spinning forever without syscalls
 *   sigwait-term         prints "ready"; every thread blocks SIGTERM and one waits for it in
 *                        sigwait; when it comes that thread says so, main joins it, exit 0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

static const char *errname(int e)
{
    switch (e) {
    case 0: return "0";
    case EAGAIN: return "EAGAIN";
    case EBUSY: return "EBUSY";
    case EDEADLK: return "EDEADLK";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
    case EOWNERDEAD: return "EOWNERDEAD";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case ETIMEDOUT: return "ETIMEDOUT";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno %d", e);
        return buf;
    }
    }
}

static void die(const char *what, int rc)
{
    printf("FAIL: %s: %s\n", what, errname(rc));
    exit(1);
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);
    if (rc)
        die("pthread_create", rc);
    return t;
}

static void *join(pthread_t t)
{
    void *ret;
    int rc = pthread_join(t, &ret);
    if (rc)
        die("pthread_join", rc);
    return ret;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct timespec from_now(clockid_t c, long ms)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- ids ----------------------------------------------------------------------------------- */

#define NIDS 4
static pid_t id_pid[NIDS], id_tid[NIDS];

static pthread_barrier_t ids_barrier;

static void *ids_worker(void *arg)
{
    long i = (long)arg;
    id_pid[i] = getpid();
    id_tid[i] = gettid();
    pthread_barrier_wait(&ids_barrier); /* all alive at once: their tids must differ */
    return NULL;
}

static void check_ids(void)
{
    pthread_t t[NIDS];
    pthread_barrier_init(&ids_barrier, NULL, NIDS);
    for (long i = 0; i < NIDS; i++)
        t[i] = spawn(ids_worker, (void *)i);
    for (int i = 0; i < NIDS; i++)
        join(t[i]);
    pthread_barrier_destroy(&ids_barrier);
    pid_t pid = getpid();
    int same_pid = 1, distinct = 1, not_pid = 1;
    for (int i = 0; i < NIDS; i++) {
        same_pid &= id_pid[i] == pid;
        not_pid &= id_tid[i] != pid && id_tid[i] > 0;
        for (int j = 0; j < i; j++)
            distinct &= id_tid[i] != id_tid[j];
    }
    printf("ids: getpid same in %d threads: %s; gettid distinct: %s, never the pid: %s; "
           "main gettid == getpid: %s\n",
           NIDS, yesno(same_pid), yesno(distinct), yesno(not_pid), yesno(gettid() == pid));
}

/* ---- stacks -------------------------------------------------------------------------------- */

static long deep(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    if (n == 0)
        return pad[0];
    return deep(n - 1) + pad[0] + 1;
}

static void *small_stack_worker(void *arg)
{
    (void)arg;
    return (void *)deep(60); /* ~30 KiB of a 64 KiB stack */
}

static char *given_stack;
#define GIVEN_STACK_SIZE (256 * 1024)

static void *given_stack_worker(void *arg)
{
    (void)arg;
    char here;
    uintptr_t p = (uintptr_t)&here, lo = (uintptr_t)given_stack;
    return (void *)(long)(p > lo && p < lo + GIVEN_STACK_SIZE);
}

static void check_stacks(void)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    pthread_t t;
    int rc = pthread_create(&t, &a, small_stack_worker, NULL);
    if (rc)
        die("pthread_create 64 KiB stack", rc);
    long r = (long)join(t);
    pthread_attr_destroy(&a);
    printf("64 KiB stack: recursion result %ld\n", r);

    given_stack = mmap(NULL, GIVEN_STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pthread_attr_init(&a);
    pthread_attr_setstack(&a, given_stack, GIVEN_STACK_SIZE);
    rc = pthread_create(&t, &a, given_stack_worker, NULL);
    if (rc)
        die("pthread_create on a given stack", rc);
    r = (long)join(t);
    pthread_attr_destroy(&a);
    munmap(given_stack, GIVEN_STACK_SIZE);
    printf("pthread_attr_setstack: thread ran on the given stack: %s\n", yesno(r == 1));
}

/* ---- thread-local storage and errno ---------------------------------------------------------- */

#define NTLS 4
static __thread int tls_val = 7;
static __thread char tls_big[4096] = {1};
static int tls_initial[NTLS], tls_after[NTLS], tls_big_initial[NTLS], tls_errno[NTLS];
static uintptr_t tls_addr[NTLS];
static pthread_barrier_t tls_barrier;

static void *tls_worker(void *arg)
{
    long i = (long)arg;
    tls_initial[i] = tls_val;
    tls_big_initial[i] = tls_big[0];
    tls_addr[i] = (uintptr_t)&tls_val;
    tls_val = 100 + (int)i;
    tls_big[0] = (char)(50 + i);
    errno = 0;
    if (close(-1000 - (int)i) == 0) /* EBADF in this thread's errno */
        errno = 0;
    pthread_barrier_wait(&tls_barrier); /* every thread has written its own copy */
    sched_yield();
    pthread_barrier_wait(&tls_barrier);
    tls_after[i] = tls_val + (tls_big[0] == (char)(50 + i) ? 0 : 1000);
    tls_errno[i] = errno;
    return NULL;
}

static void check_tls(void)
{
    tls_val = 1;
    errno = 0;
    pthread_barrier_init(&tls_barrier, NULL, NTLS);
    pthread_t t[NTLS];
    for (long i = 0; i < NTLS; i++)
        t[i] = spawn(tls_worker, (void *)i);
    for (int i = 0; i < NTLS; i++)
        join(t[i]);
    pthread_barrier_destroy(&tls_barrier);
    int distinct = 1;
    for (int i = 0; i < NTLS; i++)
        for (int j = 0; j < i; j++)
            distinct &= tls_addr[i] != tls_addr[j];
    printf("tls: initial");
    for (int i = 0; i < NTLS; i++)
        printf(" %d/%d", tls_initial[i], tls_big_initial[i]);
    printf("; kept");
    for (int i = 0; i < NTLS; i++)
        printf(" %d", tls_after[i]);
    printf("; errno");
    for (int i = 0; i < NTLS; i++)
        printf(" %s", tls_errno[i] == EBADF ? "EBADF" : errname(tls_errno[i]));
    printf("; distinct addresses: %s; main's value %d, errno %d\n", yesno(distinct), tls_val, errno);
}

/* ---- signals to one thread ------------------------------------------------------------------- */

static volatile pid_t handler_tid;
static volatile pthread_t handler_self;
static volatile sig_atomic_t got_signal;

static void record_handler(int sig)
{
    (void)sig;
    handler_tid = tid();
    handler_self = pthread_self();
    got_signal = 1;
}

struct target {
    int sig;
    pid_t tid;
    sem_t ready;
    int interrupted; /* nanosleep returned EINTR */
};

/* Records the target's tid, says it is ready, and returns its mask with `sig` unblocked: what
 * it waits with. */
static sigset_t ready_to_wait(struct target *t)
{
    t->tid = tid();
    sigset_t wait_mask;
    pthread_sigmask(SIG_BLOCK, NULL, &wait_mask);
    sigdelset(&wait_mask, t->sig);
    sem_post(&t->ready);
    return wait_mask;
}

/* Waits for `sig` (blocked in its mask until it sits in sigsuspend). */
static void *suspend_target(void *arg)
{
    struct target *t = arg;
    sigset_t wait_mask = ready_to_wait(t);
    while (!got_signal)
        sigsuspend(&wait_mask);
    return NULL;
}

/* Waits in ppoll with `sig` unblocked only for the call (atomically, so a signal sent at any time
 * interrupts it): the handler runs there and ppoll ends with EINTR. */
static void *ppoll_target(void *arg)
{
    struct target *t = arg;
    sigset_t wait_mask = ready_to_wait(t);
    struct timespec ts = {30, 0};
    t->interrupted = ppoll(NULL, 0, &ts, &wait_mask) < 0 && errno == EINTR;
    return NULL;
}

static void *blocked_sleeper(void *arg)
{
    sem_t *started = arg;
    sem_post(started);
    for (;;)
        msleep(1000);
    return NULL;
}

static void check_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = record_handler;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t both, old;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &both, &old); /* inherited by every thread made below */

    /* pthread_kill to one thread. */
    struct target t1 = {.sig = SIGUSR1};
    sem_init(&t1.ready, 0, 0);
    got_signal = 0;
    pthread_t th = spawn(suspend_target, &t1);
    sem_wait(&t1.ready);
    int rc = pthread_kill(th, SIGUSR1);
    join(th);
    printf("pthread_kill(SIGUSR1): %s; handler ran on the target thread: %s (pthread_self too: "
           "%s)\n",
           errname(rc), yesno(handler_tid == t1.tid), yesno(pthread_equal(handler_self, th)));

    /* tgkill to a thread waiting in ppoll: the handler runs there and ppoll ends with EINTR. */
    struct target t2 = {.sig = SIGUSR2};
    sem_init(&t2.ready, 0, 0);
    got_signal = 0;
    th = spawn(ppoll_target, &t2);
    sem_wait(&t2.ready);
    long r0 = syscall(SYS_tgkill, getpid(), t2.tid, 0);
    rc = syscall(SYS_tgkill, getpid(), t2.tid, SIGUSR2) == 0 ? 0 : errno;
    join(th);
    printf("tgkill(sig 0) to a live thread: %s; tgkill(SIGUSR2): %s; handler on the target: %s; "
           "its ppoll: %s\n",
           errname(r0 == 0 ? 0 : errno), errname(rc), yesno(handler_tid == t2.tid),
           t2.interrupted ? "EINTR" : "not interrupted");
    /* Joined, so gone; but pthread_join returns when the kernel clears the thread's tid word,
     * which Linux does a moment before it unhashes the task, so a tgkill straight after the join
     * may still find it. Ask again for up to 2 s: what must come is ESRCH. */
    int e1 = 0;
    for (int i = 0; i < 2000; i++) {
        errno = 0;
        if (syscall(SYS_tgkill, getpid(), t2.tid, 0) != 0) {
            e1 = errno;
            break;
        }
        usleep(1000);
    }
    long r2 = syscall(SYS_tgkill, INT_MAX, gettid(), 0);
    int e2 = r2 == 0 ? 0 : errno;
    long r3 = syscall(SYS_tgkill, getpid(), INT_MAX, 0);
    int e3 = r3 == 0 ? 0 : errno;
    long r4 = syscall(SYS_tgkill, 0, gettid(), 0);
    int e4 = r4 == 0 ? 0 : errno;
    long r5 = syscall(SYS_tgkill, getpid(), gettid(), 999);
    int e5 = r5 == 0 ? 0 : errno;
    printf("tgkill to an exited thread: %s; wrong tgid: %s; unknown tid: %s; tgid 0: %s; "
           "bad signal: %s\n",
           errname(e1), errname(e2), errname(e3), errname(e4), errname(e5));

    /* A process-directed signal goes to the one thread that does not block it. */
    sem_t started;
    sem_init(&started, 0, 0);
    pthread_t others[3];
    for (int i = 0; i < 3; i++) {
        others[i] = spawn(blocked_sleeper, &started);
        sem_wait(&started);
    }
    struct target t3 = {.sig = SIGUSR1};
    sem_init(&t3.ready, 0, 0);
    got_signal = 0;
    th = spawn(suspend_target, &t3);
    sem_wait(&t3.ready);
    kill(getpid(), SIGUSR1);
    join(th);
    printf("kill(getpid(), SIGUSR1) with 4 threads blocking it: handled by the one that does not: "
           "%s\n",
           yesno(handler_tid == t3.tid));
    for (int i = 0; i < 3; i++) {
        pthread_cancel(others[i]);
        void *ret = join(others[i]);
        if (ret != PTHREAD_CANCELED)
            die("cancel a sleeper", 0);
    }

    /* A signal pending for the process while every thread blocks it is taken by the first
     * thread to unblock it. */
    got_signal = 0;
    kill(getpid(), SIGUSR2);
    sigset_t pending;
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGUSR2);
    struct target t4 = {.sig = SIGUSR2};
    sem_init(&t4.ready, 0, 0);
    th = spawn(suspend_target, &t4);
    sem_wait(&t4.ready);
    join(th);
    printf("process signal pending while all block it: %s; taken by the thread that unblocked "
           "it: %s\n",
           yesno(was_pending), yesno(handler_tid == t4.tid));

    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

/* ---- ways a thread ends ---------------------------------------------------------------------- */

static int cleanup_ran, destructor_ran;
static pthread_key_t key;

static void cleanup(void *arg) { cleanup_ran = (int)(long)arg; }
static void destructor(void *v) { destructor_ran = (int)(long)v; }

static void nested_exit(void) { pthread_exit((void *)42); }

static void *pthread_exit_worker(void *arg)
{
    (void)arg;
    pthread_setspecific(key, (void *)9);
    pthread_cleanup_push(cleanup, (void *)5);
    nested_exit();
    pthread_cleanup_pop(0);
    return NULL;
}

static void *raw_exit_worker(void *arg)
{
    (void)arg;
    syscall(SYS_exit, 0); /* this thread only, skipping glibc: join relies on CLONE_CHILD_CLEARTID */
    return (void *)1;
}

static void *detached_worker(void *arg)
{
    sem_post(arg);
    return NULL;
}

static void *canceled_sleeper(void *arg)
{
    sem_post(arg);
    struct timespec ts = {1000, 0};
    nanosleep(&ts, NULL);
    return (void *)1;
}

static pthread_mutex_t cw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cw_cond = PTHREAD_COND_INITIALIZER;
static int cw_waiting, cw_unlocked_by_cleanup;

static void cw_cleanup(void *arg)
{
    (void)arg;
    cw_unlocked_by_cleanup = pthread_mutex_unlock(&cw_lock) == 0;
}

static void *canceled_cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&cw_lock);
    cw_waiting = 1;
    pthread_cleanup_push(cw_cleanup, NULL);
    for (;;)
        pthread_cond_wait(&cw_cond, &cw_lock);
    pthread_cleanup_pop(1);
    return NULL;
}

static void *barrier_worker(void *arg)
{
    pthread_barrier_wait(arg);
    return NULL;
}

static void check_exits(void)
{
    pthread_key_create(&key, destructor);
    void *ret = join(spawn(pthread_exit_worker, NULL));
    printf("pthread_exit(42) from a nested call: joined with %ld; cleanup handler %d, key "
           "destructor %d\n",
           (long)ret, cleanup_ran, destructor_ran);

    join(spawn(raw_exit_worker, NULL));
    printf("raw SYS_exit in a thread: joined; main goes on\n");

    sem_t s;
    sem_init(&s, 0, 0);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &a, detached_worker, &s);
    pthread_attr_destroy(&a);
    sem_wait(&s);
    printf("detached thread: created %s, ran\n", errname(rc));

    t = spawn(canceled_sleeper, &s);
    sem_wait(&s);
    pthread_cancel(t);
    ret = join(t);
    printf("pthread_cancel of a thread in nanosleep: %s\n",
           ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "not canceled");

    t = spawn(canceled_cond_waiter, NULL);
    for (;;) {
        pthread_mutex_lock(&cw_lock);
        int w = cw_waiting;
        pthread_mutex_unlock(&cw_lock);
        if (w)
            break;
        sched_yield();
    }
    pthread_cancel(t);
    ret = join(t);
    int relock = pthread_mutex_trylock(&cw_lock);
    if (relock == 0)
        pthread_mutex_unlock(&cw_lock);
    printf("pthread_cancel of a thread in pthread_cond_wait: %s; cleanup unlocked the mutex: %s "
           "(trylock %s)\n",
           ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "not canceled",
           yesno(cw_unlocked_by_cleanup), errname(relock));

    /* Many threads alive at once, more than there are CPUs. */
    enum { MANY = 48 };
    static pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, MANY + 1);
    pthread_t many[MANY];
    for (int i = 0; i < MANY; i++) {
        rc = pthread_create(&many[i], NULL, barrier_worker, &b);
        if (rc)
            die("pthread_create (many)", rc);
    }
    pthread_barrier_wait(&b);
    for (int i = 0; i < MANY; i++)
        join(many[i]);
    pthread_barrier_destroy(&b);
    printf("%d threads alive at once met at a barrier and were joined\n", MANY);
}

/* ---- blocking in one thread does not stop the others ----------------------------------------- */

static int pipe_fds[2];

static void *pipe_reader(void *arg)
{
    (void)arg;
    char c = 0;
    ssize_t n = read(pipe_fds[0], &c, 1);
    return (void *)(long)(n == 1 ? c : -1);
}

static void *sleeper_200ms(void *arg)
{
    (void)arg;
    msleep(200);
    return NULL;
}

static void check_concurrency(void)
{
    if (pipe(pipe_fds) != 0)
        die("pipe", errno);
    pthread_t t = spawn(pipe_reader, NULL);
    msleep(50); /* the reader is (most likely) blocked in read by now */
    write(pipe_fds[1], "x", 1);
    long c = (long)join(t);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    printf("read blocked in one thread, write from another: got '%c'\n", (char)c);

    enum { SLEEPERS = 8 };
    pthread_t s[SLEEPERS];
    double t0 = mono();
    for (int i = 0; i < SLEEPERS; i++)
        s[i] = spawn(sleeper_200ms, NULL);
    for (int i = 0; i < SLEEPERS; i++)
        join(s[i]);
    double took = mono() - t0;
    printf("%d threads slept 200 ms each at the same time: took at least 200 ms: %s, under 1.2 s: "
           "%s\n",
           SLEEPERS, yesno(took >= 0.195), yesno(took < 1.2));
}

/* ---- affinity --------------------------------------------------------------------------------- */

static sem_t affinity_checked;

static void *affinity_worker(void *arg)
{
    (void)arg;
    cpu_set_t s;
    CPU_ZERO(&s);
    int ok = sched_getaffinity(0, sizeof s, &s) == 0 && CPU_COUNT(&s) > 0;
    ok = ok && sched_setaffinity(0, sizeof s, &s) == 0;
    /* Alive until main has asked about it (an exited thread is ESRCH). */
    sem_wait(&affinity_checked);
    return (void *)(long)ok;
}

static void check_affinity(void)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    int g = sched_getaffinity(0, sizeof s, &s);
    printf("sched_getaffinity: %s, CPU_COUNT > 0: %s\n", errname(g == 0 ? 0 : errno),
           yesno(CPU_COUNT(&s) > 0));
    int st = sched_setaffinity(0, sizeof s, &s);
    printf("sched_setaffinity to the same set: %s\n", errname(st == 0 ? 0 : errno));
    cpu_set_t empty;
    CPU_ZERO(&empty);
    st = sched_setaffinity(0, sizeof empty, &empty);
    printf("sched_setaffinity to an empty set: %s\n", errname(st == 0 ? 0 : errno));
    g = sched_getaffinity(INT_MAX, sizeof s, &s);
    printf("sched_getaffinity of an unknown tid: %s\n", errname(g == 0 ? 0 : errno));

    sem_init(&affinity_checked, 0, 0);
    pthread_t t = spawn(affinity_worker, NULL);
    cpu_set_t other;
    CPU_ZERO(&other);
    int rc = pthread_getaffinity_np(t, sizeof other, &other);
    int rc2 = pthread_setaffinity_np(t, sizeof other, &other);
    sem_post(&affinity_checked);
    long ok = (long)join(t);
    printf("in a thread: get/set own affinity: %s; pthread_getaffinity_np from main: %s (count > "
           "0: %s), pthread_setaffinity_np: %s\n",
           yesno(ok), errname(rc), yesno(CPU_COUNT(&other) > 0), errname(rc2));
}

/* ---- timeouts --------------------------------------------------------------------------------- */

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t held_rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t hold_go, hold_done;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held);
    pthread_rwlock_rdlock(&held_rw);
    sem_post(&hold_go);
    sem_wait(&hold_done);
    pthread_rwlock_unlock(&held_rw);
    pthread_mutex_unlock(&held);
    return (void *)3;
}

static void check_timeouts(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    double t0 = mono();
    struct timespec dl = from_now(CLOCK_REALTIME, 50);
    int rc = pthread_cond_timedwait(&c, &m, &dl);
    double took = mono() - t0;
    printf("pthread_cond_timedwait (CLOCK_REALTIME, 50 ms): %s, waited >= 45 ms: %s\n",
           errname(rc), yesno(took >= 0.045));
    pthread_mutex_unlock(&m);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_t cm;
    pthread_cond_init(&cm, &ca);
    pthread_mutex_lock(&m);
    t0 = mono();
    dl = from_now(CLOCK_MONOTONIC, 50);
    rc = pthread_cond_timedwait(&cm, &m, &dl);
    took = mono() - t0;
    printf("pthread_cond_timedwait (CLOCK_MONOTONIC, 50 ms): %s, waited >= 45 ms: %s\n",
           errname(rc), yesno(took >= 0.045));
    dl = from_now(CLOCK_MONOTONIC, -1000);
    rc = pthread_cond_timedwait(&cm, &m, &dl);
    printf("pthread_cond_timedwait with a deadline already past: %s\n", errname(rc));
    pthread_mutex_unlock(&m);

    sem_init(&hold_go, 0, 0);
    sem_init(&hold_done, 0, 0);
    pthread_t t = spawn(holder, NULL);
    sem_wait(&hold_go);
    dl = from_now(CLOCK_REALTIME, 50);
    rc = pthread_mutex_timedlock(&held, &dl);
    printf("pthread_mutex_timedlock on a mutex another thread holds: %s\n", errname(rc));
    dl = from_now(CLOCK_REALTIME, 50);
    rc = pthread_rwlock_timedwrlock(&held_rw, &dl);
    printf("pthread_rwlock_timedwrlock while another thread reads: %s\n", errname(rc));
    sem_t never;
    sem_init(&never, 0, 0);
    dl = from_now(CLOCK_REALTIME, 50);
    rc = sem_timedwait(&never, &dl) == 0 ? 0 : errno;
    printf("sem_timedwait: %s\n", errname(rc));
    dl = from_now(CLOCK_REALTIME, 50);
    rc = pthread_timedjoin_np(t, NULL, &dl);
    printf("pthread_timedjoin_np on a blocked thread: %s\n", errname(rc));
    sem_post(&hold_done);
    void *ret;
    dl = from_now(CLOCK_REALTIME, 10000);
    rc = pthread_timedjoin_np(t, &ret, &dl);
    printf("pthread_timedjoin_np once it returns: %s, value %ld\n", errname(rc), (long)ret);
}

/* ---- robust and priority-inheritance mutexes -------------------------------------------------- */

static pthread_mutex_t rm;
static sem_t rm_locked;

static void make_mutex(pthread_mutex_t *m, int robust, int protocol, int type)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (robust)
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setprotocol(&a, protocol);
    pthread_mutexattr_settype(&a, type);
    int rc = pthread_mutex_init(m, &a);
    if (rc)
        die("pthread_mutex_init", rc);
    pthread_mutexattr_destroy(&a);
}

/* Locks rm and returns (glibc marks the mutex owner-dead itself) or calls SYS_exit directly (the
 * kernel walks the robust list registered with set_robust_list); optionally after a delay, so
 * that main is (most likely) already waiting. */
static void *robust_owner(void *arg)
{
    long how = (long)arg;
    int rc = pthread_mutex_lock(&rm);
    if (rc)
        die("robust lock in owner", rc);
    sem_post(&rm_locked);
    if (how & 2)
        msleep(100);
    if (how & 1)
        syscall(SYS_exit, 0);
    return NULL;
}

static const char *robust_case(int protocol, long how)
{
    static char out[160];
    make_mutex(&rm, 1, protocol, PTHREAD_MUTEX_NORMAL);
    sem_init(&rm_locked, 0, 0);
    pthread_t t = spawn(robust_owner, (void *)how);
    sem_wait(&rm_locked);
    if (!(how & 2))
        join(t);
    struct timespec dl = from_now(CLOCK_REALTIME, 5000);
    int rc = pthread_mutex_timedlock(&rm, &dl);
    if (how & 2)
        join(t);
    int consistent = -1, relock = -1;
    if (rc == EOWNERDEAD) {
        consistent = pthread_mutex_consistent(&rm);
        pthread_mutex_unlock(&rm);
        relock = pthread_mutex_lock(&rm);
        pthread_mutex_unlock(&rm);
    }
    snprintf(out, sizeof out, "%s, consistent %s, relock %s", errname(rc), errname(consistent),
             errname(relock));
    pthread_mutex_destroy(&rm);
    return out;
}

#define PI_THREADS 4
#define PI_ITERS 2000
static pthread_mutex_t pim;
static long pi_counter;

static void *pi_adder(void *arg)
{
    (void)arg;
    for (int i = 0; i < PI_ITERS; i++) {
        pthread_mutex_lock(&pim);
        pi_counter++;
        if (i % 64 == 0)
            sched_yield(); /* give the others a reason to block in FUTEX_LOCK_PI */
        pthread_mutex_unlock(&pim);
    }
    return NULL;
}

static sem_t pi_go;
static int pi_try, pi_timed, pi_unlock, pi_lock_after;

static void *pi_contender(void *arg)
{
    (void)arg;
    pi_try = pthread_mutex_trylock(&pim);
    struct timespec dl = from_now(CLOCK_REALTIME, 50);
    pi_timed = pthread_mutex_timedlock(&pim, &dl);
    pi_unlock = pthread_mutex_unlock(&pim); /* not ours: EPERM (error-checking type) */
    sem_post(&pi_go);
    pi_lock_after = pthread_mutex_lock(&pim); /* blocks until main unlocks */
    pthread_mutex_unlock(&pim);
    return NULL;
}

static void check_robust(void)
{
    /* Robust: the owner ends while holding the mutex. */
    printf("robust mutex, owner thread returned holding it: %s\n",
           robust_case(PTHREAD_PRIO_NONE, 0));
    printf("robust mutex, owner thread ended by SYS_exit holding it: %s\n",
           robust_case(PTHREAD_PRIO_NONE, 1));
    printf("robust mutex, owner SYS_exits while main waits: %s\n",
           robust_case(PTHREAD_PRIO_NONE, 3));
    printf("robust PI mutex, owner thread ended by SYS_exit holding it: %s\n",
           robust_case(PTHREAD_PRIO_INHERIT, 1));
    printf("robust PI mutex, owner SYS_exits while main waits: %s\n",
           robust_case(PTHREAD_PRIO_INHERIT, 3));

    /* Made inconsistent, then unlocked without pthread_mutex_consistent: unusable. */
    make_mutex(&rm, 1, PTHREAD_PRIO_NONE, PTHREAD_MUTEX_NORMAL);
    sem_init(&rm_locked, 0, 0);
    join(spawn(robust_owner, (void *)1));
    struct timespec dl = from_now(CLOCK_REALTIME, 5000);
    int a = pthread_mutex_timedlock(&rm, &dl);
    pthread_mutex_unlock(&rm);
    dl = from_now(CLOCK_REALTIME, 5000);
    int b = pthread_mutex_timedlock(&rm, &dl);
    printf("robust mutex unlocked without consistent: %s then %s\n", errname(a), errname(b));
}

/* ---- memory remapped while other threads run: 2 MiB pages split, unmapped, protected ---- */

static volatile int remap_stop;
static volatile long remap_spins[2];

/* Spins without syscalls over its own 64 KiB, so that it is inside the guest whenever main
 * changes the address space. */
static void *remap_spinner(void *arg)
{
    long me = (long)arg;
    static char buf[2][64 << 10];
    while (!remap_stop) {
        for (size_t o = 0; o < sizeof buf[me]; o += 4096)
            buf[me][o]++;
        remap_spins[me]++;
    }
    return NULL;
}

static void check_remap(void)
{
    const size_t mb = 1UL << 20;
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        t[i] = spawn(remap_spinner, (void *)i);
    while (!remap_spins[0] || !remap_spins[1])
        sched_yield();
    int bad = 0;
    for (int round = 0; round < 6; round++) {
        char *raw = mmap(NULL, 8 * mb, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED)
            die("mmap", errno);
        char *b = (char *)(((uintptr_t)raw + 2 * mb - 1) & ~(2 * mb - 1));
        for (size_t o = 0; o < 4 * mb; o += 4096)
            b[o] = (char)(o / 4096 + round);
        /* A hole in one 2 MiB block, the next made read-only: both split a large page. */
        munmap(b + mb, 4096);
        mprotect(b + 2 * mb + 8192, 4096, PROT_READ);
        for (size_t o = 0; o < 4 * mb; o += 4096)
            if (o != mb && b[o] != (char)(o / 4096 + round))
                bad++;
        munmap(raw, 8 * mb);
        long before = remap_spins[0] + remap_spins[1];
        while (remap_spins[0] + remap_spins[1] < before + 4)
            sched_yield();
    }
    remap_stop = 1;
    join(t[0]);
    join(t[1]);
    printf("remap while 2 threads spin: 6 rounds, wrong bytes %d\n", bad);
}

static void check_pi(void)
{
    /* Priority inheritance: contended increments, then the error cases. */
    make_mutex(&pim, 0, PTHREAD_PRIO_INHERIT, PTHREAD_MUTEX_ERRORCHECK);
    pthread_t t[PI_THREADS];
    for (int i = 0; i < PI_THREADS; i++)
        t[i] = spawn(pi_adder, NULL);
    for (int i = 0; i < PI_THREADS; i++)
        join(t[i]);
    printf("PI mutex: %d threads x %d increments = %ld\n", PI_THREADS, PI_ITERS, pi_counter);

    sem_init(&pi_go, 0, 0);
    pthread_mutex_lock(&pim);
    int relock = pthread_mutex_lock(&pim); /* error-checking: EDEADLK */
    pthread_t c = spawn(pi_contender, NULL);
    sem_wait(&pi_go);
    msleep(50); /* the contender is (most likely) blocked in FUTEX_LOCK_PI */
    int un = pthread_mutex_unlock(&pim);
    join(c);
    printf("PI mutex held by main: relock %s; other thread trylock %s, timedlock %s, unlock %s, "
           "lock after main unlocks %s (main's unlock %s)\n",
           errname(relock), errname(pi_try), errname(pi_timed), errname(pi_unlock),
           errname(pi_lock_after), errname(un));
    pthread_mutex_destroy(&pim);
}

/* ---- clone(2) itself, not clone3 (glibc's pthread_create tries clone3 first) ------------------ */

/* The child runs with a TLS block of ours, so it must not touch glibc's (errno included): raw
 * syscalls only. */
static long raw_syscall2(long n, long a, long b)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

static struct {
    void *self; /* %fs:0 points at itself, as the x86-64 TLS ABI has it */
    char rest[248];
} fake_tcb;
static char clone_stack[64 * 1024] __attribute__((aligned(16)));
static volatile pid_t clone_ptid, clone_ctid;
static volatile long child_tid, child_pid, child_fs, child_saw_ptid;

__attribute__((optimize("no-stack-protector"))) static int clone_child(void *arg)
{
    (void)arg;
    unsigned long fs = 0;
    child_tid = raw_syscall2(SYS_gettid, 0, 0);
    child_pid = raw_syscall2(SYS_getpid, 0, 0);
    raw_syscall2(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, (long)&fs);
    child_fs = (long)fs;
    child_saw_ptid = clone_ptid; /* CLONE_PARENT_SETTID wrote it before the child ran */
    return 0;                    /* glibc's clone() then calls SYS_exit: this thread only */
}

static void check_raw_clone(void)
{
    fake_tcb.self = &fake_tcb;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    clone_ctid = -1;
    int t = clone(clone_child, clone_stack + sizeof clone_stack, flags, NULL, &clone_ptid,
                  &fake_tcb, &clone_ctid);
    if (t < 0)
        die("clone", errno);
    /* CLONE_CHILD_CLEARTID: the kernel zeroes the word and wakes it (shared) at the exit. */
    int timeouts = 0;
    for (pid_t v; (v = clone_ctid) != 0 && timeouts < 10;) {
        struct timespec ts = {1, 0};
        if (syscall(SYS_futex, &clone_ctid, FUTEX_WAIT, v, &ts, NULL, 0) < 0 && errno == ETIMEDOUT)
            timeouts++;
    }
    printf("raw clone(CLONE_THREAD|CLONE_SETTLS|...): returned the child's tid: %s; parent tid "
           "word set: %s, seen by the child: %s; child's getpid same: %s; child's fs base is the "
           "given tls: %s; child tid word cleared and woken at its exit: %s\n",
           yesno(t == child_tid), yesno(clone_ptid == t), yesno(child_saw_ptid == t),
           yesno(child_pid == getpid()), yesno(child_fs == (long)&fake_tcb),
           yesno(clone_ctid == 0 && timeouts == 0));
}

/* ---- modes that end the process ------------------------------------------------------------- */

static pthread_mutex_t forever_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forever_cond = PTHREAD_COND_INITIALIZER;
static sem_t blocked_started;

static void *block_in_cond(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&forever_lock);
    sem_post(&blocked_started);
    for (;;)
        pthread_cond_wait(&forever_cond, &forever_lock);
    return NULL;
}

static void *block_in_sleep(void *arg)
{
    (void)arg;
    sem_post(&blocked_started);
    for (;;)
        msleep(1000);
    return NULL;
}

static int hang_pipe[2];

static void *block_in_read(void *arg)
{
    (void)arg;
    char c;
    sem_post(&blocked_started);
    for (;;)
        read(hang_pipe[0], &c, 1);
    return NULL;
}

static void *spin_forever(void *arg)
{
    (void)arg;
    sem_post(&blocked_started);
    for (volatile unsigned long i = 0;; i++)
        ;
    return NULL;
}

/* Starts a thread blocked in pthread_cond_wait, one in nanosleep and one in read; returns the
 * first. */
static pthread_t start_blocked(void)
{
    sem_init(&blocked_started, 0, 0);
    if (pipe(hang_pipe) != 0)
        die("pipe", errno);
    pthread_t a = spawn(block_in_cond, NULL);
    spawn(block_in_sleep, NULL);
    spawn(block_in_read, NULL);
    for (int i = 0; i < 3; i++)
        sem_wait(&blocked_started);
    return a;
}

static pid_t exiting_tid;

static void at_exit(void)
{
    printf("atexit handler ran on the thread that called exit: %s\n", yesno(tid() == exiting_tid));
}

static void *exit3(void *arg)
{
    (void)arg;
    exiting_tid = tid();
    printf("thread calls exit(3)\n");
    exit(3);
}

static void *abort_worker(void *arg)
{
    (void)arg;
    printf("thread calls abort()\n");
    fflush(stdout);
    abort();
}

static void *segv_worker(void *arg)
{
    (void)arg;
    exiting_tid = tid();
    printf("thread writes through NULL\n");
    fflush(stdout);
    *(volatile int *)(uintptr_t)arg = 1;
    return NULL;
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char line[128];
    int n = snprintf(line, sizeof line, "SIGSEGV handler: signal %d at address %p, on the "
                     "faulting thread: %s\n", sig, si->si_addr, yesno(tid() == exiting_tid));
    write(1, line, n);
    _exit(4);
}

static pthread_t main_thread;

static void *join_main(void *arg)
{
    sem_post(arg);
    void *ret;
    int rc = pthread_join(main_thread, &ret);
    printf("last thread: joined main: %s, main's value %ld; returning\n", errname(rc), (long)ret);
    return NULL;
}

static void *churn_worker(void *arg) { return (void *)((long)arg * (long)arg); }

static void *sigwaiter(void *arg)
{
    sigset_t *set = arg;
    sem_post(&blocked_started);
    int sig = 0;
    int rc = sigwait(set, &sig);
    printf("sigwait in a thread: %s, got %s\n", errname(rc), sig == SIGTERM ? "SIGTERM" : "?");
    fflush(stdout);
    return (void *)7;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    setvbuf(stdout, NULL, _IOLBF, 0); /* a run cut short still shows how far it got */
    main_thread = pthread_self();

    static const struct {
        const char *name;
        void (*fn)(void);
    } checks[] = {
        {"ids", check_ids},         {"stacks", check_stacks},
        {"clone", check_raw_clone}, {"tls", check_tls},
        {"signals", check_signals}, {"exits", check_exits},
        {"concurrency", check_concurrency}, {"affinity", check_affinity},
        {"timeouts", check_timeouts}, {"robust", check_robust},
        {"pi", check_pi},           {"remap", check_remap},
    };
    int all = !strcmp(mode, "all"), ran = 0;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (all || !strcmp(mode, checks[i].name)) {
            checks[i].fn();
            ran = 1;
        }
    if (ran) {
        printf("done\n");
        return 0;
    }
    if (!strcmp(mode, "exit-from-thread")) {
        atexit(at_exit);
        pthread_t a = start_blocked();
        printf("main: three threads blocked, joining one\n");
        spawn(exit3, NULL);
        join(a);
        printf("FAIL: main's join returned\n");
        return 1;
    }
    if (!strcmp(mode, "main-returns")) {
        start_blocked();
        spawn(spin_forever, NULL);
        sem_wait(&blocked_started);
        printf("main returns 5 with four threads blocked or spinning\n");
        return 5;
    }
    if (!strcmp(mode, "main-pthread-exit")) {
        sem_t s;
        sem_init(&s, 0, 0);
        spawn(join_main, &s);
        sem_wait(&s);
        printf("main calls pthread_exit(77)\n");
        fflush(stdout);
        pthread_exit((void *)77);
    }
    if (!strcmp(mode, "abort-in-thread")) {
        pthread_t a = start_blocked();
        join(spawn(abort_worker, NULL));
        join(a);
        return 1;
    }
    if (!strcmp(mode, "segv-in-thread") || !strcmp(mode, "segv-handled")) {
        if (!strcmp(mode, "segv-handled")) {
            struct sigaction sa = {0};
            sa.sa_sigaction = segv_handler;
            sa.sa_flags = SA_SIGINFO;
            sigaction(SIGSEGV, &sa, NULL);
        }
        pthread_t a = start_blocked();
        join(spawn(segv_worker, NULL));
        join(a);
        return 1;
    }
    if (!strcmp(mode, "churn")) {
        long n = argc > 2 ? atol(argv[2]) : 300, sum = 0;
        for (long i = 0; i < n; i++)
            sum += (long)join(spawn(churn_worker, (void *)i));
        printf("churn: %ld threads created and joined one after another, sum %ld\n", n, sum);
        return 0;
    }
    if (!strcmp(mode, "hang-join")) {
        pthread_t a = start_blocked();
        printf("ready\n");
        fflush(stdout);
        join(a);
        return 1;
    }
    if (!strcmp(mode, "hang-spin")) {
        sem_init(&blocked_started, 0, 0);
        pthread_t a = spawn(spin_forever, NULL);
        spawn(spin_forever, NULL);
        sem_wait(&blocked_started);
        sem_wait(&blocked_started);
        printf("ready\n");
        fflush(stdout);
        join(a);
        return 1;
    }
    if (!strcmp(mode, "sigwait-term")) {
        static sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        start_blocked();
        sem_init(&blocked_started, 0, 0);
        pthread_t w = spawn(sigwaiter, &set);
        sem_wait(&blocked_started);
        printf("ready\n");
        fflush(stdout);
        long v = (long)join(w);
        printf("main joined the waiting thread: %ld\n", v);
        return 0;
    }
    printf("unknown mode %s\n", mode);
    return 2;
}
