#!/usr/bin/env python3
"""bfcp_e2e_peer.py - the two BFCP ends of the ims-agw end-to-end test (stdlib only).

The gateway relays BFCP bytes without parsing them (TS 23.334 §5.11.2.2, seed 004), so this is not a
BFCP stack: each end sends an RFC 8855 §5.1 common header message (the UE a Hello, primitive 11, the
core a HelloAck, primitive 12, with a SUPPORTED-PRIMITIVES attribute), then a deterministic binary
blob of --blob bytes (every byte value, several TCP segments); the other end requires the exact bytes.

  ue:   the UE's BFCP client over TLS with --cert/--key (the certificate whose fingerprint the UE put in
        its SDP). --listen PORT: TCP passive (the gateway connects, seed 004 originating flow: the
        answer towards the UE is a=setup:active) and TLS CLIENT (the SDP offerer starts TLS, RFC 8856).
        --connect PORT: TCP active; --tls-server makes it TLS server (the gateway got Establish TLS,
        seed 004 terminating flow), otherwise TLS client.
  core: the far end over plain TCP, --listen PORT or --connect PORT.
Each prints 'bytes out ok N' / 'bytes in ok N' and exits 0 when both directions arrived intact,
1 otherwise, 2 when the connection or the TLS handshake was refused ('refused: ...').
"""
import argparse
import hashlib
import socket
import ssl
import struct
import sys

CONFERENCE_ID, USER_ID = 4321, 1234


def bfcp(primitive, transaction, attributes=b""):
    """RFC 8855 §5.1 common header: Ver=1 (reliable transport), R=F=0, Primitive, Payload Length in
    4-octet units, Conference ID, Transaction ID, User ID; then the attributes."""
    assert len(attributes) % 4 == 0
    return struct.pack("!BBHIHH", 1 << 5, primitive, len(attributes) // 4, CONFERENCE_ID, transaction, USER_ID) + attributes


def supported_primitives():
    """RFC 8855 §5.2.10 SUPPORTED-PRIMITIVES (type 21, M=1): one octet per primitive, padded to 4."""
    prims = bytes(range(1, 18))
    body = struct.pack("!BB", (21 << 1) | 1, 2 + len(prims)) + prims
    return body + b"\0" * (-len(body) % 4)


def blob(label, size):
    """Deterministic bytes both ends can compute: SHA-256 in counter mode over `label`."""
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return bytes(out[:size])


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(65536, n - len(buf)))
        if not chunk:
            raise ConnectionError(f"peer closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def exchange(sock, side, size):
    hello = bfcp(11, 1)
    hello_ack = bfcp(12, 1, supported_primitives())
    ue_data, core_data = hello + blob("ue", size), hello_ack + blob("core", size)
    mine, theirs = (ue_data, core_data) if side == "ue" else (core_data, ue_data)
    if side == "ue":
        sock.sendall(mine)
        print(f"bytes out ok {len(mine)}", flush=True)
    got = recv_exact(sock, len(theirs))
    if got != theirs:
        first = next(i for i in range(len(got)) if got[i] != theirs[i])
        raise ValueError(f"bytes differ at offset {first}")
    print(f"bytes in ok {len(got)}", flush=True)
    if side == "core":
        sock.sendall(mine)
        print(f"bytes out ok {len(mine)}", flush=True)
        # Keep the connection until the UE closed it (all bytes delivered through the relay).
        sock.settimeout(5)
        try:
            sock.recv(1)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("side", choices=["ue", "core"])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--listen", type=int)
    g.add_argument("--connect", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--tls-server", action="store_true")
    ap.add_argument("--blob", type=int, default=65543)
    ap.add_argument("--timeout", type=float, default=15)
    a = ap.parse_args()
    try:
        if a.listen is not None:
            srv = socket.socket()
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind((a.host, a.listen))
            srv.listen(1)
            srv.settimeout(a.timeout)
            print("listening", flush=True)
            raw, _ = srv.accept()
        else:
            raw = socket.create_connection((a.host, a.connect), timeout=a.timeout)
        raw.settimeout(a.timeout)
        print("connected", flush=True)
        sock = raw
        if a.side == "ue":
            try:
                if a.tls_server:
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(a.cert, a.key)
                    sock = ctx.wrap_socket(raw, server_side=True)
                else:
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE   # RFC 8122: the peer is checked by fingerprint, not by CA
                    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
                    ctx.load_cert_chain(a.cert, a.key)
                    sock = ctx.wrap_socket(raw, server_side=False)
            except (ssl.SSLError, OSError) as e:
                print(f"refused: {e}", flush=True)
                return 2
            print(f"tls ok {sock.version()}", flush=True)
        exchange(sock, a.side, a.blob)
        if a.side == "ue" and not a.tls_server:
            try:
                sock.unwrap()
            except (ssl.SSLError, OSError):
                pass
        return 0
    except Exception as e:  # noqa: BLE001 - a test peer reports and fails
        print(f"failed: {type(e).__name__}: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
