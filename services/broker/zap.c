/* zap: RFC 27 request/reply, keys checked against the roster on every handshake. */
#include "zap.h"
#include "err.h"
#include "log.h"
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ZAP_FRAMES 7
/* Refusals remembered for the log's sake: a key refused again within a minute of its last line
 * is counted, not logged; and never more than ZAP_LOG_BUDGET lines a minute in all, so a flood
 * of fresh random keys cannot fill the log either. */
#define ZAP_SEEN       16
#define ZAP_LOG_MS     60000u
#define ZAP_LOG_BUDGET 20

typedef struct {
    uint8_t key[8]; /* the start of the client's CURVE public key */
    int code;
    uint64_t logged_ms;
    uint32_t since; /* refusals not logged since that line */
} zap_seen_t;

struct zap {
    void *sock;
    zap_seen_t seen[ZAP_SEEN];
    uint64_t window_ms;
    uint32_t window_lines, window_dropped;
};

zap_t *zap_new(void *ctx, int *err)
{
    zap_t *self = xcalloc(1, sizeof(*self));
    self->sock = zmq_socket(ctx, ZMQ_REP);
    if (!self->sock || zmq_bind(self->sock, ZAP_ENDPOINT) != 0) {
        *err = TACNET_EIO;
        zap_destroy(&self);
        return NULL;
    }
    return self;
}

void zap_destroy(zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->sock)
        zmq_close((*self_p)->sock);
    free(*self_p);
    *self_p = NULL;
}

void *zap_socket(zap_t *self)
{
    return self->sock;
}

static void s_send(void *sock, const void *data, size_t len, int more)
{
    zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0);
}

/* Log one refusal of KEY (NULL: not CURVE) from ADDRESS, unless it is a repeat within the
 * minute or the minute's lines are spent. The key itself is never logged: the roster's agency
 * for it, when it has one, says enough. */
static void s_log_refusal(zap_t *self, const uint8_t *key, int code, uint32_t agency,
                          const char *address, uint64_t now_ms)
{
    zap_seen_t *slot = NULL;
    uint8_t k[8] = { 0 };
    if (key)
        memcpy(k, key, sizeof(k));
    for (size_t i = 0; i < ZAP_SEEN && !slot; i++)
        if (self->seen[i].code == code && memcmp(self->seen[i].key, k, sizeof(k)) == 0)
            slot = &self->seen[i];
    if (slot && now_ms - slot->logged_ms < ZAP_LOG_MS) {
        slot->since++;
        return;
    }
    if (now_ms - self->window_ms >= ZAP_LOG_MS) {
        if (self->window_dropped)
            log_warn("zap: %u more refused handshakes not logged in the last minute",
                     self->window_dropped);
        self->window_ms = now_ms, self->window_lines = 0, self->window_dropped = 0;
    }
    if (self->window_lines >= ZAP_LOG_BUDGET) {
        self->window_dropped++;
        return;
    }
    if (!slot) {
        slot = &self->seen[0];
        for (size_t i = 1; i < ZAP_SEEN; i++)
            if (self->seen[i].logged_ms < slot->logged_ms)
                slot = &self->seen[i];
        memset(slot, 0, sizeof(*slot));
        memcpy(slot->key, k, sizeof(k));
        slot->code = code;
    }
    self->window_lines++;
    char also[48] = "";
    if (slot->since)
        snprintf(also, sizeof(also), " (%u more since the last line)", slot->since);
    const char *who = agency ? names_agency(agency) : NULL;
    log_warn("zap: refused a client from %s%s%s: %s, %s%s", address[0] ? address : "?",
             who ? " with the roster key of " : "", who ? who : "", tacnet_errname(code),
             tacnet_strerror(code), also);
    slot->logged_ms = now_ms;
    slot->since = 0;
}

/* An agency that connects as a client: any in the roster but the broker itself. */
static int s_client_agency(uint32_t agency)
{
    return agency != TACNET__AGENCY__AGENCY_UNKNOWN && agency != TACNET__AGENCY__BROKER;
}

/* The User-Id for the CURVE key KEY, or a refusal code. */
static int s_curve_user(const roster_t *roster, const uint8_t *key, uint64_t now_ms,
                        uint32_t *agency, char *user, size_t cap)
{
    *agency = roster_agency_by_curve(roster, key, now_ms);
    if (!*agency)
        return TACNET_EKEYID;
    if (!s_client_agency(*agency))
        return TACNET_ENOTAGENCY;
    const Tacnet__Roster *r = roster_msg(roster);
    for (size_t i = 0; i < r->n_keys; i++) {
        const Tacnet__NodeKey *k = r->keys[i];
        if ((uint32_t)k->agency == *agency && k->curve_pk.len == 32 &&
            memcmp(k->curve_pk.data, key, 32) == 0) {
            snprintf(user, cap, "%u:%u", *agency, k->key_id);
            return 0;
        }
    }
    return TACNET_EKEYID;
}

int zap_handle(zap_t *self, const roster_t *roster, uint64_t now_ms)
{
    /* version, request id, domain, address, identity, mechanism, credentials */
    char frames[ZAP_FRAMES][256];
    size_t lens[ZAP_FRAMES] = { 0 };
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, self->sock, 0) < 0) {
            zmq_msg_close(&m);
            return TACNET_EIO;
        }
        if (n < ZAP_FRAMES) {
            size_t len = zmq_msg_size(&m);
            lens[n] = len < sizeof(frames[n]) ? len : sizeof(frames[n]);
            memcpy(frames[n], zmq_msg_data(&m), lens[n]);
        }
        n++;
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    /* A REP socket must answer something; a malformed request gets a 500. */
    const char *status = "500", *text = "malformed request";
    char user[32] = "";
    int rc = TACNET_EBADMSG;
    uint32_t agency = 0;
    const uint8_t *key = NULL;
    if (n >= ZAP_FRAMES && lens[0] == 3 && memcmp(frames[0], "1.0", 3) == 0) {
        status = "400";
        if (lens[5] == 5 && memcmp(frames[5], "CURVE", 5) == 0 && lens[6] == 32) {
            key = (const uint8_t *)frames[6];
            rc = s_curve_user(roster, key, now_ms, &agency, user, sizeof(user));
            text = rc == 0                   ? "OK"
                   : rc == TACNET_ENOTAGENCY ? "key belongs to no agency"
                                             : "key not in roster";
            if (rc == 0) {
                status = "200";
                rc = 1;
            }
        } else {
            text = "CURVE required";
            rc = TACNET_EINVAL;
        }
    }
    s_send(self->sock, "1.0", 3, 1);
    s_send(self->sock, frames[1], n > 1 ? lens[1] : 0, 1);
    s_send(self->sock, status, 3, 1);
    s_send(self->sock, text, strlen(text), 1);
    s_send(self->sock, user, strlen(user), 1);
    s_send(self->sock, "", 0, 0);
    if (rc < 0) {
        char address[64] = "";
        if (n > 3)
            snprintf(address, sizeof(address), "%.*s", (int)lens[3], frames[3]);
        s_log_refusal(self, key, rc, agency, address, now_ms);
    }
    return rc;
}

int zap_user_parse(const char *user_id, uint32_t *agency, uint32_t *key_id)
{
    char *end;
    unsigned long a = strtoul(user_id, &end, 10);
    /* ZAP never names the broker (it refuses the broker's key); a User-Id that does is not
     * taken for an agency's. */
    if (end == user_id || *end != ':' || a == 0 || a >= TACNET__AGENCY__BROKER)
        return TACNET_EINVAL;
    const char *k = end + 1;
    unsigned long id = strtoul(k, &end, 10);
    if (end == k || *end != 0 || id > 0xffffffffUL)
        return TACNET_EINVAL;
    *agency = (uint32_t)a;
    *key_id = (uint32_t)id;
    return 0;
}
