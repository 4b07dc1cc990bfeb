# edgepurge's image: a static binary on distroless, running as uid 65532.
#
#   docker build -t edgepurge .
#
# The base images are build arguments, so a builder that cannot pull them
# (an air-gapped mirror, `make test-container`) names its own:
#   --build-arg BUILD_IMAGE=…    any image with Go 1.26 and /bin/sh
#   --build-arg RUNTIME_IMAGE=…  any image with the CA certificates (a
#                                static binary needs nothing else)
# Module downloads go through the builder's proxy: pass
# --build-arg GOPROXY=… (and HTTP_PROXY/HTTPS_PROXY/NO_PROXY, which Docker
# forwards as predefined build arguments); with `--network host` the build
# reaches a proxy on the build host's loopback.
# No `# syntax=` line: the builder's own Dockerfile frontend is enough, and
# one would be pulled from a registry at every build.
ARG BUILD_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

# Build: the same command as `make build` (test/repo checks they agree).
FROM ${BUILD_IMAGE} AS build
ARG GOPROXY
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/edgepurge ./cmd/edgepurge

# Run: no shell, no package manager; only the binary and the CA certificates.
FROM ${RUNTIME_IMAGE}
COPY --from=build /out/edgepurge /usr/local/bin/edgepurge
# Numeric, so that Kubernetes' runAsNonRoot can verify it (a user name
# cannot be checked without reading the image's /etc/passwd). 65532 is
# distroless' nonroot.
USER 65532:65532
# The default listen address (:8080). EDGEPURGE_LISTEN is deliberately not
# set here: an image-level value would override a config file's listen.
EXPOSE 8080
# Liveness, not readiness: a failing readiness check (Redis, the CDN, the
# canary) takes the instance out of the load balancer but must never get the
# container restarted. `edgepurge health` probes the address the service is
# configured to listen on (EDGEPURGE_LISTEN, else the config file's listen,
# else :8080), so no port is written here.
# Every 5 s: a container is healthy about 5 s after it starts (the first
# check runs one interval in); three failures in a row make it unhealthy.
HEALTHCHECK --interval=5s --timeout=4s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/edgepurge", "health", "--path", "/healthz"]
ENTRYPOINT ["/usr/local/bin/edgepurge"]
CMD ["serve"]
