#!/usr/bin/env bash
# Prints the container engine to build images with: docker or podman, the first whose
# daemon/runtime answers (`info` succeeds). Exits 1 with the reason when there is none.
set -u
for e in "${CONTAINER_ENGINE:-}" docker podman; do
  [ -n "$e" ] || continue
  command -v "$e" >/dev/null 2>&1 || continue
  if "$e" info >/dev/null 2>&1; then echo "$e"; exit 0; fi
  echo "container-engine: $e is installed but '$e info' fails (daemon not running, or no permission)" >&2
done
echo "container-engine: no working docker or podman (Debian 12: apt-get install docker.io, or podman)" >&2
exit 1
