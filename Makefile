# Benchmarks (bench/netlab). Both targets must run as root: netlab builds
# its own network namespaces and TUN devices and removes them again when it
# exits, also on Ctrl-C. Traffic stays inside those namespaces.

NETLAB := bench/.bin/netlab
# The vmdt binary sits beside netlab, where netlab's vmdt transport looks
# for it. If it does not build, netlab reports vmdt as unavailable and
# runs the baselines.
VMDT_BUILD := go build -o bench/.bin/vmdt ./cmd/vmdt || { rm -f bench/.bin/vmdt; echo "vmdt did not build; netlab runs without it"; }
# iproute2 is the only system tool netlab needs (no veth, so no ethtool
# or nftables: the link emulator runs in user space over TUN devices).
NETLAB_DEPS := command -v ip >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }

.PHONY: bench bench-quick

# Every scenario; writes docs/BENCHMARKS.md, SVG plots and the raw results.
# Takes hours on a 2-core machine; see bench/netlab/README.md.
bench:
	@$(NETLAB_DEPS)
	go build -o $(NETLAB) ./bench/netlab
	@$(VMDT_BUILD)
	$(NETLAB) run -config full -report docs/BENCHMARKS.md -plots docs/benchmarks -json docs/benchmarks/results.json

# Scenario 1 and a short scenario 3 in under 3 minutes; prints the headline
# lines and writes them as JSON to bench/.out/quick.json.
bench-quick:
	@$(NETLAB_DEPS)
	go build -o $(NETLAB) ./bench/netlab
	@$(VMDT_BUILD)
	$(NETLAB) quick -json bench/.out/quick.json
