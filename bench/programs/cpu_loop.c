/* CPU-bound workload: deterministic integer work (xorshift64 + multiply/
 * rotate mixing), about 0.5-1 s natively, timed from inside.
 *
 * usage: cpu_loop [ITERATIONS]   (default 400000000)
 * Prints one line: "iterations=N result=R ns=T". The result depends on every
 * iteration, so the loop cannot be optimised away; it is the same on every
 * run, which the bench checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 400000000L;
	uint64_t x = 0x9E3779B97F4A7C15ULL, acc = 0;
	struct timespec t0, t1;

	if (n <= 0) {
		fprintf(stderr, "cpu_loop: ITERATIONS must be > 0\n");
		return 2;
	}
	if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0) {
		perror("cpu_loop: clock_gettime");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc = (acc ^ x) * 0x100000001B3ULL;
		acc = (acc << 5) | (acc >> 59);
	}
	if (clock_gettime(CLOCK_MONOTONIC, &t1) != 0) {
		perror("cpu_loop: clock_gettime");
		return 1;
	}

	long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL
		     + (t1.tv_nsec - t0.tv_nsec);
	printf("iterations=%ld result=%016llx ns=%lld\n",
	       n, (unsigned long long)acc, ns);
	return 0;
}
