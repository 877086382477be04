/* Hands the kernel bad pointers, fds and flags, and prints what each call returned. Under mvm
 * every one must fail with the errno Linux gives (compared with a native run), never crash mvm
 * or the program. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void report(const char *what, long ret)
{
    char buf[160];
    int n = snprintf(buf, sizeof buf, "%s = %ld%s%s\n", what, ret, ret < 0 ? " " : "",
                     ret < 0 ? strerrorname_np(errno) : "");
    write(1, buf, n); /* unbuffered: results interleave with nothing */
}

int main(void)
{
    /* No mmap after the munmap, so that nothing is placed in the hole. */
    char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *gone = page + 4096;
    munmap(gone, 4096);
    char *kernel = (char *)0xffff880000000000UL;

    report("write(1, NULL, 10)", syscall(SYS_write, 1, NULL, 10));
    report("write(1, 1, 10)", syscall(SYS_write, 1, (void *)1, 10));
    report("write(1, kernel, 10)", syscall(SYS_write, 1, kernel, 10));
    report("write(1, unmapped, 10)", syscall(SYS_write, 1, gone, 10));
    report("write(1, PROT_NONE, 10)", syscall(SYS_write, 1, none, 10));
    report("write(1, noncanonical, 10)", syscall(SYS_write, 1, (void *)0x0000900000000000UL, 10));
    report("write(99, buf, 1)", syscall(SYS_write, 99, page, 1));
    report("write(-1, buf, 1)", syscall(SYS_write, -1, page, 1));
    report("read(99, buf, 1)", syscall(SYS_read, 99, page, 1));
    report("close(99)", syscall(SYS_close, 99));
    report("fstat(1, NULL)", syscall(SYS_fstat, 1, NULL));
    report("fstat(99, buf)", syscall(SYS_fstat, 99, page));
    report("uname(NULL)", syscall(SYS_uname, NULL));
    report("uname(unmapped)", syscall(SYS_uname, gone));
    report("clock_gettime(MONOTONIC, NULL)", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL));
    report("clock_gettime(12345, buf)", syscall(SYS_clock_gettime, 12345, page));
    report("nanosleep(NULL, NULL)", syscall(SYS_nanosleep, NULL, NULL));
    report("getrandom(unmapped, 16, 0)", syscall(SYS_getrandom, gone, 16, 0));
    report("getrandom(buf, 16, 0x100)", syscall(SYS_getrandom, page, 16, 0x100));
    report("getcwd(NULL, 100)", syscall(SYS_getcwd, NULL, 100));
    report("getcwd(buf, 1)", syscall(SYS_getcwd, page, 1));
    report("rt_sigaction(SIGKILL, act)", syscall(SYS_rt_sigaction, 9, page, NULL, 8));
    report("rt_sigaction(99, NULL)", syscall(SYS_rt_sigaction, 99, NULL, NULL, 8));
    report("rt_sigprocmask(99, NULL)", syscall(SYS_rt_sigprocmask, 99, page, NULL, 8));
    report("mmap(len 0)", syscall(SYS_mmap, NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    report("mmap(unaligned fixed)",
           syscall(SYS_mmap, page + 1, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    report("mmap(no MAP_PRIVATE/SHARED)", syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0));
    report("munmap(unaligned)", syscall(SYS_munmap, page + 1, 4096));
    report("mprotect(unaligned)", syscall(SYS_mprotect, page + 1, 4096, PROT_READ));
    report("mprotect(unmapped)", syscall(SYS_mprotect, gone, 4096, PROT_READ));
    report("madvise(bad advice)", syscall(SYS_madvise, page, 4096, 12345));
    report("mremap(unmapped)", syscall(SYS_mremap, gone, 4096, 8192, MREMAP_MAYMOVE));
    report("arch_prctl(bad code)", syscall(SYS_arch_prctl, 0x9999, 0));
    report("syscall 9999", syscall(9999));
    report("syscall 400", syscall(400));
    report("ioctl(1, bad request)", syscall(SYS_ioctl, 1, 0x12345678, 0));
    report("lseek(1, 0, bad whence)", syscall(SYS_lseek, 1, 0, 99));
    /* The program still works after all that. */
    page[0] = 'o';
    page[1] = 'k';
    page[2] = '\n';
    write(1, page, 3);
    return 0;
}
