/* report_cmd: `tacnet broker report --data-dir DIR [--json | --html FILE]`, the partnership's
 * figures without identifiers, read from the broker journal's clear headers (services/casework/
 * partnership_report.h) while the broker runs (a read-only LMDB transaction). */
#ifndef TACNET_CLI_REPORT_CMD_H
#define TACNET_CLI_REPORT_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "casework/partnership_report.h"

/* ARGV[0] is "report". Returns the exit status: 0, or 2 on a usage or read error. */
int cli_broker_report_main(int argc, char **argv);

/* The figures, before suppression, of the broker journal in DIR (read-only, while the broker
 * runs), reviews judged against NOW_MS. Returns 0, or the code of a journal that cannot be read. */
int cli_broker_report_read(const char *dir, uint64_t now_ms, partnership_report_figures_t *f);

/* Print FIGURES, suppressed, as text (JSON 0) or one JSON object (JSON 1) to OUT. */
void cli_broker_report_print(const partnership_report_figures_t *f, int json, FILE *out);

/* Write FIGURES, suppressed the same way, as one self-contained accessible HTML page to OUT
 * (report_html.c): tables with captions, suppressed counts as "fewer than 5". */
void cli_broker_report_html(const partnership_report_figures_t *f, FILE *out);

#endif
