/* N threads (argv[1], default 600) alive at once: each waits at a barrier until all exist, then
 * returns its index; main joins them and prints the sum. Under mvm every thread is a vCPU. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_barrier_t all_here;

static void *body(void *arg)
{
    pthread_barrier_wait(&all_here);
    return arg;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 600;
    pthread_t *t = calloc(n, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    pthread_barrier_init(&all_here, NULL, n + 1);
    int made = 0;
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &attr, body, (void *)(long)i) == 0)
            made++;
    printf("created %d of %d\n", made, n);
    if (made != n)
        return 1;
    pthread_barrier_wait(&all_here);
    long sum = 0;
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("joined all, sum %ld\n", sum);
    return 0;
}
