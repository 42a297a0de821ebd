/*
 * pki.h - a small test PKI built with OpenSSL's API (no openssl CLI)
 *
 * For the Criterion suites, the shim tests and the benchmarks: root and
 * intermediate CAs, leaf certificates with hostile names (CN attributes of
 * any ASN.1 string type, dNSName SANs with raw octets), CRLs, and PEM files
 * in a private temporary directory.
 *
 * Ownership: test_ca_*() fill a caller-owned struct test_ca, released with
 * test_ca_free(); test_leaf_issue() fills a struct test_leaf, released with
 * test_leaf_free(); test_crl_new() returns an X509_CRL the caller frees with
 * X509_CRL_free().  The X509 and EVP_PKEY inside the structs belong to them:
 * take a reference (X509_up_ref) to keep one longer.  Every function
 * returns 0 on success and -1 on error (OpenSSL's error queue says why);
 * nothing here aborts or exits.  Not thread-safe per object (serial
 * counters); distinct objects may be used from distinct threads.
 *
 * Spec defaults (a zeroed struct test_leaf_spec is a valid server leaf):
 * ECDSA P-256 key, notBefore now-1h, notAfter now+1d, extendedKeyUsage
 * serverAuth, keyUsage digitalSignature, basicConstraints CA:FALSE, serial
 * from the issuing CA's counter, subject without attributes.
 */
#ifndef TEST_PKI_H
#define TEST_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

enum test_keytype {
	TEST_KEY_EC = 0,	/* ECDSA P-256 (default) */
	TEST_KEY_RSA,		/* RSA-2048 */
};

/* A CN attribute's ASN.1 string type (the tag it is encoded with). */
enum test_strtype {
	TEST_STR_UTF8 = 0,	/* UTF8String (default) */
	TEST_STR_PRINTABLE,	/* PrintableString */
	TEST_STR_IA5,		/* IA5String */
	TEST_STR_BMP,		/* BMPString: UCS-2 big-endian */
	TEST_STR_T61,		/* T61String / TeletexString: Latin-1 octets */
	TEST_STR_UNIVERSAL,	/* UniversalString: UCS-4 big-endian */
};

/* One name: a CN attribute or a dNSName SAN.
 * value/len: the octets; len 0 means strlen(value), so NUL octets and
 * non-ASCII need an explicit len.  For a CN, value is UTF-8 text that is
 * re-encoded for type (UTF-8 -> UCS-2 for BMP, UCS-4 for Universal,
 * Latin-1 for T61; verbatim for UTF8, Printable, IA5) unless raw is set,
 * in which case the octets are the string's content as they are (e.g.
 * UCS-2 octets made by hand).  OpenSSL refuses to encode, and to parse, a
 * name whose content does not convert to UTF-8 (invalid UTF-8 in a
 * UTF8String, odd-length BMPString), so such a CN makes the issue fail.
 * For a dNSName, type and raw are ignored and the octets always go in
 * verbatim (NUL and non-ASCII octets included). */
struct test_name {
	const char *value;
	size_t len;
	enum test_strtype type;
	bool raw;
};

enum test_eku {
	TEST_EKU_SERVER = 0,	/* extendedKeyUsage serverAuth (default) */
	TEST_EKU_NONE,		/* no extendedKeyUsage extension at all */
	TEST_EKU_CLIENT,	/* clientAuth only: not valid for a TLS server */
};

/* What a leaf certificate carries; zero it, then set what matters. */
struct test_leaf_spec {
	const struct test_name *cn;	/* ncn CN attributes, in this order */
	size_t ncn;
	const struct test_name *dns;	/* ndns dNSName SANs, in this order */
	size_t ndns;
	const char *const *ip;	/* nip iPAddress SANs as text ("192.0.2.1", "::1") */
	size_t nip;
	const char *const *email;	/* nemail rfc822Name SANs */
	size_t nemail;
	const char *org;	/* an O attribute before the CNs, or NULL */
	bool validity_set;	/* use not_before/not_after below, else defaults */
	long not_before;	/* seconds from now (negative: in the past) */
	long not_after;
	long serial;		/* 0: the issuing CA's next serial (CA serials
				 * start at 1000; pick explicit ones below) */
	enum test_eku eku;
	enum test_keytype keytype;
	EVP_PKEY *key;		/* use this key (up-ref'd) instead of a new one */
};

struct test_ca {
	X509 *cert;
	EVP_PKEY *key;
	long next_serial;	/* serial of the next certificate it issues */
};

struct test_leaf {
	X509 *cert;
	EVP_PKEY *key;
};

/* A new key of type; NULL on error. */
EVP_PKEY *test_key_new(enum test_keytype type);

/* A self-signed root CA "CN=cn" (CA:TRUE, keyCertSign|cRLSign), valid from
 * now-1d to now+10y. */
int test_ca_root(struct test_ca *ca, const char *cn, enum test_keytype type);
/* The same as 'openssl req -x509' makes it, the common private CA: CA:TRUE
 * but no keyUsage extension (accepted by a stock client, refused under
 * X509_V_FLAG_X509_STRICT). */
int test_ca_root_plain(struct test_ca *ca, const char *cn,
		       enum test_keytype type);
/* An intermediate CA "CN=cn" issued by issuer (CA:TRUE, pathlen 0). */
int test_ca_intermediate(struct test_ca *ca, struct test_ca *issuer,
			 const char *cn, enum test_keytype type);
void test_ca_free(struct test_ca *ca);

/* test_leaf_issue - a leaf described by spec, signed by ca. */
int test_leaf_issue(struct test_leaf *leaf, struct test_ca *ca,
		    const struct test_leaf_spec *spec);
void test_leaf_free(struct test_leaf *leaf);

/* A CRL of ca (thisUpdate now-1h, nextUpdate now+1d) revoking nserials
 * serials; NULL on error.  nserials may be 0 (an empty, valid CRL). */
X509_CRL *test_crl_new(struct test_ca *ca, const long *serials,
		       size_t nserials);

/* --- files ---------------------------------------------------------------- */

/* A private directory under /tmp (mkdtemp), removed with its files by
 * test_dir_remove. */
struct test_dir {
	char path[64];
};

int test_dir_new(struct test_dir *dir);
/* Remove every file in it, then the directory (flat: no subdirectories). */
void test_dir_remove(struct test_dir *dir);
/* dir->path + "/" + name into buf; returns buf ("" if it does not fit). */
const char *test_dir_file(const struct test_dir *dir, const char *name,
			  char *buf, size_t bufsz);

/* PEM writers; path is a full path (see test_dir_file). */
int test_write_cert(const char *path, X509 *cert);
/* Several certificates, in order (a leaf then its chain, or a CA bundle). */
int test_write_certs(const char *path, X509 *const *certs, size_t n);
/* A private key, unencrypted PKCS#8. */
int test_write_key(const char *path, EVP_PKEY *key);
int test_write_crl(const char *path, X509_CRL *crl);
/* Any text, e.g. a DNS master file. */
int test_write_text(const char *path, const char *text);

#endif
