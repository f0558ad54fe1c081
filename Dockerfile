# Builds the vmdt binary and runs a public bootstrap node by default.
#   docker build -t vmdt .
#   docker run -v vmdt:/data -p 4001:4001/tcp -p 4001:4001/udp vmdt
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/vmdt ./cmd/vmdt

FROM debian:bookworm-slim
COPY --from=build /out/vmdt /usr/local/bin/vmdt
ENV VMDT_REPO=/data
VOLUME /data
EXPOSE 4001/tcp 4001/udp 4002/udp
# The repository (identity) lives on the volume, so the peer ID survives
# restarts; it is created on first start.
ENTRYPOINT ["/bin/sh", "-c", "[ -f \"$VMDT_REPO/config.json\" ] || vmdt init >/dev/null; exec vmdt \"$@\"", "vmdt"]
CMD ["bootstrap", "--listen", "/ip4/0.0.0.0/tcp/4001", "--listen", "/ip4/0.0.0.0/udp/4001/quic-v1"]
