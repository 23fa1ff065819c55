/* policy_cmd: `tacnet policy check`, line in, JSON verdict out. */
#include "cli/policy_cmd.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static int s_write_verdict(FILE *out, int clean, const policy_finding_t *f, size_t n)
{
    if (fprintf(out, "{\"ok\": %s, \"findings\": [", clean ? "true" : "false") < 0)
        return TACNET_EIO;
    for (size_t i = 0; i < n; i++)
        if (fprintf(out, "%s{\"kind\": \"%s\", \"start\": %u, \"end\": %u}", i ? ", " : "",
                    policy_kind_name(f[i].kind), (unsigned)f[i].start, (unsigned)f[i].end) < 0)
            return TACNET_EIO;
    if (fputs("]}\n", out) == EOF)
        return TACNET_EIO;
    return 0;
}

int cli_policy_check_stream(FILE *in, FILE *out, const policy_t *p, const policy_register_t *reg)
{
    if (!in || !out || !p)
        return TACNET_EINVAL;
    int rc = 0;
    char *line = NULL;
    size_t line_cap = 0, cap = 32, n = 0;
    policy_finding_t *found = xmalloc(cap * sizeof(*found));
    ssize_t got;
    while ((got = getline(&line, &line_cap, in)) >= 0) {
        size_t len = (size_t)got;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        int verdict = policy_text_check(p, reg, line, len, found, cap, &n);
        if (n > cap) {
            cap = n;
            found = xrealloc(found, cap * sizeof(*found));
            verdict = policy_text_check(p, reg, line, len, found, cap, &n);
        }
        if (verdict != 0 && verdict != TACNET_ETEXT) {
            rc = verdict;
            goto fail;
        }
        if ((rc = s_write_verdict(out, verdict == 0, found, n)) != 0)
            goto fail;
    }
    if (ferror(in) || fflush(out) != 0)
        rc = TACNET_EIO;
fail:
    if (line)
        sodium_memzero(line, line_cap);
    free(line);
    free(found);
    return rc;
}

int cli_policy_register_load(const char *path, policy_register_t **out)
{
    if (!path || !out)
        return TACNET_EINVAL;
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? TACNET_ENOTFOUND : TACNET_EIO;
    int rc = 0;
    char *line = NULL;
    size_t line_cap = 0;
    policy_register_t *reg = policy_register_new();
    ssize_t got;
    while ((got = getline(&line, &line_cap, f)) >= 0) {
        size_t a = 0;
        while (line[a] == ' ' || line[a] == '\t')
            a++;
        if (line[a] == '\0' || line[a] == '\n' || line[a] == '\r' || line[a] == '#')
            continue;
        if (policy_register_add(reg, line + a) != 0) {
            rc = TACNET_ECONFIG;
            goto fail;
        }
    }
    if (ferror(f)) {
        rc = TACNET_EIO;
        goto fail;
    }
    *out = reg;
    reg = NULL;
fail:
    policy_register_destroy(&reg);
    if (line)
        sodium_memzero(line, line_cap);
    free(line);
    fclose(f);
    return rc;
}
