/* Exercises the file syscalls inside the directory argv[1] and prints one line per check, with
 * results that do not depend on where the directory is: run natively and under mvm, the outputs
 * must be identical. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define R(name, expr)                                                                            \
    do {                                                                                         \
        errno = 0;                                                                               \
        long r_ = (long)(expr);                                                                  \
        printf("%s: %ld %s\n", name, r_, r_ < 0 ? strerrorname_np(errno) : "");                  \
    } while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void list(const char *what, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char buf[256];
    char *names[64];
    int n = 0;
    long got;
    while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long at = 0; at < got;) {
            unsigned short reclen = *(unsigned short *)(buf + at + 16);
            if (n < 64)
                names[n++] = strdup(buf + at + 19);
            at += reclen;
        }
    }
    qsort(names, n, sizeof *names, cmp);
    printf("%s:", what);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) != 0) {
        printf("usage: fs_calls DIR\n");
        return 2;
    }
    umask(022);
    char buf[64] = {0};
    int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0666);
    R("open", fd >= 0);
    R("write", write(fd, "hello world", 11));
    R("lseek", lseek(fd, 6, SEEK_SET));
    R("read", read(fd, buf, sizeof buf - 1));
    printf("data: %s\n", buf);
    R("pwrite", pwrite(fd, "HELLO", 5, 0));
    memset(buf, 0, sizeof buf);
    R("pread", pread(fd, buf, 11, 0));
    printf("data: %s\n", buf);
    int d = dup(fd);
    lseek(fd, 3, SEEK_SET);
    R("dup shares offset", lseek(d, 0, SEEK_CUR));
    R("F_GETFD", fcntl(d, F_GETFD));
    R("F_SETFD", fcntl(d, F_SETFD, FD_CLOEXEC));
    R("F_GETFD after", fcntl(d, F_GETFD));
    R("F_DUPFD>=10", fcntl(fd, F_DUPFD, 10) >= 10);
    R("F_GETFL", fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    R("F_SETLK", fcntl(fd, F_SETLK, &fl));
    fl.l_type = F_RDLCK;
    R("F_GETLK", fcntl(fd, F_GETLK, &fl));
    printf("lock type: %d\n", fl.l_type == F_UNLCK);
    R("F_OFD_SETLK", fcntl(fd, F_OFD_SETLK, &(struct flock){.l_type = F_RDLCK, .l_len = 1}));
    R("flock", flock(fd, LOCK_EX));
    R("flock un", flock(fd, LOCK_UN));
    R("ftruncate", ftruncate(fd, 5));
    R("fallocate", fallocate(fd, 0, 0, 8192));
    R("fsync", fsync(fd));
    R("fdatasync", fdatasync(fd));
    R("fadvise", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
    struct stat st;
    R("fstat", fstat(fd, &st));
    printf("size %ld mode %o\n", (long)st.st_size, st.st_mode);
    R("ftruncate back", ftruncate(fd, 5));
    R("stat", stat("f", &st));
    printf("size %ld nlink %ld\n", (long)st.st_size, (long)st.st_nlink);
    struct statx sx;
    R("statx", statx(AT_FDCWD, "f", 0, STATX_SIZE, &sx));
    printf("statx size %llu\n", (unsigned long long)sx.stx_size);
    R("statx empty path", statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
    R("mkdir", mkdir("d", 0777));
    R("mkdir again", mkdir("d", 0777));
    R("stat dir mode", (stat("d", &st), st.st_mode));
    R("creat in d", close(creat("d/x", 0600)));
    R("rmdir nonempty", rmdir("d"));
    R("symlink", symlink("f", "l"));
    memset(buf, 0, sizeof buf);
    R("readlink", readlink("l", buf, sizeof buf));
    printf("link: %s\n", buf);
    R("readlink of file", readlink("f", buf, sizeof buf));
    R("lstat is link", (lstat("l", &st), S_ISLNK(st.st_mode)));
    R("stat via link size", (stat("l", &st), st.st_size));
    R("open O_NOFOLLOW link", open("l", O_RDONLY | O_NOFOLLOW));
    R("link", link("f", "h"));
    R("nlink", (stat("f", &st), st.st_nlink));
    R("rename", rename("h", "h2"));
    R("renameat2 noreplace", syscall(SYS_renameat2, AT_FDCWD, "h2", AT_FDCWD, "f", RENAME_NOREPLACE));
    R("unlink", unlink("h2"));
    R("unlink missing", unlink("h2"));
    R("unlink dir", unlink("d"));
    R("access", access("f", R_OK | W_OK));
    R("access missing", access("nope", F_OK));
    R("faccessat2", syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, AT_EACCESS));
    R("chmod", chmod("f", 0600));
    R("mode", (stat("f", &st), st.st_mode & 07777));
    R("fchmod", fchmod(fd, 0640));
    R("mode", (stat("f", &st), st.st_mode & 07777));
    struct timespec ts[2] = {{1000000000, 0}, {1234567890, 500}};
    R("utimensat", utimensat(AT_FDCWD, "f", ts, 0));
    R("mtime", (stat("f", &st), st.st_mtim.tv_sec));
    R("futimens", futimens(fd, ts));
    R("truncate", truncate("f", 2));
    R("size", (stat("f", &st), st.st_size));
    R("open excl", open("f", O_CREAT | O_EXCL | O_WRONLY, 0600));
    R("open missing", open("nope/x", O_RDONLY));
    R("open notdir", open("f/x", O_RDONLY));
    R("open dir for write", open("d", O_WRONLY));
    R("O_DIRECTORY on file", open("f", O_RDONLY | O_DIRECTORY));
    int dfd = open("d", O_RDONLY | O_DIRECTORY);
    R("openat rel", close(openat(dfd, "x", O_RDONLY)));
    R("fstatat rel", fstatat(dfd, "x", &st, 0));
    R("mkdirat", mkdirat(dfd, "sub", 0700));
    R("unlinkat dir", unlinkat(dfd, "sub", AT_REMOVEDIR));
    R("renameat", renameat(dfd, "x", AT_FDCWD, "y"));
    R("symlinkat", symlinkat("y", dfd, "ly"));
    R("linkat", linkat(AT_FDCWD, "y", dfd, "hy", 0));
    R("fchdir", fchdir(dfd));
    R("stat ../y", stat("../y", &st));
    /* The directory's host path can be long (a CI checkout): give getcwd room. */
    static char cwd[4096];
    const char *slash = getcwd(cwd, sizeof cwd) ? strrchr(cwd, '/') : NULL;
    R("getcwd ends in /d", slash && strcmp(slash, "/d") == 0);
    R("chdir missing", chdir("nope"));
    R("chdir file", chdir("hy"));
    R("chdir ..", chdir(".."));
    list("entries", ".");
    list("entries d", "d");
    R("getcwd small", syscall(SYS_getcwd, buf, 2));
    int p[2];
    R("pipe", pipe(p));
    R("pipe write", write(p[1], "abc", 3));
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    R("poll", poll(&pfd, 1, 1000));
    printf("revents %d\n", pfd.revents);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval tv = {1, 0};
    R("select", select(p[0] + 1, &rs, NULL, NULL, &tv));
    int avail = 0;
    R("FIONREAD", ioctl(p[0], FIONREAD, &avail));
    printf("avail %d\n", avail);
    R("pipe read", read(p[0], buf, sizeof buf));
    R("pipe2", pipe2(p, O_CLOEXEC | O_NONBLOCK));
    R("nonblock read", read(p[0], buf, 1));
    int ev = eventfd(5, 0);
    uint64_t v = 0;
    R("eventfd read", (read(ev, &v, 8), v));
    int mfd = memfd_create("x", MFD_CLOEXEC);
    R("memfd write", write(mfd, "12345678", 8));
    R("memfd size", (fstat(mfd, &st), st.st_size));
    int out = open("copy", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    off_t off = 2;
    R("sendfile", sendfile(out, mfd, &off, 4));
    printf("off %ld\n", (long)off);
    loff_t oi = 0;
    R("copy_file_range", copy_file_range(mfd, &oi, out, NULL, 3, 0));
    R("copy size", (fstat(out, &st), st.st_size));
    R("umask", umask(077));
    R("umask back", umask(022));
    struct statfs sf;
    R("statfs", statfs(".", &sf));
    R("fstatfs", fstatfs(fd, &sf));
    R("dev/null write", write(open("/dev/null", O_WRONLY), "x", 1));
    memset(buf, 1, 8);
    R("dev/zero read", (read(open("/dev/zero", O_RDONLY), buf, 8), buf[0] + buf[7]));
    R("urandom read", read(open("/dev/urandom", O_RDONLY), buf, 16));
    R("close_range", syscall(SYS_close_range, 20, ~0U, 0));
    R("close", close(fd));
    R("close again", close(fd));
    R("bad fd", write(999, "x", 1));
    printf("done\n");
    return 0;
}
