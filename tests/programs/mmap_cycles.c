/* mmap/munmap/mprotect/mremap/madvise/brk cycles that must never see a stale page.
 *
 * Prints "ok" and exits 0 only if every check passes; otherwise prints the first failure and
 * exits 1. Writes only with write(2) and formats into stack buffers, so it never calls malloc
 * (which would move the brk under the brk checks).
 *
 * Phases:
 *   1. fixed:   mmap a range, fill it, munmap, mmap MAP_FIXED at the same address -> zeros;
 *               and MAP_FIXED straight over a live mapping -> zeros.
 *   2. protect: mprotect RW -> R -> NONE -> RW keeps contents.
 *   3. reserve: 64 GiB PROT_NONE reservations, pages made RW deep inside them, used, released.
 *   4. remap:   mremap grow in place, grow with move, shrink, move to a fixed address.
 *   5. split:   munmap the middle of a mapping; the rest keeps its contents.
 *   6. madvise: MADV_DONTNEED on private anonymous memory reads back as zeros.
 *   7. brk:     grow, fill, shrink, grow again -> zeros.
 *   8. model:   thousands of random ops on an arena inside a reservation, checked against a
 *               model of what every page must hold; the arena moves around the reservation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL
#define WORDS (PAGE / sizeof(uint64_t))

static void out(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = sizeof buf - 1;
    write(1, buf, n);
}

#define FAIL(...)                                                                               \
    do {                                                                                        \
        out("FAIL %s:%d: ", __func__, __LINE__);                                                \
        out(__VA_ARGS__);                                                                       \
        out("\n");                                                                              \
        _exit(1);                                                                               \
    } while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* The word at index i of a page tagged `tag` (tag 0 means a zero page). */
static uint64_t pattern(uint64_t tag, size_t i)
{
    return tag ? (tag * 0x100000001b3ULL) ^ (i * 0x9e3779b97f4a7c15ULL) ^ tag : 0;
}

static void fill_page(void *page, uint64_t tag)
{
    uint64_t *w = page;
    for (size_t i = 0; i < WORDS; i++)
        w[i] = pattern(tag, i);
}

/* Returns the index of the first wrong word, or -1. */
static long check_page(const void *page, uint64_t tag)
{
    const volatile uint64_t *w = page;
    for (size_t i = 0; i < WORDS; i++)
        if (w[i] != pattern(tag, i))
            return (long)i;
    return -1;
}

static void expect_page(const char *what, const void *page, uint64_t tag)
{
    long i = check_page(page, tag);
    if (i >= 0)
        FAIL("%s: page %p word %ld is %#llx, want %#llx (tag %#llx)%s", what, page, i,
             (unsigned long long)((const uint64_t *)page)[i],
             (unsigned long long)pattern(tag, (size_t)i), (unsigned long long)tag,
             tag ? "" : " -- stale data in a page that must be zero");
}

static void *map(void *addr, size_t len, int prot, int flags)
{
    void *p = mmap(addr, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        FAIL("mmap(%p, %#zx, %d, %#x): errno %d", addr, len, prot, flags, errno);
    if ((flags & MAP_FIXED) && p != addr)
        FAIL("mmap MAP_FIXED at %p returned %p", addr, p);
    return p;
}

static void unmap(void *addr, size_t len)
{
    if (munmap(addr, len) != 0)
        FAIL("munmap(%p, %#zx): errno %d", addr, len, errno);
}

static void protect(void *addr, size_t len, int prot)
{
    if (mprotect(addr, len, prot) != 0)
        FAIL("mprotect(%p, %#zx, %d): errno %d", addr, len, prot, errno);
}

static void phase_fixed(void)
{
    for (int round = 0; round < 500; round++) {
        size_t pages = 1 + rnd() % 16;
        size_t len = pages * PAGE;
        char *p = map(NULL, len, PROT_READ | PROT_WRITE, 0);
        for (size_t i = 0; i < pages; i++)
            expect_page("fresh mmap", p + i * PAGE, 0);
        for (size_t i = 0; i < pages; i++)
            fill_page(p + i * PAGE, round * 64 + i + 1);
        unmap(p, len);
        char *q = map(p, len, PROT_READ | PROT_WRITE, MAP_FIXED);
        for (size_t i = 0; i < pages; i++)
            expect_page("MAP_FIXED after munmap", q + i * PAGE, 0);
        for (size_t i = 0; i < pages; i++)
            fill_page(q + i * PAGE, round * 64 + i + 7);
        /* MAP_FIXED directly over the live, filled mapping replaces it with zeros. */
        q = map(p, len, PROT_READ | PROT_WRITE, MAP_FIXED);
        for (size_t i = 0; i < pages; i++)
            expect_page("MAP_FIXED over a live mapping", q + i * PAGE, 0);
        unmap(q, len);
    }
    /* A hint that is free is normally honoured; either way the memory is zero. */
    for (int round = 0; round < 64; round++) {
        char *hint = (char *)(0x200000000000UL + (rnd() % 0x10000) * 0x100000UL);
        char *p = map(hint, 4 * PAGE, PROT_READ | PROT_WRITE, 0);
        for (int i = 0; i < 4; i++)
            expect_page("mmap with a hint", p + i * PAGE, 0);
        fill_page(p, round + 1);
        unmap(p, 4 * PAGE);
        p = map(hint, 4 * PAGE, PROT_READ | PROT_WRITE, 0);
        expect_page("mmap with a hint, again", p, 0);
        unmap(p, 4 * PAGE);
    }
}

static void phase_protect(void)
{
    for (int round = 0; round < 200; round++) {
        size_t pages = 1 + rnd() % 8;
        char *p = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
        for (size_t i = 0; i < pages; i++)
            fill_page(p + i * PAGE, 1000 + round * 8 + i);
        protect(p, pages * PAGE, PROT_READ);
        for (size_t i = 0; i < pages; i++)
            expect_page("after mprotect(PROT_READ)", p + i * PAGE, 1000 + round * 8 + i);
        protect(p, pages * PAGE, PROT_NONE);
        protect(p, pages * PAGE, PROT_READ | PROT_WRITE);
        for (size_t i = 0; i < pages; i++)
            expect_page("after PROT_NONE and back", p + i * PAGE, 1000 + round * 8 + i);
        fill_page(p, 5);
        expect_page("write after mprotect back to RW", p, 5);
        unmap(p, pages * PAGE);
    }
}

#define RESERVE (64UL << 30)

static char *reserve(void)
{
    return map(NULL, RESERVE, PROT_NONE, MAP_NORESERVE);
}

static void phase_reserve(void)
{
    /* Reserving must cost nothing: many in a row, and several alive at once. */
    char *held[8];
    for (int i = 0; i < 8; i++)
        held[i] = reserve();
    for (int i = 0; i < 8; i++)
        unmap(held[i], RESERVE);
    for (int round = 0; round < 32; round++) {
        char *r = reserve();
        size_t offs[6] = {0, PAGE, RESERVE / 2, RESERVE - PAGE, (rnd() % (RESERVE / PAGE)) * PAGE,
                          (rnd() % (RESERVE / PAGE)) * PAGE};
        for (int i = 0; i < 6; i++) {
            protect(r + offs[i], PAGE, PROT_READ | PROT_WRITE);
            expect_page("page made RW inside a reservation", r + offs[i], 0);
            fill_page(r + offs[i], round * 8 + i + 1);
        }
        for (int i = 0; i < 6; i++) {
            /* offsets may repeat; the last writer wins */
            int last = i;
            for (int j = i + 1; j < 6; j++)
                if (offs[j] == offs[i])
                    last = j;
            expect_page("reservation page read back", r + offs[i], round * 8 + last + 1);
        }
        /* Give one page back to PROT_NONE via MAP_FIXED, then make it RW again: zeros. */
        map(r + offs[2], PAGE, PROT_NONE, MAP_FIXED | MAP_NORESERVE);
        protect(r + offs[2], PAGE, PROT_READ | PROT_WRITE);
        expect_page("reservation page replaced by MAP_FIXED", r + offs[2], 0);
        unmap(r, RESERVE);
        /* The same range, reserved again, holds nothing from before. */
        char *r2 = map(r, RESERVE, PROT_NONE, MAP_FIXED | MAP_NORESERVE);
        protect(r2 + offs[0], PAGE, PROT_READ | PROT_WRITE);
        protect(r2 + offs[3], PAGE, PROT_READ | PROT_WRITE);
        expect_page("re-reserved range, first page", r2 + offs[0], 0);
        expect_page("re-reserved range, last page", r2 + offs[3], 0);
        unmap(r2, RESERVE);
    }
}

static void phase_remap(void)
{
    for (int round = 0; round < 200; round++) {
        size_t pages = 1 + rnd() % 8, more = 1 + rnd() % 8;
        uint64_t base = 5000 + round * 32;
        /* Room behind the mapping so that growing in place is possible, and one PROT_NONE page
         * after that room which blocks growing further in place. */
        char *room = map(NULL, (pages + more + 1) * PAGE, PROT_NONE, 0);
        char *blk = room + (pages + more) * PAGE;
        unmap(room + pages * PAGE, more * PAGE);
        char *p = map(room, pages * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
        for (size_t i = 0; i < pages; i++)
            fill_page(p + i * PAGE, base + i);

        /* Grow (in place if it can, else moved). */
        char *g = mremap(p, pages * PAGE, (pages + more) * PAGE, MREMAP_MAYMOVE);
        if (g == MAP_FAILED)
            FAIL("mremap grow: errno %d", errno);
        for (size_t i = 0; i < pages; i++)
            expect_page("mremap grow keeps contents", g + i * PAGE, base + i);
        for (size_t i = pages; i < pages + more; i++)
            expect_page("mremap grow: new part", g + i * PAGE, 0);
        for (size_t i = pages; i < pages + more; i++)
            fill_page(g + i * PAGE, base + i);

        /* Grow again: if the first grow stayed in place, the blocker is right behind, so this
         * one must move. */
        size_t total = pages + more;
        char *m = mremap(g, total * PAGE, (total + 4) * PAGE, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            FAIL("mremap grow+move: errno %d", errno);
        if (g == p && m == g)
            FAIL("mremap grew in place over a mapped neighbour at %p", blk);
        for (size_t i = 0; i < total; i++)
            expect_page("mremap move keeps contents", m + i * PAGE, base + i);
        for (size_t i = total; i < total + 4; i++)
            expect_page("mremap move: new part", m + i * PAGE, 0);
        unmap(blk, PAGE);
        /* The old place is free now; mapping it again gives zeros. */
        char *old = map(g, total * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
        for (size_t i = 0; i < total; i++)
            expect_page("old place after mremap move", old + i * PAGE, 0);
        unmap(old, total * PAGE);

        /* Shrink, then grow again: the dropped tail comes back as zeros. */
        char *s = mremap(m, (total + 4) * PAGE, PAGE, 0);
        if (s != m)
            FAIL("mremap shrink returned %p, want %p (errno %d)", s, m, errno);
        expect_page("mremap shrink keeps the head", s, base);
        char *s2 = mremap(s, PAGE, (total + 4) * PAGE, MREMAP_MAYMOVE);
        if (s2 == MAP_FAILED)
            FAIL("mremap regrow: errno %d", errno);
        expect_page("mremap regrow keeps the head", s2, base);
        for (size_t i = 1; i < total + 4; i++)
            expect_page("mremap regrow after shrink: stale tail", s2 + i * PAGE, 0);

        /* Move to a fixed address; the target's old contents are gone. */
        char *dst = map(NULL, (total + 4) * PAGE, PROT_READ | PROT_WRITE, 0);
        for (size_t i = 0; i < total + 4; i++)
            fill_page(dst + i * PAGE, 99999);
        fill_page(s2 + PAGE, base + 77);
        char *f = mremap(s2, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PAGE);
        if (f != dst + PAGE)
            FAIL("mremap MREMAP_FIXED returned %p, want %p (errno %d)", f, dst + PAGE, errno);
        expect_page("MREMAP_FIXED moved page 0", f, base);
        expect_page("MREMAP_FIXED moved page 1", f + PAGE, base + 77);
        expect_page("MREMAP_FIXED left the page before alone", dst, 99999);
        expect_page("MREMAP_FIXED left the page after alone", dst + 3 * PAGE, 99999);
        /* The moved-from pages are unmapped; a new mapping there is zero. */
        char *z = map(s2, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
        expect_page("moved-from page 0", z, 0);
        expect_page("moved-from page 1", z + PAGE, 0);
        unmap(s2, (total + 4) * PAGE);
        unmap(dst, (total + 4) * PAGE);
    }
}

static void phase_split(void)
{
    for (int round = 0; round < 200; round++) {
        size_t pages = 3 + rnd() % 14;
        size_t hole = 1 + rnd() % (pages - 2), hole_len = 1 + rnd() % (pages - hole - 1);
        char *p = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
        for (size_t i = 0; i < pages; i++)
            fill_page(p + i * PAGE, 20000 + round * 32 + i);
        unmap(p + hole * PAGE, hole_len * PAGE);
        for (size_t i = 0; i < pages; i++)
            if (i < hole || i >= hole + hole_len)
                expect_page("around a munmap'd hole", p + i * PAGE, 20000 + round * 32 + i);
        map(p + hole * PAGE, hole_len * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
        for (size_t i = hole; i < hole + hole_len; i++)
            expect_page("hole mapped again", p + i * PAGE, 0);
        /* mprotect of a piece in the middle splits too; contents stay. */
        protect(p + hole * PAGE, PAGE, PROT_READ);
        expect_page("split by mprotect, before", p, 20000 + round * 32);
        expect_page("split by mprotect, last", p + (pages - 1) * PAGE, 20000 + round * 32 + pages - 1);
        unmap(p, pages * PAGE);
    }
}

static void phase_madvise(void)
{
    for (int round = 0; round < 200; round++) {
        size_t pages = 2 + rnd() % 8;
        char *p = map(NULL, pages * PAGE, PROT_READ | PROT_WRITE, 0);
        for (size_t i = 0; i < pages; i++)
            fill_page(p + i * PAGE, 30000 + round * 16 + i);
        size_t first = rnd() % pages, n = 1 + rnd() % (pages - first);
        if (madvise(p + first * PAGE, n * PAGE, MADV_DONTNEED) != 0)
            FAIL("madvise(MADV_DONTNEED): errno %d", errno);
        for (size_t i = 0; i < pages; i++) {
            uint64_t want = (i >= first && i < first + n) ? 0 : 30000 + round * 16 + i;
            expect_page("after MADV_DONTNEED", p + i * PAGE, want);
        }
        fill_page(p + first * PAGE, 7);
        expect_page("write after MADV_DONTNEED", p + first * PAGE, 7);
        unmap(p, pages * PAGE);
    }
}

static void phase_brk(void)
{
    char *cur = (char *)syscall(SYS_brk, 0);
    /* Start at a page boundary: a partial page below it is not cleared by Linux on regrowth. */
    char *base = (char *)(((uintptr_t)cur + PAGE - 1) & ~(PAGE - 1));
    if ((char *)syscall(SYS_brk, base) != base)
        FAIL("brk to page boundary %p failed", base);
    for (int round = 0; round < 300; round++) {
        size_t pages = 1 + rnd() % 64;
        char *end = base + pages * PAGE;
        if ((char *)syscall(SYS_brk, end) != end)
            FAIL("brk grow to %p (%zu pages) failed", end, pages);
        for (size_t i = 0; i < pages; i++)
            expect_page("brk growth", base + i * PAGE, 0);
        for (size_t i = 0; i < pages; i++)
            fill_page(base + i * PAGE, 40000 + round * 64 + i);
        for (size_t i = 0; i < pages; i++)
            expect_page("brk memory read back", base + i * PAGE, 40000 + round * 64 + i);
        if ((char *)syscall(SYS_brk, base) != base)
            FAIL("brk shrink to %p failed", base);
    }
    syscall(SYS_brk, cur);
}

/* ---- the model ---------------------------------------------------------------------------- */

#define ARENA 256 /* pages */
enum { UNMAPPED = 0, P_NONE, P_READ, P_RW };
static int prot_of[ARENA];
static uint64_t tag_of[ARENA];
static uint64_t next_tag = 1000000;

static int prot_bits(int s)
{
    return s == P_RW ? PROT_READ | PROT_WRITE : s == P_READ ? PROT_READ : PROT_NONE;
}

static int all_mapped(size_t first, size_t n)
{
    for (size_t i = first; i < first + n; i++)
        if (prot_of[i] == UNMAPPED)
            return 0;
    return 1;
}

static void verify(char *arena, size_t first, size_t n, const char *after)
{
    char what[96];
    for (size_t i = first; i < first + n; i++) {
        if (prot_of[i] == P_READ || prot_of[i] == P_RW) {
            snprintf(what, sizeof what, "model, after %s, page %zu", after, i);
            expect_page(what, arena + i * PAGE, tag_of[i]);
        }
    }
}

static void phase_model(void)
{
    char *r = reserve();
    long ops = 0;
    for (int move = 0; move < 12; move++) {
        /* Each round puts the arena somewhere else in the reservation, starting fresh. */
        char *arena = r + (rnd() % (RESERVE / PAGE - ARENA)) * PAGE;
        map(arena, ARENA * PAGE, PROT_NONE, MAP_FIXED | MAP_NORESERVE);
        for (int i = 0; i < ARENA; i++) {
            prot_of[i] = P_NONE;
            tag_of[i] = 0;
        }
        for (int step = 0; step < 400; step++, ops++) {
            size_t first = rnd() % ARENA;
            size_t n = 1 + rnd() % 8;
            if (first + n > ARENA)
                n = ARENA - first;
            const char *op;
            switch (rnd() % 7) {
            case 0: /* mmap MAP_FIXED RW, then maybe fill */
                op = "mmap";
                map(arena + first * PAGE, n * PAGE, PROT_READ | PROT_WRITE, MAP_FIXED);
                for (size_t i = first; i < first + n; i++) {
                    prot_of[i] = P_RW;
                    tag_of[i] = 0;
                }
                verify(arena, first, n, op);
                if (rnd() % 4)
                    for (size_t i = first; i < first + n; i++)
                        fill_page(arena + i * PAGE, tag_of[i] = next_tag++);
                break;
            case 1: /* munmap */
                op = "munmap";
                unmap(arena + first * PAGE, n * PAGE);
                for (size_t i = first; i < first + n; i++)
                    prot_of[i] = UNMAPPED;
                break;
            case 2: /* mprotect to something else; contents stay */
            case 3: {
                op = "mprotect";
                if (!all_mapped(first, n))
                    continue;
                int s = 1 + rnd() % 3;
                protect(arena + first * PAGE, n * PAGE, prot_bits(s));
                for (size_t i = first; i < first + n; i++)
                    prot_of[i] = s;
                verify(arena, first, n, op);
                if (s == P_RW)
                    for (size_t i = first; i < first + n; i++)
                        if (rnd() % 2)
                            fill_page(arena + i * PAGE, tag_of[i] = next_tag++);
                break;
            }
            case 4: /* MADV_DONTNEED: zero */
                op = "madvise";
                if (!all_mapped(first, n))
                    continue;
                if (madvise(arena + first * PAGE, n * PAGE, MADV_DONTNEED) != 0)
                    FAIL("madvise(%p, %zu pages): errno %d", arena + first * PAGE, n, errno);
                for (size_t i = first; i < first + n; i++)
                    tag_of[i] = 0;
                verify(arena, first, n, op);
                break;
            case 5: { /* mremap one page to another place in the arena */
                op = "mremap";
                size_t to = rnd() % ARENA;
                if (prot_of[first] == UNMAPPED || to == first)
                    continue;
                char *src = arena + first * PAGE, *dst = arena + to * PAGE;
                if (mremap(src, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst) != dst)
                    FAIL("mremap(%p -> %p): errno %d", src, dst, errno);
                prot_of[to] = prot_of[first];
                tag_of[to] = tag_of[first];
                prot_of[first] = UNMAPPED;
                verify(arena, to, 1, op);
                break;
            }
            default: /* write new contents into the RW pages of the range */
                op = "write";
                for (size_t i = first; i < first + n; i++)
                    if (prot_of[i] == P_RW)
                        fill_page(arena + i * PAGE, tag_of[i] = next_tag++);
                break;
            }
            if (step % 50 == 49)
                verify(arena, 0, ARENA, op);
        }
        verify(arena, 0, ARENA, "round");
        /* Return the arena to a plain reservation before it moves. */
        map(arena, ARENA * PAGE, PROT_NONE, MAP_FIXED | MAP_NORESERVE);
    }
    unmap(r, RESERVE);
    (void)ops;
}

int main(void)
{
    phase_fixed();
    phase_protect();
    phase_reserve();
    phase_remap();
    phase_split();
    phase_madvise();
    phase_brk();
    phase_model();
    out("ok\n");
    return 0;
}
