/**
 * Helm 3's release storage encoding (pkg/storage/driver: secrets.go, util.go): a release
 * lives in Secret `sh.helm.release.v1.<release>.v<revision>` of type `helm.sh/release.v1`;
 * its `release` key holds base64(gzip(release JSON)), which the Secret base64-encodes
 * once more. Releases stored before Helm compressed them are plain base64(JSON): Helm
 * tells the two apart by the gzip magic bytes, and so does this codec.
 */
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import { z } from 'zod';
import type { HelmRelease } from './release.js';

export const RELEASE_SECRET_TYPE = 'helm.sh/release.v1';
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

/** What decoding requires of the JSON; every other field is kept as it was. */
const releaseShape = z.looseObject({
  name: z.string().min(1),
  version: z.number().int().positive(),
  namespace: z.string().optional(),
  info: z.looseObject({ status: z.string().optional(), description: z.string().optional() }).optional(),
  manifest: z.string().optional(),
});

export function releaseSecretName(release: string, version: number): string {
  return `sh.helm.release.v1.${release}.v${version}`;
}

/** Helm's encodeRelease: base64 of the gzipped JSON (best compression, as Helm). */
export function encodeRelease(release: HelmRelease): string {
  return gzipSync(Buffer.from(JSON.stringify(release)), { level: constants.Z_BEST_COMPRESSION }).toString('base64');
}

/** Helm's decodeRelease: base64, gunzip when the gzip magic bytes lead, JSON. */
export function decodeRelease(encoded: string): HelmRelease {
  const raw = Buffer.from(encoded, 'base64');
  const gzipped = raw.length > 3 && raw.subarray(0, 3).equals(GZIP_MAGIC);
  const bytes = gzipped ? gunzipSync(raw) : raw;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    // Not the parser's message: it quotes the text, and a release holds the user's values.
    throw new Error(`release data is not JSON after base64${gzipped ? ' and gzip' : ''}`);
  }
  const parsed = releaseShape.safeParse(json);
  if (!parsed.success) {
    throw new Error(`release data is not a Helm release: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as HelmRelease;
}

/** The Secret's `data.release` as the API carries it (the encoded release, base64-encoded by the Secret). */
export function secretDataValue(release: HelmRelease): string {
  return Buffer.from(encodeRelease(release)).toString('base64');
}

/** Decodes a Secret's `data.release` as the API returns it. */
export function releaseFromSecretData(value: string): HelmRelease {
  return decodeRelease(Buffer.from(value, 'base64').toString('latin1'));
}

/** The release Secret Helm's driver writes (newSecretsObject): custom labels first, then the system ones. */
export function releaseSecret(release: HelmRelease, labels: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: releaseSecretName(release.name, release.version),
      namespace: release.namespace,
      labels: { ...labels, name: release.name, owner: 'helm', status: release.info?.status ?? 'unknown', version: String(release.version) },
    },
    type: RELEASE_SECRET_TYPE,
    data: { release: secretDataValue(release) },
  };
}
