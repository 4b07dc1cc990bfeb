# syntax=docker/dockerfile:1
# Build: a static binary, no cgo; the same command as `make build`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/edgepurge ./cmd/edgepurge

# Run: distroless static, non-root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/edgepurge /usr/local/bin/edgepurge
USER nonroot:nonroot
ENV EDGEPURGE_LISTEN=:8080
EXPOSE 8080
# Liveness, not readiness: a failing readiness check (Redis, the CDN, the
# canary) takes the instance out of the load balancer but must never get the
# container restarted. Never built or run here (no Docker engine); see
# docs/operations.md, Container, for what test/repo checks instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/edgepurge", "health", "--url", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/edgepurge"]
CMD ["serve"]
