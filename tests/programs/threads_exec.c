/* execve while other threads run: Linux ends the other threads first (de_thread) and the
 * program goes on as the new image. `threads_exec` execs from main; `threads_exec thread` from
 * a second thread while main waits in pthread_join. Three more threads sit in pause(). */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *idle(void *a)
{
    (void)a;
    for (;;)
        pause();
    return 0;
}

static void run_echo(const char *what)
{
    char *argv[] = {"/bin/busybox", "echo", (char *)what, 0};
    execv(argv[0], argv);
    perror("execv");
}

static void *exec_here(void *a)
{
    (void)a;
    run_echo("exec from a thread");
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t t;
    (void)argv;
    for (int i = 0; i < 3; i++)
        pthread_create(&t, 0, idle, 0);
    if (argc > 1) {
        pthread_create(&t, 0, exec_here, 0);
        pthread_join(t, 0);
    }
    run_echo("exec from main");
    return 1;
}
