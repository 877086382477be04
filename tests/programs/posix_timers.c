/* POSIX timers: a periodic SIGEV_SIGNAL timer with an RT signal and a value, read by an
 * SA_SIGINFO handler; timer_gettime; a SIGEV_NONE timer counting down; TIMER_ABSTIME; glibc's
 * SIGEV_THREAD (a function run in a thread); the errors. One line per check, "done" at the
 * end; nothing that depends on timing beyond "it fired" and "time went down". */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t fired, good_code, good_value;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    fired++;
    good_code += si->si_code == SI_TIMER;
    good_value += si->si_value.sival_int == 42;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int thread_calls, thread_value;

static void in_thread(union sigval v)
{
    pthread_mutex_lock(&m);
    thread_calls++;
    thread_value = v.sival_int;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&m);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN + 1;
    ev.sigev_value.sival_int = 42;
    timer_t t;
    printf("timer_create: %s\n", timer_create(CLOCK_MONOTONIC, &ev, &t) == 0 ? "ok" : strerrorname_np(errno));
    struct itimerspec its = {{0, 20000000}, {0, 20000000}};
    printf("timer_settime: %s\n", timer_settime(t, 0, &its, NULL) == 0 ? "ok" : strerrorname_np(errno));
    while (fired < 3)
        pause();
    struct itimerspec cur;
    timer_gettime(t, &cur);
    printf("periodic: fired >= 3: yes, si_code SI_TIMER: %s, value 42: %s, interval kept: %s\n",
           good_code == fired ? "yes" : "no", good_value == fired ? "yes" : "no",
           cur.it_interval.tv_nsec == 20000000 ? "yes" : "no");
    printf("timer_delete: %s\n", timer_delete(t) == 0 ? "ok" : strerrorname_np(errno));
    printf("timer_gettime after delete: %s\n", timer_gettime(t, &cur) == 0 ? "ok" : strerrorname_np(errno));

    ev.sigev_notify = SIGEV_NONE;
    timer_create(CLOCK_REALTIME, &ev, &t);
    struct itimerspec once = {{0, 0}, {5, 0}};
    timer_settime(t, 0, &once, NULL);
    struct itimerspec a, b;
    timer_gettime(t, &a);
    usleep(20000);
    timer_gettime(t, &b);
    printf("SIGEV_NONE counts down: %s\n",
           a.it_value.tv_sec * 1000000000L + a.it_value.tv_nsec >
                   b.it_value.tv_sec * 1000000000L + b.it_value.tv_nsec
               ? "yes"
               : "no");
    struct itimerspec off = {{0, 0}, {0, 0}}, prev;
    timer_settime(t, 0, &off, &prev);
    printf("the previous setting had time left: %s\n", prev.it_value.tv_sec > 0 ? "yes" : "no");
    timer_delete(t);

    /* Absolute time on CLOCK_MONOTONIC, delivered as SIGALRM (no sigevent). */
    signal(SIGALRM, (void (*)(int))(void *)on_timer);
    fired = 0;
    struct sigaction al = {0};
    al.sa_sigaction = on_timer;
    al.sa_flags = SA_SIGINFO;
    sigaction(SIGALRM, &al, NULL);
    timer_create(CLOCK_MONOTONIC, NULL, &t);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec abs = {{0, 0}, {now.tv_sec, now.tv_nsec + 30000000}};
    if (abs.it_value.tv_nsec >= 1000000000)
        abs.it_value.tv_sec++, abs.it_value.tv_nsec -= 1000000000;
    timer_settime(t, TIMER_ABSTIME, &abs, NULL);
    while (!fired)
        pause();
    printf("TIMER_ABSTIME with the default sigevent: SIGALRM fired\n");
    timer_delete(t);

    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = in_thread;
    ev.sigev_value.sival_int = 7;
    printf("SIGEV_THREAD timer_create: %s\n", timer_create(CLOCK_MONOTONIC, &ev, &t) == 0 ? "ok" : strerrorname_np(errno));
    struct itimerspec soon = {{0, 0}, {0, 10000000}};
    timer_settime(t, 0, &soon, NULL);
    pthread_mutex_lock(&m);
    while (thread_calls == 0)
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
    printf("SIGEV_THREAD: the function ran with value %d\n", thread_value);
    timer_delete(t);

    printf("bad clock: %s\n", timer_create(12345, NULL, &t) == 0 ? "ok" : strerrorname_np(errno));
    printf("done\n");
    return 0;
}
