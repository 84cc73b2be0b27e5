#!/usr/bin/env bash
# Installs pyvelociraptor (Velociraptor's official Python binding, PyPI, MIT) with pinned dependencies into a
# virtual environment under ~/.cache/megaraptor, for the conformance witness (test/witness) and the Python bar in
# the benchmarks. Reuses the environment while it matches the pinned set. Never fails the caller: when the install
# cannot be done it writes the reason to $VENV.unavailable, and the tests and benchmarks skip printing that reason.
set -uo pipefail
cd "$(dirname "$0")/.."

CACHE="${MEGARAPTOR_CACHE:-$HOME/.cache/megaraptor}"
VENV="$CACHE/venv-pyvelociraptor"
REASON="$VENV.unavailable"
REQS="scripts/pyvelociraptor.requirements.txt"
mkdir -p "$CACHE"

unavailable() {
  printf '%s\n' "$1" >"$REASON"
  echo "pyvelociraptor: unavailable — $1 (tests and benchmarks that need it will skip with this reason)"
  exit 0
}

# The stamp ties the environment to the exact pinned set: a changed pin rebuilds it.
stamp="$(sha256sum "$REQS" | cut -d' ' -f1)"
probe='import sys, grpc, google.protobuf, pyvelociraptor; from pyvelociraptor import api_pb2, api_pb2_grpc; from importlib.metadata import version; print("pyvelociraptor", version("pyvelociraptor"), "grpcio", grpc.__version__, "protobuf", google.protobuf.__version__, "python", sys.version.split()[0])'

if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.megaraptor-stamp" 2>/dev/null)" = "$stamp" ] && versions="$("$VENV/bin/python" -c "$probe" 2>/dev/null)"; then
  rm -f "$REASON"
  echo "pyvelociraptor: reusing $VENV ($versions)"
  exit 0
fi

# pyvelociraptor 0.1.14 and grpcio 1.85 publish wheels for CPython 3.9+; prefer the newest interpreter we have.
py=""
for cand in ${PYTHON:-} python3.12 python3.11 python3.10 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null; then
    py="$cand"
    break
  fi
done
[ -n "$py" ] || unavailable "no Python >= 3.9 with the venv and ensurepip modules (on Debian: apt-get install python3-venv)"

rm -rf "$VENV"
if ! out="$("$py" -m venv "$VENV" 2>&1)"; then
  unavailable "'$py -m venv $VENV' failed: $(printf '%s' "$out" | tail -1)"
fi
# Wheels only: building grpcio from source takes most of an hour and needs a compiler toolchain.
if ! out="$("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r "$REQS" 2>&1)"; then
  rm -rf "$VENV"
  unavailable "pip install -r $REQS failed: $(printf '%s' "$out" | grep -v '^\s*$' | tail -1)"
fi
if ! versions="$("$VENV/bin/python" -c "$probe" 2>&1)"; then
  rm -rf "$VENV"
  unavailable "pyvelociraptor installed but does not import: $(printf '%s' "$versions" | tail -1)"
fi
echo "$stamp" >"$VENV/.megaraptor-stamp"
rm -f "$REASON"
echo "pyvelociraptor: installed into $VENV ($versions)"
