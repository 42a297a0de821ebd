"""smtpclient.py [options] HOST RCPT - send one message with Python's smtplib
(the lab's second client, beside swaks)

  --tls no|optional|required   STARTTLS: never, when offered, or must (default optional)
  --cafile FILE                trust store (default: the system's)
  --no-verify                  verify nothing (CERT_NONE), like swaks without --tls-verify
  --port N                     default 25
  --from ADDR                  envelope sender
  --timeout S                  per operation (default 5)
Checks the host name as Python does by default (RFC 6125 for HOST).
Prints one line: "delivered tls=VERSION" / "delivered tls=none" / "not delivered: WHY";
exit 0 delivered, 1 not delivered, 2 usage."""
import argparse
import smtplib
import ssl
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls", choices=("no", "optional", "required"), default="optional")
    ap.add_argument("--cafile")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--from", dest="sender", default="lab@client.lab.example.net")
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("host")
    ap.add_argument("rcpt")
    a = ap.parse_args()
    host = a.host.strip("[]")
    ctx = ssl.create_default_context(cafile=a.cafile)
    if a.no_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    msg = ("From: %s\r\nTo: %s\r\nSubject: esaverify lab\r\n\r\nhello from the lab\r\n"
           % (a.sender, a.rcpt))
    tls = "none"
    try:
        with smtplib.SMTP(host, a.port, local_hostname="client.lab.example.net",
                          timeout=a.timeout) as s:
            s.ehlo()
            if a.tls != "no" and s.has_extn("starttls"):
                s.starttls(context=ctx)
                s.ehlo()
                tls = s.sock.version()
            elif a.tls == "required":
                print("not delivered: the server does not offer STARTTLS")
                return 1
            s.sendmail(a.sender, [a.rcpt], msg)
    except (smtplib.SMTPException, ssl.SSLError, OSError) as e:
        print("not delivered: %s: %s" % (type(e).__name__, e))
        return 1
    print("delivered tls=%s" % tls)
    return 0


sys.exit(main())
