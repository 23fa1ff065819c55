/* why: the two helpers every casework check shares: a refusal with its reason, and "is there
 * any text here".
 *
 * Casework checks answer TACNET_EFIELD (or another code) with one line in WHY naming the field,
 * so the CLI, the API and the dashboard can show the person what to change. */
#ifndef TACNET_CASEWORK_WHY_H
#define TACNET_CASEWORK_WHY_H

#include <stddef.h>

/* Print FMT into WHY (CAP bytes; either may be NULL/0) and return CODE. */
int casework_refuse(int code, char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 1 if S holds anything but spaces, tabs and line ends; 0 for NULL or blank. */
int casework_has_text(const char *s);

#endif
