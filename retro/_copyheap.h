/* A core copy's heap: what a loaded copy of a core allocates and has not freed is freed when the copy is closed.
 *
 * Some cores leak at unload (memory their retro_load_game or retro_run allocates that retro_unload_game and
 * retro_deinit never free), and a copy that links libstdc++ statically leaves its exception-handling emergency
 * pool behind when it is unmapped. For such a core, retro_copyheap_attach points the copy's imports of malloc,
 * calloc, realloc and free (its GOT slots) at functions here, which record each block the copy allocates with
 * the copy it came from (told by the caller's address); retro_copyheap_close then, in one step, frees the
 * copy's emergency pool (its own __gnu_cxx::__freeres, found in the file's symbol table), unmaps the copy
 * (dlclose, which runs its static destructors) and frees every block it still owns.
 *
 * What the copy allocated before it was attached (its static initialisers, run by dlopen) is not recorded;
 * blocks that libc allocates for it (strdup, realpath) are not either; both are freed as before, by whoever
 * frees them. A copy whose architecture, relocations or symbol table are not understood is left unattached
 * (retro_copyheap_attach returns -1) and runs as it would without this. A block the core hands to libc to
 * free or grow there (getline or getdelim on its own buffer, say) would be freed twice at close: a core is
 * only attached (free_leaks in its profile) once its imports show it calls no such function (nm -D).
 *
 * Locks: `ch_table` guards the block table and the copies' address ranges (held for a lookup, insert or
 * removal); `ch_close` serialises attaching and closing, so a copy mapped where a closed one was is never
 * attached before that one's blocks are freed and its range removed. Fork handlers keep both usable in a
 * forked child.
 */
#ifndef RETRO_COPYHEAP_H
#define RETRO_COPYHEAP_H

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define CH_JUMP_SLOT R_X86_64_JUMP_SLOT
#define CH_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define CH_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define CH_GLOB_DAT R_AARCH64_GLOB_DAT
#endif

#define CH_MAX_COPIES 256

typedef struct {
    void *handle;      /* the copy's dlopen handle; NULL: a free entry */
    uintptr_t start;   /* its mapped address range */
    uintptr_t end;
    unsigned id;       /* owner id of its blocks (never 0) */
    void (*freeres)(void);
} ch_copy;

typedef struct {
    uintptr_t block;   /* 0: empty; 1: deleted */
    unsigned owner;
} ch_slot;

static pthread_mutex_t ch_table = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t ch_close = PTHREAD_MUTEX_INITIALIZER;
static ch_copy ch_copies[CH_MAX_COPIES];
static unsigned ch_next_id = 1;
static ch_slot *ch_slots = NULL;
static size_t ch_cap = 0;     /* a power of two, or 0 */
static size_t ch_used = 0;    /* slots not empty (live + deleted) */
static int ch_fork_handlers = 0;

static void ch_prefork(void) { pthread_mutex_lock(&ch_close); pthread_mutex_lock(&ch_table); }
static void ch_postfork(void) { pthread_mutex_unlock(&ch_table); pthread_mutex_unlock(&ch_close); }

static inline size_t ch_hash(uintptr_t p) {
    uint64_t h = (uint64_t)p >> 4;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29));
}

/* The owner id of the copy whose code is at `pc`, 0 if none. ch_table held. */
static unsigned ch_owner(uintptr_t pc) {
    for (unsigned i = 0; i < CH_MAX_COPIES; i++)
        if (ch_copies[i].handle && pc >= ch_copies[i].start && pc < ch_copies[i].end) return ch_copies[i].id;
    return 0;
}

/* Grow (or clean) the table to hold at least `need` live blocks at half load. ch_table held; 0 on success. */
static int ch_rehash(size_t need) {
    size_t cap = 64;
    while (cap < need * 2) cap <<= 1;
    ch_slot *fresh = (ch_slot *)calloc(cap, sizeof(ch_slot));
    if (!fresh) return -1;
    size_t live = 0;
    for (size_t i = 0; i < ch_cap; i++) {
        if (ch_slots[i].block <= 1) continue;
        size_t j = ch_hash(ch_slots[i].block) & (cap - 1);
        while (fresh[j].block) j = (j + 1) & (cap - 1);
        fresh[j] = ch_slots[i];
        live++;
    }
    free(ch_slots);
    ch_slots = fresh;
    ch_cap = cap;
    ch_used = live;
    return 0;
}

/* Record block `p` as allocated by the code at `pc`. ch_table held. */
static void ch_insert(uintptr_t p, uintptr_t pc) {
    unsigned owner = ch_owner(pc);
    if (!owner) return;
    if ((ch_used + 1) * 4 > ch_cap * 3 && ch_rehash(ch_used + 1) != 0) return;  /* unrecorded: leaks as before */
    size_t j = ch_hash(p) & (ch_cap - 1);
    size_t tomb = (size_t)-1;
    while (ch_slots[j].block) {
        if (ch_slots[j].block == p) { ch_slots[j].owner = owner; return; }
        if (ch_slots[j].block == 1 && tomb == (size_t)-1) tomb = j;
        j = (j + 1) & (ch_cap - 1);
    }
    if (tomb != (size_t)-1) j = tomb; else ch_used++;
    ch_slots[j].block = p;
    ch_slots[j].owner = owner;
}

/* Forget block `p`; whether it was recorded. ch_table held. */
static int ch_remove(uintptr_t p) {
    if (!ch_cap) return 0;
    size_t j = ch_hash(p) & (ch_cap - 1);
    while (ch_slots[j].block) {
        if (ch_slots[j].block == p) { ch_slots[j].block = 1; return 1; }
        j = (j + 1) & (ch_cap - 1);
    }
    return 0;
}

/* What an attached copy calls instead of malloc, calloc, realloc and free. */
static void *ch_malloc(size_t n) {
    void *p = malloc(n);
    if (p) {
        pthread_mutex_lock(&ch_table);
        ch_insert((uintptr_t)p, (uintptr_t)__builtin_return_address(0));
        pthread_mutex_unlock(&ch_table);
    }
    return p;
}

static void *ch_calloc(size_t count, size_t size) {
    void *p = calloc(count, size);
    if (p) {
        pthread_mutex_lock(&ch_table);
        ch_insert((uintptr_t)p, (uintptr_t)__builtin_return_address(0));
        pthread_mutex_unlock(&ch_table);
    }
    return p;
}

static void *ch_realloc(void *old, size_t n) {
    uintptr_t pc = (uintptr_t)__builtin_return_address(0);
    int recorded = 1;  /* realloc(NULL, n) is a malloc */
    if (old) {
        pthread_mutex_lock(&ch_table);
        recorded = ch_remove((uintptr_t)old);  /* before realloc may free it and another thread get it */
        pthread_mutex_unlock(&ch_table);
    }
    void *p = realloc(old, n);
    void *keep = p ? p : (n ? old : NULL);  /* a failed realloc leaves `old` allocated */
    if (keep && recorded) {
        pthread_mutex_lock(&ch_table);
        ch_insert((uintptr_t)keep, pc);
        pthread_mutex_unlock(&ch_table);
    }
    return p;
}

static void ch_free(void *p) {
    if (!p) return;
    pthread_mutex_lock(&ch_table);
    ch_remove((uintptr_t)p);
    pthread_mutex_unlock(&ch_table);
    free(p);
}

/* The address of local function `name` in the loaded library at `base`, read from the symbol table (.symtab)
 * of its file `path`; NULL if it has none. */
static void *ch_local_symbol(const char *path, uintptr_t base, const char *name) {
    void *found = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(ElfW(Ehdr))) { close(fd); return NULL; }
    size_t size = (size_t)st.st_size;
    const unsigned char *f = (const unsigned char *)mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f == MAP_FAILED) return NULL;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)f;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
        eh->e_shoff > size || (size - eh->e_shoff) / sizeof(ElfW(Shdr)) < eh->e_shnum) goto done;
    const ElfW(Shdr) *sh = (const ElfW(Shdr) *)(f + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
        const ElfW(Shdr) *strs = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset ||
            strs->sh_offset > size || strs->sh_size > size - strs->sh_offset) goto done;
        const ElfW(Sym) *syms = (const ElfW(Sym) *)(f + sh[i].sh_offset);
        size_t count = sh[i].sh_size / sizeof(ElfW(Sym));
        size_t namelen = strlen(name);
        for (size_t k = 0; k < count; k++) {
            if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || !syms[k].st_value) continue;
            size_t at = syms[k].st_name;
            if (at >= strs->sh_size || strs->sh_size - at <= namelen) continue;
            if (memcmp(f + strs->sh_offset + at, name, namelen + 1) == 0) {
                found = (void *)(base + syms[k].st_value);
                goto done;
            }
        }
    }
done:
    munmap((void *)f, size);
    return found;
}

typedef struct { uintptr_t base; uintptr_t start, end, relro, relro_end; int found; } ch_phdr_query;

static int ch_phdr_cb(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    ch_phdr_query *q = (ch_phdr_query *)data;
    if (info->dlpi_addr != q->base || q->found) return 0;
    q->found = 1;
    q->start = UINTPTR_MAX;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD) {
            if (lo < q->start) q->start = lo;
            if (hi > q->end) q->end = hi;
        } else if (ph->p_type == PT_GNU_RELRO) {
            q->relro = lo;
            q->relro_end = hi;
        }
    }
    return 1;
}

/* Point a GOT slot at `hook`, through a writable mapping of its page if it is in the read-only-after-relocation
 * range. 0 on success. */
static int ch_patch(void **slot, void *hook, const ch_phdr_query *q) {
    uintptr_t at = (uintptr_t)slot;
    if (at >= q->relro && at < q->relro_end) {
        long page = sysconf(_SC_PAGESIZE);
        void *start = (void *)(at & ~(uintptr_t)(page - 1));
        if (mprotect(start, (size_t)page, PROT_READ | PROT_WRITE) != 0) return -1;
        *slot = hook;
        mprotect(start, (size_t)page, PROT_READ);
        return 0;
    }
    *slot = hook;
    return 0;
}

/* Record what the copy `handle` (loaded from `path`) allocates from now on. 0 on success; -1 if it cannot be
 * (then it runs unattached). */
static int retro_copyheap_attach(void *handle, const char *path) {
#if defined(CH_JUMP_SLOT)
    struct link_map *lm = NULL;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm) return -1;
    ch_phdr_query q = {(uintptr_t)lm->l_addr, 0, 0, 0, 0, 0};
    dl_iterate_phdr(ch_phdr_cb, &q);
    if (!q.found || q.start >= q.end) return -1;
    uintptr_t base = (uintptr_t)lm->l_addr;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const ElfW(Rela) *rels[2] = {NULL, NULL};
    size_t relsz[2] = {0, 0};
    for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++) {
        uintptr_t v = (uintptr_t)d->d_un.d_ptr;
        uintptr_t a = v < base ? base + v : v;  /* glibc relocates these entries in place; be safe if not */
        switch (d->d_tag) {
        case DT_SYMTAB: symtab = (const ElfW(Sym) *)a; break;
        case DT_STRTAB: strtab = (const char *)a; break;
        case DT_JMPREL: rels[0] = (const ElfW(Rela) *)a; break;
        case DT_PLTRELSZ: relsz[0] = (size_t)d->d_un.d_val; break;
        case DT_RELA: rels[1] = (const ElfW(Rela) *)a; break;
        case DT_RELASZ: relsz[1] = (size_t)d->d_un.d_val; break;
        case DT_PLTREL: if (d->d_un.d_val != DT_RELA) return -1; break;
        default: break;
        }
    }
    if (!symtab || !strtab) return -1;
    static const char *const names[4] = {"malloc", "calloc", "realloc", "free"};
    void *const hooks[4] = {(void *)ch_malloc, (void *)ch_calloc, (void *)ch_realloc, (void *)ch_free};
    pthread_mutex_lock(&ch_close);
    if (!ch_fork_handlers) {
        pthread_atfork(ch_prefork, ch_postfork, ch_postfork);
        ch_fork_handlers = 1;
    }
    pthread_mutex_lock(&ch_table);
    int entry = -1;
    for (int i = 0; i < CH_MAX_COPIES; i++)
        if (!ch_copies[i].handle) { entry = i; break; }
    if (entry < 0) {
        pthread_mutex_unlock(&ch_table);
        pthread_mutex_unlock(&ch_close);
        return -1;
    }
    ch_copies[entry].handle = handle;
    ch_copies[entry].start = q.start;
    ch_copies[entry].end = q.end;
    if (!ch_next_id) ch_next_id = 1;  /* after 2^32 copies */
    ch_copies[entry].id = ch_next_id++;
    ch_copies[entry].freeres = (void (*)(void))ch_local_symbol(path, base, "_ZN9__gnu_cxx9__freeresEv");
    pthread_mutex_unlock(&ch_table);
    int failed = 0;
    for (int r = 0; r < 2 && !failed; r++) {
        if (!rels[r]) continue;
        for (size_t k = 0; k < relsz[r] / sizeof(ElfW(Rela)); k++) {
            unsigned long type = ELF64_R_TYPE(rels[r][k].r_info);
            if (type != CH_JUMP_SLOT && type != CH_GLOB_DAT) continue;
            const char *name = strtab + symtab[ELF64_R_SYM(rels[r][k].r_info)].st_name;
            for (int h = 0; h < 4; h++) {
                if (strcmp(name, names[h]) != 0) continue;
                if (ch_patch((void **)(base + rels[r][k].r_offset), hooks[h], &q) != 0) failed = 1;
                break;
            }
        }
    }
    pthread_mutex_unlock(&ch_close);
    return failed ? -1 : 0;
#else
    (void)handle; (void)path;
    return -1;
#endif
}

/* Whether `handle` is an attached copy. */
static int retro_copyheap_attached(void *handle) {
    int found = 0;
    pthread_mutex_lock(&ch_table);
    for (unsigned i = 0; i < CH_MAX_COPIES; i++)
        if (ch_copies[i].handle == handle) found = 1;
    pthread_mutex_unlock(&ch_table);
    return found;
}

/* Blocks the copy `handle` has allocated since it was attached and not freed. */
static size_t retro_copyheap_blocks(void *handle) {
    size_t n = 0;
    pthread_mutex_lock(&ch_table);
    for (unsigned i = 0; i < CH_MAX_COPIES; i++) {
        if (ch_copies[i].handle != handle) continue;
        for (size_t j = 0; j < ch_cap; j++)
            if (ch_slots[j].block > 1 && ch_slots[j].owner == ch_copies[i].id) n++;
    }
    pthread_mutex_unlock(&ch_table);
    return n;
}

/* Unload the copy `handle` (deinitialised: no game, no threads of its own running): its emergency pool, then
 * dlclose, then the blocks it still owns. Returns how many blocks were freed; a copy that is not attached is
 * only dlclosed. */
static size_t retro_copyheap_close(void *handle) {
    pthread_mutex_lock(&ch_close);
    pthread_mutex_lock(&ch_table);
    int entry = -1;
    for (int i = 0; i < CH_MAX_COPIES; i++)
        if (ch_copies[i].handle == handle) { entry = i; break; }
    void (*freeres)(void) = entry >= 0 ? ch_copies[entry].freeres : NULL;
    pthread_mutex_unlock(&ch_table);
    if (freeres) freeres();
    dlclose(handle);
    size_t freed = 0;
    if (entry >= 0) {
        pthread_mutex_lock(&ch_table);
        unsigned id = ch_copies[entry].id;
        for (size_t j = 0; j < ch_cap; j++) {
            if (ch_slots[j].block > 1 && ch_slots[j].owner == id) {
                free((void *)ch_slots[j].block);
                ch_slots[j].block = 1;
                freed++;
            }
        }
        memset(&ch_copies[entry], 0, sizeof ch_copies[entry]);
        if (ch_cap && ch_used > ch_cap / 2) ch_rehash(ch_used);  /* sweep the deleted slots */
        pthread_mutex_unlock(&ch_table);
    }
    pthread_mutex_unlock(&ch_close);
    return freed;
}

#endif
