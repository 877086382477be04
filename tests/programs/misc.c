/* Checks properties of the simple system calls that cannot be compared byte for byte with a
 * native run: clocks, sleeping, randomness, uname, pids. Host wall-clock seconds come in
 * argv[1]. Prints "ok" or the first failure (exit 1). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...)                                                                               \
    do {                                                                                        \
        printf("FAIL: " __VA_ARGS__);                                                           \
        printf("\n");                                                                           \
        return 1;                                                                               \
    } while (0)

static double now(clockid_t c)
{
    struct timespec ts;
    if (syscall(SYS_clock_gettime, c, &ts) != 0)
        return -1;
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double host = argc > 1 ? atof(argv[1]) : 0;
    double real = now(CLOCK_REALTIME);
    if (real < host - 5 || real > host + 60)
        FAIL("CLOCK_REALTIME %.3f, host said %.3f", real, host);

    double prev = now(CLOCK_MONOTONIC);
    for (int i = 0; i < 1000; i++) {
        double t = now(CLOCK_MONOTONIC);
        if (t < prev)
            FAIL("CLOCK_MONOTONIC went back: %.9f then %.9f", prev, t);
        prev = t;
    }
    double t0 = now(CLOCK_MONOTONIC);
    struct timespec ts = {0, 50 * 1000 * 1000};
    if (nanosleep(&ts, NULL) != 0)
        FAIL("nanosleep");
    double slept = now(CLOCK_MONOTONIC) - t0;
    if (slept < 0.050 || slept > 2.0)
        FAIL("nanosleep(50ms) took %.3f s by CLOCK_MONOTONIC", slept);
    t0 = now(CLOCK_MONOTONIC);
    usleep(20000);
    slept = now(CLOCK_MONOTONIC) - t0;
    if (slept < 0.020 || slept > 2.0)
        FAIL("usleep(20ms) took %.3f s", slept);

    unsigned char a[32], b[32], zero[32] = {0};
    if (getrandom(a, sizeof a, 0) != sizeof a || getrandom(b, sizeof b, 0) != sizeof b)
        FAIL("getrandom");
    if (memcmp(a, b, sizeof a) == 0 || memcmp(a, zero, sizeof a) == 0)
        FAIL("getrandom gave the same or zero bytes twice");

    struct utsname u;
    if (uname(&u) != 0)
        FAIL("uname");
    if (strcmp(u.sysname, "Linux") != 0 || strcmp(u.machine, "x86_64") != 0)
        FAIL("uname: sysname %s machine %s", u.sysname, u.machine);

    if (getpid() <= 0 || syscall(SYS_gettid) != getpid())
        FAIL("getpid %d gettid %ld", getpid(), syscall(SYS_gettid));
    printf("ok\n");
    return 0;
}
