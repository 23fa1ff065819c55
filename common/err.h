/* err: tacnet's one closed set of error codes.
 *
 * Every function in libtacnet returns 0 or a negative TACNET_E* code. NACKs on the wire, local
 * API replies, HTTP/JSON errors and the `tacnet` command's messages all use this table, so an
 * integrator meets one vocabulary. Codes are stable: append new ones, never renumber. The name
 * (tacnet_errname) is what scripts should match; the text is for people.
 */
#ifndef TACNET_ERR_H
#define TACNET_ERR_H

#define TACNET_ERR_MAP(X)                                                                    \
    X(NOMEM, -1000, "out of memory")                                                         \
    X(INVAL, -1001, "invalid argument")                                                      \
    X(IO, -1002, "input/output error")                                                       \
    X(NOTFOUND, -1003, "not found")                                                          \
    X(EXISTS, -1004, "already exists")                                                       \
    X(PERM, -1005, "file or directory permissions are too wide")                             \
    X(CONFIG, -1006, "invalid configuration")                                                \
    X(STORE, -1007, "storage error")                                                         \
    X(MAPFULL, -1008, "storage is full")                                                     \
    X(DISKFULL, -1009, "disk is full")                                                       \
    X(CORRUPT, -1010, "stored data is corrupt")                                              \
    X(TIMEOUT, -1011, "peer did not answer in time")                                         \
    X(NETFS, -1012, "data directory is on a network or FUSE filesystem")                     \
    X(AGAIN, -1013, "socket would block: try again")                                         \
    X(INTR, -1014, "interrupted by a signal")                                                \
    X(HOSTUNREACH, -1015, "peer is not connected: nothing was sent")                         \
    X(UNAVAILABLE, -1020, "replicated journal did not confirm: nothing kept, send again")    \
    X(FENCED, -1021, "another broker holds the journal's lease: nothing kept")               \
    X(FRAMES, -1100, "wrong number of frames or protocol id")                                \
    X(TOOBIG, -1101, "frame larger than allowed")                                            \
    X(BADMSG, -1102, "malformed message")                                                    \
    X(NONCANON, -1103, "message is not canonically encoded (duplicate or unknown fields)")   \
    X(BUDGET, -1104, "message needs more memory than allowed to decode")                     \
    X(VERSION, -1105, "unsupported schema version")                                          \
    X(ENUM, -1106, "value out of range")                                                     \
    X(CASEREF, -1107, "case reference does not match AAA-YYYY-NNNNNN")                       \
    X(INITIALS, -1108, "initials must be 2 to 4 capital letters")                            \
    X(MSGID, -1109, "msg_id must be 16 bytes, its time inside the clock window")             \
    X(SENDER, -1110, "header sender differs from the authenticated agency")                  \
    X(KEYID, -1111, "sender key id unknown, expired or revoked")                             \
    X(SIGNATURE, -1112, "signature does not verify")                                         \
    X(REPLAY, -1113, "sender sequence already used by another message")                      \
    X(RECIPIENTS, -1114, "recipients differ from the members the sharing policy allows")     \
    X(NOTMEMBER, -1115, "sender is not a member of the case")                                \
    X(CONSENT, -1116, "no consent or lawful basis covers this sensitivity class")            \
    X(OVERRIDE, -1117, "safeguarding override needs a reason code")                          \
    X(KIND, -1118, "event kind not allowed here")                                            \
    X(UNKNOWNPEER, -1119, "say HELLO first")                                                 \
    X(CLOSED, -1120, "case is closed")                                                       \
    X(CLOCK, -1121, "created_at_ms outside the broker's clock window")                       \
    X(QUOTA, -1122, "agency over its publish quota: resend later, in order")                 \
    X(NOTAGENCY, -1123, "key belongs to no agency (the broker's own key is not a client)")   \
    X(REFERSTO, -1124, "refers_to not allowed here, or names no event of this case")         \
    X(CASEPREFIX, -1125, "case reference prefix is not a roster area code")                  \
    X(GONE, -1126, "body no longer held by the broker (past its history window)")            \
    X(GRANT, -1127, "granter may not pass on this event's key")                              \
    X(CASEINITIALS, -1128, "initials differ from the case's: check the case reference")      \
    X(OPEN, -1200, "sealed body does not open (tampered or not for us)")                     \
    X(BODYMISMATCH, -1201, "body msg_id, sender or event kind differs from the header")      \
    X(ROSTER, -1202, "roster missing, unsigned or signed by another root")                   \
    X(ROSTEROLD, -1203, "roster is older than the one in use")                               \
    X(TEXT, -1300, "free text contains identifying details")                                 \
    X(FIELD, -1301, "required field missing or out of range")                                \
    X(MEASURE, -1302, "outcome measure item missing or out of range")                        \
    X(IMPORT, -1303, "import file has malformed rows")                                       \
    X(CHANGED, -1304, "changed since the form was drawn: check it as it stands, send again") \
    X(AUTH, -1400, "log-in or token refused")                                                \
    X(FORBIDDEN, -1401, "not allowed for this user or agency")                               \
    X(CSRF, -1402, "form token missing or forged")                                           \
    X(LOCKED, -1403, "account locked after repeated failures")                               \
    X(AUDIT, -1500, "audit chain does not verify")                                           \
    X(SHREDDED, -1600, "case destroyed under its retention schedule")

enum tacnet_err {
    TACNET_OK = 0,
#define X(name, code, text) TACNET_E##name = (code),
    TACNET_ERR_MAP(X)
#undef X
};

/* Human text for a code (0 gives "ok"). libtacnet never returns a positive value; one from
 * elsewhere gets strerror's text rather than none. Never NULL; static storage. */
const char *tacnet_strerror(int err);

/* Stable machine name for a code, e.g. "E_SIGNATURE"; "E_UNKNOWN" for codes not in the table. */
const char *tacnet_errname(int err);

/* A system errno (errno, zmq_errno(), an errno-valued LMDB return) as a TACNET_E* code, for a
 * function in libtacnet to return instead of the raw value (libuv's uv_translate_sys_error):
 * EAGAIN/EWOULDBLOCK -> TACNET_EAGAIN, EINTR -> TACNET_EINTR, EHOSTUNREACH ->
 * TACNET_EHOSTUNREACH, ENOMEM -> TACNET_ENOMEM, EINVAL -> TACNET_EINVAL, ENOENT ->
 * TACNET_ENOTFOUND, EEXIST -> TACNET_EEXISTS, ENOSPC/EDQUOT -> TACNET_EDISKFULL, ETIMEDOUT ->
 * TACNET_ETIMEOUT, any other positive value -> TACNET_EIO. 0 and negative values (already
 * tacnet codes) are returned as they are. */
int tacnet_err_from_errno(int errnum);

/* Out of memory aborts here (one place, like Redis's zmalloc_oom_handler): callers never see
 * NULL from these. */
void *xmalloc(unsigned long size);
void *xcalloc(unsigned long n, unsigned long size);
void *xrealloc(void *p, unsigned long size);
char *xstrdup(const char *s);

#endif
