/* intake: the machinery shared by the agency intake adapters (docs/ARCHITECTURE.md).
 *
 * An agency's own systems export CSV files (attendance registers, CAPA appointment lists,
 * health-visiting contacts, social-care records). Each agency profile describes its formats as
 * a header (column names) and a row handler; this module reads the file as RFC 4180 CSV, picks
 * the format whose header matches, checks each field (case reference, initials, dates, numbers,
 * enum names, text) and collects every problem with its line number. The rule the adapters rely
 * on: either every row becomes a publish request, or no request is returned at all, so a file
 * is never half-imported. Pure logic apart from reading the file; nothing is printed.
 *
 * CSV dialect: comma separator; fields may be quoted with `"` (embedded commas, quotes doubled,
 * line breaks); CRLF or LF line ends; a UTF-8 byte-order mark is ignored; blank lines, lines of
 * only commas and lines starting with `#` are skipped; unquoted fields are trimmed of spaces and
 * tabs. The first remaining row is the header; columns may come in any order, names are matched
 * case-insensitively, and every column of the format must be present and no other.
 *
 * Error messages name the column and never repeat free text, case references or initials (they
 * may end up in a log); numbers, dates and enum values are quoted back, cut to 16 bytes.
 *
 * The family's names: any format with a case_ref column also takes the optional columns
 * child_names, parent_carer_names and sibling_names (each a `;`-separated list, as the agency's
 * own system knows them). They become no part of any request: the result lists them per case
 * (intake_result_t.names) for the daemon's identity register, so that the text check refuses an
 * event naming the family in any form. Messages about them name the column only. Each name
 * goes to the register as kin_parse takes it (casework/kin.h): child_names' as "child:NAME",
 * sibling_names' as "sibling:NAME", and parent_carer_names' as given, so an item may say who the
 * person is ("mother:Orla Brightwater") or be the name alone.
 */
#ifndef TACNET_CASEWORK_INTAKE_H
#define TACNET_CASEWORK_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "casework/profile.h"

#define INTAKE_MAX_FILE    (16u * 1024 * 1024) /* bytes; larger files are refused */
#define INTAKE_MAX_ERRORS  1000                /* errors kept; one more says there were more */
#define INTAKE_MAX_COLUMNS 64
#define INTAKE_MAX_TEXT    2000 /* bytes in one free-text field */

/* One data row handed to a format's row handler. FIELDS is indexed like the format's columns
 * (not like the file's header) and holds "" for empty fields; valid only during the call. */
typedef struct intake_row {
    unsigned line; /* 1-based line where the row starts */
    const char *const *fields;
    const char *const *columns; /* the format's column names, for messages */
    size_t n_columns;
    intake_result_t *result; /* errors and requests go here */
} intake_row_t;

typedef void (*intake_row_fn)(intake_row_t *row, void *arg);

/* One intake file format: its exact column set and what each row becomes. */
typedef struct intake_format {
    const char *name; /* e.g. "attendance", used in messages */
    const char *const *columns;
    size_t n_columns;
    intake_row_fn on_row;
} intake_format_t;

/* An enum value as written in an intake file. */
typedef struct intake_name {
    const char *name;
    uint32_t value;
} intake_name_t;

/* Parse TEXT (LEN bytes) as one of FORMATS (chosen by its header) and run the format's row
 * handler on each data row with ARG. OUT is overwritten (clear a previous result first).
 * Returns 0 when no problem was found (OUT holds the requests, possibly none) or TACNET_EIMPORT
 * (OUT holds every error, sorted by line, and no requests). Line 0 means the whole file. */
int intake_csv_parse(const char *text, size_t len, const intake_format_t *formats, size_t n_formats,
                     void *arg, intake_result_t *out);

/* intake_csv_parse on the contents of PATH. Also returns TACNET_ENOTFOUND when PATH does not
 * exist and TACNET_EIO when it cannot be read (OUT is then empty). */
int intake_csv_read(const char *path, const intake_format_t *formats, size_t n_formats, void *arg,
                    intake_result_t *out);

/* The optional name columns, and the limits on them: per column at most INTAKE_NAMES_MAX items
 * of at most INTAKE_NAME_MAX bytes each. */
#define INTAKE_NAMES_COLUMNS 3
#define INTAKE_NAMES_MAX     8
#define INTAKE_NAME_MAX      100
extern const char *const intake_names_columns[INTAKE_NAMES_COLUMNS];

/* Read the name columns of ROW (at FIRST .. FIRST + INTAKE_NAMES_COLUMNS - 1 in its fields) into
 * ROW's result under the case in column CASE_COL, merged with what earlier rows gave for the same
 * case (a name given twice is kept once). A bad value is an error naming the column. */
void intake_names_row(intake_row_t *row, size_t case_col, size_t first);

/* Wipe and free R's names (intake_result_clear does this too). */
void intake_names_clear(intake_result_t *r);

/* Concern categories as written in intake files: attendance, neglect, emotional_wellbeing,
 * physical_harm, self_harm, domestic_abuse, development, sexual_harm, other. */
extern const intake_name_t intake_concern_categories[];
extern const size_t intake_n_concern_categories;

/* Record an error at LINE with a printf-style message (cut to fit intake_error_t). */
void intake_result_error(intake_result_t *r, unsigned line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append REQ to R; R takes ownership. */
void intake_result_add(intake_result_t *r, Tacnet__PublishRequest *req);

/* Pure checks, no error recording. */
bool intake_case_ref_valid(const char *s); /* LA7-2026-000123 */
bool intake_initials_valid(const char *s); /* 2-4 capital letters */
bool intake_utf8_valid(const char *s, size_t len);
/* "yyyy-mm-dd" (a real calendar date, years 2000-2099) to yyyymmdd. 0 or TACNET_EINVAL. */
int intake_date_parse(const char *s, uint32_t *out);

/* Field readers. Each reads column COL of ROW, records an error naming the column when the
 * value is missing (if REQUIRED) or invalid, and returns whether it succeeded. An empty optional
 * field succeeds and leaves the documented empty value in OUT. */
bool intake_row_case_ref(intake_row_t *row, size_t col, const char **out);
bool intake_row_initials(intake_row_t *row, size_t col, const char **out);
/* Text: valid UTF-8, no control characters, at most INTAKE_MAX_TEXT bytes. Empty gives NULL. */
bool intake_row_text(intake_row_t *row, size_t col, bool required, const char **out);
/* Date: empty gives 0. */
bool intake_row_date(intake_row_t *row, size_t col, bool required, uint32_t *out);
/* Decimal integer MIN..MAX: empty gives 0 and *PRESENT = false (PRESENT may be NULL). */
bool intake_row_uint(intake_row_t *row, size_t col, bool required, uint32_t min, uint32_t max,
                     uint32_t *out, bool *present);
/* "yes" / "no" (any case): empty gives false. */
bool intake_row_bool(intake_row_t *row, size_t col, bool required, bool *out);
/* One of NAMES (any case): empty gives 0. */
bool intake_row_enum(intake_row_t *row, size_t col, bool required, const intake_name_t *names,
                     size_t n_names, uint32_t *out);
/* A `;`-separated list of at most MAX texts (each checked as text, empty items refused).
 * Returns a heap array of heap strings (NULL and *N = 0 when empty); free with
 * intake_list_free. On failure nothing is allocated. */
bool intake_row_list(intake_row_t *row, size_t col, size_t max, char ***out, size_t *n);
void intake_list_free(char **list, size_t n);
/* Refuse a value in a column that does not apply to this row: "COL does not apply to WHAT". */
bool intake_row_unused(intake_row_t *row, size_t col, const char *what);
/* True when the column has a value. */
bool intake_row_has(const intake_row_t *row, size_t col);
/* Record an error about ROW (the message should name the column). */
void intake_row_error(intake_row_t *row, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A publish request of KIND for the case, with its body and the body's `event` member for KIND
 * allocated (zero-initialised) and set, ready to fill: e.g. req->body->concern. KIND must be
 * REFERRAL, CONCERN, ASSESSMENT, CARE_PLAN or OUTCOME_MEASURE. SENSITIVITY 0 leaves it unset
 * (the daemon applies the profile's default). Every part is malloc'd, so
 * protobuf_c_message_free_unpacked(&req->base, NULL) frees the whole tree. Never NULL. */
Tacnet__PublishRequest *intake_request_new(Tacnet__EventKind kind, const char *case_ref,
                                           const char *initials, Tacnet__Sensitivity sensitivity);

/* Append a goal to PLAN (malloc'd; DESCRIPTION copied, may be NULL; TARGET_DATE 0 = none). */
void intake_plan_add_goal(Tacnet__CarePlan *plan, uint32_t goal_id, const char *description,
                          uint32_t target_date);

/* An agency's own record holds no views of the child or the family, so an imported plan records
 * both as not yet asked, to be sought within INTAKE_VIEWS_ASK_DAYS of FROM_DATE (yyyymmdd): a
 * due item on the case until a later decision, plan or meeting records them
 * (services/casework/family_voice.h). */
#define INTAKE_VIEWS_ASK_DAYS 14u
void intake_plan_views_to_seek(Tacnet__CarePlan *plan, uint32_t from_date);

#endif
