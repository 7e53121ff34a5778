/**
 * Alertmanager sends each alert's fingerprint; senders that do not get the same value
 * Prometheus computes (model.LabelSet.Fingerprint: FNV-1a 64 over sorted name, 0xff,
 * value, 0xff), so dedup keys agree with Alertmanager's UI.
 */
const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return OFFSET.toString(16).padStart(16, '0');
  let hash = OFFSET;
  const add = (byte: number): void => {
    hash ^= BigInt(byte);
    hash = (hash * PRIME) & MASK;
  };
  const encoder = new TextEncoder();
  for (const name of names) {
    for (const b of encoder.encode(name)) add(b);
    add(SEPARATOR);
    for (const b of encoder.encode(labels[name])) add(b);
    add(SEPARATOR);
  }
  return hash.toString(16).padStart(16, '0');
}
