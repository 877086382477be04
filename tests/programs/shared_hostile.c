/* Shared memory used the way a fuzzer (trinity) uses it: syscalls that write into MAP_SHARED
 * pages from a forked child, several shared regions first touched by different programs after
 * fork, a shared page far into a mapping, pointers into a file mapping whose file was truncated,
 * and touching a shared file mapping past the file's end (SIGBUS).
 * argv[1]: a writable directory. One line per check, "done" at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile int bus_code;

static void on_bus(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    bus_code = si->si_code;
    siglongjmp(back, 1);
}

static void die(const char *what)
{
    printf("FAIL: %s: %s\n", what, strerrorname_np(errno));
    exit(1);
}

static char *shared_file(const char *dir, const char *name, size_t len, int *fdp)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, len) < 0)
        die("file");
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap");
    if (fdp)
        *fdp = fd;
    else
        close(fd);
    return p;
}

static void wait_child(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        printf("child ended badly: %#x\n", st);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* 1. A syscall writes into shared anonymous memory, in a forked child. */
    unsigned *ids = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ids == MAP_FAILED)
        die("mmap shared anon");
    pid_t pid = fork();
    if (pid == 0) {
        if (getresuid(ids, ids + 1, ids + 2) != 0)
            die("getresuid");
        _exit(0);
    }
    wait_child(pid);
    printf("getresuid into shared memory in a child: %u %u %u\n", ids[0] == getuid(),
           ids[1] == geteuid(), ids[2] == getuid());

    /* 2. Two shared regions mapped before fork, each first touched by another program. */
    char *x = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *y = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (x == MAP_FAILED || y == MAP_FAILED)
        die("mmap x y");
    pid = fork();
    if (pid == 0) {
        strcpy(y, "written to Y by the child");
        _exit(0);
    }
    wait_child(pid);
    strcpy(x, "written to X by the parent");
    printf("X: %s\nY: %s\n", x, y);

    /* 3. The same with two files: a write through B's mapping stays in file B. */
    int fda, fdb;
    char *a = shared_file(dir, "a.bin", 4096, &fda);
    char *b = shared_file(dir, "b.bin", 4096, &fdb);
    pid = fork();
    if (pid == 0) {
        strcpy(a, "AAAA");
        _exit(0);
    }
    wait_child(pid);
    strcpy(b, "BBBB");
    char fa[8] = {0}, fb[8] = {0};
    pread(fda, fa, 4, 0);
    pread(fdb, fb, 4, 0);
    printf("file a: %s, file b: %s\n", fa, fb);

    /* 4. A shared page far into a mapping, written by the child, read by the parent. */
    size_t big = 8 << 20;
    char *s = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        die("mmap big");
    pid = fork();
    if (pid == 0) {
        strcpy(s + (3 << 20) + 100, "far into the mapping");
        strcpy(s + big - 16, "at the end");
        _exit(0);
    }
    wait_child(pid);
    printf("far: %s, end: %s\n", s + (3 << 20) + 100, s + big - 16);

    /* 5. A syscall's pointer in a file mapping whose file was truncated: EFAULT. */
    int fdt;
    char *t = shared_file(dir, "t.bin", 8192, &fdt);
    strcpy(t + 4096, "second page");
    if (ftruncate(fdt, 100) < 0)
        die("ftruncate");
    int pfd[2];
    if (pipe(pfd) < 0)
        die("pipe");
    errno = 0;
    ssize_t n = write(pfd[1], t + 4096, 8);
    printf("write from past the end: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
    errno = 0;
    n = getresuid((unsigned *)(t + 4096), (unsigned *)(t + 4100), (unsigned *)(t + 4104));
    printf("getresuid into past the end: %zd %s\n", n, n < 0 ? strerrorname_np(errno) : "");
    errno = 0;
    n = write(pfd[1], t, 8);
    printf("write from before the end: %zd\n", n);

    /* 6. Touching a shared file mapping past the file's end: SIGBUS, BUS_ADRERR. */
    struct sigaction sa = {0};
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    for (int i = 0; i < 2; i++) {
        volatile char *at = i == 0 ? t + 4096 + 5 : t + 8000;
        bus_code = 0;
        if (sigsetjmp(back, 1) == 0) {
            char c = *at;
            printf("read past the end gave %d\n", c);
        } else {
            printf("read past the end: SIGBUS code %d\n", bus_code);
        }
        bus_code = 0;
        if (sigsetjmp(back, 1) == 0) {
            *at = 1;
            printf("write past the end went through\n");
        } else {
            printf("write past the end: SIGBUS code %d\n", bus_code);
        }
    }
    /* A mapping made longer than its file: the pages past the end give SIGBUS at once. */
    char *l = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fda, 0);
    if (l == MAP_FAILED)
        die("mmap longer than the file");
    printf("first page: %s\n", l);
    bus_code = 0;
    if (sigsetjmp(back, 1) == 0) {
        l[2 * 4096] = 1;
        printf("write past the end went through\n");
    } else {
        printf("write past the end of a longer mapping: SIGBUS code %d\n", bus_code);
    }
    /* The file grows again: the page is the file's once more. */
    if (ftruncate(fda, 3 * 4096) < 0)
        die("ftruncate grow");
    strcpy(l + 2 * 4096, "grown");
    char g[8] = {0};
    pread(fda, g, 5, 2 * 4096);
    printf("after growing: %s\n", g);
    printf("done\n");
    return 0;
}
