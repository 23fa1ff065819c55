/* textcheck scenario: the identifier policy's free-text check, per event and in lines per
 * second, beside the check as it was before issue 17 (textcheck_v1.c) on the same texts in the
 * same run. The two are timed in alternating blocks and the best block of each counts, so a
 * burst of load on the shared machine hits both alike. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policy.h"
#include "textcheck_v1.h"

#define S "textcheck"

/* A typical event body's free text: a practitioner's clean note of about 500 characters
 * (most events pass the check; one that fails is refused and rewritten). */
static const char s_note[] =
    "Seen at home with Mum after school. Attendance fell to 86% this half term; the team agreed "
    "weekly check-ins with the learning mentor and a review meeting on 12/03/2026 at 10:30. SDQ "
    "total 17 (emotional 6, conduct 3). Sleep is still poor: settling after 11pm, waking twice. "
    "CAMHS to offer a CAPA choice appointment; GP to review Melatonin in April. Early Help plan "
    "updated and shared with the Designated Safeguarding Lead. No new concerns raised by the "
    "family; next TAF on Thursday in Room 4.";

typedef struct {
    char **lines;
    size_t n;
} s_corpus_t;

static void s_corpus_load(s_corpus_t *c)
{
    char path[4096];
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    snprintf(path, sizeof(path), "%s/tests/data/textcheck/corpus.tsv", src);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char *text = strchr(line, '\t');
        if (line[0] == '#' || !text)
            continue;
        text++;
        text[strcspn(text, "\t\n")] = 0;
        c->lines = realloc(c->lines, (c->n + 1) * sizeof(*c->lines));
        CHECK(c->lines != NULL);
        c->lines[c->n++] = strdup(text);
    }
    free(line);
    fclose(f);
    CHECK(c->n > 0);
}

/* Checks every text once with the new check (V1 == 0) or the old one; returns findings. */
static size_t s_pass(policy_t *p, tcv1_t *p1, const char *const *texts, size_t n, int v1)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t found = 0, len = strlen(texts[i]);
        if (v1) {
            tcv1_finding_t f[16];
            (void)tcv1_text_check(p1, NULL, texts[i], len, f, 16, &found);
        } else {
            policy_finding_t f[16];
            (void)policy_text_check(p, NULL, texts[i], len, f, 16, &found);
        }
        total += found;
    }
    return total;
}

/* Best microseconds per pass of each check over BLOCKS alternating blocks of about BLOCK_US. */
static void s_time(policy_t *p, tcv1_t *p1, const char *const *texts, size_t n, int blocks,
                   uint64_t block_us, double best[2])
{
    best[0] = best[1] = 1e300;
    volatile size_t sink = 0;
    for (int b = 0; b < blocks; b++)
        for (int v1 = 0; v1 < 2; v1++) {
            uint64_t t0 = b_now_us(), t;
            size_t passes = 0;
            do {
                sink += s_pass(p, p1, texts, n, v1);
                passes++;
            } while ((t = b_now_us()) - t0 < block_us);
            double us = (double)(t - t0) / (double)passes;
            if (us < best[v1])
                best[v1] = us;
        }
    (void)sink;
}

int b_textcheck(const b_opts_t *o)
{
    char dir[4096];
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    snprintf(dir, sizeof(dir), "%s/deploy/gazetteer", src);
    int err = 0;
    policy_t *p = policy_new(dir, &err);
    CHECK(p != NULL);
    tcv1_t *p1 = tcv1_new(dir, &err);
    CHECK(p1 != NULL);
    s_corpus_t c = { 0 };
    s_corpus_load(&c);
    const char *note[] = { s_note }, *summary[] = { b_summary() };
    int blocks = o->quick ? 2 : 7;
    uint64_t block_us = o->quick ? 20000 : 200000;
    for (int run = 0; run < o->runs; run++) {
        double t[2];
        s_time(p, p1, note, 1, blocks, block_us, t);
        b_emit(S, "event_us", run, t[0], "us");
        b_emit(S, "event_us_v1", run, t[1], "us");
        s_time(p, p1, summary, 1, blocks, block_us, t);
        b_emit(S, "summary_us", run, t[0], "us");
        b_emit(S, "summary_us_v1", run, t[1], "us");
        s_time(p, p1, (const char *const *)c.lines, c.n, blocks, block_us * 5, t);
        b_emit(S, "corpus_lines_per_s", run, (double)c.n * 1e6 / t[0], "lines/s");
        b_emit(S, "corpus_lines_per_s_v1", run, (double)c.n * 1e6 / t[1], "lines/s");
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.lines[i]);
    free(c.lines);
    tcv1_destroy(&p1);
    policy_destroy(&p);
    return 0;
}
