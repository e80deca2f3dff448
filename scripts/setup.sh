#!/usr/bin/env bash
# Set up Tunesmith on a fresh Debian machine: system packages (apt, when root), .venv, the project.
# Idempotent: a stamp keyed by the dependency files skips pip when nothing changed.
# Usage: scripts/setup.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

PYTHON="${PYTHON:-python3.11}"
APT_PACKAGES=(libfluidsynth3 fluid-soundfont-gm espeak-ng ffmpeg)
if [ "$purpose" = "test" ]; then
  APT_PACKAGES+=(chromium chromium-driver)
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "setup: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: system packages missing: ${missing[*]}"
    echo "setup: install them with: sudo apt-get install --no-install-recommends ${missing[*]}"
    echo "setup: continuing with the pure-pip fallbacks (TimGM6mb SoundFont, bundled espeak-ng)"
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi

stamp=".venv/.stamp-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Tunesmith and its dependencies into .venv (torch pinned to the CPU build)"
  .venv/bin/pip install -q -c constraints.txt -e '.[dev]'
  # basic-pitch's own dependency list pulls TensorFlow and numpy 1.x; we run its ONNX model instead.
  .venv/bin/pip install -q -c constraints.txt --no-deps basic-pitch==0.4.0
  rm -f .venv/.stamp-*
  touch "$stamp"
fi
