/* Touches N MiB (N = argv[1]) of anonymous memory, one write per 4 KiB page; with ROUNDS
 * (argv[2]) it maps, touches and unmaps that much ROUNDS times, so that a --memory limit smaller
 * than N * ROUNDS is only respected if unmapped memory is given back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 16;
    long rounds = argc > 2 ? atol(argv[2]) : 1;
    size_t len = (size_t)mib << 20;
    unsigned long sum = 0;
    for (long r = 0; r < rounds; r++) {
        unsigned char *p =
            mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("memhog: mmap");
            return 1;
        }
        for (size_t off = 0; off < len; off += 4096) {
            if (p[off] != 0) {
                fprintf(stderr, "memhog: round %ld: stale byte at offset %zu\n", r, off);
                return 1;
            }
            p[off] = (unsigned char)(off >> 12) | 1;
        }
        for (size_t off = 0; off < len; off += 4096)
            sum += p[off];
        if (rounds > 1 && munmap(p, len) != 0) {
            perror("memhog: munmap");
            return 1;
        }
    }
    printf("touched %ld MiB x %ld, sum %lu\n", mib, rounds, sum);
    return 0;
}
