#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
extern char **environ;
/* fexecve and execveat: the descriptor's own file (AT_EMPTY_PATH), a path relative to a
 * directory descriptor, and an empty path without the flag (ENOENT). */
int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) { printf("re-executed with %s\n", argv[1]); return 0; }
    int fd = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
    pid_t p = fork();
    if (p == 0) {
        char *args[] = {"echo", "fexecve works", NULL};
        fexecve(fd, args, environ);
        printf("fexecve failed: %s\n", strerrorname_np(errno));
        _exit(1);
    }
    waitpid(p, NULL, 0);
    p = fork();
    if (p == 0) {
        char *args[] = {"echo", "execveat works", NULL};
        syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
        printf("execveat failed: %s\n", strerrorname_np(errno));
        _exit(1);
    }
    waitpid(p, NULL, 0);
    int dfd = open("/bin", O_RDONLY | O_DIRECTORY);
    p = fork();
    if (p == 0) {
        char *args[] = {"echo", "execveat relative works", NULL};
        syscall(SYS_execveat, dfd, "busybox", args, environ, 0);
        printf("execveat relative failed: %s\n", strerrorname_np(errno));
        _exit(1);
    }
    waitpid(p, NULL, 0);
    errno = 0;
    int r = syscall(SYS_execveat, fd, "", NULL, NULL, 0);
    printf("execveat empty path without the flag: %d %s\n", r, strerrorname_np(errno));
    return 0;
}
