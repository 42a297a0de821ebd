"""esaverify lab SMTP server: smtpd.py ADDR PORT MAILDIR HOSTNAME [CERT KEY]

aiosmtpd on ADDR:PORT; STARTTLS offered (not required) when CERT and KEY are
given.  Every message goes to the Maildir MAILDIR with X-Lab-TLS (protocol
and cipher, or "none") and X-Lab-Server headers.  Stops on SIGTERM."""
import asyncio
import signal
import ssl
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP


class LabMailbox(Mailbox):
    def __init__(self, maildir, hostname):
        super().__init__(maildir)
        self.hostname = hostname

    def prepare_message(self, session, envelope):
        msg = super().prepare_message(session, envelope)
        tls = "none"
        if session.ssl:
            obj = session.ssl.get("ssl_object")
            cipher = session.ssl.get("cipher")
            if obj is not None:
                tls = "%s %s" % (obj.version(), obj.cipher()[0])
            elif cipher:
                tls = "%s %s" % (cipher[1], cipher[0])
            else:
                tls = "yes"
        msg["X-Lab-TLS"] = tls
        msg["X-Lab-Server"] = self.hostname
        return msg


def main():
    addr, port, maildir, hostname = sys.argv[1:5]
    ctx = None
    if len(sys.argv) > 6:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    handler = LabMailbox(maildir, hostname)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(handler, hostname=hostname, ident="esaverify lab",
                    tls_context=ctx, require_starttls=False)

    server = loop.run_until_complete(
        loop.create_server(factory, host=addr, port=int(port)))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    print("listening on %s port %s" % (addr, port), flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
