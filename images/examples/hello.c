/* The demo program of the README: prints its arguments and where it runs, then exits 0. */
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct utsname u;
    char cwd[256];
    uname(&u);
    printf("hello from pid %d in %s, args: [", (int)getpid(), getcwd(cwd, sizeof cwd) ? cwd : "?");
    for (int i = 1; i < argc; i++)
        printf("%s\"%s\"", i > 1 ? ", " : "", argv[i]);
    printf("]\n");
    return 0;
}
