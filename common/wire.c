/* wire: messages over ZeroMQ and how protobuf-c reads untrusted input (docs/ARCHITECTURE.md). */
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <zmq.h>

#include "agencies.h"
#include "bytes.h"
#include "clock.h"
#include "err.h"
#include "merkle.h"
#include "seal.h"

#define WIRE_REASON_MAX  256
#define WIRE_NACK_ID_MAX 64

/* ---------------------------------------------------------------------------------------------
 * Budgeted allocator
 *
 * protobuf-c 1.4.1 has no size or depth limit and allocates sizeof(elt) x n for repeated fields
 * and sizeof_message per sub-message, so a small input can ask for much more memory. Every
 * allocation is counted against a per-unpack budget and zero-filled (calloc semantics), which
 * also neutralises the uninitialised-field class of parser bugs. Frees need no budget state,
 * so wire_free can release a message with a stateless allocator.
 */
typedef struct {
    size_t used;
    size_t budget;
    int exceeded;
} s_budget_t;

static void *s_budget_alloc(void *data, size_t size)
{
    s_budget_t *budget = data;
    if (size > budget->budget - budget->used) {
        budget->exceeded = 1;
        return NULL;
    }
    budget->used += size;
    return xcalloc(1, size);
}

static void *s_plain_alloc(void *data, size_t size)
{
    (void)data;
    return xcalloc(1, size);
}

static void s_free(void *data, void *p)
{
    (void)data;
    free(p);
}

static ProtobufCAllocator s_free_allocator = { s_plain_alloc, s_free, NULL };

/* Byte-exact re-encode. The cheap test `get_packed_size(m) == len` catches duplicated
 * non-repeated fields (the re-encode keeps one), embedded NULs in `string` fields (packed with
 * strlen), non-minimal varints and length prefixes, and 32-bit negative enums not sign-extended
 * to 10 bytes. It does NOT catch unknown fields (protobuf-c keeps and re-emits them, so the size
 * matches: callers check n_unknown_fields), fields out of order, a bool sent as 2..127, or a
 * repeated field sent packed where the schema says unpacked: packed is 2 + n bytes against 2n,
 * equal at n = 2 and smaller beyond, which is enough slack to hide a duplicated field behind
 * it. So after the size test the bytes are compared too: any encoding that is not exactly what
 * protobuf-c would produce is refused. Known fields added later (always numbered after the
 * existing ones, at the end of their message) re-encode in place, so growth still passes. */
static int s_canonical(const ProtobufCMessage *msg, const uint8_t *data, size_t len)
{
    size_t packed = protobuf_c_message_get_packed_size(msg);
    if (packed != len)
        return TACNET_ENONCANON;
    uint8_t *again = xmalloc(packed);
    size_t wrote = protobuf_c_message_pack(msg, again);
    int same = wrote == len && memcmp(again, data, len) == 0;
    free(again);
    return same ? 0 : TACNET_ENONCANON;
}

ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                              size_t len, size_t budget, int canonical, int *err)
{
    int rc = 0;
    ProtobufCMessage *msg = NULL;
    static const uint8_t empty[1] = { 0 };
    s_budget_t state = { 0, budget, 0 };
    ProtobufCAllocator allocator = { s_budget_alloc, s_free, &state };
    if (!desc || (!data && len)) {
        rc = TACNET_EINVAL;
        goto fail;
    }
    if (!data)
        data = empty;
    if (state.budget == 0)
        state.budget = len > (SIZE_MAX - 4096) / 4 ? SIZE_MAX : 4 * len + 4096;
    msg = protobuf_c_message_unpack(desc, &allocator, len, data);
    if (!msg) {
        rc = state.exceeded ? TACNET_EBUDGET : TACNET_EBADMSG;
        goto fail;
    }
    if (!protobuf_c_message_check(msg)) {
        rc = TACNET_EBADMSG;
        goto fail;
    }
    if (canonical && (rc = s_canonical(msg, data, len)) != 0)
        goto fail;
    return msg;
fail:
    wire_free(msg);
    if (err)
        *err = rc;
    return NULL;
}

void wire_free(ProtobufCMessage *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, &s_free_allocator);
}

uint8_t *wire_pack(const ProtobufCMessage *msg, size_t *len)
{
    size_t size = protobuf_c_message_get_packed_size(msg);
    uint8_t *out = xmalloc(size);
    *len = protobuf_c_message_pack(msg, out);
    return out;
}

/* ---------------------------------------------------------------------------------------------
 * Header checks
 */
static int s_enum_known(const ProtobufCEnumDescriptor *desc, int value)
{
    if (desc == &tacnet__agency__descriptor && value > 0 && agencies_known((uint32_t)value))
        return 1; /* an agency the roster declares (agencies.h) */
    return protobuf_c_enum_descriptor_get_value(desc, value) != NULL;
}

/* The consent scope of a CONSENT_RECORDED and the consent in force a newcomer is told. */
static int s_header_consent_enums(const Tacnet__Header *h)
{
    for (size_t i = 0; i < h->n_consent_scope; i++)
        if (!s_enum_known(&tacnet__sensitivity__descriptor, h->consent_scope[i]))
            return TACNET_EENUM;
    for (size_t i = 0; i < h->n_consent_agencies; i++)
        if (!s_enum_known(&tacnet__agency__descriptor, h->consent_agencies[i]))
            return TACNET_EENUM;
    for (size_t i = 0; i < h->n_consent_cover; i++) {
        const Tacnet__ConsentCover *cc = h->consent_cover[i];
        if (cc->base.n_unknown_fields != 0)
            return TACNET_ENONCANON;
        if (!s_enum_known(&tacnet__agency__descriptor, cc->agency))
            return TACNET_EENUM;
        for (size_t j = 0; j < cc->n_classes; j++)
            if (!s_enum_known(&tacnet__sensitivity__descriptor, cc->classes[j]))
                return TACNET_EENUM;
        for (size_t j = 0; j < cc->n_objected; j++)
            if (!s_enum_known(&tacnet__sensitivity__descriptor, cc->objected[j]))
                return TACNET_EENUM;
    }
    return 0;
}

static int s_header_enums(const Tacnet__Header *h)
{
    if (!s_enum_known(&tacnet__agency__descriptor, h->sender) ||
        !s_enum_known(&tacnet__event_kind__descriptor, h->kind) ||
        !s_enum_known(&tacnet__sensitivity__descriptor, h->sensitivity) ||
        !s_enum_known(&tacnet__lawful_basis__descriptor, h->lawful_basis))
        return TACNET_EENUM;
    for (size_t i = 0; i < h->n_recipients; i++)
        if (!s_enum_known(&tacnet__agency__descriptor, h->recipients[i]))
            return TACNET_EENUM;
    if ((h->has_subject_agency && !s_enum_known(&tacnet__agency__descriptor, h->subject_agency)) ||
        (h->has_override_reason &&
         !s_enum_known(&tacnet__override_reason__descriptor, h->override_reason)) ||
        (h->has_audience && !s_enum_known(&tacnet__role__descriptor, h->audience)) ||
        (h->has_escalation_event &&
         !s_enum_known(&tacnet__escalation_event__descriptor, h->escalation_event)) ||
        (h->has_consent && !s_enum_known(&tacnet__consent_state__descriptor, h->consent)))
        return TACNET_EENUM;
    return s_header_consent_enums(h);
}

static int s_header_recipients(const Tacnet__Header *h)
{
    if (h->n_recipients == 0 || h->n_recipients > SEAL_MAX_RECIPIENTS)
        return TACNET_EFIELD;
    for (size_t i = 0; i < h->n_recipients; i++) {
        if (h->recipients[i] == TACNET__AGENCY__AGENCY_UNKNOWN)
            return TACNET_EFIELD;
        for (size_t j = i + 1; j < h->n_recipients; j++)
            if (h->recipients[i] == h->recipients[j])
                return TACNET_EFIELD;
    }
    return 0;
}

static int s_header_check(const Tacnet__Header *h)
{
    int rc;
    if (h->base.n_unknown_fields != 0)
        return TACNET_ENONCANON;
    if ((rc = s_header_enums(h)) != 0)
        return rc;
    if (h->msg_id.len != 16 || (h->has_refers_to && h->refers_to.len != 16))
        return TACNET_EMSGID;
    if (h->kind == TACNET__EVENT_KIND__KIND_UNKNOWN)
        return TACNET_EKIND;
    if ((rc = s_header_recipients(h)) != 0)
        return rc;
    if (h->has_level_of_need && (h->level_of_need < 1 || h->level_of_need > 4))
        return TACNET_EFIELD;
    if (h->has_escalation_stage && (h->escalation_stage < 1 || h->escalation_stage > 4))
        return TACNET_EFIELD;
    /* The partnership report's clear fields: only on the kinds they describe. */
    int rating = h->kind == TACNET__EVENT_KIND__PARTNERSHIP_RATING;
    if ((h->has_ladder_rung && (!rating || h->ladder_rung < 1 || h->ladder_rung > 9)) ||
        (h->has_rated_by_family && !rating))
        return TACNET_EFIELD;
    if (h->has_resolution_accepted && h->kind != TACNET__EVENT_KIND__ESCALATION_ACK)
        return TACNET_EFIELD;
    if (h->has_review_due_date && ((h->kind != TACNET__EVENT_KIND__CARE_PLAN &&
                                    h->kind != TACNET__EVENT_KIND__MEETING_OUTCOME) ||
                                   !clock_date_valid(h->review_due_date)))
        return TACNET_EFIELD;
    return 0;
}

Tacnet__Header *wire_header_unpack(const uint8_t *data, size_t len, int *err)
{
    int rc = 0;
    ProtobufCMessage *msg = NULL;
    if (len > WIRE_MAX_HEADER) {
        rc = TACNET_ETOOBIG;
        goto fail;
    }
    msg = wire_unpack(&tacnet__header__descriptor, data, len, 0, 1, &rc);
    if (!msg)
        goto fail;
    if ((rc = s_header_check((const Tacnet__Header *)msg)) != 0)
        goto fail;
    return (Tacnet__Header *)msg;
fail:
    wire_free(msg);
    if (err)
        *err = rc;
    return NULL;
}

static const ProtobufCMessageDescriptor *s_ctl_descriptor(uint8_t cmd)
{
    switch (cmd) {
    case WIRE_HELLO:
        return &tacnet__hello__descriptor;
    case WIRE_WELCOME:
        return &tacnet__welcome__descriptor;
    case WIRE_PUBLISH:
        return &tacnet__publish__descriptor;
    case WIRE_PUBACK:
        return &tacnet__puback__descriptor;
    case WIRE_DELIVER:
        return &tacnet__deliver__descriptor;
    case WIRE_ACK:
        return &tacnet__ack__descriptor;
    case WIRE_NACK:
    case WIRE_ERROR:
        return &tacnet__nack__descriptor;
    case WIRE_PING:
        return &tacnet__ping__descriptor;
    case WIRE_PONG:
        return &tacnet__pong__descriptor;
    case WIRE_GRANT:
    case WIRE_REGRANT:
        return &tacnet__grant__descriptor;
    case WIRE_GRANTACK:
        return &tacnet__grant_ack__descriptor;
    default:
        return NULL;
    }
}

ProtobufCMessage *wire_ctl_unpack(uint8_t cmd, const uint8_t *data, size_t len, int *err)
{
    const ProtobufCMessageDescriptor *desc = s_ctl_descriptor(cmd);
    if (!desc || len > WIRE_MAX_CTL) {
        if (err)
            *err = desc ? TACNET_ETOOBIG : TACNET_EINVAL;
        return NULL;
    }
    return wire_unpack(desc, data, len, 0, 1, err);
}

void wire_msgid_new(uint8_t id[16])
{
    uint8_t ms[8];
    bytes_be64_put(ms, clock_now_ms());
    memcpy(id, ms + 2, 6); /* the low 48 bits: good until the year 10889 */
    randombytes_buf(id + 6, 10);
}

uint64_t wire_msgid_time(const uint8_t id[16])
{
    uint8_t ms[8] = { 0 };
    memcpy(ms + 2, id, 6);
    return bytes_be64_get(ms);
}

void wire_msgid_hex(const uint8_t *id, size_t len, char out[33])
{
    static const char digits[] = "0123456789abcdef";
    size_t n = len < 16 ? len : 16;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

int wire_msgid_prefix_matches(const uint8_t id[16], const char *prefix)
{
    char hex[33];
    wire_msgid_hex(id, 16, hex);
    size_t n = strlen(prefix);
    return strncasecmp(hex, prefix, n) == 0 ||
           (n <= 32 - 2 * WIRE_SHORT_ID_FROM &&
            strncasecmp(hex + 2 * WIRE_SHORT_ID_FROM, prefix, n) == 0);
}

/* ---------------------------------------------------------------------------------------------
 * Frames
 */

/* A ZeroMQ errno in tacnet's space, from a closed set the callers can test: TACNET_EAGAIN and
 * TACNET_EINTR (try again later), TACNET_EHOSTUNREACH (ROUTER_MANDATORY: no such peer), and
 * TACNET_EIO for the rest (context terminated, socket closed or in the wrong state). */
static int s_zmq_err(int e)
{
    int rc = tacnet_err_from_errno(e);
    return rc == TACNET_EAGAIN || rc == TACNET_EINTR || rc == TACNET_EHOSTUNREACH ? rc : TACNET_EIO;
}

/* The parts after the command header: PUBLISH, DELIVER and REGRANT carry an event (1), DELIVERS
 * and PUBACKS whole inner frames (2), the others nothing (0); -1 for an unknown command. */
static int s_event_cmd(uint8_t cmd)
{
    if (cmd == WIRE_PUBLISH || cmd == WIRE_DELIVER || cmd == WIRE_REGRANT)
        return 1;
    if (cmd == WIRE_DELIVERS || cmd == WIRE_PUBACKS)
        return 2;
    return s_ctl_descriptor(cmd) ? 0 : -1;
}

/* Every part at its cap still fits under the socket's ZMQ_MAXMSGSIZE. */
_Static_assert(WIRE_FIXED_BYTES + WIRE_MAX_CTL + 2 * WIRE_LEN_BYTES + WIRE_MAX_HEADER +
                       WIRE_MAX_SEALED + MERKLE_FRAME_MAX <=
                   WIRE_MAX_MSG,
               "WIRE_MAX_MSG below the largest message");

/* The length-prefixed part at *POS of DATA (LEN bytes), of at most MAX bytes. */
static int s_part(const uint8_t *data, size_t len, size_t *pos, size_t max, uint8_t **part,
                  size_t *part_len)
{
    if (len - *pos < WIRE_LEN_BYTES)
        return TACNET_EFRAMES;
    size_t n = bytes_le32_get(data + *pos);
    *pos += WIRE_LEN_BYTES;
    if (n > max)
        return TACNET_ETOOBIG;
    if (n > len - *pos)
        return TACNET_EFRAMES;
    *part = (uint8_t *)(uintptr_t)(data + *pos);
    *part_len = n;
    *pos += n;
    return 0;
}

static void s_parts_unset(wire_msg_t *out)
{
    out->ctl = out->header = out->sealed = out->sig = out->batch = NULL;
    out->ctl_len = out->header_len = out->sealed_len = out->sig_len = out->batch_len = 0;
}

/* What a DELIVERS or PUBACKS holds. */
static uint8_t s_inner(uint8_t batch_cmd)
{
    return batch_cmd == WIRE_DELIVERS ? WIRE_DELIVER : WIRE_PUBACK;
}

/* The inner frames of a DELIVERS or PUBACKS (CMD) after its ctl: 1 to WIRE_BATCH_MAX whole
 * frames, each one wire_decode takes of the command the batch holds, filling DATA to its end. */
static int s_batch_check(uint8_t cmd, const uint8_t *data, size_t len)
{
    size_t pos = 0, n = 0;
    while (pos < len) {
        uint8_t *sub;
        size_t sub_len;
        wire_msg_t m;
        int rc = s_part(data, len, &pos, WIRE_MAX_MSG, &sub, &sub_len);
        if (rc != 0)
            return rc;
        if (++n > WIRE_BATCH_MAX)
            return TACNET_ETOOBIG;
        /* The command before the decode: a batch inside a batch would recurse once per 15
         * bytes, deep enough to overflow the stack within one message. */
        if (sub_len <= WIRE_PROTOCOL_LEN || sub[WIRE_PROTOCOL_LEN] != s_inner(cmd))
            return TACNET_EFRAMES;
        if ((rc = wire_decode(sub, sub_len, &m)) != 0)
            return rc;
    }
    return n ? 0 : TACNET_EFRAMES;
}

int wire_decode(const uint8_t *data, size_t len, wire_msg_t *out)
{
    int rc = 0, event;
    size_t pos = WIRE_PROTOCOL_LEN + 1;
    s_parts_unset(out);
    if (!data || len < WIRE_PROTOCOL_LEN + 1 ||
        memcmp(data, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN) != 0 ||
        (event = s_event_cmd(data[WIRE_PROTOCOL_LEN])) < 0)
        return TACNET_EFRAMES;
    out->cmd = data[WIRE_PROTOCOL_LEN];
    if ((rc = s_part(data, len, &pos, WIRE_MAX_CTL, &out->ctl, &out->ctl_len)) != 0)
        goto fail;
    if (!event) {
        if (pos != len)
            rc = TACNET_EFRAMES; /* bytes after the last part */
        goto fail;
    }
    if (event == 2) {
        if (out->ctl_len != 0) {
            rc = TACNET_EFRAMES;
            goto fail;
        }
        if ((rc = s_batch_check(out->cmd, data + pos, len - pos)) == 0) {
            out->batch = (uint8_t *)(uintptr_t)(data + pos);
            out->batch_len = len - pos;
        }
        goto fail;
    }
    if ((rc = s_part(data, len, &pos, WIRE_MAX_HEADER, &out->header, &out->header_len)) != 0 ||
        (rc = s_part(data, len, &pos, WIRE_MAX_SEALED, &out->sealed, &out->sealed_len)) != 0)
        goto fail;
    /* The rest: one event's signature, or a batch's signature with this event's proof. */
    if (!merkle_frame_len_ok(len - pos)) {
        rc = len - pos > MERKLE_FRAME_MAX ? TACNET_ETOOBIG : TACNET_EBADMSG;
        goto fail;
    }
    out->sig = (uint8_t *)(uintptr_t)(data + pos);
    out->sig_len = len - pos;
fail:
    if (rc != 0)
        s_parts_unset(out);
    return rc;
}

/* A User-Id longer than our buffer is not one our ZAP handler gave, so it is dropped rather
 * than truncated: an empty id is unauthenticated, a truncated one might name someone else. */
static void s_user_id(zmq_msg_t *frame, wire_msg_t *out)
{
    const char *uid = zmq_msg_gets(frame, "User-Id");
    if (uid && strlen(uid) < sizeof out->user_id)
        memcpy(out->user_id, uid, strlen(uid) + 1);
}

/* Let go of the frame OUT holds and of the parts pointing into it. */
static void s_frame_release(wire_msg_t *out)
{
    if (out->frame) {
        zmq_msg_close(out->frame);
        free(out->frame);
        out->frame = NULL;
    }
    s_parts_unset(out);
}

/* Take frame INDEX of a message (-1: the routing id, 0: the message, more: one too many); MORE
 * when another frame follows it. Returns 0 or the reason to reject the whole message: a message
 * of several frames is TACNET_EFRAMES whatever its first frame holds. */
static int s_take(wire_msg_t *out, int index, zmq_msg_t *frame, int more)
{
    size_t size = zmq_msg_size(frame);
    if (index < 0) {
        if (size > WIRE_MAX_RID)
            return TACNET_ETOOBIG;
        memcpy(out->rid, zmq_msg_data(frame), size);
        out->rid_len = size;
        return 0;
    }
    if (index > 0 || more)
        return TACNET_EFRAMES;
    /* Kept, not copied: the parts point into it until wire_msg_clear. On the heap, so the
     * struct can be moved by value even when libzmq keeps a small message inside the
     * zmq_msg_t itself. */
    out->frame = xmalloc(sizeof(zmq_msg_t));
    zmq_msg_init(out->frame);
    zmq_msg_move(out->frame, frame);
    return wire_decode(zmq_msg_data(out->frame), size, out);
}

int wire_recv(void *sock, int is_router, int flags, wire_msg_t *out)
{
    int rc = 0, index = is_router ? -1 : 0, first = 1, more = 1;
    memset(out, 0, sizeof *out);
    out->src_fd = -1;
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        /* Multipart delivery is atomic, so the rest of a started message is normally already
         * here and never waited for: a connection torn down mid-message (broker killed under
         * load) once left an agency daemon blocked here for ever. */
        if (zmq_msg_recv(&frame, sock, first ? flags : ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&frame);
            /* A signal must not make us leave half of a message in the socket. */
            if (!first && e == EINTR)
                continue;
            if (first)
                return s_zmq_err(e);
            rc = TACNET_EFRAMES;
            break;
        }
        /* libzmq 4.3.4's ROUTER drops the metadata from the routing id frame it prefetched for
         * zmq_poll (router_t::xhas_in), so the User-Id is read from the first frame carrying
         * it; every frame of a message comes from the same connection. */
        if (!out->user_id[0])
            s_user_id(&frame, out);
        if (out->src_fd < 0)
            out->src_fd = zmq_msg_get(&frame, ZMQ_SRCFD);
        first = 0;
        more = zmq_msg_more(&frame);
        if (rc == 0)
            rc = s_take(out, index, &frame, more);
        index++;
        zmq_msg_close(&frame);
    }
    if (rc == 0 && index != 1)
        rc = TACNET_EFRAMES; /* a routing id alone */
    if (rc != 0)
        s_frame_release(out);
    return rc;
}

void wire_msg_clear(wire_msg_t *msg)
{
    if (!msg)
        return;
    s_frame_release(msg);
    memset(msg, 0, sizeof *msg);
}

void *wire_msg_take_frame(wire_msg_t *msg)
{
    void *frame = msg->frame;
    msg->frame = NULL;
    return frame;
}

void wire_frame_free(void *frame)
{
    if (frame) {
        zmq_msg_close(frame);
        free(frame);
    }
}

int wire_batch_next(const wire_msg_t *m, size_t *off, wire_msg_t *sub)
{
    uint8_t *part;
    size_t part_len;
    if (!m->batch || *off >= m->batch_len ||
        s_part(m->batch, m->batch_len, off, WIRE_MAX_MSG, &part, &part_len) != 0)
        return 0;
    memcpy(sub->rid, m->rid, m->rid_len);
    sub->rid_len = m->rid_len;
    memcpy(sub->user_id, m->user_id, sizeof(sub->user_id));
    sub->src_fd = m->src_fd;
    sub->frame = NULL;
    return wire_decode(part, part_len, sub) == 0;
}

int wire_send(void *sock, const uint8_t *rid, size_t rid_len, uint8_t cmd,
              const ProtobufCMessage *ctl, const uint8_t *header, size_t hlen,
              const uint8_t *sealed, size_t sealed_len, const uint8_t *sig)
{
    return wire_send_sig(sock, rid, rid_len, cmd, ctl, header, hlen, sealed, sealed_len, sig,
                         sig ? SEAL_SIG_BYTES : 0);
}

static uint8_t *s_put_part(uint8_t *p, const uint8_t *data, size_t len)
{
    bytes_le32_put(p, (uint32_t)len);
    if (len)
        memcpy(p + WIRE_LEN_BYTES, data, len);
    return p + WIRE_LEN_BYTES + len;
}

/* Send one frame, retrying an EINTR; MSG is the socket's once sent and closed if not. */
static int s_send_msg(void *sock, zmq_msg_t *msg, int more)
{
    int flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0);
    for (;;) {
        if (zmq_msg_send(msg, sock, flags) >= 0)
            return 0;
        int e = zmq_errno();
        if (e != EINTR) {
            zmq_msg_close(msg);
            return s_zmq_err(e);
        }
    }
}

/* The size of the frame of CMD with these parts into *TOTAL (and the ctl's into *CTL_LEN), or
 * TACNET_EINVAL / TACNET_ETOOBIG as wire_send_sig. Not for DELIVERS or PUBACKS. */
static int s_frame_size(uint8_t cmd, const ProtobufCMessage *ctl, const uint8_t *header,
                        size_t hlen, const uint8_t *sealed, size_t sealed_len, const uint8_t *sig,
                        size_t sig_len, size_t *ctl_len, size_t *total)
{
    int event = s_event_cmd(cmd);
    if (event < 0 || event == 2 ||
        (event && (!header || !sig || (!sealed && sealed_len) || !merkle_frame_len_ok(sig_len))) ||
        (!event && (header || sealed || sig)))
        return TACNET_EINVAL;
    if (event && (hlen > WIRE_MAX_HEADER || sealed_len > WIRE_MAX_SEALED))
        return TACNET_ETOOBIG;
    *ctl_len = ctl ? protobuf_c_message_get_packed_size(ctl) : 0;
    if (*ctl_len > WIRE_MAX_CTL)
        return TACNET_ETOOBIG;
    *total = WIRE_FIXED_BYTES + *ctl_len;
    if (event)
        *total += 2 * WIRE_LEN_BYTES + hlen + sealed_len + sig_len;
    return 0;
}

/* Write the frame s_frame_size measured at P. */
static void s_frame_put(uint8_t *p, uint8_t cmd, const ProtobufCMessage *ctl, size_t ctl_len,
                        const uint8_t *header, size_t hlen, const uint8_t *sealed,
                        size_t sealed_len, const uint8_t *sig, size_t sig_len)
{
    memcpy(p, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
    p[WIRE_PROTOCOL_LEN] = cmd;
    p += WIRE_PROTOCOL_LEN + 1;
    bytes_le32_put(p, (uint32_t)ctl_len);
    p += WIRE_LEN_BYTES;
    if (ctl)
        p += protobuf_c_message_pack(ctl, p);
    if (header) {
        p = s_put_part(p, header, hlen);
        p = s_put_part(p, sealed, sealed_len);
        memcpy(p, sig, sig_len);
    }
}

/* Send the frame MSG to RID (NULL on the DEALER side). */
static int s_send_to(void *sock, const uint8_t *rid, size_t rid_len, zmq_msg_t *msg)
{
    int rc;
    /* Only the first frame can fail for want of room or of a peer (TACNET_EAGAIN,
     * TACNET_EHOSTUNREACH with ZMQ_ROUTER_MANDATORY): once it is queued, libzmq takes the rest of
     * the message whole. */
    if (rid) {
        zmq_msg_t id;
        if (zmq_msg_init_size(&id, rid_len) != 0) {
            zmq_msg_close(msg);
            return TACNET_EIO;
        }
        if (rid_len)
            memcpy(zmq_msg_data(&id), rid, rid_len);
        if ((rc = s_send_msg(sock, &id, 1)) != 0) {
            zmq_msg_close(msg);
            return rc;
        }
    }
    return s_send_msg(sock, msg, 0);
}

int wire_send_sig(void *sock, const uint8_t *rid, size_t rid_len, uint8_t cmd,
                  const ProtobufCMessage *ctl, const uint8_t *header, size_t hlen,
                  const uint8_t *sealed, size_t sealed_len, const uint8_t *sig, size_t sig_len)
{
    size_t ctl_len = 0, total = 0;
    if (rid && rid_len > WIRE_MAX_RID)
        return TACNET_EINVAL;
    int rc =
        s_frame_size(cmd, ctl, header, hlen, sealed, sealed_len, sig, sig_len, &ctl_len, &total);
    if (rc != 0)
        return rc;
    /* The frame is built in place in libzmq's own message: one copy of each part. */
    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, total) != 0)
        return TACNET_EIO;
    s_frame_put(zmq_msg_data(&msg), cmd, ctl, ctl_len, header, hlen, sealed, sealed_len, sig,
                sig_len);
    return s_send_to(sock, rid, rid_len, &msg);
}

/* ---------------------------------------------------------------- DELIVERS, PUBACKS */

int wire_batch_add(wire_batch_t *b, uint8_t cmd, const ProtobufCMessage *ctl, const uint8_t *header,
                   size_t hlen, const uint8_t *sealed, size_t sealed_len, const uint8_t *sig,
                   size_t sig_len)
{
    size_t ctl_len = 0, total = 0;
    if ((cmd != WIRE_DELIVER && cmd != WIRE_PUBACK) || (b->n && cmd != b->inner))
        return TACNET_EINVAL;
    int rc =
        s_frame_size(cmd, ctl, header, hlen, sealed, sealed_len, sig, sig_len, &ctl_len, &total);
    if (rc != 0)
        return rc;
    if (b->len == 0)
        b->len = WIRE_FIXED_BYTES; /* the DELIVERS or PUBACKS header, written when sent */
    if (b->n == WIRE_BATCH_MAX || b->len + WIRE_LEN_BYTES + total > WIRE_MAX_MSG)
        return TACNET_ETOOBIG;
    if (b->len + WIRE_LEN_BYTES + total > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + WIRE_LEN_BYTES + total)
            cap *= 2;
        b->buf = xrealloc(b->buf, cap);
        b->cap = cap;
    }
    bytes_le32_put(b->buf + b->len, (uint32_t)total);
    s_frame_put(b->buf + b->len + WIRE_LEN_BYTES, cmd, ctl, ctl_len, header, hlen, sealed,
                sealed_len, sig, sig_len);
    b->len += WIRE_LEN_BYTES + total;
    b->n++;
    b->inner = cmd;
    return 0;
}

int wire_batch_send(void *sock, const uint8_t *rid, size_t rid_len, wire_batch_t *b)
{
    if (b->n == 0 || (rid && rid_len > WIRE_MAX_RID)) {
        b->n = b->len = 0;
        return TACNET_EINVAL;
    }
    memcpy(b->buf, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
    b->buf[WIRE_PROTOCOL_LEN] = b->inner == WIRE_DELIVER ? WIRE_DELIVERS : WIRE_PUBACKS;
    bytes_le32_put(b->buf + WIRE_PROTOCOL_LEN + 1, 0); /* no ctl */
    zmq_msg_t msg;
    int rc = zmq_msg_init_size(&msg, b->len) == 0 ? 0 : TACNET_EIO;
    if (rc == 0) {
        memcpy(zmq_msg_data(&msg), b->buf, b->len);
        rc = s_send_to(sock, rid, rid_len, &msg);
    }
    b->n = b->len = 0;
    return rc;
}

void wire_batch_free(wire_batch_t *b)
{
    free(b->buf);
    memset(b, 0, sizeof(*b));
}

int wire_send_nack(void *sock, const uint8_t *rid, size_t rid_len, uint8_t cmd,
                   const uint8_t *msg_id, size_t msg_id_len, int code, const char *detail)
{
    char reason[WIRE_REASON_MAX];
    Tacnet__Nack nack = TACNET__NACK__INIT;
    if (cmd != WIRE_NACK && cmd != WIRE_ERROR)
        return TACNET_EINVAL;
    if (detail && *detail)
        snprintf(reason, sizeof reason, "%s: %s", tacnet_strerror(code), detail);
    else
        snprintf(reason, sizeof reason, "%s", tacnet_strerror(code));
    if (msg_id) {
        nack.has_msg_id = 1;
        nack.msg_id.data = (uint8_t *)msg_id;
        nack.msg_id.len = msg_id_len < WIRE_NACK_ID_MAX ? msg_id_len : WIRE_NACK_ID_MAX;
    }
    nack.code = code;
    nack.reason = reason;
    return wire_send(sock, rid, rid_len, cmd, &nack.base, NULL, 0, NULL, 0, NULL);
}
