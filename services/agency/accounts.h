/* accounts: the agency's credential store — the dashboard's users, their sessions and log-in
 * failures, and the API tokens of agency systems — kept in four databases of the agency daemon's
 * one LMDB environment (the daemon's loop is their only writer). The local API adds users and
 * tokens (`tacnet user add`, `tacnet token add`), the dashboard checks log-ins, sessions and
 * tokens, and the retention sweep reopens the databases after a compaction; what is web-facing
 * (the log-in page, cookies, CSRF checks) lives in services/dashboard.
 *
 *   users     initials(2-4)  -> role(1) Argon2id hash string ("$argon2id$...", NUL)
 *   sessions  BLAKE2b(sid)   -> initials[5] role(1) csrf(32) expires_ms(8)
 *   logins    initials(2-4)  -> (no longer written: failures are counted in memory, per
 *                               source and account, by agency/auth.h; kept for old views)
 *   tokens    BLAKE2b(token) -> created_ms(8) system label (NUL)
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

/* Add or replace a user. HASH must be an Argon2id string from crypto_pwhash_str. Returns 0,
 * TACNET_EINITIALS, TACNET_EENUM (role) or TACNET_EFIELD (not an Argon2id hash), or a storage
 * error. Audited as "user.add". */
int agency_user_add(agency_t *self, const uint8_t *initials, size_t len, uint32_t role,
                    const char *hash);

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

/* Draw a token for SYSTEM (1-32 of [a-z0-9_-]), store its hash and write it (hex) to TOKEN.
 * Returns 0, TACNET_EFIELD (bad label) or a storage error (TOKEN is wiped then). Audited as
 * "token.add". */
int agency_token_add(agency_t *self, const char *system, char token[AGENCY_SECRET_HEX]);

/* Check a bearer token. Returns 0 with the system's label in SYSTEM, or TACNET_EAUTH. */
int agency_token_check(agency_t *self, const char *token, char system[AGENCY_SYSTEM_CHARS]);

/* The roles a user may hold: "practitioner", "manager", "dsl", "lead" (the names written into
 * audit actors and shown on the dashboard); NULL for any other Role value. Static storage. */
const char *agency_role_name(uint32_t role);
/* Parse one of those names. Returns 0 with *ROLE, or TACNET_EENUM. */
int agency_role_parse(const char *name, uint32_t *role);

#endif
