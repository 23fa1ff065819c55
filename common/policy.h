/* policy: tacnet's identifier policy (docs/ARCHITECTURE.md).
 *
 * Two jobs. First, the broker checks the only identifying fields a header may carry, the case
 * reference and the child's initials, on every publish: those checks are pure byte-pattern
 * tests with no allocation. Second, each agency daemon checks free text before sealing it
 * (and again on receipt) for details that identify a person: names from the case's identity
 * register, likely personal names, NHS numbers, dates of birth, postcodes, phone numbers and
 * email addresses. A refusal lists every offending span so the practitioner can fix the text.
 *
 * Text heuristics (tuned to keep false positives low on clinical text; ASCII-oriented):
 *
 * - Words are maximal runs of ASCII letters and bytes >= 0x80 (UTF-8), so "O'Neill" and
 *   "Smith-Jones" are two words each. "Capitalised" means an upper-case first letter and at
 *   least one lower-case letter after it, so acronyms such as CAMHS or SDQ are never names.
 *   Lookups are case-insensitive against the gazetteer (given names, surnames) and the
 *   allowlist (clinical eponyms, days, months, agencies, places, and given names that are
 *   everyday words such as Will, Mark, Hope, Grace, May).
 * - register_name: any word of 2+ letters from the register, in any case, on word
 *   boundaries; adjacent register words separated by spaces form one span.
 * - name, by three rules:
 *   1. title: Mr, Mrs, Ms, Miss, Mx or Dr (exact case, optional '.') then a space and a
 *      capitalised word that is not allowlisted; the span covers the title and the word.
 *   2. given name: a capitalised gazetteer given name that is not allowlisted, wherever it
 *      stands (also at the start of a sentence: the allowlist is what keeps ordinary
 *      sentence-initial words such as "In", "So", "May" out), unless it follows "St",
 *      "St." or "Saint" ("St Mary's" is a school or a church).
 *   3. given + surname: a capitalised given name that is allowlisted ("Grace") followed by a
 *      space and a capitalised gazetteer surname that is not allowlisted ("Grace Okafor").
 *   A rule-1 or rule-2 span extends over following space-separated capitalised words that
 *   are gazetteer surnames or not allowlisted ("Talia Rose Brennick"). Lower-case or
 *   all-capitals names, and names in neither list without a title, are not found: the
 *   register is the safeguard for the people in the case. A name finding that overlaps any
 *   other finding is dropped, as the other one already covers it.
 * - nhs_number: 10 digits, contiguous or 3-3-4 grouped with spaces or hyphens (one kind of
 *   separator), not part of a longer number, and only when the mod-11 check digit is valid.
 * - date_of_birth: a full date (day, month and year: 12/03/2015, 12.3.15, 12-03-2015,
 *   2015-03-12, 2015/03/12, 12 March 2015, 12th of Mar 2015, March 12, 2015) with a birth
 *   cue ("born", "DOB", "D.O.B", "date of birth", "birthday", "b.") ending at most 24 bytes
 *   before it, or starting at most 8 bytes after it ("12/03/2015 (DOB)"). Dates without
 *   such a cue are meeting and review dates, which clinical text is full of, and are not
 *   findings; dates without a year are not findings either. The span is the date alone.
 * - postcode: a full UK postcode (outward A9, A9A, A99, AA9, AA9A, AA99; inward 9AA with the
 *   unit letters Royal Mail uses), any case, with one space or none, on word boundaries. A
 *   lower-case ordinal inward part ("y11 2nd") is not a postcode.
 * - phone: a UK number starting 01, 02, 03 or 07 with 10 or 11 digits, or +44 (optionally
 *   followed by "(0)") then 10 digits starting 1, 2, 3 or 7; digits may be grouped with single
 *   spaces or hyphens and the area code may be in brackets. Not part of a longer number.
 * - email: local@domain.tld with a dotted domain and a top-level label of 2+ letters.
 */
#ifndef TACNET_POLICY_H
#define TACNET_POLICY_H

#include <stddef.h>
#include <stdint.h>

enum policy_kind {
    POLICY_KIND_REGISTER_NAME,
    POLICY_KIND_NAME,
    POLICY_KIND_NHS_NUMBER,
    POLICY_KIND_DATE_OF_BIRTH,
    POLICY_KIND_POSTCODE,
    POLICY_KIND_PHONE,
    POLICY_KIND_EMAIL,
    POLICY_KIND_ADDRESS,
};

/* One offending span: byte offsets into the checked text, end exclusive. */
typedef struct {
    enum policy_kind kind;
    uint32_t start, end;
} policy_finding_t;

typedef struct policy policy_t;
typedef struct policy_register policy_register_t;

/* Checks a case reference such as "LA7-2026-000123": an area code of 2-5 bytes (an upper-case
 * letter, then upper-case letters or digits), '-', a year 2000-2099, '-', exactly 6 digits.
 * S is bytes, not a C string: LEN is the whole field, so an embedded NUL is rejected.
 * Returns 0, or TACNET_ECASEREF for anything else (including S == NULL). No allocation. */
int policy_case_ref_check(const uint8_t *s, size_t len);

/* Checks initials: 2 to 4 bytes, each an ASCII capital A-Z. Returns 0 or TACNET_EINITIALS
 * (also for S == NULL). No allocation. */
int policy_initials_check(const uint8_t *s, size_t len);

/* Loads given-names.txt, surnames.txt and allowlist.txt from GAZETTEER_DIR (one entry per
 * line, '#' starts a comment line, surrounding blanks ignored, matched case-insensitively).
 * Returns an owned policy (free with policy_destroy) or NULL with *ERR set to
 * TACNET_ENOTFOUND (a file is missing), TACNET_EIO (unreadable) or TACNET_EINVAL (NULL dir).
 * ERR may be NULL. The policy is read-only after loading and may be shared between threads. */
policy_t *policy_new(const char *gazetteer_dir, int *err);

/* Frees *SELF_P and sets it to NULL. Null-safe. */
void policy_destroy(policy_t **self_p);

/* Returns a new, empty identity register for one case (owned; free with
 * policy_register_destroy). */
policy_register_t *policy_register_new(void);

/* Adds a real full name (a child's, a parent's...) to the register: each word of 2+ letters
 * becomes a register word (see the header paragraph). The register copies what it needs.
 * Returns 0, or TACNET_EINVAL for NULL arguments or a name with no word of 2+ letters. */
int policy_register_add(policy_register_t *self, const char *name);

/* Frees *SELF_P, wiping the names it held, and sets it to NULL. Null-safe. */
void policy_register_destroy(policy_register_t **self_p);

/* Checks LEN bytes of TEXT (need not be NUL-terminated). REG may be NULL. Writes up to CAP
 * findings, sorted by start offset, into OUT and the total number found into *N_FOUND (which
 * may exceed CAP: the caller can retry with more room). Returns 0 when the text is clean,
 * TACNET_ETEXT when anything was found, TACNET_EINVAL for a NULL policy, N_FOUND, TEXT (with
 * LEN > 0) or OUT (with CAP > 0), or for LEN >= 4 GiB. */
int policy_text_check(const policy_t *p, const policy_register_t *reg, const char *text, size_t len,
                      policy_finding_t *out, size_t cap, size_t *n_found);

/* Stable machine name of a finding kind ("register_name", "name", "nhs_number",
 * "date_of_birth", "postcode", "phone", "email"); "unknown" otherwise. Static storage. */
const char *policy_kind_name(enum policy_kind kind);

#endif
