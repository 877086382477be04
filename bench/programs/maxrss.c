/* Peak-RSS probe: runs a command once and prints the peak resident set size
 * (KiB) of the process tree it waited for, from wait4()'s rusage.
 *
 * usage: maxrss COMMAND [ARGS...]
 * Prints "maxrss: status=S maxrss_kib=K" as its last line on stderr and
 * exits with the command's status (128+N for death by signal N).
 *
 * Why C and not a python wrapper: at execve the kernel folds the *pre-exec*
 * address space's high-water RSS into the child's ru_maxrss. A child forked
 * from python starts with python's ~10 MiB resident, which would swamp a
 * few-MiB measurement. Forked from this static binary, the floor is tiny. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: maxrss COMMAND [ARGS...]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("maxrss: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror("maxrss: exec");
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("maxrss: wait4");
		return 2;
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(stderr, "maxrss: status=%d maxrss_kib=%ld\n", code, ru.ru_maxrss);
	return code;
}
