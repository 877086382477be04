/* Reads the clocks through libc (the vDSO under mvm) many times and checks them against the real
 * syscall: never backwards, and within 20 ms of the kernel's answer. Prints "ok" or the failure. */
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long ns(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }

int main(void)
{
    const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME};
    for (int c = 0; c < 3; c++) {
        long prev = 0;
        for (int i = 0; i < 2000; i++) {
            struct timespec v, s;
            clock_gettime(clocks[c], &v);
            if (ns(v) < prev) {
                printf("clock %d went backwards\n", clocks[c]);
                return 1;
            }
            prev = ns(v);
            if (i % 500 == 0) {
                syscall(SYS_clock_gettime, clocks[c], &s);
                long d = ns(s) - ns(v);
                if (d < -20000000L || d > 20000000L) {
                    printf("clock %d off by %ld ns\n", clocks[c], d);
                    return 1;
                }
                struct timespec z = {0, 3000000};
                nanosleep(&z, 0);
            }
        }
    }
    struct timeval tv;
    gettimeofday(&tv, 0);
    time_t t = time(0);
    if (t - tv.tv_sec > 1 || tv.tv_sec - t > 1) {
        printf("time and gettimeofday disagree\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}
