// What System V shared memory costs a run (under mvm only, with --memory 64m): a segment's
// pages count against the run's memory from shmget, a removed segment's until its last
// detach, and cycles of make, attach, touch, detach, remove hold no more than one segment's.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#define MIB (1024 * 1024)

static const char *e(long r) {
    return r < 0 ? strerror(errno) : "ok";
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int a = shmget(IPC_PRIVATE, 40 * MIB, 0600);
    printf("first 40 MiB: %s\n", e(a));
    printf("second 40 MiB: %s\n", e(shmget(IPC_PRIVATE, 40 * MIB, 0600)));
    char *p = shmat(a, NULL, 0);
    for (long i = 0; i < 40 * MIB; i += 4096)
        p[i] = 1;
    printf("removed while attached: %s\n", e(shmctl(a, IPC_RMID, NULL)));
    printf("second 40 MiB: %s\n", e(shmget(IPC_PRIVATE, 40 * MIB, 0600)));
    shmdt(p);
    int b = shmget(IPC_PRIVATE, 40 * MIB, 0600);
    printf("after the last detach: %s\n", e(b));
    shmctl(b, IPC_RMID, NULL);
    int cycles = 0;
    for (; cycles < 50; cycles++) {
        int id = shmget(IPC_PRIVATE, 8 * MIB, 0600);
        if (id < 0)
            break;
        char *q = shmat(id, NULL, 0);
        if (q == (void *)-1)
            break;
        for (long i = 0; i < 8 * MIB; i += 4096)
            q[i] = 1;
        shmdt(q);
        shmctl(id, IPC_RMID, NULL);
    }
    printf("cycles of 8 MiB: %d, %s\n", cycles, cycles == 50 ? "ok" : strerror(errno));
    printf("done\n");
    return 0;
}
