"""MSRP framing shared by the Python test peers (msrp_tls_peer.py, msrp_e2e_peer.py, msrp_path_peer.py).

RFC 4975 §7.1: a request or response starts with `MSRP <transaction-id> ...` and ends with the end-line
`-------<transaction-id>` followed by `$`, `+` or `#`, on a line of its own.
"""
import re

# A test peer never needs more than this for one frame; a larger one is an error, not a reason to grow.
MAX_FRAME_BYTES = 1 << 20


def read_frame(sock, buf):
    """Return (frame_bytes, rest) for one complete MSRP request or response read from `sock` after `buf`."""
    while True:
        nl = buf.find(b"\r\n")
        if nl >= 0:
            first = buf[:nl].split(b" ")
            if len(first) >= 3 and first[0] == b"MSRP":
                end = re.compile(rb"\r\n-------" + re.escape(first[1]) + rb"([$+#])\r\n")
                m = end.search(buf)
                if m:
                    return buf[:m.end()], buf[m.end():]
        if len(buf) > MAX_FRAME_BYTES:
            raise ConnectionError("frame too large")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
