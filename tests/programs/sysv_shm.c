// System V shared memory between a program and its forked children: one segment written by
// one and read by the other (ordered by a SysV semaphore and by a futex in the segment), the
// IPC_STAT fields as attachments come and go (sizes, counts, and pids relative to the
// program's own), SHM_RDONLY and shmdt faults, IPC_RMID with attachments still in use, the
// shmget and shmat errors. Prints only what is the same on every run (no ids, addresses or
// times). Everything it makes it removes. `sysv_shm rdonly`: writes a read-only attachment and
// dies of it. `sysv_shm stat ID`: what the exec'd child sees of segment ID.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY 0x4d564d10

static const char *e(long r) {
    return r < 0 ? strerror(errno) : "ok";
}

static struct shmid_ds st(int id) {
    struct shmid_ds d;
    memset(&d, 0, sizeof d);
    if (shmctl(id, IPC_STAT, &d) < 0)
        printf("IPC_STAT: %s\n", strerror(errno));
    return d;
}

// Who `p` is: the caller, `other` (its child, or its parent), nobody, or someone else.
static const char *who(pid_t p, pid_t me, pid_t other) {
    if (p == 0)
        return "none";
    if (p == me)
        return "me";
    if (p == other)
        return "other";
    return "someone else";
}

static void show(const char *when, int id, pid_t child) {
    struct shmid_ds d = st(id);
    printf("%s: segsz %zu nattch %lu cpid %s lpid %s mode %o\n", when, d.shm_segsz,
           (unsigned long)d.shm_nattch, who(d.shm_cpid, getpid(), child),
           who(d.shm_lpid, getpid(), child), d.shm_perm.mode);
}

static int op(int id, int num, int delta) {
    struct sembuf b = {.sem_num = num, .sem_op = delta, .sem_flg = 0};
    return semop(id, &b, 1);
}

static long futex(uint32_t *w, int op, uint32_t val) {
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

// Runs `f` in a child; what ended it.
static void in_child(const char *what, void (*f)(void *), void *arg) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        f(arg);
        _exit(0);
    }
    int status;
    waitpid(c, &status, 0);
    if (WIFSIGNALED(status))
        printf("%s: signal %d\n", what, WTERMSIG(status));
    else
        printf("%s: exit %d\n", what, WEXITSTATUS(status));
}

static void write_byte(void *p) {
    *(volatile char *)p = 'x';
}

static void read_byte(void *p) {
    printf("child reads '%c'\n", *(volatile char *)p);
    fflush(stdout);
}

static int rdonly_id;

static void rdonly_write(void *unused) {
    (void)unused;
    char *r = shmat(rdonly_id, NULL, SHM_RDONLY);
    printf("rdonly attach: %s, reads '%c'\n", e(r == (void *)-1 ? -1 : 0), r[0]);
    fflush(stdout);
    r[0] = 'y';
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "rdonly") == 0) {
        int ro = shmget(IPC_PRIVATE, 4096, 0600);
        volatile char *r = shmat(ro, NULL, SHM_RDONLY);
        // Removed now, so that it goes with the program.
        shmctl(ro, IPC_RMID, NULL);
        printf("rdonly attach reads %d\n", r[0]);
        r[0] = 1;
        printf("written\n");
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "stat") == 0) {
        // Exec'd by a child that had the segment attached twice: none of it is left.
        struct shmid_ds d = st(atoi(argv[2]));
        printf("after exec: nattch %lu lpid %s\n", (unsigned long)d.shm_nattch,
               who(d.shm_lpid, getpid(), getppid()));
        return 0;
    }
    long page = sysconf(_SC_PAGESIZE);

    // Errors of shmget.
    printf("size 0: %s\n", e(shmget(IPC_PRIVATE, 0, 0600)));
    printf("missing key: %s\n", e(shmget(KEY, 4096, 0600)));
    int id = shmget(KEY, 10000, IPC_CREAT | IPC_EXCL | 0600);
    printf("create: %s\n", e(id));
    printf("again excl: %s\n", e(shmget(KEY, 4096, IPC_CREAT | IPC_EXCL | 0600)));
    printf("again: %s\n", shmget(KEY, 4096, 0600) == id ? "same id" : strerror(errno));
    printf("again larger: %s\n", e(shmget(KEY, 20000, 0600)));
    show("created", id, 0);

    // Two attachments of one segment show the same memory.
    char *p = shmat(id, NULL, 0);
    printf("attach: %s\n", e(p == (void *)-1 ? -1 : 0));
    show("attached", id, 0);
    char *q = shmat(id, NULL, 0);
    printf("second attach: %s, elsewhere %d\n", e(q == (void *)-1 ? -1 : 0), p != q);
    strcpy(p, "through p");
    printf("q reads '%s'\n", q);
    printf("past the size, in the last page: '%c'\n", p[10000] ? '?' : '0');
    show("two attached", id, 0);

    // A forked child attaches both too; the two write to each other through the segment.
    int sem = semget(IPC_PRIVATE, 2, 0600);
    uint32_t *word = (uint32_t *)(p + 4096);
    *word = 0;
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        show("child after fork", id, getppid());
        // Waits for the parent's word through a futex in the segment.
        while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0)
            futex(word, FUTEX_WAIT, 0);
        printf("child sees '%s'\n", q);
        strcpy(p, "from the child");
        op(sem, 0, 1);
        // Waits for the parent to have read it.
        op(sem, 1, -1);
        _exit(0);
    }
    strcpy(q, "from the parent");
    __atomic_store_n(word, 1, __ATOMIC_RELEASE);
    futex(word, FUTEX_WAKE, 1);
    op(sem, 0, -1);
    printf("parent sees '%s'\n", q);
    show("with the child", id, c);
    op(sem, 1, 1);
    waitpid(c, NULL, 0);
    show("child gone", id, c);
    // Exec detaches: the exec'd child sees only its parent's two attachments, and itself as
    // the last to detach.
    fflush(stdout);
    c = fork();
    if (c == 0) {
        char ids[16];
        snprintf(ids, sizeof ids, "%d", id);
        execl("/proc/self/exe", "sysv_shm", "stat", ids, (char *)NULL);
        _exit(127);
    }
    waitpid(c, NULL, 0);
    semctl(sem, 0, IPC_RMID);

    // A mapping split in two counts as two attachments, as Linux counts them.
    printf("mprotect: %s\n", e(mprotect(q, page, PROT_READ)));
    show("split", id, 0);

    // shmdt.
    printf("shmdt q: %s\n", e(shmdt(q)));
    show("one detached", id, 0);
    printf("shmdt q again: %s\n", e(shmdt(q)));
    printf("shmdt unaligned: %s\n", e(shmdt(p + 1)));
    printf("shmdt not shm: %s\n", e(shmdt(&page)));
    in_child("write after shmdt", write_byte, q);
    in_child("read attached", read_byte, p);

    // SHM_RDONLY: reads work, a write faults.
    rdonly_id = id;
    in_child("rdonly write", rdonly_write, NULL);

    // Addresses: misaligned (EINVAL, or rounded down with SHM_RND), over a mapping (EINVAL,
    // or replacing it with SHM_REMAP).
    char *hole = mmap(NULL, 4 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("over a mapping: %s\n", e(shmat(id, hole, 0) == (void *)-1 ? -1 : 0));
    char *r = shmat(id, hole, SHM_REMAP);
    printf("remap: %s at the hole %d, reads '%s'\n", e(r == (void *)-1 ? -1 : 0), r == hole, r);
    shmdt(r);
    munmap(hole, 4 * page);
    printf("misaligned: %s\n", e(shmat(id, hole + 100, 0) == (void *)-1 ? -1 : 0));
    r = shmat(id, hole + 100, SHM_RND);
    printf("SHM_RND: %s, rounded %d\n", e(r == (void *)-1 ? -1 : 0), r == hole);
    shmdt(r);
    printf("remap without address: %s\n", e(shmat(id, NULL, SHM_REMAP) == (void *)-1 ? -1 : 0));
    printf("bad id: %s\n", e(shmat(-1, NULL, 0) == (void *)-1 ? -1 : 0));

    // IPC_SET, SHM_LOCK, limits.
    struct shmid_ds d = st(id);
    d.shm_perm.mode = 0640;
    printf("IPC_SET: %s\n", e(shmctl(id, IPC_SET, &d)));
    printf("SHM_LOCK: %s\n", e(shmctl(id, SHM_LOCK, NULL)));
    show("locked", id, 0);
    printf("SHM_UNLOCK: %s\n", e(shmctl(id, SHM_UNLOCK, NULL)));
    struct shminfo info;
    memset(&info, 0, sizeof info);
    int r_info = shmctl(0, IPC_INFO, (void *)&info);
    printf("IPC_INFO: %s shmmni %lu shmmin %lu\n", e(r_info), info.shmmni, info.shmmin);
    printf("bad cmd: %s\n", e(shmctl(id, 99, &d)));
    const char *files[] = {"/proc/sys/kernel/shmmax", "/proc/sys/kernel/shmall",
                           "/proc/sys/kernel/shmmni"};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(files[i], "r");
        char line[64] = "";
        if (f) {
            if (!fgets(line, sizeof line, f))
                line[0] = 0;
            fclose(f);
        }
        printf("%s: %s", files[i], line);
    }

    // IPC_RMID while attached: the memory stays usable, the key is free at once, the segment
    // goes with its last attachment.
    printf("IPC_RMID: %s\n", e(shmctl(id, IPC_RMID, NULL)));
    strcpy(p, "after removal");
    printf("still reads '%s'\n", p);
    show("removed", id, 0);
    printf("key after removal: %s\n", e(shmget(KEY, 4096, 0600)));
    int id2 = shmget(KEY, 4096, IPC_CREAT | IPC_EXCL | 0600);
    printf("key reused: %s, new id %d\n", e(id2), id2 != id);
    in_child("child of removed", read_byte, p);
    printf("last shmdt: %s\n", e(shmdt(p)));
    printf("stat after: %s\n", e(shmctl(id, IPC_STAT, &d)));
    printf("rmid unattached: %s\n", e(shmctl(id2, IPC_RMID, NULL)));
    printf("gone: %s\n", e(shmget(KEY, 0, 0)));

    // IPC_PRIVATE: a new segment each time, zero-filled.
    int a = shmget(IPC_PRIVATE, 8192, 0600), b = shmget(IPC_PRIVATE, 8192, 0600);
    printf("private: %s %s, distinct %d\n", e(a), e(b), a != b);
    char *pa = shmat(a, NULL, 0);
    int zero = 1;
    for (int i = 0; i < 8192; i++)
        zero &= pa[i] == 0;
    printf("private zeroed %d\n", zero);
    shmctl(a, IPC_RMID, NULL);
    shmctl(b, IPC_RMID, NULL);
    shmdt(pa);
    printf("done\n");
    return 0;
}
