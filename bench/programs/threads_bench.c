/* Thread costs, timed from inside: thread create+join, a futex ping-pong
 * between two threads, a CPU-bound workload on 1 thread vs split over 2, and
 * uncontended mutex lock/unlock.
 *
 * usage: threads_bench [THREADS [ROUND_TRIPS [CPU_ITERS [MUTEX_ITERS]]]]
 *        (defaults 200 2000 250000000 10000000)
 * Prints one line of key=value pairs:
 *   create_ns_per_thread  pthread_create + pthread_join of THREADS threads, one after another
 *   pingpong_ns_per_rt    ROUND_TRIPS round trips between two threads over two futex words
 *                         (FUTEX_WAIT/FUTEX_WAKE; no spinning), futex_calls_per_rt how many
 *                         futex syscalls one round trip made (waits that returned at once
 *                         because the word had already changed included)
 *   cpu1_ns, cpu2_ns      CPU_ITERS iterations of a stateless integer hash, summed, done by one
 *                         worker thread, then split in halves over two; cpu_result is the sum
 *                         (the same for both splits, which is checked; and on every run)
 *   mutex_ns_per_pair     MUTEX_ITERS pthread_mutex_lock + unlock of a mutex no one else holds,
 *                         after threads exist (glibc then takes the multi-threaded path)
 * Only clock_gettime() brackets each phase: under mvm a static binary has no vDSO, so each
 * clock_gettime is itself a VM exit. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) {
		perror("threads_bench: clock_gettime");
		exit(1);
	}
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void check(int err, const char *what)
{
	if (err != 0) {
		fprintf(stderr, "threads_bench: %s: error %d\n", what, err);
		exit(1);
	}
}

/* 1. create + join */

static void *nothing(void *arg)
{
	return arg;
}

/* 2. ping-pong: the main thread bumps `ping` and waits for `pong` to follow; the other thread
 * waits for `ping`, then bumps `pong`. */

static _Atomic uint32_t ping, pong;
static _Atomic long futex_calls;

static void futex_wait(_Atomic uint32_t *w, uint32_t val)
{
	atomic_fetch_add_explicit(&futex_calls, 1, memory_order_relaxed);
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	atomic_fetch_add_explicit(&futex_calls, 1, memory_order_relaxed);
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Waits until *w == want (the word only ever counts up to it). */
static void wait_for(_Atomic uint32_t *w, uint32_t want)
{
	uint32_t v;

	while ((v = atomic_load(w)) != want)
		futex_wait(w, v);
}

static void *ponger(void *arg)
{
	long n = (long)arg;

	for (uint32_t i = 1; i <= (uint32_t)n; i++) {
		wait_for(&ping, i);
		atomic_store(&pong, i);
		futex_wake(&pong);
	}
	return NULL;
}

/* 3. CPU-bound: sum of splitmix64(i) over a range of i; any split of the range gives the same
 * sum, so one thread and two threads can be checked against each other. */

struct range {
	uint64_t from, to, sum;
	char pad[64];
};

static uint64_t mix(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void *hash_range(void *arg)
{
	struct range *r = arg;
	uint64_t acc = 0;

	for (uint64_t i = r->from; i < r->to; i++)
		acc += mix(i);
	r->sum = acc;
	return NULL;
}

/* Runs [0, iters) split over `parts` threads; returns the ns it took, the result in *sum. */
static long long cpu_run(uint64_t iters, int parts, uint64_t *sum)
{
	struct range r[2];
	pthread_t t[2];
	long long t0 = now_ns();

	for (int k = 0; k < parts; k++) {
		r[k].from = iters * k / parts;
		r[k].to = iters * (k + 1) / parts;
		check(pthread_create(&t[k], NULL, hash_range, &r[k]), "pthread_create");
	}
	*sum = 0;
	for (int k = 0; k < parts; k++) {
		check(pthread_join(t[k], NULL), "pthread_join");
		*sum += r[k].sum;
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	long threads = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
	long trips = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
	long long cpu_iters = argc > 3 ? strtoll(argv[3], NULL, 10) : 250000000LL;
	long mutex_iters = argc > 4 ? strtol(argv[4], NULL, 10) : 10000000;
	long long t0, create_ns, pingpong_ns, cpu1_ns, cpu2_ns, mutex_ns;
	uint64_t sum1, sum2;
	pthread_t t;

	if (threads <= 0 || trips <= 0 || cpu_iters <= 0 || mutex_iters <= 0) {
		fprintf(stderr, "usage: threads_bench [THREADS [ROUND_TRIPS [CPU_ITERS [MUTEX_ITERS]]]]"
			" (all > 0)\n");
		return 2;
	}

	t0 = now_ns();
	for (long i = 0; i < threads; i++) {
		void *ret;

		check(pthread_create(&t, NULL, nothing, (void *)i), "pthread_create");
		check(pthread_join(t, &ret), "pthread_join");
		if ((long)ret != i) {
			fprintf(stderr, "threads_bench: thread %ld returned %ld\n", i, (long)ret);
			return 1;
		}
	}
	create_ns = now_ns() - t0;

	check(pthread_create(&t, NULL, ponger, (void *)trips), "pthread_create");
	t0 = now_ns();
	for (uint32_t i = 1; i <= (uint32_t)trips; i++) {
		atomic_store(&ping, i);
		futex_wake(&ping);
		wait_for(&pong, i);
	}
	pingpong_ns = now_ns() - t0;
	check(pthread_join(t, NULL), "pthread_join");

	cpu1_ns = cpu_run((uint64_t)cpu_iters, 1, &sum1);
	cpu2_ns = cpu_run((uint64_t)cpu_iters, 2, &sum2);
	if (sum1 != sum2) {
		fprintf(stderr, "threads_bench: 1 thread summed %016llx, 2 threads %016llx\n",
			(unsigned long long)sum1, (unsigned long long)sum2);
		return 1;
	}

	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	volatile long counter = 0;
	t0 = now_ns();
	for (long i = 0; i < mutex_iters; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	mutex_ns = now_ns() - t0;
	if (counter != mutex_iters) {
		fprintf(stderr, "threads_bench: counter %ld, expected %ld\n", (long)counter, mutex_iters);
		return 1;
	}

	printf("threads=%ld create_ns_per_thread=%.1f round_trips=%ld pingpong_ns_per_rt=%.1f "
	       "futex_calls_per_rt=%.2f cpu_iters=%lld cpu1_ns=%lld cpu2_ns=%lld "
	       "cpu_result=%016llx mutex_iters=%ld mutex_ns_per_pair=%.2f\n",
	       threads, (double)create_ns / threads, trips, (double)pingpong_ns / trips,
	       (double)atomic_load(&futex_calls) / trips, cpu_iters, cpu1_ns, cpu2_ns,
	       (unsigned long long)sum1, mutex_iters,
	       (double)mutex_ns / mutex_iters);
	return 0;
}
