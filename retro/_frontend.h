/*
 * Small C helpers for retro/_core.pyx that Cython cannot express directly:
 * the thread-local "current emulator" that routes libretro callbacks, the
 * variadic log callback, and loading a private copy of a core library.
 */
#ifndef RETRO_FRONTEND_H
#define RETRO_FRONTEND_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "libretro_abi.h"

/* Log records: one byte of level, the text, a NUL; appended by the core's
 * log calls during a core call and drained into Python logging afterwards. */
typedef struct retro_fe_log {
    char *data;
    size_t len;
    size_t cap;
    unsigned long dropped;
} retro_fe_log;

#define RETRO_FE_LOG_LIMIT (1u << 20)

/* The emulator whose core is being called on this thread. Callbacks have no
 * user-data argument, so they find their emulator here. */
static __thread void *retro_fe_current = NULL;
static __thread retro_fe_log *retro_fe_current_log = NULL;

static inline void retro_fe_enter(void *fe, retro_fe_log *log) {
    retro_fe_current = fe;
    retro_fe_current_log = log;
}

static inline void retro_fe_leave(void) {
    retro_fe_current = NULL;
    retro_fe_current_log = NULL;
}

static inline void *retro_fe_get_current(void) { return retro_fe_current; }

static inline void retro_fe_log_append(retro_fe_log *log, int level, const char *text, size_t n) {
    if (!log) return;
    size_t need = log->len + n + 2;
    if (need > RETRO_FE_LOG_LIMIT) {
        log->dropped++;
        return;
    }
    if (need > log->cap) {
        size_t cap = log->cap ? log->cap : 4096;
        while (cap < need) cap *= 2;
        char *grown = (char *)realloc(log->data, cap);
        if (!grown) {
            log->dropped++;
            return;
        }
        log->data = grown;
        log->cap = cap;
    }
    if (level < 0) level = 0;
    if (level > 3) level = 3;
    log->data[log->len++] = (char)('0' + level);
    memcpy(log->data + log->len, text, n);
    log->len += n;
    log->data[log->len++] = '\0';
}

static inline void retro_fe_log_printf(enum retro_log_level level, const char *fmt, ...) {
    retro_fe_log *log = retro_fe_current_log;
    char line[2048];
    if (!log || !fmt) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = (int)(sizeof line - 1);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    retro_fe_log_append(log, (int)level, line, (size_t)n);
}

static inline void retro_fe_log_free(retro_fe_log *log) {
    free(log->data);
    log->data = NULL;
    log->len = log->cap = 0;
}

/*
 * Load a private copy of the shared library at `path`: the file is copied to
 * a new, uniquely named file in `tmpdir`, opened from there and unlinked, so
 * the dynamic loader sees a new object with its own globals even when the
 * same core is already loaded. The name embeds the process id and a counter
 * that never repeats in this process, because the loader also matches loaded
 * objects by name. Returns the handle, or NULL with a message in `err`.
 */
static unsigned long retro_fe_copy_counter = 0;

static inline void *retro_fe_dlopen_private(const char *path, const char *tmpdir, char *err, size_t errlen) {
    err[0] = '\0';
    if (!tmpdir) {
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) snprintf(err, errlen, "%s", dlerror());
        return h;
    }
    int src = open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    char copy[4096];
    unsigned long n = __atomic_add_fetch(&retro_fe_copy_counter, 1, __ATOMIC_SEQ_CST);
    snprintf(copy, sizeof copy, "%s/retro-core-%ld-%lu-XXXXXX", tmpdir, (long)getpid(), n);
    int dst = mkstemp(copy);
    if (dst < 0) {
        snprintf(err, errlen, "cannot create a private copy of the core in %s: %s", tmpdir,
                 strerror(errno));
        close(src);
        return NULL;
    }
    char buf[1 << 16];
    int failed = 0;
    for (;;) {
        ssize_t r = read(src, buf, sizeof buf);
        if (r == 0) break;
        if (r < 0) {
            if (errno == EINTR) continue;
            failed = errno;
            break;
        }
        ssize_t off = 0;
        while (off < r) {
            ssize_t w = write(dst, buf + off, (size_t)(r - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                failed = errno;
                break;
            }
            off += w;
        }
        if (failed) break;
    }
    close(src);
    close(dst);
    if (failed) {
        snprintf(err, errlen, "cannot copy %s to %s: %s", path, copy, strerror(failed));
        unlink(copy);
        return NULL;
    }
    void *h = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
    if (!h) snprintf(err, errlen, "%s", dlerror());
    unlink(copy);
    return h;
}

/*
 * The address a loaded library's addresses are relative to (its link map's
 * l_addr: symbol values in the file plus this are where they are in memory),
 * or NULL if the loader does not say.
 */
static inline char *retro_fe_library_base(void *handle) {
    struct link_map *map = NULL;
    if (handle == NULL || dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) return NULL;
    return (char *)map->l_addr;
}

#endif /* RETRO_FRONTEND_H */
