# mk/bench.mk - `make bench` (issue 5): what ESA verification costs against
# stock OpenSSL, measured side by side in one run.  Not part of `make test`
# and not for CI: the figures are ratios and instruction counts, not
# assertions.  See BENCHMARKS.md for how to read them.
#
#   make bench          build everything below, then bench/run.sh: the
#                       summary on stdout and in build/bench/summary.md,
#                       every raw figure in build/bench/results.txt
#   make bench-build    the programs only
#   BENCH_QUICK=1       fewer rounds and handshakes (try the harness; the
#                       figures are noisier)
#
# bench/proposed/*.diff are fixes proposed for files bench does not own;
# bench-proposed applies them to a copy under build/bench/proposed/ (the
# working tree is never touched) so that run.sh can measure before and
# after side by side.  When a diff no longer applies, the "after" figures
# are left out and the summary says so.

BENCH_B       := $(B)/bench
BENCH_SUPPORT := bench/bench.c tests/pki.c tests/tls_server.c tests/unbound.c
BENCH_HDRS    := bench/bench.h tests/pki.h tests/tls_server.h tests/unbound.h
BENCH_PROGS   := $(BENCH_B)/bench_handshake $(BENCH_B)/bench_shim \
		 $(BENCH_B)/bench_decide $(BENCH_B)/bench_dns $(BENCH_B)/hsloop
BENCH_PROPOSED := $(BENCH_B)/proposed

.PHONY: bench bench-build bench-proposed

bench: all bench-build
	@BENCH_QUICK=$(BENCH_QUICK) bench/run.sh $(BENCH_B)

bench-build: $(BENCH_PROGS) bench-proposed

$(BENCH_B)/bench_%: bench/bench_%.c $(BENCH_SUPPORT) $(BENCH_HDRS) $(HDRS) \
		    $(B)/libesaverify.a | $(BENCH_B)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BENCH_SUPPORT) $(B)/libesaverify.a \
	  $(LDLIBS) -lm

# The loop client links OpenSSL only, like the programs the shim is for.
$(BENCH_B)/hsloop: bench/hsloop.c | $(BENCH_B)
	$(CC) $(CFLAGS) -o $@ $< -lssl -lcrypto

# Library and shim with the proposed fixes, and bench_decide against them.
bench-proposed: | $(BENCH_B)
	@rm -f $(BENCH_B)/bench_decide-proposed
	@if bench/build-proposed.sh $(BENCH_PROPOSED); then \
	  echo "bench: proposed fixes built in $(BENCH_PROPOSED)"; \
	  $(CC) $(filter-out -Icallback,$(CFLAGS)) \
	    -I$(BENCH_PROPOSED)/src/callback -Itests \
	    -o $(BENCH_B)/bench_decide-proposed bench/bench_decide.c \
	    $(BENCH_SUPPORT) $(BENCH_PROPOSED)/src/build/libesaverify.a \
	    $(LDLIBS) -lm; \
	fi

$(BENCH_B):
	mkdir -p $@
