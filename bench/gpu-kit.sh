#!/usr/bin/env bash
# Packs bench/gpu-kit/kit.tar.xz: everything bench/train-gpu.mjs needs on a Linux x86-64 machine with
# an NVIDIA GPU and no Node, browser or network (the situation gpu.md describes):
#   node binary, train-gpu.mjs bundled with the TypeScript it imports, the webgpu (Dawn) and
#   onnxruntime-web files it loads, and the Vulkan/GL loader .debs Dawn needs.
# On the GPU machine:
#   tar xJf kit.tar.xz -C /tmp    (or: python3 -c "import tarfile; tarfile.open('kit.tar.xz').extractall('/tmp')")
#   /tmp/kit/run.sh --networks=reference,unet --steps=20
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/gpu-kit
kit="$out/kit"
rm -rf "$kit" "$out/kit.tar.xz"
mkdir -p "$kit/debs"

npx esbuild bench/train-gpu.mjs --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --external:onnxruntime-web --log-level=warning --outfile="$kit/train-gpu.mjs"
cp "$(command -v node)" "$kit/node"

copy() { mkdir -p "$kit/node_modules/$(dirname "$1")" && cp -r "node_modules/$1" "$kit/node_modules/$1"; }
for f in webgpu/package.json webgpu/index.js webgpu/dist/linux-x64/dawn.node \
  onnxruntime-web/package.json onnxruntime-web/dist/ort.bundle.min.mjs \
  onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.mjs onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm \
  onnxruntime-web/dist/ort.node.min.mjs onnxruntime-web/dist/ort-wasm-simd-threaded.mjs \
  onnxruntime-web/dist/ort-wasm-simd-threaded.wasm onnxruntime-common/package.json onnxruntime-common/dist/esm; do
  copy "$f"
done

(cd "$kit/debs" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)

cat > "$kit/run.sh" <<'EOF'
#!/usr/bin/env bash
# Runs the train-step benchmark on this machine's GPU through Dawn (see train-gpu.mjs).
set -euo pipefail
cd "$(dirname "$0")"
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  # No Vulkan loader installed: unpack the bundled one next to the kit (no root needed).
  mkdir -p sysroot
  for d in debs/*.deb; do
    if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$d" sysroot; else
      python3 - "$d" sysroot <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
pos = 8  # ar archive: "!<arch>\n", then 60-byte member headers
while pos < len(data):
    name, size = data[pos:pos + 16].decode().strip(), int(data[pos + 48:pos + 58])
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(data[pos + 60:pos + 60 + size])).extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
PY
    fi
  done
  export LD_LIBRARY_PATH="$PWD/sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
exec ./node train-gpu.mjs "$@"
EOF
chmod +x "$kit/run.sh"
XZ_OPT=-T0 tar -C "$out" -cJf "$out/kit.tar.xz" kit
ls -la "$out/kit.tar.xz"
