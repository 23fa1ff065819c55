/* vault: the agency daemon's keys at rest and the operations on them (see vault.h). */
#include "agency/vault.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"

#define VAULT_AD_MAX 64

/* The derivation labels: part of the on-disk format (a view opens only under the same keys). */
#define VAULT_REST_LABEL  "tacnet-at-rest/1"
#define VAULT_BLIND_LABEL "tacnet-blind/1"

struct agency_vault {
    uint8_t *keys; /* sodium_malloc: the rest key, then the blind key */
    pthread_mutex_t lock;
    unsigned opens; /* holds not yet released; the keys are readable while > 0 */
};

static const uint8_t *s_rest(const agency_vault_t *self)
{
    return self->keys;
}

static const uint8_t *s_blind_key(const agency_vault_t *self)
{
    return self->keys + SEAL_KEY_BYTES;
}

static int s_derive(const seal_keys_t *keys, uint8_t *out)
{
    int rc = seal_keys_unlock(keys);
    if (rc != 0)
        return rc;
    if (crypto_generichash(out, SEAL_KEY_BYTES, (const uint8_t *)VAULT_REST_LABEL,
                           strlen(VAULT_REST_LABEL), keys->seal_sk, SEAL_KEY_BYTES) != 0 ||
        crypto_generichash(out + SEAL_KEY_BYTES, SEAL_KEY_BYTES, (const uint8_t *)VAULT_BLIND_LABEL,
                           strlen(VAULT_BLIND_LABEL), keys->seal_sk, SEAL_KEY_BYTES) != 0)
        rc = TACNET_ECONFIG;
    seal_keys_lock(keys);
    return rc;
}

int agency_vault_new(const seal_keys_t *keys, agency_vault_t **out)
{
    if (!keys || !keys->seal_sk || !out)
        return TACNET_EINVAL;
    *out = NULL;
    agency_vault_t *self = xcalloc(1, sizeof(*self));
    int rc = 0;
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self);
        return TACNET_ENOMEM;
    }
    if (!(self->keys = sodium_malloc(2 * SEAL_KEY_BYTES))) {
        rc = TACNET_ENOMEM;
        goto fail;
    }
    if ((rc = s_derive(keys, self->keys)) != 0)
        goto fail;
    if (sodium_mprotect_noaccess(self->keys) != 0) {
        rc = TACNET_ECONFIG;
        goto fail;
    }
    *out = self;
    return 0;
fail:
    agency_vault_destroy(&self);
    return rc;
}

void agency_vault_destroy(agency_vault_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agency_vault_t *self = *self_p;
    sodium_free(self->keys); /* writable again, wiped, unmapped */
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int agency_vault_hold(agency_vault_t *self)
{
    if (!self)
        return TACNET_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&self->lock);
    if (self->opens == 0 && sodium_mprotect_readonly(self->keys) != 0)
        rc = TACNET_EINVAL;
    else
        self->opens++;
    pthread_mutex_unlock(&self->lock);
    return rc;
}

void agency_vault_release(agency_vault_t *self)
{
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    /* Dropping rights from an existing mapping fails only if the kernel cannot split it (out of
     * memory); the keys then stay readable until the next release manages it. */
    if (self->opens > 0 && --self->opens == 0)
        (void)sodium_mprotect_noaccess(self->keys);
    pthread_mutex_unlock(&self->lock);
}

void agency_vault_blind(agency_vault_t *self, const uint8_t *ref, size_t len,
                        uint8_t out[AGENCY_VAULT_BLIND_BYTES])
{
    if (agency_vault_hold(self) != 0) {
        log_error("cannot unlock the blind index key (mprotect refused): stopping");
        abort();
    }
    seal_blind(s_blind_key(self), ref, len, out);
    agency_vault_release(self);
}

/* AD = DB || KEY, as every record at rest is bound. Returns its length, 0 if it does not fit. */
static size_t s_ad(uint8_t ad[VAULT_AD_MAX], const char *db, const void *key, size_t klen)
{
    size_t dl = strlen(db);
    if (dl > VAULT_AD_MAX || klen > VAULT_AD_MAX - dl)
        return 0;
    memcpy(ad, db, dl);
    memcpy(ad + dl, key, klen);
    return dl + klen;
}

/* The key to use, held when it is the rest key (release with s_key_done). */
static int s_key(agency_vault_t *self, const agency_vault_case_key_t *ck, const uint8_t **k)
{
    if (ck) {
        *k = ck->k;
        return 0;
    }
    int rc = agency_vault_hold(self);
    *k = rc == 0 ? s_rest(self) : NULL;
    return rc;
}

static void s_key_done(agency_vault_t *self, const agency_vault_case_key_t *ck)
{
    if (!ck)
        agency_vault_release(self);
}

int agency_vault_seal(agency_vault_t *self, const agency_vault_case_key_t *ck, const char *db,
                      const void *key, size_t klen, const uint8_t *prefix, size_t plen,
                      const uint8_t *val, size_t vlen, uint8_t **out, size_t *outlen)
{
    uint8_t ad[VAULT_AD_MAX];
    size_t adl = s_ad(ad, db, key, klen);
    if (!adl || (!prefix && plen) || !out || !outlen)
        return TACNET_EINVAL;
    const uint8_t *k = NULL;
    uint8_t *enc = NULL;
    size_t elen = 0;
    int rc = s_key(self, ck, &k);
    if (rc != 0)
        return rc;
    rc = seal_at_rest_encrypt(k, ad, adl, val, vlen, &enc, &elen);
    s_key_done(self, ck);
    if (rc != 0)
        return rc;
    if (plen) {
        /* Ciphertext only moves here; the plaintext never leaves the caller's buffer. */
        uint8_t *buf = xmalloc(plen + elen);
        memcpy(buf, prefix, plen);
        memcpy(buf + plen, enc, elen);
        free(enc);
        enc = buf;
        elen += plen;
    }
    *out = enc;
    *outlen = elen;
    return 0;
}

int agency_vault_open(agency_vault_t *self, const agency_vault_case_key_t *ck, const char *db,
                      const void *key, size_t klen, const uint8_t *in, size_t len, uint8_t **out,
                      size_t *outlen)
{
    uint8_t ad[VAULT_AD_MAX];
    size_t adl = s_ad(ad, db, key, klen);
    if (!adl || !out || !outlen)
        return TACNET_EINVAL;
    *out = NULL;
    *outlen = 0;
    const uint8_t *k = NULL;
    int rc = s_key(self, ck, &k);
    if (rc != 0)
        return rc;
    rc = seal_at_rest_decrypt(k, ad, adl, in, len, out, outlen) == 0 ? 0 : TACNET_ECORRUPT;
    s_key_done(self, ck);
    return rc;
}

int agency_vault_case_key_new(agency_vault_t *self, const uint8_t blind[AGENCY_VAULT_BLIND_BYTES],
                              agency_vault_case_key_t *ck, uint8_t **wrapped, size_t *wlen)
{
    randombytes_buf(ck->k, sizeof(ck->k));
    int rc = agency_vault_seal(self, NULL, "case_keys", blind, AGENCY_VAULT_BLIND_BYTES, NULL, 0,
                               ck->k, sizeof(ck->k), wrapped, wlen);
    if (rc != 0)
        agency_vault_case_key_wipe(ck);
    return rc;
}

int agency_vault_case_key_open(agency_vault_t *self, const uint8_t blind[AGENCY_VAULT_BLIND_BYTES],
                               const uint8_t *wrapped, size_t wlen, agency_vault_case_key_t *ck)
{
    uint8_t *k = NULL;
    size_t n = 0;
    int rc = agency_vault_open(self, NULL, "case_keys", blind, AGENCY_VAULT_BLIND_BYTES, wrapped,
                               wlen, &k, &n);
    if (rc == 0 && n != sizeof(ck->k))
        rc = TACNET_ECORRUPT;
    if (rc == 0)
        memcpy(ck->k, k, sizeof(ck->k));
    if (k) {
        sodium_memzero(k, n);
        free(k);
    }
    return rc;
}

void agency_vault_case_key_wipe(agency_vault_case_key_t *ck)
{
    sodium_memzero(ck->k, sizeof(ck->k));
}
