// System V message queues: types (0, >0, <0, MSG_EXCEPT), MSG_NOERROR and E2BIG, IPC_NOWAIT,
// the limits, msgctl, messages between a program and its forked child (a blocked msgrcv woken
// by the other), and removal waking a waiter (EIDRM). Prints only what is the same on every
// run (no ids, pids or times).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg {
    long mtype;
    char text[9000];
};

static const char *e(long r) {
    return r < 0 ? strerror(errno) : "ok";
}

static long snd(int id, long type, const char *text, int flags) {
    struct msg m;
    m.mtype = type;
    strcpy(m.text, text);
    return msgsnd(id, &m, strlen(text) + 1, flags);
}

// Receives a message and prints it (or the error).
static void rcv(int id, const char *what, size_t size, long type, int flags) {
    struct msg m;
    memset(&m, 0, sizeof m);
    long n = msgrcv(id, &m, size, type, flags);
    if (n < 0)
        printf("%s: %s\n", what, strerror(errno));
    else
        printf("%s: type %ld len %ld '%.*s'\n", what, m.mtype, n, (int)n, m.text);
}

static int reap(pid_t pid) {
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void read_file(const char *path) {
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("%s: %s\n", path, strerror(errno));
        return;
    }
    if (!fgets(buf, sizeof buf, f))
        buf[0] = 0;
    fclose(f);
    printf("%s: %s", path, buf);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    read_file("/proc/sys/kernel/msgmax");
    read_file("/proc/sys/kernel/msgmnb");
    read_file("/proc/sys/kernel/msgmni");

    int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    printf("msgget: %s\n", e(id));
    key_t key = 0x4d570000 + (getpid() & 0xffff);
    int kid = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    printf("msgget key: %s\n", e(kid));
    printf("again excl: %s\n", e(msgget(key, IPC_CREAT | IPC_EXCL | 0600)));
    printf("same: %d\n", msgget(key, 0) == kid);
    printf("missing: %s\n", e(msgget(key + 1, 0)));

    snd(id, 3, "three", 0);
    snd(id, 1, "one-a", 0);
    snd(id, 2, "two", 0);
    snd(id, 1, "one-b", 0);
    snd(id, 4, "a longer message", 0);
    struct msqid_ds ds;
    long r = msgctl(id, IPC_STAT, &ds);
    printf("IPC_STAT: %s qnum %lu cbytes %lu qbytes %lu mode %o\n", e(r),
           (unsigned long)ds.msg_qnum, (unsigned long)ds.msg_cbytes,
           (unsigned long)ds.msg_qbytes, ds.msg_perm.mode & 0777);
    rcv(id, "type 2", 100, 2, 0);
    rcv(id, "type -2", 100, -2, 0);
    rcv(id, "except 1", 100, 1, MSG_EXCEPT);
    rcv(id, "too small", 4, 4, 0);
    rcv(id, "noerror", 4, 4, MSG_NOERROR);
    rcv(id, "type 0", 100, 0, 0);
    rcv(id, "empty nowait", 100, 0, IPC_NOWAIT);
    rcv(id, "type 9 nowait", 100, 9, IPC_NOWAIT);

    printf("type 0: %s\n", e(snd(id, 0, "x", 0)));
    struct msg big = {.mtype = 1};
    printf("8193 bytes: %s\n", e(msgsnd(id, &big, 8193, 0)));
    printf("8192 bytes: %s\n", e(msgsnd(id, &big, 8192, 0)));
    printf("8192 bytes: %s\n", e(msgsnd(id, &big, 8192, 0)));
    printf("full nowait: %s\n", e(msgsnd(id, &big, 1, IPC_NOWAIT)));
    rcv(id, "drain", 1, 0, MSG_NOERROR);
    rcv(id, "drain", 1, 0, MSG_NOERROR);

    // Between two programs: the child waits for type 7, answers with type 9.
    pid_t pid = fork();
    if (pid == 0) {
        rcv(id, "child got", 100, 7, 0);
        snd(id, 9, "pong", 0);
        _exit(0);
    }
    usleep(100 * 1000);
    snd(id, 5, "not for the child", 0);
    snd(id, 7, "ping", 0);
    rcv(id, "parent got", 100, 9, 0);
    printf("child: %d\n", reap(pid));
    rcv(id, "left", 100, 0, IPC_NOWAIT);

    // A sender blocked on a full queue is woken by a receiver in another program.
    msgsnd(id, &big, 8192, 0);
    msgsnd(id, &big, 8192, 0);
    pid = fork();
    if (pid == 0) {
        // Its result in its status: a print now would race the parent's.
        _exit(msgsnd(id, &big, 100, 0) == 0 ? 0 : 1);
    }
    usleep(100 * 1000);
    rcv(id, "parent drains", 1, 0, MSG_NOERROR);
    printf("child: %d\n", reap(pid));
    msgctl(id, IPC_STAT, &ds);
    printf("qnum %lu\n", (unsigned long)ds.msg_qnum);

    // Removal wakes a blocked receiver.
    pid = fork();
    if (pid == 0) {
        rcv(kid, "child waits", 100, 0, 0);
        _exit(0);
    }
    usleep(100 * 1000);
    r = msgctl(kid, IPC_RMID, NULL);
    printf("child: %d\n", reap(pid));
    printf("IPC_RMID: %s\n", e(r));
    printf("again: %s\n", e(msgctl(kid, IPC_RMID, NULL)));

    // Another user may not read a 0600 queue, nor remove it.
    pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(9);
        rcv(id, "other user", 100, 0, IPC_NOWAIT);
        printf("other user IPC_RMID: %s\n", e(msgctl(id, IPC_RMID, NULL)));
        _exit(0);
    }
    printf("child: %d\n", reap(pid));
    msgctl(id, IPC_RMID, NULL);
    printf("done\n");
    return 0;
}
