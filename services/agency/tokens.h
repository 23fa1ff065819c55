/* tokens: the HTTP API's bearer tokens, one per agency system, each valid for a set time.
 *
 * Kept in the `tokens` database of the agency daemon's LMDB environment (opened with the rest of
 * the credential store, accounts.h; the daemon's loop is the only writer):
 *
 *   tokens  BLAKE2b(token) -> created_ms(8) expires_ms(8) last_used_ms(8) system (NUL)
 *
 * Only the hash of a token is stored, so a copy of the view lets nobody in. A token is named by
 * its id, the first 12 hex digits of that hash: `tacnet token list` shows ids, systems and dates
 * and never a token; `tacnet token revoke` deletes one by id. A token past its expiry, or
 * revoked, is refused like one never issued (401). The last use is kept to the minute, so a busy
 * system costs one write a minute, not one per request.
 *
 * Records written before tokens expired (created_ms(8) system(NUL)) are told apart by their
 * ninth byte, a label character where a record of today's layout has the top byte of its expiry
 * (0); the daemon rewrites them when it opens the database, valid for AGENCY_TOKEN_DAYS from
 * that moment (not from their creation, so an upgrade cuts no system off unannounced), each
 * audited as "token.migrate".
 */
#ifndef TACNET_AGENCY_TOKENS_H
#define TACNET_AGENCY_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "agency/accounts.h"
#include "api.pb-c.h"

#define AGENCY_TOKEN_DAYS     90
#define AGENCY_TOKEN_MAX_DAYS 3650
#define AGENCY_TOKEN_ID_HEX   13 /* 12 hex digits + NUL */
#define AGENCY_TOKEN_USED_MS  60000u

/* Draw a token for SYSTEM (1-32 of [a-z0-9_-]) valid for VALID_MS from now, store its hash and
 * write it (hex) to TOKEN, its id to ID and its expiry to *EXPIRES_MS. Returns 0, TACNET_EFIELD
 * (bad label, or VALID_MS 0 or over AGENCY_TOKEN_MAX_DAYS) or a storage error (TOKEN is wiped
 * then). Audited as "token.add". */
int agency_token_add(agency_t *self, const char *system, uint64_t valid_ms,
                     char token[AGENCY_SECRET_HEX], char id[AGENCY_TOKEN_ID_HEX],
                     uint64_t *expires_ms);

/* Check a bearer token. Returns 0 with the system's label in SYSTEM, or TACNET_EAUTH (unknown,
 * malformed, revoked or expired). Notes the use (at most once a minute per token). */
int agency_token_check(agency_t *self, const char *token, char system[AGENCY_SYSTEM_CHARS]);

/* Every token, oldest first, into OUT (the caller's, emptied first; its contents freed by
 * agency_token_list_clear). Returns 0 or a storage error. */
int agency_token_list(agency_t *self, Tacnet__TokenList *out);

/* Delete the token whose id starts with ID (6 to 12 hex digits), the deleted one described in
 * OUT. Returns 0, TACNET_EFIELD (not 6-12 hex digits), TACNET_ENOTFOUND, TACNET_EEXISTS (the
 * prefix names more than one token) or a storage error. Audited as "token.revoke". */
int agency_token_revoke(agency_t *self, const char *id, Tacnet__TokenList *out);

/* Rewrite the records of the layout before expiries (see above). Returns 0 or a storage error. */
int agency_tokens_migrate(agency_t *self);

/* Free what agency_token_list or agency_token_revoke put in LIST (not LIST itself). */
void agency_token_list_clear(Tacnet__TokenList *list);

#endif
