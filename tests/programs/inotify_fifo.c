/* inotify on a directory (create, write, rename, delete, and IN_DONT_FOLLOW on a symlink), and
 * named pipes (mkfifo, a writer in a child). argv[1]: a writable
 * directory. One line per check, "done" at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *mask_name(unsigned m)
{
    static char buf[128];
    buf[0] = 0;
    const struct {
        unsigned bit;
        const char *name;
    } names[] = {{IN_CREATE, "CREATE"},       {IN_MODIFY, "MODIFY"},     {IN_CLOSE_WRITE, "CLOSE_WRITE"},
                 {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"}, {IN_DELETE, "DELETE"},
                 {IN_ATTRIB, "ATTRIB"},         {IN_ISDIR, "ISDIR"},       {IN_IGNORED, "IGNORED"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (m & names[i].bit) {
            if (buf[0])
                strcat(buf, "|");
            strcat(buf, names[i].name);
        }
    return buf;
}

static void drain(int in)
{
    char buf[4096] __attribute__((aligned(8)));
    ssize_t n = read(in, buf, sizeof buf);
    for (char *p = buf; n > 0 && p < buf + n;) {
        struct inotify_event *e = (struct inotify_event *)p;
        printf("  event %s %s\n", mask_name(e->mask), e->len ? e->name : "-");
        p += sizeof *e + e->len;
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    setvbuf(stdout, NULL, _IOLBF, 0);
    char path[512], other[512];
    int in = inotify_init1(IN_CLOEXEC);
    printf("inotify_init1: %s\n", in >= 0 ? "ok" : strerrorname_np(errno));
    int wd = inotify_add_watch(in, dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                            IN_MOVED_TO | IN_DELETE);
    printf("watch the directory: %s\n", wd >= 0 ? "ok" : strerrorname_np(errno));
    snprintf(path, sizeof path, "%s/created.txt", dir);
    snprintf(other, sizeof other, "%s/renamed.txt", dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "x", 1);
    close(fd);
    rename(path, other);
    unlink(other);
    drain(in);
    printf("watch a missing path: %s\n",
           inotify_add_watch(in, "/no/such/dir", IN_CREATE) < 0 ? strerrorname_np(errno) : "ok");
    snprintf(path, sizeof path, "%s/link", dir);
    symlink("/nowhere", path);
    printf("watch a dangling symlink: %s, with IN_DONT_FOLLOW: %s\n",
           inotify_add_watch(in, path, IN_ATTRIB) < 0 ? strerrorname_np(errno) : "ok",
           inotify_add_watch(in, path, IN_ATTRIB | IN_DONT_FOLLOW) < 0 ? strerrorname_np(errno)
                                                                       : "ok");
    unlink(path);
    printf("rm_watch: %s\n", inotify_rm_watch(in, wd) == 0 ? "ok" : strerrorname_np(errno));
    drain(in);
    printf("rm_watch again: %s\n", inotify_rm_watch(in, wd) == 0 ? "ok" : strerrorname_np(errno));

    snprintf(path, sizeof path, "%s/fifo", dir);
    printf("mkfifo: %s\n", mkfifo(path, 0600) == 0 ? "ok" : strerrorname_np(errno));
    struct stat st;
    stat(path, &st);
    printf("is a fifo: %s\n", S_ISFIFO(st.st_mode) ? "yes" : "no");
    pid_t c = fork();
    if (c == 0) {
        int w = open(path, O_WRONLY);
        write(w, "through the fifo", 16);
        _exit(0);
    }
    int r = open(path, O_RDONLY);
    char buf[32] = {0};
    read(r, buf, sizeof buf - 1);
    waitpid(c, NULL, 0);
    printf("read: %s\n", buf);
    close(r);
    unlink(path);
    printf("done\n");
    return 0;
}
