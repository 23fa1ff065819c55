/* Unit tests for common/seal.c: known-answer vector, tampering, truncation, recipients, the
 * pairwise cache, key files and their permissions, at-rest encryption, blind indexes, and
 * secret keys locked (PROT_NONE) between uses. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "bytes.h"
#include "err.h"
#include "seal.h"
#include "seal_internal.h"

/* ---------------------------------------------------------------------------------------- */
/* Helpers */

static void s_setup(void)
{
    cr_assert_eq(seal_init(), 0);
}

TestSuite(seal, .init = s_setup, .timeout = 60);

/* Value of NAME in tests/vectors/seal_kat.txt, decoded from hex; malloc'd. */
static uint8_t *s_kat(const char *name, size_t *len)
{
    const char *src = getenv("TACNET_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/seal_kat.txt", src ? src : ".");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    uint8_t *out = NULL;
    size_t namelen = strlen(name);
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, name, namelen) != 0 || line[namelen] != ' ')
            continue;
        char *hex = line + namelen + 1;
        size_t hexlen = strcspn(hex, "\n");
        out = malloc(hexlen / 2 + 1);
        cr_assert_eq(sodium_hex2bin(out, hexlen / 2 + 1, hex, hexlen, NULL, len, NULL), 0);
        cr_assert_eq(*len * 2, hexlen, "%s: bad hex", name);
        break;
    }
    free(line);
    fclose(f);
    cr_assert_not_null(out, "%s missing from %s", name, path);
    return out;
}

static uint32_t s_kat_u32(const char *name)
{
    size_t len = 0;
    uint8_t *b = s_kat(name, &len);
    cr_assert_eq(len, 4);
    uint32_t v = bytes_be32_get(b);
    free(b);
    return v;
}

/* Key set for a KAT party whose fields are named PREFIX_agency, PREFIX_seal_seed, ... */
static seal_keys_t *s_kat_keys(const char *prefix)
{
    char name[64];
    size_t len = 0;
    snprintf(name, sizeof name, "%s_agency", prefix);
    uint32_t agency = s_kat_u32(name);
    snprintf(name, sizeof name, "%s_key_id", prefix);
    uint32_t key_id = s_kat_u32(name);
    snprintf(name, sizeof name, "%s_seal_seed", prefix);
    uint8_t *seal_seed = s_kat(name, &len);
    cr_assert_eq(len, 32);
    snprintf(name, sizeof name, "%s_sign_seed", prefix);
    uint8_t *sign_seed = s_kat(name, &len);
    cr_assert_eq(len, 32);
    seal_keys_t *keys = seal_keys_from_seeds(agency, key_id, sign_seed, sign_seed, seal_seed);
    cr_assert_not_null(keys);
    free(seal_seed);
    free(sign_seed);
    return keys;
}

static seal_recipient_t s_rcpt(const seal_keys_t *k)
{
    seal_recipient_t r = { .agency = k->agency, .key_id = k->key_id };
    memcpy(r.seal_pk, k->seal_pk, sizeof r.seal_pk);
    return r;
}

/* A sender (CAMHS) sealing one synthetic event for a school and social care. */
typedef struct world {
    seal_keys_t *sender, *school, *social;
    seal_ctx_t *sctx, *school_ctx, *social_ctx;
    uint8_t header[40];
    uint8_t body[57];
    uint8_t *sealed;
    size_t sealed_len;
    uint8_t sig[SEAL_SIG_BYTES];
} world_t;

static void s_world_init(world_t *w)
{
    memset(w, 0, sizeof *w);
    w->sender = seal_keys_generate(TACNET__AGENCY__CAMHS, 1);
    w->school = seal_keys_generate(TACNET__AGENCY__SCHOOL, 4);
    w->social = seal_keys_generate(TACNET__AGENCY__SOCIAL_CARE, 2);
    cr_assert(w->sender && w->school && w->social);
    w->sctx = seal_ctx_new(w->sender);
    w->school_ctx = seal_ctx_new(w->school);
    w->social_ctx = seal_ctx_new(w->social);
    cr_assert(w->sctx && w->school_ctx && w->social_ctx);
    memcpy(w->header, "synthetic header LA7-2026-000123 JD 0001", sizeof w->header);
    memcpy(w->body, "synthetic body: invented child, attendance concern, v1.0", sizeof w->body);
    seal_recipient_t rcpts[2] = { s_rcpt(w->school), s_rcpt(w->social) };
    cr_assert_eq(seal_event(w->sctx, w->header, sizeof w->header, w->body, sizeof w->body, rcpts, 2,
                            &w->sealed, &w->sealed_len, w->sig),
                 0);
}

static void s_world_fini(world_t *w)
{
    free(w->sealed);
    seal_ctx_destroy(&w->sctx);
    seal_ctx_destroy(&w->school_ctx);
    seal_ctx_destroy(&w->social_ctx);
    seal_keys_destroy(&w->sender);
    seal_keys_destroy(&w->school);
    seal_keys_destroy(&w->social);
}

/* seal_open into a throwaway body; returns the code. On success checks the body came back. */
static int s_open(seal_ctx_t *ctx, const uint8_t *sender_pk, const uint8_t *header, size_t hlen,
                  const uint8_t *sealed, size_t len)
{
    uint8_t *body = NULL;
    size_t blen = 0;
    int rc = seal_open(ctx, sender_pk, header, hlen, sealed, len, &body, &blen);
    if (rc != 0)
        cr_assert_null(body, "failed open left a body");
    free(body);
    return rc;
}

/* Offsets in the sealed layout. */
#define OFF_NONCE      0
#define OFF_WRAP_NONCE 24
#define OFF_COUNT      48
#define OFF_TABLE      49
#define ENTRY          53
#define OFF_C(n)       (OFF_TABLE + (n)*ENTRY)

static char *s_tmpdir(void)
{
    char *dir = strdup("/tmp/tacnet-seal-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static void s_rmtree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            s_rmtree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void s_write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

static char *s_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char *text = calloc(1, 8192);
    size_t n = fread(text, 1, 8191, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* ---------------------------------------------------------------------------------------- */
/* Known answer */

/* The known-answer vector: keys, inputs and the expected sealed bytes and signature. */
typedef struct {
    seal_keys_t *sender, *r1, *r2;
    size_t klen, nlen, wlen, hlen, blen, elen, slen;
    uint8_t *k, *nonce, *wrap_nonce, *header, *body, *expect, *expect_sig;
} vector_t;

static void s_vector_load(vector_t *v)
{
    v->sender = s_kat_keys("sender");
    v->r1 = s_kat_keys("rcpt1");
    v->r2 = s_kat_keys("rcpt2");
    v->k = s_kat("content_key", &v->klen);
    v->nonce = s_kat("nonce", &v->nlen);
    v->wrap_nonce = s_kat("wrap_nonce", &v->wlen);
    v->header = s_kat("header", &v->hlen);
    v->body = s_kat("body", &v->blen);
    v->expect = s_kat("sealed", &v->elen);
    v->expect_sig = s_kat("sig", &v->slen);
}

static void s_vector_free(vector_t *v)
{
    free(v->k), free(v->nonce), free(v->wrap_nonce), free(v->header), free(v->body);
    free(v->expect), free(v->expect_sig);
    seal_keys_destroy(&v->sender), seal_keys_destroy(&v->r1), seal_keys_destroy(&v->r2);
}

Test(seal, known_answer_vector_matches_sealed_bytes_signature_and_opens)
{
    vector_t v;
    s_vector_load(&v);
    cr_assert(v.klen == 32 && v.nlen == 24 && v.wlen == 24 && v.slen == 64);

    seal_ctx_t *ctx = seal_ctx_new(v.sender);
    seal_recipient_t rcpts[2] = { s_rcpt(v.r1), s_rcpt(v.r2) };
    uint8_t *sealed = NULL, sig[SEAL_SIG_BYTES];
    size_t sealed_len = 0;
    cr_assert_eq(seal_event_fixed(ctx, v.k, v.nonce, v.wrap_nonce, v.header, v.hlen, v.body, v.blen,
                                  rcpts, 2, &sealed, &sealed_len, sig),
                 0);
    cr_assert_eq(sealed_len, v.elen);
    cr_assert_arr_eq(sealed, v.expect, v.elen, "sealed bytes differ from the vector");
    cr_assert_arr_eq(sig, v.expect_sig, SEAL_SIG_BYTES, "signature differs from the vector");
    cr_assert_eq(seal_verify(v.sender->sign_pk, v.header, v.hlen, v.expect, v.elen, v.expect_sig),
                 0);

    seal_keys_t *rs[2] = { v.r1, v.r2 };
    for (int i = 0; i < 2; i++) {
        seal_ctx_t *rctx = seal_ctx_new(rs[i]);
        uint8_t *out = NULL;
        size_t outlen = 0;
        cr_assert_eq(
            seal_open(rctx, v.sender->seal_pk, v.header, v.hlen, v.expect, v.elen, &out, &outlen),
            0);
        cr_assert_eq(outlen, v.blen);
        cr_assert_arr_eq(out, v.body, v.blen);
        /* The vector's v.header and v.body are real protobufs, and the v.body repeats the v.header. */
        Tacnet__Header *h = tacnet__header__unpack(NULL, v.hlen, v.header);
        Tacnet__Body *b = tacnet__body__unpack(NULL, outlen, out);
        cr_assert(h && b);
        cr_assert_eq(seal_body_matches(h, b), 0);
        tacnet__header__free_unpacked(h, NULL);
        tacnet__body__free_unpacked(b, NULL);
        free(out);
        seal_ctx_destroy(&rctx);
    }
    uint32_t agencies[SEAL_MAX_RECIPIENTS];
    cr_assert_eq(seal_recipients(v.expect, v.elen, agencies, SEAL_MAX_RECIPIENTS), 2);
    cr_assert_eq(agencies[0], v.r1->agency);
    cr_assert_eq(agencies[1], v.r2->agency);

    free(sealed);
    seal_ctx_destroy(&ctx);
    s_vector_free(&v);
}

/* An agency daemon seals when it queues and signs when it sends (services/agency/outbox.h): the
 * same bytes, unsigned, then the vector's signature from seal_sign_event, and nothing else. */
Test(seal, sealed_unsigned_then_signed_gives_the_vector_bytes_and_signature)
{
    vector_t v;
    s_vector_load(&v);
    seal_ctx_t *ctx = seal_ctx_new(v.sender);
    seal_recipient_t rcpts[2] = { s_rcpt(v.r1), s_rcpt(v.r2) };
    uint8_t *sealed = NULL, sig[SEAL_SIG_BYTES];
    size_t sealed_len = 0;
    cr_assert_eq(seal_event_fixed(ctx, v.k, v.nonce, v.wrap_nonce, v.header, v.hlen, v.body, v.blen,
                                  rcpts, 2, &sealed, &sealed_len, NULL),
                 0);
    cr_assert_eq(sealed_len, v.elen);
    cr_assert_arr_eq(sealed, v.expect, v.elen, "sealed bytes differ from the vector");
    cr_assert_eq(seal_sign_event(ctx, v.header, v.hlen, sealed, sealed_len, sig), 0);
    cr_assert_arr_eq(sig, v.expect_sig, SEAL_SIG_BYTES, "signature differs from the vector");
    /* Over another v.body it is another signature, which the vector's does not verify. */
    sealed[sealed_len - 1] ^= 1;
    cr_assert_eq(seal_sign_event(ctx, v.header, v.hlen, sealed, sealed_len, sig), 0);
    cr_assert_neq(memcmp(sig, v.expect_sig, SEAL_SIG_BYTES), 0);
    cr_assert_eq(seal_verify(v.sender->sign_pk, v.header, v.hlen, sealed, sealed_len, v.expect_sig),
                 TACNET_ESIGNATURE);
    cr_assert_eq(seal_verify(v.sender->sign_pk, v.header, v.hlen, sealed, sealed_len, sig), 0);
    cr_assert_eq(seal_sign_event(NULL, v.header, v.hlen, sealed, sealed_len, sig), TACNET_EINVAL);
    cr_assert_eq(seal_sign_event(ctx, v.header, v.hlen, sealed, sealed_len, NULL), TACNET_EINVAL);
    free(sealed);
    seal_ctx_destroy(&ctx);
    s_vector_free(&v);
}

/* ---------------------------------------------------------------------------------------- */
/* Round trip and tampering */

Test(seal, each_recipient_opens_the_body_after_verifying)
{
    world_t w;
    s_world_init(&w);
    cr_assert_eq(w.sealed_len, OFF_C(2) + sizeof w.body + 16);
    cr_assert_eq(
        seal_verify(w.sender->sign_pk, w.header, sizeof w.header, w.sealed, w.sealed_len, w.sig),
        0);
    seal_ctx_t *ctxs[2] = { w.school_ctx, w.social_ctx };
    for (int i = 0; i < 2; i++) {
        uint8_t *body = NULL;
        size_t blen = 0;
        cr_assert_eq(seal_open(ctxs[i], w.sender->seal_pk, w.header, sizeof w.header, w.sealed,
                               w.sealed_len, &body, &blen),
                     0);
        cr_assert_eq(blen, sizeof w.body);
        cr_assert_arr_eq(body, w.body, blen);
        free(body);
    }
    s_world_fini(&w);
}

Test(seal, two_seals_of_the_same_event_differ)
{
    world_t w;
    s_world_init(&w);
    seal_recipient_t r = s_rcpt(w.school);
    uint8_t *a = NULL, *b = NULL, sa[64], sb[64];
    size_t alen, blen;
    cr_assert_eq(
        seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, &r, 1, &a, &alen, sa),
        0);
    cr_assert_eq(
        seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, &r, 1, &b, &blen, sb),
        0);
    cr_assert_eq(alen, blen);
    cr_assert_neq(memcmp(a, b, alen), 0, "fresh key and nonces must change every byte string");
    free(a), free(b);
    s_world_fini(&w);
}

Test(seal, every_flipped_byte_of_header_sealed_or_signature_fails_verification)
{
    world_t w;
    s_world_init(&w);
    for (size_t i = 0; i < sizeof w.header; i++) {
        w.header[i] ^= 0x01;
        cr_assert_eq(seal_verify(w.sender->sign_pk, w.header, sizeof w.header, w.sealed,
                                 w.sealed_len, w.sig),
                     TACNET_ESIGNATURE, "header byte %zu", i);
        w.header[i] ^= 0x01;
    }
    for (size_t i = 0; i < w.sealed_len; i++) {
        w.sealed[i] ^= 0x80;
        cr_assert_eq(seal_verify(w.sender->sign_pk, w.header, sizeof w.header, w.sealed,
                                 w.sealed_len, w.sig),
                     TACNET_ESIGNATURE, "sealed byte %zu", i);
        w.sealed[i] ^= 0x80;
    }
    for (size_t i = 0; i < SEAL_SIG_BYTES; i++) {
        w.sig[i] ^= 0x01;
        cr_assert_eq(seal_verify(w.sender->sign_pk, w.header, sizeof w.header, w.sealed,
                                 w.sealed_len, w.sig),
                     TACNET_ESIGNATURE, "signature byte %zu", i);
        w.sig[i] ^= 0x01;
    }
    /* Another agency's signing key does not verify either. */
    cr_assert_eq(
        seal_verify(w.school->sign_pk, w.header, sizeof w.header, w.sealed, w.sealed_len, w.sig),
        TACNET_ESIGNATURE);
    s_world_fini(&w);
}

Test(seal, tampered_signature_is_rejected)
{
    world_t w;
    s_world_init(&w);
    w.sig[17] ^= 0x40;
    cr_assert_eq(
        seal_verify(w.sender->sign_pk, w.header, sizeof w.header, w.sealed, w.sealed_len, w.sig),
        TACNET_ESIGNATURE);
    s_world_fini(&w);
}

Test(seal, flipped_header_byte_fails_open_even_without_verify)
{
    world_t w;
    s_world_init(&w);
    for (size_t i = 0; i < sizeof w.header; i++) {
        w.header[i] ^= 0x04;
        cr_assert_eq(s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header, w.sealed,
                            w.sealed_len),
                     TACNET_EOPEN, "header byte %zu", i);
        w.header[i] ^= 0x04;
    }
    /* A shorter header (dropped last byte) is a different AD too. */
    cr_assert_eq(s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header - 1, w.sealed,
                        w.sealed_len),
                 TACNET_EOPEN);
    s_world_fini(&w);
}

/* Flip every byte in [FROM, TO) of the sealed blob and expect seal_open to return CODE. */
static void s_flip_range_fails_open(world_t *w, size_t from, size_t to, int code, const char *what)
{
    for (size_t i = from; i < to; i++) {
        w->sealed[i] ^= 0x10;
        cr_assert_eq(s_open(w->school_ctx, w->sender->seal_pk, w->header, sizeof w->header,
                            w->sealed, w->sealed_len),
                     code, "%s byte %zu", what, i - from);
        cr_assert_eq(seal_verify(w->sender->sign_pk, w->header, sizeof w->header, w->sealed,
                                 w->sealed_len, w->sig),
                     TACNET_ESIGNATURE);
        w->sealed[i] ^= 0x10;
    }
    cr_assert_eq(s_open(w->school_ctx, w->sender->seal_pk, w->header, sizeof w->header, w->sealed,
                        w->sealed_len),
                 0, "restored blob must open again");
}

Test(seal, flipped_nonce_is_rejected)
{
    world_t w;
    s_world_init(&w);
    s_flip_range_fails_open(&w, OFF_NONCE, OFF_NONCE + 24, TACNET_EOPEN, "nonce");
    s_world_fini(&w);
}

Test(seal, flipped_wrap_nonce_is_rejected)
{
    world_t w;
    s_world_init(&w);
    s_flip_range_fails_open(&w, OFF_WRAP_NONCE, OFF_WRAP_NONCE + 24, TACNET_EOPEN, "wrap nonce");
    s_world_fini(&w);
}

Test(seal, flipped_wrapped_key_is_rejected)
{
    world_t w;
    s_world_init(&w);
    /* The school is the first entry: agency(1) key_id(4) then its 48-byte wrap. */
    s_flip_range_fails_open(&w, OFF_TABLE + 5, OFF_TABLE + ENTRY, TACNET_EOPEN, "wrapped key");
    s_world_fini(&w);
}

Test(seal, flipped_ciphertext_is_rejected)
{
    world_t w;
    s_world_init(&w);
    s_flip_range_fails_open(&w, OFF_C(2), w.sealed_len, TACNET_EOPEN, "ciphertext");
    s_world_fini(&w);
}

Test(seal, flipped_entry_agency_hides_our_wrap)
{
    world_t w;
    s_world_init(&w);
    s_flip_range_fails_open(&w, OFF_TABLE, OFF_TABLE + 1, TACNET_ENOTFOUND, "entry agency");
    s_world_fini(&w);
}

Test(seal, bad_recipient_count_is_rejected)
{
    world_t w;
    s_world_init(&w);
    uint8_t counts[] = { 0, 3, 9, 255 };
    for (size_t i = 0; i < sizeof counts; i++) {
        w.sealed[OFF_COUNT] = counts[i];
        int rc = s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header, w.sealed,
                        w.sealed_len);
        /* 3 entries still fit in this blob, so the layout parses and the AEAD fails. */
        cr_assert(rc == (counts[i] == 3 ? TACNET_EOPEN : TACNET_EBADMSG), "count %u: %d", counts[i],
                  rc);
        if (counts[i] != 3)
            cr_assert_eq(seal_recipients(w.sealed, w.sealed_len, NULL, 0), TACNET_EBADMSG);
    }
    s_world_fini(&w);
}

Test(seal, truncated_sealed_blob_is_rejected_at_every_length)
{
    world_t w;
    s_world_init(&w);
    size_t min_layout = OFF_C(2) + 16;
    for (size_t len = 0; len < w.sealed_len; len++) {
        /* An exact-size copy, so reading past the end is an ASan error, not luck. */
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, w.sealed, len);
        int rc = s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header,
                        len ? cut : NULL, len);
        cr_assert_eq(rc, len < min_layout ? TACNET_EBADMSG : TACNET_EOPEN, "length %zu: %d", len,
                     rc);
        cr_assert_eq(seal_verify(w.sender->sign_pk, w.header, sizeof w.header, cut, len, w.sig),
                     TACNET_ESIGNATURE);
        int n = seal_recipients(cut, len, NULL, 0);
        cr_assert_eq(n, len < min_layout ? TACNET_EBADMSG : 2);
        free(cut);
    }
    s_world_fini(&w);
}

Test(seal, duplicate_entry_in_sealed_blob_is_malformed)
{
    world_t w;
    s_world_init(&w);
    memcpy(w.sealed + OFF_TABLE + ENTRY, w.sealed + OFF_TABLE, 5);
    cr_assert_eq(
        s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header, w.sealed, w.sealed_len),
        TACNET_EBADMSG);
    s_world_fini(&w);
}

/* ---------------------------------------------------------------------------------------- */
/* Recipients */

Test(seal, event_not_wrapped_for_us_is_not_found)
{
    world_t w;
    s_world_init(&w);
    seal_keys_t *hv = seal_keys_generate(TACNET__AGENCY__HEALTH_VISITING, 1);
    seal_ctx_t *hv_ctx = seal_ctx_new(hv);
    cr_assert_eq(
        s_open(hv_ctx, w.sender->seal_pk, w.header, sizeof w.header, w.sealed, w.sealed_len),
        TACNET_ENOTFOUND);
    seal_ctx_destroy(&hv_ctx);
    seal_keys_destroy(&hv);
    s_world_fini(&w);
}

Test(seal, our_agency_under_another_key_id_with_another_pair_fails_to_open)
{
    world_t w;
    s_world_init(&w);
    /* Key id 5 with a fresh sealing pair; the event was wrapped for key id 4. */
    seal_keys_t *other = seal_keys_generate(TACNET__AGENCY__SCHOOL, 5);
    seal_ctx_t *ctx = seal_ctx_new(other);
    cr_assert_eq(s_open(ctx, w.sender->seal_pk, w.header, sizeof w.header, w.sealed, w.sealed_len),
                 TACNET_EOPEN);
    seal_ctx_destroy(&ctx);
    seal_keys_destroy(&other);
    s_world_fini(&w);
}

Test(seal, rotated_key_id_keeping_the_sealing_pair_opens_the_old_wrap)
{
    world_t w;
    s_world_init(&w);
    /* `tacnet provision --rotate`: new id 5, same sealing pair as the school's key id 4. */
    seal_keys_t *rotated = seal_keys_generate(TACNET__AGENCY__SCHOOL, 5);
    memcpy(rotated->seal_pk, w.school->seal_pk, SEAL_KEY_BYTES);
    memcpy(rotated->seal_sk, w.school->seal_sk, SEAL_KEY_BYTES);
    seal_ctx_t *ctx = seal_ctx_new(rotated);
    cr_assert_eq(s_open(ctx, w.sender->seal_pk, w.header, sizeof w.header, w.sealed, w.sealed_len),
                 0);
    seal_ctx_destroy(&ctx);
    seal_keys_destroy(&rotated);
    s_world_fini(&w);
}

Test(seal, our_agency_and_key_id_with_a_wrong_key_fails_to_open)
{
    world_t w;
    s_world_init(&w);
    /* Same (agency, key id) as the school, different sealing pair: the wrap is not ours. */
    seal_keys_t *impostor = seal_keys_generate(TACNET__AGENCY__SCHOOL, 4);
    seal_ctx_t *ctx = seal_ctx_new(impostor);
    cr_assert_eq(s_open(ctx, w.sender->seal_pk, w.header, sizeof w.header, w.sealed, w.sealed_len),
                 TACNET_EOPEN);
    seal_ctx_destroy(&ctx);
    seal_keys_destroy(&impostor);
    s_world_fini(&w);
}

Test(seal, wrong_sender_key_fails_to_open)
{
    world_t w;
    s_world_init(&w);
    cr_assert_eq(
        s_open(w.school_ctx, w.social->seal_pk, w.header, sizeof w.header, w.sealed, w.sealed_len),
        TACNET_EOPEN);
    s_world_fini(&w);
}

Test(seal, zero_nine_duplicate_and_out_of_range_recipients_are_refused)
{
    world_t w;
    s_world_init(&w);
    seal_recipient_t rcpts[SEAL_MAX_RECIPIENTS + 1];
    seal_keys_t *keys[SEAL_MAX_RECIPIENTS + 1];
    for (size_t i = 0; i <= SEAL_MAX_RECIPIENTS; i++) {
        keys[i] = seal_keys_generate((uint32_t)(i + 1), 1);
        rcpts[i] = s_rcpt(keys[i]);
    }
    uint8_t *sealed = NULL, sig[64];
    size_t len = 0;
    cr_assert_eq(seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, rcpts, 0,
                            &sealed, &len, sig),
                 TACNET_EINVAL);
    cr_assert_eq(seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, rcpts,
                            SEAL_MAX_RECIPIENTS + 1, &sealed, &len, sig),
                 TACNET_EINVAL);
    cr_assert_null(sealed);
    cr_assert_eq(seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, rcpts,
                            SEAL_MAX_RECIPIENTS, &sealed, &len, sig),
                 0, "eight recipients is the maximum, not beyond it");
    cr_assert_eq(seal_recipients(sealed, len, NULL, 0), SEAL_MAX_RECIPIENTS);
    free(sealed);
    sealed = NULL;

    seal_recipient_t dup[2] = { rcpts[0], rcpts[0] };
    cr_assert_eq(seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, dup, 2,
                            &sealed, &len, sig),
                 TACNET_EINVAL);
    seal_recipient_t wide = rcpts[0];
    wide.agency = 256;
    cr_assert_eq(seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, &wide, 1,
                            &sealed, &len, sig),
                 TACNET_EINVAL);
    seal_recipient_t low_order = rcpts[0];
    memset(low_order.seal_pk, 0, sizeof low_order.seal_pk);
    cr_assert_eq(seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, &low_order, 1,
                            &sealed, &len, sig),
                 TACNET_EINVAL);
    cr_assert_null(sealed);
    for (size_t i = 0; i <= SEAL_MAX_RECIPIENTS; i++)
        seal_keys_destroy(&keys[i]);
    s_world_fini(&w);
}

Test(seal, recipients_are_listed_in_order_with_a_short_buffer)
{
    world_t w;
    s_world_init(&w);
    uint32_t agencies[1] = { 0 };
    cr_assert_eq(seal_recipients(w.sealed, w.sealed_len, agencies, 1), 2);
    cr_assert_eq(agencies[0], TACNET__AGENCY__SCHOOL);
    s_world_fini(&w);
}

Test(seal, empty_body_seals_and_opens)
{
    world_t w;
    s_world_init(&w);
    seal_recipient_t r = s_rcpt(w.school);
    uint8_t *sealed = NULL, sig[64], *body = NULL;
    size_t len = 0, blen = 99;
    cr_assert_eq(seal_event(w.sctx, w.header, sizeof w.header, NULL, 0, &r, 1, &sealed, &len, sig),
                 0);
    cr_assert_eq(len, OFF_C(1) + 16);
    cr_assert_eq(seal_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header, sealed, len,
                           &body, &blen),
                 0);
    cr_assert_eq(blen, 0);
    free(body);
    free(sealed);
    s_world_fini(&w);
}

/* ---------------------------------------------------------------------------------------- */
/* Body binding */

Test(seal, body_with_other_sender_or_msg_id_is_a_mismatch)
{
    uint8_t id[16], other[16];
    memset(id, 0xA5, sizeof id);
    memcpy(other, id, sizeof other);
    other[15] ^= 1;
    Tacnet__Header h = TACNET__HEADER__INIT;
    h.msg_id.data = id;
    h.msg_id.len = sizeof id;
    h.sender = TACNET__AGENCY__CAMHS;
    Tacnet__Body b = TACNET__BODY__INIT;
    b.has_msg_id = 1;
    b.msg_id.data = id;
    b.msg_id.len = sizeof id;
    b.has_sender = 1;
    b.sender = TACNET__AGENCY__CAMHS;
    cr_assert_eq(seal_body_matches(&h, &b), 0);

    b.sender = TACNET__AGENCY__SCHOOL;
    cr_assert_eq(seal_body_matches(&h, &b), TACNET_EBODYMISMATCH, "other sender");
    b.sender = TACNET__AGENCY__CAMHS;
    b.has_sender = 0;
    cr_assert_eq(seal_body_matches(&h, &b), TACNET_EBODYMISMATCH, "missing sender");
    b.has_sender = 1;
    b.msg_id.data = other;
    cr_assert_eq(seal_body_matches(&h, &b), TACNET_EBODYMISMATCH, "other msg_id");
    b.msg_id.data = id;
    b.msg_id.len = 15;
    cr_assert_eq(seal_body_matches(&h, &b), TACNET_EBODYMISMATCH, "short msg_id");
    b.msg_id.len = 16;
    b.has_msg_id = 0;
    cr_assert_eq(seal_body_matches(&h, &b), TACNET_EBODYMISMATCH, "missing msg_id");
    b.has_msg_id = 1;
    cr_assert_eq(seal_body_matches(&h, &b), 0);
    cr_assert_eq(seal_body_matches(NULL, &b), TACNET_EINVAL);

    /* A rating: the clear rung and rater are the sealed ones. */
    Tacnet__PartnershipRating r = TACNET__PARTNERSHIP_RATING__INIT;
    r.has_rung = 1;
    r.rung = 6;
    b.partnership_rating = &r;
    b.event_case = TACNET__BODY__EVENT_PARTNERSHIP_RATING;
    h.kind = TACNET__EVENT_KIND__PARTNERSHIP_RATING;
    h.has_ladder_rung = 1;
    h.ladder_rung = 6;
    cr_assert_eq(seal_body_matches(&h, &b), 0);
    h.ladder_rung = 9;
    cr_assert_eq(seal_body_matches(&h, &b), TACNET_EBODYMISMATCH, "a rung the body does not give");
    h.ladder_rung = 6;
    h.has_ladder_rung = 0;
    cr_assert_eq(seal_body_matches(&h, &b), TACNET_EBODYMISMATCH, "a rung left out of the header");
    h.has_ladder_rung = 1;
    h.has_rated_by_family = h.rated_by_family = 1;
    cr_assert_eq(seal_body_matches(&h, &b), TACNET_EBODYMISMATCH,
                 "an agency's rating as the family's");
    r.has_by_family = 1;
    r.by_family = TACNET__FAMILY_ROLE__MOTHER;
    cr_assert_eq(seal_body_matches(&h, &b), 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Pairwise cache */

Test(seal, cached_pairwise_key_gives_the_same_bytes_as_a_fresh_ctx)
{
    world_t w;
    s_world_init(&w); /* w.sctx has already cached both recipients' keys */
    uint8_t k[32], n1[24], n2[24];
    memset(k, 0x11, sizeof k);
    memset(n1, 0x22, sizeof n1);
    memset(n2, 0x33, sizeof n2);
    seal_recipient_t rcpts[2] = { s_rcpt(w.social), s_rcpt(w.school) };
    uint8_t *warm = NULL, *cold = NULL, swarm[64], scold[64];
    size_t wlen = 0, clen = 0;
    cr_assert_eq(seal_event_fixed(w.sctx, k, n1, n2, w.header, sizeof w.header, w.body,
                                  sizeof w.body, rcpts, 2, &warm, &wlen, swarm),
                 0);
    seal_ctx_t *fresh = seal_ctx_new(w.sender);
    cr_assert_eq(seal_event_fixed(fresh, k, n1, n2, w.header, sizeof w.header, w.body,
                                  sizeof w.body, rcpts, 2, &cold, &clen, scold),
                 0);
    cr_assert_eq(wlen, clen);
    cr_assert_arr_eq(warm, cold, wlen);
    cr_assert_arr_eq(swarm, scold, 64);
    /* And the receiving side agrees whether its cache is warm or cold. */
    cr_assert_eq(s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header, warm, wlen), 0);
    seal_ctx_t *fresh_school = seal_ctx_new(w.school);
    cr_assert_eq(s_open(fresh_school, w.sender->seal_pk, w.header, sizeof w.header, cold, clen), 0);
    seal_ctx_destroy(&fresh_school);
    seal_ctx_destroy(&fresh);
    free(warm), free(cold);
    s_world_fini(&w);
}

Test(seal, more_peers_than_cache_slots_still_seal_and_open)
{
    seal_keys_t *sender = seal_keys_generate(TACNET__AGENCY__CAMHS, 1);
    seal_ctx_t *sctx = seal_ctx_new(sender);
    const uint8_t header[] = "synthetic header";
    const uint8_t body[] = "synthetic body";
    /* Two passes over 40 peers: the second pass meets evicted and resident entries. */
    enum { PEERS = 40 };
    seal_keys_t *peers[PEERS];
    for (int i = 0; i < PEERS; i++)
        peers[i] = seal_keys_generate(TACNET__AGENCY__SCHOOL, (uint32_t)i);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < PEERS; i++) {
            seal_recipient_t r = s_rcpt(peers[i]);
            uint8_t *sealed = NULL, sig[64];
            size_t len = 0;
            cr_assert_eq(seal_event(sctx, header, sizeof header, body, sizeof body, &r, 1, &sealed,
                                    &len, sig),
                         0);
            seal_ctx_t *rctx = seal_ctx_new(peers[i]);
            cr_assert_eq(s_open(rctx, sender->seal_pk, header, sizeof header, sealed, len), 0,
                         "pass %d peer %d", pass, i);
            seal_ctx_destroy(&rctx);
            free(sealed);
        }
    for (int i = 0; i < PEERS; i++)
        seal_keys_destroy(&peers[i]);
    seal_ctx_destroy(&sctx);
    seal_keys_destroy(&sender);
}

Test(seal, root_keys_cannot_make_a_ctx_and_destroy_is_null_safe)
{
    seal_keys_t *root = seal_root_generate();
    cr_assert_not_null(root);
    cr_assert_null(root->seal_sk);
    cr_assert_null(seal_ctx_new(root));
    seal_keys_destroy(&root);
    cr_assert_null(root);
    seal_keys_destroy(&root);
    seal_ctx_t *ctx = NULL;
    seal_ctx_destroy(&ctx);
    seal_ctx_destroy(NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Key files */

static void s_assert_same_keys(const seal_keys_t *a, const seal_keys_t *b)
{
    cr_assert_eq(a->agency, b->agency);
    cr_assert_eq(a->key_id, b->key_id);
    cr_assert_arr_eq(a->sign_pk, b->sign_pk, 32);
    cr_assert_arr_eq(a->sign_sk, b->sign_sk, 64);
    cr_assert_eq(!a->seal_sk, !b->seal_sk);
    cr_assert_eq(!a->curve_sk, !b->curve_sk);
    if (a->seal_sk) {
        cr_assert_arr_eq(a->curve_pk, b->curve_pk, 32);
        cr_assert_arr_eq(a->curve_sk, b->curve_sk, 32);
        cr_assert_arr_eq(a->seal_pk, b->seal_pk, 32);
        cr_assert_arr_eq(a->seal_sk, b->seal_sk, 32);
    }
}

Test(seal, key_file_round_trip_creates_0700_dir_and_0600_file)
{
    char *tmp = s_tmpdir();
    char path[4096], dir[2048];
    snprintf(dir, sizeof dir, "%s/keys", tmp);
    snprintf(path, sizeof path, "%s/camhs.key", dir);
    seal_keys_t *keys = seal_keys_generate(TACNET__AGENCY__CAMHS, 3);
    cr_assert_eq(seal_keys_save(keys, path), 0);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0700);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);
    char *text = s_read_file(path);
    cr_assert(strncmp(text, "agency 00000001\nkey_id 00000003\ncurve_pk ", 41) == 0, "%.40s", text);
    /* Eight "name hex" lines: two 8-digit ids, five 64-digit keys and the 128-digit sign_sk. */
    size_t expect_len = 0;
    const char *names[] = { "agency",  "key_id",  "curve_pk", "curve_sk",
                            "sign_pk", "sign_sk", "seal_pk",  "seal_sk" };
    const size_t digits[] = { 8, 8, 64, 64, 64, 128, 64, 64 };
    for (size_t i = 0; i < 8; i++)
        expect_len += strlen(names[i]) + 1 + digits[i] + 1;
    cr_assert_eq(strlen(text), expect_len);
    free(text);

    seal_keys_t *loaded = NULL;
    char why[256] = "unchanged";
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), 0, "%s", why);
    s_assert_same_keys(keys, loaded);
    /* A loaded set seals and opens like the original. */
    seal_ctx_t *a = seal_ctx_new(keys), *b = seal_ctx_new(loaded);
    seal_recipient_t r = s_rcpt(keys);
    uint8_t *sealed = NULL, sig[64];
    size_t len = 0;
    cr_assert_eq(
        seal_event(a, (const uint8_t *)"h", 1, (const uint8_t *)"b", 1, &r, 1, &sealed, &len, sig),
        0);
    cr_assert_eq(seal_verify(loaded->sign_pk, (const uint8_t *)"h", 1, sealed, len, sig), 0);
    cr_assert_eq(s_open(b, keys->seal_pk, (const uint8_t *)"h", 1, sealed, len), 0);
    free(sealed);
    seal_ctx_destroy(&a), seal_ctx_destroy(&b);

    /* Saving again replaces the file atomically and leaves no temp file behind. */
    seal_keys_t *next = seal_keys_generate(TACNET__AGENCY__CAMHS, 4);
    cr_assert_eq(seal_keys_save(next, path), 0);
    seal_keys_destroy(&loaded);
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), 0, "%s", why);
    s_assert_same_keys(next, loaded);
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        entries += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(entries, 1);

    seal_keys_destroy(&next), seal_keys_destroy(&loaded), seal_keys_destroy(&keys);
    s_rmtree(tmp);
    free(tmp);
}

Test(seal, root_key_file_holds_only_sign_keys)
{
    char *tmp = s_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/root.key", tmp);
    seal_keys_t *root = seal_root_generate();
    cr_assert_eq(seal_keys_save(root, path), 0);
    char *text = s_read_file(path);
    cr_assert_null(strstr(text, "seal_"));
    cr_assert_null(strstr(text, "curve_"));
    cr_assert_not_null(strstr(text, "sign_sk "));
    free(text);
    seal_keys_t *loaded = NULL;
    char why[256];
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), 0, "%s", why);
    cr_assert_eq(loaded->agency, 0);
    cr_assert_null(loaded->seal_sk);
    cr_assert_null(loaded->curve_sk);
    s_assert_same_keys(root, loaded);
    seal_keys_destroy(&loaded), seal_keys_destroy(&root);
    s_rmtree(tmp);
    free(tmp);
}

Test(seal, key_file_with_mode_0644_is_refused_naming_the_file)
{
    char *tmp = s_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/camhs.key", tmp);
    seal_keys_t *keys = seal_keys_generate(TACNET__AGENCY__CAMHS, 1);
    cr_assert_eq(seal_keys_save(keys, path), 0);
    cr_assert_eq(chmod(path, 0644), 0);
    seal_keys_t *loaded = NULL;
    char why[512] = "";
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), TACNET_EPERM);
    cr_assert_null(loaded);
    cr_assert_not_null(strstr(why, path), "why: %s", why);
    cr_assert_not_null(strstr(why, "0644"), "why: %s", why);
    cr_assert_not_null(strstr(why, "0600"), "why: %s", why);
    cr_assert_eq(chmod(path, 0640), 0);
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), TACNET_EPERM, "group read");
    cr_assert_eq(chmod(path, 0400), 0);
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), 0, "owner read-only is fine");
    seal_keys_destroy(&loaded), seal_keys_destroy(&keys);
    s_rmtree(tmp);
    free(tmp);
}

Test(seal, key_dir_with_mode_0755_is_refused_naming_the_file)
{
    char *tmp = s_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/school.key", tmp);
    seal_keys_t *keys = seal_keys_generate(TACNET__AGENCY__SCHOOL, 1);
    cr_assert_eq(seal_keys_save(keys, path), 0);
    cr_assert_eq(chmod(tmp, 0755), 0);
    seal_keys_t *loaded = NULL;
    char why[512] = "";
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), TACNET_EPERM);
    cr_assert_null(loaded);
    cr_assert_not_null(strstr(why, path), "why: %s", why);
    cr_assert_not_null(strstr(why, "0755"), "why: %s", why);
    /* Saving into a wide directory is refused too. */
    cr_assert_eq(seal_keys_save(keys, path), TACNET_EPERM);
    seal_keys_destroy(&keys);
    s_rmtree(tmp);
    free(tmp);
}

Test(seal, missing_key_file_is_not_found)
{
    char *tmp = s_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/absent.key", tmp);
    seal_keys_t *loaded = NULL;
    char why[512] = "";
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), TACNET_ENOTFOUND);
    cr_assert_not_null(strstr(why, path));
    s_rmtree(tmp);
    free(tmp);
}

/* Write a key file whose line LINENO (1-based) is replaced by REPLACEMENT (or deleted if NULL,
 * or duplicated if "DUP"), and expect EBADMSG naming WANT in why. */
static void s_expect_malformed(const char *dir, const char *good, int lineno,
                               const char *replacement, const char *want)
{
    char path[4096], text[8192] = "";
    snprintf(path, sizeof path, "%s/bad.key", dir);
    const char *p = good;
    for (int i = 1; *p; i++) {
        const char *eol = strchr(p, '\n');
        size_t len = (size_t)(eol - p) + 1;
        if (i != lineno) {
            strncat(text, p, len);
        } else if (replacement && !strcmp(replacement, "DUP")) {
            strncat(text, p, len);
            strncat(text, p, len);
        } else if (replacement) {
            strcat(text, replacement);
        }
        p += len;
    }
    s_write_file(path, text, 0600);
    seal_keys_t *loaded = NULL;
    char why[512] = "";
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), TACNET_EBADMSG, "line %d -> %s",
                 lineno, replacement ? replacement : "(deleted)");
    cr_assert_null(loaded);
    cr_assert_not_null(strstr(why, path), "why: %s", why);
    cr_assert_not_null(strstr(why, want), "why '%s' lacks '%s'", why, want);
}

Test(seal, malformed_key_file_is_refused_naming_the_line)
{
    char *tmp = s_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/good.key", tmp);
    seal_keys_t *keys = seal_keys_generate(TACNET__AGENCY__HEALTH_VISITING, 2);
    seal_keys_t *other = seal_keys_generate(TACNET__AGENCY__HEALTH_VISITING, 2);
    cr_assert_eq(seal_keys_save(keys, path), 0);
    char *good = s_read_file(path);

    s_expect_malformed(tmp, good, 3, "curve_pk 00\n", "line 3");
    s_expect_malformed(tmp, good, 2, "key_id zz000000\n", "line 2");
    s_expect_malformed(tmp, good, 1, "agency\n", "line 1");
    s_expect_malformed(tmp, good, 4, "colour 00\n", "line 4");
    s_expect_malformed(tmp, good, 5, "DUP", "line 6");
    s_expect_malformed(tmp, good, 6, NULL, "sign_sk missing");
    s_expect_malformed(tmp, good, 8, NULL, "seal_sk missing");

    /* A secret that does not belong to its public half (keys mixed from two files). */
    char hex[129], line[256];
    sodium_bin2hex(hex, sizeof hex, other->seal_sk, 32);
    snprintf(line, sizeof line, "seal_sk %s\n", hex);
    s_expect_malformed(tmp, good, 8, line, "line 8");
    sodium_bin2hex(hex, sizeof hex, other->sign_sk, 64);
    snprintf(line, sizeof line, "sign_sk %s\n", hex);
    s_expect_malformed(tmp, good, 6, line, "line 6");
    sodium_memzero(hex, sizeof hex);
    sodium_memzero(line, sizeof line);

    /* Comments and blank lines are allowed. */
    char commented[8192];
    snprintf(commented, sizeof commented, "# health visiting node keys\n\n%s", good);
    s_write_file(path, commented, 0600);
    seal_keys_t *loaded = NULL;
    char why[512];
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), 0, "%s", why);
    s_assert_same_keys(keys, loaded);

    sodium_memzero(good, strlen(good));
    sodium_memzero(commented, sizeof commented);
    free(good);
    seal_keys_destroy(&loaded), seal_keys_destroy(&keys), seal_keys_destroy(&other);
    s_rmtree(tmp);
    free(tmp);
}

Test(seal, z85_of_a_curve_key_round_trips_through_zmq)
{
    seal_keys_t *keys = seal_keys_generate(TACNET__AGENCY__CAMHS, 1);
    char z85[SEAL_Z85_BYTES];
    memset(z85, 'x', sizeof z85);
    seal_z85(keys->curve_pk, z85);
    cr_assert_eq(strlen(z85), 40);
    uint8_t back[32];
    cr_assert_not_null(zmq_z85_decode(back, z85));
    cr_assert_arr_eq(back, keys->curve_pk, 32);
    /* The CURVE pair is a real Curve25519 pair. */
    uint8_t pk[32];
    crypto_scalarmult_base(pk, keys->curve_sk);
    cr_assert_arr_eq(pk, keys->curve_pk, 32);
    seal_keys_destroy(&keys);
}

/* ---------------------------------------------------------------------------------------- */
/* At rest and blind indexes */

Test(seal, at_rest_round_trip_and_wrong_ad_key_or_bytes_fail)
{
    uint8_t key[32], other[32];
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    const uint8_t ad[] = "cases/LA7-2026-000123";
    const uint8_t ad2[] = "cases/LA7-2026-000124";
    const uint8_t in[] = "synthetic stored view";
    uint8_t *ct = NULL, *pt = NULL;
    size_t ctlen = 0, ptlen = 0;
    cr_assert_eq(seal_at_rest_encrypt(key, ad, sizeof ad, in, sizeof in, &ct, &ctlen), 0);
    cr_assert_eq(ctlen, 24 + sizeof in + 16);
    cr_assert_eq(seal_at_rest_decrypt(key, ad, sizeof ad, ct, ctlen, &pt, &ptlen), 0);
    cr_assert_eq(ptlen, sizeof in);
    cr_assert_arr_eq(pt, in, ptlen);
    free(pt);
    pt = NULL;
    cr_assert_eq(seal_at_rest_decrypt(key, ad2, sizeof ad2, ct, ctlen, &pt, &ptlen), TACNET_EOPEN);
    cr_assert_null(pt);
    cr_assert_eq(seal_at_rest_decrypt(other, ad, sizeof ad, ct, ctlen, &pt, &ptlen), TACNET_EOPEN);
    ct[30] ^= 1;
    cr_assert_eq(seal_at_rest_decrypt(key, ad, sizeof ad, ct, ctlen, &pt, &ptlen), TACNET_EOPEN);
    ct[30] ^= 1;
    cr_assert_eq(seal_at_rest_decrypt(key, ad, sizeof ad, ct, 39, &pt, &ptlen), TACNET_EBADMSG);
    cr_assert_eq(seal_at_rest_decrypt(key, ad, sizeof ad, ct, 40, &pt, &ptlen), TACNET_EOPEN);
    free(ct);
}

/* The nonce (first 24 bytes) of a fresh at-rest record of a fixed plaintext under KEY. */
static void s_rest_nonce_of(const uint8_t key[32], uint8_t nonce[24])
{
    const uint8_t ad[] = "events/1", in[] = "synthetic stored view";
    uint8_t *ct = NULL;
    size_t ctlen = 0;
    cr_assert_eq(seal_at_rest_encrypt(key, ad, sizeof ad, in, sizeof in, &ct, &ctlen), 0);
    memcpy(nonce, ct, 24);
    free(ct);
}

Test(seal, at_rest_nonces_never_repeat_across_records_pools_or_a_fork)
{
    uint8_t key[32], nonces[64][24];
    randombytes_buf(key, sizeof key);
    /* More records than one pool of nonces holds. */
    for (size_t i = 0; i < 64; i++) {
        s_rest_nonce_of(key, nonces[i]);
        for (size_t j = 0; j < i; j++)
            cr_assert(memcmp(nonces[i], nonces[j], 24) != 0, "record %zu repeats %zu's nonce", i,
                      j);
    }
    /* A forked child must not take the nonce its parent takes next from the pool it inherited. */
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        uint8_t n[24];
        s_rest_nonce_of(key, n);
        _exit(write(fds[1], n, sizeof n) == (ssize_t)sizeof n ? 0 : 1);
    }
    uint8_t mine[24], child[24];
    s_rest_nonce_of(key, mine);
    cr_assert_eq(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fds[0]);
    close(fds[1]);
    cr_assert(memcmp(mine, child, 24) != 0, "a forked child repeated its parent's next nonce");
}

Test(seal, blind_index_is_deterministic_and_key_dependent)
{
    uint8_t k1[32], k2[32], a[16], b[16], c[16], d[16];
    memset(k1, 1, sizeof k1);
    memset(k2, 2, sizeof k2);
    const uint8_t ref[] = "LA7-2026-000123";
    const uint8_t ref2[] = "LA7-2026-000124";
    seal_blind(k1, ref, sizeof ref - 1, a);
    seal_blind(k1, ref, sizeof ref - 1, b);
    seal_blind(k2, ref, sizeof ref - 1, c);
    seal_blind(k1, ref2, sizeof ref2 - 1, d);
    cr_assert_arr_eq(a, b, 16);
    cr_assert_neq(memcmp(a, c, 16), 0);
    cr_assert_neq(memcmp(a, d, 16), 0);
    uint8_t expect[16];
    crypto_generichash(expect, 16, ref, sizeof ref - 1, k1, 32);
    cr_assert_arr_eq(a, expect, 16, "blind index is keyed BLAKE2b-128");
}

/* ---------------------------------------------------------------------------------------- */
/* Secrets locked between uses */

/* Whether the kernel can read LEN bytes at P: write() to a pipe copies from our memory and fails
 * with EFAULT on a PROT_NONE page instead of raising SIGSEGV (so this works under ASan too). */
static int s_readable(const void *p, size_t len)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    ssize_t w = write(fds[1], p, len);
    close(fds[0]);
    close(fds[1]);
    return w == (ssize_t)len;
}

Test(seal, protected_keys_unreadable_between_uses)
{
    seal_keys_t *keys = seal_keys_generate(TACNET__AGENCY__SCHOOL, 1);
    cr_assert_not_null(keys);
    cr_assert(s_readable(keys->seal_sk, SEAL_KEY_BYTES), "a fresh set is readable");
    cr_assert_eq(seal_keys_protect(keys), 0);
    cr_expect(!s_readable(keys->sign_sk, SEAL_SIGN_SK_BYTES), "sign_sk readable while locked");
    cr_expect(!s_readable(keys->curve_sk, SEAL_KEY_BYTES), "curve_sk readable while locked");
    cr_expect(!s_readable(keys->seal_sk, SEAL_KEY_BYTES), "seal_sk readable while locked");
    /* Unlocks nest: the set locks again only with the last lock. */
    cr_assert_eq(seal_keys_unlock(keys), 0);
    cr_assert_eq(seal_keys_unlock(keys), 0);
    cr_expect(s_readable(keys->seal_sk, SEAL_KEY_BYTES));
    uint8_t pk[SEAL_KEY_BYTES];
    crypto_scalarmult_base(pk, keys->seal_sk);
    cr_expect_arr_eq(pk, keys->seal_pk, SEAL_KEY_BYTES);
    seal_keys_lock(keys);
    cr_expect(s_readable(keys->seal_sk, SEAL_KEY_BYTES), "locked before the last lock");
    seal_keys_lock(keys);
    cr_expect(!s_readable(keys->seal_sk, SEAL_KEY_BYTES), "still readable after the last lock");
    seal_keys_lock(keys); /* an unmatched lock changes nothing */
    cr_assert_eq(seal_keys_unlock(keys), 0);
    cr_expect(s_readable(keys->seal_sk, SEAL_KEY_BYTES));
    seal_keys_lock(keys);
    seal_keys_destroy(&keys); /* sodium_free wipes a locked region too */
}

Test(seal, protected_keys_still_seal_open_save_and_give_curve_z85)
{
    world_t w;
    s_world_init(&w);
    char z85_before[SEAL_Z85_BYTES], z85_after[SEAL_Z85_BYTES];
    seal_z85(w.school->curve_sk, z85_before);
    cr_assert_eq(seal_keys_protect(w.sender), 0);
    cr_assert_eq(seal_keys_protect(w.school), 0);
    cr_assert_eq(seal_keys_curve_z85(w.school, z85_after), 0);
    cr_expect_str_eq(z85_after, z85_before);
    cr_expect(!s_readable(w.school->curve_sk, SEAL_KEY_BYTES), "curve_z85 left the set open");

    /* A second event from the protected sender; both open at the protected school. */
    seal_recipient_t r = s_rcpt(w.school);
    uint8_t *sealed = NULL, sig[SEAL_SIG_BYTES];
    size_t len = 0;
    cr_assert_eq(seal_event(w.sctx, w.header, sizeof w.header, w.body, sizeof w.body, &r, 1,
                            &sealed, &len, sig),
                 0);
    cr_assert_eq(seal_verify(w.sender->sign_pk, w.header, sizeof w.header, sealed, len, sig), 0);
    cr_expect_eq(s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header, sealed, len),
                 0);
    cr_expect_eq(
        s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header, w.sealed, w.sealed_len),
        0);
    /* A hold across a batch, nested with the calls' own. */
    cr_assert_eq(seal_ctx_hold(w.school_ctx), 0);
    for (int i = 0; i < 3; i++)
        cr_expect_eq(
            s_open(w.school_ctx, w.sender->seal_pk, w.header, sizeof w.header, sealed, len), 0);
    seal_ctx_release(w.school_ctx);
    cr_expect(!s_readable(w.school->seal_sk, SEAL_KEY_BYTES), "the hold left the set open");
    cr_expect(!s_readable(w.sender->sign_sk, SEAL_SIGN_SK_BYTES), "seal_event left the set open");

    /* Saved from its locked state, the set loads back the same. */
    char *tmp = s_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/keys/school.key", tmp);
    cr_assert_eq(seal_keys_save(w.school, path), 0);
    seal_keys_t *loaded = NULL;
    char why[256];
    cr_assert_eq(seal_keys_load(path, &loaded, why, sizeof why), 0, "%s", why);
    cr_assert_eq(seal_keys_unlock(w.school), 0);
    cr_expect_arr_eq(loaded->seal_sk, w.school->seal_sk, SEAL_KEY_BYTES);
    cr_expect_arr_eq(loaded->sign_sk, w.school->sign_sk, SEAL_SIGN_SK_BYTES);
    seal_keys_lock(w.school);
    seal_keys_destroy(&loaded);
    s_rmtree(tmp);
    free(tmp);
    free(sealed);
    s_world_fini(&w);
}

Test(seal, hand_made_key_set_is_never_locked)
{
    seal_keys_t k;
    memset(&k, 0, sizeof k);
    k.sign_sk = sodium_malloc(SEAL_SIGN_SK_BYTES);
    cr_assert_not_null(k.sign_sk);
    cr_expect_eq(seal_keys_protect(&k), TACNET_EINVAL);
    cr_expect_eq(seal_keys_unlock(&k), 0);
    seal_keys_lock(&k);
    cr_expect(s_readable(k.sign_sk, SEAL_SIGN_SK_BYTES));
    char z85[SEAL_Z85_BYTES];
    cr_expect_eq(seal_keys_curve_z85(&k, z85), TACNET_EINVAL, "no CURVE secret");
    sodium_free(k.sign_sk);
}

/* Several threads open at once from a protected set with no hold: each call's own unlock and
 * lock must never lock the keys under another thread still using them. */
typedef struct open_thread {
    world_t *w;
    int failures;
} open_thread_t;

static void *s_open_loop(void *arg)
{
    open_thread_t *t = arg;
    for (int i = 0; i < 300; i++) {
        uint8_t *body = NULL;
        size_t blen = 0;
        if (seal_open(t->w->social_ctx, t->w->sender->seal_pk, t->w->header, sizeof t->w->header,
                      t->w->sealed, t->w->sealed_len, &body, &blen) != 0)
            t->failures++;
        free(body);
    }
    return NULL;
}

Test(seal, protected_open_from_several_threads)
{
    world_t w;
    s_world_init(&w);
    cr_assert_eq(seal_keys_protect(w.social), 0);
    cr_assert_eq(seal_ctx_warm(w.social_ctx, w.sender->seal_pk), 0);
    pthread_t th[4];
    open_thread_t t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (open_thread_t){ .w = &w };
        cr_assert_eq(pthread_create(&th[i], NULL, s_open_loop, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(t[i].failures, 0, "thread %d: %d opens failed", i, t[i].failures);
    }
    cr_expect(!s_readable(w.social->seal_sk, SEAL_KEY_BYTES));
    s_world_fini(&w);
}
