#define _GNU_SOURCE /* memfd_create */
/* fuzz_targets: the decoders that bytes from outside reach (see fuzz_targets.h; docs/RELIABILITY.md
 * T11). */
#include "fuzz_targets.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "casework/intake.h"
#include "casework/profile.h"
#include "api.pb-c.h"
#include "cfg.h"
#include "err.h"
#include "events.pb-c.h"
#include "merkle.h"
#include "policy.h"
#include "roster.h"
#include "seal_internal.h"
#include "roster.pb-c.h"
#include "wire.h"

/* The gazetteer the daemons load, once per process. */
static const policy_t *s_policy(void)
{
    static policy_t *p;
    if (!p) {
        const char *src = getenv("TACNET_SRC");
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/deploy/gazetteer", src && *src ? src : ".");
        int err = 0;
        p = policy_new(dir, &err);
        if (!p) {
            fprintf(stderr, "fuzz: cannot load the gazetteer from %s (set TACNET_SRC)\n", dir);
            abort();
        }
    }
    return p;
}

/* F3: the clear Header, exactly as the broker and the daemons decode it. */
int fuzz_header(const uint8_t *data, size_t len)
{
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(data, len, &err);
    if (h) {
        (void)policy_case_ref_check(h->case_ref.data, h->case_ref.len);
        (void)policy_initials_check(h->initials.data, h->initials.len);
        wire_free(&h->base);
    }
    return 0;
}

/* F2: a command header; the first byte picks the command. */
int fuzz_ctl(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    int err = 0;
    ProtobufCMessage *m = wire_ctl_unpack(data[0], data + 1, len - 1, &err);
    wire_free(m);
    return 0;
}

/* Every string in a decoded message goes through the identifier text check, as the daemon does
 * on receipt. */
static void s_walk(const ProtobufCMessage *m, int depth)
{
    if (!m || depth > 8)
        return;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m + f->offset;
        size_t n = 1;
        const void *vals = base;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)((const char *)m + f->quantifier_offset);
            vals = *(const void *const *)base;
        }
        for (size_t k = 0; k < n; k++) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                const char *s = ((const char *const *)vals)[k];
                if (s) {
                    policy_finding_t out[16];
                    size_t nf = 0;
                    (void)policy_text_check(s_policy(), NULL, s, strlen(s), out, 16, &nf);
                }
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                s_walk(((const ProtobufCMessage *const *)vals)[k], depth + 1);
            }
        }
    }
}

/* F4 once opened: a Body, unpacked within a budget, then every free-text field text-checked. */
int fuzz_body(const uint8_t *data, size_t len)
{
    int err = 0;
    ProtobufCMessage *b = wire_unpack(&tacnet__body__descriptor, data, len, 0, 0, &err);
    s_walk(b, 0);
    wire_free(b);
    return 0;
}

/* The identifier policy on raw text (lines from `tacnet policy check`, API free text). */
int fuzz_policy_text(const uint8_t *data, size_t len)
{
    policy_finding_t out[64];
    size_t nf = 0;
    (void)policy_text_check(s_policy(), NULL, (const char *)data, len, out, 64, &nf);
    return 0;
}

/* A signed roster. First byte 0: the bytes as a SignedRoster file; otherwise the rest is the
 * inner Roster, signed here with a fixed root key so the fuzzer reaches the checks that run
 * after the signature. */
int fuzz_roster(const uint8_t *data, size_t len)
{
    static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    static int ready;
    if (!ready) {
        uint8_t seed[crypto_sign_SEEDBYTES] = { 7 };
        if (sodium_init() < 0)
            abort();
        crypto_sign_seed_keypair(pk, sk, seed);
        ready = 1;
    }
    if (len < 1)
        return 0;
    int err = 0;
    roster_t *r = NULL;
    if (data[0] == 0) {
        r = roster_parse(data + 1, len - 1, pk, &err);
    } else {
        static const char ctx[] = "TACNET-ROSTER/1";
        size_t n = len - 1, cl = sizeof(ctx) - 1;
        uint8_t *msg = malloc(cl + n + 1), sig[crypto_sign_BYTES];
        memcpy(msg, ctx, cl);
        memcpy(msg + cl, data + 1, n);
        crypto_sign_detached(sig, NULL, msg, cl + n, sk);
        free(msg);
        Tacnet__SignedRoster sr = TACNET__SIGNED_ROSTER__INIT;
        sr.roster = (ProtobufCBinaryData){ n, (uint8_t *)(uintptr_t)(data + 1) };
        sr.signature = (ProtobufCBinaryData){ sizeof(sig), sig };
        size_t plen = 0;
        uint8_t *packed = wire_pack(&sr.base, &plen);
        r = roster_parse(packed, plen, pk, &err);
        free(packed);
    }
    if (r) {
        uint64_t now = 1700000000000ull;
        for (uint32_t a = 0; a < 16; a++) {
            (void)roster_key_current(r, a, now);
            (void)roster_may_see(r, a, a % 5, a & 1);
        }
    }
    roster_destroy(&r);
    return 0;
}

/* A local API request, decoded as the daemon decodes it. */
int fuzz_api_request(const uint8_t *data, size_t len)
{
    int err = 0;
    ProtobufCMessage *m = wire_unpack(&tacnet__api_request__descriptor, data, len, 0, 0, &err);
    s_walk(m, 0);
    wire_free(m);
    return 0;
}

/* A config file against a table with every option type. */
int fuzz_cfg(const uint8_t *data, size_t len)
{
    static const cfg_option_t table[] = {
        { "broker", "bind", CFG_STRING, "tcp://127.0.0.1:*", 0, 0, 0, "", CFG_NO_FIELD },
        { "broker", "data_dir", CFG_PATH, NULL, 0, 0, 1, "", CFG_NO_FIELD },
        { "broker", "map_size_mb", CFG_INT, "64", 1, 65536, 0, "", CFG_NO_FIELD },
        { "broker", "sync", CFG_BOOL, "yes", 0, 0, 0, "", CFG_NO_FIELD },
        { "broker", "heartbeat_ms", CFG_DURATION, "1s", 10, 600000, 0, "", CFG_NO_FIELD },
        { "log", "level", CFG_STRING, "info", 0, 0, 0, "", CFG_NO_FIELD },
    };
    char *text = malloc(len + 1);
    memcpy(text, data, len);
    text[len] = 0;
    int err = 0;
    char why[256];
    cfg_t *c = cfg_load_string(text, "/tmp/fuzz.conf", table, sizeof(table) / sizeof(table[0]),
                               &err, why, sizeof(why));
    if (c) {
        (void)cfg_str(c, "broker", "bind");
        (void)cfg_int(c, "broker", "map_size_mb");
        (void)cfg_bool(c, "broker", "sync");
        (void)cfg_duration_ms(c, "broker", "heartbeat_ms");
    }
    cfg_destroy(&c);
    free(text);
    return 0;
}

/* An intake file for one of the four agencies (the first byte picks it), read through a
 * memory file so the adapter reads it as it would a real one. */
int fuzz_intake(const uint8_t *data, size_t len)
{
    const agency_profile_t *profiles[] = { &camhs_profile, &school_profile,
                                           &health_visiting_profile, &social_care_profile };
    if (len < 1)
        return 0;
    const agency_profile_t *p = profiles[data[0] % 4];
    int fd = memfd_create("intake", 0);
    if (fd < 0)
        return 0;
    size_t off = 1;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    intake_result_t r = { 0 };
    (void)p->intake(path, &r);
    intake_result_clear(&r);
    close(fd);
    return 0;
}

/* The path memo against the full walk: a real batch of 13 events (signed once per process),
 * the memo warmed with one of its events, then another event checked with its frame changed by
 * the input (XORed in from the third byte on). The answer with the memo warm must be the one
 * from scratch, whatever the bytes. */
static void s_merkle_memo(const uint8_t *data, size_t len)
{
    enum { N = 13 };
    static uint8_t frames[N * MERKLE_FRAME_MAX], digests[N * SEAL_DIGEST_LEN], pk[SEAL_KEY_BYTES];
    static size_t lens[N];
    static const uint8_t *headers[N];
    static size_t hlens[N];
    static char text[N][24];
    static merkle_cache_t *cache;
    if (!cache) {
        uint8_t seed[32] = { 7 };
        if (seal_init() != 0)
            abort();
        seal_keys_t *k = seal_keys_from_seeds(1, 1, seed, seed, seed);
        seal_ctx_t *ctx = k ? seal_ctx_new(k) : NULL;
        if (!ctx)
            abort();
        for (size_t i = 0; i < N; i++) {
            snprintf(text[i], sizeof(text[i]), "event %zu", i);
            headers[i] = (const uint8_t *)text[i];
            hlens[i] = strlen(text[i]);
            seal_digest(headers[i], hlens[i], digests + i * SEAL_DIGEST_LEN);
        }
        memcpy(pk, k->sign_pk, SEAL_KEY_BYTES);
        if (merkle_sign(ctx, headers, hlens, digests, N, frames, lens) != 0)
            abort();
        seal_ctx_destroy(&ctx);
        seal_keys_destroy(&k);
        cache = merkle_cache_new();
    }
    if (len < 2)
        return;
    size_t w = data[0] % N, e = data[1] % N;
    if (merkle_verify_digest(cache, pk, headers[w], hlens[w], digests + w * SEAL_DIGEST_LEN,
                             frames + w * MERKLE_FRAME_MAX, lens[w]) != 0)
        abort(); /* a valid event of the batch */
    uint8_t f[MERKLE_FRAME_MAX];
    size_t flen = lens[e];
    memcpy(f, frames + e * MERKLE_FRAME_MAX, flen);
    for (size_t i = 2; i < len && i - 2 < flen; i++)
        f[i - 2] ^= data[i];
    const uint8_t *d = digests + e * SEAL_DIGEST_LEN;
    int cold = merkle_verify_digest(NULL, pk, headers[e], hlens[e], d, f, flen);
    int warm = merkle_verify_digest(cache, pk, headers[e], hlens[e], d, f, flen);
    if (warm != cold)
        abort();
}

int fuzz_merkle(const uint8_t *data, size_t len)
{
    /* The frame alone, as a recipient gets it: decoded, its path walked from a leaf made of the
     * same bytes, and verified against a fixed key (which must refuse it, never crash). */
    static const uint8_t pk[SEAL_KEY_BYTES] = { 0x5a };
    merkle_proof_t p;
    uint8_t leaf[MERKLE_HASH_BYTES], root[MERKLE_HASH_BYTES], digest[SEAL_DIGEST_LEN] = { 0 };
    (void)merkle_frame_len_ok(len);
    if (merkle_proof_decode(data, len, &p) == 0) {
        merkle_leaf(data, len < 16 ? len : 16, digest, leaf);
        (void)merkle_root_from_path(leaf, p.index, p.size, p.siblings, p.depth, root);
    }
    if (len > 0 &&
        merkle_verify_digest(NULL, pk, data, len < 32 ? len : 32, digest, data, len) == 0)
        abort(); /* nothing random verifies */
    s_merkle_memo(data, len);
    return 0;
}

int fuzz_frame(const uint8_t *data, size_t len)
{
    /* The whole message frame as wire_recv gets it from libzmq, split by wire_decode; every
     * part it hands out must lie inside the frame, in order, the lengths adding up, and then
     * goes to the decoder that part meets in the broker and the daemons. */
    wire_msg_t m;
    memset(&m, 0, sizeof(m));
    if (wire_decode(data, len, &m) != 0) {
        if (m.ctl || m.header || m.sealed || m.sig || m.batch || m.ctl_len || m.sig_len)
            abort(); /* a refused message hands out nothing */
        return 0;
    }
    const uint8_t *end = data + len;
    if (m.ctl != data + WIRE_FIXED_BYTES || m.ctl + m.ctl_len > end || m.ctl_len > WIRE_MAX_CTL)
        abort();
    if (m.header) {
        if (m.header != m.ctl + m.ctl_len + WIRE_LEN_BYTES || m.header_len > WIRE_MAX_HEADER ||
            m.sealed != m.header + m.header_len + WIRE_LEN_BYTES ||
            m.sealed_len > WIRE_MAX_SEALED || m.sig != m.sealed + m.sealed_len ||
            m.sig + m.sig_len != end || !merkle_frame_len_ok(m.sig_len))
            abort();
        int err = 0;
        Tacnet__Header *h = wire_header_unpack(m.header, m.header_len, &err);
        wire_free(h ? &h->base : NULL);
        merkle_proof_t p;
        (void)merkle_proof_decode(m.sig, m.sig_len, &p);
    } else if (m.cmd == WIRE_DELIVERS || m.cmd == WIRE_PUBACKS) {
        /* Each message in it lies inside the batch, right after the one before, and is of the
         * command the batch holds. */
        uint8_t inner = m.cmd == WIRE_DELIVERS ? WIRE_DELIVER : WIRE_PUBACK;
        if (!m.batch || m.ctl_len != 0 || m.batch != m.ctl || m.batch + m.batch_len != end)
            abort();
        wire_msg_t sub;
        size_t off = 0, n = 0;
        const uint8_t *after = m.batch;
        memset(&sub, 0, sizeof(sub));
        while (wire_batch_next(&m, &off, &sub)) {
            const uint8_t *sub_end = sub.header ? sub.sig + sub.sig_len : sub.ctl + sub.ctl_len;
            if (sub.cmd != inner || sub.ctl < after || (inner == WIRE_DELIVER) != !!sub.header ||
                sub_end != m.batch + off || ++n > WIRE_BATCH_MAX)
                abort();
            after = sub_end;
            memset(&sub, 0, sizeof(sub));
        }
        if (n == 0 || off != m.batch_len)
            abort();
        return 0;
    } else if (m.sealed || m.sig || m.batch || m.ctl + m.ctl_len != end) {
        abort();
    }
    int err = 0;
    wire_free(wire_ctl_unpack(m.cmd, m.ctl, m.ctl_len, &err));
    return 0;
}

const fuzz_target_t fuzz_targets[] = {
    { "header", fuzz_header }, { "ctl", fuzz_ctl },
    { "body", fuzz_body },     { "policy_text", fuzz_policy_text },
    { "roster", fuzz_roster }, { "api_request", fuzz_api_request },
    { "cfg", fuzz_cfg },       { "intake", fuzz_intake },
    { "merkle", fuzz_merkle }, { "frame", fuzz_frame },
};
const size_t fuzz_n_targets = sizeof(fuzz_targets) / sizeof(fuzz_targets[0]);
