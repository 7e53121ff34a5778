/** Kubernetes object-name rules, checked before any label value reaches an API path. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Namespaces are RFC 1123 labels: at most 63 characters. */
export function namespaceProblem(ns: string): string | undefined {
  if (ns.length === 0) return 'namespace is empty';
  if (ns.length > 63) return `namespace "${truncate(ns)}" is longer than 63 characters`;
  if (!DNS_LABEL.test(ns)) return `namespace "${truncate(ns)}" is not a valid RFC 1123 label`;
  return undefined;
}

/** Workload names are RFC 1123 subdomains: at most 253 characters. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'name is empty';
  if (name.length > 253) return `name "${truncate(name)}" is longer than 253 characters`;
  if (!DNS_SUBDOMAIN.test(name)) return `name "${truncate(name)}" is not a valid Kubernetes object name (RFC 1123 subdomain)`;
  return undefined;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
