/* Named and abstract Unix sockets as Linux serves them: stream, datagram and seqpacket, bound to
 * paths in a directory (argv[1]) or to abstract names, between a parent and a forked child;
 * their names as getsockname/getpeername/accept/recvfrom show them (relative to the directory),
 * descriptors passed over them, and the errors of the usual mistakes. Prints one line per check,
 * nothing that depends on pids, addresses or timing; "done" at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir;

static const char *en(int r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

/* An address for `name` in the directory, or abstract ("@name"). */
static socklen_t addr_of(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (name[0] == '@') {
        size_t n = strlen(name + 1);
        memcpy(a->sun_path + 1, name + 1, n);
        return offsetof(struct sockaddr_un, sun_path) + 1 + n;
    }
    snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
    return offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
}

/* A name as a program sees it, relative to the directory: "unnamed", "@abstract" or the path. */
static void show(const char *what, struct sockaddr_un *a, socklen_t len)
{
    size_t base = offsetof(struct sockaddr_un, sun_path);
    if (len <= base) {
        printf("%s: unnamed (len %u)\n", what, len);
    } else if (a->sun_path[0] == 0) {
        printf("%s: @%.*s (len %u)\n", what, (int)(len - base - 1), a->sun_path + 1, len);
    } else {
        size_t d = strlen(dir);
        const char *p = strncmp(a->sun_path, dir, d) == 0 ? a->sun_path + d + 1 : a->sun_path;
        printf("%s: %s (len %s)\n", what, p,
               len == base + strlen(a->sun_path) + 1 ? "path+NUL" : "other");
    }
}

static void names(const char *what, int fd, int peer)
{
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len)
                 : getsockname(fd, (struct sockaddr *)&a, &len);
    if (r < 0)
        printf("%s: %s\n", what, en(r));
    else
        show(what, &a, len);
}

/* A one-byte message carrying descriptor `fd` (SCM_RIGHTS), or room for one when fd < 0. */
struct rights {
    char byte;
    struct iovec iov;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m;
};

static struct msghdr *rights_msg(struct rights *r, int fd)
{
    memset(r, 0, sizeof *r);
    r->byte = 'x';
    r->iov = (struct iovec){&r->byte, 1};
    r->m = (struct msghdr){.msg_iov = &r->iov, .msg_iovlen = 1, .msg_control = r->u.buf,
                           .msg_controllen = sizeof r->u.buf};
    if (fd >= 0) {
        struct cmsghdr *cm = CMSG_FIRSTHDR(&r->m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    }
    return &r->m;
}

static int listener(int type, const char *name)
{
    struct sockaddr_un a;
    socklen_t len = addr_of(&a, name);
    int s = socket(AF_UNIX, type, 0);
    int r = bind(s, (struct sockaddr *)&a, len);
    printf("bind %s: %s\n", name, en(r));
    if (type != SOCK_DGRAM)
        listen(s, 4);
    return s;
}

static int connect_to(int type, const char *name)
{
    struct sockaddr_un a;
    socklen_t len = addr_of(&a, name);
    int c = socket(AF_UNIX, type, 0);
    if (connect(c, (struct sockaddr *)&a, len) < 0) {
        printf("child: connect %s: %s\n", name, en(-1));
        exit(1);
    }
    return c;
}

/* A stream or seqpacket exchange with a child: ping/pong, names on both ends, and a pipe's read
 * end passed from the child (SCM_RIGHTS), read by the parent. */
static void conversation(int type, const char *name)
{
    int s = listener(type, name);
    names("  listener name", s, 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int c = connect_to(type, name);
        write(c, "ping", 4);
        char buf[8] = {0};
        read(c, buf, 4);
        int p[2];
        pipe(p);
        write(p[1], "through", 7);
        close(p[1]);
        struct rights r;
        sendmsg(c, rights_msg(&r, p[0]), 0);
        names("  child: peer name", c, 1);
        names("  child: own name", c, 0);
        printf("  child got %s\n", buf);
        fflush(stdout);
        _exit(0);
    }
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    int x = accept(s, (struct sockaddr *)&a, &len);
    show("  accepted from", &a, len);
    char buf[8] = {0};
    read(x, buf, 4);
    printf("  parent got %s\n", buf);
    fflush(stdout);
    write(x, "pong", 4);
    struct rights r;
    struct msghdr *m = rights_msg(&r, -1);
    int got = -1;
    if (recvmsg(x, m, 0) == 1 && CMSG_FIRSTHDR(m))
        memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(m)), sizeof(int));
    char text[16] = {0};
    if (got >= 0)
        read(got, text, sizeof text - 1);
    int status;
    waitpid(pid, &status, 0); /* the child has printed its lines */
    printf("  descriptor passed: %s\n", got >= 0 ? text : "none");
    printf("  child exit %d\n", WEXITSTATUS(status));
    names("  accepted name", x, 0);
    close(x);
    close(s);
}

static void datagrams(void)
{
    int s = listener(SOCK_DGRAM, "dgram.sock");
    struct sockaddr_un to, from;
    socklen_t tolen = addr_of(&to, "dgram.sock");
    int c = socket(AF_UNIX, SOCK_DGRAM, 0);
    printf("sendto unbound: %s\n", en(sendto(c, "one", 3, 0, (struct sockaddr *)&to, tolen)));
    char buf[8] = {0};
    socklen_t flen = sizeof from;
    recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &flen);
    printf("got %s, ", buf);
    show("from", &from, flen);
    struct sockaddr_un me;
    socklen_t melen = addr_of(&me, "client.sock");
    printf("bind client: %s\n", en(bind(c, (struct sockaddr *)&me, melen)));
    struct iovec iov = {"two", 3};
    struct msghdr m = {.msg_name = &to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1};
    printf("sendmsg bound: %s\n", en(sendmsg(c, &m, 0) == 3 ? 0 : -1));
    memset(buf, 0, sizeof buf);
    flen = sizeof from;
    recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &flen);
    printf("got %s, ", buf);
    show("from", &from, flen);
    /* Abstract datagrams: a reply to the name recvfrom gave. */
    int as = listener(SOCK_DGRAM, "@mvm-test-dgram");
    struct sockaddr_un ato;
    socklen_t atolen = addr_of(&ato, "@mvm-test-dgram");
    int ac = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un ame;
    socklen_t amelen = addr_of(&ame, "@mvm-test-dgram-client");
    bind(ac, (struct sockaddr *)&ame, amelen);
    sendto(ac, "three", 5, 0, (struct sockaddr *)&ato, atolen);
    memset(buf, 0, sizeof buf);
    flen = sizeof from;
    recvfrom(as, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &flen);
    printf("got %s, ", buf);
    show("from", &from, flen);
    printf("reply: %s\n", en(sendto(as, "four", 4, 0, (struct sockaddr *)&from, flen) == 4 ? 0 : -1));
    memset(buf, 0, sizeof buf);
    recv(ac, buf, sizeof buf - 1, 0);
    printf("client got %s\n", buf);
    close(s), close(c), close(as), close(ac);
}

static void mistakes(void)
{
    struct sockaddr_un a;
    socklen_t len;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    len = addr_of(&a, "stream.sock");
    printf("bind over an existing socket file: %s\n", en(bind(s, (struct sockaddr *)&a, len)));
    len = addr_of(&a, "missing.sock");
    printf("connect to a missing path: %s\n", en(connect(s, (struct sockaddr *)&a, len)));
    close(open(strcat(strcpy((char[200]){0}, dir), "/plain.txt"), O_CREAT | O_WRONLY, 0644));
    len = addr_of(&a, "plain.txt");
    printf("connect to a regular file: %s\n", en(connect(s, (struct sockaddr *)&a, len)));
    len = addr_of(&a, "no-such-dir/x.sock");
    printf("bind in a missing directory: %s\n", en(bind(s, (struct sockaddr *)&a, len)));
    len = addr_of(&a, "stream.sock");
    struct stat st = {0};
    int r = stat(a.sun_path, &st);
    printf("the socket file: %s, is a socket %s\n", en(r), S_ISSOCK(st.st_mode) ? "yes" : "no");
    printf("unlink it: %s\n", en(unlink(a.sun_path)));
    printf("connect after unlink: %s\n", en(connect(s, (struct sockaddr *)&a, len)));
    len = addr_of(&a, "@mvm-test-nobody-listens");
    printf("connect to an abstract name nobody bound: %s\n",
           en(connect(s, (struct sockaddr *)&a, len)));
    int t = socket(AF_UNIX, SOCK_STREAM, 0);
    a.sun_family = AF_UNIX;
    printf("autobind: %s\n", en(bind(t, (struct sockaddr *)&a, sizeof(sa_family_t))));
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    getsockname(t, (struct sockaddr *)&got, &glen);
    printf("autobind name: abstract %s, len %u\n", got.sun_path[0] == 0 ? "yes" : "no", glen);
    printf("socket(AF_UNIX, SOCK_STREAM, 7): %s\n", en(socket(AF_UNIX, SOCK_STREAM, 7)));
    printf("socket(AF_UNIX, SOCK_RAW, 0): %s\n", en(socket(AF_UNIX, SOCK_RAW, 0)));
    close(s), close(t);
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : "/tmp";
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("stream, named:\n");
    conversation(SOCK_STREAM, "stream.sock");
    printf("seqpacket, named:\n");
    conversation(SOCK_SEQPACKET, "seq.sock");
    printf("stream, abstract:\n");
    conversation(SOCK_STREAM, "@mvm-test-stream");
    datagrams();
    mistakes();
    printf("done\n");
    return 0;
}
