/* Static print-and-exit program: the start->exit benchmark's payload. */
#include <unistd.h>

int main(void)
{
	static const char msg[] = "hello from mvm-bench\n";
	return write(1, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1) ? 0 : 1;
}
