/* Pokes at mvm's tiny kernel from ring 3 (addresses from vmm/src/layout.rs): reading its code page
 * is allowed (PVM needs ring-0 code user-readable), writing it or touching its tables and stack
 * must fault, and so must a second vCPU's page (a thread's GDT, TSS and stack).
 * argv[1]: read-code | write-code | read-gdt | read-stack | read-cpu-area. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *nothing(void *a) { return a; }

#define KERNEL_VBASE 0x7fffffc00000UL
#define CPU_AREAS 0x10000UL

int main(int argc, char **argv)
{
    volatile unsigned char *code = (unsigned char *)(KERNEL_VBASE + 0x1000);
    volatile unsigned char *gdt = (unsigned char *)(KERNEL_VBASE + 0x2000);
    volatile unsigned char *stack = (unsigned char *)(KERNEL_VBASE + 0x7000);
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "read-code"))
        printf("code starts %02x %02x\n", code[0], code[1]);
    else if (!strcmp(what, "write-code"))
        code[0] = 0x90;
    else if (!strcmp(what, "read-gdt"))
        printf("gdt %02x\n", gdt[16]);
    else if (!strcmp(what, "read-stack"))
        printf("stack %02x\n", stack[0]);
    else if (!strcmp(what, "read-cpu-area")) {
        pthread_t t;
        pthread_create(&t, NULL, nothing, NULL);
        pthread_join(t, NULL);
        printf("cpu area %02x\n", *(volatile unsigned char *)(KERNEL_VBASE + CPU_AREAS));
    }
    else
        return 2;
    printf("survived %s\n", what);
    return 0;
}
