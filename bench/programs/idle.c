/* Idle instance for bench/density: prints "ready TAG" and then sleeps in pause()
 * forever (until killed). One write and one pause: the smallest idle program. */
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char buf[128] = "ready ";
	size_t n = 6;
	if (argc > 1) { size_t l = strlen(argv[1]); if (l > 100) l = 100; memcpy(buf + n, argv[1], l); n += l; }
	buf[n++] = '\n';
	if (write(1, buf, n) != (ssize_t)n) return 1;
	for (;;) pause();
}
