/* Signals a program sends itself or gets from its own faults, one case per argv[1]; every case
 * prints what it saw, so the run under mvm can be compared with the native one. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <poll.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int depth, entries, order[8], norder;
static sigjmp_buf jb;
static volatile siginfo_t last;
static volatile void *last_fault_rip;
static char *altbase;
static size_t altsize;
static volatile int on_alt;

static void say(const char *s) { write(1, s, strlen(s)); }

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        perror("sigaction");
}

static void record(int sig, siginfo_t *si, void *uc)
{
    last = *si;
    last_fault_rip = (void *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
    char c;
    on_alt = altbase && &c >= altbase && &c < altbase + altsize;
    order[norder++ & 7] = sig;
}

static void jump_out(int sig, siginfo_t *si, void *uc)
{
    record(sig, si, uc);
    siglongjmp(jb, sig);
}

static const char *code_name(int sig, int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_KERNEL: return "SI_KERNEL";
    }
    if (sig == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR";
    if (sig == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR";
    if (sig == SIGFPE && code == FPE_INTDIV) return "FPE_INTDIV";
    if (sig == SIGILL && code == ILL_ILLOPN) return "ILL_ILLOPN";
    return "other";
}

static void show(const char *what)
{
    printf("%s: signo=%d code=%s", what, last.si_signo, code_name(last.si_signo, last.si_code));
    if (last.si_code == SI_USER || last.si_code == SI_TKILL)
        printf(" pid_is_self=%d uid_is_self=%d", last.si_pid == getpid(), last.si_uid == getuid());
    printf("\n");
    fflush(stdout);
}

static void nested(int sig, siginfo_t *si, void *uc)
{
    int me = ++depth;
    order[norder++ & 7] = me;
    if (++entries == 1)
        raise(sig);
    order[norder++ & 7] = -me;
    depth--;
    (void)si;
    (void)uc;
}

static void skip_insn(int sig, siginfo_t *si, void *ucv)
{
    /* Resume after the 6-byte `movl $1, (%rax)` with rax and rbx changed: rt_sigreturn must
     * take the handler's edits of the context. */
    ucontext_t *uc = ucv;
    uc->uc_mcontext.gregs[REG_RIP] += 6;
    uc->uc_mcontext.gregs[REG_RAX] = 42;
    uc->uc_mcontext.gregs[REG_RBX] += 1;
    record(sig, si, ucv);
}

static void print_order(const char *what)
{
    printf("%s:", what);
    for (int i = 0; i < norder; i++)
        printf(" %d", order[i]);
    printf("\n");
    norder = 0;
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static void recurse(volatile char *p)
{
    volatile char buf[1024];
    buf[0] = p ? p[0] + 1 : 0;
    recurse(buf);
}

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(c, "info")) {
        install(SIGUSR1, record, 0);
        kill(getpid(), SIGUSR1);
        show("kill");
        raise(SIGUSR1);
        show("raise");
        syscall(SYS_tkill, getpid(), SIGUSR1);
        show("tkill");
        printf("delivered: %d\n", norder);
    } else if (!strcmp(c, "mask")) {
        install(SIGUSR1, record, 0);
        install(SIGUSR2, record, 0);
        sigset_t s, old, pend;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigaddset(&s, SIGUSR2);
        sigprocmask(SIG_BLOCK, &s, &old);
        raise(SIGUSR2);
        raise(SIGUSR1);
        raise(SIGUSR1);
        sigpending(&pend);
        printf("while blocked: delivered %d, pending usr1=%d usr2=%d term=%d\n", norder,
               sigismember(&pend, SIGUSR1), sigismember(&pend, SIGUSR2),
               sigismember(&pend, SIGTERM));
        sigprocmask(SIG_SETMASK, &old, NULL);
        print_order("after unblock, delivered in order");
        sigpending(&pend);
        printf("pending usr1=%d\n", sigismember(&pend, SIGUSR1));
        /* the mask inside a handler: the signal itself and sa_mask */
        sigprocmask(SIG_BLOCK, NULL, &old);
        printf("mask restored: usr1 blocked=%d\n", sigismember(&old, SIGUSR1));
        /* ignoring a pending signal discards it */
        sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGUSR1);
        signal(SIGUSR1, SIG_IGN);
        sigpending(&pend);
        printf("ignored while pending: pending usr1=%d\n", sigismember(&pend, SIGUSR1));
    } else if (!strcmp(c, "resethand")) {
        install(SIGUSR1, record, SA_RESETHAND);
        raise(SIGUSR1);
        struct sigaction now;
        sigaction(SIGUSR1, NULL, &now);
        printf("handled %d, now SIG_DFL=%d\n", norder, now.sa_handler == SIG_DFL);
        raise(SIGUSR1); /* default action: killed */
        printf("not reached\n");
    } else if (!strcmp(c, "nodefer")) {
        install(SIGUSR1, nested, 0);
        raise(SIGUSR1);
        print_order("deferred");
        entries = 0;
        install(SIGUSR1, nested, SA_NODEFER);
        raise(SIGUSR1);
        print_order("nodefer");
    } else if (!strcmp(c, "segv")) {
        install(SIGSEGV, jump_out, 0);
        if (sigsetjmp(jb, 1) == 0) {
            volatile int *p = NULL;
            *p = 1;
        }
        show("null write");
        printf("si_addr=%p\n", last.si_addr);
        char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (sigsetjmp(jb, 1) == 0)
            *(volatile char *)(page + 100) = 1;
        show("read-only write");
        printf("si_addr is the page+100: %d\n", (char *)last.si_addr == page + 100);
        /* the mask was restored by siglongjmp(…, 1): a second fault is caught again */
        if (sigsetjmp(jb, 1) == 0)
            *(volatile char *)(page + 200) = 1;
        printf("caught again: %d\n", (char *)last.si_addr == page + 200);
        if (sigsetjmp(jb, 1) == 0)
            *(volatile char *)0x7fffdead0000 = 1;
        show("unmapped");
        printf("si_addr=%p\n", last.si_addr);
    } else if (!strcmp(c, "skip")) {
        install(SIGSEGV, skip_insn, 0);
        unsigned long rax = 0, rbx = 7;
        __asm__ volatile(".byte 0xc7, 0x00, 0x01, 0x00, 0x00, 0x00" /* movl $1, (%rax) */
                         : "+a"(rax), "+b"(rbx)::"memory");
        printf("resumed after the fault: rax=%lu rbx=%lu\n", rax, rbx);
    } else if (!strcmp(c, "sigreturn-zero")) {
        /* rt_sigreturn over a frame of zeros: rip 0 (and cs 0 natively): SIGSEGV. */
        static char zeros[4096] __attribute__((aligned(16)));
        __asm__ volatile("lea 2048(%0), %%rsp\n mov $15, %%eax\n syscall" ::"r"(zeros) : "memory");
    } else if (!strcmp(c, "fpe")) {
        install(SIGFPE, jump_out, 0);
        if (sigsetjmp(jb, 1) == 0) {
            volatile int a = 1, b = 0;
            printf("%d\n", a / b);
        }
        show("divide by zero");
        printf("si_addr is the rip: %d\n", last.si_addr == last_fault_rip);
    } else if (!strcmp(c, "ill")) {
        install(SIGILL, jump_out, 0);
        if (sigsetjmp(jb, 1) == 0)
            __builtin_trap();
        show("ud2");
        printf("si_addr is the rip: %d\n", last.si_addr == last_fault_rip);
    } else if (!strcmp(c, "altstack")) {
        altsize = 64 * 1024;
        altbase = malloc(altsize);
        stack_t ss = {.ss_sp = altbase, .ss_size = altsize, .ss_flags = 0}, old;
        sigaltstack(&ss, NULL);
        install(SIGUSR1, record, SA_ONSTACK);
        raise(SIGUSR1);
        printf("handler on the alternate stack: %d\n", on_alt);
        install(SIGUSR2, record, 0);
        raise(SIGUSR2);
        printf("without SA_ONSTACK: %d\n", on_alt);
        sigaltstack(NULL, &old);
        printf("altstack flags=%d size ok=%d\n", old.ss_flags, old.ss_size == altsize);
        install(SIGSEGV, jump_out, SA_ONSTACK);
        if (sigsetjmp(jb, 1) == 0)
            recurse(NULL);
        show("stack overflow");
        printf("caught on the alternate stack: %d\n", on_alt);
    } else if (!strcmp(c, "overflow-no-altstack")) {
        install(SIGSEGV, jump_out, 0);
        recurse(NULL); /* no room for the frame: killed by SIGSEGV */
    } else if (!strcmp(c, "suspend")) {
        install(SIGUSR1, record, 0);
        sigset_t s, empty, now;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGUSR1);
        sigemptyset(&empty);
        int r = sigsuspend(&empty);
        printf("sigsuspend=%d errno=%s delivered=%d\n", r, strerrorname_np(errno), norder);
        sigprocmask(SIG_BLOCK, NULL, &now);
        printf("mask back: usr1 blocked=%d\n", sigismember(&now, SIGUSR1));
    } else if (!strcmp(c, "ppoll")) {
        /* ppoll's mask unblocks a pending signal atomically: the call ends with EINTR after the
         * handler, and the old mask is back. */
        install(SIGUSR1, record, 0);
        sigset_t s, empty, now;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGUSR1);
        sigemptyset(&empty);
        struct timespec t = {5, 0};
        int r = ppoll(NULL, 0, &t, &empty);
        printf("ppoll=%d errno=%s delivered=%d\n", r, strerrorname_np(errno), norder);
        sigprocmask(SIG_BLOCK, NULL, &now);
        printf("mask back: usr1 blocked=%d\n", sigismember(&now, SIGUSR1));
        t.tv_sec = 0;
        t.tv_nsec = 1000;
        r = ppoll(NULL, 0, &t, &empty);
        printf("ppoll with nothing pending=%d\n", r);
    } else if (!strcmp(c, "timedwait")) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR2);
        sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGUSR2);
        siginfo_t si;
        struct timespec t = {0, 20 * 1000 * 1000};
        int r = sigtimedwait(&s, &si, &t);
        last = si;
        printf("sigtimedwait=%d\n", r);
        show("taken");
        r = sigtimedwait(&s, &si, &t);
        printf("again=%d errno=%s\n", r, strerrorname_np(errno));
    } else if (!strcmp(c, "norestorer")) {
        /* The raw syscall without SA_RESTORER: x86-64 Linux cannot return from the handler and
         * kills the program with SIGSEGV when the signal comes. */
        unsigned long act[4] = {(unsigned long)record, SA_SIGINFO, 0, 0};
        long r = syscall(SYS_rt_sigaction, SIGUSR1, act, NULL, 8);
        printf("rt_sigaction=%ld\n", r);
        raise(SIGUSR1);
        printf("not reached\n");
    } else if (!strcmp(c, "abort-handled")) {
        install(SIGABRT, record, 0);
        abort(); /* the handler returns: abort still ends the program with SIGABRT */
    } else if (!strcmp(c, "ignored")) {
        signal(SIGUSR1, SIG_IGN);
        raise(SIGUSR1);
        signal(SIGUSR1, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGWINCH, SIG_DFL);
        raise(SIGCHLD);
        raise(SIGWINCH);
        raise(SIGCONT);
        say("still here\n");
        raise(SIGUSR2); /* default: killed */
    } else if (!strncmp(c, "pipe-", 5)) {
        /* stdout's reader goes away: SIGPIPE kills by default; ignored or handled, write
         * returns EPIPE. */
        if (!strcmp(c, "pipe-ignore"))
            signal(SIGPIPE, SIG_IGN);
        else if (!strcmp(c, "pipe-handler"))
            install(SIGPIPE, record, 0);
        static char buf[4096];
        memset(buf, 'x', sizeof buf);
        for (;;) {
            if (write(1, buf, sizeof buf) < 0) {
                fprintf(stderr, "write: %s, handler ran %d\n", strerrorname_np(errno), norder);
                return 3;
            }
        }
    } else {
        fprintf(stderr, "sig_self: unknown case %s\n", c);
        return 2;
    }
    return 0;
}
