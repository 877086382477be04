// What one run may hold of mvm's own memory in SysV objects (run under mvm only: Linux's
// limits are larger and charged to the kernel): semaphores up to the SEMMNS that
// /proc/sys/kernel/sem shows, then ENOSPC; messages in all queues together up to mvm's budget,
// then a queue with room is full (EAGAIN), until a queue is removed. The loops are bounded, so
// a missing limit shows as wrong counts, not as a host out of memory.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

static int ids[6000];

int main(void) {
    long semmsl, semmns, semopm, semmni;
    FILE *f = fopen("/proc/sys/kernel/sem", "r");
    if (!f || fscanf(f, "%ld %ld %ld %ld", &semmsl, &semmns, &semopm, &semmni) != 4)
        return 2;
    fclose(f);
    int sets = 0, err = 0;
    for (; sets < 40; sets++) {
        ids[sets] = semget(IPC_PRIVATE, 32000, IPC_CREAT | 0600);
        if (ids[sets] < 0) {
            err = errno;
            break;
        }
    }
    printf("semaphore sets of 32000: %d, then %s; as /proc says: %d\n", sets, strerror(err),
           sets == semmns / 32000);
    for (int i = 0; i < sets; i++)
        semctl(ids[i], 0, IPC_RMID);

    static struct {
        long mtype;
        char text[8192];
    } m = {.mtype = 1};
    long sent = 0;
    int queues = 0;
    err = 0;
    for (; queues < 6000 && !err; queues++) {
        ids[queues] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        for (int j = 0; j < 2; j++) {
            if (msgsnd(ids[queues], &m, sizeof m.text, IPC_NOWAIT) < 0) {
                err = errno;
                break;
            }
            sent++;
        }
    }
    printf("messages of 8192 bytes: %ld in %d queues, then %s\n", sent, queues, strerror(err));
    struct msqid_ds ds;
    msgctl(ids[queues - 1], IPC_STAT, &ds);
    printf("that queue holds %lu of %lu bytes\n", (unsigned long)ds.msg_cbytes,
           (unsigned long)ds.msg_qbytes);
    msgctl(ids[0], IPC_RMID, NULL);
    printf("after one queue goes: %s\n",
           msgsnd(ids[queues - 1], &m, sizeof m.text, IPC_NOWAIT) < 0 ? strerror(errno) : "ok");
    for (int i = 1; i < queues; i++)
        msgctl(ids[i], IPC_RMID, NULL);
    printf("done\n");
    return 0;
}
