#ifndef CLIBOSIP2_SHIM_H
#define CLIBOSIP2_SHIM_H
/* Only the parser half of oSIP (libosipparser2): message, headers, URI, SDP.
 * <osip2/osip.h> (oSIP's own transaction layer) is deliberately not included.
 * Only Sources/SIPCore/Codec/OSIPBridge.swift imports this module. */
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>
#include <osipparser2/sdp_message.h>
#include <stdlib.h>
#include <string.h>

/* osip_free is a function-like macro (it honours osip_set_allocators); Swift cannot import it. */
static inline void clibosip2_free(void *p) { osip_free(p); }
static inline int clibosip2_is_request(const osip_message_t *m) { return MSG_IS_REQUEST(m); }
/* Whether allocators are set with osip_set_allocators (Swift 6 cannot read the C global itself). */
static inline int clibosip2_has_allocators(void) { return osip_malloc_func != NULL; }

/* The calling thread's libosip2 validation arena (SIPCore's OSIPArena), as a C thread-local: the
 * allocator hooks read it on every libosip2 allocation. The hooks themselves are C (below): written in
 * Swift each allocation cost ~40 instructions of calls, optional checks and a lazy-global test. */
typedef struct clibosip2_arena {
  unsigned char *base; /* capacity bytes, malloc'd once per thread */
  size_t capacity;
  size_t used;
  int active;  /* inside LibOSIP2.validate */
  int spilled; /* a block of the current validation went to malloc */
} clibosip2_arena_t;

/* One slot per thread (filled by OSIPArena.current(); its pthread key frees the buffer at thread exit). */
static inline clibosip2_arena_t **clibosip2_arena_slot(void) {
  static __thread clibosip2_arena_t *slot;
  return &slot;
}

/* Each block is preceded by its size (for realloc), keeping 16-byte alignment. */
#define CLIBOSIP2_ARENA_HEADER 16

/* osip_malloc while the arena is active: bump allocation; once the buffer is full (or outside
 * validate) plain malloc, and a spill is recorded so that validate frees the tree. */
static inline void *clibosip2_arena_malloc(size_t size) {
  clibosip2_arena_t *a = *clibosip2_arena_slot();
  if (a != NULL && a->active) {
    if (size <= a->capacity) {
      size_t need = ((size + 15) & ~(size_t) 15) + CLIBOSIP2_ARENA_HEADER;
      if (need <= a->capacity - a->used) {
        unsigned char *block = a->base + a->used;
        a->used += need;
        *(size_t *) block = size;
        return block + CLIBOSIP2_ARENA_HEADER;
      }
    }
    a->spilled = 1;
  }
  return malloc(size);
}

static inline int clibosip2_arena_owns(const clibosip2_arena_t *a, const void *p) {
  return a != NULL && (const unsigned char *) p >= a->base && (const unsigned char *) p < a->base + a->capacity;
}

/* osip_realloc: an arena block moves to a new block (its size is stored before it); others go to realloc. */
static inline void *clibosip2_arena_realloc(void *p, size_t size) {
  if (p == NULL) return clibosip2_arena_malloc(size);
  clibosip2_arena_t *a = *clibosip2_arena_slot();
  if (!clibosip2_arena_owns(a, p)) return realloc(p, size);
  size_t old = *(size_t *) ((unsigned char *) p - CLIBOSIP2_ARENA_HEADER);
  void *fresh = clibosip2_arena_malloc(size);
  if (fresh == NULL) return NULL;
  memcpy(fresh, p, old < size ? old : size);
  return fresh;
}

/* osip_free: arena blocks are left to the arena's reset; every other block is freed. */
static inline void clibosip2_arena_free(void *p) {
  if (p == NULL) return;
  if (clibosip2_arena_owns(*clibosip2_arena_slot(), p)) return;
  free(p);
}

static inline void clibosip2_set_arena_hooks(void) {
  osip_set_allocators(clibosip2_arena_malloc, clibosip2_arena_realloc, clibosip2_arena_free);
}

/* osip_uri_param_get_byname() takes a non-const char *name; hide that. */
static inline const char *clibosip2_generic_param(osip_list_t *params, const char *name) {
  osip_generic_param_t *p = NULL;
  if (osip_uri_param_get_byname(params, (char *) name, &p) != 0 || p == NULL) return NULL;
  return p->gvalue;
}
#endif
