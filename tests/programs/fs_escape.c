/* Tries to reach outside the filesystem view from inside a mount at argv[1] (writable) and
 * prints one line per attempt: the errno, or what it reached. Run under mvm only. Then loops
 * opening argv[1]/d/file.txt while the test renames and swaps `d` for a symlink to the outside
 * from the host: it prints ESCAPED if it ever reads the outside file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *at(const char *rel)
{
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", getenv("M"), rel);
    return p;
}

static void try_open(const char *name, const char *p)
{
    errno = 0;
    int fd = open(p, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", name, strerrorname_np(errno));
        return;
    }
    char buf[32] = {0};
    read(fd, buf, sizeof buf - 1);
    buf[strcspn(buf, "\n")] = 0;
    printf("%s: OPENED %s\n", name, buf);
    close(fd);
}

static void try_stat(const char *name, const char *p)
{
    struct stat st;
    errno = 0;
    printf("%s: %s\n", name, stat(p, &st) == 0 ? "EXISTS" : strerrorname_np(errno));
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    setenv("M", argv[1], 1);
    const char *outside = argv[2]; /* a host path outside every mount */
    char p2[4096];
    try_open("dotdot", at("../../../../../../../../etc/shadow"));
    snprintf(p2, sizeof p2, "%s/../../../../../../../..%s/secret.txt", argv[1], outside);
    try_open("dotdot outside", p2);
    symlink("/", at("toroot"));
    try_open("symlink to / then shadow", at("toroot/etc/shadow"));
    try_stat("symlink to / then home", at("toroot/home"));
    try_open("symlink to / then passwd", at("toroot/etc/passwd"));
    symlink(outside, at("toout"));
    snprintf(p2, sizeof p2, "%s", at("toout/secret.txt"));
    try_open("absolute symlink outside", p2);
    symlink("../../../../../../../../../../../..", at("up"));
    snprintf(p2, sizeof p2, "%s%s/secret.txt", at("up"), outside);
    try_open("relative symlink up", p2);
    symlink("/root", at("r"));
    try_stat("symlink to /root", at("r/"));
    try_stat("/root", "/root");
    try_stat("/home", "/home");
    try_stat("/var", "/var");
    try_stat("/run", "/run");
    try_stat("/sys", "/sys");
    /* /sys shows only the synthesized CPU list, never the host's sysfs. */
    try_stat("/sys/kernel", "/sys/kernel");
    try_stat("/sys/class/net", "/sys/class/net");
    try_stat("outside itself", outside);
    try_open("/etc/shadow", "/etc/shadow");
    try_stat("/etc/gshadow", "/etc/gshadow");
    try_stat("/etc/sudoers", "/etc/sudoers");
    try_open("/proc/self/root", "/proc/self/root/etc/shadow");
    try_stat("/proc/1/root", "/proc/1/root");
    try_open("/proc/self/cwd", "/proc/self/cwd/../../etc/shadow");
    errno = 0;
    printf("hardlink /etc/passwd: %s\n", link("/etc/passwd", at("pw")) == 0 ? "LINKED" : strerrorname_np(errno));
    errno = 0;
    printf("hardlink via symlink: %s\n", link(at("toroot/etc/passwd"), at("pw")) == 0 ? "LINKED" : strerrorname_np(errno));
    errno = 0;
    printf("write /etc/passwd: %s\n", open("/etc/passwd", O_WRONLY) >= 0 ? "OPENED" : strerrorname_np(errno));
    errno = 0;
    printf("create in /usr: %s\n", open("/usr/x", O_CREAT | O_WRONLY, 0600) >= 0 ? "CREATED" : strerrorname_np(errno));
    errno = 0;
    printf("mkdir /etc/x: %s\n", mkdir("/etc/x", 0700) == 0 ? "CREATED" : strerrorname_np(errno));
    errno = 0;
    printf("unlink /etc/passwd: %s\n", unlink("/etc/passwd") == 0 ? "REMOVED" : strerrorname_np(errno));
    errno = 0;
    printf("rename out of mount: %s\n", rename(at("toroot"), "/tmp/x") == 0 ? "RENAMED" : strerrorname_np(errno));
    DIR *d = opendir("/etc");
    struct dirent *e;
    int shadow = 0, passwd = 0;
    while (d && (e = readdir(d)))
        shadow |= !strcmp(e->d_name, "shadow") || !strcmp(e->d_name, "sudoers"),
            passwd |= !strcmp(e->d_name, "passwd");
    printf("listing /etc: passwd %d shadow %d\n", passwd, shadow);
    int n = argc > 3 ? atoi(argv[3]) : 0, inside = 0, escaped = 0;
    for (int i = 0; i < n; i++) {
        const char *ps[] = {at("d/file.txt"), at("d/../d/file.txt"), at("d/secret.txt")};
        for (int k = 0; k < 3; k++) {
            int fd = open(ps[k], O_RDONLY);
            if (fd < 0)
                continue;
            char buf[16] = {0};
            read(fd, buf, 6);
            close(fd);
            if (!strcmp(buf, "SECRET"))
                escaped++;
            else
                inside++;
        }
    }
    if (n)
        printf("race: %s (inside %d)\n", escaped ? "ESCAPED" : "held", inside > 0);
    printf("done\n");
    return 0;
}
