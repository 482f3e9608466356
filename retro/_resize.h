/* Observation preprocessing in fixed point: max-pool, luma and area-averaging resize.
 *
 * Everything here is plain C with no allocation in resize_run: a plan owns its
 * weights and scratch rows, made once by resize_plan_init for one input and one
 * output size. resize_run may be called without the GIL from any thread, one
 * call at a time per plan.
 *
 * Numbers (all integers, so every machine and code path gives the same result):
 * - pooling is the per-channel maximum of the two pictures;
 * - luma is (19595 R + 38470 G + 7471 B) / 65536, the ITU-R 601 weights
 *   0.299/0.587/0.114 in 16-bit fixed point (they sum to exactly 65536, so a
 *   grey pixel keeps its value). It is kept in 8.8 fixed point (within 2/256
 *   of exact, see resize_luma88) until the end; a picture kept at its size
 *   rounds it half up to 8 bits;
 * - the resize is separable. An output pixel covers src/dst input pixels along
 *   each axis; each input pixel it overlaps weighs by the overlapping length,
 *   the weights of one output summing to 1 (1 << RESIZE_WBITS exactly, the
 *   rounding remainder going to its largest weight, so a flat picture stays
 *   exactly flat). The vertical pass sums picture rows into rows of 8.8
 *   values (rounded), the horizontal pass sums those and rounds half up to
 *   8 bits.
 * Against the same definitions computed in float64 and rounded half up, every
 * output is within 1: the two differ only where the exact value lies within a
 * few hundredths of a half (about 0.2% of outputs on noise).
 */
#ifndef RETRO_RESIZE_H
#define RETRO_RESIZE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RESIZE_WBITS 15            /* weights of one output sum to 1 << 15 */
#define LUMA_R 19595u
#define LUMA_G 38470u
#define LUMA_B 7471u

/* Hot loops: vectorised by the compiler; on x86-64 with GCC and glibc (whose
   ifuncs pick a clone at load time) also built for AVX2 and for SSE4.1, the
   best the processor has being used (plain SSE2 lacks the byte shuffles that
   split RGB into channels, and runs several times slower). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define RESIZE_HOT __attribute__((target_clones("avx2", "sse4.1", "default")))
#else
#define RESIZE_HOT
#endif

typedef struct {
    int h, w, oh, ow;
    int ytaps, xtaps;      /* the most input rows (columns) one output row (column) covers */
    int32_t *ystart;       /* oh: first input row of each output row */
    int32_t *ycount;       /* oh: how many input rows it covers */
    uint16_t *yw;          /* oh x ytaps weights */
    int32_t *xstart;       /* ow: the same for columns */
    int32_t *xcount;
    uint16_t *xw;          /* ow x xtaps */
    uint16_t *plane;       /* h x w luma, 8.8 fixed point */
    uint8_t *pooled;       /* h x w x 3 max-pooled picture */
    uint32_t *acc;         /* sums of one pass, max(w x 3, oh) */
    uint16_t *rows;        /* oh x (w x 3) result of the vertical pass, 8.8 fixed point */
    uint16_t *cols;        /* the same transposed: (w x 3) x oh */
    uint8_t *outt;         /* the output transposed: (ow x 3) x oh */
} resize_plan;

/* Functions here are static; a file that includes this header only for the
   plan's type does not use them. */
#define RESIZE_API static __attribute__((unused))

/* The area weights of src -> dst along one axis: output i covers [i*src, (i+1)*src)
   and input j covers [j*dst, (j+1)*dst) in units of 1/dst of an input pixel, so
   overlaps are whole numbers and a weight is overlap / src. Fills start and count
   and, for each output, `taps` weights from its start (those past its count 0). */
RESIZE_API void resize_axis(int src, int dst, int taps, int32_t *start, int32_t *count,
                            uint16_t *weights) {
    for (int i = 0; i < dst; i++) {
        int64_t lo = (int64_t)i * src, hi = (int64_t)(i + 1) * src;
        int j0 = (int)(lo / dst), j1 = (int)((hi + dst - 1) / dst);
        if (j1 > src)
            j1 = src;
        uint16_t *wt = weights + (size_t)i * taps;
        memset(wt, 0, sizeof(uint16_t) * (size_t)taps);
        int32_t sum = 0;
        int big = 0;
        for (int j = j0; j < j1; j++) {
            int64_t a = (int64_t)j * dst, b = a + dst;
            int64_t overlap = (hi < b ? hi : b) - (lo > a ? lo : a);
            int32_t v = (int32_t)((overlap * (1 << RESIZE_WBITS) + src / 2) / src);
            wt[j - j0] = (uint16_t)v;
            sum += v;
            if (v > wt[big])
                big = j - j0;
        }
        /* the weights sum exactly to 1 << RESIZE_WBITS (each is off by at most 1/2) */
        wt[big] = (uint16_t)(wt[big] + ((1 << RESIZE_WBITS) - sum));
        start[i] = j0;
        count[i] = j1 - j0;
    }
}

/* The most inputs one output covers along an axis. */
RESIZE_API int resize_taps(int src, int dst) {
    int most = 1;
    for (int i = 0; i < dst; i++) {
        int64_t lo = (int64_t)i * src, hi = (int64_t)(i + 1) * src;
        int j0 = (int)(lo / dst), j1 = (int)((hi + dst - 1) / dst);
        if (j1 > src)
            j1 = src;
        if (j1 - j0 > most)
            most = j1 - j0;
    }
    return most;
}

RESIZE_API void resize_plan_free(resize_plan *p) {
    free(p->ystart); free(p->ycount); free(p->yw);
    free(p->xstart); free(p->xcount); free(p->xw);
    free(p->plane); free(p->pooled); free(p->acc); free(p->rows); free(p->cols); free(p->outt);
    memset(p, 0, sizeof(*p));
}

/* 0, or -1 if out of memory (then nothing is held). Sizes must be positive. */
RESIZE_API int resize_plan_init(resize_plan *p, int h, int w, int oh, int ow) {
    memset(p, 0, sizeof(*p));
    p->h = h; p->w = w; p->oh = oh; p->ow = ow;
    p->ytaps = resize_taps(h, oh);
    p->xtaps = resize_taps(w, ow);
    size_t n = (size_t)h * w, wide = (size_t)w * 3;
    p->ystart = malloc(sizeof(int32_t) * (size_t)oh);
    p->ycount = malloc(sizeof(int32_t) * (size_t)oh);
    p->yw = malloc(sizeof(uint16_t) * (size_t)oh * p->ytaps);
    p->xstart = malloc(sizeof(int32_t) * (size_t)ow);
    p->xcount = malloc(sizeof(int32_t) * (size_t)ow);
    p->xw = malloc(sizeof(uint16_t) * (size_t)ow * p->xtaps);
    p->plane = malloc(sizeof(uint16_t) * n);
    p->pooled = malloc(n * 3);
    p->acc = malloc(sizeof(uint32_t) * (wide > (size_t)oh ? wide : (size_t)oh));
    p->rows = malloc(sizeof(uint16_t) * wide * oh);
    p->cols = malloc(sizeof(uint16_t) * wide * oh);
    p->outt = malloc((size_t)ow * 3 * oh);
    if (!p->ystart || !p->ycount || !p->yw || !p->xstart || !p->xcount || !p->xw
            || !p->plane || !p->pooled || !p->acc || !p->rows || !p->cols || !p->outt) {
        resize_plan_free(p);
        return -1;
    }
    resize_axis(h, oh, p->ytaps, p->ystart, p->ycount, p->yw);
    resize_axis(w, ow, p->xtaps, p->xstart, p->xcount, p->xw);
    return 0;
}

/* Luma in 8.8 fixed point of one pixel. Each channel's term is
   floor(v * weight / 256) (a high-half multiply, which vectorises well) and +1
   centres the three truncations: within 2/256 of the exact luma. */
static inline uint16_t resize_luma88(uint8_t r, uint8_t g, uint8_t b) {
    return (uint16_t)(1 + (uint16_t)(((uint32_t)(uint16_t)(r << 8) * LUMA_R) >> 16)
                      + (uint16_t)(((uint32_t)(uint16_t)(g << 8) * LUMA_G) >> 16)
                      + (uint16_t)(((uint32_t)(uint16_t)(b << 8) * LUMA_B) >> 16));
}

/* Luma of n pixels in 8.8 fixed point. */
RESIZE_HOT
RESIZE_API void resize_luma_plane(uint16_t *restrict dst, const uint8_t *restrict src, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = resize_luma88(src[3 * i], src[3 * i + 1], src[3 * i + 2]);
}

/* The same rounded half up to 8 bits (for pictures kept at their size). */
RESIZE_HOT
RESIZE_API void resize_luma8(uint8_t *restrict dst, const uint8_t *restrict src, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint8_t)((resize_luma88(src[3 * i], src[3 * i + 1], src[3 * i + 2]) + 128u) >> 8);
}

/* Per-byte maximum of two buffers. */
RESIZE_HOT
RESIZE_API void resize_max8(uint8_t *restrict dst, const uint8_t *restrict a,
                            const uint8_t *restrict b, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = a[i] > b[i] ? a[i] : b[i];
}

/* One output line of a pass: the weighted sum of `count` input lines of n values,
   `stride` apart, rounded half up: to 8.8 fixed point into dst16, or to 8 bits
   into dst8 (from 8.8 inputs). resize_lines16 takes 8.8 inputs, resize_lines8
   8-bit ones (shifting less for dst16). The last three lines are summed in the
   loop that rounds (a missing one reads the first line with weight 0); any
   before them go through acc first. */
#define RESIZE_LINES(name, type, shift16)                                                  \
    RESIZE_HOT                                                                             \
    RESIZE_API void name(uint16_t *restrict dst16, uint8_t *restrict dst8,                 \
                         uint32_t *restrict acc, const type *restrict src, size_t stride,  \
                         int count, const uint16_t *restrict wt, size_t n) {               \
        int head = count > 3 ? count - 3 : 0;                                              \
        for (int k = 0; k < head; k++) {                                                   \
            const type *restrict s = src + k * stride;                                     \
            uint32_t wk = wt[k];                                                           \
            if (k == 0)                                                                    \
                for (size_t x = 0; x < n; x++)                                             \
                    acc[x] = wk * s[x];                                                    \
            else                                                                           \
                for (size_t x = 0; x < n; x++)                                             \
                    acc[x] += wk * s[x];                                                   \
        }                                                                                  \
        const type *restrict s0 = src + head * stride;                                     \
        const type *restrict s1 = head + 1 < count ? s0 + stride : src;                    \
        const type *restrict s2 = head + 2 < count ? s0 + 2 * stride : src;                \
        uint32_t w0 = wt[head];                                                            \
        uint32_t w1 = head + 1 < count ? wt[head + 1] : 0;                                 \
        uint32_t w2 = head + 2 < count ? wt[head + 2] : 0;                                 \
        const unsigned shift = dst16 ? (shift16) : RESIZE_WBITS + 8;                       \
        const uint32_t half = 1u << (shift - 1);                                           \
        if (dst16 && head)                                                                 \
            for (size_t x = 0; x < n; x++)                                                 \
                dst16[x] = (uint16_t)((acc[x] + RESIZE_SUM3(x)) >> (shift16));             \
        else if (dst16)                                                                    \
            for (size_t x = 0; x < n; x++)                                                 \
                dst16[x] = (uint16_t)(RESIZE_SUM3(x) >> (shift16));                        \
        else if (head)                                                                     \
            for (size_t x = 0; x < n; x++)                                                 \
                dst8[x] = (uint8_t)((acc[x] + RESIZE_SUM3(x)) >> (RESIZE_WBITS + 8));      \
        else                                                                               \
            for (size_t x = 0; x < n; x++)                                                 \
                dst8[x] = (uint8_t)(RESIZE_SUM3(x) >> (RESIZE_WBITS + 8));                 \
    }
#define RESIZE_SUM3(x) (w0 * s0[x] + w1 * s1[x] + w2 * s2[x] + half)
RESIZE_LINES(resize_lines16, uint16_t, RESIZE_WBITS)
RESIZE_LINES(resize_lines8, uint8_t, RESIZE_WBITS - 8)
#undef RESIZE_SUM3
#undef RESIZE_LINES

/* dst (cols x rows) = src (rows x cols) transposed: four rows at a time, read
   along the rows, each column's four values stored together. */
#define RESIZE_TRANSPOSE(name, type)                                                       \
    RESIZE_HOT                                                                             \
    RESIZE_API void name(type *restrict dst, const type *restrict src, size_t rows,        \
                         size_t cols) {                                                    \
        size_t r = 0;                                                                      \
        for (; r + 4 <= rows; r += 4) {                                                    \
            const type *restrict a = src + r * cols;                                       \
            for (size_t c = 0; c < cols; c++) {                                            \
                type *restrict o = dst + c * rows + r;                                     \
                o[0] = a[c];                                                               \
                o[1] = a[cols + c];                                                        \
                o[2] = a[2 * cols + c];                                                    \
                o[3] = a[3 * cols + c];                                                    \
            }                                                                              \
        }                                                                                  \
        for (; r < rows; r++)                                                              \
            for (size_t c = 0; c < cols; c++)                                              \
                dst[c * rows + r] = src[r * cols + c];                                     \
    }
RESIZE_TRANSPOSE(resize_transpose16, uint16_t)
RESIZE_TRANSPOSE(resize_transpose8, uint8_t)
#undef RESIZE_TRANSPOSE

/* The observation: cur (h x w x 3), max-pooled with prev if not NULL, gray or RGB,
   resized to the plan's output size, into out (oh x ow, or oh x ow x 3).

   The vertical pass runs along the rows of the picture; its result is transposed
   so that the horizontal pass also runs along contiguous lines (both then
   vectorise), and the output is transposed back. */
RESIZE_API void resize_run(resize_plan *p, const uint8_t *cur, const uint8_t *prev, int gray,
                           uint8_t *out) {
    const size_t n = (size_t)p->h * p->w, line = (size_t)p->w * 3;
    const int same = p->oh == p->h && p->ow == p->w;
    if (gray) {
        /* a line at a time: a pooled line is still in cache for its luma */
        for (size_t y = 0; y < (size_t)p->h; y++) {
            const uint8_t *src = cur + y * line;
            if (prev) {
                resize_max8(p->pooled, src, prev + y * line, line);
                src = p->pooled;
            }
            if (same)
                resize_luma8(out + y * p->w, src, p->w);
            else
                resize_luma_plane(p->plane + y * p->w, src, p->w);
        }
        if (same)
            return;
    } else if (same) {
        if (prev)
            resize_max8(out, cur, prev, n * 3);
        else
            memcpy(out, cur, n * 3);
        return;
    } else if (prev) {
        resize_max8(p->pooled, cur, prev, n * 3);
        cur = p->pooled;
    }
    const size_t ch = gray ? 1 : 3, width = (size_t)p->w * ch, oh = (size_t)p->oh;
    for (size_t i = 0; i < oh; i++) {
        const uint16_t *wt = p->yw + i * p->ytaps;
        const size_t first = (size_t)p->ystart[i] * width;
        if (gray)
            resize_lines16(p->rows + i * width, NULL, p->acc, p->plane + first, width,
                           p->ycount[i], wt, width);
        else
            resize_lines8(p->rows + i * width, NULL, p->acc, cur + first, width, p->ycount[i],
                          wt, width);
    }
    resize_transpose16(p->cols, p->rows, oh, width);
    for (int x = 0; x < p->ow; x++) {
        const uint16_t *wt = p->xw + (size_t)x * p->xtaps;
        for (size_t c = 0; c < ch; c++)
            resize_lines16(NULL, p->outt + (x * ch + c) * oh, p->acc,
                           p->cols + ((size_t)p->xstart[x] * ch + c) * oh, ch * oh,
                           p->xcount[x], wt, oh);
    }
    resize_transpose8(out, p->outt, (size_t)p->ow * ch, oh);
}

#endif
