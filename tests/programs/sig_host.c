/* Signals sent from outside (by the test, to mvm or to the native process): handlers interrupt
 * blocking calls (EINTR) or have them restarted (SA_RESTART), a spinning program is interrupted,
 * SIGTERM can be handled, and an ignored signal does not cut a sleep short. One case per argv[1];
 * each prints "ready" once it is about to block. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void say(const char *s) { write(1, s, strlen(s)); }

static void on_signal(int sig)
{
    got = sig;
    say(sig == SIGUSR1 ? "handler: SIGUSR1\n"
        : sig == SIGUSR2 ? "handler: SIGUSR2\n"
        : sig == SIGINT ? "handler: SIGINT\n"
        : sig == SIGHUP ? "handler: SIGHUP\n"
                         : "handler: other\n");
}

static void on_term(int sig)
{
    say("got SIGTERM, exiting 0\n");
    _exit(0);
    (void)sig;
}

static void install(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    char buf[16];
    if (!strcmp(c, "eintr")) {
        install(SIGUSR1, on_signal, 0);
        say("ready\n");
        ssize_t n = read(0, buf, sizeof buf);
        printf("read=%zd errno=%s\n", n, n < 0 ? strerrorname_np(errno) : "-");
    } else if (!strcmp(c, "restart")) {
        install(SIGUSR1, on_signal, SA_RESTART);
        install(SIGUSR2, on_signal, 0);
        say("ready\n");
        ssize_t n = read(0, buf, sizeof buf);
        printf("read=%zd errno=%s last=%d\n", n, n < 0 ? strerrorname_np(errno) : "-", got);
    } else if (!strcmp(c, "term")) {
        install(SIGTERM, on_term, 0);
        say("ready\n");
        for (;;)
            pause();
    } else if (!strcmp(c, "spin")) {
        install(SIGINT, on_signal, 0);
        say("ready\n");
        while (!got)
            ;
        printf("stopped spinning after %d\n", got);
    } else if (!strcmp(c, "sleep")) {
        install(SIGUSR1, on_signal, SA_RESTART);
        say("ready\n");
        struct timespec t = {20, 0}, rem = {0, 0};
        int r = nanosleep(&t, &rem); /* SIGWINCH (ignored) first, then SIGUSR1 */
        printf("nanosleep=%d errno=%s rem_ok=%d\n", r, r ? strerrorname_np(errno) : "-",
               rem.tv_sec > 5 && rem.tv_sec < 20);
    } else if (!strcmp(c, "blocked")) {
        /* SIGINT blocked: it stays pending while the program sleeps, and is taken by
         * sigwaitinfo. */
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGINT);
        sigprocmask(SIG_BLOCK, &s, NULL);
        say("ready\n");
        siginfo_t si;
        int sig = sigwaitinfo(&s, &si);
        printf("sigwaitinfo=%d code=%s\n", sig, si.si_code == SI_USER ? "SI_USER" : "other");
    } else {
        fprintf(stderr, "sig_host: unknown case %s\n", c);
        return 2;
    }
    return 0;
}
