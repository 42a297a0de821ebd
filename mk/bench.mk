# mk/bench.mk - `make bench` (issue 5): what ESA verification costs against
# stock OpenSSL, measured side by side in one run.  Not part of `make test`
# and not for CI: the figures are ratios and instruction counts, not
# assertions.  See BENCHMARKS.md for how to read them.
#
#   make bench          build everything below, then bench/run.sh: the
#                       summary on stdout and in build/bench/summary.md,
#                       every raw figure in build/bench/results.txt
#   make bench-build    the programs only
#   BENCH_QUICK=1       fewer rounds and handshakes, no instructions per
#                       delivery (try the harness; the figures are noisier)
#   (section 2 also runs a whole SMTP delivery per connection, issue 16:
#   hsloop --smtp against bench/smtp_server.c)
#   BENCH_BASE=REV      also measure the tree at git revision REV, side by
#                       side in the same run: bench/build-base.sh exports it
#                       under build/bench/base/SHA/ (once; reused after),
#                       builds its library and shim with its own Makefile
#                       and the current bench_decide.c against them; run.sh
#                       adds the base shim as variants enforce@base and
#                       observe@base (sections 2 and 5) and the base
#                       bench_decide (section 3)
#   BENCH_SHIM_VARIANTS='NAME=VAR=VALUE[,VAR=VALUE...][,nolog] ...'
#                       extra shim variants for sections 2 and 5, space-
#                       separated, passed to bench_shim as --variant

BENCH_B       := $(B)/bench
BENCH_SUPPORT := bench/bench.c bench/smtp_server.c tests/pki.c tests/tls_server.c tests/unbound.c
BENCH_HDRS    := bench/bench.h tests/pki.h tests/tls_server.h tests/unbound.h
BENCH_PROGS   := $(BENCH_B)/bench_handshake $(BENCH_B)/bench_shim \
		 $(BENCH_B)/bench_decide $(BENCH_B)/bench_dns $(BENCH_B)/hsloop

.PHONY: bench bench-build bench-base

bench: all bench-build bench-base
	@BENCH_QUICK='$(BENCH_QUICK)' BENCH_BASE='$(BENCH_BASE)' \
	  BENCH_SHIM_VARIANTS='$(BENCH_SHIM_VARIANTS)' bench/run.sh $(BENCH_B)

bench-build: $(BENCH_PROGS)

$(BENCH_B)/bench_%: bench/bench_%.c $(BENCH_SUPPORT) $(BENCH_HDRS) $(HDRS) \
		    $(B)/libesaverify.a | $(BENCH_B)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BENCH_SUPPORT) $(B)/libesaverify.a \
	  $(LDLIBS) -lm

# The loop client links OpenSSL only, like the programs the shim is for.
$(BENCH_B)/hsloop: bench/hsloop.c | $(BENCH_B)
	$(CC) $(CFLAGS) -o $@ $< -lssl -lcrypto

# The tree at $(BENCH_BASE), when one is asked for (bench/build-base.sh).
bench-base: | $(BENCH_B)
	@if [ -n '$(BENCH_BASE)' ]; then \
	  CC='$(CC)' BASE_DECIDE_CFLAGS='$(filter-out -Icallback,$(CFLAGS))' \
	  BENCH_SUPPORT='$(BENCH_SUPPORT)' LDLIBS='$(LDLIBS)' \
	  bench/build-base.sh '$(BENCH_BASE)' $(BENCH_B); \
	fi

$(BENCH_B):
	mkdir -p $@
