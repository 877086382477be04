/* FP/SSE/AVX state across syscalls and signal handlers: the registers are loaded with patterns,
 * a syscall (or a signal whose handler clobbers them and returns) happens with them live, and
 * they must come back intact. Prints what it could check: "sse ok", "avx ok" (or "avx absent"
 * when the CPU or the OS does not enable it), "mxcsr ok", "x87 ok", and BAD lines otherwise.
 * Exit status: the number of BAD lines. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bad;

static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static int avx_enabled(void)
{
    unsigned r[4];
    cpuid(1, 0, r);
    if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)))
        return 0; /* no OSXSAVE or no AVX */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6) == 6;
}

static void handler(int sig)
{
    (void)sig;
    /* Clobber everything the interrupted code had live. */
    __asm__ volatile("pxor %%xmm0, %%xmm0\n pxor %%xmm7, %%xmm7\n pxor %%xmm15, %%xmm15\n"
                     "fninit\n" ::: "xmm0", "xmm7", "xmm15", "memory");
    if (avx_enabled())
        __asm__ volatile("vpxor %%ymm1, %%ymm1, %%ymm1\n vpxor %%ymm14, %%ymm14, %%ymm14\n"
                         "vzeroupper\n" ::: "xmm1", "xmm14", "memory");
    unsigned mx = 0x1f80;
    __asm__ volatile("ldmxcsr %0" ::"m"(mx));
}

/* Loads 16 xmm registers from `in`, makes syscall `nr` with `a0, a1`, stores them to `out`. */
static void sse_around(const uint8_t *in, uint8_t *out, long nr, long a0, long a1)
{
    register long rax __asm__("rax") = nr;
    register long rdi __asm__("rdi") = a0;
    register long rsi __asm__("rsi") = a1;
    __asm__ volatile(
        "movdqu 0(%[i]), %%xmm0\n movdqu 16(%[i]), %%xmm1\n movdqu 32(%[i]), %%xmm2\n"
        "movdqu 48(%[i]), %%xmm3\n movdqu 64(%[i]), %%xmm4\n movdqu 80(%[i]), %%xmm5\n"
        "movdqu 96(%[i]), %%xmm6\n movdqu 112(%[i]), %%xmm7\n movdqu 128(%[i]), %%xmm8\n"
        "movdqu 144(%[i]), %%xmm9\n movdqu 160(%[i]), %%xmm10\n movdqu 176(%[i]), %%xmm11\n"
        "movdqu 192(%[i]), %%xmm12\n movdqu 208(%[i]), %%xmm13\n movdqu 224(%[i]), %%xmm14\n"
        "movdqu 240(%[i]), %%xmm15\n"
        "syscall\n"
        "movdqu %%xmm0, 0(%[o])\n movdqu %%xmm1, 16(%[o])\n movdqu %%xmm2, 32(%[o])\n"
        "movdqu %%xmm3, 48(%[o])\n movdqu %%xmm4, 64(%[o])\n movdqu %%xmm5, 80(%[o])\n"
        "movdqu %%xmm6, 96(%[o])\n movdqu %%xmm7, 112(%[o])\n movdqu %%xmm8, 128(%[o])\n"
        "movdqu %%xmm9, 144(%[o])\n movdqu %%xmm10, 160(%[o])\n movdqu %%xmm11, 176(%[o])\n"
        "movdqu %%xmm12, 192(%[o])\n movdqu %%xmm13, 208(%[o])\n movdqu %%xmm14, 224(%[o])\n"
        "movdqu %%xmm15, 240(%[o])\n"
        : "+r"(rax), "+r"(rdi), "+r"(rsi)
        : [i] "r"(in), [o] "r"(out)
        : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* The same with the 16 ymm registers (32 bytes each). */
static void avx_around(const uint8_t *in, uint8_t *out, long nr, long a0, long a1)
{
    register long rax __asm__("rax") = nr;
    register long rdi __asm__("rdi") = a0;
    register long rsi __asm__("rsi") = a1;
    __asm__ volatile(
        "vmovdqu 0(%[i]), %%ymm0\n vmovdqu 32(%[i]), %%ymm1\n vmovdqu 64(%[i]), %%ymm2\n"
        "vmovdqu 96(%[i]), %%ymm3\n vmovdqu 128(%[i]), %%ymm4\n vmovdqu 160(%[i]), %%ymm5\n"
        "vmovdqu 192(%[i]), %%ymm6\n vmovdqu 224(%[i]), %%ymm7\n vmovdqu 256(%[i]), %%ymm8\n"
        "vmovdqu 288(%[i]), %%ymm9\n vmovdqu 320(%[i]), %%ymm10\n vmovdqu 352(%[i]), %%ymm11\n"
        "vmovdqu 384(%[i]), %%ymm12\n vmovdqu 416(%[i]), %%ymm13\n vmovdqu 448(%[i]), %%ymm14\n"
        "vmovdqu 480(%[i]), %%ymm15\n"
        "syscall\n"
        "vmovdqu %%ymm0, 0(%[o])\n vmovdqu %%ymm1, 32(%[o])\n vmovdqu %%ymm2, 64(%[o])\n"
        "vmovdqu %%ymm3, 96(%[o])\n vmovdqu %%ymm4, 128(%[o])\n vmovdqu %%ymm5, 160(%[o])\n"
        "vmovdqu %%ymm6, 192(%[o])\n vmovdqu %%ymm7, 224(%[o])\n vmovdqu %%ymm8, 256(%[o])\n"
        "vmovdqu %%ymm9, 288(%[o])\n vmovdqu %%ymm10, 320(%[o])\n vmovdqu %%ymm11, 352(%[o])\n"
        "vmovdqu %%ymm12, 384(%[o])\n vmovdqu %%ymm13, 416(%[o])\n vmovdqu %%ymm14, 448(%[o])\n"
        "vmovdqu %%ymm15, 480(%[o])\n vzeroupper\n"
        : "+r"(rax), "+r"(rdi), "+r"(rsi)
        : [i] "r"(in), [o] "r"(out)
        : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void check(const char *what, const uint8_t *in, const uint8_t *out, size_t n)
{
    if (memcmp(in, out, n)) {
        size_t i = 0;
        while (in[i] == out[i])
            i++;
        printf("BAD %s: byte %zu is %#x, not %#x\n", what, i, out[i], in[i]);
        bad++;
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa = {.sa_handler = handler};
    sigaction(SIGUSR1, &sa, NULL);
    uint8_t in[512], out[512];
    for (int i = 0; i < 512; i++)
        in[i] = (uint8_t)(i * 7 + 3);
    pid_t me = getpid();

    /* SSE: across many syscalls, then across a handler that clobbers them. */
    for (int k = 0; k < 200; k++) {
        memset(out, 0, sizeof out);
        sse_around(in, out, SYS_getppid, 0, 0);
        check("xmm across getppid", in, out, 256);
    }
    memset(out, 0, sizeof out);
    sse_around(in, out, SYS_kill, me, SIGUSR1);
    check("xmm across a signal handler", in, out, 256);
    if (!bad)
        printf("sse ok\n");

    if (avx_enabled()) {
        int before = bad;
        for (int k = 0; k < 200; k++) {
            memset(out, 0, sizeof out);
            avx_around(in, out, SYS_getppid, 0, 0);
            check("ymm across getppid", in, out, 512);
        }
        memset(out, 0, sizeof out);
        avx_around(in, out, SYS_kill, me, SIGUSR1);
        check("ymm across a signal handler", in, out, 512);
        if (bad == before)
            printf("avx ok\n");
    } else {
        printf("avx absent\n");
    }

    /* MXCSR (round toward zero, exceptions masked) across a syscall and a handler. */
    unsigned mx = 0x7f80, got = 0;
    __asm__ volatile("ldmxcsr %0" ::"m"(mx));
    syscall(SYS_getppid);
    kill(me, SIGUSR1);
    __asm__ volatile("stmxcsr %0" : "=m"(got));
    if (got != mx) {
        printf("BAD mxcsr %#x, not %#x\n", got, mx);
        bad++;
    } else {
        printf("mxcsr ok\n");
    }
    unsigned def = 0x1f80;
    __asm__ volatile("ldmxcsr %0" ::"m"(def));

    /* x87: a value on its stack and the control word, across a handler and a syscall. */
    volatile double x = 1.0 / 3.0, y = 0;
    unsigned short cw = 0x0c7f, cw2 = 0; /* round toward zero, all masked */
    long rax = SYS_kill;
    __asm__ volatile("fldcw %[cw]\n fldl %[x]\n syscall\n mov %[ppid], %%eax\n syscall\n"
                     "fstpl %[y]\n fnstcw %[cw2]\n"
                     : [y] "=m"(y), [cw2] "=m"(cw2), "+a"(rax)
                     : [cw] "m"(cw), [x] "m"(x), "D"((long)me), "S"((long)SIGUSR1),
                       [ppid] "i"(SYS_getppid)
                     : "rcx", "r11", "memory");
    unsigned short std_cw = 0x037f;
    __asm__ volatile("fldcw %0" ::"m"(std_cw));
    if (y != x || cw2 != cw) {
        printf("BAD x87 value %g control %#x\n", y, cw2);
        bad++;
    } else {
        printf("x87 ok\n");
    }
    return bad;
}
