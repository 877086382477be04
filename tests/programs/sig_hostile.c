/* A handler corrupts the frame rt_sigreturn will read (argv[1] picks how): bad MXCSR, a bad
 * XSAVE header, a misaligned fpstate pointer, non-canonical rip or rsp, a null cs, a trashed FPU
 * area. Linux kills the program with SIGSEGV for each; mvm must too, and never break the VM. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <stdlib.h>
static int mode;
static void h(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
    if (mode == 1) { *(unsigned *)(fp + 24) = 0xffffffff; }
    if (mode == 2) { memset(fp + 512, 0xff, 64); }
    if (mode == 3) { uc->uc_mcontext.fpregs = (void *)8; }
    if (mode == 4) { uc->uc_mcontext.gregs[REG_RIP] = 0x800000000000UL; }
    if (mode == 5) { uc->uc_mcontext.gregs[REG_RSP] = 0xffff800000000000UL; }

    if (mode == 7) { uc->uc_mcontext.gregs[REG_CSGSFS] = 0; }
    if (mode == 8) { memset(fp, 0xff, 4096); }
}
int main(int c, char **v) {
    (void)c;
    mode = atoi(v[1]);
    struct sigaction sa = {0};
    sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    printf("survived\n");
    return 0;
}
