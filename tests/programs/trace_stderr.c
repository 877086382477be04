/* Three programs (forked: under mvm each is its own micro-VM, served by its own thread) write
 * "child C line I" lines to stderr at once, each line in one write, with a getppid between
 * lines: tests/trace.rs checks that the trace lines (on the same stderr) never split them, nor
 * are split by them. */
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 3
#define LINES 200

int main(void)
{
    for (int c = 0; c < CHILDREN; c++) {
        if (fork() == 0) {
            char buf[64];
            for (int i = 0; i < LINES; i++) {
                int n = snprintf(buf, sizeof buf, "child %d line %d\n", c, i);
                if (write(2, buf, n) != n)
                    _exit(1);
                syscall(SYS_getppid);
            }
            _exit(0);
        }
    }
    int status, failed = 0;
    while (wait(&status) > 0)
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return failed;
}
