/* outbox: encoders and decoders of the outbox records (layout in outbox.h). */
#include "agency/outbox.h"

#include "bytes.h"
#include "err.h"
#include "seal.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

uint8_t *agency_outbox_encode(const agency_outbox_record_t *rec, size_t *len)
{
    size_t n = 4 + rec->hlen + 4 + rec->slen + SEAL_SIG_BYTES;
    uint8_t *v = xmalloc(n), *p = v;
    bytes_be32_put(p, (uint32_t)rec->hlen);
    memcpy(p + 4, rec->header, rec->hlen);
    p += 4 + rec->hlen;
    bytes_be32_put(p, (uint32_t)rec->slen);
    memcpy(p + 4, rec->sealed, rec->slen);
    p += 4 + rec->slen;
    memcpy(p, rec->sig, SEAL_SIG_BYTES);
    *len = n;
    return v;
}

int agency_outbox_decode(const uint8_t *buf, size_t len, agency_outbox_record_t *out)
{
    if (!buf || len < 4 + 4 + SEAL_SIG_BYTES)
        return TACNET_ECORRUPT;
    size_t hlen = bytes_be32_get(buf);
    if (4 + hlen + 4 > len)
        return TACNET_ECORRUPT;
    size_t slen = bytes_be32_get(buf + 4 + hlen);
    if (4 + hlen + 4 + slen + SEAL_SIG_BYTES != len)
        return TACNET_ECORRUPT;
    out->header = buf + 4;
    out->hlen = hlen;
    out->sealed = buf + 4 + hlen + 4;
    out->slen = slen;
    out->sig = buf + 4 + hlen + 4 + slen;
    return 0;
}

void agency_outbox_ids_encode(uint8_t out[AGENCY_OUTBOX_IDS_BYTES], uint64_t sender_seq,
                              const uint8_t blind[16])
{
    store_u64_put(out, sender_seq);
    memcpy(out + 8, blind, 16);
}

int agency_outbox_ids_decode(const uint8_t *buf, size_t len, uint64_t *sender_seq,
                             uint8_t blind[16])
{
    if (!buf || len != AGENCY_OUTBOX_IDS_BYTES)
        return TACNET_ECORRUPT;
    *sender_seq = store_u64_get(buf);
    memcpy(blind, buf + 8, 16);
    return 0;
}

void agency_outbox_case_key(uint8_t out[AGENCY_OUTBOX_CASE_KEY_BYTES], const uint8_t blind[16],
                            uint64_t sender_seq)
{
    memcpy(out, blind, 16);
    store_u64_put(out + 16, sender_seq);
}

int agency_outbox_case_key_match(const uint8_t *key, size_t len, const uint8_t blind[16],
                                 uint64_t *sender_seq)
{
    if (!key || len != AGENCY_OUTBOX_CASE_KEY_BYTES || memcmp(key, blind, 16) != 0)
        return 0;
    if (sender_seq)
        *sender_seq = store_u64_get(key + 16);
    return 1;
}

uint8_t *agency_outbox_dead_encode(int code, const char *reason, uint64_t sender_seq, size_t *len)
{
    size_t rl = strlen(reason);
    size_t n = 4 + rl + 1 + 8;
    uint8_t *d = xmalloc(n);
    bytes_be32_put(d, (uint32_t)code);
    memcpy(d + 4, reason, rl + 1);
    store_u64_put(d + 5 + rl, sender_seq);
    *len = n;
    return d;
}

int agency_outbox_dead_decode(const uint8_t *buf, size_t len, int *code, const char **reason,
                              uint64_t *sender_seq)
{
    if (!buf || len < 4 + 1 + 8)
        return TACNET_ECORRUPT;
    const uint8_t *nul = memchr(buf + 4, 0, len - 4 - 8);
    if (!nul || (size_t)(nul - buf) + 1 + 8 != len)
        return TACNET_ECORRUPT;
    *code = (int)bytes_be32_get(buf);
    *reason = (const char *)buf + 4;
    *sender_seq = store_u64_get(nul + 1);
    return 0;
}

void agency_outbox_settled_encode(uint8_t out[AGENCY_OUTBOX_SETTLED_BYTES],
                                  const agency_outbox_settled_t *s)
{
    out[0] = s->state;
    store_u64_put(out + 1, s->seq);
    store_u64_put(out + 9, s->settled_ms);
    bytes_be32_put(out + 17, s->recipients);
    bytes_be32_put(out + 21, s->kind);
}

int agency_outbox_settled_decode(const uint8_t *buf, size_t len, agency_outbox_settled_t *out)
{
    if (!buf || len != AGENCY_OUTBOX_SETTLED_BYTES)
        return TACNET_ECORRUPT;
    out->state = buf[0];
    out->seq = store_u64_get(buf + 1);
    out->settled_ms = store_u64_get(buf + 9);
    out->recipients = bytes_be32_get(buf + 17);
    out->kind = bytes_be32_get(buf + 21);
    return 0;
}

void agency_outbox_withdrawn_encode(uint8_t out[AGENCY_OUTBOX_WITHDRAWN_BYTES],
                                    uint64_t withdrawn_ms, const uint8_t *corrected_by)
{
    store_u64_put(out, withdrawn_ms);
    if (corrected_by)
        memcpy(out + 8, corrected_by, 16);
    else
        memset(out + 8, 0, 16);
}

int agency_outbox_withdrawn_decode(const uint8_t *buf, size_t len, uint64_t *withdrawn_ms,
                                   uint8_t corrected_by[16])
{
    if (!buf || len != AGENCY_OUTBOX_WITHDRAWN_BYTES)
        return TACNET_ECORRUPT;
    *withdrawn_ms = store_u64_get(buf);
    memcpy(corrected_by, buf + 8, 16);
    return 0;
}

void agency_outbox_unapplied_key(uint8_t out[AGENCY_OUTBOX_UNAPPLIED_KEY_BYTES],
                                 uint64_t settled_ms, const uint8_t msg_id[16])
{
    store_u64_put(out, settled_ms);
    memcpy(out + 8, msg_id, 16);
}

int agency_outbox_unapplied_key_decode(const uint8_t *key, size_t len, uint64_t *settled_ms,
                                       uint8_t msg_id[16])
{
    if (!key || len != AGENCY_OUTBOX_UNAPPLIED_KEY_BYTES)
        return TACNET_ECORRUPT;
    *settled_ms = store_u64_get(key);
    memcpy(msg_id, key + 8, 16);
    return 0;
}
