/* Writes to a page after mprotect(PROT_READ): must die of SIGSEGV. Proves the downgrade is seen
 * even though the page was writable (and written, so mapped) just before. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void say(const char *s) { write(1, s, strlen(s)); }

int main(void)
{
    volatile unsigned char *p =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* Flip RW <-> R many times; each writable phase writes, each read-only phase reads. */
    for (int i = 0; i < 100; i++) {
        p[i] = (unsigned char)i + 1;
        if (mprotect((void *)p, 4096, PROT_READ) != 0) {
            perror("mprotect R");
            return 1;
        }
        if (p[i] != (unsigned char)i + 1) {
            say("read back wrong value\n");
            return 1;
        }
        if (mprotect((void *)p, 4096, PROT_READ | PROT_WRITE) != 0) {
            perror("mprotect RW");
            return 1;
        }
    }
    p[0] = 42;
    if (mprotect((void *)p, 4096, PROT_READ) != 0) {
        perror("mprotect");
        return 1;
    }
    say("read-only now\n");
    p[0] = 43; /* must fault */
    say("write to a read-only page succeeded\n");
    return 1;
}
