/* report_cmd: `tacnet broker report` (see report_cmd.h). */
#include "report_cmd.h"
#include "bytes.h"
#include "casework/ladder.h"
#include "clock.h"
#include "err.h"
#include "store.h"
#include "wire.h"

#include <errno.h>
#include <jansson.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_USAGE "usage: tacnet broker report --data-dir DIR [--json | --html FILE]\n"

/* Every journalled header, in seq order, into R. Bodies are never opened (nor could be). */
static int s_read(const char *dir, partnership_report_t *r, size_t *events)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_dbi dbi;
    int rc = store_peek_begin(dir, &env, &txn);
    if (rc == 0)
        rc = store_lmdb_err(mdb_dbi_open(txn, "journal", 0, &dbi));
    if (rc == 0)
        rc = store_lmdb_err(mdb_cursor_open(txn, dbi, &cur));
    if (rc != 0)
        goto fail;
    MDB_val k, v;
    for (rc = store_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = store_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *p = v.mv_data;
        /* A grant (history for an agency joining a case: 0xffffffff or 0xfffffffe where an
         * event's header length would be) repeats an event already counted: skip it. */
        if (v.mv_size >= 12 && bytes_be32_get(p + 8) >= 0xfffffffeu)
            continue;
        if (v.mv_size < 12 || v.mv_size - 12 < bytes_be32_get(p + 8)) {
            rc = TACNET_ECORRUPT;
            goto fail;
        }
        int err = 0;
        Tacnet__Header *h = wire_header_unpack(p + 12, bytes_be32_get(p + 8), &err);
        if (!h) {
            rc = err ? err : TACNET_ECORRUPT;
            goto fail;
        }
        partnership_report_add(r, h);
        wire_free(&h->base);
        (*events)++;
    }
    if (rc == TACNET_ENOTFOUND)
        rc = 0;
fail:
    if (cur)
        mdb_cursor_close(cur);
    store_peek_end(&env, &txn);
    return rc;
}

/* The page into PATH ("-": standard output); a write that fails is reported, not left half
 * done without a word. */
int cli_broker_report_read(const char *dir, uint64_t now_ms, partnership_report_figures_t *f)
{
    partnership_report_t *r = partnership_report_new();
    size_t events = 0;
    int rc = s_read(dir, r, &events);
    partnership_report_figures(r, now_ms, f);
    partnership_report_destroy(&r);
    return rc;
}

static int s_write_html(const partnership_report_figures_t *f, const char *path)
{
    int to_stdout = strcmp(path, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen(path, "w");
    if (!out) {
        fprintf(stderr, "tacnet broker report: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    cli_broker_report_html(f, out);
    int bad = ferror(out) != 0;
    bad |= to_stdout ? fflush(out) != 0 : fclose(out) != 0;
    if (bad) {
        fprintf(stderr, "tacnet broker report: writing %s failed\n", path);
        return 2;
    }
    return 0;
}

int cli_broker_report_main(int argc, char **argv)
{
    const char *dir = NULL, *html = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
            html = argv[++i];
        else {
            fputs(REPORT_USAGE, stderr);
            return 2;
        }
    }
    if (!dir || (json && html)) {
        fputs(REPORT_USAGE, stderr);
        return 2;
    }
    partnership_report_figures_t f;
    int rc = cli_broker_report_read(dir, clock_now_ms(), &f);
    if (rc != 0) {
        fprintf(stderr, "tacnet broker report: cannot read the journal in %s: %s (%s)\n", dir,
                tacnet_errname(rc), tacnet_strerror(rc));
        return 2;
    }
    if (html)
        return s_write_html(&f, html);
    cli_broker_report_print(&f, json, stdout);
    return 0;
}

static const char *const s_need_names[5] = { "not assessed", "1 universal", "2 early help",
                                             "3 child in need", "4 child protection" };

/* One breakdown: its cells suppressed together, then printed or put in OBJ. */
static void s_breakdown(const char *title, const char *const *names, const unsigned *counts,
                        size_t n, json_t *obj, FILE *out)
{
    int hidden[8];
    char buf[16];
    int width = 20; /* the names in one column, the counts in the next */
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(names[i]) > width)
            width = (int)strlen(names[i]);
    partnership_report_suppress(counts, n, hidden);
    if (!obj)
        fprintf(out, "%s\n", title);
    for (size_t i = 0; i < n; i++) {
        partnership_report_count(counts[i], hidden[i], buf, sizeof(buf));
        if (obj)
            json_object_set_new(obj, names[i], json_string(buf));
        else
            fprintf(out, "  %-*s %s\n", width, names[i], buf);
    }
}

static const char *const s_band_names[PARTNERSHIP_REPORT_BANDS] = {
    "1-3 Conflict to Co-existence", "4-6 Compliance to Co-ordination",
    "7-9 Collaboration to Full partnership"
};

/* Ladder ratings and reviews: text lines, or members of ROOT. */
static void s_ratings_reviews(const partnership_report_figures_t *f, json_t *root, FILE *out)
{
    static const char *const who[2] = { "agencies' ratings of each other",
                                        "families' ratings of the team" };
    static const char *const keys[2] = { "ladder_ratings_by_agencies",
                                         "ladder_ratings_by_families" };
    char a[16], b[16];
    for (int g = 0; g < 2; g++) {
        json_t *o = root ? json_object() : NULL, *bands = root ? json_object() : NULL;
        int shown = f->ratings[g] >= PARTNERSHIP_REPORT_MIN;
        const char *median = shown ? ladder_rung_name(f->rating_median[g]) : NULL;
        if (o) {
            json_object_set_new(root, keys[g], o);
            json_object_set_new(
                o, "latest_ratings",
                json_string(partnership_report_count(f->ratings[g], 0, a, sizeof(a))));
            json_object_set_new(o, "median_rung",
                                median ? json_integer(f->rating_median[g]) : json_null());
            json_object_set_new(o, "median_rung_name", median ? json_string(median) : json_null());
            json_object_set_new(o, "by_band", bands);
        } else {
            fprintf(out, "partnership ladder, %s (each rater's latest): %s", who[g],
                    partnership_report_count(f->ratings[g], 0, a, sizeof(a)));
            if (median)
                fprintf(out, ", median rung %u %s", f->rating_median[g], median);
            fputc('\n', out);
        }
        s_breakdown("  by band", s_band_names, f->rating_bands[g], PARTNERSHIP_REPORT_BANDS, bands,
                    out);
    }
    partnership_report_count(f->cases_review_known, 0, a, sizeof(a));
    partnership_report_count(f->reviews_overdue, 0, b, sizeof(b));
    if (root) {
        json_object_set_new(root, "open_cases_with_a_review_date", json_string(a));
        json_object_set_new(root, "reviews_overdue", json_string(b));
    } else {
        fprintf(out, "open cases with a plan review date %s, review overdue %s\n", a, b);
    }
}

static void s_days(char *buf, size_t cap, uint64_t ms)
{
    snprintf(buf, cap, "%.1f days", (double)ms / 86400000.0);
}

void cli_broker_report_print(const partnership_report_figures_t *f, int json, FILE *out)
{
    static const char *const stages[PARTNERSHIP_REPORT_STAGES] = { "stage 1", "stage 2", "stage 3",
                                                                   "stage 4" };
    char a[16], b[16], c[16], d[32], e[32];
    json_t *root = json ? json_object() : NULL, *need = NULL, *stage = NULL;
    if (root) {
        json_object_set_new(root, "cases",
                            json_string(partnership_report_count(f->cases, 0, a, sizeof(a))));
        json_object_set_new(
            root, "cases_closed",
            json_string(partnership_report_count(f->cases_closed, 0, b, sizeof(b))));
        json_object_set_new(root, "cases_by_level_of_need", need = json_object());
        json_object_set_new(root, "escalations",
                            json_string(partnership_report_count(f->escalations, 0, c, sizeof(c))));
        json_object_set_new(root, "escalations_by_highest_stage", stage = json_object());
    } else {
        fprintf(out,
                "partnership report: counts only, from clear headers (counts under %u shown "
                "\"<%u\")\ncases %s, closed %s\n",
                PARTNERSHIP_REPORT_MIN, PARTNERSHIP_REPORT_MIN,
                partnership_report_count(f->cases, 0, a, sizeof(a)),
                partnership_report_count(f->cases_closed, 0, b, sizeof(b)));
    }
    s_breakdown("cases by level of need (the highest member's latest assessment)", s_need_names,
                f->by_need, 5, need, out);
    if (!root)
        fprintf(out, "escalations %s (still open %s, opened automatically %s)\n",
                partnership_report_count(f->escalations, 0, a, sizeof(a)),
                partnership_report_count(f->escalations_open, 0, b, sizeof(b)),
                partnership_report_count(f->escalations_automatic, 0, c, sizeof(c)));
    s_breakdown("escalations by the highest stage reached", stages, f->by_stage + 1,
                PARTNERSHIP_REPORT_STAGES, stage, out);
    int timed = f->closed_with_time >= PARTNERSHIP_REPORT_MIN;
    s_days(d, sizeof(d), f->resolve_median_ms);
    s_days(e, sizeof(e), f->resolve_max_ms);
    if (root) {
        json_object_set_new(
            root, "escalations_open",
            json_string(partnership_report_count(f->escalations_open, 0, a, sizeof(a))));
        json_object_set_new(
            root, "escalations_automatic",
            json_string(partnership_report_count(f->escalations_automatic, 0, b, sizeof(b))));
        json_object_set_new(root, "time_to_resolve_median", timed ? json_string(d) : json_null());
        json_object_set_new(root, "time_to_resolve_max", timed ? json_string(e) : json_null());
        s_ratings_reviews(f, root, out);
        char *txt = json_dumps(root, JSON_SORT_KEYS);
        fprintf(out, "%s\n", txt ? txt : "{}");
        free(txt);
        json_decref(root);
        return;
    }
    if (timed)
        fprintf(out,
                "time to resolve (opened to every party's acknowledgement): median %s, "
                "longest %s\n",
                d, e);
    else
        fprintf(out, "time to resolve: fewer than %u escalations closed, not shown\n",
                PARTNERSHIP_REPORT_MIN);
    s_ratings_reviews(f, NULL, out);
}
