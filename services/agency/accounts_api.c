/* accounts_api: the local API's requests on users and tokens (`tacnet user ...`,
 * `tacnet token ...`), each answered from accounts.c or tokens.c with a refusal that names what
 * was wrong. */
#include "internal.h"
#include "agency/auth.h"
#include "agency/accounts.h"
#include "agency/tokens.h"
#include "err.h"
#include "log.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static Tacnet__UserList *s_users(Tacnet__ApiReply *reply)
{
    reply->users = xcalloc(1, sizeof(*reply->users));
    tacnet__user_list__init(reply->users);
    reply->result_case = TACNET__API_REPLY__RESULT_USERS;
    return reply->users;
}

static void s_add_user(agency_t *self, const Tacnet__AddUserRequest *au, Tacnet__ApiReply *reply)
{
    int rc;
    if (au->has_replace && au->replace) {
        /* The user as it was answers: the CLI counts the sessions that ended. */
        Tacnet__UserList *was = s_users(reply);
        rc = agency_user_replace(self, au->initials.data, au->initials.len, au->role,
                                 au->password_hash, was);
        if (rc == 0) {
            /* Its lock-outs (in memory, agency/auth.h) go with its old password. */
            char initials[8];
            snprintf(initials, sizeof(initials), "%.*s",
                     (int)(au->initials.len < 7 ? au->initials.len : 7),
                     (const char *)au->initials.data);
            agency_auth_unlock(self, initials);
        }
        if (rc != 0)
            agency_reply_free(reply); /* a refusal carries no list */
    } else {
        rc =
            agency_user_add(self, au->initials.data, au->initials.len, au->role, au->password_hash);
    }
    if (rc == TACNET_EENUM)
        agency_reply_error(reply, rc,
                           "role must be practitioner, line_manager, dsl or lead_professional");
    else if (rc == TACNET_EFIELD)
        agency_reply_error(reply, rc, "password_hash must be an Argon2id string");
    else if (rc == TACNET_EEXISTS)
        agency_reply_error(reply, rc,
                           "user %.*s exists: nothing was changed; to give it a new password or "
                           "role, `tacnet user add --replace` (which ends its sessions), or "
                           "`tacnet user remove` it first",
                           (int)(au->initials.len < 8 ? au->initials.len : 8),
                           (const char *)au->initials.data);
    else if (rc != 0)
        agency_reply_error(reply, rc, "%s", tacnet_strerror(rc));
}

static void s_add_token(agency_t *self, const Tacnet__AddTokenRequest *at, Tacnet__ApiReply *reply)
{
    uint64_t valid_ms = (uint64_t)(at->has_days ? at->days : AGENCY_TOKEN_DAYS) * 86400000u;
    if (at->has_seconds && at->seconds)
        valid_ms = (uint64_t)at->seconds * 1000u;
    if (valid_ms == 0 || valid_ms > (uint64_t)AGENCY_TOKEN_MAX_DAYS * 86400000u) {
        agency_reply_error(reply, TACNET_EFIELD, "days must be 1 to %d", AGENCY_TOKEN_MAX_DAYS);
        return;
    }
    char token[AGENCY_SECRET_HEX], id[AGENCY_TOKEN_ID_HEX];
    uint64_t expires_ms = 0;
    int rc = agency_token_add(self, at->system, valid_ms, token, id, &expires_ms);
    if (rc == TACNET_EFIELD) {
        agency_reply_error(reply, rc, "system must be 1 to 32 of a-z, 0-9, '_' and '-'");
        return;
    }
    if (rc != 0) {
        agency_reply_error(reply, rc, "%s", tacnet_strerror(rc));
        return;
    }
    reply->token = xcalloc(1, sizeof(*reply->token));
    tacnet__add_token_reply__init(reply->token);
    reply->token->token = xstrdup(token);
    reply->token->system = xstrdup(at->system);
    reply->token->id = xstrdup(id);
    reply->token->has_expires_ms = 1;
    reply->token->expires_ms = expires_ms;
    reply->result_case = TACNET__API_REPLY__RESULT_TOKEN;
    sodium_memzero(token, sizeof(token));
}

static Tacnet__TokenList *s_tokens(Tacnet__ApiReply *reply)
{
    reply->tokens = xcalloc(1, sizeof(*reply->tokens));
    tacnet__token_list__init(reply->tokens);
    reply->result_case = TACNET__API_REPLY__RESULT_TOKENS;
    return reply->tokens;
}

/* A refusal carries no partial list. */
static void s_refuse(Tacnet__ApiReply *reply, int rc, const char *why)
{
    agency_reply_free(reply);
    agency_reply_error(reply, rc, "%s", why ? why : tacnet_strerror(rc));
}

static void s_user_change(agency_t *self, const Tacnet__ApiRequest *req, Tacnet__ApiReply *reply)
{
    int remove = req->op_case == TACNET__API_REQUEST__OP_REMOVE_USER;
    const Tacnet__UserRequest *u = remove ? req->remove_user : req->unlock_user;
    Tacnet__UserList *out = s_users(reply);
    /* Lock-outs live in memory (agency/auth.h): lift them there first, so the user listed in
     * the reply is as it now stands. */
    char initials[8];
    snprintf(initials, sizeof(initials), "%.*s", (int)(u->initials.len < 7 ? u->initials.len : 7),
             (const char *)u->initials.data);
    size_t lifted = agency_auth_unlock(self, initials);
    int rc = remove ? agency_user_remove(self, u->initials.data, u->initials.len, out)
                    : agency_user_unlock(self, u->initials.data, u->initials.len, out);
    if (rc == 0 && lifted)
        log_info("user %s: %zu lock-out(s) lifted", remove ? "removed" : "unlocked", lifted);
    if (rc == TACNET_ENOTFOUND)
        s_refuse(reply, rc, "this agency has no user with those initials");
    else if (rc != 0)
        s_refuse(reply, rc, NULL);
}

int agency_accounts_request(agency_t *self, const Tacnet__ApiRequest *req, Tacnet__ApiReply *reply)
{
    int rc = 0;
    switch (req->op_case) {
    case TACNET__API_REQUEST__OP_ADD_USER:
        s_add_user(self, req->add_user, reply);
        return 0;
    case TACNET__API_REQUEST__OP_ADD_TOKEN:
        s_add_token(self, req->add_token, reply);
        return 0;
    case TACNET__API_REQUEST__OP_LIST_TOKENS:
        if ((rc = agency_token_list(self, s_tokens(reply))) != 0)
            s_refuse(reply, rc, NULL);
        return 0;
    case TACNET__API_REQUEST__OP_REVOKE_TOKEN:
        rc = agency_token_revoke(self, req->revoke_token->id, s_tokens(reply));
        if (rc == TACNET_EFIELD)
            s_refuse(reply, rc, "the token id is 6 to 12 hex digits (tacnet token list)");
        else if (rc == TACNET_ENOTFOUND)
            s_refuse(reply, rc, "no token has that id");
        else if (rc == TACNET_EEXISTS)
            s_refuse(reply, rc, "more than one token starts with that id: give more digits");
        else if (rc != 0)
            s_refuse(reply, rc, NULL);
        return 0;
    case TACNET__API_REQUEST__OP_LIST_USERS:
        if ((rc = agency_user_list(self, s_users(reply))) != 0)
            s_refuse(reply, rc, NULL);
        return 0;
    case TACNET__API_REQUEST__OP_REMOVE_USER:
    case TACNET__API_REQUEST__OP_UNLOCK_USER:
        s_user_change(self, req, reply);
        return 0;
    default:
        return TACNET_ENOTFOUND;
    }
}
