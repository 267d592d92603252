# One image with every Ripstop binary; each Deployment picks its program with `command`
# (frontend, customer-order-service, customer-audit-service, customer-loyalty-job) and the
# load and verify Jobs run `ripstop`. One image because the programs share almost all of
# their code and libraries: one build, one push, one tag to keep in step (see docs/kubernetes.md).
#
#   make images                      # docker or podman, whichever works; tag ripstop:1.0
#   docker build -t ripstop:1.0 .    # the same by hand

# --- build: the normal CMake build on Debian 12 -------------------------------------------------
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config python3 \
      libevent-dev libcurl4-openssl-dev libhttp-parser-dev libhiredis-dev librdkafka-dev libfyaml-dev \
      libjansson-dev libexpat1-dev libssl-dev nettle-dev libsqlite3-dev \
      libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" --target \
      ripstop ripstopd kafka-mock frontend customer-order-service customer-audit-service customer-loyalty-job \
 && mkdir /out \
 && cd /build && cp ripstop ripstopd kafka-mock frontend customer-order-service customer-audit-service \
      customer-loyalty-job /out/ \
 && strip --strip-debug /out/*

# --- runtime: the shared libraries only, no compiler, a non-root user --------------------------
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libevent-2.1-7 libevent-pthreads-2.1-7 libcurl4 libhttp-parser2.9 libhiredis0.14 librdkafka1 \
      libfyaml0 libjansson4 libexpat1 libssl3 libnettle8 libsqlite3-0 libnghttp2-14 libprotobuf-c1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 ripstop \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ripstop
COPY --from=build /out/ /usr/local/bin/
# The demo's scenario (and the run file it names), for the load and verify Jobs: the same file as the local demo.
COPY deploy/local/ /usr/share/ripstop/local/
# Fail the build when a library is missing, not the first pod that starts.
RUN for b in /usr/local/bin/*; do if ldd "$b" | grep 'not found'; then echo "$b: missing library" >&2; exit 1; fi; done \
 && ripstop --help >/dev/null
USER 10001:10001
EXPOSE 8080
CMD ["ripstop", "--help"]
