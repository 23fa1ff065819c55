/* inireader: inih's input with a line count. See inireader.h. */
#include "inireader.h"

#include <string.h>

inireader_t inireader_text(const char *text)
{
    return (inireader_t){ .text = text };
}

inireader_t inireader_file(FILE *fp)
{
    return (inireader_t){ .fp = fp };
}

char *inireader_read(char *str, int num, void *stream)
{
    inireader_t *rd = stream;
    if (num < 2)
        return NULL;
    if (rd->text) {
        if (!*rd->text)
            return NULL;
        const char *nl = strchr(rd->text, '\n');
        size_t n = nl ? (size_t)(nl - rd->text) + 1 : strlen(rd->text);
        if (n > (size_t)num - 1)
            n = (size_t)num - 1;
        memcpy(str, rd->text, n);
        str[n] = 0;
        rd->text += n;
    } else if (!rd->fp || !fgets(str, num, rd->fp)) {
        return NULL;
    }
    if (!rd->mid_line) {
        rd->line++;
        if (str[0] == '[') /* inih reads an indented line as a value's continuation */
            rd->section_line = rd->line;
    }
    size_t len = strlen(str);
    rd->mid_line = len == 0 || str[len - 1] != '\n';
    return str;
}
