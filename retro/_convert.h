/*
 * One row of a libretro picture to RGB24: the conversion every frame of every
 * core goes through (retro/_preprocess.pyx's convert_frame; the benchmark's
 * bare C frontend, benchmarks/raw_core.c, uses the same code). Also the
 * paletted pictures of retro's own ALE core (palette indices, see
 * RETRO_ENVIRONMENT_RETRO_PALETTED_VIDEO in libretro_abi.h).
 *
 * Pixel formats (libretro's): XRGB8888 (32-bit words), RGB565 and 0RGB1555
 * (16-bit words, native byte order). Channels of fewer than 8 bits are
 * shifted up with zeros below (RGB565 red 0x1F -> 0xF8), as Gym Retro does.
 *
 * Eight pixels make 24 output bytes, written as three 64-bit stores: a few
 * wide stores instead of 24 byte stores keep the loop short and let the
 * compiler vectorise the arithmetic.
 */
#ifndef RETRO_CONVERT_H
#define RETRO_CONVERT_H

#include <stdint.h>
#include <string.h>

enum { RETRO_CONVERT_0RGB1555 = 0, RETRO_CONVERT_XRGB8888 = 1, RETRO_CONVERT_RGB565 = 2 };

/* A pixel as 0x00BBGGRR: its three output bytes in memory order on a little-endian machine. */
static inline uint64_t retro_rgb_xrgb8888(uint32_t p) {
    return ((p >> 16) & 0xFF) | (p & 0xFF00) | ((uint64_t)(p & 0xFF) << 16);
}

static inline uint64_t retro_rgb_rgb565(uint32_t p) {
    return ((p >> 8) & 0xF8) | (((p >> 3) & 0xFC) << 8) | ((uint64_t)((p << 3) & 0xF8) << 16);
}

static inline uint64_t retro_rgb_0rgb1555(uint32_t p) {
    return ((p >> 7) & 0xF8) | (((p >> 2) & 0xF8) << 8) | ((uint64_t)((p << 3) & 0xF8) << 16);
}

static inline void retro_store_rgb(uint8_t *dst, uint64_t c) {
    dst[0] = (uint8_t)c;
    dst[1] = (uint8_t)(c >> 8);
    dst[2] = (uint8_t)(c >> 16);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight converted pixels (0x00BBGGRR each) as 24 bytes. */
static inline void retro_store_rgb8(uint8_t *dst, const uint64_t c[8]) {
    uint64_t w0 = c[0] | c[1] << 24 | c[2] << 48;
    uint64_t w1 = c[2] >> 16 | c[3] << 8 | c[4] << 32 | c[5] << 56;
    uint64_t w2 = c[5] >> 8 | c[6] << 16 | c[7] << 40;
    memcpy(dst, &w0, 8);
    memcpy(dst + 8, &w1, 8);
    memcpy(dst + 16, &w2, 8);
}
#define RETRO_CONVERT_BLOCKS 1
#else
#define RETRO_CONVERT_BLOCKS 0
#endif

#define RETRO_CONVERT_LOOP(WORD, RGB)                                              \
    do {                                                                           \
        unsigned x = 0;                                                            \
        if (RETRO_CONVERT_BLOCKS) {                                                \
            for (; x + 8 <= w; x += 8) {                                           \
                WORD px[8];                                                        \
                uint64_t c[8];                                                     \
                memcpy(px, src + (size_t)x * sizeof(WORD), sizeof px);             \
                for (int k = 0; k < 8; k++)                                        \
                    c[k] = RGB(px[k]);                                             \
                retro_store_rgb8(dst + (size_t)x * 3, c);                          \
            }                                                                      \
        }                                                                          \
        for (; x < w; x++) {                                                       \
            WORD p;                                                                \
            memcpy(&p, src + (size_t)x * sizeof(WORD), sizeof p);                  \
            retro_store_rgb(dst + (size_t)x * 3, RGB(p));                          \
        }                                                                          \
    } while (0)

#if !RETRO_CONVERT_BLOCKS
static inline void retro_store_rgb8(uint8_t *dst, const uint64_t c[8]) { (void)dst; (void)c; }
#endif

/* GCC's -O3 makes the 16-bit loops twice as slow as -O2 does (measured with GCC 12): this function
 * keeps -O2 whatever the file it is included in is built with. */
#if defined(__GNUC__) && !defined(__clang__)
#define RETRO_CONVERT_OPT __attribute__((optimize("O2")))
#else
#define RETRO_CONVERT_OPT
#endif

/* Convert the first ``w`` pixels of a row in ``format`` (RETRO_CONVERT_*) into ``dst`` (3 * w bytes). */
RETRO_CONVERT_OPT static inline void retro_convert_row(uint8_t *restrict dst, const uint8_t *restrict src, unsigned w, int format) {
    if (format == RETRO_CONVERT_XRGB8888)
        RETRO_CONVERT_LOOP(uint32_t, retro_rgb_xrgb8888);
    else if (format == RETRO_CONVERT_RGB565)
        RETRO_CONVERT_LOOP(uint16_t, retro_rgb_rgb565);
    else
        RETRO_CONVERT_LOOP(uint16_t, retro_rgb_0rgb1555);
}

/* ``n`` palette indices into RGB24 through ``rgb`` (each colour R | G << 8 | B << 16): a paletted core's picture. */
RETRO_CONVERT_OPT static inline void retro_indexed_row(uint8_t *restrict dst, const uint8_t *restrict src, size_t n,
                                                       const uint32_t *restrict rgb) {
    size_t i = 0;
    if (RETRO_CONVERT_BLOCKS) {
        for (; i + 8 <= n; i += 8) {
            uint64_t c[8];
            for (int k = 0; k < 8; k++)
                c[k] = rgb[src[i + k]];
            retro_store_rgb8(dst + 3 * i, c);
        }
    }
    for (; i < n; i++)
        retro_store_rgb(dst + 3 * i, rgb[src[i]]);
}

/*
 * ``retro_indexed_row`` over a whole picture into ``dst``, which already shows the indices
 * ``shown`` (if ``valid``; else everything is converted): only the runs of 8 pixels whose
 * indices changed are converted (consecutive frames of a game differ in few), and ``shown``
 * is updated.
 */
static inline void retro_indexed_update(uint8_t *dst, const uint8_t *src, uint8_t *shown, size_t n,
                                        const uint32_t *rgb, int valid) {
    size_t i = 0;
    if (!valid) {
        retro_indexed_row(dst, src, n, rgb);
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
                retro_indexed_row(dst + 3 * (i + 8 * k), src + i + 8 * k, 8, rgb);
        memcpy(shown + i, now, 64);
    }
    if (i < n) {
        retro_indexed_row(dst + 3 * i, src + i, n - i, rgb);
        memcpy(shown + i, src + i, n - i);
    }
}

#endif /* RETRO_CONVERT_H */
