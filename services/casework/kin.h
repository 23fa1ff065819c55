/* kin: who each name in a case's identity register is to the child.
 *
 * The identity register holds the family's real names for the text check and, on the family's
 * own summary, to say whom the page is for. A list of names cannot say which is the child's and
 * which a parent's, so a registration may lead with the relationship: "child:Tamsin Brightwater",
 * "mother: Orla Brightwater"; a name without one is registered as before, its relationship
 * "unknown". The stored entry keeps the relationship in front of the name behind a unit
 * separator (0x1f), a byte no registered name may hold, so a register written before roles
 * existed (bare names) still reads: each of its names is "unknown".
 * Pure logic: no I/O, no allocation.
 */
#ifndef TACNET_CASEWORK_KIN_H
#define TACNET_CASEWORK_KIN_H

#include <stddef.h>
#include <stdint.h>

typedef enum kin_role {
    KIN_UNKNOWN = 0,
    KIN_CHILD,
    KIN_MOTHER,
    KIN_FATHER,
    KIN_CARER,
    KIN_GRANDPARENT,
    KIN_SIBLING,
    KIN_OTHER,
    KIN_COUNT
} kin_role_t;

/* The byte that opens a stored entry carrying a relationship, and separates it from the name. */
#define KIN_MARK '\x1f'
/* The longest stored entry's overhead: two marks and the longest relationship's word. */
#define KIN_ENTRY_EXTRA 16u

/* The relationship's word ("child", "grandparent", "unknown"), or NULL out of range. */
const char *kin_role_name(kin_role_t role);

/* Split a registration TEXT, "ROLE:NAME" or "NAME", into *ROLE and *NAME (a pointer into TEXT
 * past the colon and any spaces after it). The word before a colon must be a relationship
 * (case and surrounding spaces ignored; "unknown" is not one a registration can give).
 * Returns 0, TACNET_EINVAL for NULL arguments, or TACNET_EFIELD when the word before the colon
 * is not a relationship, the name after it is empty, or the text holds the mark byte. */
int kin_parse(const char *text, kin_role_t *role, const char **name);

/* The length of the name in the registration line TEXT (LEN bytes, "ROLE: NAME" or "NAME", not
 * NUL-terminated): the bytes after the first colon and the spaces or tabs after it, or LEN
 * without a colon. A name's length limit (INTAKE_NAME_MAX) is on this, the name the person
 * typed, never on the relationship in front of it; kin_parse still judges that relationship. */
size_t kin_name_len(const char *text, size_t len);

/* Write the stored entry for ROLE and NAME into OUT (CAP bytes, NUL-terminated); a name of
 * unknown relationship is stored bare, as registers always stored it. Returns the entry's
 * length without the NUL, or 0 when it does not fit or ROLE is out of range. */
size_t kin_entry_encode(kin_role_t role, const char *name, char *out, size_t cap);

/* Read a stored ENTRY (NUL-terminated): *ROLE and *NAME (a pointer into ENTRY). A bare entry,
 * as written before relationships were stored, is KIN_UNKNOWN; so is a word this version does
 * not know. */
void kin_entry_decode(const char *entry, kin_role_t *role, const char **name);

/* Room kin_merge needs: OLDLEN plus, for each of the N TEXTS, its length and KIN_ENTRY_EXTRA. */
size_t kin_merge_bound(size_t oldlen, char *const *texts, size_t n);

/* Merge N registration TEXTS (as kin_parse takes them) into a register OLD (OLDLEN bytes of
 * NUL-terminated stored entries, bare or with a relationship), writing the register into OUT
 * (CAP bytes, at least kin_merge_bound) and its length into *OUTLEN. A name registered already
 * is kept once, where it was; a relationship given now replaces the stored one, but a text
 * without one leaves a known relationship as it was (an intake file imported again does not
 * forget who is who). Returns 0, TACNET_EFIELD when a text does not parse (OUT is then
 * meaningless), or TACNET_EINVAL for NULL arguments or too small an OUT. */
int kin_merge(const uint8_t *old, size_t oldlen, char *const *texts, size_t n, uint8_t *out,
              size_t cap, size_t *outlen);

#endif
