/* Per-syscall cost: N raw getppid() syscalls, timed from inside.
 *
 * usage: getppid_loop [N]   (default 20000)
 * Prints one line: "calls=N total_ns=T ns_per_call=X".
 * Only two clock_gettime() calls bracket the loop: under mvm a static binary
 * has no vDSO, so clock_gettime is itself a syscall (one VM exit each). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	struct timespec t0, t1;
	long sink = 0;

	if (n <= 0) {
		fprintf(stderr, "getppid_loop: N must be > 0\n");
		return 2;
	}
	if (syscall(SYS_getppid) < 0) {
		perror("getppid_loop: getppid");
		return 1;
	}
	if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0) {
		perror("getppid_loop: clock_gettime");
		return 1;
	}
	for (long i = 0; i < n; i++)
		sink += syscall(SYS_getppid);
	if (clock_gettime(CLOCK_MONOTONIC, &t1) != 0) {
		perror("getppid_loop: clock_gettime");
		return 1;
	}

	long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL
		     + (t1.tv_nsec - t0.tv_nsec);
	printf("calls=%ld total_ns=%lld ns_per_call=%.1f sink=%ld\n",
	       n, ns, (double)ns / (double)n, sink);
	return 0;
}
