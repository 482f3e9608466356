/*
 * Digests of a game as it plays, for verifiable movies (plain C, any thread).
 *
 * retro_hash64 is a 64-bit hash of a byte string: four independent
 * multiply-xorshift lanes over 64-bit words, a few microseconds for the 64 KB
 * of a Genesis's RAM. retro_ram_digest cuts the RAM into 64 equal chunks,
 * hashes each, and gives the hash of those hashes plus one bit per chunk (the
 * low bit of its hash): two digests that differ say that the RAM differs, and
 * the bits that differ name chunks where it does.
 */
#ifndef RETRO_DIGEST_H
#define RETRO_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RETRO_DIGEST_CHUNKS 64

static inline uint64_t retro_hash_mix(uint64_t h, uint64_t w) {
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 31);
}

static inline uint64_t retro_hash64(const uint8_t *p, size_t n, uint64_t seed) {
    uint64_t h0 = seed ^ n, h1 = seed ^ 0x5851F42D4C957F2Dull, h2 = seed ^ 0x14057B7EF767814Full,
             h3 = seed ^ 0xDA942042E4DD58B5ull, w;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        memcpy(&w, p + i, 8);
        h0 = retro_hash_mix(h0, w);
        memcpy(&w, p + i + 8, 8);
        h1 = retro_hash_mix(h1, w);
        memcpy(&w, p + i + 16, 8);
        h2 = retro_hash_mix(h2, w);
        memcpy(&w, p + i + 24, 8);
        h3 = retro_hash_mix(h3, w);
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h0 = retro_hash_mix(h0, w);
    }
    uint64_t tail = 0;
    for (unsigned j = 0; i < n; ++i, ++j)
        tail |= (uint64_t)p[i] << (8 * j);
    uint64_t h = retro_hash_mix(h0, tail);
    h = retro_hash_mix(h, h1);
    h = retro_hash_mix(h, h2);
    h = retro_hash_mix(h, h3);
    return retro_hash_mix(h, n);
}

/* The RAM's digest: out[0] the hash, out[1] one bit per chunk. */
static inline void retro_ram_digest(const uint8_t *ram, size_t n, uint64_t *out) {
    uint64_t hashes[RETRO_DIGEST_CHUNKS];
    uint64_t bits = 0;
    size_t chunk = (n + RETRO_DIGEST_CHUNKS - 1) / RETRO_DIGEST_CHUNKS;
    for (unsigned c = 0; c < RETRO_DIGEST_CHUNKS; ++c) {
        size_t start = c * chunk;
        size_t len = start >= n ? 0 : (n - start < chunk ? n - start : chunk);
        hashes[c] = retro_hash64(ram ? ram + start : NULL, ram ? len : 0, c);
        bits |= (hashes[c] & 1u) << c;
    }
    out[0] = retro_hash64((const uint8_t *)hashes, sizeof hashes, n);
    out[1] = bits;
}

#endif
