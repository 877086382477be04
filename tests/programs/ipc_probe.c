// Which IPC namespace a program is in. `ipc_probe hold`: makes a SysV message queue, semaphore
// set and shared memory segment (attached) with a fixed key and a POSIX message queue with a
// fixed name, says so, then
// blocks reading stdin (and leaves them all behind when it ends). `ipc_probe look`: tells
// whether those three exist, then makes its own with the same key and name (and leaves them
// behind too).
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#define KEY 0x4d564d01
#define NAME "/mvm-ipc-probe"

static const char *e(long r) {
    return r < 0 ? strerror(errno) : "ok";
}

static void make(const char *who) {
    printf("%s msgget: %s\n", who, e(msgget(KEY, IPC_CREAT | IPC_EXCL | 0600)));
    printf("%s semget: %s\n", who, e(semget(KEY, 1, IPC_CREAT | IPC_EXCL | 0600)));
    printf("%s mq_open: %s\n", who, e(mq_open(NAME, O_CREAT | O_EXCL | O_RDWR, 0600, NULL)));
    int shm = shmget(KEY, 65536, IPC_CREAT | IPC_EXCL | 0600);
    printf("%s shmget: %s\n", who, e(shm));
    if (shm >= 0) {
        char *p = shmat(shm, NULL, 0);
        if (p != (void *)-1)
            p[0] = 1;
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "hold") == 0) {
        make("hold");
        printf("held\n");
        char c;
        while (read(0, &c, 1) > 0) {
        }
        return 0;
    }
    printf("look msgget: %s\n", e(msgget(KEY, 0)));
    printf("look semget: %s\n", e(semget(KEY, 0, 0)));
    printf("look mq_open: %s\n", e(mq_open(NAME, O_RDONLY)));
    printf("look shmget: %s\n", e(shmget(KEY, 0, 0)));
    make("look");
    return 0;
}
