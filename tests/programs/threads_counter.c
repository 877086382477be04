/* Futex-heavy threads whose results do not depend on scheduling: N threads (argv[1], default 8)
 * each add M times (argv[2], default 20000) to a counter under a pthread_mutex and to an atomic
 * counter; then rounds of pthread_barrier_wait; then a token passed round the threads in order
 * with a mutex and a condition variable (broadcast); then a bounded producer/consumer queue
 * (cond signal); then readers and writers on a pthread_rwlock; then a semaphore ping-pong. Every
 * thread is joined and its return value summed. Only main prints, and only totals, so the
 * output is the same natively and under mvm. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64
#define ROUNDS 50      /* barrier rounds */
#define ITEMS 20000    /* producer/consumer items */
#define QCAP 16

static int nthreads = 8;
/* Times the token goes round every thread: each pass wakes all the others, so n^2 wakes per lap;
 * 200 laps for 8 threads. */
static int token_laps;
static long iters = 20000;

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static long atomic_counter;

static void *adder(void *arg)
{
    long id = (long)arg;
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
        __atomic_fetch_add(&atomic_counter, 1, __ATOMIC_SEQ_CST);
    }
    return (void *)(id * 1000 + 7);
}

/* ---- barrier rounds: every thread writes its slot, the barrier, then every thread checks that
 * all slots of this round are visible. */
static pthread_barrier_t barrier;
static long slots[MAX_THREADS];
static long serial_count, bad_reads;

static void *barrier_worker(void *arg)
{
    long id = (long)arg;
    long bad = 0;
    for (long r = 1; r <= ROUNDS; r++) {
        slots[id] = r * 100 + id;
        int rc = pthread_barrier_wait(&barrier);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_fetch_add(&serial_count, 1, __ATOMIC_SEQ_CST);
        else if (rc != 0)
            bad++;
        for (int j = 0; j < nthreads; j++)
            if (__atomic_load_n(&slots[j], __ATOMIC_SEQ_CST) != r * 100 + j)
                bad++;
        pthread_barrier_wait(&barrier); /* nobody writes the next round before all have read */
    }
    __atomic_fetch_add(&bad_reads, bad, __ATOMIC_SEQ_CST);
    return (void *)(id + 1);
}

/* ---- token ring: thread id may act only when turn == id; it records itself and passes on. */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ring_cond = PTHREAD_COND_INITIALIZER;
static int turn;
static int *sequence;
static long seq_len;

static void *ring_worker(void *arg)
{
    int id = (int)(long)arg;
    for (int lap = 0; lap < token_laps; lap++) {
        pthread_mutex_lock(&ring_lock);
        while (turn != id)
            pthread_cond_wait(&ring_cond, &ring_lock);
        sequence[seq_len++] = id;
        turn = (id + 1) % nthreads;
        pthread_cond_broadcast(&ring_cond);
        pthread_mutex_unlock(&ring_lock);
    }
    return (void *)(long)(id * 2);
}

/* ---- bounded queue: half the threads produce, half consume (at least one of each). */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;
static long queue[QCAP];
static int q_head, q_len;
static long produced_left;   /* items still to produce, shared by the producers */
static long consumed_left;   /* items still to consume, shared by the consumers */

static void *producer(void *arg)
{
    (void)arg;
    long made = 0;
    for (;;) {
        pthread_mutex_lock(&q_lock);
        if (produced_left == 0) {
            pthread_mutex_unlock(&q_lock);
            break;
        }
        long v = produced_left--;
        while (q_len == QCAP)
            pthread_cond_wait(&q_not_full, &q_lock);
        queue[(q_head + q_len) % QCAP] = v;
        q_len++;
        pthread_cond_signal(&q_not_empty);
        pthread_mutex_unlock(&q_lock);
        made++;
    }
    return (void *)made;
}

static long consumed_sum, consumed_xor;

static void *consumer(void *arg)
{
    (void)arg;
    long got = 0, sum = 0, x = 0;
    for (;;) {
        pthread_mutex_lock(&q_lock);
        if (consumed_left == 0) {
            pthread_mutex_unlock(&q_lock);
            break;
        }
        consumed_left--;
        while (q_len == 0)
            pthread_cond_wait(&q_not_empty, &q_lock);
        long v = queue[q_head];
        q_head = (q_head + 1) % QCAP;
        q_len--;
        pthread_cond_signal(&q_not_full);
        pthread_mutex_unlock(&q_lock);
        sum += v;
        x ^= v * 2654435761L;
        got++;
    }
    __atomic_fetch_add(&consumed_sum, sum, __ATOMIC_SEQ_CST);
    __atomic_fetch_xor(&consumed_xor, x, __ATOMIC_SEQ_CST);
    return (void *)got;
}

/* ---- rwlock: writers add, readers check an invariant (a == b) under the read lock. */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b, rw_torn;

static void *rw_worker(void *arg)
{
    long id = (long)arg;
    long n = iters / 10 + 1;
    for (long i = 0; i < n; i++) {
        if ((i + id) % 4 == 0) {
            pthread_rwlock_wrlock(&rw);
            rw_a++;
            rw_b++;
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            if (rw_a != rw_b)
                __atomic_fetch_add(&rw_torn, 1, __ATOMIC_SEQ_CST);
            pthread_rwlock_unlock(&rw);
        }
    }
    return NULL;
}

/* ---- semaphore ping-pong between two threads. */
static sem_t ping, pong;
#define PINGS 2000

static void *ponger(void *arg)
{
    (void)arg;
    long n = 0;
    for (int i = 0; i < PINGS; i++) {
        sem_wait(&ping);
        n++;
        sem_post(&pong);
    }
    return (void *)n;
}

static void start_all(pthread_t *t, int n, void *(*fn)(void *))
{
    for (long i = 0; i < n; i++) {
        int rc = pthread_create(&t[i], NULL, fn, (void *)i);
        if (rc != 0) {
            printf("pthread_create: %s\n", strerror(rc));
            exit(1);
        }
    }
}

static long join_all(pthread_t *t, int n)
{
    long sum = 0;
    for (int i = 0; i < n; i++) {
        void *ret;
        int rc = pthread_join(t[i], &ret);
        if (rc != 0) {
            printf("pthread_join: %s\n", strerror(rc));
            exit(1);
        }
        sum += (long)ret;
    }
    return sum;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* a run cut short still shows how far it got */
    if (argc > 1)
        nthreads = atoi(argv[1]);
    if (argc > 2)
        iters = atol(argv[2]);
    if (nthreads < 2 || nthreads > MAX_THREADS || iters < 1) {
        printf("usage: threads_counter [2..%d threads] [iterations >= 1]\n", MAX_THREADS);
        return 2;
    }
    pthread_t t[MAX_THREADS];
    printf("threads %d, iterations %ld\n", nthreads, iters);

    start_all(t, nthreads, adder);
    long ret = join_all(t, nthreads);
    printf("mutex counter %ld (want %ld)\n", counter, nthreads * iters);
    printf("atomic counter %ld (want %ld)\n", atomic_counter, nthreads * iters);
    printf("adder return values sum %ld\n", ret);

    pthread_barrier_init(&barrier, NULL, nthreads);
    start_all(t, nthreads, barrier_worker);
    ret = join_all(t, nthreads);
    pthread_barrier_destroy(&barrier);
    printf("barrier rounds %d, serial threads %ld, stale reads %ld, return sum %ld\n", ROUNDS,
           serial_count, bad_reads, ret);

    token_laps = 12800 / (nthreads * nthreads);
    if (token_laps < 2)
        token_laps = 2;
    sequence = calloc((size_t)nthreads * token_laps, sizeof *sequence);
    start_all(t, nthreads, ring_worker);
    ret = join_all(t, nthreads);
    long in_order = 0;
    unsigned long h = 1469598103934665603UL;
    for (long i = 0; i < seq_len; i++) {
        if (sequence[i] == i % nthreads)
            in_order++;
        h = (h ^ (unsigned long)sequence[i]) * 1099511628211UL;
    }
    printf("token ring: %ld turns, %ld in order, fnv %016lx, return sum %ld\n", seq_len, in_order,
           h, ret);

    int producers = nthreads / 2, consumers = nthreads - producers;
    produced_left = consumed_left = ITEMS;
    for (long i = 0; i < nthreads; i++)
        pthread_create(&t[i], NULL, i < producers ? producer : consumer, (void *)i);
    long made = join_all(t, producers);
    long got = join_all(t + producers, consumers);
    printf("queue: %d producers made %ld, %d consumers got %ld, sum %ld, xor %lx\n", producers,
           made, consumers, got, consumed_sum, consumed_xor);

    start_all(t, nthreads, rw_worker);
    join_all(t, nthreads);
    long writes = 0;
    for (long id = 0; id < nthreads; id++)
        for (long i = 0; i < iters / 10 + 1; i++)
            writes += (i + id) % 4 == 0;
    printf("rwlock: a %ld b %ld (want %ld), torn reads %ld\n", rw_a, rw_b, writes, rw_torn);

    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_create(&t[0], NULL, ponger, NULL);
    for (int i = 0; i < PINGS; i++) {
        sem_post(&ping);
        sem_wait(&pong);
    }
    ret = join_all(t, 1);
    printf("semaphore ping-pong: %d pings, %ld pongs\n", PINGS, ret);

    unsigned long sum = (unsigned long)counter * 31 + (unsigned long)atomic_counter * 17 +
                        (unsigned long)seq_len * 7 + (unsigned long)consumed_sum + (unsigned long)rw_a;
    printf("checksum %lu\n", sum);
    return 0;
}
