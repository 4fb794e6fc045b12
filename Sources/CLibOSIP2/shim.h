#ifndef CLIBOSIP2_SHIM_H
#define CLIBOSIP2_SHIM_H
/* Only the parser half of oSIP (libosipparser2): message, headers, URI, SDP.
 * <osip2/osip.h> (oSIP's own transaction layer) is deliberately not included.
 * Only Sources/SIPCore/Codec/OSIPBridge.swift imports this module. */
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>
#include <osipparser2/sdp_message.h>
#include <stdlib.h>

/* osip_free is a function-like macro (it honours osip_set_allocators); Swift cannot import it. */
static inline void clibosip2_free(void *p) { osip_free(p); }
static inline int clibosip2_is_request(const osip_message_t *m) { return MSG_IS_REQUEST(m); }
/* Whether allocators are set with osip_set_allocators (Swift 6 cannot read the C global itself). */
static inline int clibosip2_has_allocators(void) { return osip_malloc_func != NULL; }

/* The calling thread's libosip2 validation arena (SIPCore's OSIPArena.State), as a C thread-local: the
 * allocator hooks read it on every libosip2 allocation, where a pthread key lookup cost a call to
 * pthread_getspecific (and Swift's lazy-global check of the key) each time. One slot per thread. */
static inline void **clibosip2_arena_slot(void) {
  static __thread void *slot;
  return &slot;
}

/* osip_uri_param_get_byname() takes a non-const char *name; hide that. */
static inline const char *clibosip2_generic_param(osip_list_t *params, const char *name) {
  osip_generic_param_t *p = NULL;
  if (osip_uri_param_get_byname(params, (char *) name, &p) != 0 || p == NULL) return NULL;
  return p->gvalue;
}
#endif
