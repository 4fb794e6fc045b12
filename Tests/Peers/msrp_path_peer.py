#!/usr/bin/env python3
"""msrp_path_peer.py - MSRP (RFC 4975) ends that check session matching on To-Path / From-Path (stdlib only).

For the application-aware MSRP end-to-end test (seed 003): without CEMA an endpoint matches a session by
the URIs of the SDP it exchanged (RFC 4975 §7.3 / §5.4): every request and response it receives must have
To-Path = its own a=path URI (--me) and From-Path = the a=path it received in SDP (--peer). A relay
that does not rewrite the paths (application-agnostic) fails this check.

  client: the UE, TLS (--cert/--key: the certificate of its SDP fingerprint) to --port; sends a SEND,
          requires its 200 OK, then answers the far end's SEND.
  server: the core, plain TCP on --port; answers the first SEND, then sends its own and requires the 200.
Prints 'SEND out ok' / 'SEND in ok' and 'paths ok' lines; exits 0 on success, 1 on a path or protocol
mismatch ('failed: ...'), 2 when the connection or TLS was refused.
"""
import argparse
import re
import secrets
import socket
import ssl
import sys

from msrp_frames import read_frame  # noqa: E402  (Tests/Peers, beside this script)



def paths(frame):
    to = re.search(rb"\r\nTo-Path: ([^\r]+)\r\n", frame)
    frm = re.search(rb"\r\nFrom-Path: ([^\r]+)\r\n", frame)
    if not to or not frm:
        raise ValueError(f"no To-Path/From-Path in {frame[:120]!r}")
    return to.group(1).decode(), frm.group(1).decode()


def check(frame, me, peer, what):
    to, frm = paths(frame)
    if to != me or frm != peer:
        raise ValueError(f"{what}: To-Path {to!r} (want {me!r}), From-Path {frm!r} (want {peer!r})")
    print(f"paths ok {what}", flush=True)


def send_request(sock, buf, me, peer, text):
    tid = secrets.token_hex(6)
    body = text.encode()
    sock.sendall((f"MSRP {tid} SEND\r\nTo-Path: {peer}\r\nFrom-Path: {me}\r\nMessage-ID: {secrets.token_hex(4)}\r\n"
                  f"Byte-Range: 1-{len(body)}/{len(body)}\r\nContent-Type: text/plain\r\n\r\n").encode()
                 + body + f"\r\n-------{tid}$\r\n".encode())
    frame, buf = read_frame(sock, buf)
    line = frame.split(b"\r\n", 1)[0].split(b" ")
    if line[1].decode() != tid or line[2] != b"200":
        raise ValueError(f"unexpected response {frame[:80]!r}")
    check(frame, me, peer, "200 OK")
    print("SEND out ok", flush=True)
    return buf


def answer_request(sock, buf, me, peer, expect):
    frame, buf = read_frame(sock, buf)
    line = frame.split(b"\r\n", 1)[0].split(b" ")
    if line[2] != b"SEND" or expect.encode() not in frame:
        raise ValueError(f"unexpected request {frame[:80]!r}")
    check(frame, me, peer, "SEND")
    tid = line[1].decode()
    sock.sendall(f"MSRP {tid} 200 OK\r\nTo-Path: {peer}\r\nFrom-Path: {me}\r\n-------{tid}$\r\n".encode())
    print("SEND in ok", flush=True)
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["client", "server"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--me", required=True, help="own a=path URI (as put in its SDP)")
    ap.add_argument("--peer", required=True, help="the a=path URI received in SDP")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--timeout", type=float, default=15)
    a = ap.parse_args()
    try:
        if a.mode == "client":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE   # RFC 8122: checked by fingerprint, not by CA
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(a.cert, a.key)
            try:
                raw = socket.create_connection((a.host, a.port), timeout=a.timeout)
                sock = ctx.wrap_socket(raw)
            except (ssl.SSLError, OSError) as e:
                print(f"refused: {e}", flush=True)
                return 2
            buf = send_request(sock, b"", a.me, a.peer, "hello from the UE over TLS")
            answer_request(sock, buf, a.me, a.peer, "hello from the core")
        else:
            srv = socket.socket()
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind((a.host, a.port))
            srv.listen(4)
            srv.settimeout(a.timeout)
            print("listening", flush=True)
            conn, _ = srv.accept()
            conn.settimeout(a.timeout)
            buf = answer_request(conn, b"", a.me, a.peer, "hello from the UE")
            send_request(conn, buf, a.me, a.peer, "hello from the core over TCP")
        return 0
    except Exception as e:  # noqa: BLE001 - a test peer reports and fails
        print(f"failed: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
