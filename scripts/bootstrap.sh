#!/usr/bin/env bash
# Everything the tests run for real, installed or built once: `npm test` runs this first.
# Idempotent, and a quick check when all is there. On Debian as root it installs what is
# missing (Debian packages only: the npm registry and Debian's mirrors are all a CI
# machine can reach); as another user it names what is missing and the one command that
# installs it, and fails.
#
#   envtest binaries          etcd, kube-apiserver, kube-controller-manager (scripts/envtest/assets.sh:
#                             built from Debian's kubernetes source once, then cached)
#   prometheus, prometheus-alertmanager
#                             Prometheus, promtool and Alertmanager, run by the monitoring,
#                             alert-rule and end-to-end tests
#   golang-go + sprig, sigs.k8s.io/yaml, gojsonschema
#                             the Helm chart tests' stand-in for Helm's template engine
#   chromium                  the status page test's headless browser (driven by playwright-core)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  prometheus prometheus-alertmanager
  golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev golang-github-xeipuuv-gojsonschema-dev
  chromium
)
# Packages whose postinst starts a service; the tests start their own on random ports,
# and a stray Prometheus on :9090 would answer at the product's default URL.
SERVICES=(prometheus prometheus-alertmanager)

log() { printf '[bootstrap] %s\n' "$*" >&2; }

missing_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx 'install ok installed' || echo "$p"
  done
}

mapfile -t missing < <(missing_packages)

if [[ "$(id -u)" != 0 ]]; then
  # assets.sh answers at once when the binaries are cached, and refuses to build as non-root.
  bash scripts/envtest/assets.sh >/dev/null 2>&1 || missing+=("envtest binaries (etcd, kube-apiserver, kube-controller-manager)")
  if ((${#missing[@]})); then
    log "the tests need what is not installed yet: ${missing[*]}"
    log "install it once, as root:  sudo bash scripts/bootstrap.sh"
    exit 1
  fi
  exit 0
fi

log "envtest binaries"
bash scripts/envtest/assets.sh >/dev/null

if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  policy_added=
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_added=1
  fi
  trap '[[ -z "$policy_added" ]] || rm -f /usr/sbin/policy-rc.d' EXIT
  # Wait for another apt/dpkg run (a parallel bootstrap, unattended upgrades) instead of failing.
  apt=(apt-get -o DPkg::Lock::Timeout=900)
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for svc in "${SERVICES[@]}"; do
  (service "$svc" stop || true) >/dev/null 2>&1
done
log "ready"
