#!/usr/bin/env bash
# Installs what Ripstop needs to build, test and run the demo, and nothing
# that is already there. Safe to run again and again. Sources: Debian's
# packages (apt) and the npm registry (npm ci from the committed lock file).
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(
  build-essential clang cmake pkg-config
  libclang-rt-14-dev # clang's sanitizer and libFuzzer runtimes (`make fuzz`); only recommended by clang-14
  libevent-dev libcurl4-openssl-dev libhttp-parser-dev libhiredis-dev librdkafka-dev libfyaml-dev
  libjansson-dev libexpat1-dev libssl-dev nettle-dev libsqlite3-dev
  libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler python3-h2
  nghttp2-client # h2load, the load client of bench_grpc
  redis-server python3 curl procps iproute2 chromium tzdata
)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js: any node >= 18 with npm will do; take Debian's only if none is on PATH.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

# kubectl (its built-in kustomize renders deploy/k8s in the offline checks, tests/k8s): any kubectl
# on PATH will do; else Debian's kubernetes-client (kubectl 1.20, kustomize v2.0.3).
if ! command -v kubectl >/dev/null 2>&1; then
  missing+=(kubernetes-client)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages (Azurite, playwright-core) pinned by package-lock.json.
if [ -f package-lock.json ]; then
  stamp=node_modules/.ripstop-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
fi

# Zipkin's published v2 model, zipkin.proto, for the Zipkin payload checks (tests/lib/zipkin_schema.mjs).
# Debian ships it in golang-github-openzipkin-zipkin-go-dev, whose installation would bring 40 packages
# (185 MB on disk): so fetch that one .deb (49 kB) from the archive and keep just the .proto, outside the
# repository. RIPSTOP_ZIPKIN_PROTO_DIR moves it; zipkin_schema.mjs looks in the same place.
zdir="${RIPSTOP_ZIPKIN_PROTO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ripstop/zipkin-proto}"
zpkg=golang-github-openzipkin-zipkin-go-dev
if [ ! -s "$zdir/zipkin.proto" ]; then
  echo "setup: fetching $zpkg for zipkin.proto into $zdir"
  mkdir -p "$zdir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download writes into the current directory (as root it warns that _apt cannot reach it)
  if ! (cd "$tmp" && apt-get download -qq "$zpkg" 2>/dev/null); then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq  # a fresh machine may have no package lists yet
    (cd "$tmp" && apt-get download -qq "$zpkg" 2>/dev/null)
  fi
  deb=$(ls "$tmp"/"$zpkg"_*.deb)
  dpkg-deb --fsys-tarfile "$deb" |
    tar -xO ./usr/share/gocode/src/github.com/openzipkin/zipkin-go/proto/v2/zipkin.proto > "$tmp/zipkin.proto"
  grep -q '^package zipkin.proto3;' "$tmp/zipkin.proto"
  dpkg-deb -f "$deb" Package Version > "$tmp/zipkin.proto.source"
  mv "$tmp/zipkin.proto.source" "$zdir/zipkin.proto.source"
  mv "$tmp/zipkin.proto" "$zdir/zipkin.proto"
  rm -rf "$tmp"
  trap - EXIT
fi
