/* roster: the partnership's signed list of nodes and keys, and its policies.
 *
 * Produced offline by `tacnet provision` and signed by the root key; every node pins the root
 * public key (file `root.pub`, hex) and refuses an unsigned roster, one signed by another key,
 * or one older than the roster it already holds. Lookups honour validity windows and
 * revocation, so callers check keys on every message, not only at connect.
 */
#ifndef TACNET_ROSTER_H
#define TACNET_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "roster.pb-c.h"
#include "seal.h"

typedef struct roster roster_t;

/* Parse and verify a SignedRoster: Ed25519 by ROOT_PK over "TACNET-ROSTER/1" || roster bytes.
 * Returns an owned roster or NULL with *ERR = TACNET_EROSTER (not a SignedRoster, bad signature
 * or another root) or TACNET_EBADMSG (signed, but the Roster inside does not decode
 * canonically, a key is not 32 bytes or has an unknown agency, one agency lists a key id twice,
 * two agencies share a CURVE key, an agency has two sharing rules, or an area code is not 2-5
 * capitals or digits starting with a capital, or an agency entry breaks agencies_check). Does
 * not compare versions: the caller refuses an older roster (TACNET_EROSTEROLD). An accepted
 * roster's agency entries become the process's table of agencies (agencies_register). */
roster_t *roster_parse(const uint8_t *data, size_t len, const uint8_t root_pk[SEAL_KEY_BYTES],
                       int *err);

/* Read PATH and roster_parse it. *ERR also TACNET_ENOTFOUND for a missing file, TACNET_EIO for
 * a read error, TACNET_EROSTER for a file over 4 MiB. */
roster_t *roster_load(const char *path, const uint8_t root_pk[SEAL_KEY_BYTES], int *err);

/* Load the pinned root public key (64 hex chars, optionally one newline) from PATH. Returns 0,
 * TACNET_ENOTFOUND, TACNET_EIO or TACNET_ECONFIG (anything else in the file). */
int roster_root_load(const char *path, uint8_t root_pk[SEAL_KEY_BYTES]);

void roster_destroy(roster_t **self_p);

/* The decoded roster (borrowed; lives as long as SELF). */
const Tacnet__Roster *roster_msg(const roster_t *self);
uint32_t roster_version(const roster_t *self);

/* The key AGENCY signs with under KEY_ID, valid at NOW_MS (valid_from_ms <= NOW_MS <
 * valid_until_ms) and not revoked at NOW_MS (a key revoked with revoked_at_ms is still valid
 * before that time; one revoked without it never is). Returns the key (borrowed) or NULL with
 * *ERR = TACNET_EKEYID. The broker asks at the time of receipt; a recipient asks at the event's
 * created_at_ms, so an event signed inside a rotation window or before a revocation still
 * verifies when it is delivered later, and one dated after a revocation does not. */
const Tacnet__NodeKey *roster_key_find(const roster_t *self, uint32_t agency, uint32_t key_id,
                                       uint64_t now_ms, int *err);

/* The newest valid, unrevoked key of AGENCY at NOW_MS (highest key_id), or NULL. */
const Tacnet__NodeKey *roster_key_current(const roster_t *self, uint32_t agency, uint64_t now_ms);

/* The agencies (a bit each, below 32) that have keys in the roster and none valid and unrevoked
 * at NOW_MS: revoked (or expired without a successor). Nothing can be sealed for them, so the
 * sharing rules leave them out of every recipient list (route.h) instead of refusing every
 * event of their cases. An agency with no key at all is not among them. */
uint32_t roster_lapsed_mask(const roster_t *self, uint64_t now_ms);

/* The agency whose valid, unrevoked key has CURVE public key CURVE_PK at NOW_MS, or 0. Used by
 * the broker's ZAP handler. */
uint32_t roster_agency_by_curve(const roster_t *self, const uint8_t curve_pk[SEAL_KEY_BYTES],
                                uint64_t now_ms);

/* Sharing policy: may AGENCY see SENSITIVITY (Tacnet__Sensitivity) with consent recorded
 * (CONSENT_GIVEN != 0) or without? 1 yes, 0 no. Without consent only the rule's
 * without_consent classes count; with consent, with_consent and without_consent both do. An
 * agency with no rule, or SENSITIVITY_UNKNOWN, sees nothing. */
int roster_may_see(const roster_t *self, uint32_t agency, uint32_t sensitivity, int consent_given);

/* Is the prefix of case reference REF (LEN bytes, up to its first '-') one of the roster's area
 * codes? Returns 0 (listed, or the roster lists none), or TACNET_ECASEPREFIX. The format itself
 * is policy_case_ref_check's. */
int roster_case_prefix_check(const roster_t *self, const uint8_t *ref, size_t len);

/* May AGENCY receive an event of class SENSITIVITY shared on lawful BASIS (LEGAL_DUTY: the
 * rule's legal_duty list; DIRECT_CARE: its direct_care list; any other basis: 0)? 1 or 0. */
int roster_may_see_on(const roster_t *self, uint32_t agency, uint32_t sensitivity, uint32_t basis);

/* Does the policy name AGENCY as giving direct care (a non-empty direct_care list)? Only such
 * an agency shares on that basis. 1 or 0. */
int roster_gives_direct_care(const roster_t *self, uint32_t agency);

/* Pack ROSTER and sign it with ROOT's Ed25519 key (ROOT->sign_sk) over "TACNET-ROSTER/1" ||
 * packed roster, giving a packed SignedRoster in *OUT (malloc'd, caller frees). Used by `tacnet
 * provision` and tests. Returns 0 or TACNET_EINVAL (a NULL argument, no sign_sk). */
int roster_sign(const Tacnet__Roster *roster, const seal_keys_t *root, uint8_t **out,
                size_t *outlen);

#endif
