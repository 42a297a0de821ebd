"""pfsend.py RCPT FROM - submit one message to the lab Postfix's smtpd
(127.0.0.1:10025 in the client namespace) and print its answer to DATA"""
import smtplib, sys
rcpt, sender = sys.argv[1:3]
msg = ("From: %s\r\nTo: %s\r\nSubject: esaverify lab, by Postfix\r\n\r\n"
       "hello from the lab's Postfix\r\n" % (sender, rcpt))
with smtplib.SMTP("127.0.0.1", 10025, local_hostname="client.lab.example.net",
                  timeout=10) as s:
    s.ehlo()
    s.mail(sender)
    s.rcpt(rcpt)
    code, resp = s.data(msg)
print(resp.decode("ascii", "replace"))
