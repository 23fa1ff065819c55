/* audit_cmd: the `tacnet audit verify` command body. */
#include "audit_cmd.h"

#include <inttypes.h>

#include "audit.h"
#include "err.h"

int cli_audit_verify(const char *path, FILE *out, int json)
{
    uint64_t count = 0, bad = 0;
    int rc = path ? audit_verify_dir(path, &count, &bad) : TACNET_EINVAL;
    int status = rc == 0               ? CLI_AUDIT_OK
                 : rc == TACNET_EAUDIT ? CLI_AUDIT_BROKEN
                                       : CLI_AUDIT_UNREADABLE;
    /* Error names come from the fixed table, so they need no JSON escaping. */
    if (json) {
        if (status == CLI_AUDIT_OK)
            fprintf(out, "{\"ok\":true,\"records\":%" PRIu64 "}\n", count);
        else if (status == CLI_AUDIT_BROKEN)
            fprintf(out,
                    "{\"ok\":false,\"records\":%" PRIu64 ",\"first_bad\":%" PRIu64
                    ",\"error\":\"%s\"}\n",
                    count, bad, tacnet_errname(rc));
        else
            fprintf(out, "{\"ok\":false,\"error\":\"%s\"}\n", tacnet_errname(rc));
    } else {
        if (status == CLI_AUDIT_OK)
            fprintf(out, "audit chain OK: %" PRIu64 " records\n", count);
        else if (status == CLI_AUDIT_BROKEN)
            fprintf(out, "audit chain BROKEN at record %" PRIu64 " (%s)\n", bad,
                    tacnet_errname(rc));
        else
            fprintf(out, "audit chain could not be read: %s (%s)\n", tacnet_errname(rc),
                    tacnet_strerror(rc));
    }
    return status;
}
