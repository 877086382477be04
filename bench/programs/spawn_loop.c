/* fork+exec cost from inside an instance: N times fork(), execve(PROGRAM),
 * waitpid(), each timed with clock_gettime(CLOCK_MONOTONIC).
 *
 * usage: spawn_loop N PROGRAM [ARGS...]
 * Prints one line: "spawns=N median_ns=M p90_ns=P". PROGRAM's stdout goes to
 * /dev/null. Under mvm this fails today (fork is not served), which the bench
 * reports as n/a with the reason. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn_loop N PROGRAM [ARGS...]\n");
		return 2;
	}
	long n = strtol(argv[1], NULL, 10);
	if (n <= 0 || n > 100000) {
		fprintf(stderr, "spawn_loop: N must be 1..100000\n");
		return 2;
	}
	long long *t = malloc(sizeof *t * (size_t)n);
	if (!t) {
		perror("spawn_loop: malloc");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		struct timespec a, b;
		int status;
		clock_gettime(CLOCK_MONOTONIC, &a);
		pid_t pid = fork();
		if (pid < 0) {
			perror("spawn_loop: fork");
			return 1;
		}
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0)
				dup2(fd, 1);
			execv(argv[2], argv + 2);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0) {
			perror("spawn_loop: waitpid");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "spawn_loop: %s failed (status 0x%x)\n", argv[2], status);
			return 1;
		}
		t[i] = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	}
	qsort(t, (size_t)n, sizeof *t, cmp);
	printf("spawns=%ld median_ns=%lld p90_ns=%lld\n", n, t[n / 2], t[(n * 9 + 9) / 10 - 1]);
	return 0;
}
