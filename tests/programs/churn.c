/* Starts and ends many programs or threads, then says "ready" and waits for SIGTERM, so that
 * the run's own memory can be looked at afterwards.
 * argv[1]: "fork" (fork, the child exits, wait) or "thread" (create, join); argv[2]: how many. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *nothing(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int n = atoi(argv[2]);
    for (int i = 0; i < n; i++) {
        if (!strcmp(argv[1], "fork")) {
            pid_t pid = fork();
            if (pid == 0)
                _exit(0);
            if (pid < 0 || waitpid(pid, NULL, 0) != pid)
                return 1;
        } else {
            pthread_t t;
            if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
                return 1;
        }
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}
