# syntax=docker/dockerfile:1
#
# authsvc container image: a static, non-root binary on distroless.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t ghcr.io/authsvc/authsvc:TAG .
#
# NOTE: this file is not built by .ci/run — the development machine has no Docker engine. It was
# written to the documented behaviour of the golang and distroless images; build it once in a CI
# with Docker/BuildKit before relying on it. For reproducible builds pin both base images by
# digest (image@sha256:...).
#
# The binary reads main.version (set below with -X); cmd/authsvc must declare `var version = "dev"`.

ARG GO_VERSION=1.26

# Build on the builder's own platform and cross-compile: no emulation for multi-arch images.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src

# Dependencies first, so source edits do not invalidate the module download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
# CGO off: a static binary that runs on distroless/static (no libc). -trimpath drops local paths
# from the binary; -s -w drop symbol tables (stack traces keep function names and lines).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
      -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/authsvc ./cmd/authsvc

# distroless/static: CA certificates (for Stytch's HTTPS), tzdata, /etc/passwd with nonroot (65532),
# no shell or package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authsvc /authsvc
USER 65532:65532
# 8080 REST gateway (/healthz, /readyz), 9090 gRPC, 9091 admin (/metrics, pprof; keep internal).
EXPOSE 8080 9090 9091
ENTRYPOINT ["/authsvc"]
