/* Calls served since a fuzzer and stress-ng found them missing, each printing what the
 * program can see: timerfd (create, settime relative and absolute, gettime, read of the
 * expirations, poll), tee and splice between pipes and a file, preadv/pwritev, msync on a
 * shared file mapping (flags checked), MADV_REMOVE on shared memory (the file's pages read as
 * zeros; EINVAL on private memory), MADV_WIPEONFORK (the forked child sees zeros; EINVAL on a
 * shared mapping). argv[1]: a writable directory. One line per check, "done" at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <utime.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *e(long r)
{
    return r < 0 ? strerrorname_np(errno) : "ok";
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    setvbuf(stdout, NULL, _IOLBF, 0);
    char path[256];

    /* timerfd */
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    printf("timerfd_create: %s\n", e(t));
    printf("bad clock: %s\n", e(timerfd_create(12345, 0)));
    printf("bad flags: %s\n", e(timerfd_create(CLOCK_MONOTONIC, 0x10)));
    struct itimerspec its = {.it_interval = {0, 2000000}, .it_value = {0, 2000000}};
    printf("settime relative: %s\n", e(timerfd_settime(t, 0, &its, NULL)));
    struct itimerspec cur;
    timerfd_gettime(t, &cur);
    printf("gettime interval: %ld ns\n", cur.it_interval.tv_nsec);
    uint64_t n = 0;
    const char *r;
    usleep(20000);
    r = e(read(t, &n, 8));
    printf("read: %s, expirations >= 5: %d\n", r, n >= 5);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec abs = {.it_value = {now.tv_sec, now.tv_nsec}};
    abs.it_value.tv_nsec += 5000000;
    if (abs.it_value.tv_nsec >= 1000000000) {
        abs.it_value.tv_sec++;
        abs.it_value.tv_nsec -= 1000000000;
    }
    struct itimerspec old;
    r = e(timerfd_settime(t, TFD_TIMER_ABSTIME, &abs, &old));
    printf("settime absolute: %s, old interval %ld\n", r, old.it_interval.tv_nsec);
    struct pollfd p = {.fd = t, .events = POLLIN};
    int ready = poll(&p, 1, 1000);
    printf("poll: %d, revents %#x\n", ready, p.revents);
    read(t, &n, 8);
    printf("one expiration: %llu\n", (unsigned long long)n);
    int nb = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    printf("nonblocking read of an unarmed timer: %s\n", e(read(nb, &n, 8)));

    /* tee and splice */
    int a[2], b[2];
    pipe(a);
    pipe(b);
    write(a[1], "hello, tee", 10);
    ssize_t teed = tee(a[0], b[1], 100, 0);
    printf("tee: %zd\n", teed);
    char buf[64] = {0};
    read(b[0], buf, sizeof buf);
    printf("tee copy: %s\n", buf);
    snprintf(path, sizeof path, "%s/splice.txt", dir);
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    loff_t off = 0;
    printf("splice pipe to file: %zd\n", splice(a[0], NULL, f, &off, 100, 0));
    printf("file offset after: %lld\n", (long long)off);
    off = 7;
    printf("splice file to pipe: %zd\n", splice(f, &off, b[1], NULL, 3, 0));
    memset(buf, 0, sizeof buf);
    read(b[0], buf, sizeof buf);
    printf("spliced: %s (offset %lld)\n", buf, (long long)off);
    printf("tee between non-pipes: %s\n", e(tee(f, f, 10, 0)));

    /* preadv, pwritev */
    char x[3] = "abc", y[4] = "defg";
    struct iovec w[2] = {{x, 3}, {y, 4}};
    printf("pwritev: %zd\n", pwritev(f, w, 2, 100));
    char r1[2], r2[5] = {0};
    struct iovec rv[2] = {{r1, 2}, {r2, 4}};
    ssize_t got = preadv(f, rv, 2, 101);
    printf("preadv: %zd %.2s %s\n", got, r1, r2);
    printf("preadv negative offset: %s\n", e(preadv(f, rv, 2, -1)));

    /* msync */
    ftruncate(f, 8192);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    strcpy(m + 4096, "synced");
    printf("msync MS_SYNC: %s\n", e(msync(m, 8192, MS_SYNC)));
    printf("msync MS_ASYNC|MS_INVALIDATE: %s\n", e(msync(m, 4096, MS_ASYNC | MS_INVALIDATE)));
    printf("msync both: %s\n", e(msync(m, 4096, MS_ASYNC | MS_SYNC)));
    printf("msync unaligned: %s\n", e(msync(m + 1, 4096, MS_SYNC)));
    printf("msync unmapped: %s\n", e(msync(m + 8192 * 1000, 4096, MS_SYNC)));
    memset(buf, 0, sizeof buf);
    pread(f, buf, 6, 4096);
    printf("file sees: %s\n", buf);

    /* MADV_REMOVE */
    printf("MADV_REMOVE shared: %s\n", e(madvise(m + 4096, 4096, MADV_REMOVE)));
    got = pread(f, buf, 6, 4096);
    printf("after: %d, file: %zd bytes read, first %d\n", m[4096], got, buf[0]);
    char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    priv[0] = 1;
    printf("MADV_REMOVE private: %s\n", e(madvise(priv, 4096, MADV_REMOVE)));

    /* MADV_WIPEONFORK */
    char *wipe = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(wipe, 7, 3 * 4096);
    printf("MADV_WIPEONFORK: %s\n", e(madvise(wipe + 4096, 4096, MADV_WIPEONFORK)));
    printf("MADV_WIPEONFORK shared: %s\n", e(madvise(m, 4096, MADV_WIPEONFORK)));
    pid_t pid = fork();
    if (pid == 0) {
        printf("child sees: %d %d %d\n", wipe[0], wipe[4096], wipe[2 * 4096]);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("parent keeps: %d %d %d\n", wipe[0], wipe[4096], wipe[2 * 4096]);
    madvise(wipe + 4096, 4096, MADV_KEEPONFORK);
    pid = fork();
    if (pid == 0) {
        printf("after KEEPONFORK child sees: %d\n", wipe[4096]);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    /* mincore: a touched page is resident, one far from it is not, an unmapped one ENOMEM */
    char *big = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    big[0] = 1;
    unsigned char vec[1];
    mincore(big, 4096, vec);
    printf("mincore touched: %d\n", vec[0] & 1);
    mincore(big + (6 << 20), 4096, vec);
    printf("mincore untouched: %d\n", vec[0] & 1);
    munmap(big + (4 << 20), 4 << 20);
    printf("mincore unmapped: %s\n", e(mincore(big + (4 << 20), 4096, vec)));
    printf("mincore unaligned: %s\n", e(mincore(big + 1, 4096, vec)));

    /* utime, utimes, futimesat */
    struct utimbuf ub = {.actime = 1000, .modtime = 2000};
    struct stat st;
    printf("utime: %s\n", e(utime(path, &ub)));
    stat(path, &st);
    printf("times: %ld %ld\n", (long)st.st_atime, (long)st.st_mtime);
    struct timeval tv[2] = {{3000, 5}, {4000, 6}};
    printf("utimes: %s\n", e(utimes(path, tv)));
    stat(path, &st);
    printf("times: %ld.%09ld %ld.%09ld\n", (long)st.st_atime, st.st_atim.tv_nsec,
           (long)st.st_mtime, st.st_mtim.tv_nsec);
    tv[1].tv_usec = 1000000;
    printf("utimes bad usec: %s\n", e(utimes(path, tv)));
    tv[1].tv_usec = 0;
    printf("futimesat: %s\n", e(futimesat(AT_FDCWD, path, tv)));
    printf("utime now: %s\n", e(utime(path, NULL)));
    printf("utime missing: %s\n", e(utime("/nonexistent/file", &ub)));

    /* Truncation takes a private mapping's copied pages past the new end too. */
    ftruncate(f, 8192);
    char *pv = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
    memset(pv, 9, 8192);
    ftruncate(f, 4096);
    ftruncate(f, 8192);
    printf("private copy after truncation: %d %d\n", pv[0], pv[4096]);
    printf("done\n");
    return 0;
}
