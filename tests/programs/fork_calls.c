/* fork, vfork, posix_spawn, wait4 and signals between programs: one line per check, the same
 * natively and under mvm (where each child is a micro-VM of its own). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *describe(int st)
{
    static char buf[64];
    if (WIFEXITED(st))
        snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, sizeof buf, "killed by %s", sigabbrev_np(WTERMSIG(st)));
    else
        snprintf(buf, sizeof buf, "status %#x", st);
    return buf;
}

static volatile sig_atomic_t chld_seen;
static void on_chld(int sig) { (void)sig; chld_seen++; }

static void *thread_body(void *arg) { return (char *)arg + 1; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int st;
    pid_t me = getpid();

    /* exit status */
    pid_t c = fork();
    if (c == 0)
        _exit(3);
    printf("fork returned a pid != the parent's: %d\n", c > 0 && c != me);
    int same = waitpid(c, &st, 0) == c;
    printf("waitpid: same pid %d, %s\n", same, describe(st));

    /* death by signal */
    c = fork();
    if (c == 0) {
        raise(SIGTERM);
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("child raising SIGTERM: %s\n", describe(st));

    /* ids */
    int p[2];
    pipe(p);
    c = fork();
    if (c == 0) {
        char msg[64];
        int n = snprintf(msg, sizeof msg, "%d %d", getppid() == me, getpid() != me);
        write(p[1], msg, n);
        _exit(0);
    }
    close(p[1]);
    char buf[64] = {0};
    read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    waitpid(c, &st, 0);
    printf("child: getppid is the parent %c, getpid differs %c\n", buf[0], buf[2]);

    /* memory is copied */
    static int x = 1;
    c = fork();
    if (c == 0) {
        x = 2;
        _exit(x);
    }
    waitpid(c, &st, 0);
    printf("child changed its copy: %s; parent's x %d\n", describe(st), x);

    /* WNOHANG, kill, SIGKILL */
    int go[2];
    pipe(go);
    c = fork();
    if (c == 0) {
        close(go[1]);
        read(go[0], buf, 1); /* blocks: the parent never writes */
        _exit(0);
    }
    printf("WNOHANG on a running child: %d\n", waitpid(c, &st, WNOHANG));
    printf("kill(child, 0): %d\n", kill(c, 0));
    kill(c, SIGKILL);
    waitpid(c, &st, 0);
    printf("after SIGKILL: %s\n", describe(st));
    int k = kill(c, 0);
    printf("kill(reaped child, 0): %d %s\n", k, strerrorname_np(errno));
    close(go[0]);
    close(go[1]);

    /* SIGCHLD */
    signal(SIGCHLD, on_chld);
    c = fork();
    if (c == 0)
        _exit(0);
    waitpid(c, &st, 0);
    printf("SIGCHLD handler ran: %d\n", chld_seen > 0);
    signal(SIGCHLD, SIG_DFL);

    /* no children */
    errno = 0;
    int w = waitpid(-1, &st, 0);
    printf("waitpid with no children: %d %s\n", w, strerrorname_np(errno));

    /* a shared file offset */
    char path[] = "/tmp/fork_calls_XXXXXX";
    int fd = mkstemp(path);
    c = fork();
    if (c == 0) {
        write(fd, "child", 5);
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("offset after the child's write: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    close(fd);
    unlink(path);

    /* fork from a threaded program: the child has one thread, and can start more */
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, thread_body, (void *)41);
    c = fork();
    if (c == 0) {
        pthread_t t2;
        void *r2;
        pthread_create(&t2, NULL, thread_body, (void *)6);
        pthread_join(t2, &r2);
        _exit((int)(long)r2);
    }
    pthread_join(t, &r);
    waitpid(c, &st, 0);
    printf("threaded parent %ld, child's own thread: %s\n", (long)r, describe(st));

    /* exec in the child; a missing program */
    c = fork();
    if (c == 0) {
        execl("/bin/busybox", "busybox", "echo", "exec'd in the child", (char *)NULL);
        _exit(126);
    }
    waitpid(c, &st, 0);
    printf("exec in the child: %s\n", describe(st));
    c = fork();
    if (c == 0) {
        execl("/nonexistent/prog", "prog", (char *)NULL);
        _exit(errno == ENOENT ? 127 : 126);
    }
    waitpid(c, &st, 0);
    printf("exec of a missing program: %s\n", describe(st));

    /* waitid */
    c = fork();
    if (c == 0)
        _exit(11);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int wr = waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    printf("waitid WNOWAIT: %d, signo %s code %d status %d, right pid %d\n", wr,
           sigabbrev_np(si.si_signo), si.si_code, si.si_status, si.si_pid == c);
    memset(&si, 0, sizeof si);
    wr = waitid(P_ALL, 0, &si, WEXITED);
    printf("waitid again reaps it: %d, right pid %d, status %d\n", wr, si.si_pid == c, si.si_status);
    memset(&si, 0xff, sizeof si);
    c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    wr = waitid(P_PID, c, &si, WEXITED | WNOHANG);
    printf("waitid WNOHANG, child running: %d, si_pid %d\n", wr, si.si_pid);
    kill(c, SIGUSR1);
    wr = waitid(P_PID, c, &si, WEXITED);
    printf("waitid after SIGUSR1: %d, code %d (CLD_KILLED %d), status %s\n", wr, si.si_code, CLD_KILLED,
           sigabbrev_np(si.si_status));
    errno = 0;
    wr = waitid(P_PID, c, &si, WEXITED);
    printf("waitid, reaped: %d %s\n", wr, strerrorname_np(errno));
    errno = 0;
    wr = wait4(-1, &st, WNOWAIT, NULL);
    printf("wait4 with WNOWAIT: %d %s\n", wr, strerrorname_np(errno));

    /* vfork: the child shares the parent's memory until it execs or exits */
    static volatile int written_by_child;
    volatile int on_stack = 0;
    c = vfork();
    if (c == 0) {
        written_by_child = 7;
        on_stack = 8;
        _exit(9);
    }
    waitpid(c, &st, 0);
    printf("vfork: %s; the child's writes seen: %d %d\n", describe(st), written_by_child,
           on_stack);

    /* posix_spawn (clone with CLONE_VM|CLONE_VFORK) */
    char *argv[] = {"busybox", "sh", "-c", "echo spawned; exit 4", NULL};
    int e = posix_spawn(&c, "/bin/busybox", NULL, NULL, argv, environ);
    waitpid(c, &st, 0);
    printf("posix_spawn: %d, %s\n", e, describe(st));
    /* ... which reports a failed exec through the memory it shares with the child */
    char *missing[] = {"nothing-here", NULL};
    e = posix_spawn(&c, "/nonexistent/nothing-here", NULL, NULL, missing, environ);
    printf("posix_spawn of a missing program: %s\n", e ? strerrorname_np(e) : "0");
    if (e == 0)
        waitpid(c, &st, 0);

    /* grandchildren */
    c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0)
            _exit(5);
        int gs;
        waitpid(g, &gs, 0);
        _exit(WEXITSTATUS(gs) + 1);
    }
    waitpid(c, &st, 0);
    printf("grandchild's status plus one: %s\n", describe(st));

    /* many children at once */
    pid_t kids[16];
    for (int i = 0; i < 16; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            _exit(i);
    }
    int sum = 0;
    for (int i = 0; i < 16; i++) {
        waitpid(kids[i], &st, 0);
        sum += WEXITSTATUS(st);
    }
    printf("16 children, statuses sum to %d\n", sum);
    printf("done\n");
    return 0;
}
