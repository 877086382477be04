/* setitimer(ITIMER_REAL) every 20 ms runs a SIGALRM handler; alarm() reports and cancels;
 * an alarm with the default action ends the program (142). */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>
static volatile int n;
static void h(int s) { (void)s; n++; }
int main(void) {
    signal(SIGALRM, h);
    struct itimerval it = {{0, 20000}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, 0);
    while (n < 5) pause();
    struct itimerval z = {0};
    setitimer(ITIMER_REAL, &z, 0);
    printf("interval timer fired %d times\n", n);
    printf("alarm old: %u\n", alarm(5));
    printf("alarm cancel left: %u\n", alarm(0));
    struct itimerval g; getitimer(ITIMER_REAL, &g);
    printf("disarmed: %ld\n", g.it_value.tv_sec + g.it_value.tv_usec);
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    pause();
    printf("not reached\n");
    return 0;
}
