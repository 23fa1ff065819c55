/* report_html: the partnership's figures as one self-contained, accessible HTML page (see
 * report_cmd.h). The page has no script, no external stylesheet or image, so it can be mailed or
 * put on a shared drive as it is; every figure sits in a table with a caption and header cells,
 * and a suppressed count reads "fewer than 5" (or "not shown", when it was hidden only to
 * protect a small one) rather than a symbol a screen reader would spell out. The same suppression as the text report (partnership_report_suppress) is applied per
 * table, so the page never gives away more than `tacnet broker report` prints. */
#include "report_cmd.h"

#include <stdio.h>

#include "casework/ladder.h"

static const char *const s_need_names[5] = { "Not yet assessed", "1: universal", "2: early help",
                                             "3: child in need", "4: child protection" };
static const char *const s_band_names[PARTNERSHIP_REPORT_BANDS] = {
    "1 to 3: Conflict to Co-existence", "4 to 6: Compliance to Co-ordination",
    "7 to 9: Collaboration to Full partnership"
};
static const char *const s_stage_names[PARTNERSHIP_REPORT_STAGES] = { "Stage 1", "Stage 2",
                                                                      "Stage 3", "Stage 4" };

/* A count as a table cell's words. A count hidden only so that a small one cannot be worked
 * out from the total is not small, so it says "not shown" rather than "fewer than 5". */
static void s_count(FILE *out, unsigned count, int hide)
{
    if (count < PARTNERSHIP_REPORT_MIN)
        fprintf(out, "fewer than %u", PARTNERSHIP_REPORT_MIN);
    else if (hide)
        fputs("not shown", out);
    else
        fprintf(out, "%u", count);
}

static void s_table(FILE *out, const char *caption, const char *what, const char *const *names,
                    const unsigned *counts, size_t n)
{
    int hidden[8] = { 0 };
    partnership_report_suppress(counts, n, hidden);
    fprintf(out,
            "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th>"
            "<th scope=\"col\">Number</th></tr></thead>\n<tbody>\n",
            caption, what);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "<tr><th scope=\"row\">%s</th><td>", names[i]);
        s_count(out, counts[i], hidden[i]);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

static void s_row(FILE *out, const char *name, unsigned count)
{
    fprintf(out, "<tr><th scope=\"row\">%s</th><td>", name);
    s_count(out, count, 0);
    fputs("</td></tr>\n", out);
}

static void s_head(FILE *out)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Partnership report</title>\n<style>\n"
          "body{font-family:system-ui,sans-serif;max-width:46rem;margin:1rem auto;"
          "padding:0 1rem;line-height:1.5;color:#0b0c0c;background:#fff}\n"
          "table{border-collapse:collapse;margin:1rem 0 2rem;min-width:60%}\n"
          "caption{text-align:left;font-weight:bold;font-size:1.1rem;padding-bottom:.4rem}\n"
          "th,td{border:1px solid #505a5f;padding:.3rem .6rem;text-align:left}\n"
          "td{text-align:right}\nthead th{background:#f3f2f1}\n"
          "@media print{body{max-width:none}table{page-break-inside:avoid}}\n"
          "</style>\n</head>\n<body>\n<main>\n<h1>Partnership report</h1>\n",
          out);
}

void cli_broker_report_html(const partnership_report_figures_t *f, FILE *out)
{
    s_head(out);
    fprintf(out,
            "<p>Figures for the partnership, counted from the message headers the broker "
            "keeps: no child, family or professional can be named from them. To protect "
            "people in small groups, any number under %u is shown as \"fewer than %u\", and "
            "where that alone would let the hidden number be worked out from a total, another "
            "number is hidden too (shown as \"not shown\").</p>\n",
            PARTNERSHIP_REPORT_MIN, PARTNERSHIP_REPORT_MIN);
    fputs("<table>\n<caption>Cases</caption>\n<thead><tr><th scope=\"col\">Cases</th>"
          "<th scope=\"col\">Number</th></tr></thead>\n<tbody>\n",
          out);
    s_row(out, "All cases", f->cases);
    s_row(out, "Closed", f->cases_closed);
    fputs("</tbody>\n</table>\n", out);
    s_table(out, "Cases by level of need (the highest latest assessment of any agency in the team)",
            "Level of need", s_need_names, f->by_need, 5);
    fputs("<table>\n<caption>Professional disagreements escalated</caption>\n<thead><tr>"
          "<th scope=\"col\">Escalations</th><th scope=\"col\">Number</th></tr></thead>\n"
          "<tbody>\n",
          out);
    s_row(out, "All escalations", f->escalations);
    s_row(out, "Still open", f->escalations_open);
    s_row(out, "Opened automatically (a deadline passed)", f->escalations_automatic);
    fputs("</tbody>\n</table>\n", out);
    s_table(out, "Escalations by the highest stage they reached", "Highest stage", s_stage_names,
            f->by_stage + 1, PARTNERSHIP_REPORT_STAGES);
    if (f->closed_with_time >= PARTNERSHIP_REPORT_MIN)
        fprintf(out,
                "<table>\n<caption>Time to resolve an escalation (from opening until every "
                "party acknowledged the resolution)</caption>\n<thead><tr><th scope=\"col\">"
                "Measure</th><th scope=\"col\">Days</th></tr></thead>\n<tbody>\n"
                "<tr><th scope=\"row\">Median</th><td>%.1f</td></tr>\n"
                "<tr><th scope=\"row\">Longest</th><td>%.1f</td></tr>\n</tbody>\n</table>\n",
                (double)f->resolve_median_ms / 86400000.0, (double)f->resolve_max_ms / 86400000.0);
    else
        fprintf(out,
                "<p>Time to resolve an escalation is not shown: fewer than %u escalations have "
                "closed.</p>\n",
                PARTNERSHIP_REPORT_MIN);
    static const char *const groups[2] = { "agencies in the team rate each other",
                                           "families rate the team (or one agency in it)" };
    for (int g = 0; g < 2; g++) {
        char caption[200];
        snprintf(caption, sizeof(caption),
                 "Partnership ladder: how %s (each rater's latest rating on each case)", groups[g]);
        s_table(out, caption, "Rungs", s_band_names, f->rating_bands[g], PARTNERSHIP_REPORT_BANDS);
        if (f->ratings[g] >= PARTNERSHIP_REPORT_MIN && f->rating_median[g])
            fprintf(out, "<p>Middle rating (median) of %u: rung %u, %s.</p>\n", f->ratings[g],
                    f->rating_median[g], ladder_rung_name(f->rating_median[g]));
        else
            fprintf(out, "<p>The middle rating is shown once there are %u ratings or more.</p>\n",
                    PARTNERSHIP_REPORT_MIN);
    }
    fputs("<table>\n<caption>Plan reviews (open cases)</caption>\n<thead><tr>"
          "<th scope=\"col\">Reviews</th><th scope=\"col\">Number</th></tr></thead>\n"
          "<tbody>\n",
          out);
    s_row(out, "Open cases with a plan review date", f->cases_review_known);
    s_row(out, "Review overdue (past the date the latest plan or meeting set)", f->reviews_overdue);
    fputs("</tbody>\n</table>\n</main>\n</body>\n</html>\n", out);
}
