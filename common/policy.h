/* policy: tacnet's identifier policy (docs/ARCHITECTURE.md).
 *
 * Two jobs. First, the broker checks the only identifying fields a header may carry, the case
 * reference and the child's initials, on every publish: those checks are pure byte-pattern
 * tests with no allocation. Second, each agency daemon checks free text before sealing it
 * (and again on receipt) for details that identify a person: names from the case's identity
 * register, likely personal names, NHS numbers, dates of birth, postcodes, phone numbers,
 * e-mail addresses and street addresses. A refusal lists every offending span so the practitioner can fix the text.
 *
 * The text is read once into words (common/lexicon.h: each looked up once, case, diacritics in
 * NFC or NFD form and apostrophes folded, so "Zoë", "ZOE" and "Zoe" are one word and "O'Neill"
 * and "Anne-Marie" stay whole names) and the places where runs of digits start; every rule
 * below works from those. The lexicon holds the gazetteer (deploy/gazetteer: given names,
 * surnames, the allowlist of clinical, place, service and everyday words that are never a name
 * on their own, and words.txt, everyday English words) and the cue words named here.
 * "Capitalised" is an upper-case first letter and a lower-case one after it (CAMHS, SDQ are
 * capitals, never names); "unknown" is a word of 3+ letters in none of the lists (only when
 * words.txt is present): the shape of a name no list has met.
 *
 * The rules read the text normalised (common/textnorm.h: invisible characters dropped, Unicode
 * spaces and dashes read as ' ' and '-', full-width forms as ASCII, Latin look-alikes of other
 * scripts as Latin letters), so an identifier disguised with them is found; the findings'
 * offsets are still those of the original bytes. Register names are normalised the same way.
 *
 * - register_name: a word of the case's register, in any case or form, on word boundaries;
 *   adjacent register words form one span. It wins over every heuristic below.
 * - name, when any of these holds (the span also takes the words that carry the name on:
 *   capitalised or capitals that are listed names or unknown, or lower case after a lower-case
 *   name; "Talia Rose Brennick", "Mohammed KHAN", "zainab begum", across hyphens):
 *   1. title: Mr, Mrs, Ms, Miss, Mx, Dr, Prof, Mstr (and MR, mrs ...; optional '.') then a
 *      capitalised or capitals word that is not an allowlisted non-name ("Miss School").
 *   2. cue: after a kinship or role word (Mum, stepdad, grandmother, aunt, sibling, carer,
 *      teacher, neighbour ...), a cue verb (visited, phoned, told, aka ...) or a two-word cue
 *      (met with, seen by, spoke to, lives with, referred by ...), optionally through "(", ",",
 *      ":" or " - ", a word that is a listed given name (even an everyday-word one: "Mum
 *      (Grace)"), a surname that is not allowlisted, or unknown; in lower case a given name that
 *      is not allowlisted, or unknown ("mum zainab"). The cue is not part of the span.
 *   3. given name: a capitalised given name that is not allowlisted, wherever it stands, except
 *      after "St", "St." or "Saint" (a school, church or hospital), before a street word
 *      ("Ruby Street"), or when it is an everyday word followed by a determiner ("Jack the car").
 *   4. pair: a capitalised everyday-word given name or unknown word, then a space and a
 *      capitalised surname (not allowlisted), unknown word or given name ("Grace Okafor",
 *      "Brecaton Olusmi"); in lower case a given name (not allowlisted, not an everyday word) or
 *      unknown word, then a surname or unknown word ("nadia khan"); in capitals a given name
 *      (not allowlisted, not an everyday word) then a surname or unknown word. Not when a
 *      street word follows the two ("Great Ormond Street"); no name runs on into one.
 *   5. register order: CAPITALS (a surname or unknown, not allowlisted) or a capitalised surname
 *      that is no everyday word, then ", " and a given name or unknown word ("OKAFOR, Chidi").
 *   6. possessive: a word before "'s" (or U+2019 s) that is capitalised and a listed name or
 *      unknown ("Amara's bedroom"; "Today's", "Mum's" are not), or a lower-case given name.
 *   7. lists: a capitalised name-ish word (listed or unknown, not allowlisted, not an everyday
 *      word) joined to a name by ", ", " and ", ", and " or " & "; three such words listed
 *      together are names even when no list knows any of them.
 *   A name finding that overlaps any other finding is dropped: the other one covers it.
 * - nhs_number: 10 digits in groups of any size split by single spaces, dots or hyphens (any
 *   mix: "943 476 5919", "943.476.5919", "9 4 3 4 7 6 5 9 1 9"), read as the whole run of
 *   groups (whole groups adding up to 10 digits count, so "943 476 5919 22 May" is found and an
 *   11-digit number is not), only with a valid mod-11 check digit. A run starting with 0 that
 *   also reads as a UK phone number is the phone number.
 * - date_of_birth: a full date (day, month and year: 12/03/2015, 12.3.15, 12-03-2015,
 *   2015-03-12, 2015/03/12, 12 March 2015, 12th of Mar 2015, March 12, 2015) with a birth
 *   cue ("born", "DOB", "D.O.B", "date of birth", "birthday", "b.") ending at most 24 bytes
 *   before it, or starting at most 8 bytes after it ("12/03/2015 (DOB)"). Dates without
 *   such a cue are meeting and review dates, which clinical text is full of, and are not
 *   findings; dates without a year are not findings either. The span is the date alone.
 * - postcode: a full UK postcode (outward A9, A9A, A99, AA9, AA9A, AA99; inward 9AA with the
 *   unit letters Royal Mail uses; and GIR 0AA), any case, with one space or none, on word
 *   boundaries. A lower-case ordinal inward part ("y11 2nd") is not a postcode.
 * - phone: a UK number starting 01, 02, 03 or 07 with 10 or 11 digits, or +44 (optionally
 *   followed by "(0)") then 10 digits starting 1, 2, 3 or 7; digits may be grouped with single
 *   spaces, hyphens or dots and the area code may be in brackets. Not part of a longer number.
 * - email: local@domain.tld with a dotted domain and a top-level label of 2+ letters; and
 *   written out: "name at gmail dot com", "name [at] x [dot] org", "name(at)x(dot)uk",
 *   "name AT x DOT com", "name at x.org", "name @ x.com", where a separator written as a word
 *   needs a known top-level label (com, org, net, uk, gov, nhs ...: "at home dot" is prose).
 * - address: a house number (1-4 digits, an optional letter, an optional ",") then one or two
 *   words of a street's name and a street word (Road, Street, Avenue, Close, Lane, Drive, Way,
 *   Crescent, Court, Gardens, Terrace, Place, Grove, Hill, Mews, Square; all capitalised or all
 *   lower case; no function or unit word in between: "a 20 minute drive", "3 miles up the
 *   hill" are not addresses); and "Flat 3", "Apartment 12b" (flat, apartment, apt,
 *   maisonette and a number); and a house number with one or two capitalised words right
 *   before a postcode ("14 Linden, M1 1AE"). A postcode beside an address is its own finding.
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

/* Loads given-names.txt, surnames.txt, allowlist.txt and, if present, words.txt from
 * GAZETTEER_DIR (one entry per line, '#' starts a comment line, surrounding blanks ignored,
 * matched as folded words: see the header paragraph).
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
 * becomes a register word (see the header paragraph); a word with an apostrophe counts whole
 * ("O'Neill") and in its parts ("Neill"). The register keeps only a hash of each folded word
 * (common/lexicon.h), never the name.
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
 * "date_of_birth", "postcode", "phone", "email", "address"); "unknown" otherwise. Static
 * storage. */
const char *policy_kind_name(enum policy_kind kind);

#endif
