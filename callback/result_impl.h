/*
 * result_impl.h - private pieces of result.c shared with the shim's log line
 *
 * The JSON object of SPEC 8.2 is written member by member so that the
 * shim (SPEC 8.5) can put the same chain, verify, hosted and dns values
 * into its own log object.  Each esa_result_json_* writes one VALUE into
 * an open esa_json (the caller writes the key before it), except
 * esa_result_json_fields, which writes every member of the SPEC 8.2 object
 * into an object the caller has opened and will close.
 */
#ifndef ESA_RESULT_IMPL_H
#define ESA_RESULT_IMPL_H

#include "internal.h"
#include "json.h"

/* Name tables: "match", "no-match", "bad-reference", "not-confirmed",
 * "not-peer", "lookup-failed"; "dns" / "cn". */
const char *esa_result_outcome_name(enum esa_try_outcome outcome);
const char *esa_result_kind_name(enum esa_id_kind kind);

/* {"checked", "ok", "error", "depth"}; ok is true when not checked. */
void esa_result_json_chain(const struct esa_result *res, struct esa_json *j);
/* [{"kind", "value", "usable", "problem"}, ...] */
void esa_result_json_presented(const struct esa_result *res,
			       struct esa_json *j);
/* {"pass", "presented", "reference", "source", "reason", "tried"}, or null
 * when the mode was not computed. */
void esa_result_json_mode(const struct esa_result *res, enum esa_mode mode,
			  struct esa_json *j);
/* [{"name", "type", "status", "rcode", "answers", "ad", "cached", "ms"}] */
void esa_result_json_dns(const struct esa_result *res, struct esa_json *j);
/* The members a DNS query's object begins with, into an object the caller
 * has opened: "name", "type", "status", "rcode", "answers" (the "dns" list
 * above, and esa-check live's "lookups"). */
void esa_result_json_query(struct esa_json *j, const char *name,
			   uint16_t type, enum esa_dns_status status,
			   int rcode, size_t count);
/* Every member of the SPEC 8.2 object, in order. */
void esa_result_json_fields(const struct esa_result *res, struct esa_json *j);

#endif
