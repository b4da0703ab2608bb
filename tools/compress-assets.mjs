// Pre-compress a built web app: FILE.br (brotli, quality 11) and FILE.gz (gzip -9) beside
// every text file of the directory, as nginx's gzip_static/brotli_static expect; the
// server sends them as they are (src/raasel/api/web_assets.py). Node's own zlib: no
// dependency. A copy that saves less than 5% is not written (the server then sends the
// file itself).
//
//   node tools/compress-assets.mjs web/dist
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = /\.(html|js|mjs|css|svg|json|webmanifest|txt|map|xml|ico|wasm)$/;
const MIN_SAVING = 0.05;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

const root = process.argv[2];
if (!root) {
  console.error("usage: node tools/compress-assets.mjs DIR");
  process.exit(2);
}
let before = 0;
let after = 0;
const all = [...files(root)];
const isCopy = (path) => path.endsWith(".br") || path.endsWith(".gz");
for (const path of all.filter(isCopy)) rmSync(path); // copies of an earlier build
for (const path of all.filter((p) => !isCopy(p))) {
  if (!COMPRESSIBLE.test(path)) continue;
  const raw = readFileSync(path);
  const copies = {
    br: brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    }),
    gz: gzipSync(raw, { level: 9 }),
  };
  before += raw.length;
  for (const [suffix, data] of Object.entries(copies)) {
    if (data.length <= raw.length * (1 - MIN_SAVING)) {
      writeFileSync(`${path}.${suffix}`, data);
      if (suffix === "br") after += data.length;
    } else if (suffix === "br") {
      after += raw.length;
    }
  }
}
console.log(`compressed ${root}: ${before} bytes of text, ${after} as brotli`);
