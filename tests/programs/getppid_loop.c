/* Makes N getppid system calls (N = argv[1]), for measuring the cost of one syscall. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long first = syscall(SYS_getppid);
    for (long i = 1; i < n; i++) {
        if (syscall(SYS_getppid) != first) {
            printf("getppid changed at %ld\n", i);
            return 1;
        }
    }
    printf("done %ld\n", n);
    return 0;
}
