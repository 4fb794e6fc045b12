#!/usr/bin/env python3
"""msrp_tls_peer.py - a minimal MSRP (RFC 4975) endpoint over TLS for tests.

(Adapted from shared/peers/msrp_tls_peer.py for the AGWMedia tests: the client can present its own
certificate (--client-cert), check the gateway against an SDP fingerprint (--expect-fingerprint),
and print its certificate's fingerprint (--print-fingerprint).)

Standard library only (plus the `openssl` CLI to mint a self-signed cert when
none is given). No MSRP library exists in Debian or on PyPI that fits, and
MSRP framing is simple enough to hand-roll for a test peer.

  server: listen on HOST:PORT with TLS, answer every SEND with 200 OK, print
          each chunk, exit after --count SENDs or --timeout seconds.
  client: connect with TLS (certificate not verified unless --cafile),
          send --count SEND requests (one chunk each), require 200 OK to each.

--plain uses TCP without TLS (msrp:// URIs), which tshark decodes natively.
Both sides print 'N passed, N failed' at the end and exit non-zero on failure.
--keylog FILE writes TLS session secrets (NSS key log format) so tshark can
decrypt the capture:  tshark -r x.pcap -o tls.keylog_file:FILE -Y msrp

Examples (all on loopback):
  python3 msrp_tls_peer.py server --port 2855 --cert /tmp/m.crt --key /tmp/m.key --mkcert
  python3 msrp_tls_peer.py client --port 2855 --count 3
"""
import argparse
import hashlib
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import time

from msrp_frames import read_frame  # noqa: E402  (Tests/Peers, beside this script)

END_RE = re.compile(rb"\r\n-------(\S+)([$+#])\r\n")


def mkcert(cert, key, cn="msrp.test.local"):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
         "-addext", f"subjectAltName=DNS:{cn},IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fingerprint_of_der(der):
    """RFC 8122 sha-256 fingerprint of a DER certificate, as SDP writes it."""
    return "sha-256 " + ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def cert_fingerprint(cert_path):
    with open(cert_path) as f:
        return fingerprint_of_der(ssl.PEM_cert_to_DER_cert(f.read()))


def check_peer_fingerprint(s, expected):
    """RFC 4975 14.4: the peer certificate must match the SDP fingerprint (no CA)."""
    if not expected:
        return
    got = fingerprint_of_der(s.getpeercert(binary_form=True) or b"")
    if got.lower() != expected.lower():
        raise ssl.SSLError(f"peer fingerprint mismatch: {got}")



def header(frame, name):
    m = re.search(rb"\r\n" + name.encode() + rb": ([^\r\n]*)", frame)
    return m.group(1).decode() if m else None


def server(a):
    if a.mkcert or not (os.path.exists(a.cert) and os.path.exists(a.key)):
        mkcert(a.cert, a.key)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.keylog:
        ctx.keylog_filename = a.keylog
    ls = socket.create_server((a.host, a.port), reuse_port=False)
    ls.settimeout(a.timeout)
    print(f"MSRP-{'TCP' if a.plain else 'TLS'} server on {a.host}:{a.port}",
          flush=True)
    ok = bad = 0
    raw, peer = ls.accept()
    if a.plain:
        s = raw
        print(f"TCP from {peer}", flush=True)
    else:
        s = ctx.wrap_socket(raw, server_side=True)
        print(f"TLS {s.version()} {s.cipher()[0]} from {peer}", flush=True)
    s.settimeout(a.timeout)
    buf = b""
    while ok + bad < a.count:
        frame, buf = read_frame(s, buf)
        first = frame.split(b"\r\n", 1)[0].decode()
        tid = first.split(" ")[1]
        print(f"<< {first} To-Path={header(frame, 'To-Path')} "
              f"Message-ID={header(frame, 'Message-ID')}", flush=True)
        if first.split(" ")[2] == "SEND":
            to_path = header(frame, "To-Path")
            from_path = header(frame, "From-Path")
            # RFC 4975 7.2: a response swaps the last To-Path URI into From-Path
            resp = (f"MSRP {tid} 200 OK\r\nTo-Path: {from_path}\r\n"
                    f"From-Path: {to_path.split(' ')[-1]}\r\n"
                    f"-------{tid}$\r\n")
            s.sendall(resp.encode())
            ok += 1
        else:
            bad += 1
    s.close()
    print(f"{ok} passed, {bad} failed")
    return 0 if bad == 0 and ok == a.count else 1


def client(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if a.client_cert:
        if a.mkcert or not (os.path.exists(a.cert) and os.path.exists(a.key)):
            mkcert(a.cert, a.key)
        ctx.load_cert_chain(a.cert, a.key)
    if a.cafile:
        ctx.load_verify_locations(a.cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if a.keylog:
        ctx.keylog_filename = a.keylog
    deadline = time.time() + a.timeout
    while True:
        try:
            raw = socket.create_connection((a.host, a.port), timeout=a.timeout)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    if a.plain:
        s = raw
        scheme = "msrp"
    else:
        s = ctx.wrap_socket(raw, server_hostname=a.sni)
        check_peer_fingerprint(s, a.expect_fingerprint)
        print(f"TLS {s.version()} {s.cipher()[0]} to {a.host}:{a.port}", flush=True)
        scheme = "msrps"
    s.settimeout(a.timeout)
    lport = s.getsockname()[1]
    me = f"{scheme}://127.0.0.1:{lport}/{secrets.token_hex(6)};tcp"
    to = a.to_path or f"{scheme}://{a.host}:{a.port}/{secrets.token_hex(6)};tcp"
    ok = bad = 0
    buf = b""
    for i in range(a.count):
        tid = secrets.token_hex(5)
        body = f"hello {i} over MSRP".encode()
        req = (f"MSRP {tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: {me}\r\n"
               f"Message-ID: m{i}-{secrets.token_hex(4)}\r\n"
               f"Byte-Range: 1-{len(body)}/{len(body)}\r\n"
               f"Content-Type: text/plain\r\n\r\n").encode() + body + \
            f"\r\n-------{tid}$\r\n".encode()
        s.sendall(req)
        frame, buf = read_frame(s, buf)
        first = frame.split(b"\r\n", 1)[0].decode()
        print(f"<< {first}", flush=True)
        if first == f"MSRP {tid} 200 OK":
            ok += 1
        else:
            bad += 1
    s.close()
    print(f"{ok} passed, {bad} failed")
    return 0 if bad == 0 else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2855)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--cert", default="/tmp/msrp_test.crt")
    ap.add_argument("--key", default="/tmp/msrp_test.key")
    ap.add_argument("--mkcert", action="store_true",
                    help="always mint a fresh self-signed cert")
    ap.add_argument("--cafile", help="client: verify server against this")
    ap.add_argument("--sni", default="msrp.test.local")
    ap.add_argument("--to-path", help="client: To-Path URI (default: server)")
    ap.add_argument("--keylog", help="write TLS key log for tshark")
    ap.add_argument("--plain", action="store_true",
                    help="plain TCP instead of TLS (msrp:// URIs)")
    ap.add_argument("--client-cert", action="store_true",
                    help="client: present --cert/--key (minted if missing)")
    ap.add_argument("--expect-fingerprint",
                    help="client: require the server cert to match this "
                         "'sha-256 AB:..' SDP fingerprint")
    ap.add_argument("--print-fingerprint", action="store_true",
                    help="mint --cert if missing, print its fingerprint, exit")
    a = ap.parse_args()
    if a.print_fingerprint:
        if a.mkcert or not (os.path.exists(a.cert) and os.path.exists(a.key)):
            mkcert(a.cert, a.key)
        print(cert_fingerprint(a.cert))
        return 0
    assert a.host.startswith("127.") or a.host == "::1", "loopback only"
    return server(a) if a.mode == "server" else client(a)


if __name__ == "__main__":
    sys.exit(main())
