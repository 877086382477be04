/* Touches N MiB (N = argv[1]) of anonymous memory, one write per 4 KiB page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 16;
    size_t len = (size_t)mib << 20;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("memhog: mmap");
        return 1;
    }
    for (size_t off = 0; off < len; off += 4096)
        p[off] = (unsigned char)(off >> 12) | 1;
    unsigned long sum = 0;
    for (size_t off = 0; off < len; off += 4096)
        sum += p[off];
    printf("touched %ld MiB, sum %lu\n", mib, sum);
    return 0;
}
