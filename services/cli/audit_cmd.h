/* audit_cmd: `tacnet audit verify PATH`, which checks a daemon's audit chain.
 *
 * PATH is the daemon's LMDB directory. It is opened read-only, so it may be checked while the
 * daemon runs. The output names the first bad record and the error code, never record
 * contents, so it can go into a ticket as is.
 */
#ifndef TACNET_CLI_AUDIT_CMD_H
#define TACNET_CLI_AUDIT_CMD_H

#include <stdio.h>

/* Exit statuses of `tacnet audit verify`. */
enum { CLI_AUDIT_OK = 0, CLI_AUDIT_BROKEN = 1, CLI_AUDIT_UNREADABLE = 2 };

/* Verify the audit chain in the LMDB environment at PATH and print one line to OUT: text, e.g.
 * `audit chain OK: 1234 records`, `audit chain BROKEN at record 17 (E_AUDIT)`, or with JSON set
 * one JSON object {"ok":..,"records":..,"first_bad":..,"error":..}. Returns CLI_AUDIT_OK,
 * CLI_AUDIT_BROKEN or CLI_AUDIT_UNREADABLE (missing, not an LMDB, no audit database). */
int cli_audit_verify(const char *path, FILE *out, int json);

#endif
