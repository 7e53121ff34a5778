#!/usr/bin/env bash
# Provides envtest assets (etcd, kube-apiserver, kube-controller-manager) and
# prints the directory holding them as the ONLY line on stdout.
#
#  * If $KUBEBUILDER_ASSETS is set and holds the three binaries, prints it.
#  * Else fills ${ENVTEST_CACHE:-/var/cache/rollback-receiver/envtest/v1.20.2-reflect2}
#    from Debian alone: etcd from the etcd-server package, kube-apiserver and
#    kube-controller-manager built from Debian's `kubernetes` source package
#    (v1.20.2) with Debian's golang-go. First run: ~5-10 min; cached: instant.
#
# Needs root (apt-get) on the first run. Idempotent; concurrent runs are
# serialised with flock. Progress goes to stderr.
set -euo pipefail

BINARIES=(etcd kube-apiserver kube-controller-manager)
# -reflect2: built with reflect2 1.0.2 (see below); a cache from before that crashes on custom resources.
CACHE="${ENVTEST_CACHE:-/var/cache/rollback-receiver/envtest/v1.20.2-reflect2}"
BUILD_ROOT="${ENVTEST_BUILD_DIR:-/var/cache/rollback-receiver/build}"
K8S_SRC_PKG="kubernetes"
K8S_WANT_VERSION="1.20.2"

log() { printf '[envtest-assets] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

complete() { # complete DIR -> 0 when DIR holds all binaries, executable
  local d="$1" b
  [[ -n "$d" && -d "$d" ]] || return 1
  for b in "${BINARIES[@]}"; do [[ -x "$d/$b" && -s "$d/$b" ]] || return 1; done
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  if complete "$KUBEBUILDER_ASSETS"; then echo "$KUBEBUILDER_ASSETS"; exit 0; fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks ${BINARIES[*]}; using cache $CACHE"
fi
if complete "$CACHE"; then echo "$CACHE"; exit 0; fi

[[ "$(id -u)" == 0 ]] || die "assets missing in $CACHE and not root: run 'sudo bash $0' once"

mkdir -p "$CACHE" "$BUILD_ROOT"
exec 9>"$CACHE/.lock"
log "waiting for lock $CACHE/.lock"
flock 9
# Someone else may have finished while we waited.
if complete "$CACHE"; then echo "$CACHE"; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt_updated=0
apt_update() { ((apt_updated)) && return 0; log "apt-get update"; apt-get -q update >&2; apt_updated=1; }

# Keep package postinst scripts from starting services (etcd-server ships one).
POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if ((created_policy)); then rm -f "$POLICY"; fi
  rm -f "$CACHE"/.tmp-* 2>/dev/null || true
}
trap cleanup EXIT
if [[ ! -e "$POLICY" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"; chmod 755 "$POLICY"; created_policy=1
fi

install_file() { # install_file SRC NAME : atomic copy into the cache
  install -m 0755 "$1" "$CACHE/.tmp-$2"
  mv -f "$CACHE/.tmp-$2" "$CACHE/$2"
  log "installed $CACHE/$2"
}

# ---------------------------------------------------------------- etcd
if [[ ! -x "$CACHE/etcd" ]]; then
  if [[ ! -x /usr/bin/etcd ]]; then
    apt_update
    log "apt-get install etcd-server"
    apt-get install "${APT_OPTS[@]}" --no-install-recommends etcd-server >&2
  fi
  # The package's service must not stay running/enabled; we start our own etcd.
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now etcd >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/etcd ]]; then
    /etc/init.d/etcd stop >/dev/null 2>&1 || true
  fi
  [[ -x /usr/bin/etcd ]] || die "/usr/bin/etcd missing after installing etcd-server"
  install_file /usr/bin/etcd etcd
fi

# ------------------------------------------- kube-apiserver / controller-manager
if [[ ! -x "$CACHE/kube-apiserver" || ! -x "$CACHE/kube-controller-manager" ]]; then
  # deb-src entries mirroring the existing Debian (deb) sources.
  SRC_LIST=/etc/apt/sources.list.d/rollback-receiver-deb-src.sources
  if [[ ! -s "$SRC_LIST" ]]; then
    tmp_list="$(mktemp)"
    # deb822 .sources files: copy Debian stanzas, with Types: deb-src.
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -e "$f" && "$f" != "$SRC_LIST" ]] || continue
      awk -v RS='' -v ORS='\n\n' '
        /(^|\n)URIs:[^\n]*debian/ && /(^|\n)Types:[^\n]*deb/ && !/(^|\n)Enabled:[ \t]*no/ {
          sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print
        }' "$f" >>"$tmp_list"
    done
    # one-line format: deb [opts] URI suite comps...
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -e "$f" ]] || continue
      grep -E '^[[:space:]]*deb[[:space:]].*debian' "$f" |
        sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' >"$tmp_list.one" || true
      if [[ -s "$tmp_list.one" ]]; then
        { echo "# from $f"; cat "$tmp_list.one"; } >>"${SRC_LIST%.sources}.list.tmp"
      fi
      rm -f "$tmp_list.one"
    done
    if [[ -s "${SRC_LIST%.sources}.list.tmp" ]]; then
      mv -f "${SRC_LIST%.sources}.list.tmp" "${SRC_LIST%.sources}.list"
    fi
    if [[ -s "$tmp_list" ]]; then
      install -m 0644 "$tmp_list" "$SRC_LIST"
    elif [[ ! -s "${SRC_LIST%.sources}.list" ]]; then
      rm -f "$tmp_list"; die "no Debian apt sources found to derive deb-src entries from"
    fi
    rm -f "$tmp_list"
    log "added deb-src entries: $(ls "$SRC_LIST" "${SRC_LIST%.sources}.list" 2>/dev/null | tr '\n' ' ')"
    apt_updated=0
  fi
  apt_update

  need=()
  for p in golang-go rsync dpkg-dev make; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
  done
  if ((${#need[@]})); then
    log "apt-get install ${need[*]}"
    apt-get install "${APT_OPTS[@]}" --no-install-recommends "${need[@]}" >&2
  fi

  # Fetch + unpack the source package (reused if a previous run got that far).
  srcdir="$(find "$BUILD_ROOT" -mindepth 1 -maxdepth 1 -type d -name "${K8S_SRC_PKG}-*" | sort | tail -n1)"
  if [[ -z "$srcdir" || ! -f "$srcdir/.unpacked-ok" ]]; then
    rm -rf "$BUILD_ROOT"/src.tmp
    mkdir -p "$BUILD_ROOT/src.tmp"
    log "apt-get source $K8S_SRC_PKG (into $BUILD_ROOT)"
    (cd "$BUILD_ROOT/src.tmp" && apt-get -q source "$K8S_SRC_PKG" >&2)
    srcdir_tmp="$(find "$BUILD_ROOT/src.tmp" -mindepth 1 -maxdepth 1 -type d -name "${K8S_SRC_PKG}-*" | head -n1)"
    [[ -n "$srcdir_tmp" ]] || die "apt-get source produced no ${K8S_SRC_PKG}-* directory"
    rm -rf "$BUILD_ROOT/$(basename "$srcdir_tmp")"
    mv "$srcdir_tmp" "$BUILD_ROOT/"
    rm -rf "$BUILD_ROOT/src.tmp"
    srcdir="$BUILD_ROOT/$(basename "$srcdir_tmp")"
    touch "$srcdir/.unpacked-ok"
  fi
  log "source tree: $srcdir"
  grep -q "$K8S_WANT_VERSION" "$srcdir/debian/changelog" 2>/dev/null ||
    log "WARNING: $srcdir/debian/changelog does not mention $K8S_WANT_VERSION"

  # Kubernetes 1.20 vendors modern-go/reflect2 1.0.1, which corrupts memory under Go >= 1.18
  # (json-iterator's map encoding): kube-apiserver dies with "fatal error: fault" on the first
  # custom-resource request. Debian's reflect2 1.0.2 is the fixed release: build with it.
  REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
  if [[ ! -f "$REFLECT2/go_above_118.go" ]]; then
    apt_update
    log "apt-get install golang-github-modern-go-reflect2-dev"
    apt-get install "${APT_OPTS[@]}" --no-install-recommends golang-github-modern-go-reflect2-dev >&2
  fi
  rm -rf "$srcdir/vendor/github.com/modern-go/reflect2"
  mkdir -p "$srcdir/vendor/github.com/modern-go/reflect2"
  cp "$REFLECT2"/*.go "$REFLECT2"/*.s "$srcdir/vendor/github.com/modern-go/reflect2/" 2>/dev/null || cp "$REFLECT2"/*.go "$srcdir/vendor/github.com/modern-go/reflect2/"
  rm -f "$srcdir"/vendor/github.com/modern-go/reflect2/*_test.go
  log "vendored modern-go/reflect2 replaced by Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)"

  # GOPATH-mode build, the way debian/rules does it.
  cd "$srcdir"
  mkdir -p .go/src/k8s.io
  ln -sfn "$srcdir" .go/src/k8s.io/kubernetes
  export GOPATH="$srcdir/.go"
  export GO111MODULE=off
  export CGO_ENABLED=0
  export GOFLAGS=""
  export GOCACHE="$BUILD_ROOT/go-build-cache"
  export GOPROXY=off
  export KUBE_GIT_TREE_STATE=clean
  export KUBE_GIT_VERSION="v${K8S_WANT_VERSION}"
  export KUBE_GIT_MAJOR=1 KUBE_GIT_MINOR=20
  export KUBE_VERBOSE="${KUBE_VERBOSE:-1}"
  log "go: $(go version)"
  log "building kube-apiserver + kube-controller-manager (about 4-8 minutes on 2 cores)"
  start=$SECONDS
  (cd .go/src/k8s.io/kubernetes && make WHAT="cmd/kube-apiserver cmd/kube-controller-manager") >&2
  log "build took $((SECONDS - start))s"
  for b in kube-apiserver kube-controller-manager; do
    bin="$(find "$srcdir/_output" -type f -name "$b" -perm -u+x | head -n1)"
    [[ -n "$bin" ]] || die "build produced no $b under $srcdir/_output"
    install_file "$bin" "$b"
  done
  cd /
  if [[ -z "${ENVTEST_KEEP_BUILD:-}" ]]; then
    log "removing build tree $srcdir (set ENVTEST_KEEP_BUILD=1 to keep it)"
    rm -rf "$srcdir" "$GOCACHE" "$BUILD_ROOT"/kubernetes_*
  fi
fi

complete "$CACHE" || die "cache $CACHE incomplete after build"
"$CACHE/kube-apiserver" --version >&2 || true
echo "$CACHE"
