# mk/fresh.mk - `make test-fresh` (issue 11): the README's two commands on a
# Debian 12 with nothing on it.  scripts/test-fresh bootstraps a minimal root
# (debootstrap --variant=minbase bookworm, from this machine's own Debian
# mirror), puts a clean clone of HEAD and ../shared into it and runs there,
# as root: apt-get update, apt-get install make git, make test, make demo;
# then removes it.  Needs root.  Not part of `make test`; .ci/run runs it.
#
#   make test-fresh                      the run (cached base: see the script)
#   make test-fresh FRESH_ARGS=--keep    keep the root afterwards (unmounted)
#   make test-fresh FRESH_ARGS=--no-cache  bootstrap even with a cached base
FRESH_ARGS ?=

.PHONY: test-fresh

test-fresh:
	@scripts/test-fresh $(FRESH_ARGS)
