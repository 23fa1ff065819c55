/* bytes: fixed-width integers to and from byte strings, in one place.
 *
 * Big-endian (network order) is the house format for everything stored or signed: LMDB keys
 * sort numerically under memcmp, records read the same on any host, and mdb_dump output is
 * readable. The little-endian pair serves the one format written that way before this header
 * (the escalation records, services/casework/escalation_engine.c); do not use it for new ones.
 * Each function reads or writes exactly 4 or 8 bytes at P, which need not be aligned.
 */
#ifndef TACNET_BYTES_H
#define TACNET_BYTES_H

#include <stdint.h>

static inline void bytes_be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t bytes_be32_get(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void bytes_be64_put(uint8_t *p, uint64_t v)
{
    bytes_be32_put(p, (uint32_t)(v >> 32));
    bytes_be32_put(p + 4, (uint32_t)v);
}

static inline uint64_t bytes_be64_get(const uint8_t *p)
{
    return (uint64_t)bytes_be32_get(p) << 32 | bytes_be32_get(p + 4);
}

static inline void bytes_le32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t bytes_le32_get(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline void bytes_le64_put(uint8_t *p, uint64_t v)
{
    bytes_le32_put(p, (uint32_t)v);
    bytes_le32_put(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t bytes_le64_get(const uint8_t *p)
{
    return (uint64_t)bytes_le32_get(p + 4) << 32 | bytes_le32_get(p);
}

#endif
