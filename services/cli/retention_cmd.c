/* retention_cmd: `tacnet --agency NAME hold add|remove|list` and `retention run` — legal holds
 * and the retention sweep, through the daemon's local API. */
#include "retention_cmd.h"
#include "agency_print.h"
#include "clock.h"
#include "err.h"
#include "names.h"
#include "pbjson.h"

#include <jansson.h>
#include <string.h>

static const char s_reasons[] = "public_inquiry, litigation, safeguarding_practice_review, "
                                "police_investigation, complaint, subject_access_request";

static int s_usage(void)
{
    fprintf(stderr,
            "usage: tacnet --agency NAME hold add --case REF --reason CODE\n"
            "       tacnet --agency NAME hold remove --case REF\n"
            "       tacnet --agency NAME hold list\n"
            "       tacnet --agency NAME retention run\n"
            "  CODE: %s\n",
            s_reasons);
    return 2;
}

static void s_date(char out[16], uint32_t d)
{
    if (!d)
        snprintf(out, 16, "-");
    else
        snprintf(out, 16, "%04u-%02u-%02u", d / 10000 % 10000, d / 100 % 100, d % 100);
}

/* Print the reply as JSON or hand it to SHOW; refusals to stderr. Returns the exit status. */
static int s_finish(const cli_retention_opts_t *o, int rc, Tacnet__ApiReply *reply,
                    void (*show)(const Tacnet__ApiReply *))
{
    if (!reply) {
        fprintf(stderr, "tacnet: no answer from the daemon: %s (is it running?)\n",
                tacnet_strerror(rc));
        return 2;
    }
    int status = cli_agency_print_reply(stdout, o->json, reply);
    if (status == 0 && !o->json)
        show(reply);
    tn_client_reply_free(&reply);
    return status;
}

static void s_show_holds(const Tacnet__ApiReply *r)
{
    if (!r->holds || r->holds->n_holds == 0) {
        printf("no legal holds\n");
        return;
    }
    for (size_t i = 0; i < r->holds->n_holds; i++) {
        const Tacnet__HoldEntry *h = r->holds->holds[i];
        char at[32];
        clock_format_iso(h->set_ms, at, sizeof(at));
        printf("%-16.*s %-30s since %s\n", (int)h->case_ref.len, (const char *)h->case_ref.data,
               names_enum(&tacnet__hold_reason__descriptor, (int)h->reason), at);
    }
}

static void s_show_removed(const Tacnet__ApiReply *r)
{
    (void)r;
    printf("legal hold removed\n");
}

static void s_show_sweep(const Tacnet__ApiReply *r)
{
    const Tacnet__RetentionRunReply *s = r->retention;
    if (!s)
        return;
    char at[32];
    clock_format_iso(s->now_ms, at, sizeof(at));
    printf("retention sweep at %s: %u destroyed, %u held past their period%s", at, s->shredded,
           s->held, s->compacted ? ", file compacted" : "");
    if (s->audit_pruned)
        printf(", %llu audit records pruned", (unsigned long long)s->audit_pruned);
    printf("\n");
    for (size_t i = 0; i < s->n_cases; i++) {
        const Tacnet__RetentionCase *c = s->cases[i];
        char closed[16], due[16];
        s_date(closed, c->closed_date);
        s_date(due, c->due_date);
        printf("  %-16.*s %-9s closed %-10s due %-10s", (int)c->case_ref.len,
               (const char *)c->case_ref.data, c->verdict, closed, due);
        if (c->has_events)
            printf(" destroyed %llu events", (unsigned long long)c->events);
        if (c->has_hold)
            printf(" hold %s", names_enum(&tacnet__hold_reason__descriptor, (int)c->hold));
        if (c->kept_because)
            printf(" kept: %s", c->kept_because);
        printf("\n");
    }
}

int cli_hold_command(const cli_retention_opts_t *o, int argc, char **argv)
{
    if (argc < 2)
        return s_usage();
    Tacnet__HoldRequest hr = TACNET__HOLD_REQUEST__INIT;
    const char *verb = argv[1], *ref = NULL, *reason = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
            ref = argv[++i];
        else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
            reason = argv[++i];
        else
            return s_usage();
    }
    if (strcmp(verb, "list") == 0 && !ref && !reason) {
        hr.action = TACNET__HOLD_ACTION__HOLD_LIST;
    } else if (strcmp(verb, "add") == 0 && ref && reason) {
        int v = 0;
        if (names_enum_parse(&tacnet__hold_reason__descriptor, reason, &v) != 0 || v == 0) {
            fprintf(stderr, "tacnet: unknown hold reason \"%s\" (%s)\n", reason, s_reasons);
            return 2;
        }
        hr.action = TACNET__HOLD_ACTION__HOLD_ADD;
        hr.has_reason = 1;
        hr.reason = (Tacnet__HoldReason)v;
    } else if (strcmp(verb, "remove") == 0 && ref && !reason) {
        hr.action = TACNET__HOLD_ACTION__HOLD_REMOVE;
    } else {
        return s_usage();
    }
    if (ref) {
        hr.has_case_ref = 1;
        hr.case_ref.data = (uint8_t *)ref;
        hr.case_ref.len = strlen(ref);
    }
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_HOLD;
    req.hold = &hr;
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_call(o->client, &req, &reply, o->timeout_ms);
    return s_finish(o, rc, reply,
                    hr.action == TACNET__HOLD_ACTION__HOLD_REMOVE ? s_show_removed : s_show_holds);
}

int cli_retention_command(const cli_retention_opts_t *o, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "run") != 0)
        return s_usage();
    Tacnet__RetentionRunRequest rr = TACNET__RETENTION_RUN_REQUEST__INIT;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_RETENTION_RUN;
    req.retention_run = &rr;
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_call(o->client, &req, &reply, o->timeout_ms);
    return s_finish(o, rc, reply, s_show_sweep);
}
