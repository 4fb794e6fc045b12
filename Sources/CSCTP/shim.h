#ifndef PCSCF_CSCTP_SHIM_H
#define PCSCF_CSCTP_SHIM_H
// Debian libsctp-dev: the SCTP socket API of RFC 6458 (sctp_sendmsg, sctp_recvmsg, sctp_bindx).
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#endif
