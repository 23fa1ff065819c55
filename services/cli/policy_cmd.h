/* policy_cmd: the body of `tacnet policy check [--register FILE]`.
 *
 * Lets a practitioner or an integrator test free text against the identifier policy before
 * it is sent: each input line is checked and answered with one JSON object, so scripts can
 * consume the result and people can see which spans to fix. The command never echoes the
 * text itself, only kinds and byte offsets.
 */
#ifndef TACNET_CLI_POLICY_CMD_H
#define TACNET_CLI_POLICY_CMD_H

#include <stdio.h>

#include "policy.h"

/* Reads text lines from IN until EOF and writes one line per input line to OUT:
 *   {"ok": true|false, "findings": [{"kind": "name", "start": N, "end": N}, ...]}
 * Offsets are bytes into the line with its trailing newline (and any '\r' before it)
 * excluded. REG may be NULL. Returns 0 when every line was answered (whatever the findings),
 * TACNET_EINVAL for NULL IN, OUT or P, TACNET_EIO if reading or writing failed. */
int cli_policy_check_stream(FILE *in, FILE *out, const policy_t *p, const policy_register_t *reg);

/* Loads a register from PATH: one full name per line; blank lines and lines starting with '#'
 * are skipped. On success *OUT receives an owned register (free with policy_register_destroy)
 * and 0 is returned. Errors: TACNET_EINVAL (NULL arguments), TACNET_ENOTFOUND (no such file),
 * TACNET_EIO (unreadable), TACNET_ECONFIG (a line with no word of 2+ letters); *OUT is then
 * NULL. The file holds real names: the line buffer is wiped before it is freed. */
int cli_policy_register_load(const char *path, policy_register_t **out);

#endif
