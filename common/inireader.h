/* inireader: what inih's ini_parse_stream reads from — a text in memory or an open file —
 * counting lines as it goes, so that a handler's reasons can name the line. Debian's inih is
 * built without INI_HANDLER_LINENO, so handlers are given none.
 *
 * A line longer than inih's buffer reaches it in several chunks; it counts once.
 */
#ifndef TACNET_INIREADER_H
#define TACNET_INIREADER_H

#include <stdio.h>

typedef struct inireader {
    const char *text;      /* what is left to read (NULL: read FP) */
    FILE *fp;              /* the file to read when there is no TEXT */
    unsigned line;         /* the line inih was last given (1-based; 0 before the first) */
    unsigned section_line; /* the line of the last "[section]" header given */
    int mid_line;          /* the last chunk ended inside a line */
} inireader_t;

/* A reader of TEXT (NUL-terminated; borrowed until parsing ends). */
inireader_t inireader_text(const char *text);
/* A reader of FP (borrowed; the caller closes it). */
inireader_t inireader_file(FILE *fp);

/* ini_reader for ini_parse_stream with an inireader_t * as its stream. */
char *inireader_read(char *str, int num, void *stream);

#endif
