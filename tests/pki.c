/*
 * pki.c - a small test PKI built with OpenSSL's API (see pki.h)
 *
 * Certificates are assembled field by field so that tests can put in what
 * a careful CA never would: CN attributes of any string type, dNSName SANs
 * with NUL or non-ASCII octets, expired or not-yet-valid periods, leaves
 * without serverAuth.  Extensions other than subjectAltName go through
 * X509V3_EXT_conf_nid; subjectAltName is built as GENERAL_NAMES so its
 * octets are exactly the caller's.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki.h"

/* OpenSSL calls return 1 (or a non-NULL pointer) on success. */
#define GUARD_OSSL(x) do { if ((x) <= 0) goto out; } while (0)
#define GUARD_PTR(x) do { if ((x) == NULL) goto out; } while (0)

#define DEFAULT_NOT_BEFORE (-3600L)
#define DEFAULT_NOT_AFTER (86400L)
#define CA_NOT_BEFORE (-86400L)
#define CA_NOT_AFTER (10L * 365 * 86400)

/* test_key_new - a new ECDSA P-256 or RSA-2048 key */
EVP_PKEY *test_key_new(enum test_keytype type)
{
	if (type == TEST_KEY_RSA)
		return EVP_RSA_gen(2048);
	return EVP_EC_gen("P-256");
}

/* add_ext - add one extension given in openssl.cnf syntax */
static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* cert_new - an unsigned v3 certificate with serial, period and key set */
static X509 *cert_new(long serial, long not_before, long not_after,
		      EVP_PKEY *pub)
{
	X509 *cert = X509_new();

	if (cert == NULL)
		return NULL;
	if (X509_set_version(cert, X509_VERSION_3) != 1
	    || ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) != 1
	    || X509_gmtime_adj(X509_getm_notBefore(cert), not_before) == NULL
	    || X509_gmtime_adj(X509_getm_notAfter(cert), not_after) == NULL
	    || X509_set_pubkey(cert, pub) != 1) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* name_cn - the name "CN=cn" */
static X509_NAME *name_cn(const char *cn)
{
	X509_NAME *name = X509_NAME_new();

	if (name == NULL)
		return NULL;
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1,
				       0) != 1) {
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

/* ca_make - a CA certificate for key named cn; self-signed if no issuer */
static int ca_make(struct test_ca *ca, struct test_ca *issuer,
		   const char *cn, enum test_keytype type, bool key_usage)
{
	X509_NAME *name = NULL;
	long serial;
	int rc = -1;

	memset(ca, 0, sizeof(*ca));
	ca->next_serial = 1000;
	GUARD_PTR(ca->key = test_key_new(type));
	serial = issuer ? issuer->next_serial++ : 1;
	GUARD_PTR(ca->cert = cert_new(serial, CA_NOT_BEFORE, CA_NOT_AFTER,
				      ca->key));
	GUARD_PTR(name = name_cn(cn));
	GUARD_OSSL(X509_set_subject_name(ca->cert, name));
	GUARD_OSSL(X509_set_issuer_name(ca->cert, issuer
					? X509_get_subject_name(issuer->cert)
					: name));
	if (add_ext(ca->cert, NULL, NID_basic_constraints, issuer
		    ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE") != 0
	    || (key_usage && add_ext(ca->cert, NULL, NID_key_usage,
				     "critical,keyCertSign,cRLSign") != 0)
	    || add_ext(ca->cert, NULL, NID_subject_key_identifier,
		       "hash") != 0)
		goto out;
	if (issuer && add_ext(ca->cert, issuer->cert,
			      NID_authority_key_identifier,
			      "keyid:always") != 0)
		goto out;
	GUARD_OSSL(X509_sign(ca->cert, issuer ? issuer->key : ca->key,
			     EVP_sha256()));
	rc = 0;
out:
	X509_NAME_free(name);
	if (rc != 0)
		test_ca_free(ca);
	return rc;
}

/* test_ca_root - a self-signed root CA */
int test_ca_root(struct test_ca *ca, const char *cn, enum test_keytype type)
{
	return ca_make(ca, NULL, cn, type, true);
}

/* test_ca_root_plain - a root as 'openssl req -x509' makes it: no keyUsage */
int test_ca_root_plain(struct test_ca *ca, const char *cn,
		       enum test_keytype type)
{
	return ca_make(ca, NULL, cn, type, false);
}

/* test_ca_intermediate - an intermediate CA issued by issuer */
int test_ca_intermediate(struct test_ca *ca, struct test_ca *issuer,
			 const char *cn, enum test_keytype type)
{
	return ca_make(ca, issuer, cn, type, true);
}

/* test_ca_free - release a CA's certificate and key */
void test_ca_free(struct test_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->cert = NULL;
	ca->key = NULL;
}

/* utf8_next - decode one UTF-8 sequence; its length, or -1 if malformed */
static int utf8_next(const unsigned char *s, size_t len, unsigned long *cp)
{
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = s[0] & 0x07;
	} else {
		return -1;
	}
	if ((size_t)n > len)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return n;
}

/* encode_text - UTF-8 text into the content octets of a string type:
 * width 1 (Latin-1), 2 (UCS-2 BE) or 4 (UCS-4 BE); malloc'd, -1 if a
 * character does not fit or the text is not UTF-8 */
static int encode_text(const unsigned char *in, size_t len, int width,
		       unsigned char **out, size_t *outlen)
{
	unsigned char *buf = malloc(len * 4 + 1);
	size_t i = 0, o = 0;
	unsigned long cp;
	int n, k;

	if (buf == NULL)
		return -1;
	while (i < len) {
		n = utf8_next(in + i, len - i, &cp);
		if (n < 0 || (width == 1 && cp > 0xff)
		    || (width == 2 && cp > 0xffff)) {
			free(buf);
			return -1;
		}
		for (k = width - 1; k >= 0; k--)
			buf[o++] = (unsigned char)(cp >> (8 * k));
		i += (size_t)n;
	}
	*out = buf;
	*outlen = o;
	return 0;
}

/* add_cn - append one CN attribute of the requested string type */
static int add_cn(X509_NAME *name, const struct test_name *cn)
{
	static const struct {
		int tag, width;
	} types[] = {
		[TEST_STR_UTF8] = { V_ASN1_UTF8STRING, 0 },
		[TEST_STR_PRINTABLE] = { V_ASN1_PRINTABLESTRING, 0 },
		[TEST_STR_IA5] = { V_ASN1_IA5STRING, 0 },
		[TEST_STR_BMP] = { V_ASN1_BMPSTRING, 2 },
		[TEST_STR_T61] = { V_ASN1_T61STRING, 1 },
		[TEST_STR_UNIVERSAL] = { V_ASN1_UNIVERSALSTRING, 4 },
	};
	const unsigned char *in = (const unsigned char *)cn->value;
	size_t len = cn->len ? cn->len : strlen(cn->value);
	unsigned char *enc = NULL;
	size_t enclen = len;
	int rc = -1;

	if ((unsigned)cn->type >= sizeof(types) / sizeof(types[0]))
		return -1;
	if (!cn->raw && types[cn->type].width != 0) {
		if (encode_text(in, len, types[cn->type].width, &enc,
				&enclen) != 0)
			return -1;
		in = enc;
	}
	if (X509_NAME_add_entry_by_NID(name, NID_commonName,
				       types[cn->type].tag, in, (int)enclen,
				       -1, 0) == 1)
		rc = 0;
	free(enc);
	return rc;
}

/* leaf_subject - the subject of spec: optional O, then the CNs in order */
static int leaf_subject(X509 *cert, const struct test_leaf_spec *spec)
{
	X509_NAME *name = X509_NAME_new();
	size_t i;
	int rc = -1;

	GUARD_PTR(name);
	if (spec->org)
		GUARD_OSSL(X509_NAME_add_entry_by_NID(name,
			NID_organizationName, MBSTRING_UTF8,
			(const unsigned char *)spec->org, -1, -1, 0));
	for (i = 0; i < spec->ncn; i++)
		if (add_cn(name, &spec->cn[i]) != 0)
			goto out;
	GUARD_OSSL(X509_set_subject_name(cert, name));
	rc = 0;
out:
	X509_NAME_free(name);
	return rc;
}

/* push_ia5 - append a GENERAL_NAME of kind (GEN_DNS, GEN_EMAIL) */
static int push_ia5(GENERAL_NAMES *gens, int kind, const char *v, size_t len)
{
	GENERAL_NAME *gen = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (gen == NULL || s == NULL
	    || ASN1_STRING_set(s, v, (int)(len ? len : strlen(v))) != 1)
		goto fail;
	GENERAL_NAME_set0_value(gen, kind, s);
	if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
		GENERAL_NAME_free(gen);
		return -1;
	}
	return 0;
fail:
	ASN1_IA5STRING_free(s);
	GENERAL_NAME_free(gen);
	return -1;
}

/* push_ip - append an iPAddress GENERAL_NAME from its text form */
static int push_ip(GENERAL_NAMES *gens, const char *text)
{
	GENERAL_NAME *gen = GENERAL_NAME_new();
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(text);

	if (gen == NULL || ip == NULL) {
		ASN1_OCTET_STRING_free(ip);
		GENERAL_NAME_free(gen);
		return -1;
	}
	GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
	if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
		GENERAL_NAME_free(gen);
		return -1;
	}
	return 0;
}

/* leaf_san - subjectAltName from spec (none if spec lists no names);
 * critical when the subject is empty (RFC 5280 4.2.1.6) */
static int leaf_san(X509 *cert, const struct test_leaf_spec *spec)
{
	GENERAL_NAMES *gens;
	size_t i;
	int rc = -1;

	if (spec->ndns + spec->nip + spec->nemail == 0)
		return 0;
	GUARD_PTR(gens = sk_GENERAL_NAME_new_null());
	for (i = 0; i < spec->ndns; i++)
		if (push_ia5(gens, GEN_DNS, spec->dns[i].value,
			     spec->dns[i].len) != 0)
			goto out;
	for (i = 0; i < spec->nip; i++)
		if (push_ip(gens, spec->ip[i]) != 0)
			goto out;
	for (i = 0; i < spec->nemail; i++)
		if (push_ia5(gens, GEN_EMAIL, spec->email[i], 0) != 0)
			goto out;
	GUARD_OSSL(X509_add1_ext_i2d(cert, NID_subject_alt_name, gens,
				 spec->ncn == 0 && spec->org == NULL,
				 X509V3_ADD_DEFAULT));
	rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

/* leaf_exts - basicConstraints, keyUsage, EKU, key identifiers */
static int leaf_exts(X509 *cert, X509 *issuer, const struct test_leaf_spec *spec,
		     EVP_PKEY *key)
{
	const char *ku = EVP_PKEY_is_a(key, "RSA")
		? "critical,digitalSignature,keyEncipherment"
		: "critical,digitalSignature";

	if (add_ext(cert, NULL, NID_basic_constraints, "critical,CA:FALSE")
	    || add_ext(cert, NULL, NID_key_usage, ku)
	    || add_ext(cert, NULL, NID_subject_key_identifier, "hash")
	    || add_ext(cert, issuer, NID_authority_key_identifier,
		       "keyid:always"))
		return -1;
	if (spec->eku == TEST_EKU_SERVER)
		return add_ext(cert, NULL, NID_ext_key_usage, "serverAuth");
	if (spec->eku == TEST_EKU_CLIENT)
		return add_ext(cert, NULL, NID_ext_key_usage, "clientAuth");
	return 0;
}

/* test_leaf_issue - a leaf certificate described by spec, signed by ca */
int test_leaf_issue(struct test_leaf *leaf, struct test_ca *ca,
		    const struct test_leaf_spec *spec)
{
	long nb = spec->validity_set ? spec->not_before : DEFAULT_NOT_BEFORE;
	long na = spec->validity_set ? spec->not_after : DEFAULT_NOT_AFTER;
	long serial = spec->serial ? spec->serial : ca->next_serial++;
	int rc = -1;

	memset(leaf, 0, sizeof(*leaf));
	if (spec->key) {
		GUARD_OSSL(EVP_PKEY_up_ref(spec->key));
		leaf->key = spec->key;
	} else {
		GUARD_PTR(leaf->key = test_key_new(spec->keytype));
	}
	GUARD_PTR(leaf->cert = cert_new(serial, nb, na, leaf->key));
	GUARD_OSSL(X509_set_issuer_name(leaf->cert,
					X509_get_subject_name(ca->cert)));
	if (leaf_subject(leaf->cert, spec) != 0
	    || leaf_san(leaf->cert, spec) != 0
	    || leaf_exts(leaf->cert, ca->cert, spec, leaf->key) != 0)
		goto out;
	GUARD_OSSL(X509_sign(leaf->cert, ca->key, EVP_sha256()));
	rc = 0;
out:
	if (rc != 0)
		test_leaf_free(leaf);
	return rc;
}

/* test_leaf_free - release a leaf's certificate and key */
void test_leaf_free(struct test_leaf *leaf)
{
	X509_free(leaf->cert);
	EVP_PKEY_free(leaf->key);
	leaf->cert = NULL;
	leaf->key = NULL;
}

/* crl_revoke - add one serial to crl, revoked at when */
static int crl_revoke(X509_CRL *crl, long serial, const ASN1_TIME *when)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *s = ASN1_INTEGER_new();
	int rc = -1;

	GUARD_PTR(r);
	GUARD_PTR(s);
	GUARD_OSSL(ASN1_INTEGER_set(s, serial));
	GUARD_OSSL(X509_REVOKED_set_serialNumber(r, s));
	GUARD_OSSL(X509_REVOKED_set_revocationDate(r, (ASN1_TIME *)when));
	GUARD_OSSL(X509_CRL_add0_revoked(crl, r));
	r = NULL;
	rc = 0;
out:
	ASN1_INTEGER_free(s);
	X509_REVOKED_free(r);
	return rc;
}

/* test_crl_new - a signed v2 CRL of ca revoking the given serials */
X509_CRL *test_crl_new(struct test_ca *ca, const long *serials,
		       size_t nserials)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = X509_gmtime_adj(NULL, -3600);
	ASN1_TIME *next = X509_gmtime_adj(NULL, 86400);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	size_t i;
	int rc = -1;

	GUARD_PTR(crl);
	GUARD_PTR(last);
	GUARD_PTR(next);
	GUARD_PTR(num);
	GUARD_OSSL(X509_CRL_set_version(crl, 1));	/* v2 */
	GUARD_OSSL(X509_CRL_set_issuer_name(crl,
					    X509_get_subject_name(ca->cert)));
	GUARD_OSSL(X509_CRL_set1_lastUpdate(crl, last));
	GUARD_OSSL(X509_CRL_set1_nextUpdate(crl, next));
	for (i = 0; i < nserials; i++)
		if (crl_revoke(crl, serials[i], last) != 0)
			goto out;
	GUARD_OSSL(ASN1_INTEGER_set(num, 1));
	GUARD_OSSL(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0));
	GUARD_OSSL(X509_CRL_sort(crl));
	GUARD_OSSL(X509_CRL_sign(crl, ca->key, EVP_sha256()));
	rc = 0;
out:
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	if (rc != 0) {
		X509_CRL_free(crl);
		crl = NULL;
	}
	return crl;
}

/* --- files ---------------------------------------------------------------- */

/* test_dir_new - a fresh private directory under /tmp */
int test_dir_new(struct test_dir *dir)
{
	snprintf(dir->path, sizeof(dir->path), "/tmp/esatest.XXXXXX");
	if (mkdtemp(dir->path) == NULL) {
		dir->path[0] = '\0';
		return -1;
	}
	return 0;
}

/* test_dir_remove - unlink every file in dir, then dir itself */
void test_dir_remove(struct test_dir *dir)
{
	char file[sizeof(dir->path) + 256 + 2];
	struct dirent *de;
	DIR *d;

	if (dir->path[0] == '\0')
		return;
	d = opendir(dir->path);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0
			    || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", dir->path,
				 de->d_name);
			unlink(file);
		}
		closedir(d);
	}
	rmdir(dir->path);
	dir->path[0] = '\0';
}

/* test_dir_file - the full path of name inside dir */
const char *test_dir_file(const struct test_dir *dir, const char *name,
			  char *buf, size_t bufsz)
{
	int n = snprintf(buf, bufsz, "%s/%s", dir->path, name);

	if (n < 0 || (size_t)n >= bufsz)
		buf[0] = '\0';
	return buf;
}

/* write_pem - open path, let fn write, close; 0 only if all succeeded */
static int write_pem(const char *path, int (*fn)(FILE *, void *), void *arg)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fn(f, arg);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

struct certs_arg {
	X509 *const *certs;
	size_t n;
};

/* put_certs - PEM_write_X509 each certificate in order */
static int put_certs(FILE *f, void *arg)
{
	const struct certs_arg *a = arg;
	size_t i;

	for (i = 0; i < a->n; i++)
		if (PEM_write_X509(f, a->certs[i]) != 1)
			return -1;
	return 0;
}

/* put_key - PEM_write_PrivateKey, unencrypted */
static int put_key(FILE *f, void *arg)
{
	return PEM_write_PrivateKey(f, arg, NULL, NULL, 0, NULL, NULL) == 1
		? 0 : -1;
}

/* put_crl - PEM_write_X509_CRL */
static int put_crl(FILE *f, void *arg)
{
	return PEM_write_X509_CRL(f, arg) == 1 ? 0 : -1;
}

/* put_text - the text as it is */
static int put_text(FILE *f, void *arg)
{
	return fputs(arg, f) < 0 ? -1 : 0;
}

/* test_write_cert - one certificate as PEM */
int test_write_cert(const char *path, X509 *cert)
{
	struct certs_arg a = { &cert, 1 };

	return write_pem(path, put_certs, &a);
}

/* test_write_certs - several certificates as PEM, in order */
int test_write_certs(const char *path, X509 *const *certs, size_t n)
{
	struct certs_arg a = { certs, n };

	return write_pem(path, put_certs, &a);
}

/* test_write_key - a private key as unencrypted PKCS#8 PEM */
int test_write_key(const char *path, EVP_PKEY *key)
{
	return write_pem(path, put_key, key);
}

/* test_write_crl - a CRL as PEM */
int test_write_crl(const char *path, X509_CRL *crl)
{
	return write_pem(path, put_crl, crl);
}

/* test_write_text - any text to a file */
int test_write_text(const char *path, const char *text)
{
	return write_pem(path, put_text, (void *)text);
}
