#!/usr/bin/env bash
# `npm run models:train`: rebuild the lab's tiny models (lab/README.md) from the pinned npm packages in
# lab/package.json. Not run by CI. Needs Debian's python3-torch and libopenblas0-pthread (see the README).
# Writes lab/models/*.gguf; intermediate files go to lab/.work/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "PyTorch is missing: apt-get install -y python3-torch libopenblas0-pthread (Debian; no pip needed)" >&2
  exit 1
fi
if ! ldconfig -p | grep -q libopenblas; then
  echo "warning: libopenblas0-pthread is not installed; the reference BLAS makes training ~16x slower" >&2
fi
started=$(date +%s)
step() { echo; echo "== $1 ($(( $(date +%s) - started )) s)"; }
step "installing the training packages (lab/package-lock.json)"
npm ci --prefix lab --ignore-scripts --no-audit --no-fund
step "building"
npm run build
mkdir -p lab/.work
step "preparing data and vocabularies"
node dist/lab-prepare.mjs
for model in embedding reranker code; do
  step "training the $model model"
  "$PY" lab/train.py "$model" | tee "lab/.work/$model.log"
done
step "computing PyTorch's reference outputs (checked against llama.cpp by test/fixtures/labParity.test.ts)"
"$PY" lab/train.py reference
step "exporting GGUF files"
node dist/lab-export.mjs
step "done: run 'npm run eval:search -- --embedding-model lab/models/hearth-lab-embedding.gguf --rerank-model lab/models/hearth-lab-reranker.gguf' and 'npm run eval:completion'"
