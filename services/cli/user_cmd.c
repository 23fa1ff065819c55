/* user_cmd: `tacnet user add|list|remove|unlock` and `tacnet token add|list|revoke`, the
 * dashboard's users and the HTTP API's tokens. The password is read from a prompt (echo off) or a
 * file, never from argv, and hashed here with Argon2id; only the hash reaches the daemon, which
 * is the only writer of its users. A token is printed once, on stdout, its id and expiry on
 * stderr; listings show ids, never tokens. Times are UTC.
 */
#include "cli.h"
#include "client/client.h"
#include "err.h"
#include "names.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define USER_TIMEOUT_MS   10000
#define USER_MIN_PASSWORD 10

typedef struct {
    const char *agency, *data_dir, *initials, *role, *password_file, *system, *days, *id;
    int replace; /* user add --replace: remove the user (ending its sessions) and add it, at once */
} user_opts_t;

static int s_usage(void)
{
    fprintf(
        stderr,
        "usage: tacnet user add --agency NAME --initials XX --role "
        "practitioner|line_manager|dsl|lead_professional\n"
        "                       [--password-file FILE] [--replace] [--data-dir DIR]\n"
        "       tacnet user list --agency NAME [--data-dir DIR]\n"
        "       tacnet user remove|unlock --agency NAME --initials XX [--data-dir DIR]\n"
        "       tacnet token add --agency NAME --system LABEL [--days N] [--data-dir DIR]\n"
        "       tacnet token list --agency NAME [--data-dir DIR]\n"
        "       tacnet token revoke --agency NAME --id ID [--data-dir DIR]\n"
        "  The password is prompted for (or read from the first line of FILE), never taken\n"
        "  from the command line. A user that exists is refused (E_EXISTS); --replace gives\n"
        "  it the new password and role and ends its sessions. A token is printed once (the daemon "
        "keeps only its hash) and\n"
        "  is valid for N days (default 90, at most 3650); list shows its id, never the token.\n");
    return 2;
}

static int s_parse(int argc, char **argv, user_opts_t *o)
{
    for (int i = 2; i < argc; i++) {
        const char **slot = NULL;
        if (strcmp(argv[i], "--replace") == 0) {
            o->replace = 1;
            continue;
        }
        if (strcmp(argv[i], "--agency") == 0)
            slot = &o->agency;
        else if (strcmp(argv[i], "--data-dir") == 0)
            slot = &o->data_dir;
        else if (strcmp(argv[i], "--initials") == 0)
            slot = &o->initials;
        else if (strcmp(argv[i], "--role") == 0)
            slot = &o->role;
        else if (strcmp(argv[i], "--password-file") == 0)
            slot = &o->password_file;
        else if (strcmp(argv[i], "--system") == 0)
            slot = &o->system;
        else if (strcmp(argv[i], "--days") == 0)
            slot = &o->days;
        else if (strcmp(argv[i], "--id") == 0)
            slot = &o->id;
        if (!slot || i + 1 >= argc) {
            fprintf(stderr, "tacnet: unknown option or missing value: %s\n", argv[i]);
            return -1;
        }
        *slot = argv[++i];
    }
    return 0;
}

/* Read one line into BUF (sodium_malloc'd by the caller). Returns its length or -1. */
static long s_read_password(const user_opts_t *o, char *buf, size_t cap)
{
    FILE *f = NULL;
    struct termios old, quiet;
    int tty = 0;
    if (o->password_file) {
        if (!(f = fopen(o->password_file, "r"))) {
            fprintf(stderr, "tacnet: cannot read %s\n", o->password_file);
            return -1;
        }
    } else {
        f = stdin;
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0) {
            tty = 1;
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
            fprintf(stderr, "Password for %s at %s: ", o->initials, o->agency);
        }
    }
    long n = fgets(buf, (int)cap, f) ? (long)strcspn(buf, "\r\n") : -1;
    if (n >= 0)
        buf[n] = 0;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (f != stdin)
        fclose(f);
    return n;
}

static tn_client_t *s_client(const user_opts_t *o)
{
    char dir[PATH_MAX];
    const char *target = o->data_dir;
    if (!target) {
        const char *home = getenv("TACNET_HOME");
        snprintf(dir, sizeof(dir), "%s/%s", home && *home ? home : "./run", o->agency);
        target = dir;
    }
    int err = 0;
    tn_client_t *c = tn_client_new(target, &err);
    if (!c)
        fprintf(stderr, "tacnet: cannot reach the %s daemon at %s: %s\n", o->agency, target,
                tacnet_strerror(err));
    return c;
}

static int s_finish(int rc, Tacnet__ApiReply *reply)
{
    if (!reply) {
        fprintf(stderr, "tacnet: no answer from the daemon: %s\n", tacnet_strerror(rc));
        return 2;
    }
    if (reply->code != 0) {
        fprintf(stderr, "tacnet: refused: %s: %s\n", tacnet_errname(reply->code),
                reply->reason ? reply->reason : tacnet_strerror(reply->code));
        return 1;
    }
    return 0;
}

/* The roles a dashboard user may hold, named as the escalation procedure names its audiences;
 * "manager" and "lead" (earlier names) are read as line_manager and lead_professional. */
static const char *s_role_name(const char *role, Tacnet__Role *out)
{
    int v;
    if (!role)
        return NULL;
    if (strcmp(role, "manager") == 0)
        role = "line_manager";
    else if (strcmp(role, "lead") == 0)
        role = "lead_professional";
    if (names_enum_parse(&tacnet__role__descriptor, role, &v) != 0 ||
        (v != TACNET__ROLE__PRACTITIONER && v != TACNET__ROLE__LINE_MANAGER &&
         v != TACNET__ROLE__DSL && v != TACNET__ROLE__LEAD_PROFESSIONAL))
        return NULL;
    *out = (Tacnet__Role)v;
    return names_enum(&tacnet__role__descriptor, v);
}

/* "2026-12-02 14:05Z", or "-" for 0. */
static const char *s_when(uint64_t ms, char buf[24])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms == 0 || !gmtime_r(&t, &tm) || strftime(buf, 24, "%Y-%m-%d %H:%MZ", &tm) == 0)
        snprintf(buf, 24, "-");
    return buf;
}

/* Send REQ to the daemon of O. Returns the exit status, with the reply in *REPLY on 0. */
static int s_call(const user_opts_t *o, Tacnet__ApiRequest *req, Tacnet__ApiReply **reply)
{
    tn_client_t *c = s_client(o);
    if (!c)
        return 2;
    int rc = tn_client_call(c, req, reply, USER_TIMEOUT_MS);
    rc = s_finish(rc, *reply);
    tn_client_destroy(&c);
    return rc;
}

static int s_user_add(const user_opts_t *o)
{
    Tacnet__Role role;
    if (!s_role_name(o->role, &role)) {
        fprintf(stderr,
                "tacnet: --role must be practitioner, line_manager, dsl or lead_professional\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 2;
    char *pw = sodium_malloc(256);
    char hash[crypto_pwhash_STRBYTES];
    long n = pw ? s_read_password(o, pw, 256) : -1;
    if (n < USER_MIN_PASSWORD) {
        fprintf(stderr, "tacnet: the password must be at least %d characters\n", USER_MIN_PASSWORD);
        sodium_free(pw);
        return 2;
    }
    int hrc = crypto_pwhash_str(hash, pw, (unsigned long long)n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_free(pw);
    if (hrc != 0) {
        fprintf(stderr, "tacnet: could not hash the password (out of memory)\n");
        return 2;
    }
    /* Replacing is removing (its sessions end: they carry the old role) and adding again, in
     * one transaction of the daemon's: a refused add leaves the old user as it was. A user that
     * is not there is simply added. */
    Tacnet__AddUserRequest au = TACNET__ADD_USER_REQUEST__INIT;
    au.initials.data = (uint8_t *)o->initials;
    au.initials.len = strlen(o->initials);
    au.role = role;
    au.password_hash = hash;
    au.has_replace = au.replace = o->replace != 0;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_USER;
    req.add_user = &au;
    Tacnet__ApiReply *reply = NULL;
    int rc = s_call(o, &req, &reply);
    uint32_t ended = 0;
    int replaced = rc == 0 && reply->users && reply->users->n_users;
    for (size_t i = 0; replaced && i < reply->users->n_users; i++)
        ended += reply->users->users[i]->sessions;
    if (replaced)
        printf("user %s replaced: role %s, new password; %u session%s ended; it can log in at "
               "the %s dashboard\n",
               o->initials, o->role, ended, ended == 1 ? "" : "s", o->agency);
    else if (rc == 0)
        printf("user %s (%s) can now log in at the %s dashboard\n", o->initials, o->role,
               o->agency);
    else if (o->replace && reply)
        fprintf(stderr, "tacnet: nothing was changed: user %s, if there is one, is as it was\n",
                o->initials);
    tn_client_reply_free(&reply);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

static void s_users_print(const Tacnet__UserList *l, const char *verb)
{
    char when[24];
    if (!verb)
        printf("%-8s %-18s %8s  %-17s %8s\n", "INITIALS", "ROLE", "FAILURES", "LOCKED UNTIL",
               "SESSIONS");
    for (size_t i = 0; l && i < l->n_users; i++) {
        const Tacnet__UserInfo *u = l->users[i];
        const char *role = names_enum(&tacnet__role__descriptor, (int)u->role);
        if (verb) {
            printf("%s user %.*s (%s)\n", verb, (int)u->initials.len,
                   (const char *)u->initials.data, role ? role : "?");
            continue;
        }
        printf("%-8.*s %-18s %8u  %-17s %8u\n", (int)u->initials.len,
               (const char *)u->initials.data, role ? role : "?", u->failures,
               s_when(u->has_locked_until_ms ? u->locked_until_ms : 0, when), u->sessions);
    }
}

int cli_user_main(int argc, char **argv)
{
    user_opts_t o = { 0 };
    const char *sub = argc >= 2 ? argv[1] : "";
    int add = strcmp(sub, "add") == 0, list = strcmp(sub, "list") == 0;
    int remove = strcmp(sub, "remove") == 0, unlock = strcmp(sub, "unlock") == 0;
    if (!(add || list || remove || unlock) || s_parse(argc, argv, &o) != 0 || !o.agency ||
        o.system || o.days || o.id || (add ? !o.initials || !o.role : !!o.role) ||
        (!add && (o.password_file || o.replace)) || (list ? !!o.initials : !o.initials))
        return s_usage();
    if (add)
        return s_user_add(&o);
    Tacnet__ListUsersRequest lu = TACNET__LIST_USERS_REQUEST__INIT;
    Tacnet__UserRequest ur = TACNET__USER_REQUEST__INIT;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    if (list) {
        req.op_case = TACNET__API_REQUEST__OP_LIST_USERS;
        req.list_users = &lu;
    } else {
        ur.initials.data = (uint8_t *)o.initials;
        ur.initials.len = strlen(o.initials);
        req.op_case =
            remove ? TACNET__API_REQUEST__OP_REMOVE_USER : TACNET__API_REQUEST__OP_UNLOCK_USER;
        if (remove)
            req.remove_user = &ur;
        else
            req.unlock_user = &ur;
    }
    Tacnet__ApiReply *reply = NULL;
    int rc = s_call(&o, &req, &reply);
    if (rc == 0)
        s_users_print(reply->users, list ? NULL : remove ? "removed" : "unlocked");
    tn_client_reply_free(&reply);
    return rc;
}

static void s_tokens_print(const Tacnet__TokenList *l, const char *verb)
{
    char c[24], e[24], u[24];
    if (!verb)
        printf("%-12s  %-32s  %-17s  %-17s  %s\n", "ID", "SYSTEM", "CREATED", "EXPIRES",
               "LAST USED");
    uint64_t now = (uint64_t)time(NULL) * 1000;
    for (size_t i = 0; l && i < l->n_tokens; i++) {
        const Tacnet__TokenInfo *t = l->tokens[i];
        if (verb)
            printf("%s token %s (%s)\n", verb, t->id, t->system);
        else
            printf("%-12s  %-32s  %-17s  %-17s  %s%s\n", t->id, t->system, s_when(t->created_ms, c),
                   s_when(t->expires_ms, e), s_when(t->has_last_used_ms ? t->last_used_ms : 0, u),
                   t->expires_ms <= now ? "  expired" : "");
    }
}

static int s_token_add(const user_opts_t *o)
{
    Tacnet__AddTokenRequest at = TACNET__ADD_TOKEN_REQUEST__INIT;
    at.system = (char *)o->system;
    if (o->days) {
        char *end = NULL;
        unsigned long d = strtoul(o->days, &end, 10);
        if (!*o->days || *end || d < 1 || d > 3650) {
            fprintf(stderr, "tacnet: --days must be 1 to 3650\n");
            return 2;
        }
        at.has_days = 1;
        at.days = (uint32_t)d;
    }
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_TOKEN;
    req.add_token = &at;
    Tacnet__ApiReply *reply = NULL;
    int rc = s_call(o, &req, &reply);
    if (rc == 0 && reply->token) {
        char e[24];
        printf("%s\n", reply->token->token);
        fprintf(stderr,
                "tacnet: token %s for %s, expires %s (shown once; the daemon keeps only "
                "its hash)\n",
                reply->token->id ? reply->token->id : "?", reply->token->system,
                s_when(reply->token->has_expires_ms ? reply->token->expires_ms : 0, e));
    }
    if (reply && reply->token && reply->token->token)
        sodium_memzero(reply->token->token, strlen(reply->token->token));
    tn_client_reply_free(&reply);
    return rc;
}

int cli_token_main(int argc, char **argv)
{
    user_opts_t o = { 0 };
    const char *sub = argc >= 2 ? argv[1] : "";
    int add = strcmp(sub, "add") == 0, list = strcmp(sub, "list") == 0;
    int revoke = strcmp(sub, "revoke") == 0;
    if (!(add || list || revoke) || s_parse(argc, argv, &o) != 0 || !o.agency || o.initials ||
        o.replace || o.role || o.password_file || (add ? !o.system : o.system || o.days) ||
        (revoke ? !o.id : !!o.id))
        return s_usage();
    if (add)
        return s_token_add(&o);
    Tacnet__ListTokensRequest lt = TACNET__LIST_TOKENS_REQUEST__INIT;
    Tacnet__RevokeTokenRequest rt = TACNET__REVOKE_TOKEN_REQUEST__INIT;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    if (list) {
        req.op_case = TACNET__API_REQUEST__OP_LIST_TOKENS;
        req.list_tokens = &lt;
    } else {
        rt.id = (char *)o.id;
        req.op_case = TACNET__API_REQUEST__OP_REVOKE_TOKEN;
        req.revoke_token = &rt;
    }
    Tacnet__ApiReply *reply = NULL;
    int rc = s_call(&o, &req, &reply);
    if (rc == 0)
        s_tokens_print(reply->tokens, list ? NULL : "revoked");
    tn_client_reply_free(&reply);
    return rc;
}
