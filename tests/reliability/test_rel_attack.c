/* Reliability T13, T14, T17, T18, T20, T22: a table of malformed inputs and attacks against the
 * real broker on loopback. Every refusal must carry its documented code and leave the broker's
 * data.mdb byte-identical; a known good publish still succeeds afterwards. */
#include "harness.h"
#include "rel.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include <jansson.h>

#include "err.h"

#include <lmdb.h>
#include <sys/stat.h>

#include "audit.h"
#include "bytes.h"

#define CA  TACNET__AGENCY__CAMHS
#define SCH TACNET__AGENCY__SCHOOL
#define SC  TACNET__AGENCY__SOCIAL_CARE

static h_env_t env;

static void s_up(void)
{
    h_setup(&env, "tick_ms = 50");
    cr_assert_eq(h_broker_start(&env, NULL), 0);
}

static void *s_fake_sock; /* T18's fake broker, closed before the context is */

static void s_down(void)
{
    if (s_fake_sock)
        zmq_close(s_fake_sock);
    s_fake_sock = NULL;
    h_teardown(&env);
}

TestSuite(rel_attack, .init = s_up, .fini = s_down, .timeout = 300);

/* One case of the table: how to spoil a concern from CAMHS on a fresh case, and the code the
 * broker must answer with. */
typedef struct mcase {
    const char *name;
    int want;
    void (*pre)(h_pub_t *p);                               /* header change before sealing */
    void (*post)(h_pub_t *p);                              /* change to the sealed frames */
    size_t (*raw)(h_pub_t *p, uint8_t **fr, size_t *lens); /* whole parts instead */
    uint32_t signer;                                       /* 0: the sender */
    int split; /* how RAW's parts go: 0 one frame (h_send_frames), S_LAST the last part in a
                * ZeroMQ frame of its own, S_EACH every part in its own (TACN01's layout) */
} mcase_t;

enum { S_LAST = 1, S_EACH = 2 };

static uint8_t s_scratch[8][4096];

static size_t s_frames_of(h_pub_t *p, uint8_t **fr, size_t *lens)
{
    static uint8_t cmd = WIRE_PUBLISH;
    fr[0] = (uint8_t *)WIRE_PROTOCOL, lens[0] = WIRE_PROTOCOL_LEN;
    fr[1] = &cmd, lens[1] = 1;
    fr[2] = (uint8_t *)"", lens[2] = 0;
    fr[3] = p->header, lens[3] = p->hlen;
    fr[4] = p->sealed, lens[4] = p->slen;
    fr[5] = p->sig, lens[5] = SEAL_SIG_BYTES;
    return 6;
}

/* Frame-level spoilers. */
static size_t r_one_frame(h_pub_t *p, uint8_t **fr, size_t *l)
{
    s_frames_of(p, fr, l);
    return 1;
}
static size_t r_bad_protocol(h_pub_t *p, uint8_t **fr, size_t *l)
{
    size_t n = s_frames_of(p, fr, l);
    fr[0] = (uint8_t *)"TACN03";
    return n;
}
/* A peer of the protocol before one frame per message: id TACN01 (and S_EACH, six frames). */
static size_t r_old_protocol(h_pub_t *p, uint8_t **fr, size_t *l)
{
    size_t n = s_frames_of(p, fr, l);
    fr[0] = (uint8_t *)"TACN01";
    return n;
}
/* The header's length prefix claims 2,000 bytes (under its cap); 10 follow. */
static size_t r_length_past_end(h_pub_t *p, uint8_t **fr, size_t *l)
{
    static const uint8_t cut[] = { WIRE_PUBLISH, 0, 0, 0, 0, 0xd0, 0x07, 0, 0 };
    s_frames_of(p, fr, l);
    memcpy(s_scratch[4], cut, sizeof(cut));
    memcpy(s_scratch[4] + sizeof(cut), p->header, 10);
    fr[1] = s_scratch[4], l[1] = sizeof(cut) + 10;
    return 2;
}
/* The sealed body's length prefix cut after two of its four bytes. */
static size_t r_cut_in_length(h_pub_t *p, uint8_t **fr, size_t *l)
{
    s_frames_of(p, fr, l);
    size_t n = 0;
    s_scratch[5][n++] = WIRE_PUBLISH;
    memset(s_scratch[5] + n, 0, 4), n += 4; /* empty command header */
    bytes_le32_put(s_scratch[5] + n, (uint32_t)p->hlen), n += 4;
    memcpy(s_scratch[5] + n, p->header, p->hlen), n += p->hlen;
    s_scratch[5][n++] = (uint8_t)p->slen, s_scratch[5][n++] = (uint8_t)(p->slen >> 8);
    fr[1] = s_scratch[5], l[1] = n;
    return 2;
}
static size_t r_sealed_over_cap(h_pub_t *p, uint8_t **fr, size_t *l)
{
    static uint8_t big[WIRE_MAX_SEALED + 1];
    size_t n = s_frames_of(p, fr, l);
    memcpy(big, p->sealed, p->slen);
    fr[4] = big, l[4] = sizeof(big);
    return n;
}
static size_t r_unknown_cmd(h_pub_t *p, uint8_t **fr, size_t *l)
{
    static uint8_t c = 99;
    size_t n = s_frames_of(p, fr, l);
    fr[1] = &c;
    return n;
}
static size_t r_three_frames(h_pub_t *p, uint8_t **fr, size_t *l)
{
    s_frames_of(p, fr, l);
    return 3;
}
/* A whole PUBLISH, then the signature again in a second ZeroMQ frame (S_LAST). */
static size_t r_second_frame(h_pub_t *p, uint8_t **fr, size_t *l)
{
    size_t n = s_frames_of(p, fr, l);
    fr[n] = p->sig, l[n] = SEAL_SIG_BYTES;
    return n + 1;
}
static size_t r_short_sig(h_pub_t *p, uint8_t **fr, size_t *l)
{
    size_t n = s_frames_of(p, fr, l);
    l[5] = 10;
    return n;
}
/* Batched signatures (common/merkle.h): P signed in one send turn with another event Q, as a
 * daemon signs its turns, then its proof spoiled. Every spoiled proof is a bad signature. */
enum { B_FORGED_PATH, B_SWAPPED_LEAF, B_WRONG_INDEX, B_REPLAYED_ROOT, B_FRAME_CUT };
static uint8_t s_proof[MERKLE_FRAME_MAX];

static size_t s_batched(h_pub_t *p, uint8_t **fr, size_t *l, int spoil)
{
    h_pub_t q = { 0 }, r = { 0 };
    h_pub_init(&q, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000990", 90000);
    h_pub_seal(&env, &q, CA, NULL, NULL, 0);
    h_pub_t *turn[2] = { p, &q };
    h_pub_batch(&env, turn, 2, CA);
    size_t n = s_frames_of(p, fr, l), len = p->sig_len;
    memcpy(s_proof, p->sig, len);
    switch (spoil) {
    case B_FORGED_PATH: /* the sibling (Q's leaf) changed */
        s_proof[MERKLE_FIXED_BYTES + 3] ^= 0x01;
        break;
    case B_SWAPPED_LEAF: /* Q's proof, from the same turn and root, on P */
        memcpy(s_proof, q.sig, q.sig_len);
        len = q.sig_len;
        break;
    case B_WRONG_INDEX: /* P's own path, claiming Q's place */
        bytes_be32_put(s_proof + SEAL_SIG_BYTES + MERKLE_HASH_BYTES, 1);
        break;
    case B_REPLAYED_ROOT: /* a genuine root and signature of another turn (Q and R) on P */
        h_pub_init(&r, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000991", 90001);
        h_pub_seal(&env, &r, CA, NULL, NULL, 0);
        turn[0] = &q, turn[1] = &r;
        h_pub_batch(&env, turn, 2, CA);
        memcpy(s_proof, q.sig, q.sig_len);
        len = q.sig_len;
        break;
    default: /* the last sibling hash cut short */
        len -= 1;
        break;
    }
    fr[5] = s_proof, l[5] = len;
    h_pub_free(&q);
    h_pub_free(&r);
    return n;
}
static size_t r_batch_path(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_batched(p, fr, l, B_FORGED_PATH);
}
static size_t r_batch_swapped(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_batched(p, fr, l, B_SWAPPED_LEAF);
}
static size_t r_batch_index(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_batched(p, fr, l, B_WRONG_INDEX);
}
static size_t r_batch_replayed(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_batched(p, fr, l, B_REPLAYED_ROOT);
}
static size_t r_batch_cut(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_batched(p, fr, l, B_FRAME_CUT);
}

static size_t r_big_header(h_pub_t *p, uint8_t **fr, size_t *l)
{
    size_t n = s_frames_of(p, fr, l);
    memset(s_scratch[0], 0x41, 3000);
    fr[3] = s_scratch[0], l[3] = 3000;
    return n;
}
static size_t r_big_ctl(h_pub_t *p, uint8_t **fr, size_t *l)
{
    size_t n = s_frames_of(p, fr, l);
    memset(s_scratch[1], 0, 2000);
    fr[2] = s_scratch[1], l[2] = 2000;
    return n;
}
static size_t s_header_bytes(h_pub_t *p, uint8_t **fr, size_t *l, const void *b, size_t blen)
{
    size_t n = s_frames_of(p, fr, l);
    memcpy(s_scratch[2], b, blen);
    fr[3] = s_scratch[2], l[3] = blen;
    return n;
}
static size_t r_empty_header(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_header_bytes(p, fr, l, "", 0);
}
static size_t r_garbage_header(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_header_bytes(p, fr, l, "\xff\xfe\xfd\xfc\x00\x01garbage", 12);
}
static size_t r_truncated_varint(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_header_bytes(p, fr, l, "\x08\xff\xff", 3);
}
static size_t r_wrong_wire_type(h_pub_t *p, uint8_t **fr, size_t *l)
{
    /* field 1 (schema_version, a varint) sent as length-delimited */
    return s_header_bytes(p, fr, l, "\x0a\x01\x01", 3);
}
static size_t r_truncated_header(h_pub_t *p, uint8_t **fr, size_t *l)
{
    return s_header_bytes(p, fr, l, p->header, p->hlen - 1);
}
static size_t r_duplicate_field(h_pub_t *p, uint8_t **fr, size_t *l)
{
    memcpy(s_scratch[3], p->header, p->hlen);
    memcpy(s_scratch[3] + p->hlen, p->header, 2); /* the first field once more */
    return s_header_bytes(p, fr, l, s_scratch[3], p->hlen + 2);
}
static size_t r_unknown_field(h_pub_t *p, uint8_t **fr, size_t *l)
{
    memcpy(s_scratch[3], p->header, p->hlen);
    memcpy(s_scratch[3] + p->hlen, "\x98\x06\x01", 3); /* field 99, varint 1 */
    return s_header_bytes(p, fr, l, s_scratch[3], p->hlen + 3);
}

/* Header spoilers (before sealing). */
static void h_schema_next(h_pub_t *p)
{
    p->h.schema_version = WIRE_SCHEMA_VERSION + 1; /* one this broker does not speak */
}
static void h_schema0(h_pub_t *p)
{
    p->h.schema_version = 0;
}
static void h_msgid15(h_pub_t *p)
{
    p->h.msg_id.len = 15;
}
static void h_msgid0(h_pub_t *p)
{
    p->h.msg_id.len = 0;
}
static void h_sender77(h_pub_t *p)
{
    p->h.sender = (Tacnet__Agency)77;
}
static void h_kind0(h_pub_t *p)
{
    p->h.kind = TACNET__EVENT_KIND__KIND_UNKNOWN;
}
static void h_kind999(h_pub_t *p)
{
    p->h.kind = (Tacnet__EventKind)999;
}
static void h_sens99(h_pub_t *p)
{
    p->h.sensitivity = (Tacnet__Sensitivity)99;
}
static void h_basis99(h_pub_t *p)
{
    p->h.lawful_basis = (Tacnet__LawfulBasis)99;
}
static void h_no_rcpt(h_pub_t *p)
{
    p->h.n_recipients = 0;
}
static void h_too_many_rcpt(h_pub_t *p)
{
    static Tacnet__Agency r[SEAL_MAX_RECIPIENTS + 1];
    for (size_t i = 0; i <= SEAL_MAX_RECIPIENTS; i++)
        r[i] = (Tacnet__Agency)(i % 4 + 1);
    p->h.recipients = r;
    p->h.n_recipients = SEAL_MAX_RECIPIENTS + 1;
}
static void h_dup_rcpt(h_pub_t *p)
{
    h_pub_rcpt(p, 2, (const uint32_t[]){ CA, CA });
}
static void h_unknown_rcpt(h_pub_t *p)
{
    h_pub_rcpt(p, 2, (const uint32_t[]){ CA, 0 });
}
static void h_level5(h_pub_t *p)
{
    p->h.has_level_of_need = 1, p->h.level_of_need = 5;
}
static void h_level0(h_pub_t *p)
{
    p->h.has_level_of_need = 1, p->h.level_of_need = 0;
}
static void h_stage7(h_pub_t *p)
{
    p->h.has_escalation_stage = 1, p->h.escalation_stage = 7;
}
static void h_refers3(h_pub_t *p)
{
    p->h.has_refers_to = 1, p->h.refers_to = (ProtobufCBinaryData){ 3, (uint8_t *)"abc" };
}
/* No free bytes in the clear header: text for a msg_id (its "time" is thousands of years away),
 * a msg_id an hour ahead, an identifier in refers_to on a kind that takes none. */
static void h_msgid_text(h_pub_t *p)
{
    memcpy(p->msg_id, "Jane Smith SW1A1", 16);
}
static void h_msgid_ahead(h_pub_t *p)
{
    uint8_t ms[8];
    bytes_be64_put(ms, (uint64_t)time(NULL) * 1000 + 3600000);
    memcpy(p->msg_id, ms + 2, 6);
}
static void h_refers_text(h_pub_t *p)
{
    p->h.has_refers_to = 1,
    p->h.refers_to = (ProtobufCBinaryData){ 16, (uint8_t *)"NHS 943476 5919x" };
}
static void s_case(h_pub_t *p, const char *s, size_t n)
{
    memcpy(p->case_ref, s, n);
    p->h.case_ref = (ProtobufCBinaryData){ n, (uint8_t *)p->case_ref };
}
static void s_init(h_pub_t *p, const char *s, size_t n)
{
    static uint8_t buf[32]; /* longer than h_pub_t's own initials */
    memcpy(buf, s, n);
    p->h.initials = (ProtobufCBinaryData){ n, buf };
}
static void c_lower(h_pub_t *p)
{
    s_case(p, "la7-2026-000123", 15);
}
static void c_short(h_pub_t *p)
{
    s_case(p, "LA7-2026-12", 11);
}
static void c_empty(h_pub_t *p)
{
    s_case(p, "", 0);
}
static void c_nul(h_pub_t *p)
{
    s_case(p,
           "LA7-2026-00\0"
           "123",
           15);
}
static void c_utf8(h_pub_t *p)
{
    s_case(p,
           "LA7-2026-00\xc3\x28"
           "23",
           15);
}
static void c_name(h_pub_t *p)
{
    s_case(p, "Tom Brennick 12", 15);
}
static void c_postcode(h_pub_t *p)
{
    s_case(p, "SW1A-2026-000123", 16);
}
static void i_fullname(h_pub_t *p)
{
    s_init(p, "John Smith", 10);
}
static void i_lower(h_pub_t *p)
{
    s_init(p, "js", 2);
}
static void i_digit(h_pub_t *p)
{
    s_init(p, "J5", 2);
}
static void i_five(h_pub_t *p)
{
    s_init(p, "ABCDE", 5);
}
static void i_one(h_pub_t *p)
{
    s_init(p, "J", 1);
}
static void i_utf8(h_pub_t *p)
{
    s_init(p, "\xc3\x28", 2);
}
static void i_accent(h_pub_t *p)
{
    s_init(p, "\xc3\x89J", 3);
}
static void i_space(h_pub_t *p)
{
    s_init(p, "J S", 3);
}
static void s_forge_school(h_pub_t *p)
{
    p->h.sender = (Tacnet__Agency)SCH;
    p->rcpt[0] = (Tacnet__Agency)SCH;
}
static void k_keyid99(h_pub_t *p)
{
    p->h.sender_key_id = 99;
}
static void r_add_school(h_pub_t *p)
{
    h_pub_rcpt(p, 2, (const uint32_t[]){ CA, SCH });
}
static void o_no_reason(h_pub_t *p)
{
    p->h.lawful_basis = TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE;
}
static void k_broker_kind(h_pub_t *p)
{
    p->h.kind = TACNET__EVENT_KIND__ESCALATION_NOTICE;
}
static void k_member_first(h_pub_t *p)
{
    p->h.kind = TACNET__EVENT_KIND__MEMBER_LEFT;
    p->h.has_subject_agency = 1, p->h.subject_agency = SCH;
}
static void k_referral_no_subject(h_pub_t *p)
{
    p->h.kind = TACNET__EVENT_KIND__REFERRAL;
}
static void k_assessment_no_level(h_pub_t *p)
{
    p->h.kind = TACNET__EVENT_KIND__ASSESSMENT;
}
static void k_consent_no_state(h_pub_t *p)
{
    p->h.kind = TACNET__EVENT_KIND__CONSENT_RECORDED;
}
static void k_lead_accept(h_pub_t *p)
{
    p->h.kind = TACNET__EVENT_KIND__LEAD_ACCEPTED;
}

static void t_future(h_pub_t *p)
{
    p->h.created_at_ms += 3600 * 1000; /* an hour ahead; the default skew bound is 300 s */
}
static void t_epoch(h_pub_t *p)
{
    p->h.created_at_ms = 0;
}
static void t_month_old(h_pub_t *p)
{
    p->h.created_at_ms -= 31ull * 86400 * 1000; /* the default age bound is 30 days */
}
static void t_far_future(h_pub_t *p)
{
    p->h.created_at_ms = UINT64_MAX; /* no overflow in the bound */
}

/* Spoilers of the sealed frames (after signing). */
static void t_sig_zero(h_pub_t *p)
{
    memset(p->sig, 0, SEAL_SIG_BYTES);
}
static void t_sig_flip(h_pub_t *p)
{
    p->sig[17] ^= 0x01;
}
static void t_sealed_flip(h_pub_t *p)
{
    p->sealed[p->slen / 2] ^= 0x80;
}
static void t_sealed_last(h_pub_t *p)
{
    p->sealed[p->slen - 1] ^= 0x01;
}
static void t_header_seq(h_pub_t *p)
{
    /* re-pack the header with another sender_seq: the signature no longer covers it */
    p->h.sender_seq += 1000;
    free(p->header);
    p->header = wire_pack(&p->h.base, &p->hlen);
}
static void t_header_case(h_pub_t *p)
{
    p->case_ref[14] = p->case_ref[14] == '9' ? '8' : '9';
    free(p->header);
    p->header = wire_pack(&p->h.base, &p->hlen);
}
static void t_sealed_cut(h_pub_t *p)
{
    p->slen -= 16;
}

static const mcase_t s_cases[] = {
    { "protocol id only", TACNET_EFRAMES, NULL, NULL, r_one_frame, 0, 0 },
    { "wrong protocol id", TACNET_EFRAMES, NULL, NULL, r_bad_protocol, 0, 0 },
    { "unknown command byte", TACNET_EFRAMES, NULL, NULL, r_unknown_cmd, 0, 0 },
    { "protocol TACN01 in one frame", TACNET_EFRAMES, NULL, NULL, r_old_protocol, 0, 0 },
    { "protocol TACN01 in its six frames", TACNET_EFRAMES, NULL, NULL, r_old_protocol, 0, S_EACH },
    { "PUBLISH cut after its command header", TACNET_EFRAMES, NULL, NULL, r_three_frames, 0, 0 },
    { "PUBLISH then a second ZeroMQ frame", TACNET_EFRAMES, NULL, NULL, r_second_frame, 0, S_LAST },
    { "header length past the end", TACNET_EFRAMES, NULL, NULL, r_length_past_end, 0, 0 },
    { "message cut inside a length", TACNET_EFRAMES, NULL, NULL, r_cut_in_length, 0, 0 },
    { "signature of 10 bytes", TACNET_EBADMSG, NULL, NULL, r_short_sig, 0, 0 },
    { "batched signature: a forged path", TACNET_ESIGNATURE, NULL, NULL, r_batch_path, 0, 0 },
    { "batched signature: a swapped leaf", TACNET_ESIGNATURE, NULL, NULL, r_batch_swapped, 0, 0 },
    { "batched signature: a wrong index", TACNET_ESIGNATURE, NULL, NULL, r_batch_index, 0, 0 },
    { "batched signature: a replayed root", TACNET_ESIGNATURE, NULL, NULL, r_batch_replayed, 0, 0 },
    { "batched signature cut short", TACNET_EBADMSG, NULL, NULL, r_batch_cut, 0, 0 },
    { "header over its cap", TACNET_ETOOBIG, NULL, NULL, r_big_header, 0, 0 },
    { "sealed body over its cap", TACNET_ETOOBIG, NULL, NULL, r_sealed_over_cap, 0, 0 },
    { "command header over its cap", TACNET_ETOOBIG, NULL, NULL, r_big_ctl, 0, 0 },
    { "empty header", TACNET_EBADMSG, NULL, NULL, r_empty_header, 0, 0 },
    { "garbage header", TACNET_EBADMSG, NULL, NULL, r_garbage_header, 0, 0 },
    { "truncated varint", TACNET_EBADMSG, NULL, NULL, r_truncated_varint, 0, 0 },
    { "wrong wire type", TACNET_EBADMSG, NULL, NULL, r_wrong_wire_type, 0, 0 },
    { "header cut by one byte", TACNET_EBADMSG, NULL, NULL, r_truncated_header, 0, 0 },
    { "duplicate singular field", TACNET_ENONCANON, NULL, NULL, r_duplicate_field, 0, 0 },
    { "unknown field", TACNET_ENONCANON, NULL, NULL, r_unknown_field, 0, 0 },
    { "schema version next", TACNET_EVERSION, h_schema_next, NULL, NULL, 0, 0 },
    { "schema version 0", TACNET_EVERSION, h_schema0, NULL, NULL, 0, 0 },
    { "msg_id of 15 bytes", TACNET_EMSGID, h_msgid15, NULL, NULL, 0, 0 },
    { "empty msg_id", TACNET_EMSGID, h_msgid0, NULL, NULL, 0, 0 },
    { "sender out of range", TACNET_EENUM, h_sender77, NULL, NULL, 0, 0 },
    { "kind unknown", TACNET_EKIND, h_kind0, NULL, NULL, 0, 0 },
    { "kind out of range", TACNET_EENUM, h_kind999, NULL, NULL, 0, 0 },
    { "sensitivity out of range", TACNET_EENUM, h_sens99, NULL, NULL, 0, 0 },
    { "lawful basis out of range", TACNET_EENUM, h_basis99, NULL, NULL, 0, 0 },
    { "no recipients", TACNET_EFIELD, h_no_rcpt, NULL, NULL, 0, 0 },
    { "more recipients than the limit", TACNET_EFIELD, h_too_many_rcpt, NULL, NULL, 0, 0 },
    { "duplicate recipients", TACNET_EFIELD, h_dup_rcpt, NULL, NULL, 0, 0 },
    { "recipient AGENCY_UNKNOWN", TACNET_EFIELD, h_unknown_rcpt, NULL, NULL, 0, 0 },
    { "level of need 5", TACNET_EFIELD, h_level5, NULL, NULL, 0, 0 },
    { "level of need 0", TACNET_EFIELD, h_level0, NULL, NULL, 0, 0 },
    { "escalation stage 7", TACNET_EFIELD, h_stage7, NULL, NULL, 0, 0 },
    { "refers_to of 3 bytes", TACNET_EMSGID, h_refers3, NULL, NULL, 0, 0 },
    { "msg_id holding a name", TACNET_EMSGID, h_msgid_text, NULL, NULL, 0, 0 },
    { "msg_id an hour ahead", TACNET_EMSGID, h_msgid_ahead, NULL, NULL, 0, 0 },
    { "refers_to holding an NHS number", TACNET_EREFERSTO, h_refers_text, NULL, NULL, 0, 0 },
    { "case ref of a postcode district", TACNET_ECASEPREFIX, c_postcode, NULL, NULL, 0, 0 },
    { "case ref in lower case", TACNET_ECASEREF, c_lower, NULL, NULL, 0, 0 },
    { "case ref too short", TACNET_ECASEREF, c_short, NULL, NULL, 0, 0 },
    { "empty case ref", TACNET_ECASEREF, c_empty, NULL, NULL, 0, 0 },
    { "case ref with a NUL", TACNET_ECASEREF, c_nul, NULL, NULL, 0, 0 },
    { "case ref invalid UTF-8", TACNET_ECASEREF, c_utf8, NULL, NULL, 0, 0 },
    { "case ref holding a name", TACNET_ECASEREF, c_name, NULL, NULL, 0, 0 },
    { "initials 'John Smith'", TACNET_EINITIALS, i_fullname, NULL, NULL, 0, 0 },
    { "initials 'js'", TACNET_EINITIALS, i_lower, NULL, NULL, 0, 0 },
    { "initials 'J5'", TACNET_EINITIALS, i_digit, NULL, NULL, 0, 0 },
    { "initials of five letters", TACNET_EINITIALS, i_five, NULL, NULL, 0, 0 },
    { "initials of one letter", TACNET_EINITIALS, i_one, NULL, NULL, 0, 0 },
    { "initials invalid UTF-8", TACNET_EINITIALS, i_utf8, NULL, NULL, 0, 0 },
    { "initials with an accent", TACNET_EINITIALS, i_accent, NULL, NULL, 0, 0 },
    { "initials with a space", TACNET_EINITIALS, i_space, NULL, NULL, 0, 0 },
    { "created_at an hour ahead", TACNET_ECLOCK, t_future, NULL, NULL, 0, 0 },
    { "created_at at the epoch", TACNET_ECLOCK, t_epoch, NULL, NULL, 0, 0 },
    { "created_at 31 days old", TACNET_ECLOCK, t_month_old, NULL, NULL, 0, 0 },
    { "created_at UINT64_MAX", TACNET_ECLOCK, t_far_future, NULL, NULL, 0, 0 },
    { "sender claims another agency", TACNET_ESENDER, s_forge_school, NULL, NULL, 0, 0 },
    { "unknown sender key id", TACNET_EKEYID, k_keyid99, NULL, NULL, 0, 0 },
    { "signed by another agency's key", TACNET_ESIGNATURE, NULL, NULL, NULL, SCH, 0 },
    { "signature zeroed", TACNET_ESIGNATURE, NULL, t_sig_zero, NULL, 0, 0 },
    { "signature bit flipped", TACNET_ESIGNATURE, NULL, t_sig_flip, NULL, 0, 0 },
    { "sealed body bit flipped", TACNET_ESIGNATURE, NULL, t_sealed_flip, NULL, 0, 0 },
    { "sealed body last byte flipped", TACNET_ESIGNATURE, NULL, t_sealed_last, NULL, 0, 0 },
    { "sealed body cut short", TACNET_ESIGNATURE, NULL, t_sealed_cut, NULL, 0, 0 },
    { "header sender_seq changed after signing", TACNET_ESIGNATURE, NULL, t_header_seq, NULL, 0,
      0 },
    { "header case ref changed after signing", TACNET_ESIGNATURE, NULL, t_header_case, NULL, 0, 0 },
    { "recipients beyond the policy", TACNET_ERECIPIENTS, r_add_school, NULL, NULL, 0, 0 },
    { "override without a reason", TACNET_EOVERRIDE, o_no_reason, NULL, NULL, 0, 0 },
    { "broker-only kind from an agency", TACNET_EKIND, k_broker_kind, NULL, NULL, 0, 0 },
    { "member_left opening a case", TACNET_ENOTMEMBER, k_member_first, NULL, NULL, 0, 0 },
    { "referral without a subject", TACNET_EFIELD, k_referral_no_subject, NULL, NULL, 0, 0 },
    { "assessment without a level", TACNET_EFIELD, k_assessment_no_level, NULL, NULL, 0, 0 },
    { "consent without a state", TACNET_ENOTMEMBER, k_consent_no_state, NULL, NULL, 0, 0 },
    { "lead accepted with no hand-over", TACNET_ENOTMEMBER, k_lead_accept, NULL, NULL, 0, 0 },
};
#define N_CASES (sizeof(s_cases) / sizeof(s_cases[0]))

static void s_expect_same(const uint8_t *before, size_t blen, const char *what)
{
    size_t alen;
    uint8_t *after = h_data_mdb(&env, &alen);
    cr_expect(alen == blen && memcmp(before, after, blen) == 0,
              "%s: data.mdb changed after a refusal", what);
    free(after);
}

Test(rel_attack, t13_malformed_input_table_gets_its_code_and_changes_nothing)
{
    rel_seed_init("T13");
    h_client_t *c = h_connect(&env, CA);
    h_pub_t p = { 0 };
    uint64_t seq;
    /* One good event first, so the journal exists and the connection is proven. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000900", 1);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, &seq), 0);
    size_t blen;
    uint8_t *before = h_data_mdb(&env, &blen);
    long accepted = 0, wrong = 0;
    cr_assert_geq(N_CASES, 50);
    for (size_t i = 0; i < N_CASES; i++) {
        const mcase_t *m = &s_cases[i];
        char case_ref[32];
        snprintf(case_ref, sizeof(case_ref), "LA7-2026-%06zu", 100 + i);
        h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, case_ref, 10 + i);
        if (m->pre)
            m->pre(&p);
        /* Wrap the body for the header's recipients when they are real agencies, else for the
         * sender alone (the broker must refuse on the header before it looks at wrapping). */
        uint32_t wrap[8];
        size_t nw = 0;
        int plain = p.h.n_recipients >= 1 && p.h.n_recipients <= 4;
        for (size_t k = 0; plain && k < p.h.n_recipients; k++) {
            uint32_t a = (uint32_t)p.h.recipients[k];
            plain = a >= CA && a <= SC;
            for (size_t j = 0; plain && j < nw; j++)
                plain = wrap[j] != a;
            wrap[nw++] = a;
        }
        if (!plain)
            wrap[0] = CA, nw = 1;
        h_pub_seal(&env, &p, m->signer ? m->signer : CA, NULL, wrap, nw);
        if (m->post)
            m->post(&p);
        if (m->raw) {
            uint8_t *fr[8];
            size_t lens[8];
            size_t n = m->raw(&p, fr, lens);
            if (m->split == S_EACH) {
                h_send_zmq_frames(c, n, (const void *const *)fr, lens);
            } else if (m->split == S_LAST) {
                h_send_split_last(c, n, (const void *const *)fr, lens);
            } else {
                h_send_frames(c, n, (const void *const *)fr, lens);
            }
        } else {
            h_send_pub(c, &p);
        }
        int got = h_result(c, NULL, 5000, NULL, NULL);
        accepted += got == 0;
        wrong += got != m->want;
        cr_expect_eq(got, m->want, "case %zu '%s': got %s, want %s", i, m->name,
                     tacnet_errname(got), tacnet_errname(m->want));
        s_expect_same(before, blen, m->name);
    }
    free(before);
    /* Still serving: a good event after all of that. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000901", 5000);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, &seq), 0, "a good publish failed after the table");
    h_pub_free(&p);
    rel_stat("malformed_tried", (long)N_CASES);
    rel_stat("malformed_accepted", accepted);
    fprintf(stderr, "[rel] T13: %zu cases, %ld accepted, %ld with another code\n", N_CASES,
            accepted, wrong);
}

/* ---------------------------------------------------------------- T14, T17, T20 */

static long s_attacks, s_accepted;

static void s_attack(int accepted)
{
    s_attacks++;
    s_accepted += accepted != 0;
}

static void s_attack_stats(void)
{
    rel_stat("attacks_tried", s_attacks);
    rel_stat("attacks_accepted", s_accepted);
}

Test(rel_attack, t14_bad_clients_get_nothing_and_a_good_one_succeeds)
{
    rel_seed_init("T14");
    seal_keys_t *stranger = seal_keys_generate(CA, 1);
    cr_assert_not_null(stranger);
    uint8_t wrong_server[SEAL_KEY_BYTES];
    randombytes_buf(wrong_server, sizeof(wrong_server));
    h_client_t *bad[4] = {
        h_connect_raw(&env, 0, NULL, NULL),                 /* NULL mechanism */
        h_connect_raw(&env, 1, NULL, NULL),                 /* PLAIN */
        h_connect_raw(&env, 2, stranger, NULL),             /* CURVE, unknown key */
        h_connect_raw(&env, 2, env.keys[CA], wrong_server), /* CURVE, wrong server key */
    };
    size_t blen;
    uint8_t *before = h_data_mdb(&env, &blen);
    h_pub_t p = { 0 };
    for (size_t i = 0; i < 4; i++) {
        h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000700", 1 + i);
        h_pub_seal(&env, &p, CA, NULL, NULL, 0);
        /* A refused handshake leaves the socket with no peer: the send itself may not even be
         * queued (EAGAIN). Either way nothing may come back. */
        int sent = wire_send(bad[i]->sock, NULL, 0, WIRE_PUBLISH, NULL, p.header, p.hlen, p.sealed,
                             p.slen, p.sig);
        int got = sent == 0 ? h_result(bad[i], NULL, 1500, NULL, NULL) : TACNET_ETIMEOUT;
        cr_expect_eq(got, TACNET_ETIMEOUT, "bad client %zu got an answer (%s)", i,
                     tacnet_errname(got));
        s_attack(got == 0);
    }
    s_expect_same(before, blen, "bad clients");
    free(before);
    h_client_t *good = h_connect(&env, CA);
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000701", 10);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(good, &p, NULL), 0, "the known good client was refused");
    h_pub_free(&p);
    seal_keys_destroy(&stranger);
    s_attack_stats();
}

Test(rel_attack, t17_replays_are_acknowledged_once_or_refused_and_delivered_once)
{
    rel_seed_init("T17");
    h_client_t *c = h_connect(&env, CA);
    h_pub_t p = { 0 };
    uint64_t seq = 0, again = 0;
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000800", 1);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, &seq), 0);
    /* The same envelope again, on the same connection and on a new one: the original seq. */
    int dup = 0;
    h_send_pub(c, &p);
    cr_assert_eq(h_result(c, p.msg_id, 5000, &again, &dup), 0);
    cr_expect(again == seq && dup, "same-connection replay got seq %llu dup %d",
              (unsigned long long)again, dup);
    s_attack(again != seq);
    h_client_t *c2 = h_connect(&env, CA);
    h_send_pub(c2, &p);
    cr_assert_eq(h_result(c2, p.msg_id, 5000, &again, &dup), 0);
    cr_expect(again == seq && dup, "new-connection replay got seq %llu", (unsigned long long)again);
    s_attack(again != seq);
    /* After a broker restart too. */
    h_broker_signal_wait(&env, SIGTERM);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    h_client_t *c3 = h_connect(&env, CA);
    h_send_pub(c3, &p);
    cr_assert_eq(h_result(c3, p.msg_id, 5000, &again, &dup), 0);
    cr_expect(again == seq && dup, "replay after restart got seq %llu", (unsigned long long)again);
    s_attack(again != seq);
    /* A new msg_id reusing the sender sequence is a replay of the sequence: refused. */
    h_pub_t q = { 0 };
    h_pub_init(&q, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000800", 1);
    h_pub_seal(&env, &q, CA, NULL, NULL, 0);
    int got = h_publish(c3, &q, NULL);
    cr_expect_eq(got, TACNET_EREPLAY, "reused sender_seq: %s", tacnet_errname(got));
    s_attack(got == 0);
    /* A genuinely new event with the next seq is accepted. */
    h_pub_init(&q, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000800", 2);
    h_pub_seal(&env, &q, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(c3, &q, NULL), 0, "the next genuine event was refused");
    /* And the recipient sees the replayed event once. */
    h_client_t *r = h_connect(&env, CA);
    cr_assert_eq(h_hello(r, 0, 64, NULL), 0);
    uint64_t sseqs[8];
    size_t n = h_collect(r, 8, 2000, NULL, sseqs, 8);
    size_t ones = 0;
    for (size_t i = 0; i < n; i++)
        ones += sseqs[i] == 1;
    cr_expect_eq(ones, 1, "the replayed event was delivered %zu times", ones);
    h_pub_free(&p);
    h_pub_free(&q);
    s_attack_stats();
}

Test(rel_attack, t18_batched_signatures_verify_end_to_end_and_survive_a_restart)
{
    rel_seed_init("T18b");
    h_client_t *c = h_connect(&env, CA);
    h_pub_t ps[5] = { 0 }, *turn[5];
    for (size_t i = 0; i < 5; i++) {
        h_pub_init(&ps[i], CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000810", 1 + i);
        h_pub_seal(&env, &ps[i], CA, NULL, NULL, 0);
        turn[i] = &ps[i];
    }
    h_pub_batch(&env, turn, 5, CA);
    cr_assert_gt(ps[0].sig_len, SEAL_SIG_BYTES, "not a batched frame");
    for (size_t i = 0; i < 5; i++)
        h_send_pub(c, &ps[i]);
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(h_result(c, ps[i].msg_id, 5000, NULL, NULL), 0, "batched event %zu refused",
                     i);
    /* A replay of one batched event is the original, once. */
    int dup = 0;
    h_send_pub(c, &ps[2]);
    cr_assert_eq(h_result(c, ps[2].msg_id, 5000, NULL, &dup), 0);
    cr_expect(dup, "the replayed batched event was not a duplicate");
    s_attack(!dup);
    /* The broker's start walks the journal and verifies the batched records; the recipient then
     * verifies the same proofs (h_collect asserts each DELIVER verifies and opens). */
    h_broker_signal_wait(&env, SIGTERM);
    cr_assert_eq(h_broker_start(&env, NULL), 0, "the broker refused its own journal");
    h_client_t *r = h_connect(&env, CA);
    cr_assert_eq(h_hello(r, 0, 64, NULL), 0);
    uint64_t sseqs[8];
    size_t n = h_collect(r, 5, 5000, NULL, sseqs, 8);
    cr_expect_eq(n, 5, "%zu of 5 batched events delivered", n);
    for (size_t i = 0; i < 5; i++)
        h_pub_free(&ps[i]);
    s_attack_stats();
}

Test(rel_attack, t20_no_writes_to_other_agencies_cases_and_no_delivery_beyond_need)
{
    rel_seed_init("T20");
    h_client_t *school = h_connect(&env, SCH), *camhs = h_connect(&env, CA);
    h_pub_t p = { 0 };
    /* The school opens a case alone. */
    h_pub_init(&p, SCH, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000600", 1);
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), 0);
    /* CAMHS enumerates case references and tries to write to each: never a member. */
    for (unsigned i = 0; i < 20; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "LA7-2026-%06u", 600 + i);
        h_pub_init(&p, CA, TACNET__EVENT_KIND__MEMBER_JOINED, ref, 1 + i);
        p.h.has_subject_agency = 1, p.h.subject_agency = CA;
        h_pub_rcpt(&p, 2, (const uint32_t[]){ CA, SCH });
        h_pub_seal(&env, &p, CA, NULL, NULL, 0);
        int got = h_publish(camhs, &p, NULL);
        cr_expect_neq(got, 0, "CAMHS joined %s on its own say-so", ref);
        s_attack(got == 0);
    }
    /* CAMHS's own sessions receive nothing of the school's case. */
    h_client_t *r = h_connect(&env, CA);
    cr_assert_eq(h_hello(r, 0, 64, NULL), 0);
    uint64_t sseqs[64];
    size_t n = h_collect(r, 64, 1500, NULL, sseqs, 64);
    cr_expect_eq(n, 0, "CAMHS received %zu events of cases it is not in", n);
    s_attack(n != 0);
    h_pub_free(&p);
    s_attack_stats();
}

/* ---------------------------------------------------------------- T18 */

/* The parts of a PUBLISH or DELIVER a bit flip can land in: the clear header, the sealed body
 * (nonce, wrap nonce, recipient count, wrapped keys, AEAD ciphertext, AEAD tag: see
 * common/seal.c) and the signature. */
enum { F_HEADER, F_NONCE, F_WRAP_NONCE, F_COUNT, F_WRAPPED, F_CIPHER, F_TAG, F_SIG, F_N };
static const char *const s_field_names[F_N] = { "header",   "nonce",       "wrap nonce",
                                                "count",    "wrapped key", "ciphertext",
                                                "AEAD tag", "signature" };

/* Flip one seeded random bit of FIELD in P's frames (copies: P's own frames are re-sealed for
 * every attempt). */
static void s_flip(h_pub_t *p, int field)
{
    size_t n = p->sealed[2 * SEAL_NONCE_BYTES];
    size_t c_off = 2 * SEAL_NONCE_BYTES + 1 + n * (5 + SEAL_WRAP_BYTES);
    uint8_t *buf;
    size_t lo, len;
    switch (field) {
    case F_HEADER:
        buf = p->header, lo = 0, len = p->hlen;
        break;
    case F_NONCE:
        buf = p->sealed, lo = 0, len = SEAL_NONCE_BYTES;
        break;
    case F_WRAP_NONCE:
        buf = p->sealed, lo = SEAL_NONCE_BYTES, len = SEAL_NONCE_BYTES;
        break;
    case F_COUNT:
        buf = p->sealed, lo = 2 * SEAL_NONCE_BYTES, len = 1;
        break;
    case F_WRAPPED:
        buf = p->sealed, lo = 2 * SEAL_NONCE_BYTES + 1, len = c_off - lo;
        break;
    case F_CIPHER:
        buf = p->sealed, lo = c_off, len = p->slen - 16 - c_off;
        break;
    case F_TAG:
        buf = p->sealed, lo = p->slen - 16, len = 16;
        break;
    default:
        buf = p->sig, lo = 0, len = SEAL_SIG_BYTES;
        break;
    }
    size_t bit = (size_t)rel_between(0, len * 8 - 1);
    buf[lo + bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* Count the broker's refusals so far (the status counters, one per refusal by code). */
static long s_rejected_total(void)
{
    char *js = h_admin_status(&env);
    cr_assert_not_null(js, "no admin status");
    json_t *root = json_loads(js, 0, NULL);
    free(js);
    cr_assert_not_null(root);
    long total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(root, "rejected"), k, v)
    {
        total += (long)json_integer_value(v);
    }
    json_decref(root);
    return total;
}

/* Lines "reject <msg_id hex> from <agency>: E_..." in the broker log. */
static long s_reject_lines(void)
{
    FILE *f = fopen(env.log, "r");
    cr_assert_not_null(f);
    char line[1024];
    long n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, "reject ") && strstr(line, " from ") && strstr(line, ": E_");
    fclose(f);
    return n;
}

/* Seal P with a body that claims BODY_SENDER (not the header's sender) and signs as SIGNER:
 * a relay re-sealing someone else's event as its own. */
static void s_seal_claiming(h_pub_t *p, uint32_t signer, uint32_t body_sender)
{
    h_pub_free(p);
    p->h.recipients = p->rcpt;
    p->header = wire_pack(&p->h.base, &p->hlen);
    Tacnet__Body body = TACNET__BODY__INIT;
    Tacnet__Concern concern = TACNET__CONCERN__INIT;
    body.msg_id = (ProtobufCBinaryData){ 16, p->msg_id };
    body.has_msg_id = 1;
    body.sender = (Tacnet__Agency)body_sender;
    body.has_sender = 1;
    concern.summary = (char *)"Synthetic forwarded concern.";
    body.event_case = TACNET__BODY__EVENT_CONCERN;
    body.concern = &concern;
    size_t blen = protobuf_c_message_get_packed_size(&body.base);
    uint8_t *b = malloc(blen);
    protobuf_c_message_pack(&body.base, b);
    seal_recipient_t r[8];
    uint64_t now = (uint64_t)time(NULL) * 1000;
    for (size_t i = 0; i < p->h.n_recipients; i++) {
        int err = 0;
        const Tacnet__NodeKey *k = roster_key_find(env.roster, p->h.recipients[i], 1, now, &err);
        cr_assert_not_null(k);
        r[i].agency = (uint32_t)p->h.recipients[i];
        r[i].key_id = k->key_id;
        memcpy(r[i].seal_pk, k->seal_pk.data, SEAL_KEY_BYTES);
    }
    cr_assert_eq(seal_event(env.seal[signer], p->header, p->hlen, b, blen, r, p->h.n_recipients,
                            &p->sealed, &p->slen, p->sig),
                 0);
    free(b);
}

/* A libsodium sealed box of a body for AGENCY, anonymous and unsigned, in place of P's sealed
 * frame; the signature frame is zeroed. */
static void s_sealed_box(h_pub_t *p, uint32_t agency)
{
    const char *body = "Synthetic unsigned concern.";
    int err = 0;
    const Tacnet__NodeKey *k =
        roster_key_find(env.roster, agency, 1, (uint64_t)time(NULL) * 1000, &err);
    cr_assert_not_null(k);
    free(p->sealed);
    p->slen = strlen(body) + crypto_box_SEALBYTES;
    p->sealed = malloc(p->slen);
    crypto_box_seal(p->sealed, (const uint8_t *)body, strlen(body), k->seal_pk.data);
    memset(p->sig, 0, SEAL_SIG_BYTES);
}

Test(rel_attack, t18_tampered_and_forged_envelopes_are_refused_by_the_broker)
{
    rel_seed_init("T18 broker");
    long flips = rel_env("REL_T18_FLIPS", 8);
    h_client_t *c = h_connect(&env, CA), *school = h_connect(&env, SCH);
    h_pub_t p = { 0 };
    const char *ref = "LA7-2026-000950";
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, 1);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0);
    size_t blen;
    uint8_t *before = h_data_mdb(&env, &blen);
    long rej0 = s_rejected_total(), lines0 = s_reject_lines(), tried = 0, wrong = 0;
    uint64_t sseq = 2;
    /* Every field, FLIPS seeded bits each, one attempt per bit. */
    for (int f = 0; f < F_N; f++) {
        for (long i = 0; i < flips; i++) {
            h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
            h_pub_seal(&env, &p, CA, NULL, NULL, 0);
            s_flip(&p, f);
            h_send_pub(c, &p);
            int got = h_result(c, NULL, 5000, NULL, NULL);
            tried++;
            /* A flipped header bit may spoil the encoding or a field before the signature is
             * reached; everything else must fail the signature. */
            int ok = f == F_HEADER ? got != 0 && got != TACNET_ETIMEOUT &&
                                         strcmp(tacnet_errname(got), "E_UNKNOWN") != 0
                                   : got == TACNET_ESIGNATURE;
            wrong += !ok;
            s_attack(got == 0);
            cr_expect(ok, "flip %ld in the %s: got %s", i, s_field_names[f], tacnet_errname(got));
        }
    }
    /* Forgeries. Each: the frames, the connection, the code. */
    struct {
        const char *name;
        int want;
    } forged[6] = {
        { "signed by CAMHS, claiming the school, on CAMHS's connection", TACNET_ESENDER },
        { "signed by CAMHS, claiming the school, on the school's connection", TACNET_ESIGNATURE },
        { "signed for CAMHS and school, wrapped for CAMHS and social care", TACNET_ERECIPIENTS },
        { "sealed box, signature empty", TACNET_EBADMSG },
        { "sealed box, signature zeroed", TACNET_ESIGNATURE },
        { "sealed box, signature in a second ZeroMQ frame", TACNET_EFRAMES },
    };
    for (int i = 0; i < 6; i++) {
        h_client_t *on = i == 1 ? school : c;
        uint32_t sender = i == 0 || i == 1 ? SCH : CA;
        h_pub_init(&p, sender, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
        if (i == 2)
            h_pub_rcpt(&p, 2, (const uint32_t[]){ CA, SCH });
        h_pub_seal(&env, &p, CA, NULL, i == 2 ? (const uint32_t[]){ CA, SC } : NULL,
                   i == 2 ? 2 : 0);
        if (i >= 3)
            s_sealed_box(&p, SCH);
        if (i == 3 || i == 5) {
            uint8_t *fr[8];
            size_t lens[8];
            size_t n = s_frames_of(&p, fr, lens);
            if (i == 3) {
                lens[5] = 0;
                h_send_frames(on, n, (const void *const *)fr, lens);
            } else { /* the five parts before it in one frame, then the signature */
                h_send_split_last(on, n, (const void *const *)fr, lens);
            }
        } else {
            h_send_pub(on, &p);
        }
        int got = h_result(on, NULL, 5000, NULL, NULL);
        tried++;
        wrong += got != forged[i].want;
        s_attack(got == 0);
        cr_expect_eq(got, forged[i].want, "%s: got %s, want %s", forged[i].name,
                     tacnet_errname(got), tacnet_errname(forged[i].want));
    }
    s_expect_same(before, blen, "T18");
    free(before);
    /* Each refusal counted by code and logged with its msg_id (the broker stores nothing for
     * a refusal, so its audit of refusals is the counter and the log). */
    long counted = s_rejected_total() - rej0, logged = s_reject_lines() - lines0;
    cr_expect_eq(counted, tried, "%ld refusals counted for %ld attempts", counted, tried);
    cr_expect_eq(logged, tried, "%ld refusals logged for %ld attempts", logged, tried);
    /* Still serving. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0, "a good publish failed after T18");
    h_pub_free(&p);
    s_attack_stats();
    fprintf(stderr, "[rel] T18 broker: %ld tampered or forged envelopes, %ld with another code\n",
            tried, wrong);
}

/* A compromised broker (threat 7): a ROUTER holding the broker's CURVE key, which the daemon
 * trusts for transport, delivering whatever it likes. The daemon must check every envelope
 * itself. */
typedef struct fake {
    void *sock;
    uint8_t rid[WIRE_MAX_RID];
    size_t rid_len;
    int welcomed;
    uint64_t acked;
} fake_t;

static void s_fake_bind(fake_t *f, char *endpoint, size_t len)
{
    memset(f, 0, sizeof(*f));
    f->sock = s_fake_sock = zmq_socket(env.ctx, ZMQ_ROUTER);
    char z85[SEAL_Z85_BYTES];
    seal_z85(env.keys[TACNET__AGENCY__BROKER]->curve_sk, z85);
    int one = 1, linger = 0;
    zmq_setsockopt(f->sock, ZMQ_CURVE_SERVER, &one, sizeof(one));
    zmq_setsockopt(f->sock, ZMQ_CURVE_SECRETKEY, z85, 40);
    zmq_setsockopt(f->sock, ZMQ_LINGER, &linger, sizeof(linger));
    cr_assert_eq(zmq_bind(f->sock, "tcp://127.0.0.1:*"), 0);
    zmq_getsockopt(f->sock, ZMQ_LAST_ENDPOINT, endpoint, &len);
}

/* Answer HELLO, PING and ACK for MS milliseconds (or until ACKED reaches UNTIL). */
static void s_fake_serve(fake_t *f, int ms, uint64_t until)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    while (h_now_ms() < deadline && !(until && f->acked >= until)) {
        zmq_pollitem_t it = { f->sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&it, 1, 50) <= 0)
            continue;
        wire_msg_t m;
        memset(&m, 0, sizeof(m));
        if (wire_recv(f->sock, 1, ZMQ_DONTWAIT, &m) != 0) {
            wire_msg_clear(&m);
            continue;
        }
        memcpy(f->rid, m.rid, m.rid_len);
        f->rid_len = m.rid_len;
        int err = 0;
        if (m.cmd == WIRE_HELLO) {
            Tacnet__Welcome w = TACNET__WELCOME__INIT;
            w.epoch = 0x7e57;
            wire_send(f->sock, f->rid, f->rid_len, WIRE_WELCOME, &w.base, NULL, 0, NULL, 0, NULL);
            f->welcomed = 1;
        } else if (m.cmd == WIRE_PING) {
            Tacnet__Pong pong = TACNET__PONG__INIT;
            pong.epoch = 0x7e57;
            wire_send(f->sock, f->rid, f->rid_len, WIRE_PONG, &pong.base, NULL, 0, NULL, 0, NULL);
        } else if (m.cmd == WIRE_ACK) {
            Tacnet__Ack *a = (Tacnet__Ack *)wire_ctl_unpack(WIRE_ACK, m.ctl, m.ctl_len, &err);
            if (a && a->upto_seq > f->acked)
                f->acked = a->upto_seq;
            if (a)
                wire_free(&a->base);
        }
        wire_msg_clear(&m);
    }
}

static void s_fake_deliver(fake_t *f, uint64_t seq, const h_pub_t *p)
{
    Tacnet__Deliver d = TACNET__DELIVER__INIT;
    d.seq = seq;
    d.prev_seq = seq - 1;
    cr_assert_eq(wire_send(f->sock, f->rid, f->rid_len, WIRE_DELIVER, &d.base, p->header, p->hlen,
                           p->sealed, p->slen, p->sig),
                 0);
}

/* BLAKE2b over every entry the daemon's view shows through `follow` (header and opened body). */
static void s_view_digest(h_agency_t *a, uint8_t out[32], size_t *entries)
{
    int err = 0;
    tn_client_t *api = tn_client_new(a->data, &err);
    cr_assert_not_null(api);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    uint64_t after = 0;
    *entries = 0;
    for (;;) {
        Tacnet__ApiReply *r = NULL;
        cr_assert_eq(tn_client_follow(api, after, 500, &r, 5000), 0);
        Tacnet__FollowReply *fr = r->follow;
        for (size_t i = 0; i < fr->n_entries; i++) {
            size_t len = protobuf_c_message_get_packed_size(&fr->entries[i]->base);
            uint8_t *b = malloc(len + 1);
            protobuf_c_message_pack(&fr->entries[i]->base, b);
            crypto_generichash_update(&st, b, len);
            free(b);
        }
        size_t got = fr->n_entries;
        *entries += got;
        after = fr->next_local_seq;
        tn_client_reply_free(&r);
        if (!got)
            break;
    }
    crypto_generichash_final(&st, out, 32);
    tn_client_destroy(&api);
}

typedef struct quarantine_count {
    long n;
    int codes[64];
} quarantine_count_t;

static int s_count_quarantine(uint64_t seq, const audit_record_t *rec, void *arg)
{
    (void)seq;
    quarantine_count_t *q = arg;
    if (strcmp(rec->action, "deliver.quarantine") == 0 && q->n < 64)
        q->codes[q->n++] = rec->code;
    return 0;
}

/* The stopped daemon's audit records of quarantined deliveries, read-only. */
static quarantine_count_t s_quarantined(const char *dir)
{
    quarantine_count_t q = { 0 };
    MDB_env *e;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&e), 0);
    mdb_env_set_maxdbs(e, 32);
    cr_assert_eq(mdb_env_open(e, dir, MDB_RDONLY, 0600), 0, "open %s", dir);
    cr_assert_eq(mdb_txn_begin(e, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, AUDIT_DB, 0, &dbi), 0);
    cr_assert_eq(audit_iterate(txn, dbi, 1, s_count_quarantine, &q), 0);
    mdb_txn_abort(txn);
    mdb_env_close(e);
    return q;
}

Test(rel_attack, t18_a_compromised_broker_cannot_make_a_daemon_apply_a_forgery)
{
    rel_seed_init("T18 recipient");
    /* The real broker goes; the fake one takes its endpoint file. */
    h_broker_signal_wait(&env, SIGTERM);
    fake_t f;
    char ep[256], path[700];
    s_fake_bind(&f, ep, sizeof(ep));
    snprintf(path, sizeof(path), "%s/endpoint", env.data);
    FILE *ef = fopen(path, "w");
    cr_assert_not_null(ef);
    fprintf(ef, "%s\n", ep);
    fclose(ef);
    h_agency_t *school = h_agency_add(&env, SCH);
    cr_assert_eq(h_agency_start(school, NULL), 0);
    s_fake_serve(&f, 5000, 0);
    for (int i = 0; i < 50 && !f.welcomed; i++)
        s_fake_serve(&f, 100, 0);
    cr_assert(f.welcomed, "the daemon never said HELLO to the fake broker");

    const char *ref = "LA7-2026-000960";
    const uint32_t both[2] = { CA, SCH };
    h_pub_t p = { 0 };
    uint64_t seq = 1, sseq = 1;
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_rcpt(&p, 2, both);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    s_fake_deliver(&f, seq, &p);
    s_fake_serve(&f, 10000, seq);
    cr_assert_eq(f.acked, seq, "the genuine first event was not acknowledged");
    seq++;
    uint8_t d0[32], d1[32];
    size_t n0, n1;
    s_view_digest(school, d0, &n0);
    cr_assert_eq(n0, 1, "the genuine event was not applied (%zu entries)", n0);

    /* Tampered: one flip per field; then the forgeries. Expected codes, in order. */
    int want[F_N + 6];
    size_t nw = 0;
    for (int fl = 0; fl < F_N; fl++) {
        h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
        h_pub_rcpt(&p, 2, both);
        h_pub_seal(&env, &p, CA, NULL, NULL, 0);
        s_flip(&p, fl);
        want[nw++] = fl == F_HEADER ? 0 : TACNET_ESIGNATURE; /* 0: any specific code */
        s_fake_deliver(&f, seq++, &p);
    }
    /* Signed by CAMHS, claiming social care. */
    h_pub_init(&p, SC, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_rcpt(&p, 2, (const uint32_t[]){ SC, SCH });
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    want[nw++] = TACNET_ESIGNATURE;
    s_fake_deliver(&f, seq++, &p);
    /* CAMHS's event for CAMHS and the school, its key wrapped for social care instead. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_rcpt(&p, 2, both);
    h_pub_seal(&env, &p, CA, NULL, (const uint32_t[]){ CA, SC }, 2);
    want[nw++] = TACNET_ENOTFOUND;
    s_fake_deliver(&f, seq++, &p);
    /* Social care re-seals CAMHS's event (its msg_id and sender in the body) as its own. */
    h_pub_init(&p, SC, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_rcpt(&p, 2, (const uint32_t[]){ SC, SCH });
    s_seal_claiming(&p, SC, CA);
    want[nw++] = TACNET_EBODYMISMATCH;
    s_fake_deliver(&f, seq++, &p);
    /* A sealed box with no signature. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_rcpt(&p, 2, both);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    s_sealed_box(&p, SCH);
    want[nw++] = TACNET_ESIGNATURE;
    s_fake_deliver(&f, seq++, &p);
    /* A key id the roster does not have. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_rcpt(&p, 2, both);
    p.h.sender_key_id = 99;
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    want[nw++] = TACNET_EKEYID;
    s_fake_deliver(&f, seq++, &p);

    s_fake_serve(&f, 15000, seq - 1);
    cr_assert_eq(f.acked, seq - 1, "the daemon acknowledged up to %llu of %llu (did it die?)",
                 (unsigned long long)f.acked, (unsigned long long)(seq - 1));
    s_view_digest(school, d1, &n1);
    cr_expect(n1 == n0 && memcmp(d0, d1, 32) == 0,
              "the view changed after forgeries (%zu -> %zu entries)", n0, n1);
    for (size_t i = 0; i < nw; i++)
        s_attack(0);

    /* A genuine event still applies. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_rcpt(&p, 2, both);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    s_fake_deliver(&f, seq, &p);
    s_fake_serve(&f, 10000, seq);
    s_view_digest(school, d1, &n1);
    cr_expect_eq(n1, n0 + 1, "a genuine event after the forgeries was not applied");
    h_pub_free(&p);

    /* One audit record per quarantined delivery, with its code. */
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    quarantine_count_t q = s_quarantined(school->data);
    cr_expect_eq((size_t)q.n, nw, "%ld quarantine audit records for %zu forgeries", q.n, nw);
    for (size_t i = 0; i < nw && i < (size_t)q.n; i++) {
        int ok = want[i] ? q.codes[i] == want[i]
                         : q.codes[i] != 0 && strcmp(tacnet_errname(q.codes[i]), "E_UNKNOWN");
        cr_expect(ok, "forgery %zu quarantined as %s, want %s", i, tacnet_errname(q.codes[i]),
                  want[i] ? tacnet_errname(want[i]) : "a specific code");
    }
    zmq_close(f.sock);
    s_fake_sock = NULL;
    s_attack_stats();
    fprintf(stderr, "[rel] T18 recipient: %zu forged deliveries, %ld quarantined and audited\n", nw,
            q.n);
}

/* ---------------------------------------------------------------- the broker's own key (T14) */

Test(rel_attack, t14_the_broker_s_own_key_is_refused_as_a_client)
{
    rel_seed_init("T14 broker key");
    /* One good event first, so the journal exists and the connection is proven. */
    h_client_t *good = h_connect(&env, CA);
    h_pub_t p = { 0 };
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000970", 1);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(good, &p, NULL), 0);
    size_t blen;
    uint8_t *before = h_data_mdb(&env, &blen);
    /* Whoever holds the broker's key connects with it, as a client: it is in the roster (the
     * broker signs its notices with it), but it is no agency's. */
    h_client_t *b = h_connect_raw(&env, 2, env.keys[TACNET__AGENCY__BROKER], NULL);
    int hello = h_hello(b, 0, 8, NULL);
    cr_expect_eq(hello, TACNET_ETIMEOUT, "the broker's key got a WELCOME");
    s_attack(hello == 0);
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000970", 2);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    int sent =
        wire_send(b->sock, NULL, 0, WIRE_PUBLISH, NULL, p.header, p.hlen, p.sealed, p.slen, p.sig);
    int got = sent == 0 ? h_result(b, NULL, 1500, NULL, NULL) : TACNET_ETIMEOUT;
    cr_expect_eq(got, TACNET_ETIMEOUT, "a publish on the broker's key got an answer (%s)",
                 tacnet_errname(got));
    s_attack(got == 0);
    s_expect_same(before, blen, "the broker's key");
    free(before);
    /* Refused at the handshake with its code, and logged (once a minute per key however often
     * libzmq retries). */
    int logged = 0;
    for (int i = 0; i < 50 && !logged; i++) {
        logged = h_log_contains(&env, "E_NOTAGENCY");
        if (!logged)
            h_sleep_ms(100);
    }
    cr_expect(logged, "no E_NOTAGENCY refusal in the broker log");
    cr_expect(h_log_contains(&env, "with the roster key of broker"),
              "the refusal does not say whose key it was");
    h_close(&b);
    /* An agency's key still gets in and publishes. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, "LA7-2026-000971", 3);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(good, &p, NULL), 0, "an agency's publish failed after the attempt");
    h_pub_free(&p);
    rel_stat("broker_key_attempts", 1);
    rel_stat("broker_key_accepted", hello == 0 || got == 0);
    s_attack_stats();
    fprintf(stderr, "[rel] T14 broker key: HELLO %s, PUBLISH %s, refusal logged %s\n",
            tacnet_errname(hello), tacnet_errname(got), logged ? "yes" : "no");
}

/* ---------------------------------------------------------------- kind mismatch (T18) */

/* Seal P as its own sender with BODY's event in place of the header kind's (msg_id and sender
 * repeated, so only the kind differs). */
static void s_seal_event(h_pub_t *p, Tacnet__Body *body)
{
    h_pub_free(p);
    p->h.recipients = p->rcpt;
    p->header = wire_pack(&p->h.base, &p->hlen);
    body->msg_id = (ProtobufCBinaryData){ 16, p->msg_id };
    body->has_msg_id = 1;
    body->sender = p->h.sender;
    body->has_sender = 1;
    size_t blen = protobuf_c_message_get_packed_size(&body->base);
    uint8_t *b = malloc(blen + 1);
    protobuf_c_message_pack(&body->base, b);
    seal_recipient_t r[8];
    uint64_t now = (uint64_t)time(NULL) * 1000;
    for (size_t i = 0; i < p->h.n_recipients; i++) {
        int err = 0;
        const Tacnet__NodeKey *k = roster_key_find(env.roster, p->h.recipients[i], 1, now, &err);
        cr_assert_not_null(k);
        r[i].agency = (uint32_t)p->h.recipients[i];
        r[i].key_id = k->key_id;
        memcpy(r[i].seal_pk, k->seal_pk.data, SEAL_KEY_BYTES);
    }
    cr_assert_eq(seal_event(env.seal[p->h.sender], p->header, p->hlen, b, blen, r,
                            p->h.n_recipients, &p->sealed, &p->slen, p->sig),
                 0);
    free(b);
}

Test(rel_attack, t18_a_body_of_another_kind_is_quarantined_by_the_recipient)
{
    rel_seed_init("T18 kind");
    h_agency_t *school = h_agency_add(&env, SCH);
    cr_assert_eq(h_agency_start(school, NULL), 0, "the school daemon did not start");
    /* CAMHS (a client holding its key, not its daemon, which would refuse to seal this) opens a
     * case with a referral to the school. */
    const char *ref = "LA7-2026-000980";
    const uint32_t both[2] = { CA, SCH };
    h_client_t *c = h_connect(&env, CA);
    h_pub_t p = { 0 };
    uint64_t sseq = 1;
    h_pub_init(&p, CA, TACNET__EVENT_KIND__REFERRAL, ref, sseq++);
    p.h.has_subject_agency = 1, p.h.subject_agency = SCH;
    h_pub_rcpt(&p, 2, both);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0);
    /* Header `concern`, body `assessment`; then header `concern`, body with no event. The broker
     * cannot see the body, so it accepts both. */
    Tacnet__Assessment assessment = TACNET__ASSESSMENT__INIT;
    assessment.has_level_of_need = 1, assessment.level_of_need = 4;
    Tacnet__Body forged[2] = { TACNET__BODY__INIT, TACNET__BODY__INIT };
    forged[0].event_case = TACNET__BODY__EVENT_ASSESSMENT;
    forged[0].assessment = &assessment;
    for (int i = 0; i < 2; i++) {
        h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
        h_pub_rcpt(&p, 2, both);
        s_seal_event(&p, &forged[i]);
        int got = h_publish(c, &p, NULL);
        cr_assert_eq(got, 0, "the broker refused forgery %d: %s", i, tacnet_errname(got));
    }
    /* A genuine concern after them still applies. */
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, ref, sseq++);
    h_pub_rcpt(&p, 2, both);
    h_pub_seal(&env, &p, CA, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0);
    h_pub_free(&p);
    uint8_t digest[32];
    size_t n = 0;
    for (int i = 0; i < 100 && n < 2; i++) {
        s_view_digest(school, digest, &n);
        if (n < 2)
            h_sleep_ms(100);
    }
    cr_expect_eq(n, 2,
                 "the school's view holds %zu entries, want the referral and the genuine "
                 "concern",
                 n);
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    quarantine_count_t q = s_quarantined(school->data);
    cr_expect_eq(q.n, 2, "%ld quarantine audit records for 2 forgeries", q.n);
    long right = 0;
    for (long i = 0; i < q.n; i++) {
        right += q.codes[i] == TACNET_EBODYMISMATCH;
        cr_expect_eq(q.codes[i], TACNET_EBODYMISMATCH, "forgery %ld quarantined as %s", i,
                     tacnet_errname(q.codes[i]));
    }
    s_attack(n > 2);
    s_attack(n > 2);
    rel_stat("kind_mismatch_sent", 2);
    rel_stat("kind_mismatch_quarantined", right);
    s_attack_stats();
    fprintf(stderr, "[rel] T18 kind: 2 bodies of another kind, %ld quarantined E_BODYMISMATCH\n",
            right);
}
