/*
 * fuzz_dane.c - hostile TLSA answers, from the wire to the DANE verdict
 * (dns_libresolv.c's TLSA reader, dane.c's usability rules and OpenSSL's
 * DANE check as dane.c sets it up; docs/dane.md 4).
 *
 * Input: one control byte, then a whole DNS message answering
 * "_25._tcp.mx1.example.net TLSA" (the ID is the query's).  RRSIG and other
 * records may be mixed in; only TLSA records of the name count.  When the
 * reader keeps records, they become the TLSA RRset of a master file whose
 * MX, address and TLSA records are all DNSSEC-secure, and esa_dane_check
 * judges a fixed self-signed server certificate (CN and DNS-ID
 * mx1.example.net) under Opportunistic (control bit 0 clear) or Mandatory.
 *
 * Invariants:
 *  - the reader: OK exactly with records; each a TLSA record whose data
 *    fits ESA_TLSA_DATA_MAX; the reason one line;
 *  - fail closed: DANE passes only when some record of usage 2 or 3 and
 *    selector 0 or 1 carries exactly the certificate's (or its key's) DER
 *    or its SHA2-256/512 digest under matching type 0/1/2;
 *  - pass and refuse never both; a refusal has an RFC 8460 result type;
 *    every reason is one line.
 * Seeds: tests/fuzz/mkseeds_dane.py (EE, TA, mismatch, PKIX-only, RRSIG
 * beside the records, truncated rdata).
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fuzz.h"
#include "dns_impl.h"

static const char server_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBpzCCAU2gAwIBAgIUVKpYkBXL4yubEYcRm57VoDHf4dYwCgYIKoZIzj0EAwIw\n"
	"GjEYMBYGA1UEAwwPbXgxLmV4YW1wbGUubmV0MCAXDTI2MTIwNDIxMjYwMVoYDzIx\n"
	"MjYxMTEwMjEyNjAxWjAaMRgwFgYDVQQDDA9teDEuZXhhbXBsZS5uZXQwWTATBgcq\n"
	"hkjOPQIBBggqhkjOPQMBBwNCAARhgGHSGmQHZiLFmxe/JHVD5djaCsHsYz1RzpaH\n"
	"yb7YTAPLiPY8cw3WCGa5ayJbAjsQTH0XElHL+ji6j0OWN02Qo28wbTAdBgNVHQ4E\n"
	"FgQUsGLBKyVg8dahCnPGcR5MjNKtoWswHwYDVR0jBBgwFoAUsGLBKyVg8dahCnPG\n"
	"cR5MjNKtoWswDwYDVR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgg9teDEuZXhhbXBs\n"
	"ZS5uZXQwCgYIKoZIzj0EAwIDSAAwRQIhAMnoadK6sP08MDB9V+dU8dZCd73coc4E\n"
	"A4tGOxMTB7llAiBQWQJ5BptA52PiStxys4+FtI/n9oLl2r+t8KvNTM0fGg==\n"
	"-----END CERTIFICATE-----\n";

static const char qname[] = "_25._tcp.mx1.example.net";
static X509 *server;
/* the association data that may match: [selector][mtype] */
static unsigned char *assoc[2][3];
static size_t assoc_len[2][3];

/* init - the certificate and its six possible association data, once */
static void init(void)
{
	BIO *b = BIO_new_mem_buf(server_pem, -1);
	unsigned char *der[2] = { NULL, NULL };
	int n[2];

	server = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	FUZZ_CHECK(server != NULL, "the fixed certificate");
	n[0] = i2d_X509(server, &der[0]);
	n[1] = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(server), &der[1]);
	for (int s = 0; s < 2; s++) {
		unsigned md;

		FUZZ_CHECK(n[s] > 0, "DER");
		assoc[s][0] = der[s];
		assoc_len[s][0] = (size_t)n[s];
		for (int m = 1; m < 3; m++) {
			assoc[s][m] = malloc(EVP_MAX_MD_SIZE);
			FUZZ_CHECK(assoc[s][m] != NULL && EVP_Digest(der[s],
				   (size_t)n[s], assoc[s][m], &md, m == 1 ?
				   EVP_sha256() : EVP_sha512(), NULL) == 1, "md");
			assoc_len[s][m] = md;
		}
	}
}

/* could_match - does rr carry the server's own association data? */
static bool could_match(const struct esa_rr *rr)
{
	if ((rr->usage != 2 && rr->usage != 3) || rr->selector > 1 ||
	    rr->mtype > 2)
		return false;
	return rr->dlen == assoc_len[rr->selector][rr->mtype] &&
	       memcmp(rr->data, assoc[rr->selector][rr->mtype], rr->dlen) == 0;
}

/* zone_of - a master file with the answer's records as a secure RRset */
static char *zone_of(const struct esa_answer *a)
{
	size_t sz = 256 + a->count * (2 * ESA_TLSA_DATA_MAX + 64), o;
	char *z = malloc(sz);

	FUZZ_CHECK(z != NULL, "memory");
	o = (size_t)snprintf(z, sz, "$DNSSEC secure\n"
			     "example.com. MX 10 mx1.example.net.\n"
			     "mx1.example.net. A 192.0.2.1\n");
	for (size_t i = 0; i < a->count; i++) {
		const struct esa_rr *rr = &a->rr[i];

		if (rr->dlen == 0)	/* no presentation form: unusable anyway */
			continue;
		o += (size_t)snprintf(z + o, sz - o, "%s. TLSA %u %u %u ", qname,
				      rr->usage, rr->selector, rr->mtype);
		for (size_t k = 0; k < rr->dlen; k++)
			o += (size_t)snprintf(z + o, sz - o, "%02x", rr->data[k]);
		o += (size_t)snprintf(z + o, sz - o, "\n");
	}
	return z;
}

/* judge - the DANE verdict on the parsed records, and its invariants */
static void judge(const struct esa_answer *a, enum esa_dane setting)
{
	char err[ESA_ERR_MAX], *z = zone_of(a);
	esa_resolver *r = esa_resolver_static_text(z, strlen(z), "fuzz", err,
						   sizeof(err));
	struct esa_result *res = esa_result_new();
	const struct esa_dane_record *d;
	struct esa_target t;
	bool matchable = false;

	free(z);
	FUZZ_CHECK(r != NULL, "the records as a master file: %s", err);
	FUZZ_CHECK(res != NULL, "memory");
	memset(&t, 0, sizeof(t));
	strcpy(t.recipient, "example.com");
	t.have_peer = true;
	t.peer_family = AF_INET;
	memcpy(t.peer, "\xc0\x00\x02\x01", 4);
	FUZZ_CHECK(esa_dane_check(res, setting, &t, server, NULL, r,
				  esa_now_ms() + 5000) == 0, "memory");
	d = res->dane;
	for (size_t i = 0; i < a->count && i < ESA_DANE_MAX_TLSA; i++)
		matchable = matchable || could_match(&a->rr[i]);
	FUZZ_CHECK(!d->pass || matchable, "DANE passed on foreign data");
	FUZZ_CHECK(!(d->pass && d->refuse), "pass and refuse");
	FUZZ_CHECK(!d->refuse || d->result[0] != '\0', "refusal without type");
	FUZZ_CHECK(fuzz_one_line(d->reason, sizeof(d->reason)), "reason");
	esa_result_free(res);
	esa_resolver_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char next[ESA_NAME_MAX];
	struct esa_answer out;

	if (!ready) {
		init();
		ready = true;
	}
	if (size < 1)
		return 0;
	esa_dns_parse_answer(data + 1, size - 1, qname, ESA_T_TLSA, &out, next);
	FUZZ_CHECK((out.status == ESA_DNS_OK) == (out.count > 0),
		   "status %d with %zu records", (int)out.status, out.count);
	FUZZ_CHECK(fuzz_one_line(out.reason, sizeof(out.reason)), "reason");
	for (size_t i = 0; i < out.count; i++) {
		FUZZ_CHECK(out.rr[i].type == ESA_T_TLSA, "type %u",
			   out.rr[i].type);
		FUZZ_CHECK(out.rr[i].dlen <= ESA_TLSA_DATA_MAX, "dlen %u",
			   out.rr[i].dlen);
	}
	if (out.status == ESA_DNS_OK)
		judge(&out, (data[0] & 1) ? ESA_DANE_MANDATORY :
			    ESA_DANE_OPPORTUNISTIC);
	esa_answer_free(&out);
	return 0;
}
