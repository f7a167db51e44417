/* prompt.h — questions asked on the terminal (/dev/tty), a password without echo. */
#ifndef APIKEY_PROMPT_H
#define APIKEY_PROMPT_H

#include <stddef.h>

/* Shows label and reads one line into out (the newline dropped). echo 0 hides what is typed.
 * 0, or -1 when there is no terminal or the line is empty or too long. */
int prompt_line(const char *label, int echo, char *out, size_t cap);

/* Reads one line of standard input into out (for --with-key). 0 or -1. */
int read_stdin_line(char *out, size_t cap);

#endif
