/* glibc malloc under churn: small blocks from brk, big ones from mmap, realloc growing big
 * blocks (glibc uses mremap), free in random order; every block's contents checked. Prints "ok"
 * or the first failure (exit 1). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512

static uint64_t state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static unsigned char *blk[SLOTS];
static size_t len[SLOTS];
static unsigned char tag[SLOTS];

static int check(int i)
{
    for (size_t j = 0; j < len[i]; j += 61)
        if (blk[i][j] != (unsigned char)(tag[i] + j))
            return 0;
    return len[i] == 0 || blk[i][len[i] - 1] == (unsigned char)(tag[i] + len[i] - 1);
}

static void fill(int i, size_t from)
{
    for (size_t j = from; j < len[i]; j++)
        blk[i][j] = (unsigned char)(tag[i] + j);
}

int main(void)
{
    for (int step = 0; step < 10000; step++) {
        int i = rnd() % SLOTS;
        if (blk[i] && !check(i)) {
            printf("FAIL: step %d: block %d (%zu bytes) corrupted\n", step, i, len[i]);
            return 1;
        }
        switch (rnd() % 4) {
        case 0: /* free */
            free(blk[i]);
            blk[i] = NULL;
            len[i] = 0;
            break;
        case 1: { /* realloc, often big enough for glibc to use mmap and mremap */
            size_t n = rnd() % 8 ? 1 + rnd() % 4096 : 128 * 1024 + rnd() % (1 << 20);
            unsigned char *p = realloc(blk[i], n);
            if (!p) {
                printf("FAIL: realloc(%zu)\n", n);
                return 1;
            }
            size_t keep = len[i] < n ? len[i] : n;
            blk[i] = p;
            len[i] = n;
            fill(i, keep);
            break;
        }
        default: { /* fresh malloc */
            free(blk[i]);
            size_t n = rnd() % 16 ? 1 + rnd() % 2048 : 200 * 1024 + rnd() % (512 << 10);
            blk[i] = malloc(n);
            if (!blk[i]) {
                printf("FAIL: malloc(%zu)\n", n);
                return 1;
            }
            len[i] = n;
            tag[i] = (unsigned char)rnd();
            fill(i, 0);
        }
        }
    }
    for (int i = 0; i < SLOTS; i++)
        if (blk[i] && !check(i)) {
            printf("FAIL: at the end: block %d corrupted\n", i);
            return 1;
        }
    printf("ok\n");
    return 0;
}
