/* accounts: the agency's credential store — the dashboard's users, their sessions and log-in
 * failures, and the API tokens of agency systems — kept in four databases of the agency daemon's
 * one LMDB environment (the daemon's loop is their only writer). The local API adds, lists,
 * removes and unlocks users and adds, lists and revokes tokens (`tacnet user|token ...`), the
 * dashboard checks log-ins, sessions and
 * tokens, and the retention sweep reopens the databases after a compaction; what is web-facing
 * (the log-in page, cookies, CSRF checks) lives in services/dashboard.
 *
 *   users     initials(2-4)  -> role(1) Argon2id hash string ("$argon2id$...", NUL)
 *   sessions  BLAKE2b(sid)   -> initials[5] role(1) csrf(32) expires_ms(8)
 *   logins    initials(2-4)  -> (no longer written: failures are counted in memory, per
 *                               source and account, by agency/auth.h; kept for old views)
 *   tokens    BLAKE2b(token) -> created_ms(8) expires_ms(8) last_used_ms(8) system (NUL):
 *             see tokens.h (expiry, listing, revocation)
 *
 * Session ids and tokens are 32 random bytes shown as hex; only their hashes are stored, so a
 * copy of the view does not let anyone in. A user is named in audit records by initials and
 * role ("web/AB:dsl"), never by free text. A failed log-in writes nothing (agency/auth.h
 * throttles and summarises failures in memory).
 *
 * Every function takes the agency the store belongs to (agency/agency.h) and needs nothing else
 * from the core's internals.
 */
#ifndef TACNET_AGENCY_ACCOUNTS_H
#define TACNET_AGENCY_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"

typedef struct agency agency_t;

#define AGENCY_SECRET_HEX   65 /* 64 hex chars + NUL: session ids, CSRF tokens, API tokens */
#define AGENCY_SESSION_MS   (8ull * 3600 * 1000)
#define AGENCY_LOCK_FAILS   5 /* failures at an account from one source that lock it there */
#define AGENCY_LOCK_MS      (15ull * 60 * 1000) /* for this long (agency/auth.h) */
#define AGENCY_SYSTEM_CHARS 33

/* A logged-in user, as a session knows it. CSRF is a secret: a caller that keeps a copy on the
 * stack wipes it (sodium_memzero) when done. */
typedef struct agency_session {
    char initials[5];
    uint32_t role; /* Tacnet__Role */
    char csrf[AGENCY_SECRET_HEX];
    uint64_t expires_ms;
} agency_session_t;

/* Add a user. HASH must be an Argon2id string from crypto_pwhash_str. Returns 0,
 * TACNET_EINITIALS, TACNET_EENUM (role), TACNET_EFIELD (not an Argon2id hash), TACNET_EEXISTS (a
 * user with these initials exists: nothing is changed; agency_user_remove it first, which ends
 * its sessions), or a storage error. Audited as "user.add". */
int agency_user_add(agency_t *self, const uint8_t *initials, size_t len, uint32_t role,
                    const char *hash);

/* Add a user, or replace the one with these initials, in one transaction: the old user's
 * password and sessions go (it is logged out at once) and the new role and password take their
 * place. WAS (the caller's, emptied first; freed by agency_user_list_clear) gets the user as it
 * was, or stays empty when there was none. Returns what agency_user_add returns but
 * TACNET_EEXISTS; on any error nothing is changed and WAS is empty. Audited as "user.remove"
 * (when there was one) and "user.add". */
int agency_user_replace(agency_t *self, const uint8_t *initials, size_t len, uint32_t role,
                        const char *hash, Tacnet__UserList *was);

/* Check a log-in: one Argon2id check, against the user's hash or, for a user who does not
 * exist, against a dummy one, so both cost the same. On success writes a new session id (hex)
 * to SID and the session to OUT, stores the session and audits "login". Returns 0,
 * TACNET_EAUTH (unknown user or wrong password: nothing is written, *KNOWN says whether the
 * user exists), TACNET_EINITIALS, or a storage error. Nothing here slows repeated failures:
 * the web front calls this through agency/auth.h, which does. PASSWORD stays the caller's (to
 * wipe); SID and OUT hold secrets the caller wipes when done, whatever the outcome. */
int agency_login(agency_t *self, const char *initials, const char *password,
                 char sid[AGENCY_SECRET_HEX], agency_session_t *out, int *known);

/* Look up a live session by its id. Returns 0 with *OUT, or TACNET_EAUTH (unknown, malformed
 * or expired). */
int agency_session_get(agency_t *self, const char *sid, agency_session_t *out);

/* End a session (log-out). Returns 0 or a storage error; an unknown id is not an error. */
int agency_session_end(agency_t *self, const char *sid);


/* Every user with its role, failures, lock-out and live sessions, in initials order, into OUT
 * (the caller's, emptied first; its contents freed by agency_user_list_clear). Returns 0 or a
 * storage error. */
int agency_user_list(agency_t *self, Tacnet__UserList *out);

/* Remove a user: its password, its failed log-ins and every session it holds, so it is logged
 * out at once. OUT gets the user as it was. Returns 0, TACNET_EINITIALS, TACNET_ENOTFOUND or a
 * storage error. Audited as "user.remove". */
int agency_user_remove(agency_t *self, const uint8_t *initials, size_t len, Tacnet__UserList *out);

/* Forget a user's failed log-ins, ending a lock-out. OUT gets the user as it was. Returns 0,
 * TACNET_EINITIALS, TACNET_ENOTFOUND (no such user) or a storage error. Audited as
 * "user.unlock". */
int agency_user_unlock(agency_t *self, const uint8_t *initials, size_t len, Tacnet__UserList *out);

/* Free what the three above put in LIST (not LIST itself). */
void agency_user_list_clear(Tacnet__UserList *list);

/* The roles a user may hold: "practitioner", "manager", "dsl", "lead" (the names written into
 * audit actors and shown on the dashboard); NULL for any other Role value. Static storage. */
const char *agency_role_name(uint32_t role);
/* Parse one of those names. Returns 0 with *ROLE, or TACNET_EENUM. */
int agency_role_parse(const char *name, uint32_t *role);

#endif
