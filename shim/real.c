/*
 * real.c - the real functions behind the shim's hooks
 *
 * dlsym(RTLD_NEXT) from the shim finds the next definition in the global
 * scope.  esashim.so is linked against libssl (--no-as-needed), so libssl
 * is in that scope even when the program itself only dlopen()s it into a
 * local scope (Python's _ssl, Perl's Net::SSLeay), where a naive
 * RTLD_NEXT lookup of a program-loaded libssl would return NULL.  libssl
 * functions are looked up by version first (the hooks stand in for
 * OPENSSL_3.0.0 only); as a last resort an already loaded libssl.so.3 is
 * asked directly.  Lookups are cached; a race only repeats one.
 */
#include <dlfcn.h>

#include "shim.h"

/* shim_real - the next definition of name, cached in *slot */
void *shim_real(const char *name, const char *version, void **slot)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *h;

	if (p != NULL)
		return p;
	p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
	if (p == NULL && version != NULL &&
	    (h = dlopen("libssl.so.3", RTLD_LAZY | RTLD_NOLOAD)) != NULL) {
		p = dlvsym(h, name, version);
		dlclose(h);
	}
	if (p != NULL)
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}
