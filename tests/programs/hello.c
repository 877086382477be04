/* Prints its arguments as a JSON-ish list: hello, args: ["a b", ""] */
#include <stdio.h>

static void put_quoted(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c); /* UTF-8 passes through byte for byte */
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    fputs("hello, args: [", stdout);
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            fputs(", ", stdout);
        put_quoted(argv[i]);
    }
    fputs("]\n", stdout);
    return 0;
}
