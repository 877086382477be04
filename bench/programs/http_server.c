/* A minimal HTTP/1.1 server for bench/http: listens on argv[1] (port), prints "ready", then
 * answers every request on each connection (keep-alive) with a fixed 13-byte body. One
 * connection at a time, blocking calls only: per request it makes one read and one write, so
 * what it measures is the cost of a request's syscalls, not a server's design. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n"
                               "\r\nhello, world\n";

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0) {
        perror("bind/listen");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    char buf[8192];
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        size_t have = 0;
        for (;;) {
            ssize_t n = read(c, buf + have, sizeof buf - have - 1);
            if (n <= 0)
                break;
            have += n;
            buf[have] = 0;
            /* Answer each complete request in the buffer (wrk sends one at a time). */
            char *end;
            while ((end = strstr(buf, "\r\n\r\n")) != NULL) {
                if (write(c, RESPONSE, sizeof RESPONSE - 1) < 0)
                    break;
                size_t used = end + 4 - buf;
                memmove(buf, buf + used, have - used);
                have -= used;
                buf[have] = 0;
            }
            if (have >= sizeof buf - 1)
                break;
        }
        close(c);
    }
}
