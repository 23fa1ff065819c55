/* textcheck_v1: the identifier policy's free-text check as it was before issue 17 (names by
 * capitalisation and a US-derived gazetteer, NHS numbers 3-3-4 only, no addresses), kept
 * as it was under other names so that `tacnet-bench textcheck` can measure today's check
 * against it in the same run. Nothing outside the benchmark links it. */
#ifndef TACNET_BENCH_TEXTCHECK_V1_H
#define TACNET_BENCH_TEXTCHECK_V1_H

#include <stddef.h>
#include <stdint.h>

enum tcv1_kind {
    TCV1_KIND_REGISTER_NAME,
    TCV1_KIND_NAME,
    TCV1_KIND_NHS_NUMBER,
    TCV1_KIND_DATE_OF_BIRTH,
    TCV1_KIND_POSTCODE,
    TCV1_KIND_PHONE,
    TCV1_KIND_EMAIL,
};

/* One offending span: byte offsets into the checked text, end exclusive. */
typedef struct {
    enum tcv1_kind kind;
    uint32_t start, end;
} tcv1_finding_t;

typedef struct tcv1 tcv1_t;
typedef struct tcv1_register tcv1_register_t;

/* Checks a case reference such as "LA7-2026-000123": an area code of 2-5 bytes (an upper-case
 * letter, then upper-case letters or digits), '-', a year 2000-2099, '-', exactly 6 digits.
 * S is bytes, not a C string: LEN is the whole field, so an embedded NUL is rejected.
 * Returns 0, or TACNET_ECASEREF for anything else (including S == NULL). No allocation. */
int tcv1_case_ref_check(const uint8_t *s, size_t len);

/* Checks initials: 2 to 4 bytes, each an ASCII capital A-Z. Returns 0 or TACNET_EINITIALS
 * (also for S == NULL). No allocation. */
int tcv1_initials_check(const uint8_t *s, size_t len);

/* Loads given-names.txt, surnames.txt and allowlist.txt from GAZETTEER_DIR (one entry per
 * line, '#' starts a comment line, surrounding blanks ignored, matched case-insensitively).
 * Returns an owned policy (free with tcv1_destroy) or NULL with *ERR set to
 * TACNET_ENOTFOUND (a file is missing), TACNET_EIO (unreadable) or TACNET_EINVAL (NULL dir).
 * ERR may be NULL. The policy is read-only after loading and may be shared between threads. */
tcv1_t *tcv1_new(const char *gazetteer_dir, int *err);

/* Frees *SELF_P and sets it to NULL. Null-safe. */
void tcv1_destroy(tcv1_t **self_p);

/* Returns a new, empty identity register for one case (owned; free with
 * tcv1_register_destroy). */
tcv1_register_t *tcv1_register_new(void);

/* Adds a real full name (a child's, a parent's...) to the register: each word of 2+ letters
 * becomes a register word (see the header paragraph). The register copies what it needs.
 * Returns 0, or TACNET_EINVAL for NULL arguments or a name with no word of 2+ letters. */
int tcv1_register_add(tcv1_register_t *self, const char *name);

/* Frees *SELF_P, wiping the names it held, and sets it to NULL. Null-safe. */
void tcv1_register_destroy(tcv1_register_t **self_p);

/* Checks LEN bytes of TEXT (need not be NUL-terminated). REG may be NULL. Writes up to CAP
 * findings, sorted by start offset, into OUT and the total number found into *N_FOUND (which
 * may exceed CAP: the caller can retry with more room). Returns 0 when the text is clean,
 * TACNET_ETEXT when anything was found, TACNET_EINVAL for a NULL policy, N_FOUND, TEXT (with
 * LEN > 0) or OUT (with CAP > 0), or for LEN >= 4 GiB. */
int tcv1_text_check(const tcv1_t *p, const tcv1_register_t *reg, const char *text, size_t len,
                    tcv1_finding_t *out, size_t cap, size_t *n_found);

/* Stable machine name of a finding kind ("register_name", "name", "nhs_number",
 * "date_of_birth", "postcode", "phone", "email"); "unknown" otherwise. Static storage. */
const char *tcv1_kind_name(enum tcv1_kind kind);

#endif
