/* Copies stdin to stdout with read/write in 64 KiB chunks. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(void)
{
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("cat_stdin: read");
            return 1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, n - off);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                perror("cat_stdin: write");
                return 1;
            }
            off += w;
        }
    }
}
