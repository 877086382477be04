// System V semaphores between a program and its forked children: a wait woken by another
// program, SEM_UNDO at exit, IPC_NOWAIT, a timed wait, removal waking a waiter (EIDRM), a
// signal interrupting a wait (EINTR, not restarted even with SA_RESTART), the semctl commands
// and permissions. Prints only what is the same on every run (no ids, pids or times).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

static const char *e(int r) {
    return r < 0 ? strerror(errno) : "ok";
}

static int op(int id, int num, int delta, int flags) {
    struct sembuf b = {.sem_num = num, .sem_op = delta, .sem_flg = flags};
    return semop(id, &b, 1);
}

// Waits (up to ~5 s) until `n` programs wait on semaphore `num` for it to grow.
static int await_ncnt(int id, int num, int n) {
    for (int i = 0; i < 5000; i++) {
        if (semctl(id, num, GETNCNT) == n)
            return 1;
        usleep(1000);
    }
    return 0;
}

static int thread_sem;

// Waits on the semaphore while the program's other thread goes on and posts it.
static void *waiter(void *arg) {
    (void)arg;
    return (void *)(long)op(thread_sem, 0, -1, 0);
}

static void on_usr1(int sig) {
    (void)sig;
}

static int reap(pid_t pid) {
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    printf("semget private: %s\n", e(id));

    // Keys: IPC_CREAT|IPC_EXCL, then again, then a missing key.
    key_t key = 0x4d560000 + (getpid() & 0xffff);
    int kid = semget(key, 3, IPC_CREAT | IPC_EXCL | 0640);
    printf("semget key excl: %s\n", e(kid));
    printf("semget key excl again: %s\n", e(semget(key, 3, IPC_CREAT | IPC_EXCL | 0640)));
    printf("semget key same id: %d\n", semget(key, 2, 0) == kid);
    printf("semget key more sems: %s\n", e(semget(key, 4, 0)));
    printf("semget missing key: %s\n", e(semget(key + 1, 1, 0)));
    printf("semget zero sems: %s\n", e(semget(IPC_PRIVATE, 0, IPC_CREAT | 0600)));

    struct semid_ds ds;
    union semun arg = {.buf = &ds};
    // (Each call before the printf that shows its results: argument order is unspecified.)
    const char *r0 = e(semctl(kid, 0, IPC_STAT, arg));
    printf("IPC_STAT: %s nsems %lu mode %o owner %d\n", r0, (unsigned long)ds.sem_nsems,
           ds.sem_perm.mode & 0777, ds.sem_perm.uid == getuid());
    ds.sem_perm.mode = 0600;
    printf("IPC_SET: %s\n", e(semctl(kid, 0, IPC_SET, arg)));
    semctl(kid, 0, IPC_STAT, arg);
    printf("mode now %o\n", ds.sem_perm.mode & 0777);
    unsigned short all[3] = {4, 5, 6}, back[3] = {0};
    arg.array = all;
    printf("SETALL: %s\n", e(semctl(kid, 0, SETALL, arg)));
    arg.array = back;
    r0 = e(semctl(kid, 0, GETALL, arg));
    printf("GETALL: %s %u %u %u\n", r0, back[0], back[1], back[2]);
    printf("GETVAL 2: %d\n", semctl(kid, 2, GETVAL));
    printf("GETVAL bad num: %s\n", e(semctl(kid, 3, GETVAL)));
    arg.val = 40000;
    printf("SETVAL too big: %s\n", e(semctl(kid, 0, SETVAL, arg)));
    struct seminfo si;
    arg.__buf = &si;
    int info = semctl(kid, 0, IPC_INFO, arg) >= 0;
    printf("IPC_INFO: %d semmsl %d semopm %d semvmx %d\n", info, si.semmsl, si.semopm,
           si.semvmx);

    // Permissions: another user may not operate on or remove a 0600 set.
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(9);
        printf("other user semop: %s\n", e(op(kid, 0, 1, 0)));
        printf("other user GETVAL: %s\n", e(semctl(kid, 0, GETVAL)));
        printf("other user IPC_RMID: %s\n", e(semctl(kid, 0, IPC_RMID)));
        _exit(0);
    }
    printf("child: %d\n", reap(pid));
    printf("IPC_RMID key: %s\n", e(semctl(kid, 0, IPC_RMID)));
    printf("after IPC_RMID: %s\n", e(semctl(kid, 0, GETVAL)));

    // IPC_NOWAIT and a timed wait on a zero semaphore.
    printf("nowait: %s\n", e(op(id, 0, -1, IPC_NOWAIT)));
    struct sembuf b = {.sem_num = 0, .sem_op = -1, .sem_flg = 0};
    struct timespec t = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000}, t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = semtimedop(id, &b, 1, &t);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("semtimedop: %s after >=50ms %d\n", e(r), ms >= 49);
    printf("wait for zero on zero: %s\n", e(op(id, 0, 0, 0)));
    printf("no ops: %s\n", e(semop(id, &b, 0)));
    printf("bad sem_num: %s\n", e(op(id, 7, 1, 0)));

    // A wait woken by another program.
    pid = fork();
    if (pid == 0) {
        printf("child: parent waits %d\n", await_ncnt(id, 0, 1));
        // Its result in its status: a print now would race the parent's.
        _exit(op(id, 0, 1, 0) == 0 ? 0 : 1);
    }
    printf("parent: wait %s\n", e(op(id, 0, -1, 0)));
    printf("child: %d\n", reap(pid));
    printf("GETPID is the last to operate: %d\n", semctl(id, 0, GETPID) == getpid());

    // A thread of the same program waits; the other goes on and wakes it.
    thread_sem = id;
    pthread_t th;
    pthread_create(&th, NULL, waiter, NULL);
    printf("thread waits: %d\n", await_ncnt(id, 0, 1));
    printf("main posts: %s\n", e(op(id, 0, 1, 0)));
    void *tr;
    pthread_join(th, &tr);
    printf("thread woken: %ld\n", (long)tr);

    // Two operations at once: all or nothing.
    struct sembuf two[2] = {{0, 1, 0}, {1, -1, IPC_NOWAIT}};
    r0 = e(semop(id, two, 2));
    printf("atomic pair: %s, sem0 %d\n", r0, semctl(id, 0, GETVAL));

    // SEM_UNDO: the child's changes are undone when it exits.
    arg.val = 5;
    semctl(id, 1, SETVAL, arg);
    pid = fork();
    if (pid == 0) {
        op(id, 1, -2, SEM_UNDO);
        op(id, 1, 3, SEM_UNDO);
        op(id, 1, -1, 0);
        printf("child: sem1 %d\n", semctl(id, 1, GETVAL));
        _exit(0);
    }
    reap(pid);
    printf("after undo: sem1 %d\n", semctl(id, 1, GETVAL));

    // Removal wakes a waiter with EIDRM.
    pid = fork();
    if (pid == 0) {
        int r = op(id, 0, -1, 0);
        printf("child: wait %s\n", e(r));
        _exit(r < 0 && errno == EIDRM ? 0 : 1);
    }
    printf("parent: child waits %d\n", await_ncnt(id, 0, 1));
    r0 = e(semctl(id, 0, IPC_RMID));
    printf("child: %d\n", reap(pid));
    printf("parent: IPC_RMID %s\n", r0);

    // A handler interrupts a wait: EINTR, even with SA_RESTART.
    id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_usr1;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGUSR1, &sa, NULL);
        printf("child: ready\n");
        int r = op(id, 0, -1, 0);
        printf("child: wait %s\n", e(r));
        _exit(0);
    }
    await_ncnt(id, 0, 1);
    kill(pid, SIGUSR1);
    printf("child: %d\n", reap(pid));
    printf("waiters left: %d\n", semctl(id, 0, GETNCNT));
    semctl(id, 0, IPC_RMID);
    printf("done\n");
    return 0;
}
