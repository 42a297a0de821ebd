# mk/shim.mk - the shim's extras (included by the Makefile)
#
#   build/progs/esa_client   the tests' own STARTTLS client (tests/progs/),
#                            built before `make test` runs the suites
#   make install             also installs scripts/esa-run into bin/
#                            (esashim.so and man/esashim.7 are installed by
#                            the Makefile's own rule)

SHIM_PROGS := $(B)/progs/esa_client $(B)/progs/bypass_client $(B)/progs/bypass_server

.PHONY: shim-progs install-esa-run

shim-progs: $(SHIM_PROGS)

$(B)/progs/%: tests/progs/%.c | $(B)/progs
	$(CC) $(CFLAGS) -o $@ $< -lssl -lcrypto -lresolv -lpthread

$(B)/progs:
	mkdir -p $@

test: shim-progs

install: install-esa-run

install-esa-run:
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 scripts/esa-run $(DESTDIR)$(PREFIX)/bin/esa-run
