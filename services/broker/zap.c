/* zap: RFC 27 request/reply, keys checked against the roster on every handshake. */
#include "zap.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ZAP_FRAMES 7

static void s_send(void *sock, const void *data, size_t len, int more)
{
    zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0);
}

int zap_handle(void *sock, const roster_t *roster, uint64_t now_ms)
{
    /* version, request id, domain, address, identity, mechanism, credentials */
    char frames[ZAP_FRAMES][256];
    size_t lens[ZAP_FRAMES] = { 0 };
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
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
    int accepted = 0;
    if (n >= ZAP_FRAMES && lens[0] == 3 && memcmp(frames[0], "1.0", 3) == 0) {
        status = "400";
        text = "key not in roster";
        if (lens[5] == 5 && memcmp(frames[5], "CURVE", 5) == 0 && lens[6] == 32) {
            uint32_t agency = roster_agency_by_curve(roster, (const uint8_t *)frames[6], now_ms);
            const Tacnet__Roster *r = roster_msg(roster);
            for (size_t i = 0; agency && i < r->n_keys; i++) {
                const Tacnet__NodeKey *k = r->keys[i];
                if ((uint32_t)k->agency == agency && k->curve_pk.len == 32 &&
                    memcmp(k->curve_pk.data, frames[6], 32) == 0) {
                    snprintf(user, sizeof(user), "%u:%u", agency, k->key_id);
                    break;
                }
            }
            if (user[0]) {
                status = "200";
                text = "OK";
                accepted = 1;
            }
        } else {
            text = "CURVE required";
        }
    }
    s_send(sock, "1.0", 3, 1);
    s_send(sock, frames[1], n > 1 ? lens[1] : 0, 1);
    s_send(sock, status, 3, 1);
    s_send(sock, text, strlen(text), 1);
    s_send(sock, user, strlen(user), 1);
    s_send(sock, "", 0, 0);
    return n >= ZAP_FRAMES ? accepted : TACNET_EBADMSG;
}

int zap_user_parse(const char *user_id, uint32_t *agency, uint32_t *key_id)
{
    char *end;
    unsigned long a = strtoul(user_id, &end, 10);
    if (end == user_id || *end != ':' || a == 0 || a > 15)
        return TACNET_EINVAL;
    const char *k = end + 1;
    unsigned long id = strtoul(k, &end, 10);
    if (end == k || *end != 0 || id > 0xffffffffUL)
        return TACNET_EINVAL;
    *agency = (uint32_t)a;
    *key_id = (uint32_t)id;
    return 0;
}
