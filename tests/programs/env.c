/* For each argv[i] prints NAME=value or "NAME unset"; then the cwd. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
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
