/* A POSIX timer firing every argv[1] nanoseconds, faster than mvm delivers signals: the signal
 * is queued once and the expiries in between are overruns (si_overrun, timer_getoverrun), as
 * on Linux. Then "ready", and the program waits: SIGTERM must end it at once (the flood used
 * to starve it). With argv[2], also says whether overruns were counted. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile long handled, overruns;

static void on_timer(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    handled++;
    overruns += si->si_overrun;
}

int main(int argc, char **argv)
{
    long every = argc > 1 ? atol(argv[1]) : 50000;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN, &sa, NULL);
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN;
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0)
        return 1;
    struct itimerspec its = {.it_interval = {0, every}, .it_value = {0, every}};
    timer_settime(t, 0, &its, NULL);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000L + now.tv_nsec - start.tv_nsec < 300000000L);
    printf("handled some: %d\n", handled > 0);
    if (argc > 2)
        printf("overruns counted: %d\n", overruns > 0 || timer_getoverrun(t) > 0);
    printf("ready\n");
    for (;;)
        pause();
}
