/*
 * Row conversions into RGB24 for retro/_preprocess.pyx (plain C, inlined).
 *
 * Eight pixels at a time are packed into three 64-bit words on little-endian
 * machines (three stores instead of 24); elsewhere, and for the last pixels
 * of a row, one byte at a time.
 */
#ifndef RETRO_PIXELS_H
#define RETRO_PIXELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RETRO_PIXELS_LE 1
#else
#define RETRO_PIXELS_LE 0
#endif

/* Eight colours, each R | G << 8 | B << 16, as 24 bytes R, G, B, R, ... */
static inline void retro_put8_rgb24(uint8_t *dst, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                    uint64_t e, uint64_t f, uint64_t g, uint64_t h) {
    uint64_t w0 = a | b << 24 | c << 48;
    uint64_t w1 = c >> 16 | d << 8 | e << 32 | f << 56;
    uint64_t w2 = f >> 8 | g << 16 | h << 40;
    memcpy(dst, &w0, 8);
    memcpy(dst + 8, &w1, 8);
    memcpy(dst + 16, &w2, 8);
}

/* ``n`` palette indices into RGB24 through ``rgb`` (each colour R | G << 8 | B << 16). */
static inline void retro_indexed_to_rgb24(uint8_t *dst, const uint8_t *src, size_t n, const uint32_t *rgb) {
    size_t i = 0;
#if RETRO_PIXELS_LE
    for (; i + 8 <= n; i += 8, src += 8, dst += 24)
        retro_put8_rgb24(dst, rgb[src[0]], rgb[src[1]], rgb[src[2]], rgb[src[3]],
                         rgb[src[4]], rgb[src[5]], rgb[src[6]], rgb[src[7]]);
#endif
    for (; i < n; ++i, ++src, dst += 3) {
        uint32_t p = rgb[*src];
        dst[0] = (uint8_t)p;
        dst[1] = (uint8_t)(p >> 8);
        dst[2] = (uint8_t)(p >> 16);
    }
}

/*
 * ``retro_indexed_to_rgb24`` into a picture that already shows the indices
 * ``shown`` (if ``valid``; else the whole picture is converted): only the
 * runs of 8 pixels whose indices changed are converted (consecutive frames of
 * a game differ in few), and ``shown`` is updated.
 */
static inline void retro_indexed_update_rgb24(uint8_t *dst, const uint8_t *src, uint8_t *shown, size_t n,
                                              const uint32_t *rgb, int valid) {
    size_t i = 0;
    if (!valid) {
        retro_indexed_to_rgb24(dst, src, n, rgb);
        memcpy(shown, src, n);
        return;
    }
    for (; i + 64 <= n; i += 64) {
        uint64_t now[8], was[8], diff = 0;
        memcpy(now, src + i, 64);
        memcpy(was, shown + i, 64);
        for (int k = 0; k < 8; ++k)
            diff |= now[k] ^ was[k];
        if (!diff)
            continue;
        for (int k = 0; k < 8; ++k)
            if (now[k] != was[k])
                retro_indexed_to_rgb24(dst + 3 * (i + 8 * k), src + i + 8 * k, 8, rgb);
        memcpy(shown + i, now, 64);
    }
    if (i < n) {
        retro_indexed_to_rgb24(dst + 3 * i, src + i, n - i, rgb);
        memcpy(shown + i, src + i, n - i);
    }
}

/* XRGB8888 as R | G << 8 | B << 16. */
static inline uint64_t retro_xrgb_swap(uint32_t p) { return (uint64_t)(__builtin_bswap32(p) >> 8); }

/* ``n`` XRGB8888 pixels into RGB24. */
static inline void retro_xrgb_to_rgb24(uint8_t *dst, const uint32_t *src, size_t n) {
    size_t i = 0;
#if RETRO_PIXELS_LE
    for (; i + 8 <= n; i += 8, src += 8, dst += 24)
        retro_put8_rgb24(dst, retro_xrgb_swap(src[0]), retro_xrgb_swap(src[1]), retro_xrgb_swap(src[2]),
                         retro_xrgb_swap(src[3]), retro_xrgb_swap(src[4]), retro_xrgb_swap(src[5]),
                         retro_xrgb_swap(src[6]), retro_xrgb_swap(src[7]));
#endif
    for (; i < n; ++i, ++src, dst += 3) {
        uint32_t p = *src;
        dst[0] = (uint8_t)(p >> 16);
        dst[1] = (uint8_t)(p >> 8);
        dst[2] = (uint8_t)p;
    }
}

#endif
