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

# Go microbenchmarks that make bench runs first (about 2 minutes). Their
# raw output goes to $(MICRO_OUT), each command's after a "$ command"
# line; netlab puts them in docs/BENCHMARKS.md. A failed benchmark is noted
# in the file ("netlab-micro: FAILED ...") and does not stop make bench.
MICRO_OUT := bench/.out/micro.txt
MICRO_BENCHES := \
	"go test -run XXX -bench . -benchtime 0.5s -cpu 1 -timeout 3m ./ssms" \
	"go test -run XXX -bench 'BenchmarkLoopbackUDP|BenchmarkLossyMessage' -benchtime 20x -timeout 3m ./rdt" \
	"go test -run XXX -bench BenchmarkResolve -benchtime 300x -timeout 3m ./dht" \
	"go test -run XXX -bench BenchmarkWarmSend64KiB -benchtime 20x -timeout 3m ./node/delivery" \
	"go test -run XXX -bench BenchmarkIdleNodes -benchtime 1x -timeout 3m ./node"

.PHONY: bench bench-quick bench-micro

# Every scenario; writes docs/BENCHMARKS.md, SVG plots and the raw results
# (docs/benchmarks/results.json, rewritten after every measurement, so an
# interrupted run keeps what it measured: render it with
# bench/.bin/netlab report -json docs/benchmarks/results.json -report docs/BENCHMARKS.md).
# Takes about 50 minutes on a 2-core machine; see bench/netlab/README.md.
bench:
	@$(NETLAB_DEPS)
	go build -o $(NETLAB) ./bench/netlab
	@$(VMDT_BUILD)
	@$(MAKE) --no-print-directory bench-micro
	$(NETLAB) run -config full -report docs/BENCHMARKS.md -plots docs/benchmarks -json docs/benchmarks/results.json -micro $(MICRO_OUT)

# The microbenchmarks alone; never fails because a benchmark did.
bench-micro:
	@mkdir -p $(dir $(MICRO_OUT))
	@: > $(MICRO_OUT).tmp
	@for cmd in $(MICRO_BENCHES); do \
		echo "$$ $$cmd" | tee -a $(MICRO_OUT).tmp; \
		eval "$$cmd" >> $(MICRO_OUT).tmp 2>&1; rc=$$?; \
		if [ $$rc -ne 0 ]; then echo "netlab-micro: FAILED (exit $$rc): $$cmd" | tee -a $(MICRO_OUT).tmp; fi; \
	done
	@mv $(MICRO_OUT).tmp $(MICRO_OUT)
	@echo "microbenchmarks written to $(MICRO_OUT)"

# Scenario 1 and a short scenario 3 in under 3 minutes; prints the headline
# lines and writes them as JSON to bench/.out/quick.json.
bench-quick:
	@$(NETLAB_DEPS)
	go build -o $(NETLAB) ./bench/netlab
	@$(VMDT_BUILD)
	$(NETLAB) quick -json bench/.out/quick.json
