#!/usr/bin/env bash
# Packs bench/gpu-kit/kit.tar.xz: what the train-step benchmark (bench/train-gpu.mjs) and pretraining
# (scripts/pretrain.ts --ep webgpu) need on a Linux x86-64 machine with an NVIDIA GPU and no Node, browser or
# network (the situation gpu.md describes): a stripped node binary, the three scripts (also bench/sample-gpu.mjs) bundled with the TypeScript they
# import, the webgpu (Dawn) and onnxruntime-web files they load, and the Vulkan/GL loader .debs Dawn needs.
#   bash bench/gpu-kit.sh              benchmark and pretraining code
#   bash bench/gpu-kit.sh --with-data  also data/emoji64 (built by `npm run dataset`) and models/builtin
# On the GPU machine:
#   tar xJf kit.tar.xz -C /tmp    (or: python3 -c "import tarfile; tarfile.open('kit.tar.xz').extractall('/tmp')")
#   /tmp/kit/run.sh train-gpu.mjs --networks=reference,unet --steps=20
#   /tmp/kit/run.sh pretrain.mjs --stage unet --ep webgpu --batch 512 --minutes 10   (with --with-data)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/gpu-kit
kit="$out/kit"
rm -rf "$kit" "$out/kit.tar.xz"
mkdir -p "$kit/debs"

# One shared chunk for the three entry points' common code. onnxruntime-node stays out: without it the tools
# fall back to the wasm EP for CPU work. The banner gives bundled CommonJS packages (commander, …) their require.
npx esbuild bench/train-gpu.mjs bench/sample-gpu.mjs scripts/pretrain.ts --bundle --splitting --platform=node --format=esm \
  --target=node20 --external:webgpu --external:onnxruntime-web --external:onnxruntime-node --out-extension:.js=.mjs \
  --banner:js="import { createRequire as __kitRequire } from 'node:module'; const require = __kitRequire(import.meta.url);" \
  --entry-names=[name] --log-level=warning --outdir="$kit"
# Debian's node carries debug info: stripped it is ~86 MB instead of ~99 MB (~22 MB in the tarball).
strip -o "$kit/node" "$(command -v node)" 2>/dev/null || cp "$(command -v node)" "$kit/node"

copy() { mkdir -p "$kit/node_modules/$(dirname "$1")" && cp -r "node_modules/$1" "$kit/node_modules/$1"; }
for f in webgpu/package.json webgpu/index.js webgpu/dist/linux-x64/dawn.node \
  onnxruntime-web/package.json onnxruntime-web/dist/ort.bundle.min.mjs \
  onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.mjs onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm \
  onnxruntime-web/dist/ort.node.min.mjs onnxruntime-web/dist/ort-wasm-simd-threaded.mjs \
  onnxruntime-web/dist/ort-wasm-simd-threaded.wasm onnxruntime-common/package.json onnxruntime-common/dist/esm; do
  copy "$f"
done

if [[ "${1:-}" == --with-data ]]; then
  mkdir -p "$kit/data/emoji64" "$kit/models"
  cp data/emoji64/manifest.json data/emoji64/images.u8 data/emoji64/ATTRIBUTION.md "$kit/data/emoji64/"
  cp -r models/builtin "$kit/models/" && rm -f "$kit/models/builtin/samples.png"
fi

(cd "$kit/debs" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)

cat > "$kit/run.sh" <<'EOF'
#!/usr/bin/env bash
# Runs one of the kit's scripts (train-gpu.mjs, sample-gpu.mjs, pretrain.mjs) on this machine's GPU through Dawn.
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
exec ./node "$@"
EOF
chmod +x "$kit/run.sh"
XZ_OPT="-9 -T0" tar -C "$out" -cJf "$out/kit.tar.xz" kit
ls -la "$out/kit.tar.xz"
