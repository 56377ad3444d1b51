#!/usr/bin/env bash
# Optional: build @tensorflow/tfjs-node without its install-time download of libtensorflow
# (which fails without internet). The TensorFlow C++ libraries are taken from a tensorflow-cpu
# wheel instead (see ../shared/DESIGN.md). Adds ~1 GB to node_modules; never needed by tests.
# Afterwards `backend: auto` picks tfjs-node (recorded as "tensorflow" in manifest.json).
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "[1/4] installing @tensorflow/tfjs-node without its download script"
npm install --no-save --ignore-scripts @tensorflow/tfjs-node

echo "[2/4] fetching a tensorflow-cpu wheel (${TF_WHEEL_SPEC:=tensorflow-cpu})"
if ! python3 -m pip download --no-deps -d "$WORK" "$TF_WHEEL_SPEC"; then
  echo "setup:native: could not download $TF_WHEEL_SPEC with pip; put a tensorflow-cpu wheel in \$TF_WHEEL (a path) and rerun" >&2
  [ -n "${TF_WHEEL:-}" ] || exit 1
fi
WHEEL="${TF_WHEEL:-$(ls "$WORK"/*.whl | head -n1)}"

echo "[3/4] unpacking libtensorflow from $WHEEL"
python3 - "$WHEEL" "$WORK/tf" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
DEPS=node_modules/@tensorflow/tfjs-node/deps
mkdir -p "$DEPS/lib" "$DEPS/include"
CC_LIB="$(find "$WORK/tf" -name 'libtensorflow_cc.so.2' | head -n1)"
FW_LIB="$(find "$WORK/tf" -name 'libtensorflow_framework.so.2' | head -n1)"
if [ -z "$CC_LIB" ] || [ -z "$FW_LIB" ]; then
  echo "setup:native: the wheel has no libtensorflow_cc.so.2 / libtensorflow_framework.so.2" >&2
  exit 1
fi
cp "$CC_LIB" "$FW_LIB" "$DEPS/lib/"
# tfjs-node links against libtensorflow.so.2.9.1 / libtensorflow_framework.so.2.9.1.
( cd "$DEPS/lib" && ln -sf libtensorflow_cc.so.2 libtensorflow.so && ln -sf libtensorflow_cc.so.2 libtensorflow.so.2 && ln -sf libtensorflow_cc.so.2 libtensorflow.so.2.9.1 \
  && ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so && ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so.2.9.1 )
C_API="$(find "$WORK/tf" -path '*include/tensorflow/c' -type d | head -n1)"
if [ -n "$C_API" ]; then
  mkdir -p "$DEPS/include/tensorflow"
  cp -r "$C_API" "$DEPS/include/tensorflow/"
fi

echo "[4/4] building the tfjs-node addon"
npm rebuild @tensorflow/tfjs-node
node -e "require('@tensorflow/tfjs-node'); const tf = require('@tensorflow/tfjs'); tf.setBackend('tensorflow').then(() => console.log('tfjs-node ready:', tf.getBackend()))"
