/* Says "ready" and then sleeps forever in nanosleep: for --timeout and signal tests. */
#include <time.h>
#include <unistd.h>

int main(void)
{
    write(1, "ready\n", 6);
    for (;;) {
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
}
