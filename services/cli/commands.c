/* commands: argument parsing for the offline subcommands (provision, policy, audit, broker). */
#include "cli.h"
#include "agencies.h"
#include "agencyconf.h"
#include "report_cmd.h"
#include "audit_cmd.h"
#include "clock.h"
#include "err.h"
#include "policy.h"
#include "policy_cmd.h"
#include "provision.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <zmq.h>

const char *cli_deploy_dir(void)
{
    static char dir[PATH_MAX];
    const char *env = getenv("TACNET_DEPLOY");
    if (env && *env)
        return env;
    if (dir[0])
        return dir;
    char exe[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        /* build/<config>/bin/tacnet -> <repo>/deploy */
        for (int up = 0; up < 4; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                break;
            *slash = 0;
            snprintf(dir, sizeof(dir), "%s/deploy/sharing.conf", exe);
            if (access(dir, R_OK) == 0) {
                snprintf(dir, sizeof(dir), "%s/deploy", exe);
                return dir;
            }
        }
    }
    snprintf(dir, sizeof(dir), "/usr/local/share/tacnet");
    return dir;
}

void cli_agencies_load(void)
{
    char path[PATH_MAX], why[512] = "";
    const char *env = getenv("TACNET_AGENCIES");
    snprintf(path, sizeof(path), "%s", env && *env ? env : "");
    if (!path[0])
        snprintf(path, sizeof(path), "%s/agencies.conf", cli_deploy_dir());
    if (access(path, R_OK) != 0)
        return;
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    if (agencyconf_load(path, &r, why, sizeof(why)) == 0)
        agencies_register(r.agencies, r.n_agencies);
    else
        fprintf(stderr, "tacnet: %s (agencies named by it are not known)\n", why);
    agencyconf_free(&r);
}

static int s_need(int i, int argc, const char *flag)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "tacnet: %s needs a value\n", flag);
        return 0;
    }
    return 1;
}

int cli_provision_main(int argc, char **argv)
{
    char sharing[PATH_MAX], escalation[PATH_MAX];
    snprintf(sharing, sizeof(sharing), "%s/sharing.conf", cli_deploy_dir());
    snprintf(escalation, sizeof(escalation), "%s/escalation.conf", cli_deploy_dir());
    char agencies[PATH_MAX];
    snprintf(agencies, sizeof(agencies), "%s/agencies.conf", cli_deploy_dir());
    provision_opts_t o = { .sharing_path = sharing,
                           .escalation_path = escalation,
                           .agencies_path = agencies };
    const char *rotate = NULL, *revoke = NULL;
    unsigned overlap = 3600;
    unsigned long key_id = 0;
    unsigned long long at_ms = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && s_need(i, argc, argv[i]))
            o.out_dir = argv[++i];
        else if (strcmp(argv[i], "--sharing") == 0 && s_need(i, argc, argv[i]))
            o.sharing_path = argv[++i];
        else if (strcmp(argv[i], "--escalation") == 0 && s_need(i, argc, argv[i]))
            o.escalation_path = argv[++i];
        else if (strcmp(argv[i], "--agencies") == 0 && s_need(i, argc, argv[i]))
            o.agencies_path = argv[++i], o.agencies_required = 1;
        else if (strcmp(argv[i], "--validity-days") == 0 && s_need(i, argc, argv[i]))
            o.validity_days = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--partnership") == 0)
            o.partnership = 1;
        else if (strcmp(argv[i], "--rotate") == 0 && s_need(i, argc, argv[i]))
            rotate = argv[++i];
        else if (strcmp(argv[i], "--overlap-seconds") == 0 && s_need(i, argc, argv[i]))
            overlap = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--revoke") == 0 && s_need(i, argc, argv[i]))
            revoke = argv[++i];
        else if (strcmp(argv[i], "--key-id") == 0 && s_need(i, argc, argv[i]))
            key_id = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--at-ms") == 0 && s_need(i, argc, argv[i]))
            at_ms = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: tacnet provision --out DIR [--agencies FILE] [--sharing FILE] "
                            "[--escalation FILE] [--validity-days N] [--partnership]\n"
                            "       tacnet provision --out DIR --rotate NODE "
                            "[--overlap-seconds N]\n"
                            "       tacnet provision --out DIR --revoke NODE [--key-id N] "
                            "[--at-ms EPOCH_MS]\n");
            return 2;
        }
    }
    if (!o.out_dir) {
        fprintf(stderr, "tacnet provision: --out DIR is required\n");
        return 2;
    }
    if (rotate || revoke) {
        int rc = rotate ? provision_rotate(o.out_dir, rotate, overlap, stderr)
                        : provision_revoke(o.out_dir, revoke, (uint32_t)key_id, at_ms, stderr);
        return rc == 0 ? 0 : 1;
    }
    int rc = provision_run(&o, stderr);
    return rc == 0 ? 0 : (rc == TACNET_EEXISTS ? 1 : 2);
}

int cli_policy_main(int argc, char **argv)
{
    const char *reg_path = NULL;
    char gaz[PATH_MAX];
    snprintf(gaz, sizeof(gaz), "%s/gazetteer", cli_deploy_dir());
    if (argc < 2 || strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "usage: tacnet policy check [--register FILE] [--gazetteer DIR]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--register") == 0 && s_need(i, argc, argv[i]))
            reg_path = argv[++i];
        else if (strcmp(argv[i], "--gazetteer") == 0 && s_need(i, argc, argv[i]))
            snprintf(gaz, sizeof(gaz), "%s", argv[++i]);
        else {
            fprintf(stderr, "usage: tacnet policy check [--register FILE] [--gazetteer DIR]\n");
            return 2;
        }
    }
    int err = 0;
    policy_t *p = policy_new(gaz, &err);
    if (!p) {
        fprintf(stderr, "tacnet policy: cannot load the gazetteer from %s: %s\n", gaz,
                tacnet_strerror(err));
        return 2;
    }
    policy_register_t *reg = NULL;
    if (reg_path && (err = cli_policy_register_load(reg_path, &reg)) != 0) {
        fprintf(stderr, "tacnet policy: cannot read register %s: %s\n", reg_path,
                tacnet_strerror(err));
        policy_destroy(&p);
        return 2;
    }
    int rc = cli_policy_check_stream(stdin, stdout, p, reg);
    policy_register_destroy(&reg);
    policy_destroy(&p);
    return rc == 0 ? 0 : 2;
}

int cli_audit_main(int argc, char **argv)
{
    int json = 0;
    const char *path = NULL;
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        fprintf(stderr, "usage: tacnet audit verify PATH [--json]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (!path)
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path) {
        fprintf(stderr, "usage: tacnet audit verify PATH [--json]\n");
        return 2;
    }
    return cli_audit_verify(path, stdout, json);
}

int cli_broker_main(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0;
    if (argc >= 2 && strcmp(argv[1], "report") == 0)
        return cli_broker_report_main(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "status") != 0) {
        fprintf(stderr, "usage: tacnet broker status --data-dir DIR [--json]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && s_need(i, argc, argv[i]))
            dir = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else {
            fprintf(stderr, "usage: tacnet broker status --data-dir DIR [--json]\n");
            return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "tacnet broker status: --data-dir DIR is required\n");
        return 2;
    }
    char ep[PATH_MAX + 16];
    snprintf(ep, sizeof(ep), "ipc://%s/admin.sock", dir);
    void *ctx = zmq_ctx_new(), *req = zmq_socket(ctx, ZMQ_REQ);
    int timeout = 3000, linger = 0;
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof(linger));
    char buf[65536];
    int n = -1;
    if (zmq_connect(req, ep) == 0 && zmq_send(req, "status", 6, 0) == 6)
        n = zmq_recv(req, buf, sizeof(buf) - 1, 0);
    zmq_close(req);
    zmq_ctx_term(ctx);
    if (n < 0) {
        fprintf(stderr, "tacnet broker status: no answer from %s (is the broker running?)\n", ep);
        return 2;
    }
    buf[n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1] = 0;
    if (json) {
        printf("%s\n", buf);
        return 0;
    }
    return cli_broker_status_print(buf, stdout);
}

int cli_broker_status_print(const char *json, FILE *out)
{
    json_error_t jerr;
    json_t *root = json_loads(json, 0, &jerr);
    if (!root) {
        fprintf(stderr, "tacnet broker status: unreadable answer: %s\n", jerr.text);
        return 2;
    }
    json_t *repl = json_object_get(root, "replication");
    if (repl)
        fprintf(out, "role %s (node %s), lease holder %s, stream seq %lld of %lld, lag %lld\n",
                json_string_value(json_object_get(repl, "role")),
                json_string_value(json_object_get(repl, "node")),
                json_string_value(json_object_get(repl, "lease_holder")),
                (long long)json_integer_value(json_object_get(repl, "stream_seq")),
                (long long)json_integer_value(json_object_get(repl, "stream_last")),
                (long long)json_integer_value(json_object_get(repl, "lag")));
    if (repl && !json_object_get(root, "epoch")) { /* a standby: it serves nothing yet */
        fprintf(out, "journal head %lld\n",
                (long long)json_integer_value(json_object_get(root, "head_seq")));
        json_decref(root);
        return 0;
    }
    fprintf(out, "journal head %lld, epoch %s, roster version %lld\n",
            (long long)json_integer_value(json_object_get(root, "head_seq")),
            json_string_value(json_object_get(root, "epoch")),
            (long long)json_integer_value(json_object_get(root, "roster_version")));
    fprintf(out,
            "accepted %lld, duplicates %lld, delivered %lld, commits %lld (%.1f events each)\n",
            (long long)json_integer_value(json_object_get(root, "accepted")),
            (long long)json_integer_value(json_object_get(root, "duplicates")),
            (long long)json_integer_value(json_object_get(root, "delivered")),
            (long long)json_integer_value(json_object_get(root, "commits")),
            json_real_value(json_object_get(root, "events_per_commit")));
    json_t *cm = json_object_get(root, "commit_ms");
    if (cm)
        fprintf(out, "commit time p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                json_real_value(json_object_get(cm, "p50")),
                json_real_value(json_object_get(cm, "p99")),
                json_real_value(json_object_get(cm, "max")));
    double map = (double)json_integer_value(json_object_get(root, "map_size"));
    double used = (double)json_integer_value(json_object_get(root, "map_used"));
    fprintf(out, "map %.1f MiB, used %.1f MiB (%.1f%%)\n", map / 1048576.0, used / 1048576.0,
            map > 0 ? 100.0 * used / map : 0.0);
    fprintf(out, "%-16s %-10s %10s %10s %9s\n", "agency", "connected", "last ack", "backlog",
            "inflight");
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(root, "agencies"), i, a)
    {
        char backlog[32]; /* the broker stops counting at its cap: "10000+" */
        snprintf(backlog, sizeof(backlog), "%lld%s",
                 (long long)json_integer_value(json_object_get(a, "backlog")),
                 json_is_true(json_object_get(a, "backlog_capped")) ? "+" : "");
        fprintf(out, "%-16s %-10s %10lld %10s %9lld\n",
                json_string_value(json_object_get(a, "agency")),
                json_is_true(json_object_get(a, "connected")) ? "yes" : "no",
                (long long)json_integer_value(json_object_get(a, "last_ack")), backlog,
                (long long)json_integer_value(json_object_get(a, "inflight")));
    }
    json_array_foreach(json_object_get(root, "agencies"), i, a)
    {
        json_t *sr = json_object_get(a, "sequence_refusals");
        if (sr)
            fprintf(out, "ALERT %s: %lld events refused as out of sequence; latest %s\n",
                    json_string_value(json_object_get(a, "agency")),
                    (long long)json_integer_value(sr),
                    json_string_value(json_object_get(a, "sequence_alert")));
    }
    const char *code;
    json_t *n;
    json_t *rej = json_object_get(root, "rejected");
    if (json_object_size(rej) == 0)
        fprintf(out, "rejected: none\n");
    json_object_foreach(rej, code, n)
    {
        fprintf(out, "rejected %-14s %lld\n", code, (long long)json_integer_value(n));
    }
    json_t *esc = json_object_get(root, "escalations");
    if (json_is_object(esc)) {
        const char *next = json_string_value(json_object_get(esc, "next_deadline"));
        fprintf(out,
                "escalations: open %lld (breached %lld), resolving %lld, closed %lld; "
                "next deadline %s\n",
                (long long)json_integer_value(json_object_get(esc, "open")),
                (long long)json_integer_value(json_object_get(esc, "breached")),
                (long long)json_integer_value(json_object_get(esc, "resolving")),
                (long long)json_integer_value(json_object_get(esc, "closed")),
                next ? next : "none");
        json_array_foreach(json_object_get(esc, "escalations"), i, a)
        {
            char when[40] = "-";
            json_int_t d = json_integer_value(json_object_get(a, "deadline_ms"));
            if (d > 0)
                clock_format_iso((uint64_t)d, when, sizeof(when));
            fprintf(out, "  %s %s %-9s stage %lld%s%s deadline %s\n",
                    json_string_value(json_object_get(a, "id")),
                    json_string_value(json_object_get(a, "case_ref")),
                    json_string_value(json_object_get(a, "state")),
                    (long long)json_integer_value(json_object_get(a, "stage")),
                    json_is_true(json_object_get(a, "urgent")) ? " urgent" : "",
                    json_is_true(json_object_get(a, "breached")) ? " BREACHED" : "", when);
        }
    }
    json_decref(root);
    return 0;
}
