/* Exercises what mvm maps with 2 MiB pages (anonymous read-write memory covering aligned 2 MiB
 * blocks) and every way such a page gets split, zeroed, unmapped and reused: contents must stay
 * right and revoked pages must fault. Prints "ok" or the first failure. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define MB (1UL << 20)
#define PAGE 4096UL

static sigjmp_buf env;
static void on_segv(int sig) { siglongjmp(env, sig); }

static int faults(volatile char *p, int write)
{
    if (sigsetjmp(env, 1))
        return 1;
    if (write)
        *p = 1;
    else
        (void)*p;
    return 0;
}

static uint64_t tag(uint64_t off, int round) { return off * 2654435761u + round; }

static int fill(char *b, size_t len, int round)
{
    for (size_t o = 0; o < len; o += PAGE)
        *(uint64_t *)(b + o) = tag(o, round);
    return 0;
}

/* Checks [b+from, b+from+len) against what fill(b, ..., round) wrote there. */
static int check(const char *b, size_t from, size_t len, int round, const char *what)
{
    for (size_t o = from; o < from + len; o += PAGE)
        if (*(const uint64_t *)(b + o) != tag(o, round)) {
            printf("%s: page at +%#zx lost its contents\n", what, o);
            return 1;
        }
    return 0;
}

int main(void)
{
    signal(SIGSEGV, on_segv);
    for (int round = 0; round < 4; round++) {
        /* 16 MiB, with 2 MiB-aligned blocks inside. */
        char *raw = mmap(0, 20 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED)
            return printf("mmap failed\n"), 1;
        char *b = (char *)(((uintptr_t)raw + 2 * MB - 1) & ~(2 * MB - 1));
        fill(b, 16 * MB, round);
        if (check(b, 0, 16 * MB, round, "fresh"))
            return 1;
        /* A hole in the middle of a block: it faults, its neighbours keep their data. */
        char *hole = b + 2 * MB + 5 * PAGE;
        munmap(hole, PAGE);
        if (!faults(hole, 0))
            return printf("an unmapped page inside a large page is still readable\n"), 1;
        if (check(b, 2 * MB, 5 * PAGE, round, "before the hole") ||
            check(b, 2 * MB + 6 * PAGE, 2 * MB - 6 * PAGE, round, "after the hole"))
            return 1;
        /* A read-only page inside another block. */
        char *ro = b + 4 * MB + 7 * PAGE;
        mprotect(ro, PAGE, PROT_READ);
        if (!faults(ro, 1))
            return printf("a read-only page inside a large page is still writable\n"), 1;
        if (faults(ro, 0) || check(b, 4 * MB, 2 * MB, round, "around the read-only page"))
            return 1;
        /* MADV_DONTNEED on part of a block zeroes just that part. */
        char *z = b + 6 * MB + 16 * PAGE;
        madvise(z, 16 * PAGE, MADV_DONTNEED);
        for (size_t o = 0; o < 16 * PAGE; o += PAGE)
            if (*(uint64_t *)(z + o) != 0)
                return printf("MADV_DONTNEED left data in a large page\n"), 1;
        if (check(b, 6 * MB, 16 * PAGE, round, "before the zeroed part") ||
            check(b, 6 * MB + 32 * PAGE, 2 * MB - 32 * PAGE, round, "after the zeroed part"))
            return 1;
        /* Whole blocks unmapped, then mapped again at the same place: zeros, then new data. */
        munmap(b + 8 * MB, 4 * MB);
        if (!faults(b + 9 * MB, 0))
            return printf("an unmapped large page is still readable\n"), 1;
        char *again = mmap(b + 8 * MB, 4 * MB, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (again != b + 8 * MB)
            return printf("MAP_FIXED failed\n"), 1;
        for (size_t o = 0; o < 4 * MB; o += PAGE)
            if (*(uint64_t *)(again + o) != 0)
                return printf("a large page came back with old data\n"), 1;
        fill(again, 4 * MB, round + 100);
        if (check(again, 0, 4 * MB, round + 100, "remapped") ||
            check(b, 12 * MB, 4 * MB, round, "untouched blocks"))
            return 1;
        munmap(raw, 20 * MB);
    }
    printf("ok\n");
    return 0;
}
