#!/usr/bin/env bash
# Installs PyTorch and what python/skipscope_torch needs into a virtual environment outside the
# checkout (default ~/.cache/skipscope/venv-torch, or $SKIPSCOPE_TORCH_VENV), only if missing.
# Not part of scripts/setup.sh: PyPI's torch wheel brings its CUDA libraries (about 4 GB on
# disk; 176 s to download and install here, once). scripts/test.sh runs the PyTorch tests
# whenever this environment exists.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${SKIPSCOPE_TORCH_VENV:-$HOME/.cache/skipscope/venv-torch}
# Each requirement's installed version, without importing torch (which takes seconds).
installed() { "$venv/bin/python" -c 'import importlib.metadata as m, sys; print(" ".join(f"{p}=={m.version(p)}" for p in sys.argv[1:]))' "$@" 2>/dev/null; }
want=$(grep -v '^#' python/requirements-torch.txt | tr '\n' ' ' | sed 's/ *$//')
if [ "$(installed torch numpy safetensors pillow)" = "$want" ]; then
  echo "[setup_torch] $want are in $venv"
  exit 0
fi
echo "[setup_torch] installing python/requirements-torch.txt into $venv (about 4 GB)"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet -r python/requirements-torch.txt
echo "[setup_torch] done: $venv/bin/python -m skipscope_torch.train --help (from python/)"
