/* outbox: the outbox record layout (services/agency/outbox.h), encoded and decoded without a
 * store or a socket. The bytes are made up. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "agency/outbox.h"
#include "err.h"
#include "seal.h"

static const uint8_t s_header[] = { 0x08, 0x01, 0x12, 0x03, 'a', 'b', 'c' };
static const uint8_t s_sealed[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };

static uint8_t *s_encode(size_t *len)
{
    static uint8_t sig[SEAL_SIG_BYTES];
    memset(sig, 0x5a, sizeof(sig));
    agency_outbox_record_t rec = { .header = s_header,
                                   .hlen = sizeof(s_header),
                                   .sealed = s_sealed,
                                   .slen = sizeof(s_sealed),
                                   .sig = sig };
    return agency_outbox_encode(&rec, len);
}

Test(outbox, a_record_decodes_to_the_parts_it_was_encoded_from)
{
    size_t n;
    uint8_t *buf = s_encode(&n);
    cr_assert_eq(n, 4 + sizeof(s_header) + 4 + sizeof(s_sealed) + SEAL_SIG_BYTES);
    agency_outbox_record_t out;
    cr_assert_eq(agency_outbox_decode(buf, n, &out), 0);
    cr_assert_eq(out.hlen, sizeof(s_header));
    cr_assert_eq(memcmp(out.header, s_header, sizeof(s_header)), 0);
    cr_assert_eq(out.slen, sizeof(s_sealed));
    cr_assert_eq(memcmp(out.sealed, s_sealed, sizeof(s_sealed)), 0);
    for (size_t i = 0; i < SEAL_SIG_BYTES; i++)
        cr_assert_eq(out.sig[i], 0x5a);
    free(buf);
}

Test(outbox, the_record_layout_is_big_endian_lengths_before_each_part)
{
    size_t n;
    uint8_t *buf = s_encode(&n);
    const uint8_t hlen[4] = { 0, 0, 0, sizeof(s_header) };
    const uint8_t slen[4] = { 0, 0, 0, sizeof(s_sealed) };
    cr_assert_eq(memcmp(buf, hlen, 4), 0);
    cr_assert_eq(memcmp(buf + 4, s_header, sizeof(s_header)), 0);
    cr_assert_eq(memcmp(buf + 4 + sizeof(s_header), slen, 4), 0);
    free(buf);
}

Test(outbox, a_truncated_record_is_refused_at_every_length)
{
    size_t n;
    uint8_t *buf = s_encode(&n);
    agency_outbox_record_t out;
    for (size_t len = 0; len < n; len++)
        cr_assert_eq(agency_outbox_decode(buf, len, &out), TACNET_ECORRUPT, "length %zu", len);
    free(buf);
}

Test(outbox, a_record_with_trailing_bytes_is_refused)
{
    size_t n;
    uint8_t *buf = s_encode(&n);
    uint8_t *longer = calloc(1, n + 1);
    memcpy(longer, buf, n);
    agency_outbox_record_t out;
    cr_assert_eq(agency_outbox_decode(longer, n + 1, &out), TACNET_ECORRUPT);
    free(longer);
    free(buf);
}

Test(outbox, a_record_whose_lengths_do_not_add_up_is_refused)
{
    size_t n;
    uint8_t *buf = s_encode(&n);
    agency_outbox_record_t out;
    buf[3] = 0xff; /* header length past the end */
    cr_assert_eq(agency_outbox_decode(buf, n, &out), TACNET_ECORRUPT);
    buf[3] = sizeof(s_header);
    buf[4 + sizeof(s_header) + 3] = sizeof(s_sealed) + 1; /* sealed body one byte too long */
    cr_assert_eq(agency_outbox_decode(buf, n, &out), TACNET_ECORRUPT);
    buf[0] = 0x80; /* a length no record has */
    cr_assert_eq(agency_outbox_decode(buf, n, &out), TACNET_ECORRUPT);
    free(buf);
    cr_assert_eq(agency_outbox_decode(NULL, 0, &out), TACNET_ECORRUPT);
}

Test(outbox, an_ids_value_round_trips_and_a_wrong_size_is_refused)
{
    uint8_t blind[16], back[16], ids[AGENCY_OUTBOX_IDS_BYTES];
    memset(blind, 0x11, sizeof(blind));
    agency_outbox_ids_encode(ids, 0x0102030405060708ull, blind);
    cr_assert_eq(ids[0], 0x01);
    cr_assert_eq(ids[7], 0x08);
    uint64_t seq = 0;
    cr_assert_eq(agency_outbox_ids_decode(ids, sizeof(ids), &seq, back), 0);
    cr_assert_eq(seq, 0x0102030405060708ull);
    cr_assert_eq(memcmp(back, blind, 16), 0);
    cr_assert_eq(agency_outbox_ids_decode(ids, sizeof(ids) - 1, &seq, back), TACNET_ECORRUPT);
}

Test(outbox, a_case_key_matches_its_own_case_only)
{
    uint8_t blind[16], other[16], ck[AGENCY_OUTBOX_CASE_KEY_BYTES];
    memset(blind, 0x22, sizeof(blind));
    memset(other, 0x23, sizeof(other));
    agency_outbox_case_key(ck, blind, 42);
    cr_assert_eq(memcmp(ck, blind, 16), 0);
    uint64_t seq = 0;
    cr_assert(agency_outbox_case_key_match(ck, sizeof(ck), blind, &seq));
    cr_assert_eq(seq, 42);
    cr_assert_not(agency_outbox_case_key_match(ck, sizeof(ck), other, &seq));
    cr_assert_not(agency_outbox_case_key_match(ck, 16, blind, &seq));
}

Test(outbox, case_keys_sort_by_case_then_sender_seq)
{
    uint8_t blind[16], a[AGENCY_OUTBOX_CASE_KEY_BYTES], b[AGENCY_OUTBOX_CASE_KEY_BYTES];
    memset(blind, 0x22, sizeof(blind));
    agency_outbox_case_key(a, blind, 255);
    agency_outbox_case_key(b, blind, 256);
    cr_assert_lt(memcmp(a, b, sizeof(a)), 0);
}

Test(outbox, a_dead_letter_round_trips)
{
    size_t n;
    uint8_t *d = agency_outbox_dead_encode(TACNET_ECONSENT, "no consent for health", 7, &n);
    cr_assert_eq(n, 4 + strlen("no consent for health") + 1 + 8);
    int code = 0;
    const char *reason = NULL;
    uint64_t seq = 0;
    cr_assert_eq(agency_outbox_dead_decode(d, n, &code, &reason, &seq), 0);
    cr_assert_eq(code, TACNET_ECONSENT);
    cr_assert_str_eq(reason, "no consent for health");
    cr_assert_eq(seq, 7);
    free(d);
}

Test(outbox, a_truncated_or_unterminated_dead_letter_is_refused)
{
    size_t n;
    uint8_t *d = agency_outbox_dead_encode(TACNET_ECLOSED, "closed", 9, &n);
    int code;
    const char *reason;
    uint64_t seq;
    for (size_t len = 0; len < n; len++)
        cr_assert_eq(agency_outbox_dead_decode(d, len, &code, &reason, &seq), TACNET_ECORRUPT,
                     "length %zu", len);
    d[4 + strlen("closed")] = 'x'; /* the reason's NUL gone */
    cr_assert_eq(agency_outbox_dead_decode(d, n, &code, &reason, &seq), TACNET_ECORRUPT);
    free(d);
}

Test(outbox, a_withdrawn_value_round_trips_with_and_without_its_correction)
{
    uint8_t v[AGENCY_OUTBOX_WITHDRAWN_BYTES], by[16], id[16];
    memset(id, 0xa5, sizeof(id));
    agency_outbox_withdrawn_encode(v, 1796807351381ull, id);
    uint64_t at = 0;
    cr_assert_eq(agency_outbox_withdrawn_decode(v, sizeof(v), &at, by), 0);
    cr_assert_eq(at, 1796807351381ull);
    cr_assert_arr_eq(by, id, 16);
    agency_outbox_withdrawn_encode(v, 7, NULL);
    cr_assert_eq(agency_outbox_withdrawn_decode(v, sizeof(v), &at, by), 0);
    cr_assert_eq(at, 7);
    static const uint8_t zero[16];
    cr_assert_arr_eq(by, zero, 16, "withdrawn by hand: no correction");
    cr_assert_eq(agency_outbox_withdrawn_decode(v, sizeof(v) - 1, &at, by), TACNET_ECORRUPT);
    cr_assert_eq(agency_outbox_withdrawn_decode(NULL, 0, &at, by), TACNET_ECORRUPT);
}

Test(outbox, unapplied_keys_sort_oldest_first_and_split_back)
{
    uint8_t a[AGENCY_OUTBOX_UNAPPLIED_KEY_BYTES], b[AGENCY_OUTBOX_UNAPPLIED_KEY_BYTES];
    uint8_t id[16], back[16];
    memset(id, 0xff, sizeof(id));
    agency_outbox_unapplied_key(a, 1000, id);
    memset(id, 0x00, sizeof(id));
    agency_outbox_unapplied_key(b, 1001, id);
    /* A later settle sorts after, whatever the msg_ids: the listing stops at the first young one. */
    cr_assert_lt(memcmp(a, b, sizeof(a)), 0);
    uint64_t ms = 0;
    cr_assert_eq(agency_outbox_unapplied_key_decode(b, sizeof(b), &ms, back), 0);
    cr_assert_eq(ms, 1001);
    cr_assert_arr_eq(back, id, 16);
    cr_assert_eq(agency_outbox_unapplied_key_decode(b, 16, &ms, back), TACNET_ECORRUPT);
}
