/* Says "ready" and then spins in ring 3 forever without making a system call: --timeout and
 * signals must still end it. */
#include <unistd.h>

int main(void)
{
    write(1, "ready\n", 6);
    for (volatile unsigned long i = 0;; i++)
        ;
}
