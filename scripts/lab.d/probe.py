"""probe.py dns SERVER NAME TYPE   -> rcode and answer count ("0 2")
   probe.py smtp ADDR PORT        -> the 220 greeting line
Bounded by a short timeout; exits 1 on failure."""
import socket
import struct
import sys

TYPES = {"A": 1, "PTR": 12, "MX": 15, "AAAA": 28}


def dns(server, name, qtype):
    q = struct.pack(">HHHHHH", 0x4c61, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", TYPES[qtype], 1)
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    s.sendto(q, (server, 53))
    r, _ = s.recvfrom(4096)
    rcode = r[3] & 15
    ancount = struct.unpack(">H", r[6:8])[0]
    print(rcode, ancount)
    return 0


def smtp(addr, port):
    s = socket.create_connection((addr, int(port)), timeout=1)
    s.settimeout(2)
    line = s.makefile("rb").readline().decode("ascii", "replace").strip()
    s.sendall(b"QUIT\r\n")
    s.close()
    print(line)
    return 0 if line.startswith("220") else 1


try:
    sys.exit(dns(*sys.argv[2:5]) if sys.argv[1] == "dns" else smtp(*sys.argv[2:4]))
except (OSError, IndexError, KeyError) as e:
    print("probe: %s" % e, file=sys.stderr)
    sys.exit(1)
