/* For each argv[i] prints NAME=value or "NAME unset"; then the cwd. With --all, prints the whole
 * environment in order instead of named variables. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--all") == 0) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        argc = 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *v = getenv(argv[i]);
        if (v)
            printf("%s=%s\n", argv[i], v);
        else
            printf("%s unset\n", argv[i]);
    }
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf))
        printf("cwd=%s\n", buf);
    else
        perror("getcwd");
    return 0;
}
