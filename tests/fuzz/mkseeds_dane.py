#!/usr/bin/python3
"""Seeds of tests/fuzz/fuzz_dane.c: DNS answers for _25._tcp.mx1.example.net
TLSA, written to tests/fuzz/corpus/fuzz_dane/seed-*.  Run from the top of
the tree: /usr/bin/python3 tests/fuzz/mkseeds_dane.py"""
import hashlib, os, struct, subprocess

PEM = open(os.path.join(os.path.dirname(__file__), 'fuzz_dane.c')).read()
PEM = PEM[PEM.index('-----BEGIN'):PEM.index('-----END CERTIFICATE-----') + 25]
PEM = '\n'.join(l.strip().strip('"').replace('\\n', '') for l in PEM.split('\n')) + '\n'
DER = subprocess.run(['openssl', 'x509', '-outform', 'DER'], input=PEM.encode(),
                     capture_output=True, check=True).stdout
SPKI = subprocess.run('openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER',
                      shell=True, input=PEM.encode(), capture_output=True,
                      check=True).stdout
QNAME = b''.join(bytes([len(l)]) + l for l in b'_25._tcp.mx1.example.net'.split(b'.')) + b'\0'


def msg(records, ad=True, rcode=0):
    """A response (ID 0x1234) with these (type, rdata) answers to QNAME TLSA."""
    flags = 0x8180 | (0x20 if ad else 0) | rcode
    out = struct.pack('>HHHHHH', 0x1234, flags, 1, len(records), 0, 0)
    out += QNAME + struct.pack('>HH', 52, 1)
    for rtype, rdata in records:
        out += b'\xc0\x0c' + struct.pack('>HHIH', rtype, 1, 300, len(rdata)) + rdata
    return out


def tlsa(u, s, m, data):
    return (52, bytes([u, s, m]) + data)


RRSIG = (46, struct.pack('>HBBIIIH', 52, 13, 5, 300, 0x7fffffff, 0, 1234)
         + b'\x07example\x03net\x00' + b'\x55' * 64)
seeds = {
    'ee-spki-sha256': msg([tlsa(3, 1, 1, hashlib.sha256(SPKI).digest()), RRSIG]),
    'ee-cert-sha512': msg([RRSIG, tlsa(3, 0, 2, hashlib.sha512(DER).digest())]),
    'ee-spki-full': msg([tlsa(3, 1, 0, SPKI)]),
    'ta-self': msg([tlsa(2, 0, 1, hashlib.sha256(DER).digest())]),
    'mismatch': msg([tlsa(3, 1, 1, b'\x00' * 32)]),
    'pkix-only': msg([tlsa(1, 1, 1, hashlib.sha256(SPKI).digest())]),
    'short-digest': msg([tlsa(3, 1, 2, b'\xab' * 10)]),
    'truncated-rdata': msg([(52, b'\x03\x01')]),
    'full-not-der': msg([tlsa(3, 0, 0, b'\x30\x03\x02\x01')]),
    'servfail': msg([], ad=False, rcode=2),
}
d = os.path.join(os.path.dirname(__file__), 'corpus', 'fuzz_dane')
os.makedirs(d, exist_ok=True)
for name, m in seeds.items():
    for ctl in (0, 1):   # bit 0: Opportunistic, Mandatory
        with open(os.path.join(d, 'seed-%s-%d' % (name, ctl)), 'wb') as f:
            f.write(bytes([ctl]) + m)
