// LD_PRELOAD shim: counts malloc/calloc/realloc/posix_memalign/aligned_alloc/free calls and prints
// the counts to stderr at exit. Build: cc -O2 -shared -fPIC -o malloc-count.so malloc-count.c -ldl
// Used by scripts/sdp-allocs.sh (allocations per SDP rewrite). Not thread-exact (relaxed counters).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static unsigned long n_alloc, n_free;

void *malloc(size_t n) { __atomic_add_fetch(&n_alloc, 1, __ATOMIC_RELAXED); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { __atomic_add_fetch(&n_alloc, 1, __ATOMIC_RELAXED); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { __atomic_add_fetch(&n_alloc, 1, __ATOMIC_RELAXED); return __libc_realloc(p, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    __atomic_add_fetch(&n_alloc, 1, __ATOMIC_RELAXED);
    void *p = __libc_memalign(al, n);
    if (!p) return 12;
    *out = p;
    return 0;
}
void *aligned_alloc(size_t al, size_t n) { __atomic_add_fetch(&n_alloc, 1, __ATOMIC_RELAXED); return __libc_memalign(al, n); }
void free(void *p) { if (p) __atomic_add_fetch(&n_free, 1, __ATOMIC_RELAXED); __libc_free(p); }

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "malloc-count: allocations %lu frees %lu\n", n_alloc, n_free);
}
