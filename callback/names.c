/*
 * names.c - the presented identifiers of a server certificate (SPEC 1, 3)
 *
 * esa_presented_collect() lists every subjectAltName dNSName (DNS-ID) and
 * then every subject commonName (CN-ID) of a leaf certificate, in
 * certificate order.  Certificate strings are hostile: each identifier keeps
 * its exact octets (length-counted, NULs included) for the matcher, a
 * printable escaped copy for logs, and, when it can never match, the reason
 * (embedded NUL, not ASCII, undecodable string type, ...).  A malformed or
 * duplicated subjectAltName extension makes the whole collection fail, so
 * the verdict fails closed.  The caller frees the list with
 * esa_idlist_free().
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* plain - a printable octet that escape() writes as it is */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

/* escape - a printable copy of octets: \xNN for anything else, \\ for \ */
static char *escape(const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *out = malloc(len * 4 + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (plain(s[i])) {
			*p++ = (char)s[i];
			continue;
		}
		*p++ = '\\';
		*p++ = 'x';
		*p++ = hex[s[i] >> 4];
		*p++ = hex[s[i] & 0x0f];
	}
	*p = '\0';
	return out;
}

/* all_plain - would escape() copy these octets unchanged? */
static bool all_plain(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!plain(s[i]))
			return false;
	return true;
}

/* add_id - append one identifier (copying its octets) to the list.  One
 * that names.c itself finds unusable (problem given: a string that cannot
 * be decoded, a dNSName that is not an IA5String) keeps its octets in the
 * display form only: raw is left empty, so no matcher can ever take them
 * for a name, even one that forgets to look at problem (fail closed). */
static int add_id(struct esa_idlist *l, enum esa_id_kind kind,
		  const unsigned char *data, size_t len, const char *problem)
{
	struct esa_presented *id;
	/* the usual name needs no escaping: its display is raw itself */
	bool shared = problem == NULL && all_plain(data, len);

	if (esa_grow((void **)&l->ids, &l->cap, l->n + 1, sizeof(*id)) < 0)
		return -1;
	id = &l->ids[l->n];
	memset(id, 0, sizeof(*id));
	id->kind = kind;
	id->display = shared ? NULL : escape(data, len);
	if (problem != NULL)
		len = 0;	/* nothing decoded: nothing to match */
	id->raw = malloc(len + 1);
	if (id->raw == NULL || (!shared && id->display == NULL)) {
		free(id->raw);
		free(id->display);
		return -1;
	}
	if (len > 0)
		memcpy(id->raw, data, len);
	id->raw[len] = '\0';
	id->len = len;
	if (shared)
		id->display = id->raw;
	id->problem = problem ? problem : esa_presented_problem(id->raw, len);
	l->n++;
	if (kind == ESA_ID_DNS)
		l->ndns++;
	else
		l->ncn++;
	return 0;
}

/* collect_dns_ids - subjectAltName dNSName entries; -1 if the extension is
 * malformed or appears twice (fail closed rather than guess) */
static int collect_dns_ids(X509 *leaf, struct esa_idlist *l)
{
	GENERAL_NAMES *gens;
	int crit = -1, rc = 0;

	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL)
		return crit == -1 ? 0 : -1;	/* -1: absent; else bad or repeated */
	for (int i = 0; i < sk_GENERAL_NAME_num(gens) && rc == 0; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;
		const char *problem = NULL;

		if (g->type != GEN_DNS)
			continue;	/* iPAddress, URI, ...: out of scope (SPEC 3.7) */
		s = g->d.dNSName;
		if (ASN1_STRING_type(s) != V_ASN1_IA5STRING)
			problem = "dNSName is not an IA5String";
		rc = add_id(l, ESA_ID_DNS, ASN1_STRING_get0_data(s),
			    (size_t)ASN1_STRING_length(s), problem);
	}
	GENERAL_NAMES_free(gens);
	return rc;
}

/* ascii_as_utf8 - a PrintableString, IA5String or UTF8String of ASCII
 * octets only: ASN1_STRING_to_UTF8 would return the same octets (they are
 * their own UTF-8), so they are taken as they are, without its allocation
 * and conversion (test_names checks the two agree) */
static bool ascii_as_utf8(const ASN1_STRING *s)
{
	int type = ASN1_STRING_type(s), len = ASN1_STRING_length(s);
	const unsigned char *d = ASN1_STRING_get0_data(s);

	if (type != V_ASN1_PRINTABLESTRING && type != V_ASN1_IA5STRING &&
	    type != V_ASN1_UTF8STRING)
		return false;
	for (int i = 0; i < len; i++)
		if (d[i] >= 0x80)
			return false;
	return true;
}

/* collect_cn_ids - every commonName of the subject, decoded to UTF-8 */
static int collect_cn_ids(X509 *leaf, struct esa_idlist *l)
{
	const X509_NAME *subj = X509_get_subject_name(leaf);
	int i = -1, rc = 0;

	if (subj == NULL)
		return 0;
	while (rc == 0 &&
	       (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(
			X509_NAME_get_entry(subj, i));
		unsigned char *utf8 = NULL;
		int n;

		if (ascii_as_utf8(s)) {	/* the common case, decoded as is */
			rc = add_id(l, ESA_ID_CN, ASN1_STRING_get0_data(s),
				    (size_t)ASN1_STRING_length(s), NULL);
			continue;
		}
		n = ASN1_STRING_to_UTF8(&utf8, s);
		if (n < 0)
			rc = add_id(l, ESA_ID_CN, ASN1_STRING_get0_data(s),
				    (size_t)ASN1_STRING_length(s),
				    "commonName cannot be decoded");
		else
			rc = add_id(l, ESA_ID_CN, utf8, (size_t)n, NULL);
		OPENSSL_free(utf8);
	}
	return rc;
}

/* esa_presented_collect - DNS-IDs, then CN-IDs, of a leaf certificate */
int esa_presented_collect(struct x509_st *leaf, struct esa_idlist *out)
{
	memset(out, 0, sizeof(*out));
	if (leaf == NULL)
		return -1;
	if (collect_dns_ids(leaf, out) < 0 || collect_cn_ids(leaf, out) < 0) {
		esa_idlist_free(out);
		return -1;
	}
	return 0;
}

/* esa_idlist_free - free the identifiers and reset the list */
void esa_idlist_free(struct esa_idlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->ids[i].display != l->ids[i].raw)
			free(l->ids[i].display);
		free(l->ids[i].raw);
	}
	free(l->ids);
	memset(l, 0, sizeof(*l));
}
