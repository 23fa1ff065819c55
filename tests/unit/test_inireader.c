#include <criterion/criterion.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

#include "inireader.h"

typedef struct {
    inireader_t *rd;
    unsigned line[8], section_line[8];
    char key[8][16];
    size_t n;
} seen_t;

static int s_on_key(void *user, const char *section, const char *name, const char *value)
{
    (void)section, (void)value;
    seen_t *s = user;
    if (s->n < 8) {
        s->line[s->n] = s->rd->line;
        s->section_line[s->n] = s->rd->section_line;
        snprintf(s->key[s->n], sizeof(s->key[0]), "%s", name);
        s->n++;
    }
    return 1;
}

/* Two sections, a comment, a blank line, and a value longer than inih's 200-byte line buffer
 * (INI_MAX_LINE on Debian): inih reads it in chunks (and reports the line as an error), and it
 * must still count as one line. */
static const char *s_text(void)
{
    static char text[1024];
    char longval[400];
    memset(longval, 'x', sizeof(longval) - 1);
    longval[sizeof(longval) - 1] = 0;
    snprintf(text, sizeof(text), "; a comment\n[one]\na = 1\n\nlong = %s\nb = 2\n[two]\nc = 3",
             longval);
    return text;
}

static void s_check(const seen_t *s)
{
    /* "long" may or may not reach the handler whole, but the keys after it are on their lines. */
    size_t b = s->n - 2, c = s->n - 1;
    cr_assert_str_eq(s->key[0], "a");
    cr_assert_eq(s->line[0], 3);
    cr_assert_eq(s->section_line[0], 2);
    cr_assert_str_eq(s->key[b], "b");
    cr_assert_eq(s->line[b], 6, "b on line %u", s->line[b]);
    cr_assert_eq(s->section_line[b], 2);
    cr_assert_str_eq(s->key[c], "c");
    cr_assert_eq(s->line[c], 8, "c on line %u", s->line[c]);
    cr_assert_eq(s->section_line[c], 7);
}

Test(inireader, counts_lines_of_a_text_once_each_however_long)
{
    inireader_t rd = inireader_text(s_text());
    seen_t s = { .rd = &rd };
    ini_parse_stream(inireader_read, &rd, s_on_key, &s);
    s_check(&s);
}

Test(inireader, counts_lines_of_a_file_the_same_way)
{
    FILE *fp = tmpfile();
    cr_assert_not_null(fp);
    fputs(s_text(), fp);
    rewind(fp);
    inireader_t rd = inireader_file(fp);
    seen_t s = { .rd = &rd };
    ini_parse_stream(inireader_read, &rd, s_on_key, &s);
    fclose(fp);
    s_check(&s);
}

Test(inireader, an_empty_text_and_no_file_give_nothing)
{
    char buf[16];
    inireader_t rd = inireader_text("");
    cr_assert_null(inireader_read(buf, sizeof(buf), &rd));
    inireader_t none = inireader_file(NULL);
    cr_assert_null(inireader_read(buf, sizeof(buf), &none));
    cr_assert_eq(none.line, 0);
}
