#!/usr/bin/env bash
# Prints the path of a llama-server binary for the tests (a test fixture, not an install step of Hearth).
# In order: $HEARTH_LLAMA_SERVER; ../shared/bin/llama-server (prebuilt from the same source, see its README);
# a cached build; else it clones the llama.cpp release node-llama-cpp binds
# (node_modules/node-llama-cpp/llama/gitRelease.bundle) and builds only the llama-server target with CMake
# (CPU, static, no CURL/OpenSSL) into ~/.cache/hearth/llama-server-<commit>/ — about 10 minutes on 2 cores.
# Progress goes to stderr; stdout has only the path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

if [ -n "${HEARTH_LLAMA_SERVER:-}" ]; then
  [ -x "$HEARTH_LLAMA_SERVER" ] || { echo "HEARTH_LLAMA_SERVER=$HEARTH_LLAMA_SERVER is not executable" >&2; exit 1; }
  echo "$HEARTH_LLAMA_SERVER"; exit 0
fi
if [ -x "$ROOT/../shared/bin/llama-server" ]; then
  echo "$(cd "$ROOT/../shared/bin" && pwd)/llama-server"; exit 0
fi

BUNDLE="$ROOT/node_modules/node-llama-cpp/llama/gitRelease.bundle"
[ -f "$BUNDLE" ] || { echo "no $BUNDLE: run npm ci first" >&2; exit 1; }
COMMIT="$(git bundle list-heads "$BUNDLE" | head -1 | cut -c1-12)"
OUT="${XDG_CACHE_HOME:-$HOME/.cache}/hearth/llama-server-$COMMIT"
if [ -x "$OUT/llama-server" ]; then echo "$OUT/llama-server"; exit 0; fi

for tool in cmake ninja g++; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "building llama-server needs cmake, ninja and g++: apt-get install cmake ninja-build g++" >&2
    exit 1
  }
done
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "== building llama-server from llama.cpp $COMMIT (about 10 minutes on 2 cores)" >&2
git clone -q "$BUNDLE" "$WORK/llama.cpp" >&2
cmake -S "$WORK/llama.cpp" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
  -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$WORK/build" --target llama-server -j "$(nproc)" >&2
mkdir -p "$OUT"
cp "$WORK/build/bin/llama-server" "$OUT/llama-server.tmp"
mv "$OUT/llama-server.tmp" "$OUT/llama-server"
echo "$OUT/llama-server"
