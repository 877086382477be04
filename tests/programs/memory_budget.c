/* The run's --memory is shared by its programs. Mode "children": three children each touch
 * 40 MiB and wait; prints how many got there and how each ended (under --memory 100m, two
 * do and one is killed). Mode "forkbomb": forks until fork fails; prints whether it failed
 * with EAGAIN or ENOMEM and whether fewer than 2000 children were made; the children end
 * with the run. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && !strcmp(argv[1], "forkbomb")) {
        int n = 0;
        for (;;) {
            pid_t c = fork();
            if (c < 0) {
                printf("fork failed with %s after fewer than 2000: %s\n",
                       errno == EAGAIN || errno == ENOMEM ? "EAGAIN/ENOMEM" : strerrorname_np(errno),
                       n < 2000 ? "yes" : "no");
                return 0;
            }
            if (c == 0) {
                pause();
                _exit(0);
            }
            n++;
        }
    }
    int ready[2], hold[2];
    pipe(ready), pipe(hold);
    pid_t kids[3];
    int status[3], ended[3] = {0}, got = 0;
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            close(hold[1]);
            volatile char *p = malloc(40 << 20);
            if (!p)
                _exit(3);
            for (size_t o = 0; o < (40 << 20); o += 4096)
                p[o] = 1;
            write(ready[1], "r", 1);
            char x;
            read(hold[0], &x, 1);
            _exit(0);
        }
        /* One at a time: the next child starts once this one holds its memory or has ended,
         * so which one is refused does not depend on timing. */
        for (;;) {
            struct pollfd pf = {ready[0], POLLIN, 0};
            if (poll(&pf, 1, 100) > 0) {
                char x;
                read(ready[0], &x, 1);
                got++;
                break;
            }
            if (waitpid(kids[i], &status[i], WNOHANG) == kids[i]) {
                ended[i] = 1;
                break;
            }
        }
    }
    printf("children that touched 40 MiB: %d\n", got);
    close(hold[0]);
    close(hold[1]);
    for (int i = 0; i < 3; i++) {
        int st = status[i];
        if (!ended[i])
            waitpid(kids[i], &st, 0);
        if (WIFSIGNALED(st))
            printf("child %d: killed by signal %d\n", i + 1, WTERMSIG(st));
        else
            printf("child %d: exited %d\n", i + 1, WEXITSTATUS(st));
    }
    return 0;
}
