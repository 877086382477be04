/* The futex operations themselves, called directly (glibc's own locks use only some of them):
 * WAIT and WAKE with their error cases and timeouts, WAKE counts, REQUEUE and CMP_REQUEUE,
 * WAIT_BITSET/WAKE_BITSET, the shared (non-private) forms, a signal interrupting a WAIT with and
 * without SA_RESTART, and set_tid_address: the kernel's clear-and-wake of the tid word when a
 * thread exits. The output is the same whatever the scheduling: where main must know that
 * waiters are asleep, it first parks them all on another futex with CMP_REQUEUE, counting what
 * was moved, so every count printed is exact. Only main prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(void *uaddr, int op, uint32_t val, const void *timeout_or_val2, void *uaddr2,
                  uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

/* The result of a futex call as printed: the return value or the errno's name. */
static const char *res(long r)
{
    static char buf[8][32];
    static int n;
    char *b = buf[n++ % 8];
    if (r >= 0) {
        snprintf(b, 32, "%ld", r);
        return b;
    }
    switch (errno) {
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPERM: return "EPERM";
    default: snprintf(b, 32, "errno %d", errno); return b;
    }
}

static const char *yesno(int b) { return b ? "yes" : "no"; }

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct timespec abs_in(clockid_t c, long ms)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    long ns = ts.tv_nsec + ms * 1000000L;
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    if (ts.tv_nsec < 0) {
        ts.tv_sec--;
        ts.tv_nsec += 1000000000L;
    }
    return ts;
}

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- waiters ------------------------------------------------------------------------------ */

#define NW 6
struct waiter {
    uint32_t *word;
    int op;          /* FUTEX_WAIT... */
    uint32_t bitset; /* for FUTEX_WAIT_BITSET */
    long ms;         /* relative timeout, 0: none */
    long result;
    int err;
    volatile int done;
    pthread_t t;
};

static void *wait_once(void *arg)
{
    struct waiter *w = arg;
    struct timespec ts = {w->ms / 1000, (w->ms % 1000) * 1000000L};
    errno = 0;
    if ((w->op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET)
        w->result = futex(w->word, w->op, 0, NULL, NULL, w->bitset);
    else
        w->result = futex(w->word, w->op, 0, w->ms ? &ts : NULL, NULL, 0);
    w->err = errno;
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void start(struct waiter *w, uint32_t *word, int op, uint32_t bitset, long ms)
{
    memset(w, 0, sizeof *w);
    w->word = word;
    w->op = op;
    w->bitset = bitset;
    w->ms = ms;
    if (pthread_create(&w->t, NULL, wait_once, w) != 0) {
        printf("FAIL: pthread_create\n");
        exit(1);
    }
}

/* Describes how the waiters ended: "0 0 0" or the errno names. */
static const char *results(struct waiter *w, int n)
{
    static char buf[256];
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].t, NULL);
        errno = w[i].err;
        strcat(buf, i ? " " : "");
        strcat(buf, res(w[i].result));
    }
    return buf;
}

/* Moves every waiter of `from` (whose value is 0) to `to` until `n` have been moved in all;
 * returns how many calls that took beyond the first (not printed: it depends on scheduling). */
static void park(uint32_t *from, uint32_t *to, int n, int private)
{
    int op = FUTEX_CMP_REQUEUE | (private ? FUTEX_PRIVATE_FLAG : 0);
    long moved = 0;
    double t0 = mono();
    while (moved < n) {
        long r = futex(from, op, 0, (void *)(long)INT_MAX, to, 0);
        if (r < 0) {
            printf("FAIL: CMP_REQUEUE while parking: %s\n", res(r));
            exit(1);
        }
        moved += r;
        if (moved < n) {
            if (mono() - t0 > 20) {
                printf("FAIL: only %ld of %d waiters ever waited\n", moved, n);
                exit(1);
            }
            pause_ms(1);
        }
    }
    if (moved != n) {
        printf("FAIL: parked %ld, want %d\n", moved, n);
        exit(1);
    }
}

/* Wakes with `op` (and `bitset`) until `n` waiters have been woken in all. */
static long wake_until(uint32_t *word, int op, uint32_t bitset, int n)
{
    long woken = 0;
    double t0 = mono();
    while (woken < n) {
        long r = futex(word, op, INT_MAX, NULL, NULL, bitset);
        if (r < 0) {
            printf("FAIL: wake: %s\n", res(r));
            exit(1);
        }
        woken += r;
        if (woken < n) {
            if (mono() - t0 > 20) {
                printf("FAIL: woke only %ld of %d\n", woken, n);
                exit(1);
            }
            pause_ms(1);
        }
    }
    return woken;
}

/* ---- checks --------------------------------------------------------------------------------- */

static void errors_and_timeouts(void)
{
    uint32_t word = 5;
    const int W = FUTEX_WAIT_PRIVATE;
    /* Where the call must fail before it waits, it gets a timeout all the same: a wrong answer
     * then shows as ETIMEDOUT instead of a hang. */
    struct timespec zero = {0, 0}, bad = {0, 2000000000L}, neg = {-1, 0}, ms30 = {0, 30000000L};
    printf("WAIT on a word that differs: %s\n", res(futex(&word, W, 4, NULL, NULL, 0)));
    printf("WAIT with timeout 0: %s\n", res(futex(&word, W, 5, &zero, NULL, 0)));
    double t0 = mono();
    long r = futex(&word, W, 5, &ms30, NULL, 0);
    printf("WAIT with timeout 30 ms: %s, waited >= 25 ms: %s\n", res(r), yesno(mono() - t0 >= 0.025));
    printf("WAIT with tv_nsec 2e9: %s\n", res(futex(&word, W, 5, &bad, NULL, 0)));
    printf("WAIT with a negative timeout: %s\n", res(futex(&word, W, 5, &neg, NULL, 0)));
    printf("WAIT on a misaligned address: %s\n",
           res(futex((char *)&word + 1, W, 5, &zero, NULL, 0)));
    printf("WAIT at NULL: %s\n", res(futex(NULL, W, 5, &zero, NULL, 0)));
    printf("WAKE with no waiters: %s\n", res(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0)));
    printf("unknown op 99: %s\n", res(futex(&word, 99, 0, NULL, NULL, 0)));
    struct timespec past = abs_in(CLOCK_MONOTONIC, -10);
    printf("WAIT_BITSET with bitset 0: %s\n",
           res(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &past, NULL, 0)));
    printf("WAKE_BITSET with bitset 0: %s\n",
           res(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0)));
    printf("WAIT_BITSET, absolute CLOCK_MONOTONIC deadline past: %s\n",
           res(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &past, NULL, FUTEX_BITSET_MATCH_ANY)));
    past = abs_in(CLOCK_REALTIME, -10);
    printf("WAIT_BITSET|CLOCK_REALTIME, absolute deadline past: %s\n",
           res(futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 5, &past, NULL,
                     FUTEX_BITSET_MATCH_ANY)));
    struct timespec dl = abs_in(CLOCK_MONOTONIC, 30);
    t0 = mono();
    r = futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &dl, NULL, FUTEX_BITSET_MATCH_ANY);
    printf("WAIT_BITSET, absolute CLOCK_MONOTONIC deadline in 30 ms: %s, waited >= 25 ms: %s\n",
           res(r), yesno(mono() - t0 >= 0.025));
    dl = abs_in(CLOCK_REALTIME, 30);
    t0 = mono();
    r = futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 5, &dl, NULL,
              FUTEX_BITSET_MATCH_ANY);
    printf("WAIT_BITSET|CLOCK_REALTIME, deadline in 30 ms: %s, waited >= 25 ms: %s\n", res(r),
           yesno(mono() - t0 >= 0.025));
    uint32_t other = 0;
    printf("CMP_REQUEUE with a value that differs: %s\n",
           res(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &other, 4)));
    printf("CMP_REQUEUE with no waiters: %s\n",
           res(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &other, 5)));
    printf("CMP_REQUEUE with a negative count: %s\n",
           res(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)-1L, &other, 5)));
}

static uint32_t fa, fb, fc;

static void wake_counts_and_requeue(int private)
{
    const int P = private ? FUTEX_PRIVATE_FLAG : 0;
    const char *kind = private ? "private" : "shared";
    struct waiter w[NW];
    fa = fb = fc = 0;

    /* Six waiters on A, all moved to B: then every count below is exact. */
    for (int i = 0; i < NW; i++)
        start(&w[i], &fa, FUTEX_WAIT | P, 0, 0);
    park(&fa, &fb, NW, private);
    printf("%s: %d waiters requeued from A to B\n", kind, NW);
    printf("%s: WAKE A: %s\n", kind, res(futex(&fa, FUTEX_WAKE | P, INT_MAX, NULL, NULL, 0)));
    printf("%s: WAKE B, at most 1: %s\n", kind, res(futex(&fb, FUTEX_WAKE | P, 1, NULL, NULL, 0)));
    printf("%s: REQUEUE B -> C, wake 1, move at most 2: %s\n", kind,
           res(futex(&fb, FUTEX_REQUEUE | P, 1, (void *)2L, &fc, 0)));
    printf("%s: CMP_REQUEUE B -> C, wake 1, move all: %s\n", kind,
           res(futex(&fb, FUTEX_CMP_REQUEUE | P, 1, (void *)(long)INT_MAX, &fc, 0)));
    printf("%s: WAKE B: %s\n", kind, res(futex(&fb, FUTEX_WAKE | P, INT_MAX, NULL, NULL, 0)));
    printf("%s: WAKE C, at most 2: %s\n", kind, res(futex(&fc, FUTEX_WAKE | P, 2, NULL, NULL, 0)));
    printf("%s: WAKE C: %s\n", kind, res(futex(&fc, FUTEX_WAKE | P, INT_MAX, NULL, NULL, 0)));
    printf("%s: the waiters' WAITs returned %s\n", kind, results(w, NW));
}

static uint32_t fbits, fpark;

static void bitsets(void)
{
    struct waiter w[5];
    fbits = 0;
    for (int i = 0; i < 4; i++)
        start(&w[i], &fbits, FUTEX_WAIT_BITSET_PRIVATE, 1u << i, 0);
    long r = wake_until(&fbits, FUTEX_WAKE_BITSET_PRIVATE, 1u << 2, 1);
    double t0 = mono();
    while (!__atomic_load_n(&w[2].done, __ATOMIC_SEQ_CST) && mono() - t0 < 20)
        pause_ms(1);
    printf("WAKE_BITSET 0x4: woke %ld; waiter 2 done: %s; others still waiting: %s\n", r,
           yesno(w[2].done), yesno(!w[0].done && !w[1].done && !w[3].done));
    start(&w[4], &fbits, FUTEX_WAIT_PRIVATE, 0, 0); /* plain WAIT: matches any bitset */
    r = wake_until(&fbits, FUTEX_WAKE_BITSET_PRIVATE, 0xb, 4);
    printf("WAKE_BITSET 0xb: woke %ld (waiters 0, 1, 3 and a plain WAIT)\n", r);
    printf("bitset waiters returned %s\n", results(w, 5));

    /* Bitset waiters keep their bitset when requeued. */
    fbits = fpark = 0;
    for (int i = 0; i < 3; i++)
        start(&w[i], &fbits, FUTEX_WAIT_BITSET_PRIVATE, 1u << i, 0);
    park(&fbits, &fpark, 3, 1);
    printf("after requeue: WAKE_BITSET 0x2 on the new word: %s\n",
           res(futex(&fpark, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x2)));
    printf("after requeue: plain WAKE: %s\n",
           res(futex(&fpark, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0)));
    printf("requeued bitset waiters returned %s\n", results(w, 3));
}

static uint32_t ftimed;

static void timed_wait_woken(void)
{
    struct waiter w;
    ftimed = 0;
    start(&w, &ftimed, FUTEX_WAIT_PRIVATE, 0, 10000);
    wake_until(&ftimed, FUTEX_WAKE_PRIVATE, 0, 1);
    printf("WAIT with a 10 s timeout, woken early: %s\n", results(&w, 1));
}

/* ---- a signal while in WAIT ----------------------------------------------------------------- */

static volatile int handled;
static void on_usr1(int sig) { (void)sig; handled++; }

static uint32_t fsig;

/* Sends SIGUSR1 to the waiter until its handler has run, then, if `wake`, wakes it. */
static void interrupt(struct waiter *w, int wake)
{
    pause_ms(20); /* let it get into WAIT, most likely; correct either way */
    double t0 = mono();
    while (!handled) {
        pthread_kill(w->t, SIGUSR1);
        pause_ms(5);
        if (mono() - t0 > 20) {
            printf("FAIL: the handler never ran\n");
            exit(1);
        }
    }
    if (wake)
        wake_until(w->word, FUTEX_WAKE_PRIVATE, 0, 1);
    else /* it may have taken the signal before it waited: send again until it returns */
        while (!w->done) {
            pthread_kill(w->t, SIGUSR1);
            pause_ms(5);
        }
}

static void signal_in_wait(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    struct waiter w;
    fsig = 0;
    handled = 0;
    start(&w, &fsig, FUTEX_WAIT_PRIVATE, 0, 0);
    interrupt(&w, 0);
    printf("signal in WAIT, handler without SA_RESTART: %s\n", results(&w, 1));

    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    handled = 0;
    start(&w, &fsig, FUTEX_WAIT_PRIVATE, 0, 0);
    interrupt(&w, 1);
    printf("signal in WAIT, SA_RESTART, no timeout: restarted, then woken: %s\n", results(&w, 1));

    handled = 0;
    start(&w, &fsig, FUTEX_WAIT_PRIVATE, 0, 30000);
    interrupt(&w, 0);
    printf("signal in WAIT, SA_RESTART, with a timeout: %s\n", results(&w, 1));
    signal(SIGUSR1, SIG_DFL);
}

/* ---- set_tid_address: the kernel clears the word and wakes it when the thread exits --------- */

static uint32_t tid_word;
static long set_tid_ret, own_tid;

static void *clear_on_exit(void *arg)
{
    (void)arg;
    own_tid = syscall(SYS_gettid);
    __atomic_store_n(&tid_word, (uint32_t)own_tid, __ATOMIC_SEQ_CST);
    set_tid_ret = syscall(SYS_set_tid_address, &tid_word);
    syscall(SYS_exit, 0);
    return NULL;
}

static void tid_address(void)
{
    tid_word = 1; /* nonzero until the thread has stored its tid */
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    pthread_create(&t, &a, clear_on_exit, NULL);
    pthread_attr_destroy(&a);
    int waits = 0, timeouts = 0;
    for (;;) {
        uint32_t v = __atomic_load_n(&tid_word, __ATOMIC_SEQ_CST);
        if (v == 0)
            break;
        struct timespec ts = {1, 0};
        /* Shared (not private): the kernel's wake on the tid word is a shared one. */
        if (futex(&tid_word, FUTEX_WAIT, v, &ts, NULL, 0) < 0 && errno == ETIMEDOUT)
            if (++timeouts > 10)
                break;
        waits++;
    }
    printf("set_tid_address in a thread: returned its tid: %s; the word was cleared at its exit: "
           "%s%s\n",
           yesno(set_tid_ret == own_tid), yesno(tid_word == 0),
           timeouts ? " (but a WAIT on it timed out: no wake)" : "");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a run cut short still shows how far it got */
    alarm(50); /* a broken futex must fail this program, not hang it */
    errors_and_timeouts();
    wake_counts_and_requeue(1);
    wake_counts_and_requeue(0);
    bitsets();
    timed_wait_woken();
    signal_in_wait();
    tid_address();
    printf("done\n");
    return 0;
}
