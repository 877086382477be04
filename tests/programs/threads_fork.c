/* fork and vfork in a threaded program, as python3's subprocess and thread pools do them.
 * "fork": 20 rounds of: start a thread that returns at once, fork, the child exits, the parent
 *   joins the thread and waits for the child.
 * "spawn": posix_spawn (vfork) of a command that does not exist, 50 times, while another
 *   thread keeps opening and closing pipes.
 * One line per part, "done" at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *nothing(void *arg)
{
    return arg;
}

static atomic_int stop;

static void *pipes(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        int p[2];
        if (pipe(p) == 0) {
            close(p[0]);
            close(p[1]);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *what = argc > 1 ? argv[1] : "all";
    if (!strcmp(what, "fork") || !strcmp(what, "all")) {
        int ok = 0;
        for (int i = 0; i < 20; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, nothing, NULL) != 0)
                return 1;
            pid_t pid = fork();
            if (pid == 0)
                _exit(7);
            pthread_join(t, NULL);
            int st;
            if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7)
                ok++;
        }
        printf("fork after a short thread: %d of 20\n", ok);
    }
    if (!strcmp(what, "spawn") || !strcmp(what, "all")) {
        pthread_t t;
        pthread_create(&t, NULL, pipes, NULL);
        int enoent = 0;
        for (int i = 0; i < 50; i++) {
            pid_t pid;
            char *args[] = {"/nonexistent/command", NULL};
            int r = posix_spawn(&pid, args[0], NULL, NULL, args, environ);
            if (r == ENOENT)
                enoent++;
            else if (r == 0)
                waitpid(pid, NULL, 0);
        }
        atomic_store(&stop, 1);
        pthread_join(t, NULL);
        printf("posix_spawn of a missing command: ENOENT %d of 50\n", enoent);
    }
    printf("done\n");
    return 0;
}
