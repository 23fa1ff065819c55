/* wire: header decoding against hand-built malformed inputs, the one-frame message layout, and
 * messages over real sockets. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "err.h"
#include "merkle.h"
#include "seal.h"
#include "wire.h"

/* ---------------------------------------------------------------------------------------------
 * A tiny protobuf writer, so malformed encodings can be built byte by byte.
 */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_I32 = 5, WT_BAD = 7 };

typedef struct {
    uint8_t b[WIRE_MAX_HEADER * 2];
    size_t n;
} buf_t;

static void put_raw(buf_t *b, const void *p, size_t n)
{
    cr_assert_leq(b->n + n, sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void put_varint(buf_t *b, uint64_t v)
{
    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            byte |= 0x80;
        put_raw(b, &byte, 1);
    } while (v);
}

static void put_tag(buf_t *b, uint32_t field, unsigned wt)
{
    put_varint(b, ((uint64_t)field << 3) | wt);
}

static void put_uint(buf_t *b, uint32_t field, uint64_t v)
{
    put_tag(b, field, WT_VARINT);
    put_varint(b, v);
}

/* int32 and enums are sign-extended to 64 bits on the wire. */
static void put_enum(buf_t *b, uint32_t field, int32_t v)
{
    put_uint(b, field, (uint64_t)(int64_t)v);
}

static void put_bytes(buf_t *b, uint32_t field, const void *p, size_t n)
{
    put_tag(b, field, WT_LEN);
    put_varint(b, n);
    put_raw(b, p, n);
}

/* ---------------------------------------------------------------------------------------------
 * A header described field by field; every optional field is present so each enum is reached.
 */
typedef struct {
    uint32_t omit;      /* field number left out */
    uint32_t raw_field; /* field number written as RAW instead */
    uint8_t raw[32];
    size_t raw_len;
    uint32_t schema_version;
    uint8_t msg_id[32];
    size_t msg_id_len;
    int32_t sender;
    int32_t recipients[40];
    size_t n_recipients;
    int32_t kind;
    uint8_t initials[8];
    size_t initials_len;
    size_t refers_to_len;
    int32_t subject_agency, override_reason, audience, escalation_event;
    int32_t sensitivity, lawful_basis;
    uint32_t level_of_need, escalation_stage;
} hspec_t;

static const char CASE_REF[] = "LA7-2026-000123";

static void spec_base(hspec_t *h)
{
    memset(h, 0, sizeof *h);
    h->schema_version = 1;
    h->msg_id_len = 16;
    for (size_t i = 0; i < sizeof h->msg_id; i++)
        h->msg_id[i] = (uint8_t)(0xa0 + i);
    h->sender = TACNET__AGENCY__SCHOOL;
    h->recipients[0] = TACNET__AGENCY__CAMHS;
    h->recipients[1] = TACNET__AGENCY__SOCIAL_CARE;
    h->n_recipients = 2;
    h->kind = TACNET__EVENT_KIND__ASSESSMENT;
    memcpy(h->initials, "JQ", 2);
    h->initials_len = 2;
    h->sensitivity = TACNET__SENSITIVITY__SAFEGUARDING;
    h->lawful_basis = TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE;
    h->refers_to_len = 16;
    h->subject_agency = TACNET__AGENCY__HEALTH_VISITING;
    h->level_of_need = 3;
    h->override_reason = TACNET__OVERRIDE_REASON__RISK_OF_SIGNIFICANT_HARM;
    h->escalation_stage = 2;
    h->audience = TACNET__ROLE__DSL;
    h->escalation_event = TACNET__ESCALATION_EVENT__ESC_ADVANCED;
}

static void spec_raw(hspec_t *h, uint32_t field, const uint8_t *raw, size_t len)
{
    cr_assert_leq(len, sizeof h->raw);
    h->raw_field = field;
    memcpy(h->raw, raw, len);
    h->raw_len = len;
}

static void spec_encode(const hspec_t *h, buf_t *b)
{
    static const uint8_t refers[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    memset(b, 0, sizeof *b);
    for (uint32_t f = 1; f <= 22; f++) {
        if (f == h->omit)
            continue;
        if (f == h->raw_field) {
            put_raw(b, h->raw, h->raw_len);
            continue;
        }
        switch (f) {
        case 1:
            put_uint(b, f, h->schema_version);
            break;
        case 2:
            put_bytes(b, f, h->msg_id, h->msg_id_len);
            break;
        case 3:
            put_enum(b, f, h->sender);
            break;
        case 4:
            for (size_t i = 0; i < h->n_recipients; i++)
                put_enum(b, f, h->recipients[i]);
            break;
        case 5:
            put_enum(b, f, h->kind);
            break;
        case 6:
            put_bytes(b, f, CASE_REF, strlen(CASE_REF));
            break;
        case 7:
            put_bytes(b, f, h->initials, h->initials_len);
            break;
        case 8:
            put_uint(b, f, 42);
            break;
        case 9:
            put_uint(b, f, 1795000000000ull);
            break;
        case 10:
            put_uint(b, f, 7);
            break;
        case 11:
            put_uint(b, f, 3);
            break;
        case 12:
            put_enum(b, f, h->sensitivity);
            break;
        case 13:
            put_enum(b, f, h->lawful_basis);
            break;
        case 14:
            put_bytes(b, f, refers, h->refers_to_len);
            break;
        case 15:
            put_enum(b, f, h->subject_agency);
            break;
        case 16:
            put_uint(b, f, h->level_of_need);
            break;
        case 17:
            put_uint(b, f, 1);
            break;
        case 18:
            put_enum(b, f, h->override_reason);
            break;
        case 19:
            put_uint(b, f, h->escalation_stage);
            break;
        case 20:
            put_uint(b, f, 1795000600000ull);
            break;
        case 21:
            put_enum(b, f, h->audience);
            break;
        case 22:
            put_enum(b, f, h->escalation_event);
            break;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * The malformed cases.
 */
#define RAW(h, field, ...)                                   \
    spec_raw((h), (field), (const uint8_t[]){ __VA_ARGS__ }, \
             sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void m_empty(buf_t *b)
{
    b->n = 0;
}
static void m_oversize(buf_t *b)
{
    b->n = WIRE_MAX_HEADER + 1;
}
static void m_truncated_varint(buf_t *b)
{
    put_raw(b, (const uint8_t[]){ 0x40, 0x80 }, 2);
}
static void m_cut_in_half(buf_t *b)
{
    b->n /= 2;
}
static void m_bad_wire_type(buf_t *b)
{
    put_tag(b, 23, WT_BAD);
    put_raw(b, (const uint8_t[]){ 0 }, 1);
}
static void m_start_group(buf_t *b)
{
    put_tag(b, 23, WT_SGROUP);
}
static void m_field_zero(buf_t *b)
{
    put_raw(b, (const uint8_t[]){ 0x00, 0x01 }, 2);
}
static void m_dup_schema_version(buf_t *b)
{
    put_uint(b, 1, 2);
}
static void m_dup_msg_id(buf_t *b)
{
    put_bytes(b, 2, "BBBBBBBBBBBBBBBB", 16);
}
static void m_dup_kind(buf_t *b)
{
    put_enum(b, 5, TACNET__EVENT_KIND__REFERRAL);
}
static void m_unknown_field_31(buf_t *b)
{
    put_uint(b, 31, 1); /* the first reserved number */
}
/* resolution_accepted (30) belongs to an escalation acknowledgement only. */
static void m_resolution_accepted(buf_t *b)
{
    put_uint(b, 30, 0);
}
/* The partnership report's clear fields, appended in field order. */
#define APPEND_UINT(name, field, value) \
    static void name(buf_t *b)          \
    {                                   \
        put_uint(b, field, value);      \
    }
APPEND_UINT(m_rung_5, 27, 5)
APPEND_UINT(m_rung_0, 27, 0)
APPEND_UINT(m_rung_10, 27, 10)
APPEND_UINT(m_by_family, 28, 1)
APPEND_UINT(m_review_date, 29, 20260301)
APPEND_UINT(m_review_not_a_date, 29, 20260231)
static void s_kind_rating(hspec_t *h)
{
    h->kind = TACNET__EVENT_KIND__PARTNERSHIP_RATING;
}
static void s_kind_plan(hspec_t *h)
{
    h->kind = TACNET__EVENT_KIND__CARE_PLAN;
}
static void m_unknown_field_63_len(buf_t *b)
{
    put_bytes(b, 63, "Jane", 4);
}
static void m_unknown_field_1000(buf_t *b)
{
    put_tag(b, 1000, WT_I64);
    put_raw(b, "\0\0\0\0\0\0\0\0", 8);
}
static void m_schema_version_last(buf_t *b)
{
    put_uint(b, 1, 1);
}

static void s_wrong_type_schema(hspec_t *h)
{
    RAW(h, 1, 0x0a, 0x01, 0x01);
}
static void s_wrong_type_msg_id(hspec_t *h)
{
    RAW(h, 2, 0x10, 0x05);
}
static void s_wrong_type_sender(hspec_t *h)
{
    RAW(h, 3, 0x1d, 0x02, 0x00, 0x00, 0x00);
}
static void s_varint_11_bytes(hspec_t *h)
{
    RAW(h, 8, 0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
}
static void s_length_8mib(hspec_t *h)
{
    RAW(h, 6, 0x32, 0x80, 0x80, 0x80, 0x04, 'L', 'A', '7');
}
static void s_nonminimal_varint(hspec_t *h)
{
    RAW(h, 8, 0x40, 0xaa, 0x00); /* 42 in two bytes */
}
static void s_nonminimal_length(hspec_t *h)
{
    RAW(h, 7, 0x3a, 0x82, 0x00, 'J', 'Q');
}
static void s_packed_recipients(hspec_t *h)
{
    RAW(h, 4, 0x22, 0x02, 0x01, 0x04); /* same size as two unpacked entries */
}
static void s_urgent_as_two(hspec_t *h)
{
    RAW(h, 17, 0x88, 0x01, 0x02);
}
static void s_enum_not_sign_extended(hspec_t *h)
{
    RAW(h, 3, 0x18, 0xff, 0xff, 0xff, 0xff, 0x0f);
}
static void s_omit_schema_version(hspec_t *h)
{
    h->omit = 1;
}
static void s_omit_msg_id(hspec_t *h)
{
    h->omit = 2;
}
static void s_omit_kind(hspec_t *h)
{
    h->omit = 5;
}
static void s_omit_initials(hspec_t *h)
{
    h->omit = 7;
}
static void s_omit_lawful_basis(hspec_t *h)
{
    h->omit = 13;
}
static void s_sender_6(hspec_t *h)
{
    h->sender = 6;
}
static void s_sender_negative(hspec_t *h)
{
    h->sender = -1;
}
static void s_recipient_9(hspec_t *h)
{
    h->recipients[1] = 9;
}
static void s_kind_reserved(hspec_t *h)
{
    h->kind = 30;
}
static void s_sensitivity_4(hspec_t *h)
{
    h->sensitivity = 4;
}
static void s_lawful_basis_5(hspec_t *h)
{
    h->lawful_basis = 5; /* one past DIRECT_CARE */
}
static void s_subject_agency_7(hspec_t *h)
{
    h->subject_agency = 7;
}
static void s_override_reason_5(hspec_t *h)
{
    h->override_reason = 5;
}
static void s_audience_6(hspec_t *h)
{
    h->audience = 6;
}
static void s_escalation_event_5(hspec_t *h)
{
    h->escalation_event = 5;
}
static void s_msg_id_15(hspec_t *h)
{
    h->msg_id_len = 15;
}
static void s_msg_id_17(hspec_t *h)
{
    h->msg_id_len = 17;
}
static void s_msg_id_empty(hspec_t *h)
{
    h->msg_id_len = 0;
}
static void s_refers_to_15(hspec_t *h)
{
    h->refers_to_len = 15;
}
static void s_refers_to_empty(hspec_t *h)
{
    h->refers_to_len = 0;
}
static void s_recipients_duplicated(hspec_t *h)
{
    h->recipients[1] = h->recipients[0];
}
static void s_recipients_33(hspec_t *h)
{
    for (size_t i = 0; i < 33; i++)
        h->recipients[i] = (int32_t)(i % 5 + 1);
    h->n_recipients = 33;
}
static void s_recipients_none(hspec_t *h)
{
    h->n_recipients = 0;
}
static void s_recipient_unknown(hspec_t *h)
{
    h->recipients[1] = TACNET__AGENCY__AGENCY_UNKNOWN;
}
static void s_kind_unknown(hspec_t *h)
{
    h->kind = TACNET__EVENT_KIND__KIND_UNKNOWN;
}
static void s_level_0(hspec_t *h)
{
    h->level_of_need = 0;
}
static void s_level_5(hspec_t *h)
{
    h->level_of_need = 5;
}
static void s_stage_5(hspec_t *h)
{
    h->escalation_stage = 5;
}

typedef struct {
    const char *name;
    void (*spec)(hspec_t *);
    void (*raw)(buf_t *);
    int expect;
} hcase_t;

static const hcase_t CASES[] = {
    { "empty input", NULL, m_empty, TACNET_EBADMSG },
    { "one byte over the cap", NULL, m_oversize, TACNET_ETOOBIG },
    { "truncated varint", NULL, m_truncated_varint, TACNET_EBADMSG },
    { "cut in half", NULL, m_cut_in_half, TACNET_EBADMSG },
    { "wire type 7", NULL, m_bad_wire_type, TACNET_EBADMSG },
    { "start-group wire type", NULL, m_start_group, TACNET_EBADMSG },
    { "field number 0", NULL, m_field_zero, TACNET_EBADMSG },
    { "schema_version as length-delimited", s_wrong_type_schema, NULL, TACNET_EBADMSG },
    { "msg_id as varint", s_wrong_type_msg_id, NULL, TACNET_EBADMSG },
    { "sender as fixed32", s_wrong_type_sender, NULL, TACNET_EBADMSG },
    { "varint of 11 bytes", s_varint_11_bytes, NULL, TACNET_EBADMSG },
    { "8 MiB length prefix", s_length_8mib, NULL, TACNET_EBADMSG },
    { "missing schema_version", s_omit_schema_version, NULL, TACNET_EBADMSG },
    { "missing msg_id", s_omit_msg_id, NULL, TACNET_EBADMSG },
    { "missing kind", s_omit_kind, NULL, TACNET_EBADMSG },
    { "missing initials", s_omit_initials, NULL, TACNET_EBADMSG },
    { "missing lawful_basis", s_omit_lawful_basis, NULL, TACNET_EBADMSG },
    { "duplicate schema_version", NULL, m_dup_schema_version, TACNET_ENONCANON },
    { "duplicate msg_id", NULL, m_dup_msg_id, TACNET_ENONCANON },
    { "duplicate kind", NULL, m_dup_kind, TACNET_ENONCANON },
    { "unknown field 31", NULL, m_unknown_field_31, TACNET_ENONCANON },
    { "resolution_accepted on a concern", NULL, m_resolution_accepted, TACNET_EFIELD },
    { "unknown field 63 with text", NULL, m_unknown_field_63_len, TACNET_ENONCANON },
    { "unknown field 1000", NULL, m_unknown_field_1000, TACNET_ENONCANON },
    { "non-minimal varint", s_nonminimal_varint, NULL, TACNET_ENONCANON },
    { "non-minimal length prefix", s_nonminimal_length, NULL, TACNET_ENONCANON },
    { "fields out of order", s_omit_schema_version, m_schema_version_last, TACNET_ENONCANON },
    { "packed recipients", s_packed_recipients, NULL, TACNET_ENONCANON },
    { "bool encoded as 2", s_urgent_as_two, NULL, TACNET_ENONCANON },
    { "enum not sign-extended", s_enum_not_sign_extended, NULL, TACNET_ENONCANON },
    { "sender 6", s_sender_6, NULL, TACNET_EENUM },
    { "sender -1", s_sender_negative, NULL, TACNET_EENUM },
    { "recipient 9", s_recipient_9, NULL, TACNET_EENUM },
    { "kind 30 (reserved range)", s_kind_reserved, NULL, TACNET_EENUM },
    { "sensitivity 4", s_sensitivity_4, NULL, TACNET_EENUM },
    { "lawful_basis 5", s_lawful_basis_5, NULL, TACNET_EENUM },
    { "subject_agency 7", s_subject_agency_7, NULL, TACNET_EENUM },
    { "override_reason 5", s_override_reason_5, NULL, TACNET_EENUM },
    { "audience 6", s_audience_6, NULL, TACNET_EENUM },
    { "escalation_event 5", s_escalation_event_5, NULL, TACNET_EENUM },
    { "msg_id of 15 bytes", s_msg_id_15, NULL, TACNET_EMSGID },
    { "msg_id of 17 bytes", s_msg_id_17, NULL, TACNET_EMSGID },
    { "empty msg_id", s_msg_id_empty, NULL, TACNET_EMSGID },
    { "refers_to of 15 bytes", s_refers_to_15, NULL, TACNET_EMSGID },
    { "empty refers_to", s_refers_to_empty, NULL, TACNET_EMSGID },
    { "kind unknown", s_kind_unknown, NULL, TACNET_EKIND },
    { "recipients duplicated", s_recipients_duplicated, NULL, TACNET_EFIELD },
    { "33 recipients", s_recipients_33, NULL, TACNET_EFIELD },
    { "no recipients", s_recipients_none, NULL, TACNET_EFIELD },
    { "recipient AGENCY_UNKNOWN", s_recipient_unknown, NULL, TACNET_EFIELD },
    { "level_of_need 0", s_level_0, NULL, TACNET_EFIELD },
    { "level_of_need 5", s_level_5, NULL, TACNET_EFIELD },
    { "escalation_stage 5", s_stage_5, NULL, TACNET_EFIELD },
    { "ladder_rung on a concern", NULL, m_rung_5, TACNET_EFIELD },
    { "ladder_rung 0", s_kind_rating, m_rung_0, TACNET_EFIELD },
    { "ladder_rung 10", s_kind_rating, m_rung_10, TACNET_EFIELD },
    { "rated_by_family on a concern", NULL, m_by_family, TACNET_EFIELD },
    { "review_due_date on a concern", NULL, m_review_date, TACNET_EFIELD },
    { "review_due_date 31 February", s_kind_plan, m_review_not_a_date, TACNET_EFIELD },
};

Test(wire, the_partnership_reports_clear_fields_pass_on_their_kinds)
{
    struct {
        void (*spec)(hspec_t *);
        void (*raw)(buf_t *);
    } ok[] = { { s_kind_rating, m_rung_5 }, { s_kind_plan, m_review_date } };
    for (size_t i = 0; i < 2; i++) {
        hspec_t h;
        buf_t b;
        int err = 0;
        spec_base(&h);
        ok[i].spec(&h);
        spec_encode(&h, &b);
        ok[i].raw(&b);
        Tacnet__Header *hdr = wire_header_unpack(b.b, b.n, &err);
        cr_assert_not_null(hdr, "case %zu: %s", i, tacnet_errname(err));
        cr_expect(i == 0 ? hdr->has_ladder_rung && hdr->ladder_rung == 5
                         : hdr->has_review_due_date && hdr->review_due_date == 20260301);
        wire_free(&hdr->base);
    }
}

Test(wire, every_malformed_header_is_rejected_with_its_code)
{
    size_t n = sizeof CASES / sizeof CASES[0];
    cr_assert_geq(n, 30);
    for (size_t i = 0; i < n; i++) {
        hspec_t h;
        buf_t b;
        int err = 0;
        spec_base(&h);
        if (CASES[i].spec)
            CASES[i].spec(&h);
        spec_encode(&h, &b);
        if (CASES[i].raw)
            CASES[i].raw(&b);
        Tacnet__Header *hdr = wire_header_unpack(b.b, b.n, &err);
        cr_expect_null(hdr, "case '%s' was accepted", CASES[i].name);
        cr_expect_eq(err, CASES[i].expect, "case '%s': got %s, want %s", CASES[i].name,
                     tacnet_errname(err), tacnet_errname(CASES[i].expect));
        wire_free(hdr ? &hdr->base : NULL);
    }
}

Test(wire, valid_header_is_accepted_and_matches_protobuf_c_encoding)
{
    hspec_t h;
    buf_t b;
    int err = -1;
    spec_base(&h);
    spec_encode(&h, &b);
    Tacnet__Header *hdr = wire_header_unpack(b.b, b.n, &err);
    cr_assert_not_null(hdr, "valid header refused: %s", tacnet_errname(err));
    cr_assert_eq(hdr->msg_id.len, 16);
    cr_assert_eq(memcmp(hdr->msg_id.data, h.msg_id, 16), 0);
    cr_assert_eq(hdr->sender, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(hdr->n_recipients, 2);
    cr_assert_eq(hdr->recipients[1], TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(hdr->sender_seq, 42);
    cr_assert(hdr->has_level_of_need);
    cr_assert_eq(hdr->level_of_need, 3);
    cr_assert_eq(hdr->case_ref.len, strlen(CASE_REF));
    /* the hand encoder is the canonical encoding: protobuf-c packs the same bytes */
    size_t len = 0;
    uint8_t *packed = wire_pack(&hdr->base, &len);
    cr_assert_eq(len, b.n);
    cr_assert_eq(memcmp(packed, b.b, len), 0);
    free(packed);
    wire_free(&hdr->base);
}

Test(wire, header_without_optional_fields_is_accepted)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    Tacnet__Agency rcpt[1] = { TACNET__AGENCY__CAMHS };
    uint8_t id[16] = { 9 };
    h.schema_version = 1;
    h.msg_id.data = id;
    h.msg_id.len = sizeof id;
    h.sender = TACNET__AGENCY__SOCIAL_CARE;
    h.n_recipients = 1;
    h.recipients = rcpt;
    h.kind = TACNET__EVENT_KIND__CONCERN;
    h.case_ref.data = (uint8_t *)CASE_REF;
    h.case_ref.len = strlen(CASE_REF);
    h.initials.data = (uint8_t *)"KT";
    h.initials.len = 2;
    h.sensitivity = TACNET__SENSITIVITY__ROUTINE;
    h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    size_t len = 0;
    int err = -1;
    uint8_t *packed = wire_pack(&h.base, &len);
    Tacnet__Header *got = wire_header_unpack(packed, len, &err);
    cr_assert_not_null(got, "refused: %s", tacnet_errname(err));
    cr_assert_not(got->has_refers_to);
    cr_assert_eq(got->kind, TACNET__EVENT_KIND__CONCERN);
    wire_free(&got->base);
    free(packed);
}

Test(wire, embedded_nul_in_initials_survives_for_the_policy_check)
{
    hspec_t h;
    buf_t b;
    int err = -1;
    spec_base(&h);
    memcpy(h.initials, "AB\0X", 4);
    h.initials_len = 4;
    spec_encode(&h, &b);
    Tacnet__Header *hdr = wire_header_unpack(b.b, b.n, &err);
    cr_assert_not_null(hdr, "refused: %s", tacnet_errname(err));
    cr_assert_eq(hdr->initials.len, 4);
    cr_assert_eq(memcmp(hdr->initials.data, "AB\0X", 4), 0);
    wire_free(&hdr->base);
}

Test(wire, decoding_over_budget_is_refused)
{
    hspec_t h;
    buf_t b;
    int err = 0;
    spec_base(&h);
    spec_encode(&h, &b);
    ProtobufCMessage *m = wire_unpack(&tacnet__header__descriptor, b.b, b.n, 64, 1, &err);
    cr_assert_null(m);
    cr_assert_eq(err, TACNET_EBUDGET);
    m = wire_unpack(&tacnet__header__descriptor, b.b, b.n, 0, 1, &err);
    cr_assert_not_null(m);
    wire_free(m);
}

Test(wire, non_canonical_input_passes_only_when_not_asked_to_check)
{
    hspec_t h;
    buf_t b;
    int err = 0;
    spec_base(&h);
    spec_encode(&h, &b);
    m_dup_kind(&b);
    ProtobufCMessage *m = wire_unpack(&tacnet__header__descriptor, b.b, b.n, 0, 0, &err);
    cr_assert_not_null(m);
    cr_assert_eq(((Tacnet__Header *)m)->kind, TACNET__EVENT_KIND__REFERRAL, "last value wins");
    wire_free(m);
    m = wire_unpack(&tacnet__header__descriptor, b.b, b.n, 0, 1, &err);
    cr_assert_null(m);
    cr_assert_eq(err, TACNET_ENONCANON);
}

Test(wire, msgid_hex_is_lowercase)
{
    uint8_t id[16] = { 0x00, 0x01, 0xab, 0xff };
    char out[33];
    wire_msgid_hex(id, sizeof id, out);
    cr_assert_str_eq(out, "0001abff000000000000000000000000");
}

Test(wire, msgid_new_orders_by_time_then_random)
{
    /* The first 6 bytes are the creation time in ms, big-endian, so ids made later sort later
     * (the broker's and the views' msg_id indexes grow at their right edge); the other 10 are
     * random, so two ids made in the same millisecond still differ. */
    uint8_t a[16], b[16];
    uint64_t before = clock_now_ms();
    wire_msgid_new(a);
    wire_msgid_new(b);
    uint64_t after = clock_now_ms();
    uint64_t ta = 0, tb = 0;
    for (int i = 0; i < 6; i++) {
        ta = ta << 8 | a[i];
        tb = tb << 8 | b[i];
    }
    cr_assert_geq(ta, before);
    cr_assert_leq(tb, after);
    cr_assert_leq(ta, tb);
    cr_assert_neq(memcmp(a + 6, b + 6, 10), 0);
    /* A thousand in a row never go backwards. */
    uint8_t prev[16];
    memcpy(prev, b, 16);
    for (int i = 0; i < 1000; i++) {
        uint8_t c[16];
        wire_msgid_new(c);
        cr_assert_geq(memcmp(c, prev, 6), 0);
        memcpy(prev, c, 16);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Frames over a real DEALER <-> ROUTER pair.
 */
typedef struct {
    void *ctx, *router, *dealer;
} pair_t;

static void s_opts(void *sock)
{
    int timeout = 2000, linger = 0;
    cr_assert_eq(zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    cr_assert_eq(zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger), 0);
}

static void pair_open(pair_t *p, const char *endpoint)
{
    int one = 1;
    p->ctx = zmq_ctx_new();
    p->router = zmq_socket(p->ctx, ZMQ_ROUTER);
    p->dealer = zmq_socket(p->ctx, ZMQ_DEALER);
    s_opts(p->router);
    s_opts(p->dealer);
    cr_assert_eq(zmq_setsockopt(p->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one), 0);
    cr_assert_eq(zmq_bind(p->router, endpoint), 0);
    char bound[256];
    size_t len = sizeof bound;
    cr_assert_eq(zmq_getsockopt(p->router, ZMQ_LAST_ENDPOINT, bound, &len), 0);
    cr_assert_eq(zmq_connect(p->dealer, bound), 0);
}

static void pair_close(pair_t *p)
{
    zmq_close(p->dealer);
    zmq_close(p->router);
    zmq_ctx_term(p->ctx);
}

static const uint8_t SIG[SEAL_SIG_BYTES] = { 0x5a, 0xa5 };

/* The one frame of a message of N parts, laid out here apart from wire.c (common/wire.h): parts
 * 0 (protocol id) and 1 (command byte) as they are, parts 2 to 4 each after its u32
 * little-endian length, part 5 (the signature) as it is. Malloc'd, *LEN its length. */
static uint8_t *s_frame(const char *const *parts, const size_t *lens, size_t n, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i] + (i >= 2 && i <= 4 ? 4 : 0);
    uint8_t *out = malloc(total + 1), *p = out;
    cr_assert_not_null(out);
    for (size_t i = 0; i < n; i++) {
        if (i >= 2 && i <= 4) {
            for (int k = 0; k < 4; k++)
                *p++ = (uint8_t)(lens[i] >> (8 * k));
        }
        memcpy(p, parts[i], lens[i]);
        p += lens[i];
    }
    *len = total;
    return out;
}

/* A message built part by part in one frame, to send what wire_send refuses to. */
static void s_raw_send(void *sock, const char *const *parts, const size_t *lens, size_t n)
{
    size_t len;
    uint8_t *frame = s_frame(parts, lens, n, &len);
    cr_assert_geq(zmq_send(sock, frame, len, 0), 0);
    free(frame);
}

/* N ZeroMQ frames as they are. */
static void s_zmq_send(void *sock, const char *const *frames, const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_geq(zmq_send(sock, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0), 0);
}

static void s_send_ping(void *dealer, uint64_t epoch)
{
    Tacnet__Ping ping = TACNET__PING__INIT;
    ping.has_epoch = 1;
    ping.epoch = epoch;
    cr_assert_eq(wire_send(dealer, NULL, 0, WIRE_PING, &ping.base, NULL, 0, NULL, 0, NULL), 0);
}

static void s_expect_ping(void *router, uint64_t epoch)
{
    wire_msg_t msg;
    int err = 0;
    cr_assert_eq(wire_recv(router, 1, 0, &msg), 0, "good message after a bad one lost");
    cr_assert_eq(msg.cmd, WIRE_PING);
    Tacnet__Ping *ping = (Tacnet__Ping *)wire_ctl_unpack(msg.cmd, msg.ctl, msg.ctl_len, &err);
    cr_assert_not_null(ping);
    cr_assert_eq(ping->epoch, epoch);
    wire_free(&ping->base);
    wire_msg_clear(&msg);
}

/* The F2 command header we send for CMD; returns the packed bytes to compare. */
static uint8_t *s_ctl_for(uint8_t cmd, size_t *len)
{
    static const uint8_t id[16] = { 7, 7, 7 };
    switch (cmd) {
    case WIRE_HELLO: {
        Tacnet__Hello m = TACNET__HELLO__INIT;
        m.last_applied_seq = 1001;
        m.credit = 64;
        return wire_pack(&m.base, len);
    }
    case WIRE_WELCOME: {
        Tacnet__Welcome m = TACNET__WELCOME__INIT;
        m.epoch = 0x1122334455667788ull;
        m.head_seq = 5000;
        return wire_pack(&m.base, len);
    }
    case WIRE_PUBLISH: {
        Tacnet__Publish m = TACNET__PUBLISH__INIT;
        return wire_pack(&m.base, len);
    }
    case WIRE_PUBACK: {
        Tacnet__Puback m = TACNET__PUBACK__INIT;
        m.msg_id.data = (uint8_t *)id;
        m.msg_id.len = sizeof id;
        m.seq = 77;
        return wire_pack(&m.base, len);
    }
    case WIRE_DELIVER: {
        Tacnet__Deliver m = TACNET__DELIVER__INIT;
        m.seq = 78;
        m.prev_seq = 70;
        return wire_pack(&m.base, len);
    }
    case WIRE_ACK: {
        Tacnet__Ack m = TACNET__ACK__INIT;
        m.upto_seq = 78;
        return wire_pack(&m.base, len);
    }
    case WIRE_PING:
    case WIRE_PONG: {
        Tacnet__Pong m = TACNET__PONG__INIT;
        m.epoch = 99;
        return wire_pack(&m.base, len);
    }
    default: {
        Tacnet__Nack m = TACNET__NACK__INIT;
        m.code = TACNET_EREPLAY;
        m.reason = (char *)"replay";
        return wire_pack(&m.base, len);
    }
    }
}

static void s_roundtrip(void *from, void *to, int to_is_router, const uint8_t *rid, size_t rid_len,
                        uint8_t cmd, wire_msg_t *got)
{
    static const uint8_t header[] = { 0x08, 0x01 }, sealed[] = { 1, 2, 3, 4, 5 };
    size_t ctl_len = 0;
    uint8_t *ctl = s_ctl_for(cmd, &ctl_len);
    int err = 0;
    ProtobufCMessage *m = wire_ctl_unpack(cmd, ctl, ctl_len, &err);
    cr_assert_not_null(m, "command %d: own ctl refused: %s", cmd, tacnet_errname(err));
    int event = cmd == WIRE_PUBLISH || cmd == WIRE_DELIVER;
    cr_assert_eq(wire_send(from, rid, rid_len, cmd, m, event ? header : NULL,
                           event ? sizeof header : 0, event ? sealed : NULL,
                           event ? sizeof sealed : 0, event ? SIG : NULL),
                 0, "command %d not sent", cmd);
    wire_free(m);
    cr_assert_eq(wire_recv(to, to_is_router, 0, got), 0, "command %d not received", cmd);
    /* Moved by value as the broker's batch does, the old copy wiped: the parts must not point
     * into the struct (libzmq keeps a small message inside its zmq_msg_t). */
    wire_msg_t moved = *got;
    memset(got, 0xa5, sizeof *got);
    *got = moved;
    memset(&moved, 0, sizeof moved);
    cr_assert_eq(got->cmd, cmd);
    cr_assert_str_eq(got->user_id, "");
    cr_assert_eq(got->ctl_len, ctl_len);
    cr_assert_eq(memcmp(got->ctl, ctl, ctl_len), 0);
    if (event) {
        cr_assert_eq(got->header_len, sizeof header);
        cr_assert_eq(memcmp(got->header, header, sizeof header), 0);
        cr_assert_eq(got->sealed_len, sizeof sealed);
        cr_assert_eq(memcmp(got->sealed, sealed, sizeof sealed), 0);
        cr_assert_eq(got->sig_len, SEAL_SIG_BYTES);
        cr_assert_eq(memcmp(got->sig, SIG, SEAL_SIG_BYTES), 0);
    } else {
        cr_assert_null(got->header);
        cr_assert_null(got->sig);
    }
    free(ctl);
}

Test(wire, every_command_round_trips_both_ways)
{
    pair_t p;
    pair_open(&p, "inproc://wire-roundtrip");
    for (uint8_t cmd = WIRE_HELLO; cmd <= WIRE_ERROR; cmd++) {
        wire_msg_t up, down;
        s_roundtrip(p.dealer, p.router, 1, NULL, 0, cmd, &up);
        cr_assert_gt(up.rid_len, 0, "router side must see a routing id");
        s_roundtrip(p.router, p.dealer, 0, up.rid, up.rid_len, cmd, &down);
        cr_assert_eq(down.rid_len, 0);
        wire_msg_clear(&up);
        wire_msg_clear(&down);
    }
    pair_close(&p);
}

Test(wire, wrong_frame_counts_are_rejected_and_drained)
{
    pair_t p;
    wire_msg_t msg;
    pair_open(&p, "tcp://127.0.0.1:*");
    const char hello = WIRE_HELLO, publish = WIRE_PUBLISH, ping = WIRE_PING;
    /* bytes after the last part */
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &hello, "", "extra" },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0, 5 }, 4);
    /* a PUBLISH cut after its command header */
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &publish, "" },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0 }, 3);
    /* no command header length at all */
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &hello },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1 }, 2);
    /* a good PING, then a second ZeroMQ frame */
    size_t len;
    uint8_t *good = s_frame((const char *const[]){ WIRE_PROTOCOL, &ping, "" },
                            (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0 }, 3, &len);
    s_zmq_send(p.dealer, (const char *const[]){ (const char *)good, "x" },
               (const size_t[]){ len, 1 }, 2);
    free(good);
    /* the parts each in a ZeroMQ frame of their own, as TACN01 sent them */
    s_zmq_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &ping, "" },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0 }, 3);
    /* an empty frame */
    s_zmq_send(p.dealer, (const char *const[]){ "" }, (const size_t[]){ 0 }, 1);
    s_send_ping(p.dealer, 11);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(wire_recv(p.router, 1, 0, &msg), TACNET_EFRAMES, "bad message %d", i);
        cr_assert_gt(msg.rid_len, 0, "routing id kept to answer a NACK");
        cr_assert_null(msg.frame, "a refused message's frame is let go");
        cr_assert_null(msg.ctl);
        wire_msg_clear(&msg);
    }
    s_expect_ping(p.router, 11);
    pair_close(&p);
}

Test(wire, wrong_protocol_id_and_command_byte_are_rejected_and_drained)
{
    pair_t p;
    wire_msg_t msg;
    pair_open(&p, "inproc://wire-proto");
    const char hello = WIRE_HELLO, zero = 0, unknown = WIRE_DELIVERS + 1;
    /* the protocol before one frame per message, in one frame and in its own six */
    s_raw_send(p.dealer, (const char *const[]){ "TACN01", &hello, "" }, (const size_t[]){ 6, 1, 0 },
               3);
    s_zmq_send(p.dealer, (const char *const[]){ "TACN01", &hello, "" }, (const size_t[]){ 6, 1, 0 },
               3);
    s_raw_send(p.dealer, (const char *const[]){ "TACN03", &hello, "" }, (const size_t[]){ 6, 1, 0 },
               3);
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL "\0", &hello, "" },
               (const size_t[]){ WIRE_PROTOCOL_LEN + 1, 1, 0 }, 3);
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &zero, "" },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0 }, 3);
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &unknown, "" },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0 }, 3);
    /* the protocol id alone, and cut short */
    s_zmq_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL },
               (const size_t[]){ WIRE_PROTOCOL_LEN }, 1);
    s_zmq_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL },
               (const size_t[]){ WIRE_PROTOCOL_LEN - 1 }, 1);
    s_send_ping(p.dealer, 12);
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(wire_recv(p.router, 1, 0, &msg), TACNET_EFRAMES, "bad message %d", i);
        wire_msg_clear(&msg);
    }
    s_expect_ping(p.router, 12);
    pair_close(&p);
}

Test(wire, oversize_parts_and_short_signature_are_rejected_and_drained)
{
    pair_t p;
    wire_msg_t msg;
    static char big[WIRE_MAX_SEALED + 1];
    static char sig[MERKLE_FRAME_MAX + MERKLE_HASH_BYTES];
    pair_open(&p, "inproc://wire-size");
    const char ack = WIRE_ACK, publish = WIRE_PUBLISH;
    const char *const pub[] = { WIRE_PROTOCOL, &publish, "", "h", "x", sig };
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &ack, big },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, WIRE_MAX_CTL + 1 }, 3);
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &publish, "", big, "x", sig },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0, WIRE_MAX_HEADER + 1, 1, SEAL_SIG_BYTES },
               6);
    s_raw_send(p.dealer, (const char *const[]){ WIRE_PROTOCOL, &publish, "", "h", big, sig },
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0, 1, WIRE_MAX_SEALED + 1, SEAL_SIG_BYTES },
               6);
    s_raw_send(
        p.dealer, pub,
        (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0, 1, 1, MERKLE_FRAME_MAX + MERKLE_HASH_BYTES }, 6);
    s_raw_send(p.dealer, pub, (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0, 1, 1, SEAL_SIG_BYTES - 1 },
               6);
    /* Between a single signature and a batched one, or not whole sibling hashes. */
    s_raw_send(p.dealer, pub, (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0, 1, 1, SEAL_SIG_BYTES + 1 },
               6);
    s_raw_send(p.dealer, pub,
               (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0, 1, 1, MERKLE_FIXED_BYTES + 1 }, 6);
    /* no signature at all */
    s_raw_send(p.dealer, pub, (const size_t[]){ WIRE_PROTOCOL_LEN, 1, 0, 1, 1 }, 5);
    s_send_ping(p.dealer, 13);
    static const int expect[] = { TACNET_ETOOBIG, TACNET_ETOOBIG, TACNET_ETOOBIG, TACNET_ETOOBIG,
                                  TACNET_EBADMSG, TACNET_EBADMSG, TACNET_EBADMSG, TACNET_EBADMSG };
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(wire_recv(p.router, 1, 0, &msg), expect[i], "bad message %d", i);
        wire_msg_clear(&msg);
    }
    s_expect_ping(p.router, 13);
    pair_close(&p);
}

/* The decoder alone: a length prefix claiming more than follows, under and over its cap. */
Test(wire, a_length_past_the_end_is_eframing_and_over_its_cap_etoobig)
{
    wire_msg_t m;
    memset(&m, 0, sizeof m);
    uint8_t f[64];
    memcpy(f, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
    f[WIRE_PROTOCOL_LEN] = WIRE_PUBLISH;
    uint8_t *q = f + WIRE_PROTOCOL_LEN + 1;
    struct {
        uint32_t ctl, header;
        int want;
    } rows[] = {
        { 5, 0, TACNET_EFRAMES },                   /* ctl of 5, 4 bytes follow */
        { WIRE_MAX_CTL + 1, 0, TACNET_ETOOBIG },    /* ctl over its cap */
        { 0, 2000, TACNET_EFRAMES },                /* header of 2,000, 4 follow */
        { 0, WIRE_MAX_HEADER + 1, TACNET_ETOOBIG }, /* header over its cap */
        { 0, UINT32_MAX, TACNET_ETOOBIG },          /* no wrap-around */
        { UINT32_MAX, 0, TACNET_ETOOBIG },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        memset(q, 0, 16);
        for (int k = 0; k < 4; k++) {
            q[k] = (uint8_t)(rows[i].ctl >> (8 * k));
            q[4 + k] = (uint8_t)(rows[i].header >> (8 * k));
        }
        size_t len = (size_t)(q - f) + 12;
        cr_assert_eq(wire_decode(f, len, &m), rows[i].want, "row %zu", i);
        cr_assert_null(m.ctl, "row %zu: parts unset on error", i);
        cr_assert_null(m.header);
    }
    cr_assert_eq(wire_decode(NULL, 0, &m), TACNET_EFRAMES);
}

/* Every cut of a valid message is refused, and so is one more byte; the whole decodes to its
 * parts, pointing into the frame. */
Test(wire, every_cut_of_a_message_is_refused)
{
    static const char header[] = "\x08\x01", sealed[] = "sealed body";
    const char publish = WIRE_PUBLISH, hello = WIRE_HELLO;
    const char *const pub[] = { WIRE_PROTOCOL, &publish, "\x08\x05",
                                header,        sealed,   (const char *)SIG };
    const size_t plens[] = { WIRE_PROTOCOL_LEN, 1, 2, 2, sizeof sealed - 1, SEAL_SIG_BYTES };
    const char *const hel[] = { WIRE_PROTOCOL, &hello, "\x08\x05" };
    const size_t hlens[] = { WIRE_PROTOCOL_LEN, 1, 2 };
    for (int which = 0; which < 2; which++) {
        size_t len;
        uint8_t *f = which ? s_frame(hel, hlens, 3, &len) : s_frame(pub, plens, 6, &len);
        wire_msg_t m;
        memset(&m, 0, sizeof m);
        cr_assert_eq(wire_decode(f, len, &m), 0);
        cr_assert_eq(m.cmd, which ? WIRE_HELLO : WIRE_PUBLISH);
        cr_assert_eq(m.ctl, f + WIRE_FIXED_BYTES, "the parts point into the frame");
        cr_assert_eq(m.ctl_len, 2);
        if (!which) {
            cr_assert_eq(m.header_len, 2);
            cr_assert_eq(memcmp(m.header, header, 2), 0);
            cr_assert_eq(m.sealed_len, sizeof sealed - 1);
            cr_assert_eq(memcmp(m.sealed, sealed, m.sealed_len), 0);
            cr_assert_eq(m.sig_len, SEAL_SIG_BYTES);
            cr_assert_eq(memcmp(m.sig, SIG, SEAL_SIG_BYTES), 0);
        } else {
            cr_assert_null(m.header);
            cr_assert_null(m.sealed);
            cr_assert_null(m.sig);
        }
        for (size_t cut = 0; cut < len; cut++) {
            int rc = wire_decode(f, cut, &m);
            /* inside the signature it is the signature's length that is wrong */
            int want = !which && cut >= len - SEAL_SIG_BYTES ? TACNET_EBADMSG : TACNET_EFRAMES;
            cr_assert_eq(rc, want, "%s cut at %zu of %zu: %s", which ? "HELLO" : "PUBLISH", cut,
                         len, tacnet_errname(rc));
        }
        f[len] = 0;
        cr_assert_eq(wire_decode(f, len + 1, &m), which ? TACNET_EFRAMES : TACNET_EBADMSG);
        free(f);
    }
}

Test(wire, nothing_waiting_gives_eagain)
{
    pair_t p;
    wire_msg_t msg;
    pair_open(&p, "inproc://wire-eagain");
    cr_assert_eq(wire_recv(p.router, 1, ZMQ_DONTWAIT, &msg), TACNET_EAGAIN);
    wire_msg_clear(&msg);
    pair_close(&p);
}

Test(wire, a_terminated_context_gives_eio_never_an_errno)
{
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    s_opts(sock);
    cr_assert_eq(zmq_ctx_shutdown(ctx), 0);
    wire_msg_t msg;
    cr_assert_eq(wire_recv(sock, 0, ZMQ_DONTWAIT, &msg), TACNET_EIO);
    wire_msg_clear(&msg);
    cr_assert_eq(wire_send(sock, NULL, 0, WIRE_PING, NULL, NULL, 0, NULL, 0, NULL), TACNET_EIO);
    zmq_close(sock);
    zmq_ctx_term(ctx);
}

Test(wire, sending_to_a_gone_peer_sends_nothing)
{
    pair_t p;
    wire_msg_t msg;
    pair_open(&p, "inproc://wire-gone");
    s_send_ping(p.dealer, 1);
    s_expect_ping(p.router, 1);
    const uint8_t nobody[] = { 0, 'n', 'o', 'b', 'o', 'd', 'y' };
    cr_assert_eq(
        wire_send(p.router, nobody, sizeof nobody, WIRE_PONG, NULL, NULL, 0, NULL, 0, NULL),
        TACNET_EHOSTUNREACH);
    cr_assert_eq(wire_recv(p.dealer, 0, ZMQ_DONTWAIT, &msg), TACNET_EAGAIN);
    wire_msg_clear(&msg);
    /* a DEALER with no peer at all cannot queue */
    void *lonely = zmq_socket(p.ctx, ZMQ_DEALER);
    s_opts(lonely);
    cr_assert_eq(wire_send(lonely, NULL, 0, WIRE_PING, NULL, NULL, 0, NULL, 0, NULL),
                 TACNET_EAGAIN);
    zmq_close(lonely);
    pair_close(&p);
}

Test(wire, send_refuses_frames_that_do_not_fit_the_command)
{
    pair_t p;
    static uint8_t big[WIRE_MAX_HEADER + 1];
    pair_open(&p, "inproc://wire-misuse");
    cr_assert_eq(wire_send(p.dealer, NULL, 0, WIRE_PUBLISH, NULL, NULL, 0, NULL, 0, NULL),
                 TACNET_EINVAL);
    cr_assert_eq(wire_send(p.dealer, NULL, 0, WIRE_ACK, NULL, big, 1, NULL, 0, SIG), TACNET_EINVAL);
    cr_assert_eq(wire_send(p.dealer, NULL, 0, WIRE_REGRANT + 1, NULL, NULL, 0, NULL, 0, NULL),
                 TACNET_EINVAL);
    cr_assert_eq(wire_send(p.dealer, NULL, 0, WIRE_PUBLISH, NULL, big, sizeof big, NULL, 0, SIG),
                 TACNET_ETOOBIG);
    wire_msg_t msg;
    cr_assert_eq(wire_recv(p.router, 1, ZMQ_DONTWAIT, &msg), TACNET_EAGAIN, "nothing was sent");
    wire_msg_clear(&msg);
    pair_close(&p);
}

Test(wire, nack_carries_code_and_reason)
{
    pair_t p;
    wire_msg_t msg;
    int err = 0;
    const uint8_t id[16] = { 0xde, 0xad, 0xbe, 0xef };
    pair_open(&p, "inproc://wire-nack");
    s_send_ping(p.dealer, 2);
    cr_assert_eq(wire_recv(p.router, 1, 0, &msg), 0);
    cr_assert_eq(wire_send_nack(p.router, msg.rid, msg.rid_len, WIRE_NACK, id, sizeof id,
                                TACNET_ESIGNATURE, "key 3"),
                 0);
    wire_msg_clear(&msg);
    cr_assert_eq(wire_recv(p.dealer, 0, 0, &msg), 0);
    cr_assert_eq(msg.cmd, WIRE_NACK);
    Tacnet__Nack *nack = (Tacnet__Nack *)wire_ctl_unpack(msg.cmd, msg.ctl, msg.ctl_len, &err);
    cr_assert_not_null(nack, "%s", tacnet_errname(err));
    cr_assert_eq(nack->code, TACNET_ESIGNATURE);
    cr_assert_str_eq(nack->reason, "signature does not verify: key 3");
    cr_assert(nack->has_msg_id);
    cr_assert_eq(nack->msg_id.len, 16);
    cr_assert_eq(memcmp(nack->msg_id.data, id, 16), 0);
    wire_free(&nack->base);
    wire_msg_clear(&msg);
    pair_close(&p);
}

/* A ZAP handler answering in this thread: the ROUTER's User-Id is what ZAP said. */
Test(wire, user_id_comes_from_zap)
{
    pair_t p;
    wire_msg_t msg;
    char frames[8][64];
    int sizes[8];
    p.ctx = zmq_ctx_new();
    void *zap = zmq_socket(p.ctx, ZMQ_REP);
    s_opts(zap);
    cr_assert_eq(zmq_bind(zap, "inproc://zeromq.zap.01"), 0);
    p.router = zmq_socket(p.ctx, ZMQ_ROUTER);
    p.dealer = zmq_socket(p.ctx, ZMQ_DEALER);
    s_opts(p.router);
    s_opts(p.dealer);
    cr_assert_eq(zmq_setsockopt(p.router, ZMQ_ZAP_DOMAIN, "tacnet", 6), 0);
    cr_assert_eq(zmq_bind(p.router, "tcp://127.0.0.1:*"), 0);
    char bound[256];
    size_t len = sizeof bound;
    cr_assert_eq(zmq_getsockopt(p.router, ZMQ_LAST_ENDPOINT, bound, &len), 0);
    cr_assert_eq(zmq_connect(p.dealer, bound), 0);
    s_send_ping(p.dealer, 3);
    int n = 0, more = 1;
    while (more) {
        cr_assert_lt(n, 8);
        sizes[n] = zmq_recv(zap, frames[n], sizeof frames[n], 0);
        cr_assert_geq(sizes[n], 0, "no ZAP request");
        size_t more_len = sizeof more;
        zmq_getsockopt(zap, ZMQ_RCVMORE, &more, &more_len);
        n++;
    }
    cr_assert_geq(n, 6);
    zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(zap, frames[1], (size_t)sizes[1], ZMQ_SNDMORE);
    zmq_send(zap, "200", 3, ZMQ_SNDMORE);
    zmq_send(zap, "OK", 2, ZMQ_SNDMORE);
    zmq_send(zap, "camhs", 5, ZMQ_SNDMORE);
    zmq_send(zap, "", 0, 0);
    cr_assert_eq(wire_recv(p.router, 1, 0, &msg), 0);
    cr_assert_str_eq(msg.user_id, "camhs");
    wire_msg_clear(&msg);
    zmq_close(zap);
    pair_close(&p);
}

/* ---------------------------------------------------------------- DELIVERS */

/* A DELIVER's ctl for seq SEQ, packed by wire_batch_add from this. */
static void s_deliver_add(wire_batch_t *b, uint64_t seq, const char *header, const char *sealed,
                          size_t sig_len, int expect)
{
    static uint8_t sig[MERKLE_FRAME_MAX];
    memset(sig, (int)seq, sizeof sig);
    Tacnet__Deliver d = TACNET__DELIVER__INIT;
    d.seq = seq;
    d.prev_seq = seq - 1;
    cr_assert_eq(wire_batch_add(b, WIRE_DELIVER, &d.base, (const uint8_t *)header, strlen(header),
                                (const uint8_t *)sealed, strlen(sealed), sig, sig_len),
                 expect, "seq %llu", (unsigned long long)seq);
}

Test(wire, a_delivers_carries_each_deliver_exactly_as_sent_alone)
{
    pair_t p;
    pair_open(&p, "inproc://wire-delivers");
    wire_msg_t up, alone, batch, sub;
    /* The routing id, from a PING the broker side reads. */
    s_send_ping(p.dealer, 1);
    cr_assert_eq(wire_recv(p.router, 1, 0, &up), 0);
    wire_batch_t b = { 0 };
    const size_t sig_lens[3] = { SEAL_SIG_BYTES, MERKLE_FIXED_BYTES + 2 * MERKLE_HASH_BYTES,
                                 MERKLE_FIXED_BYTES };
    for (uint64_t seq = 1; seq <= 3; seq++)
        s_deliver_add(&b, seq, seq == 2 ? "header two" : "h", seq == 3 ? "" : "sealed body",
                      sig_lens[seq - 1], 0);
    cr_assert_eq(b.n, 3);
    cr_assert_eq(wire_batch_send(p.router, up.rid, up.rid_len, &b), 0);
    cr_assert_eq(b.n, 0, "sent: the batch is empty again");
    cr_assert_eq(wire_recv(p.dealer, 0, 0, &batch), 0);
    cr_assert_eq(batch.cmd, WIRE_DELIVERS);
    size_t off = 0;
    for (uint64_t seq = 1; seq <= 3; seq++) {
        memset(&sub, 0, sizeof sub);
        cr_assert_eq(wire_batch_next(&batch, &off, &sub), 1, "DELIVER %llu",
                     (unsigned long long)seq);
        /* The same DELIVER sent alone: the same parts. */
        wire_batch_t one = { 0 };
        s_deliver_add(&one, seq, seq == 2 ? "header two" : "h", seq == 3 ? "" : "sealed body",
                      sig_lens[seq - 1], 0);
        Tacnet__Deliver d = TACNET__DELIVER__INIT;
        d.seq = seq;
        d.prev_seq = seq - 1;
        static uint8_t sig[MERKLE_FRAME_MAX];
        memset(sig, (int)seq, sizeof sig);
        const char *h = seq == 2 ? "header two" : "h", *s = seq == 3 ? "" : "sealed body";
        cr_assert_eq(wire_send_sig(p.router, up.rid, up.rid_len, WIRE_DELIVER, &d.base,
                                   (const uint8_t *)h, strlen(h), (const uint8_t *)s, strlen(s),
                                   sig, sig_lens[seq - 1]),
                     0);
        cr_assert_eq(wire_recv(p.dealer, 0, 0, &alone), 0);
        cr_assert_eq(sub.cmd, WIRE_DELIVER);
        cr_assert_null(sub.frame, "a DELIVER out of a DELIVERS holds no frame of its own");
        cr_assert_eq(sub.ctl_len, alone.ctl_len);
        cr_assert_eq(memcmp(sub.ctl, alone.ctl, alone.ctl_len), 0);
        cr_assert_eq(sub.header_len, alone.header_len);
        cr_assert_eq(memcmp(sub.header, alone.header, alone.header_len), 0);
        cr_assert_eq(sub.sealed_len, alone.sealed_len);
        cr_assert_eq(memcmp(sub.sealed, alone.sealed, alone.sealed_len), 0);
        cr_assert_eq(sub.sig_len, sig_lens[seq - 1]);
        cr_assert_eq(memcmp(sub.sig, alone.sig, alone.sig_len), 0);
        wire_msg_clear(&alone);
        wire_batch_free(&one);
    }
    cr_assert_eq(wire_batch_next(&batch, &off, &sub), 0, "three and no more");
    /* The frame can outlive the message that brought it. */
    void *frame = wire_msg_take_frame(&batch);
    cr_assert_not_null(frame);
    wire_msg_clear(&batch);
    wire_frame_free(frame);
    wire_batch_free(&b);
    wire_msg_clear(&up);
    pair_close(&p);
}

/* The bytes of a DELIVERS around SUBS (each a whole frame after its length), with CTL_LEN
 * bytes of ctl. Malloc'd. */
static uint8_t *s_delivers(const uint8_t *subs, size_t subs_len, size_t ctl_len, size_t *len)
{
    *len = WIRE_FIXED_BYTES + ctl_len + subs_len;
    uint8_t *out = calloc(1, *len + 1);
    memcpy(out, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
    out[WIRE_PROTOCOL_LEN] = WIRE_DELIVERS;
    out[WIRE_PROTOCOL_LEN + 1] = (uint8_t)ctl_len;
    memcpy(out + WIRE_FIXED_BYTES + ctl_len, subs, subs_len);
    return out;
}

Test(wire, a_malformed_delivers_is_refused_whole)
{
    wire_batch_t b = { 0 };
    for (uint64_t seq = 1; seq <= 2; seq++)
        s_deliver_add(&b, seq, "h", "body", SEAL_SIG_BYTES, 0);
    const uint8_t *subs = b.buf + WIRE_FIXED_BYTES;
    size_t subs_len = b.len - WIRE_FIXED_BYTES, len;
    wire_msg_t m;
    uint8_t *f = s_delivers(subs, subs_len, 0, &len);
    cr_assert_eq(wire_decode(f, len, &m), 0, "the good one");
    cr_assert_not_null(m.batch);
    free(f);
    struct {
        const char *what;
        size_t cut;     /* bytes cut off the end */
        size_t ctl_len; /* a ctl where there is none */
        size_t poke_at; /* a byte of the subs to change (SIZE_MAX: none) */
        uint8_t poke;
        int code;
    } cases[] = {
        { "no DELIVER at all", subs_len, 0, SIZE_MAX, 0, TACNET_EFRAMES },
        { "the last DELIVER cut short", 1, 0, SIZE_MAX, 0, TACNET_EFRAMES },
        { "a length past the end", 0, 0, 0, 0xff, TACNET_EFRAMES },
        { "a ctl", 0, 3, SIZE_MAX, 0, TACNET_EFRAMES },
        { "a PUBLISH inside", 0, 0, WIRE_LEN_BYTES + WIRE_PROTOCOL_LEN, WIRE_PUBLISH,
          TACNET_EFRAMES },
        { "a DELIVERS inside", 0, 0, WIRE_LEN_BYTES + WIRE_PROTOCOL_LEN, WIRE_DELIVERS,
          TACNET_EFRAMES },
        { "another protocol inside", 0, 0, WIRE_LEN_BYTES, 'X', TACNET_EFRAMES },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *copy = malloc(subs_len + 1);
        memcpy(copy, subs, subs_len);
        if (cases[i].poke_at != SIZE_MAX)
            copy[cases[i].poke_at] = cases[i].poke;
        f = s_delivers(copy, subs_len - cases[i].cut, cases[i].ctl_len, &len);
        memset(&m, 0, sizeof m);
        cr_assert_eq(wire_decode(f, len, &m), cases[i].code, "%s", cases[i].what);
        cr_assert_null(m.batch, "%s: nothing handed out", cases[i].what);
        free(f);
        free(copy);
    }
    /* A DELIVER inside with a signature of a length no frame has: the DELIVER's own code. */
    wire_batch_t bad = { 0 };
    s_deliver_add(&bad, 1, "h", "body", SEAL_SIG_BYTES, 0);
    f = s_delivers(bad.buf + WIRE_FIXED_BYTES, bad.len - WIRE_FIXED_BYTES - 1, 0, &len);
    f[WIRE_FIXED_BYTES] = (uint8_t)(f[WIRE_FIXED_BYTES] - 1); /* its length, one byte shorter */
    cr_assert_eq(wire_decode(f, len, &m), TACNET_EBADMSG);
    free(f);
    wire_batch_free(&bad);
    /* WIRE_BATCH_MAX and no more: the next add is refused and changes nothing. */
    wire_batch_t full = { 0 };
    for (uint64_t seq = 1; seq <= WIRE_BATCH_MAX; seq++)
        s_deliver_add(&full, seq, "h", "b", SEAL_SIG_BYTES, 0);
    size_t was = full.len;
    s_deliver_add(&full, WIRE_BATCH_MAX + 1, "h", "b", SEAL_SIG_BYTES, TACNET_ETOOBIG);
    cr_assert_eq(full.n, WIRE_BATCH_MAX);
    cr_assert_eq(full.len, was);
    /* One more than that, laid out by hand, is refused by the reader too. */
    size_t one_len = (full.len - WIRE_FIXED_BYTES) / WIRE_BATCH_MAX;
    uint8_t *more = malloc(full.len - WIRE_FIXED_BYTES + one_len);
    memcpy(more, full.buf + WIRE_FIXED_BYTES, full.len - WIRE_FIXED_BYTES);
    memcpy(more + full.len - WIRE_FIXED_BYTES, full.buf + WIRE_FIXED_BYTES, one_len);
    f = s_delivers(more, full.len - WIRE_FIXED_BYTES + one_len, 0, &len);
    cr_assert_eq(wire_decode(f, len, &m), TACNET_ETOOBIG);
    free(f);
    free(more);
    wire_batch_free(&full);
    /* Arguments a DELIVER cannot have. */
    Tacnet__Deliver d = TACNET__DELIVER__INIT;
    cr_assert_eq(wire_batch_add(&b, WIRE_DELIVER, &d.base, NULL, 0, NULL, 0, NULL, 0),
                 TACNET_EINVAL);
    /* Another command than the batch holds, or one that is neither. */
    Tacnet__Puback a = TACNET__PUBACK__INIT;
    cr_assert_eq(wire_batch_add(&b, WIRE_PUBACK, &a.base, NULL, 0, NULL, 0, NULL, 0),
                 TACNET_EINVAL);
    cr_assert_eq(wire_batch_add(&b, WIRE_PING, NULL, NULL, 0, NULL, 0, NULL, 0), TACNET_EINVAL);
    wire_batch_free(&b);
}

Test(wire, a_pubacks_holds_pubacks_only)
{
    wire_batch_t b = { 0 };
    for (uint64_t seq = 1; seq <= 3; seq++) {
        uint8_t id[16];
        memset(id, (int)seq, sizeof id);
        Tacnet__Puback a = TACNET__PUBACK__INIT;
        a.msg_id = (ProtobufCBinaryData){ 16, id };
        a.seq = seq;
        cr_assert_eq(wire_batch_add(&b, WIRE_PUBACK, &a.base, NULL, 0, NULL, 0, NULL, 0), 0);
    }
    /* A DELIVER does not join a batch of PUBACKs. */
    s_deliver_add(&b, 4, "h", "b", SEAL_SIG_BYTES, TACNET_EINVAL);
    size_t len;
    wire_msg_t m, sub;
    uint8_t *f = s_delivers(b.buf + WIRE_FIXED_BYTES, b.len - WIRE_FIXED_BYTES, 0, &len);
    f[WIRE_PROTOCOL_LEN] = WIRE_PUBACKS;
    memset(&m, 0, sizeof m);
    cr_assert_eq(wire_decode(f, len, &m), 0);
    size_t off = 0;
    for (uint64_t seq = 1; seq <= 3; seq++) {
        memset(&sub, 0, sizeof sub);
        cr_assert_eq(wire_batch_next(&m, &off, &sub), 1);
        cr_assert_eq(sub.cmd, WIRE_PUBACK);
        int err = 0;
        Tacnet__Puback *a = (Tacnet__Puback *)wire_ctl_unpack(sub.cmd, sub.ctl, sub.ctl_len, &err);
        cr_assert_not_null(a);
        cr_assert_eq(a->seq, seq);
        wire_free(&a->base);
    }
    cr_assert_eq(wire_batch_next(&m, &off, &sub), 0);
    /* The same PUBACKs called a DELIVERS: refused whole. */
    f[WIRE_PROTOCOL_LEN] = WIRE_DELIVERS;
    memset(&m, 0, sizeof m);
    cr_assert_eq(wire_decode(f, len, &m), TACNET_EFRAMES);
    cr_assert_null(m.batch);
    free(f);
    wire_batch_free(&b);
}

typedef struct nested {
    const uint8_t *f;
    size_t len;
    int rc;
    int batch_set;
} nested_t;

static void *s_decode_nested(void *arg)
{
    nested_t *n = arg;
    wire_msg_t m;
    memset(&m, 0, sizeof m);
    n->rc = wire_decode(n->f, n->len, &m);
    n->batch_set = m.batch != NULL;
    return NULL;
}

/* A batch inside a batch is refused by its command byte before it is decoded. Nested 17,000
 * deep (what fits under ZMQ_MAXMSGSIZE) it once recursed through several MiB of stack (found in
 * review): decoded here on a thread with 256 KiB of stack, which that recursion overflows. */
Test(wire, a_batch_nested_in_a_batch_is_refused_without_recursion)
{
    wire_batch_t b = { 0 };
    s_deliver_add(&b, 1, "h", "b", SEAL_SIG_BYTES, 0);
    enum { LEVELS = 17000 };
    /* The innermost DELIVERS: the one DELIVER frame without the batch's own header. */
    size_t inner = b.len - WIRE_FIXED_BYTES - 4;
    size_t total = inner + (size_t)LEVELS * (WIRE_FIXED_BYTES + 4);
    uint8_t *f = malloc(total);
    cr_assert_not_null(f);
    /* From the outside in: each level a DELIVERS header and the next level's length. */
    size_t at = 0;
    for (size_t level = 0; level < LEVELS; level++) {
        size_t rest = total - at - WIRE_FIXED_BYTES - 4;
        memcpy(f + at, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
        f[at + WIRE_PROTOCOL_LEN] = WIRE_DELIVERS;
        memset(f + at + WIRE_PROTOCOL_LEN + 1, 0, 4);
        for (int k = 0; k < 4; k++)
            f[at + WIRE_FIXED_BYTES + (size_t)k] = (uint8_t)(rest >> (8 * k));
        at += WIRE_FIXED_BYTES + 4;
    }
    memcpy(f + at, b.buf + WIRE_FIXED_BYTES + 4, inner);
    cr_assert_eq(at + inner, total);
    cr_assert_leq(total, WIRE_MAX_MSG, "the nesting fits in one message");
    nested_t n = { f, total, 0, 1 };
    pthread_attr_t attr;
    pthread_t t;
    cr_assert_eq(pthread_attr_init(&attr), 0);
    cr_assert_eq(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
    cr_assert_eq(pthread_create(&t, &attr, s_decode_nested, &n), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
    cr_assert_eq(n.rc, TACNET_EFRAMES);
    cr_assert_eq(n.batch_set, 0);
    free(f);
    wire_batch_free(&b);
}
