/* The text check against its labelled corpus (tests/data/textcheck/corpus.tsv, written by
 * gen.py beside it; every person in it is invented). Prints recall per category and the
 * share of clean lines flagged, and holds the check to its targets: every name category
 * together >= 0.97, each structured kind >= 0.99, clean lines flagged <= 3%. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policy.h"

enum { MAX_CATS = 32, MAX_FOUND = 64 };

typedef struct {
    char name[40];
    unsigned lines, caught;
} s_cat_t;

static s_cat_t *s_cat(s_cat_t *cats, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(cats[i].name, name))
            return &cats[i];
    cr_assert_lt(*n, MAX_CATS);
    s_cat_t *c = &cats[(*n)++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    return c;
}

/* Every labelled span overlaps a finding of its kind (a name may be a register name). */
static int s_caught(char *spans, const policy_finding_t *f, size_t n)
{
    for (char *save = NULL, *sp = strtok_r(spans, ";", &save); sp;
         sp = strtok_r(NULL, ";", &save)) {
        char kind[32];
        unsigned s, e;
        cr_assert_eq(sscanf(sp, "%31[^:]:%u:%u", kind, &s, &e), 3, "bad span %s", sp);
        int hit = 0;
        for (size_t i = 0; i < n && !hit; i++) {
            const char *k = policy_kind_name(f[i].kind);
            int kind_ok = !strcmp(k, kind) ||
                          (!strcmp(kind, "name") && f[i].kind == POLICY_KIND_REGISTER_NAME);
            hit = kind_ok && f[i].start < e && s < f[i].end;
        }
        if (!hit)
            return 0;
    }
    return 1;
}

Test(textcheck_corpus, recall_and_false_positives_meet_the_targets)
{
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    char path[4096];
    snprintf(path, sizeof(path), "%s/deploy/gazetteer", src);
    int err = 0;
    policy_t *p = policy_new(path, &err);
    cr_assert_not_null(p, "loading %s: %s", path, tacnet_strerror(err));
    snprintf(path, sizeof(path), "%s/tests/data/textcheck/corpus.tsv", src);
    FILE *in = fopen(path, "r");
    cr_assert_not_null(in, "%s", path);

    s_cat_t cats[MAX_CATS];
    size_t ncat = 0;
    unsigned name_lines = 0, name_caught = 0, total = 0;
    int verbose = getenv("TACNET_CORPUS_MISSES") != NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, in)) > 0) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *text = strchr(line, '\t');
        cr_assert_not_null(text);
        *text++ = 0;
        char *spans = strchr(text, '\t');
        cr_assert_not_null(spans);
        *spans++ = 0;
        policy_finding_t f[MAX_FOUND];
        size_t n = 0;
        int rc = policy_text_check(p, NULL, text, strlen(text), f, MAX_FOUND, &n);
        cr_assert(rc == 0 || rc == TACNET_ETEXT);
        cr_assert_leq(n, MAX_FOUND);
        s_cat_t *c = s_cat(cats, &ncat, line);
        c->lines++;
        total++;
        int ok = !strcmp(line, "clean") ? n > 0 : s_caught(spans, f, n);
        c->caught += (unsigned)ok;
        if (!strncmp(line, "name_", 5))
            name_lines++, name_caught += (unsigned)ok;
        if (verbose && ok == !strcmp(line, "clean"))
            fprintf(stderr, "miss %s: %s (%zu findings%s%s)\n", line, text, n, n ? ", first " : "",
                    n ? policy_kind_name(f[0].kind) : "");
    }
    free(line);
    fclose(in);
    policy_destroy(&p);

    cr_assert_geq(total, 2000);
    printf("text check corpus: %u lines\n%-24s %6s %6s %8s\n", total, "category", "lines", "hit",
           "rate");
    for (size_t i = 0; i < ncat; i++)
        printf("%-24s %6u %6u %8.4f%s\n", cats[i].name, cats[i].lines, cats[i].caught,
               (double)cats[i].caught / cats[i].lines,
               !strcmp(cats[i].name, "clean") ? "  (flagged: false positives)" : "");
    double names = (double)name_caught / name_lines;
    printf("%-24s %6u %6u %8.4f\n", "names (all name_*)", name_lines, name_caught, names);
    fflush(stdout);
    cr_expect_geq(names, 0.97, "names recall %.4f", names);
    for (size_t i = 0; i < ncat; i++) {
        double r = (double)cats[i].caught / cats[i].lines;
        if (!strcmp(cats[i].name, "clean"))
            cr_expect_leq(r, 0.03, "clean lines flagged %.4f", r);
        else if (strncmp(cats[i].name, "name_", 5))
            cr_expect_geq(r, 0.99, "%s recall %.4f", cats[i].name, r);
    }
}
