/* Reliability T13, T14, T17, T18, T20, T22: a table of malformed inputs and attacks against the
 * real broker on loopback. Every refusal must carry its documented code and leave the broker's
 * data.mdb byte-identical; a known good publish still succeeds afterwards. */
#include "../integration/harness.c"
#include "rel.c"

#include <sys/stat.h>

#define CA  TACNET__AGENCY__CAMHS
#define SCH TACNET__AGENCY__SCHOOL
#define SC  TACNET__AGENCY__SOCIAL_CARE

static h_env_t env;

static void s_up(void)
{
    h_setup(&env, "tick_ms = 50");
    cr_assert_eq(h_broker_start(&env, NULL), 0);
}

static void s_down(void)
{
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
    size_t (*raw)(h_pub_t *p, uint8_t **fr, size_t *lens); /* whole frames instead */
    uint32_t signer;                                       /* 0: the sender */
} mcase_t;

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
    fr[0] = (uint8_t *)"TACN02";
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
static size_t r_seven_frames(h_pub_t *p, uint8_t **fr, size_t *l)
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
static void h_schema2(h_pub_t *p)
{
    p->h.schema_version = 2;
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
static void h_nine_rcpt(h_pub_t *p)
{
    static Tacnet__Agency r[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    p->h.recipients = r;
    p->h.n_recipients = 9;
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
    { "one frame only", TACNET_EFRAMES, NULL, NULL, r_one_frame, 0 },
    { "wrong protocol id", TACNET_EFRAMES, NULL, NULL, r_bad_protocol, 0 },
    { "unknown command byte", TACNET_EFRAMES, NULL, NULL, r_unknown_cmd, 0 },
    { "PUBLISH with three frames", TACNET_EFRAMES, NULL, NULL, r_three_frames, 0 },
    { "PUBLISH with seven frames", TACNET_EFRAMES, NULL, NULL, r_seven_frames, 0 },
    { "signature frame of 10 bytes", TACNET_EBADMSG, NULL, NULL, r_short_sig, 0 },
    { "header frame over its cap", TACNET_ETOOBIG, NULL, NULL, r_big_header, 0 },
    { "command header over its cap", TACNET_ETOOBIG, NULL, NULL, r_big_ctl, 0 },
    { "empty header", TACNET_EBADMSG, NULL, NULL, r_empty_header, 0 },
    { "garbage header", TACNET_EBADMSG, NULL, NULL, r_garbage_header, 0 },
    { "truncated varint", TACNET_EBADMSG, NULL, NULL, r_truncated_varint, 0 },
    { "wrong wire type", TACNET_EBADMSG, NULL, NULL, r_wrong_wire_type, 0 },
    { "header cut by one byte", TACNET_EBADMSG, NULL, NULL, r_truncated_header, 0 },
    { "duplicate singular field", TACNET_ENONCANON, NULL, NULL, r_duplicate_field, 0 },
    { "unknown field", TACNET_ENONCANON, NULL, NULL, r_unknown_field, 0 },
    { "schema version 2", TACNET_EVERSION, h_schema2, NULL, NULL, 0 },
    { "schema version 0", TACNET_EVERSION, h_schema0, NULL, NULL, 0 },
    { "msg_id of 15 bytes", TACNET_EMSGID, h_msgid15, NULL, NULL, 0 },
    { "empty msg_id", TACNET_EMSGID, h_msgid0, NULL, NULL, 0 },
    { "sender out of range", TACNET_EENUM, h_sender77, NULL, NULL, 0 },
    { "kind unknown", TACNET_EKIND, h_kind0, NULL, NULL, 0 },
    { "kind out of range", TACNET_EENUM, h_kind999, NULL, NULL, 0 },
    { "sensitivity out of range", TACNET_EENUM, h_sens99, NULL, NULL, 0 },
    { "lawful basis out of range", TACNET_EENUM, h_basis99, NULL, NULL, 0 },
    { "no recipients", TACNET_EFIELD, h_no_rcpt, NULL, NULL, 0 },
    { "nine recipients", TACNET_EFIELD, h_nine_rcpt, NULL, NULL, 0 },
    { "duplicate recipients", TACNET_EFIELD, h_dup_rcpt, NULL, NULL, 0 },
    { "recipient AGENCY_UNKNOWN", TACNET_EFIELD, h_unknown_rcpt, NULL, NULL, 0 },
    { "level of need 5", TACNET_EFIELD, h_level5, NULL, NULL, 0 },
    { "level of need 0", TACNET_EFIELD, h_level0, NULL, NULL, 0 },
    { "escalation stage 7", TACNET_EFIELD, h_stage7, NULL, NULL, 0 },
    { "refers_to of 3 bytes", TACNET_EMSGID, h_refers3, NULL, NULL, 0 },
    { "case ref in lower case", TACNET_ECASEREF, c_lower, NULL, NULL, 0 },
    { "case ref too short", TACNET_ECASEREF, c_short, NULL, NULL, 0 },
    { "empty case ref", TACNET_ECASEREF, c_empty, NULL, NULL, 0 },
    { "case ref with a NUL", TACNET_ECASEREF, c_nul, NULL, NULL, 0 },
    { "case ref invalid UTF-8", TACNET_ECASEREF, c_utf8, NULL, NULL, 0 },
    { "case ref holding a name", TACNET_ECASEREF, c_name, NULL, NULL, 0 },
    { "initials 'John Smith'", TACNET_EINITIALS, i_fullname, NULL, NULL, 0 },
    { "initials 'js'", TACNET_EINITIALS, i_lower, NULL, NULL, 0 },
    { "initials 'J5'", TACNET_EINITIALS, i_digit, NULL, NULL, 0 },
    { "initials of five letters", TACNET_EINITIALS, i_five, NULL, NULL, 0 },
    { "initials of one letter", TACNET_EINITIALS, i_one, NULL, NULL, 0 },
    { "initials invalid UTF-8", TACNET_EINITIALS, i_utf8, NULL, NULL, 0 },
    { "initials with an accent", TACNET_EINITIALS, i_accent, NULL, NULL, 0 },
    { "initials with a space", TACNET_EINITIALS, i_space, NULL, NULL, 0 },
    { "sender claims another agency", TACNET_ESENDER, s_forge_school, NULL, NULL, 0 },
    { "unknown sender key id", TACNET_EKEYID, k_keyid99, NULL, NULL, 0 },
    { "signed by another agency's key", TACNET_ESIGNATURE, NULL, NULL, NULL, SCH },
    { "signature zeroed", TACNET_ESIGNATURE, NULL, t_sig_zero, NULL, 0 },
    { "signature bit flipped", TACNET_ESIGNATURE, NULL, t_sig_flip, NULL, 0 },
    { "sealed body bit flipped", TACNET_ESIGNATURE, NULL, t_sealed_flip, NULL, 0 },
    { "sealed body last byte flipped", TACNET_ESIGNATURE, NULL, t_sealed_last, NULL, 0 },
    { "sealed body cut short", TACNET_ESIGNATURE, NULL, t_sealed_cut, NULL, 0 },
    { "header sender_seq changed after signing", TACNET_ESIGNATURE, NULL, t_header_seq, NULL, 0 },
    { "header case ref changed after signing", TACNET_ESIGNATURE, NULL, t_header_case, NULL, 0 },
    { "recipients beyond the policy", TACNET_ERECIPIENTS, r_add_school, NULL, NULL, 0 },
    { "override without a reason", TACNET_EOVERRIDE, o_no_reason, NULL, NULL, 0 },
    { "broker-only kind from an agency", TACNET_EKIND, k_broker_kind, NULL, NULL, 0 },
    { "member_left opening a case", TACNET_ENOTMEMBER, k_member_first, NULL, NULL, 0 },
    { "referral without a subject", TACNET_EFIELD, k_referral_no_subject, NULL, NULL, 0 },
    { "assessment without a level", TACNET_EFIELD, k_assessment_no_level, NULL, NULL, 0 },
    { "consent without a state", TACNET_ENOTMEMBER, k_consent_no_state, NULL, NULL, 0 },
    { "lead accepted with no hand-over", TACNET_ENOTMEMBER, k_lead_accept, NULL, NULL, 0 },
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
            h_send_frames(c, n, (const void *const *)fr, lens);
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
