/*
 * tls.c - the six TLS settings of SPEC 5 as one table, and the names of the
 * library's enums
 *
 * SPEC 5 says, per setting, what happens when the TLS handshake fails, when
 * the chain or the identity fails, and when all passes.  The table below
 * holds that once; everything that needs to know it (the delivery decision
 * of result.c, the callback's early refusal and its choice of algorithm,
 * the shim's plain-text MAIL FROM check) asks these predicates rather than
 * comparing setting numbers:
 *
 *   esa_tls_valid(t)            one of the six settings
 *   esa_tls_verifies(t)         identity is checked (settings 4, 5, 6)
 *   esa_tls_mode(t)             by which algorithm (4, 5 Verify; 6 Hosted)
 *   esa_tls_modes(t)            the same as a bit mask, 0 for 1-3
 *   esa_tls_requires_tls(t)     no delivery without TLS (3, 5, 6)
 *   esa_tls_refuses_failure(t)  a failed chain or identity is not
 *                               delivered (5, 6)
 *
 * An unknown value answers false everywhere (and Verify for the mode), so
 * a caller that then asks esa_result_accept() fails closed.
 */
#include <string.h>

#include "internal.h"

/* One row of SPEC 5's table. */
struct tls_row {
	const char *name;	/* the destconfig value */
	bool verifies;		/* identity is checked (SPEC 4) */
	enum esa_mode mode;	/* the algorithm, when it verifies */
	bool requires_tls;	/* "TLS handshake fails": do not deliver */
	bool refuses_failure;	/* "chain or identity fails": do not deliver */
};

static const struct tls_row tls_rows[] = {
	/* 1: no TLS is attempted */
	[ESA_TLS_NO] = { "no", false, ESA_MODE_VERIFY, false, false },
	/* 2: plain text if TLS fails; nothing verified */
	[ESA_TLS_PREFERRED] = { "preferred", false, ESA_MODE_VERIFY, false,
				false },
	/* 3: no delivery without TLS; nothing verified */
	[ESA_TLS_REQUIRED] = { "required", false, ESA_MODE_VERIFY, true,
			       false },
	/* 4: plain text if TLS fails; a failed verification is only logged */
	[ESA_TLS_PREFERRED_VERIFY] = { "preferred-verify", true,
				       ESA_MODE_VERIFY, false, false },
	/* 5: no delivery without TLS or with a failed Verify (SPEC 4.1) */
	[ESA_TLS_REQUIRED_VERIFY] = { "required-verify", true,
				      ESA_MODE_VERIFY, true, true },
	/* 6: the same with Verify Hosted Domains (SPEC 4.2) */
	[ESA_TLS_REQUIRED_VERIFY_HOSTED] = { "required-verify-hosted", true,
					     ESA_MODE_HOSTED, true, true },
};

/* row - the table row of a setting, NULL for an unknown value */
static const struct tls_row *row(enum esa_tls tls)
{
	if (tls < ESA_TLS_NO || tls > ESA_TLS_REQUIRED_VERIFY_HOSTED)
		return NULL;
	return &tls_rows[tls];
}

/* esa_tls_valid - one of the six settings of SPEC 5 */
bool esa_tls_valid(enum esa_tls tls)
{
	return row(tls) != NULL;
}

/* esa_tls_verifies - settings 4, 5 and 6 check identity (SPEC 4) */
bool esa_tls_verifies(enum esa_tls tls)
{
	return row(tls) != NULL && row(tls)->verifies;
}

/* esa_tls_mode - the identity algorithm a setting decides by */
enum esa_mode esa_tls_mode(enum esa_tls tls)
{
	return row(tls) != NULL ? row(tls)->mode : ESA_MODE_VERIFY;
}

/* esa_tls_modes - the algorithms a setting needs, as 1 << enum esa_mode */
unsigned esa_tls_modes(enum esa_tls tls)
{
	return esa_tls_verifies(tls) ? 1u << esa_tls_mode(tls) : 0;
}

/* esa_tls_requires_tls - no delivery without TLS (settings 3, 5, 6) */
bool esa_tls_requires_tls(enum esa_tls tls)
{
	return row(tls) != NULL && row(tls)->requires_tls;
}

/* esa_tls_refuses_failure - a failed chain or identity check is not
 * delivered (settings 5, 6); under the others the verdict only informs */
bool esa_tls_refuses_failure(enum esa_tls tls)
{
	return row(tls) != NULL && row(tls)->refuses_failure;
}

/* esa_tls_name - the destconfig name of a setting (SPEC 5) */
const char *esa_tls_name(enum esa_tls tls)
{
	return row(tls) != NULL ? row(tls)->name : "invalid";
}

/* esa_tls_parse - a SPEC 5 name (any case) or its number "1".."6" */
int esa_tls_parse(const char *text, enum esa_tls *out)
{
	int t;

	if (text == NULL)
		return -1;
	if (text[0] >= '1' && text[0] <= '6' && text[1] == '\0') {
		if (out != NULL)
			*out = (enum esa_tls)(text[0] - '0');
		return 0;
	}
	for (t = ESA_TLS_NO; t <= ESA_TLS_REQUIRED_VERIFY_HOSTED; t++) {
		if (esa_ascii_streq(text, tls_rows[t].name)) {
			if (out != NULL)
				*out = (enum esa_tls)t;
			return 0;
		}
	}
	return -1;
}

/* ---- the names of the other enums ---------------------------------------- */

static const char *const source_names[] = {
	[ESA_SOURCE_NONE] = "none",
	[ESA_SOURCE_RECIPIENT] = "recipient-domain",
	[ESA_SOURCE_PTR] = "ptr",
	[ESA_SOURCE_MX] = "mx",
	[ESA_SOURCE_ROUTE] = "route",
};

/* esa_mode_name - "verify" (SPEC 4.1) or "hosted" (SPEC 4.2) */
const char *esa_mode_name(enum esa_mode mode)
{
	if (mode == ESA_MODE_VERIFY)
		return "verify";
	if (mode == ESA_MODE_HOSTED)
		return "hosted";
	return "invalid";
}

/* esa_source_name - the SPEC 8.2 "source" word; "none" when nothing matched */
const char *esa_source_name(enum esa_source source)
{
	if (source < ESA_SOURCE_NONE || source > ESA_SOURCE_ROUTE)
		return "invalid";
	return source_names[source];
}
