/* A handler runs in the middle of a raise (tgkill made with the `syscall` instruction directly),
 * clobbering every register it may; rt_sigreturn must bring back every general register, the
 * direction flag, MXCSR and all 16 XMM registers exactly. The handler must start with DF clear
 * and a fresh FPU state, and its ucontext must hold the interrupted values. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

void raise_check(unsigned long *out, const unsigned char *xin, unsigned char *xout, long pid);
__asm__(
    ".globl raise_check\n"
    "raise_check:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  push %rdi\n push %rdx\n"
    "  sub $16, %rsp\n"
    "  stmxcsr (%rsp)\n"
    "  movl $0x7f80, 4(%rsp)\n"
    "  ldmxcsr 4(%rsp)\n"
    "  movdqu 0(%rsi), %xmm0\n  movdqu 16(%rsi), %xmm1\n  movdqu 32(%rsi), %xmm2\n"
    "  movdqu 48(%rsi), %xmm3\n  movdqu 64(%rsi), %xmm4\n  movdqu 80(%rsi), %xmm5\n"
    "  movdqu 96(%rsi), %xmm6\n  movdqu 112(%rsi), %xmm7\n  movdqu 128(%rsi), %xmm8\n"
    "  movdqu 144(%rsi), %xmm9\n  movdqu 160(%rsi), %xmm10\n  movdqu 176(%rsi), %xmm11\n"
    "  movdqu 192(%rsi), %xmm12\n  movdqu 208(%rsi), %xmm13\n  movdqu 224(%rsi), %xmm14\n"
    "  movdqu 240(%rsi), %xmm15\n"
    "  mov %rcx, %rdi\n mov %rcx, %rsi\n mov $10, %edx\n mov $234, %eax\n"
    "  movabs $0x1111111111111111, %rbx\n  movabs $0x2222222222222222, %rbp\n"
    "  movabs $0x8888888888888888, %r8\n  movabs $0x9999999999999999, %r9\n"
    "  movabs $0xaaaaaaaaaaaaaaaa, %r10\n  movabs $0xcccccccccccccccc, %r12\n"
    "  movabs $0xdddddddddddddddd, %r13\n  movabs $0xeeeeeeeeeeeeeeee, %r14\n"
    "  movabs $0xffffffffffffffff, %r15\n"
    "  std\n"
    "  syscall\n"
    "  pushf\n"
    "  cld\n"
    "  mov 32(%rsp), %r11\n" /* out */
    "  pop 0(%r11)\n"        /* rflags */
    "  mov %rbx, 8(%r11)\n  mov %rbp, 16(%r11)\n  mov %r8, 24(%r11)\n  mov %r9, 32(%r11)\n"
    "  mov %r10, 40(%r11)\n  mov %r12, 48(%r11)\n  mov %r13, 56(%r11)\n  mov %r14, 64(%r11)\n"
    "  mov %r15, 72(%r11)\n  mov %rdi, 80(%r11)\n  mov %rsi, 88(%r11)\n  mov %rdx, 96(%r11)\n"
    "  mov %rax, 104(%r11)\n"
    "  stmxcsr 8(%rsp)\n  mov 8(%rsp), %eax\n  mov %rax, 112(%r11)\n"
    "  ldmxcsr (%rsp)\n"
    "  mov 16(%rsp), %r11\n" /* xout */
    "  movdqu %xmm0, 0(%r11)\n  movdqu %xmm1, 16(%r11)\n  movdqu %xmm2, 32(%r11)\n"
    "  movdqu %xmm3, 48(%r11)\n  movdqu %xmm4, 64(%r11)\n  movdqu %xmm5, 80(%r11)\n"
    "  movdqu %xmm6, 96(%r11)\n  movdqu %xmm7, 112(%r11)\n  movdqu %xmm8, 128(%r11)\n"
    "  movdqu %xmm9, 144(%r11)\n  movdqu %xmm10, 160(%r11)\n  movdqu %xmm11, 176(%r11)\n"
    "  movdqu %xmm12, 192(%r11)\n  movdqu %xmm13, 208(%r11)\n  movdqu %xmm14, 224(%r11)\n"
    "  movdqu %xmm15, 240(%r11)\n"
    "  add $32, %rsp\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n");

static volatile unsigned long entry_flags, entry_mxcsr, uc_rbx, uc_r15, uc_rax, uc_df, sp_mod16;
static volatile unsigned char entry_xmm0[16];
static volatile int calls;

static void handler(int sig, siginfo_t *si, void *ucv)
{
    unsigned long f, sp;
    unsigned int m;
    __asm__ volatile("pushf\n pop %0" : "=r"(f));
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    __asm__ volatile("movdqu %%xmm0, %0" : "=m"(entry_xmm0));
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    entry_flags = f;
    entry_mxcsr = m;
    ucontext_t *uc = ucv;
    uc_rbx = uc->uc_mcontext.gregs[REG_RBX];
    uc_r15 = uc->uc_mcontext.gregs[REG_R15];
    uc_rax = uc->uc_mcontext.gregs[REG_RAX];
    uc_df = uc->uc_mcontext.gregs[REG_EFL] & 0x400;
    calls++;
    /* Clobber everything the ABI lets a function clobber, and then some. */
    __asm__ volatile("pxor %%xmm0, %%xmm0\n pcmpeqd %%xmm1, %%xmm1\n movdqa %%xmm1, %%xmm2\n"
                     "movdqa %%xmm1, %%xmm8\n movdqa %%xmm1, %%xmm15\n"
                     "mov $0x5555, %%r8\n mov $0x5555, %%r9\n mov $0x5555, %%r10\n"
                     "mov $0x5555, %%r11\n mov $0x5555, %%rsi\n mov $0x5555, %%rdi\n"
                     "mov $0x3f80, %%eax\n push %%rax\n ldmxcsr (%%rsp)\n pop %%rax\n" ::
                         : "xmm0", "xmm1", "xmm2", "xmm8", "xmm15", "r8", "r9", "r10", "r11",
                           "rsi", "rdi", "rax", "memory");
    volatile double d = 1.0;
    for (int i = 0; i < 100; i++)
        d = d * 1.5 + 0.25;
    (void)sig;
    (void)si;
    (void)sp;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);

    unsigned long out[15];
    unsigned char xin[256], xout[256];
    for (int i = 0; i < 256; i++)
        xin[i] = (unsigned char)(i * 7 + 3);
    memset(xout, 0, sizeof xout);
    raise_check(out, xin, xout, getpid());

    const char *names[] = {"rflags&DF", "rbx", "rbp", "r8", "r9", "r10", "r12", "r13",
                           "r14", "r15", "rdi", "rsi", "rdx", "rax", "mxcsr"};
    out[0] &= 0x400;
    for (int i = 0; i < 15; i++)
        printf("%s=%#lx\n", names[i], i == 10 || i == 11 ? out[i] == (unsigned long)getpid() : out[i]);
    printf("xmm0-15 restored: %s\n", memcmp(xin, xout, 256) == 0 ? "yes" : "no");
    printf("handler calls: %d\n", calls);
    printf("handler entry: DF=%lu mxcsr=%#lx xmm0 zero=%d\n", entry_flags & 0x400,
           entry_mxcsr, entry_xmm0[0] == 0 && entry_xmm0[15] == 0);
    printf("ucontext: rbx=%#lx r15=%#lx rax=%#lx DF=%#lx\n", uc_rbx, uc_r15, uc_rax, uc_df);
    return 0;
}
