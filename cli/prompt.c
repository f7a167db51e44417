/* prompt.c — see prompt.h. Echo is turned off with termios and always restored. */
#include "prompt.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>

static int chomp(char *out, size_t cap)
{
    size_t n = strlen(out);
    if (n == 0 || (out[n - 1] != '\n' && n + 1 >= cap))
        return -1; /* nothing, or longer than the buffer */
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return n ? 0 : -1;
}

int prompt_line(const char *label, int echo, char *out, size_t cap)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return -1;
    setvbuf(tty, NULL, _IONBF, 0); /* no stdio copy of what is typed */
    struct termios old, quiet;
    int hidden = 0;
    if (!echo && tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        hidden = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
    }
    fputs(label, tty);
    fflush(tty);
    out[0] = '\0';
    char *got = fgets(out, (int)cap, tty);
    if (hidden)
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fclose(tty);
    return got ? chomp(out, cap) : -1;
}

int read_stdin_line(char *out, size_t cap)
{
    out[0] = '\0';
    if (!fgets(out, (int)cap, stdin))
        return -1;
    return chomp(out, cap);
}
