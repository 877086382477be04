/* Dies of a fault chosen by argv[1]: null (SIGSEGV), ud2 (SIGILL), div0 (SIGFPE), abort (SIGABRT). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char *what)
{
    /* Unbuffered, so the line is out before the fault, natively and in the VM alike. */
    write(1, "crash: ", 7);
    write(1, what, strlen(what));
    write(1, "\n", 1);
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    say(what);
    if (strcmp(what, "null") == 0) {
        int *volatile p = NULL; /* opaque to the compiler: a real load from address 0 */
        return *p;
    } else if (strcmp(what, "ud2") == 0) {
        __builtin_trap();
    } else if (strcmp(what, "div0") == 0) {
        volatile int a = 1, b = 0;
        return a / b;
    } else if (strcmp(what, "abort") == 0) {
        abort();
    }
    write(2, "crash: unknown fault\n", 21);
    return 2;
}
