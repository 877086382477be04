/* Shared memory between programs as Linux gives it: MAP_SHARED of a file (writes reach the
 * file; read/write see the mapping's bytes and the other way round), shared anonymous memory
 * after fork, POSIX semaphores (sem_open in /dev/shm, futexes between programs), a process-shared
 * mutex in shared memory, and the errors of a shared writable mapping of a read-only file.
 * argv[1]: a writable directory. One line per check, "done" at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    printf("FAIL: %s: %s\n", what, strerrorname_np(errno));
    exit(1);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    setvbuf(stdout, NULL, _IOLBF, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/shared.bin", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, 8192) < 0)
        die("file");
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap MAP_SHARED of a file");
    strcpy(p, "written through the mapping");
    char buf[64] = {0};
    pread(fd, buf, 27, 0);
    printf("read(2) sees the mapping: %s\n", buf);
    pwrite(fd, "WRITTEN", 7, 0);
    printf("the mapping sees write(2): %.27s\n", p);
    msync(p, 8192, MS_SYNC);

    int *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *anon = 1, *priv = 1;
    pid_t c = fork();
    if (c == 0) {
        *anon = 42, *priv = 42;
        strcpy(p + 4096, "from the child");
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("after fork: shared anonymous %d, private %d, shared file \"%s\"\n", *anon, *priv,
           p + 4096);

    /* A named semaphore: the child posts three times, the parent waits three times. */
    sem_unlink("/mvm-test-sem");
    sem_t *s = sem_open("/mvm-test-sem", O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED)
        die("sem_open");
    c = fork();
    if (c == 0) {
        for (int i = 0; i < 3; i++) {
            usleep(20000);
            sem_post(s);
        }
        _exit(0);
    }
    for (int i = 0; i < 3; i++)
        sem_wait(s);
    printf("sem_wait x3: woken by the child's posts\n");
    waitpid(c, NULL, 0);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 50000000;
    if (t.tv_nsec >= 1000000000)
        t.tv_sec++, t.tv_nsec -= 1000000000;
    printf("sem_timedwait with nobody posting: %s\n",
           sem_timedwait(s, &t) < 0 ? strerrorname_np(errno) : "ok");
    printf("sem_unlink: %s\n", sem_unlink("/mvm-test-sem") == 0 ? "ok" : "failed");

    /* A process-shared mutex guarding a counter that 3 programs increment. */
    struct shared {
        pthread_mutex_t m;
        long n;
    } *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->m, &a);
    sh->n = 0;
    for (int k = 0; k < 3; k++) {
        if (fork() == 0) {
            for (int i = 0; i < 2000; i++) {
                pthread_mutex_lock(&sh->m);
                sh->n++;
                pthread_mutex_unlock(&sh->m);
            }
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    printf("pshared mutex: 3 programs x 2000 = %ld\n", sh->n);

    int ro = open(path, O_RDONLY);
    void *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
    printf("MAP_SHARED|PROT_WRITE of a read-only fd: %s\n",
           q == MAP_FAILED ? strerrorname_np(errno) : "mapped");
    q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
    printf("MAP_SHARED|PROT_READ of it: %s, sees \"%.7s\"\n", q == MAP_FAILED ? "failed" : "ok",
           (char *)q);
    munmap(p, 8192);
    close(fd);
    unlink(path);
    printf("done\n");
    return 0;
}
