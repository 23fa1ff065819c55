/* seal: node keys, key files and end-to-end event sealing. See seal.h for the format. */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bytes.h"
#include "err.h"
#include "seal_internal.h"

#define SEAL_AD_PREFIX    "TACNET/1"
#define SEAL_SIG_PREFIX   "TACNET-SIG/1"
#define SEAL_DIGEST_BYTES 32
#define SEAL_TAG_BYTES    crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_ENTRY_BYTES  (1 + 4 + SEAL_WRAP_BYTES)
#define SEAL_HEAD_BYTES   (2 * SEAL_NONCE_BYTES + 1)
#define SEAL_COUNT_OFFSET (2 * SEAL_NONCE_BYTES)
#define SEAL_CACHE_SLOTS  32
#define SEAL_KEYFILE_MAX  4096
#define SEAL_BLIND_BYTES  16

_Static_assert(SEAL_CTX_WARM_MAX <= SEAL_CACHE_SLOTS, "warmed keys must all stay cached");
_Static_assert(crypto_box_NONCEBYTES == SEAL_NONCE_BYTES, "wrap nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == SEAL_NONCE_BYTES, "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == SEAL_KEY_BYTES, "key size");
_Static_assert(crypto_box_MACBYTES + SEAL_KEY_BYTES == SEAL_WRAP_BYTES, "wrap size");
_Static_assert(crypto_box_BEFORENMBYTES == SEAL_KEY_BYTES, "shared key size");
_Static_assert(crypto_sign_SECRETKEYBYTES == SEAL_SIGN_SK_BYTES, "sign sk size");
_Static_assert(crypto_sign_BYTES == SEAL_SIG_BYTES, "signature size");

/* Protection state of a key set's secret region. OPENS counts the unlocks not yet locked again;
 * the region is readable while OPENS > 0, or always when the set was never protected. */
struct seal_guard {
    pthread_mutex_t lock;
    unsigned opens;
    bool armed; /* seal_keys_protect was called */
};

typedef struct seal_pair {
    uint8_t peer_pk[SEAL_KEY_BYTES];
    uint8_t shared[crypto_box_BEFORENMBYTES];
} seal_pair_t;

struct seal_ctx {
    const seal_keys_t *mine;
    /* SEAL_CACHE_SLOTS entries plus one scratch slot, so a failed beforenm never leaves a
     * half-written entry that a later lookup could match. Each pairwise key opens and forges
     * the wraps between us and that peer, so the cache is as secret as the sealing key: it is
     * PROT_NONE except while an operation or a hold (OPENS > 0) uses it. */
    seal_pair_t *cache;
    size_t used;
    size_t victim;
    pthread_mutex_t lock; /* OPENS, and the cache's protection with it */
    unsigned opens;       /* cache opens not yet closed (seal_ctx_hold counts as one) */
};

int seal_init(void)
{
    return sodium_init() < 0 ? TACNET_EINVAL : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Key sets */

/* Bytes of the one secret region: sign_sk first (every set has it), then curve_sk and seal_sk. One
 * region, so that locking or unlocking a set is one mprotect. */
#define SEAL_SECRET_BYTES (SEAL_SIGN_SK_BYTES + 2 * SEAL_KEY_BYTES)

static seal_keys_t *s_keys_new(bool full)
{
    seal_keys_t *self = xcalloc(1, sizeof *self);
    self->guard = xcalloc(1, sizeof *self->guard);
    if (pthread_mutex_init(&self->guard->lock, NULL) != 0) {
        free(self->guard);
        free(self);
        return NULL;
    }
    self->sign_sk = sodium_malloc(full ? SEAL_SECRET_BYTES : SEAL_SIGN_SK_BYTES);
    if (!self->sign_sk) {
        seal_keys_destroy(&self);
        return NULL;
    }
    if (full) {
        self->curve_sk = self->sign_sk + SEAL_SIGN_SK_BYTES;
        self->seal_sk = self->curve_sk + SEAL_KEY_BYTES;
    }
    return self;
}

void seal_keys_destroy(seal_keys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    seal_keys_t *self = *self_p;
    /* sodium_free makes the region writable, wipes it and unmaps it, locked or not. */
    sodium_free(self->sign_sk);
    if (self->guard) {
        pthread_mutex_destroy(&self->guard->lock);
        free(self->guard);
    }
    free(self);
    *self_p = NULL;
}

int seal_keys_protect(seal_keys_t *keys)
{
    if (!keys || !keys->guard || !keys->sign_sk)
        return TACNET_EINVAL;
    struct seal_guard *g = keys->guard;
    int rc = 0;
    pthread_mutex_lock(&g->lock);
    if (!g->armed && g->opens == 0 && sodium_mprotect_noaccess(keys->sign_sk) != 0)
        rc = TACNET_EINVAL;
    else
        g->armed = true;
    pthread_mutex_unlock(&g->lock);
    return rc;
}

int seal_keys_unlock(const seal_keys_t *keys)
{
    if (!keys || !keys->guard)
        return 0; /* a hand-made set (tests): never locked */
    struct seal_guard *g = keys->guard;
    int rc = 0;
    pthread_mutex_lock(&g->lock);
    if (g->armed && g->opens == 0 && sodium_mprotect_readonly(keys->sign_sk) != 0)
        rc = TACNET_EINVAL;
    else if (g->armed)
        g->opens++;
    pthread_mutex_unlock(&g->lock);
    return rc;
}

void seal_keys_lock(const seal_keys_t *keys)
{
    if (!keys || !keys->guard)
        return;
    struct seal_guard *g = keys->guard;
    pthread_mutex_lock(&g->lock);
    /* Going back to PROT_NONE only drops rights from a mapping that exists, so it fails only
     * if the kernel cannot split the mapping (out of memory); the secrets then stay readable
     * as they would be unprotected, and the next unlock and lock try again. */
    if (g->armed && g->opens > 0 && --g->opens == 0)
        (void)sodium_mprotect_noaccess(keys->sign_sk);
    pthread_mutex_unlock(&g->lock);
}

int seal_keys_curve_z85(const seal_keys_t *keys, char out[SEAL_Z85_BYTES])
{
    if (!keys || !keys->curve_sk || !out)
        return TACNET_EINVAL;
    int rc = seal_keys_unlock(keys);
    if (rc != 0)
        return rc;
    rc = zmq_z85_encode(out, keys->curve_sk, SEAL_KEY_BYTES) ? 0 : TACNET_EINVAL;
    seal_keys_lock(keys);
    return rc;
}

seal_keys_t *seal_keys_generate(uint32_t agency, uint32_t key_id)
{
    seal_keys_t *self = s_keys_new(true);
    if (!self)
        return NULL;
    self->agency = agency;
    self->key_id = key_id;
    crypto_box_keypair(self->curve_pk, self->curve_sk);
    crypto_sign_keypair(self->sign_pk, self->sign_sk);
    crypto_box_keypair(self->seal_pk, self->seal_sk);
    return self;
}

seal_keys_t *seal_keys_from_seeds(uint32_t agency, uint32_t key_id,
                                  const uint8_t curve_seed[SEAL_KEY_BYTES],
                                  const uint8_t sign_seed[SEAL_KEY_BYTES],
                                  const uint8_t seal_seed[SEAL_KEY_BYTES])
{
    seal_keys_t *self = s_keys_new(true);
    if (!self)
        return NULL;
    self->agency = agency;
    self->key_id = key_id;
    crypto_box_seed_keypair(self->curve_pk, self->curve_sk, curve_seed);
    crypto_sign_seed_keypair(self->sign_pk, self->sign_sk, sign_seed);
    crypto_box_seed_keypair(self->seal_pk, self->seal_sk, seal_seed);
    return self;
}

seal_keys_t *seal_root_generate(void)
{
    seal_keys_t *self = s_keys_new(false);
    if (!self)
        return NULL;
    crypto_sign_keypair(self->sign_pk, self->sign_sk);
    return self;
}

void seal_z85(const uint8_t key[SEAL_KEY_BYTES], char out[SEAL_Z85_BYTES])
{
    zmq_z85_encode(out, key, SEAL_KEY_BYTES);
}

/* ---------------------------------------------------------------------------------------- */
/* Key files */

enum seal_field {
    F_AGENCY,
    F_KEY_ID,
    F_CURVE_PK,
    F_CURVE_SK,
    F_SIGN_PK,
    F_SIGN_SK,
    F_SEAL_PK,
    F_SEAL_SK,
    F_COUNT
};

static const struct {
    const char *name;
    size_t len;
} s_fields[F_COUNT] = {
    [F_AGENCY] = { "agency", 4 },
    [F_KEY_ID] = { "key_id", 4 },
    [F_CURVE_PK] = { "curve_pk", SEAL_KEY_BYTES },
    [F_CURVE_SK] = { "curve_sk", SEAL_KEY_BYTES },
    [F_SIGN_PK] = { "sign_pk", SEAL_KEY_BYTES },
    [F_SIGN_SK] = { "sign_sk", SEAL_SIGN_SK_BYTES },
    [F_SEAL_PK] = { "seal_pk", SEAL_KEY_BYTES },
    [F_SEAL_SK] = { "seal_sk", SEAL_KEY_BYTES },
};

__attribute__((format(printf, 3, 4))) static void s_why(char *why, size_t whylen, const char *fmt,
                                                        ...)
{
    if (!why || whylen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* The directory holding PATH, into DIR (PATH_MAX bytes). */
static int s_dirname(const char *path, char *dir)
{
    size_t len = strlen(path);
    if (len == 0 || len >= PATH_MAX - 16)
        return TACNET_EINVAL;
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    return 0;
}

static int s_dir_check(const char *dir, const char *path, char *why, size_t whylen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        s_why(why, whylen, "%s: directory %s: %s", path, dir, strerror(errno));
        return errno == ENOENT ? TACNET_ENOTFOUND : TACNET_EIO;
    }
    if (!S_ISDIR(st.st_mode)) {
        s_why(why, whylen, "%s: %s is not a directory", path, dir);
        return TACNET_EIO;
    }
    if (st.st_mode & 077) {
        s_why(why, whylen, "%s: directory %s has mode %04o, must be 0700", path, dir,
              (unsigned)(st.st_mode & 07777));
        return TACNET_EPERM;
    }
    return 0;
}

/* Append "NAME HEX\n" to BUF (sodium_malloc'd) so secrets are hex-encoded only there. */
static void s_put_field(char *buf, size_t *off, enum seal_field f, const uint8_t *bin)
{
    size_t namelen = strlen(s_fields[f].name);
    memcpy(buf + *off, s_fields[f].name, namelen);
    *off += namelen;
    buf[(*off)++] = ' ';
    sodium_bin2hex(buf + *off, 2 * s_fields[f].len + 1, bin, s_fields[f].len);
    *off += 2 * s_fields[f].len;
    buf[(*off)++] = '\n';
}

static int s_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return errno == ENOSPC ? TACNET_EDISKFULL : TACNET_EIO;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int seal_keys_save(const seal_keys_t *keys, const char *path)
{
    if (!keys || !path || !keys->sign_sk)
        return TACNET_EINVAL;
    bool full = keys->curve_sk && keys->seal_sk;
    char dir[PATH_MAX], tmp[PATH_MAX];
    int rc = s_dirname(path, dir);
    if (rc)
        return rc;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return TACNET_EIO;
    rc = s_dir_check(dir, path, NULL, 0);
    if (rc)
        return rc;

    int fd = -1;
    bool created = false;
    char *buf = sodium_malloc(SEAL_KEYFILE_MAX);
    if (!buf)
        return TACNET_ENOMEM;
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = TACNET_EIO;
        goto fail;
    }
    created = true;
    if (fchmod(fd, 0600) != 0) {
        rc = TACNET_EIO;
        goto fail;
    }

    uint8_t agency[4], key_id[4];
    bytes_be32_put(agency, keys->agency);
    bytes_be32_put(key_id, keys->key_id);
    if ((rc = seal_keys_unlock(keys)) != 0)
        goto fail;
    size_t off = 0;
    s_put_field(buf, &off, F_AGENCY, agency);
    s_put_field(buf, &off, F_KEY_ID, key_id);
    if (full) {
        s_put_field(buf, &off, F_CURVE_PK, keys->curve_pk);
        s_put_field(buf, &off, F_CURVE_SK, keys->curve_sk);
    }
    s_put_field(buf, &off, F_SIGN_PK, keys->sign_pk);
    s_put_field(buf, &off, F_SIGN_SK, keys->sign_sk);
    if (full) {
        s_put_field(buf, &off, F_SEAL_PK, keys->seal_pk);
        s_put_field(buf, &off, F_SEAL_SK, keys->seal_sk);
    }
    seal_keys_lock(keys);
    rc = s_write_all(fd, buf, off);
    if (rc)
        goto fail;
    if (fsync(fd) != 0) {
        rc = TACNET_EIO;
        goto fail;
    }
    int cfd = fd;
    fd = -1;
    if (close(cfd) != 0 || rename(tmp, path) != 0) {
        rc = TACNET_EIO;
        goto fail;
    }
    created = false;
    /* The rename is durable only once the directory entry is. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0)
            rc = TACNET_EIO;
        close(dfd);
    }
fail:
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp);
    sodium_free(buf);
    return rc;
}

static int s_field_lookup(const char *name, size_t len)
{
    for (int f = 0; f < F_COUNT; f++)
        if (strlen(s_fields[f].name) == len && memcmp(s_fields[f].name, name, len) == 0)
            return f;
    return -1;
}

/* Destination of field F in SELF; agency and key id go to SCRATCH first (they are public). */
static uint8_t *s_field_dest(seal_keys_t *self, enum seal_field f, uint8_t scratch[2][4])
{
    switch (f) {
    case F_AGENCY:
        return scratch[0];
    case F_KEY_ID:
        return scratch[1];
    case F_CURVE_PK:
        return self->curve_pk;
    case F_CURVE_SK:
        return self->curve_sk;
    case F_SIGN_PK:
        return self->sign_pk;
    case F_SIGN_SK:
        return self->sign_sk;
    case F_SEAL_PK:
        return self->seal_pk;
    case F_SEAL_SK:
        return self->seal_sk;
    default:
        return NULL;
    }
}

/* Check that each secret belongs to its public half, so a file with mixed-up keys fails here
 * rather than as undecryptable traffic later. Returns the field at fault or -1. */
static int s_keys_consistent(const seal_keys_t *self)
{
    uint8_t pk[SEAL_KEY_BYTES];
    int bad = -1;
    uint8_t *sk = sodium_malloc(SEAL_SIGN_SK_BYTES);
    if (!sk)
        return F_SIGN_SK;
    /* The first 32 bytes are the seed. */
    if (crypto_sign_seed_keypair(pk, sk, self->sign_sk) != 0 ||
        sodium_memcmp(sk, self->sign_sk, SEAL_SIGN_SK_BYTES) != 0 ||
        memcmp(pk, self->sign_pk, SEAL_KEY_BYTES) != 0)
        bad = F_SIGN_SK;
    sodium_free(sk);
    if (bad < 0 && self->curve_sk) {
        if (crypto_scalarmult_base(pk, self->curve_sk) != 0 ||
            memcmp(pk, self->curve_pk, SEAL_KEY_BYTES) != 0)
            bad = F_CURVE_SK;
    }
    if (bad < 0 && self->seal_sk) {
        if (crypto_scalarmult_base(pk, self->seal_sk) != 0 ||
            memcmp(pk, self->seal_pk, SEAL_KEY_BYTES) != 0)
            bad = F_SEAL_SK;
    }
    return bad;
}

/* Parse the NUL-terminated text in BUF (sodium_malloc'd) into *OUT. */
static int s_keys_parse(char *buf, const char *path, seal_keys_t **out, char *why, size_t whylen)
{
    int line_of[F_COUNT] = { 0 };
    uint8_t scratch[2][4] = { { 0 } };
    /* Room for a full node set; a root file's unused secrets are wiped and unused after parsing. */
    seal_keys_t *self = s_keys_new(true);
    if (!self)
        return TACNET_ENOMEM;
    int rc = TACNET_EBADMSG;
    int lineno = 0;
    char *p = buf;
    while (*p) {
        lineno++;
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        char *end = eol ? eol : next;
        if (end == p || *p == '#') {
            p = next;
            continue;
        }
        char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp) {
            s_why(why, whylen, "%s line %d: expected 'name hex'", path, lineno);
            goto fail;
        }
        int f = s_field_lookup(p, (size_t)(sp - p));
        if (f < 0) {
            s_why(why, whylen, "%s line %d: unknown field", path, lineno);
            goto fail;
        }
        if (line_of[f]) {
            s_why(why, whylen, "%s line %d: %s given twice", path, lineno, s_fields[f].name);
            goto fail;
        }
        line_of[f] = lineno;
        uint8_t *dest = s_field_dest(self, (enum seal_field)f, scratch);
        const char *hex = sp + 1;
        size_t hexlen = (size_t)(end - hex);
        size_t binlen = 0;
        const char *hex_end = NULL;
        if (!dest || hexlen != 2 * s_fields[f].len ||
            sodium_hex2bin(dest, s_fields[f].len, hex, hexlen, NULL, &binlen, &hex_end) != 0 ||
            binlen != s_fields[f].len || hex_end != end) {
            s_why(why, whylen, "%s line %d: %s must be %zu hex digits", path, lineno,
                  s_fields[f].name, 2 * s_fields[f].len);
            goto fail;
        }
        p = next;
    }
    static const enum seal_field required[] = { F_AGENCY, F_KEY_ID, F_SIGN_PK, F_SIGN_SK };
    static const enum seal_field node_only[] = { F_CURVE_PK, F_CURVE_SK, F_SEAL_PK, F_SEAL_SK };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!line_of[required[i]]) {
            s_why(why, whylen, "%s: %s missing", path, s_fields[required[i]].name);
            goto fail;
        }
    bool full = line_of[F_SEAL_SK] || line_of[F_CURVE_SK];
    for (size_t i = 0; i < sizeof node_only / sizeof node_only[0]; i++)
        if (!line_of[node_only[i]] != !full) {
            s_why(why, whylen, "%s: %s %s", path, s_fields[node_only[i]].name,
                  full ? "missing" : "given without the other node keys");
            goto fail;
        }
    if (!full) {
        sodium_memzero(self->curve_sk, 2 * SEAL_KEY_BYTES);
        self->curve_sk = self->seal_sk = NULL;
    }
    self->agency = bytes_be32_get(scratch[0]);
    self->key_id = bytes_be32_get(scratch[1]);
    int bad = s_keys_consistent(self);
    if (bad >= 0) {
        s_why(why, whylen, "%s line %d: %s does not match its public key", path, line_of[bad],
              s_fields[bad].name);
        goto fail;
    }
    *out = self;
    self = NULL;
    rc = 0;
fail:
    seal_keys_destroy(&self);
    return rc;
}

int seal_keys_load(const char *path, seal_keys_t **out, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (!path || !out)
        return TACNET_EINVAL;
    *out = NULL;
    char dir[PATH_MAX];
    int rc = s_dirname(path, dir);
    if (rc)
        return rc;
    rc = s_dir_check(dir, path, why, whylen);
    if (rc)
        return rc;

    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        s_why(why, whylen, "%s: %s", path, strerror(errno));
        if (errno == ENOENT)
            return TACNET_ENOTFOUND;
        return errno == ELOOP ? TACNET_EPERM : TACNET_EIO;
    }
    /* fstat on the open descriptor, so the mode checked is the mode of the file read. */
    struct stat st;
    if (fstat(fd, &st) != 0) {
        s_why(why, whylen, "%s: %s", path, strerror(errno));
        rc = TACNET_EIO;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        s_why(why, whylen, "%s: not a regular file", path);
        rc = TACNET_EPERM;
        goto fail;
    }
    if (st.st_mode & 077) {
        s_why(why, whylen, "%s: mode %04o, must be 0600", path, (unsigned)(st.st_mode & 07777));
        rc = TACNET_EPERM;
        goto fail;
    }
    buf = sodium_malloc(SEAL_KEYFILE_MAX + 1);
    if (!buf) {
        rc = TACNET_ENOMEM;
        goto fail;
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, SEAL_KEYFILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            s_why(why, whylen, "%s: %s", path, strerror(errno));
            rc = TACNET_EIO;
            goto fail;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > SEAL_KEYFILE_MAX) {
            s_why(why, whylen, "%s: larger than %d bytes", path, SEAL_KEYFILE_MAX);
            rc = TACNET_EBADMSG;
            goto fail;
        }
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        s_why(why, whylen, "%s: contains a NUL byte", path);
        rc = TACNET_EBADMSG;
        goto fail;
    }
    rc = s_keys_parse(buf, path, out, why, whylen);
fail:
    close(fd);
    sodium_free(buf);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Sealing */

seal_ctx_t *seal_ctx_new(const seal_keys_t *mine)
{
    if (!mine || !mine->sign_sk || !mine->seal_sk)
        return NULL;
    seal_ctx_t *self = xcalloc(1, sizeof *self);
    self->mine = mine;
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self);
        return NULL;
    }
    self->cache = sodium_malloc((SEAL_CACHE_SLOTS + 1) * sizeof(seal_pair_t));
    if (!self->cache) {
        pthread_mutex_destroy(&self->lock);
        free(self);
        return NULL;
    }
    sodium_memzero(self->cache, (SEAL_CACHE_SLOTS + 1) * sizeof(seal_pair_t));
    if (sodium_mprotect_noaccess(self->cache) != 0)
        seal_ctx_destroy(&self);
    return self;
}

void seal_ctx_destroy(seal_ctx_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    seal_ctx_t *self = *self_p;
    sodium_free(self->cache); /* writable again, wiped, unmapped */
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* Make the pairwise-key cache readable and writable until s_cache_close; nests, thread-safe. */
static int s_cache_open(seal_ctx_t *self)
{
    int rc = 0;
    pthread_mutex_lock(&self->lock);
    if (self->opens == 0 && sodium_mprotect_readwrite(self->cache) != 0)
        rc = TACNET_EINVAL;
    else
        self->opens++;
    pthread_mutex_unlock(&self->lock);
    return rc;
}

static void s_cache_close(seal_ctx_t *self)
{
    pthread_mutex_lock(&self->lock);
    /* As in seal_keys_lock: only an out-of-memory kernel refuses to drop rights. */
    if (self->opens > 0 && --self->opens == 0)
        (void)sodium_mprotect_noaccess(self->cache);
    pthread_mutex_unlock(&self->lock);
}

int seal_ctx_hold(seal_ctx_t *self)
{
    if (!self)
        return TACNET_EINVAL;
    int rc = s_cache_open(self);
    if (rc != 0)
        return rc;
    if ((rc = seal_keys_unlock(self->mine)) != 0)
        s_cache_close(self);
    return rc;
}

void seal_ctx_release(seal_ctx_t *self)
{
    if (!self)
        return;
    seal_keys_lock(self->mine);
    s_cache_close(self);
}

/* The cached pairwise key for PEER_PK (pointer into sodium_malloc memory), computing it on a
 * miss. NULL if the peer key is a low-order point (no usable shared key). */
static const uint8_t *s_shared(seal_ctx_t *self, const uint8_t peer_pk[SEAL_KEY_BYTES])
{
    for (size_t i = 0; i < self->used; i++)
        if (memcmp(self->cache[i].peer_pk, peer_pk, SEAL_KEY_BYTES) == 0)
            return self->cache[i].shared;
    /* A miss needs the sealing secret; a hit (nearly every call) needs only the cache. */
    seal_pair_t *scratch = &self->cache[SEAL_CACHE_SLOTS];
    if (seal_keys_unlock(self->mine) != 0)
        return NULL;
    int rc = crypto_box_beforenm(scratch->shared, peer_pk, self->mine->seal_sk);
    seal_keys_lock(self->mine);
    if (rc != 0) {
        sodium_memzero(scratch, sizeof *scratch);
        return NULL;
    }
    memcpy(scratch->peer_pk, peer_pk, SEAL_KEY_BYTES);
    /* A node talks to a handful of peers; past the cap, replace round robin. */
    size_t slot = self->used < SEAL_CACHE_SLOTS ? self->used++ : self->victim++ % SEAL_CACHE_SLOTS;
    self->cache[slot] = *scratch;
    sodium_memzero(scratch, sizeof *scratch);
    return self->cache[slot].shared;
}

int seal_ctx_warm(seal_ctx_t *self, const uint8_t peer_pk[SEAL_KEY_BYTES])
{
    int rc = s_cache_open(self);
    if (rc != 0)
        return rc;
    rc = s_shared(self, peer_pk) ? 0 : TACNET_EOPEN;
    s_cache_close(self);
    return rc;
}

/* PREFIX || A || B in a fresh buffer (public data: header and digest). */
static uint8_t *s_concat(const char *prefix, const uint8_t *a, size_t alen, const uint8_t *b,
                         size_t blen, size_t *outlen)
{
    size_t plen = strlen(prefix);
    uint8_t *out = xmalloc(plen + alen + blen);
    memcpy(out, prefix, plen);
    if (alen)
        memcpy(out + plen, a, alen);
    if (blen)
        memcpy(out + plen + alen, b, blen);
    *outlen = plen + alen + blen;
    return out;
}

static uint8_t *s_sig_message(const uint8_t *header, size_t hlen, const uint8_t *sealed,
                              size_t sealed_len, size_t *mlen)
{
    uint8_t digest[SEAL_DIGEST_BYTES];
    crypto_generichash(digest, sizeof digest, sealed, sealed_len, NULL, 0);
    return s_concat(SEAL_SIG_PREFIX, header, hlen, digest, sizeof digest, mlen);
}

/* Check the layout before reading any entry: count in range, the table and an AEAD tag fit,
 * no (agency, key_id) twice. Sets *N and *C_OFF (start of the AEAD ciphertext). */
static int s_layout(const uint8_t *sealed, size_t len, size_t *n, size_t *c_off)
{
    if (!sealed || len < SEAL_HEAD_BYTES)
        return TACNET_EBADMSG;
    size_t count = sealed[SEAL_COUNT_OFFSET];
    if (count < 1 || count > SEAL_MAX_RECIPIENTS)
        return TACNET_EBADMSG;
    if (len - SEAL_HEAD_BYTES < count * SEAL_ENTRY_BYTES + SEAL_TAG_BYTES)
        return TACNET_EBADMSG;
    const uint8_t *table = sealed + SEAL_HEAD_BYTES;
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count; j++)
            if (memcmp(table + i * SEAL_ENTRY_BYTES, table + j * SEAL_ENTRY_BYTES, 5) == 0)
                return TACNET_EBADMSG;
    *n = count;
    *c_off = SEAL_HEAD_BYTES + count * SEAL_ENTRY_BYTES;
    return 0;
}

int seal_event_fixed(seal_ctx_t *self, const uint8_t k[SEAL_KEY_BYTES],
                     const uint8_t nonce[SEAL_NONCE_BYTES],
                     const uint8_t wrap_nonce[SEAL_NONCE_BYTES], const uint8_t *header, size_t hlen,
                     const uint8_t *body, size_t blen, const seal_recipient_t *rcpts, size_t n,
                     uint8_t **sealed, size_t *sealed_len, uint8_t sig[SEAL_SIG_BYTES])
{
    if (!self || !k || !nonce || !wrap_nonce || (!header && hlen) || (!body && blen) || !rcpts ||
        !sealed || !sealed_len)
        return TACNET_EINVAL;
    if (n < 1 || n > SEAL_MAX_RECIPIENTS)
        return TACNET_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (rcpts[i].agency > UINT8_MAX)
            return TACNET_EINVAL;
        for (size_t j = i + 1; j < n; j++)
            if (rcpts[i].agency == rcpts[j].agency && rcpts[i].key_id == rcpts[j].key_id)
                return TACNET_EINVAL;
    }
    size_t c_off = SEAL_HEAD_BYTES + n * SEAL_ENTRY_BYTES;
    if (blen > SIZE_MAX - c_off - SEAL_TAG_BYTES ||
        blen > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX)
        return TACNET_EINVAL;
    size_t total = c_off + blen + SEAL_TAG_BYTES;
    int rc = seal_ctx_hold(self);
    if (rc != 0)
        return rc;
    uint8_t *out = xmalloc(total);
    uint8_t *ad = NULL, *msg = NULL;

    memcpy(out, nonce, SEAL_NONCE_BYTES);
    memcpy(out + SEAL_NONCE_BYTES, wrap_nonce, SEAL_NONCE_BYTES);
    out[SEAL_COUNT_OFFSET] = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        uint8_t *entry = out + SEAL_HEAD_BYTES + i * SEAL_ENTRY_BYTES;
        const uint8_t *shared = s_shared(self, rcpts[i].seal_pk);
        if (!shared) {
            rc = TACNET_EINVAL;
            goto fail;
        }
        entry[0] = (uint8_t)rcpts[i].agency;
        bytes_be32_put(entry + 1, rcpts[i].key_id);
        if (crypto_box_easy_afternm(entry + 5, k, SEAL_KEY_BYTES, wrap_nonce, shared) != 0) {
            rc = TACNET_EINVAL;
            goto fail;
        }
    }
    size_t adlen = 0;
    ad = s_concat(SEAL_AD_PREFIX, header, hlen, NULL, 0, &adlen);
    unsigned long long clen = 0;
    size_t mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + c_off, &clen, body, blen, ad, adlen, NULL,
                                                   nonce, k) != 0) {
        rc = TACNET_EINVAL;
        goto fail;
    }
    if (sig) {
        msg = s_sig_message(header, hlen, out, total, &mlen);
        if (crypto_sign_detached(sig, NULL, msg, mlen, self->mine->sign_sk) != 0) {
            rc = TACNET_EINVAL;
            goto fail;
        }
    }
    *sealed = out;
    *sealed_len = total;
    out = NULL;
fail:
    seal_ctx_release(self);
    free(out);
    free(ad);
    free(msg);
    return rc;
}

int seal_event(seal_ctx_t *self, const uint8_t *header, size_t hlen, const uint8_t *body,
               size_t blen, const seal_recipient_t *rcpts, size_t n, uint8_t **sealed,
               size_t *sealed_len, uint8_t sig[SEAL_SIG_BYTES])
{
    uint8_t k[SEAL_KEY_BYTES];
    uint8_t nonce[SEAL_NONCE_BYTES], wrap_nonce[SEAL_NONCE_BYTES];
    crypto_aead_xchacha20poly1305_ietf_keygen(k);
    randombytes_buf(nonce, sizeof nonce);
    randombytes_buf(wrap_nonce, sizeof wrap_nonce);
    int rc = seal_event_fixed(self, k, nonce, wrap_nonce, header, hlen, body, blen, rcpts, n,
                              sealed, sealed_len, sig);
    sodium_memzero(k, sizeof k);
    return rc;
}

int seal_sign_event(seal_ctx_t *self, const uint8_t *header, size_t hlen, const uint8_t *sealed,
                    size_t sealed_len, uint8_t sig[SEAL_SIG_BYTES])
{
    if (!self || !sig || (!header && hlen) || (!sealed && sealed_len))
        return TACNET_EINVAL;
    int rc = seal_ctx_hold(self);
    if (rc != 0)
        return rc;
    size_t mlen = 0;
    uint8_t *msg = s_sig_message(header, hlen, sealed, sealed_len, &mlen);
    if (crypto_sign_detached(sig, NULL, msg, mlen, self->mine->sign_sk) != 0)
        rc = TACNET_EINVAL;
    seal_ctx_release(self);
    free(msg);
    return rc;
}

int seal_verify(const uint8_t sign_pk[SEAL_KEY_BYTES], const uint8_t *header, size_t hlen,
                const uint8_t *sealed, size_t sealed_len, const uint8_t sig[SEAL_SIG_BYTES])
{
    if (!sign_pk || !sig || (!header && hlen) || (!sealed && sealed_len))
        return TACNET_EINVAL;
    size_t mlen = 0;
    uint8_t *msg = s_sig_message(header, hlen, sealed, sealed_len, &mlen);
    int ok = crypto_sign_verify_detached(sig, msg, mlen, sign_pk);
    free(msg);
    return ok == 0 ? 0 : TACNET_ESIGNATURE;
}

/* Our wrapped entry in SEALED (our key id, else our agency under another id: a rotation keeps
 * the sealing pair under a new id, and senders that have, or have not yet, loaded the new roster
 * wrap under either; the id only locates, the box authenticates). NULL when there is none. */
static const uint8_t *s_our_wrap(const seal_ctx_t *self, const uint8_t *sealed, size_t n)
{
    uint8_t want[5];
    const uint8_t *wrap = NULL, *other_id = NULL;
    want[0] = (uint8_t)self->mine->agency;
    bytes_be32_put(want + 1, self->mine->key_id);
    for (size_t i = 0; i < n && self->mine->agency <= UINT8_MAX; i++) {
        const uint8_t *entry = sealed + SEAL_HEAD_BYTES + i * SEAL_ENTRY_BYTES;
        if (memcmp(entry, want, sizeof want) == 0)
            wrap = entry + 5;
        else if (entry[0] == want[0])
            other_id = entry + 5;
    }
    return wrap ? wrap : other_id;
}

/* Open the box WRAP (under NONCE, from the peer PEER_PK) into the content key K. */
static int s_unwrap(seal_ctx_t *self, const uint8_t peer_pk[SEAL_KEY_BYTES], const uint8_t *wrap,
                    const uint8_t *nonce, uint8_t k[SEAL_KEY_BYTES])
{
    int rc = s_cache_open(self);
    if (rc != 0)
        return rc;
    const uint8_t *shared = s_shared(self, peer_pk);
    int ok = shared && crypto_box_open_easy_afternm(k, wrap, SEAL_WRAP_BYTES, nonce, shared) == 0;
    s_cache_close(self);
    if (!ok) {
        sodium_memzero(k, SEAL_KEY_BYTES);
        return TACNET_EOPEN;
    }
    return 0;
}

/* Decrypt the ciphertext of SEALED (starting at C_OFF) under K bound to HEADER. */
static int s_decrypt(const uint8_t k[SEAL_KEY_BYTES], const uint8_t *header, size_t hlen,
                     const uint8_t *sealed, size_t sealed_len, size_t c_off, uint8_t **body,
                     size_t *blen)
{
    int rc = 0;
    size_t clen = sealed_len - c_off;
    size_t plen = clen - SEAL_TAG_BYTES;
    size_t adlen = 0;
    uint8_t *ad = s_concat(SEAL_AD_PREFIX, header, hlen, NULL, 0, &adlen);
    uint8_t *out = xmalloc(plen ? plen : 1);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, sealed + c_off, clen, ad,
                                                   adlen, sealed, k) != 0) {
        rc = TACNET_EOPEN;
        goto fail;
    }
    *body = out;
    *blen = (size_t)mlen;
    out = NULL;
fail:
    if (out) {
        sodium_memzero(out, plen ? plen : 1);
        free(out);
    }
    free(ad);
    return rc;
}

int seal_open(seal_ctx_t *self, const uint8_t sender_seal_pk[SEAL_KEY_BYTES], const uint8_t *header,
              size_t hlen, const uint8_t *sealed, size_t sealed_len, uint8_t **body, size_t *blen)
{
    return seal_open_keep(self, sender_seal_pk, header, hlen, sealed, sealed_len, body, blen, NULL);
}

int seal_open_keep(seal_ctx_t *self, const uint8_t sender_seal_pk[SEAL_KEY_BYTES],
                   const uint8_t *header, size_t hlen, const uint8_t *sealed, size_t sealed_len,
                   uint8_t **body, size_t *blen, uint8_t k_out[SEAL_KEY_BYTES])
{
    if (!self || !sender_seal_pk || (!header && hlen) || !body || !blen)
        return TACNET_EINVAL;
    *body = NULL;
    *blen = 0;
    size_t n = 0, c_off = 0;
    int rc = s_layout(sealed, sealed_len, &n, &c_off);
    if (rc)
        return rc;
    const uint8_t *wrap = s_our_wrap(self, sealed, n);
    if (!wrap)
        return TACNET_ENOTFOUND;
    uint8_t k[SEAL_KEY_BYTES];
    if ((rc = s_unwrap(self, sender_seal_pk, wrap, sealed + SEAL_NONCE_BYTES, k)) == 0)
        rc = s_decrypt(k, header, hlen, sealed, sealed_len, c_off, body, blen);
    if (rc == 0 && k_out)
        memcpy(k_out, k, SEAL_KEY_BYTES);
    sodium_memzero(k, sizeof k);
    return rc;
}

int seal_content_key(seal_ctx_t *self, const uint8_t sender_seal_pk[SEAL_KEY_BYTES],
                     const uint8_t *sealed, size_t sealed_len, uint8_t k[SEAL_KEY_BYTES])
{
    if (!self || !sender_seal_pk || !k)
        return TACNET_EINVAL;
    size_t n = 0, c_off = 0;
    int rc = s_layout(sealed, sealed_len, &n, &c_off);
    if (rc)
        return rc;
    const uint8_t *wrap = s_our_wrap(self, sealed, n);
    if (!wrap)
        return TACNET_ENOTFOUND;
    return s_unwrap(self, sender_seal_pk, wrap, sealed + SEAL_NONCE_BYTES, k);
}

int seal_grant_wrap(seal_ctx_t *self, const uint8_t k[SEAL_KEY_BYTES],
                    const uint8_t grantee_seal_pk[SEAL_KEY_BYTES], uint8_t nonce[SEAL_NONCE_BYTES],
                    uint8_t wrap[SEAL_WRAP_BYTES])
{
    if (!self || !k || !grantee_seal_pk || !nonce || !wrap)
        return TACNET_EINVAL;
    /* A fresh nonce per grant: the pairwise key is shared by every grant to this peer. */
    randombytes_buf(nonce, SEAL_NONCE_BYTES);
    int rc = s_cache_open(self);
    if (rc != 0)
        return rc;
    const uint8_t *shared = s_shared(self, grantee_seal_pk);
    int ok = shared && crypto_box_easy_afternm(wrap, k, SEAL_KEY_BYTES, nonce, shared) == 0;
    s_cache_close(self);
    return ok ? 0 : TACNET_EINVAL;
}

int seal_open_granted(seal_ctx_t *self, const uint8_t granter_seal_pk[SEAL_KEY_BYTES],
                      const uint8_t nonce[SEAL_NONCE_BYTES], const uint8_t wrap[SEAL_WRAP_BYTES],
                      const uint8_t *header, size_t hlen, const uint8_t *sealed, size_t sealed_len,
                      uint8_t **body, size_t *blen, uint8_t k_out[SEAL_KEY_BYTES])
{
    if (!self || !granter_seal_pk || !nonce || !wrap || (!header && hlen) || !body || !blen)
        return TACNET_EINVAL;
    *body = NULL;
    *blen = 0;
    size_t n = 0, c_off = 0;
    int rc = s_layout(sealed, sealed_len, &n, &c_off);
    if (rc)
        return rc;
    uint8_t k[SEAL_KEY_BYTES];
    if ((rc = s_unwrap(self, granter_seal_pk, wrap, nonce, k)) == 0)
        rc = s_decrypt(k, header, hlen, sealed, sealed_len, c_off, body, blen);
    if (rc == 0 && k_out)
        memcpy(k_out, k, SEAL_KEY_BYTES);
    sodium_memzero(k, sizeof k);
    return rc;
}

void seal_digest(const uint8_t *sealed, size_t sealed_len, uint8_t out[SEAL_DIGEST_LEN])
{
    crypto_generichash(out, SEAL_DIGEST_LEN, sealed, sealed_len, NULL, 0);
}

int seal_verify_digest(const uint8_t sign_pk[SEAL_KEY_BYTES], const uint8_t *header, size_t hlen,
                       const uint8_t digest[SEAL_DIGEST_LEN], const uint8_t sig[SEAL_SIG_BYTES])
{
    if (!sign_pk || !sig || !digest || (!header && hlen))
        return TACNET_EINVAL;
    size_t mlen = 0;
    uint8_t *msg = s_concat(SEAL_SIG_PREFIX, header, hlen, digest, SEAL_DIGEST_LEN, &mlen);
    int ok = crypto_sign_verify_detached(sig, msg, mlen, sign_pk);
    free(msg);
    return ok == 0 ? 0 : TACNET_ESIGNATURE;
}

int seal_sign_detached(seal_ctx_t *self, const char *prefix, const uint8_t *msg, size_t len,
                       uint8_t sig[SEAL_SIG_BYTES])
{
    if (!self || !prefix || (!msg && len) || !sig)
        return TACNET_EINVAL;
    size_t mlen = 0;
    uint8_t *m = s_concat(prefix, msg, len, NULL, 0, &mlen);
    int rc = seal_keys_unlock(self->mine);
    if (rc == 0) {
        rc = crypto_sign_detached(sig, NULL, m, mlen, self->mine->sign_sk) == 0 ? 0 : TACNET_EINVAL;
        seal_keys_lock(self->mine);
    }
    free(m);
    return rc;
}

int seal_verify_detached(const uint8_t sign_pk[SEAL_KEY_BYTES], const char *prefix,
                         const uint8_t *msg, size_t len, const uint8_t sig[SEAL_SIG_BYTES])
{
    if (!sign_pk || !prefix || (!msg && len) || !sig)
        return TACNET_EINVAL;
    size_t mlen = 0;
    uint8_t *m = s_concat(prefix, msg, len, NULL, 0, &mlen);
    int ok = crypto_sign_verify_detached(sig, m, mlen, sign_pk);
    free(m);
    return ok == 0 ? 0 : TACNET_ESIGNATURE;
}

int seal_recipients(const uint8_t *sealed, size_t sealed_len, uint32_t *agencies, size_t cap)
{
    size_t n = 0, c_off = 0;
    int rc = s_layout(sealed, sealed_len, &n, &c_off);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && i < cap && agencies; i++)
        agencies[i] = sealed[SEAL_HEAD_BYTES + i * SEAL_ENTRY_BYTES];
    return (int)n;
}

/* ---------------------------------------------------------------------------------------- */
/* At rest and blind indexes */

/* At-rest nonces are drawn from the system's generator SEAL_REST_NONCES at a time (one getrandom
 * call for 240 bytes) instead of one call per record: a daemon seals two records per event it
 * applies. They are as random as before; each is taken once and wiped from the pool. Each
 * thread has its own pool, and a forked child empties the pool it inherited, so no two threads
 * or processes ever take the same bytes. */
#define SEAL_REST_NONCES 10
static _Thread_local struct {
    uint8_t b[SEAL_REST_NONCES * SEAL_NONCE_BYTES];
    unsigned left; /* nonces not yet taken, from the end of b */
} s_rest_pool;
static pthread_once_t s_rest_once = PTHREAD_ONCE_INIT;

static void s_rest_pool_drop(void)
{
    sodium_memzero(&s_rest_pool, sizeof(s_rest_pool));
}

static void s_rest_pool_init(void)
{
    pthread_atfork(NULL, NULL, s_rest_pool_drop);
}

static void s_rest_nonce(uint8_t nonce[SEAL_NONCE_BYTES])
{
    pthread_once(&s_rest_once, s_rest_pool_init);
    if (s_rest_pool.left == 0) {
        randombytes_buf(s_rest_pool.b, sizeof(s_rest_pool.b));
        s_rest_pool.left = SEAL_REST_NONCES;
    }
    uint8_t *n = s_rest_pool.b + --s_rest_pool.left * SEAL_NONCE_BYTES;
    memcpy(nonce, n, SEAL_NONCE_BYTES);
    sodium_memzero(n, SEAL_NONCE_BYTES);
}

int seal_at_rest_encrypt(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
                         const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
    if (!key || (!ad && adlen) || (!in && len) || !out || !outlen)
        return TACNET_EINVAL;
    if (len > SIZE_MAX - SEAL_NONCE_BYTES - SEAL_TAG_BYTES ||
        len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX)
        return TACNET_EINVAL;
    size_t total = SEAL_NONCE_BYTES + len + SEAL_TAG_BYTES;
    uint8_t *buf = xmalloc(total);
    s_rest_nonce(buf);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(buf + SEAL_NONCE_BYTES, NULL, in, len, ad, adlen,
                                                   NULL, buf, key) != 0) {
        free(buf); /* ciphertext only, or nothing */
        return TACNET_EINVAL;
    }
    *out = buf;
    *outlen = total;
    return 0;
}

int seal_at_rest_decrypt(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *ad, size_t adlen,
                         const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
    if (!key || (!ad && adlen) || !out || !outlen)
        return TACNET_EINVAL;
    *out = NULL;
    *outlen = 0;
    if (!in || len < SEAL_NONCE_BYTES + SEAL_TAG_BYTES)
        return TACNET_EBADMSG;
    size_t plen = len - SEAL_NONCE_BYTES - SEAL_TAG_BYTES;
    uint8_t *buf = xmalloc(plen ? plen : 1);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &mlen, NULL, in + SEAL_NONCE_BYTES,
                                                   len - SEAL_NONCE_BYTES, ad, adlen, in,
                                                   key) != 0) {
        sodium_memzero(buf, plen ? plen : 1);
        free(buf);
        return TACNET_EOPEN;
    }
    *out = buf;
    *outlen = (size_t)mlen;
    return 0;
}

void seal_blind(const uint8_t key[SEAL_KEY_BYTES], const uint8_t *data, size_t len,
                uint8_t out[SEAL_BLIND_BYTES])
{
    crypto_generichash(out, SEAL_BLIND_BYTES, data, len, key, SEAL_KEY_BYTES);
}

int seal_body_matches(const Tacnet__Header *h, const Tacnet__Body *b)
{
    if (!h || !b)
        return TACNET_EINVAL;
    if (!b->has_msg_id || !b->has_sender || b->sender != h->sender)
        return TACNET_EBODYMISMATCH;
    if (b->msg_id.len == 0 || b->msg_id.len != h->msg_id.len ||
        memcmp(b->msg_id.data, h->msg_id.data, b->msg_id.len) != 0)
        return TACNET_EBODYMISMATCH;
    /* A rating's clear rung and rater must be the sealed ones: the partnership report counts
     * the header. */
    const Tacnet__PartnershipRating *r = b->partnership_rating;
    if (h->kind == TACNET__EVENT_KIND__PARTNERSHIP_RATING && r &&
        (h->has_ladder_rung != r->has_rung || (r->has_rung && h->ladder_rung != r->rung) ||
         (h->has_rated_by_family && h->rated_by_family) != r->has_by_family))
        return TACNET_EBODYMISMATCH;
    /* An acknowledgement's clear acceptance (which the broker's timers act on) is the sealed one.
     * One sent before the header carried it (the broker took every acknowledgement as accepted)
     * is not compared: its body may say either. */
    const Tacnet__EscalationAck *ack = b->escalation_ack;
    if (h->kind == TACNET__EVENT_KIND__ESCALATION_ACK && ack && h->has_resolution_accepted &&
        h->resolution_accepted != (!ack->has_accepted || ack->accepted))
        return TACNET_EBODYMISMATCH;
    return 0;
}
