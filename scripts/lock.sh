#!/usr/bin/env bash
# Regenerate requirements.lock from pyproject.toml: the runtime dependencies only (no dev or
# bench extras), each pinned exactly with the sha256 of every file the index offers for it.
# The Dockerfile installs from it with `pip install --require-hashes`; tests/test_image.py
# checks it is in step with pyproject.toml. Run after changing [project] dependencies.
# setuptools is locked too (--allow-unsafe): the image builds the project without fetching it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
if [ ! -x .venv/bin/pip-compile ]; then
  .venv/bin/python -m pip install --quiet "pip-tools>=7.4"
fi
.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links \
  --output-file requirements.lock pyproject.toml
echo "requirements.lock: $(grep -c '==' requirements.lock) pinned packages" >&2
