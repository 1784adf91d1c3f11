#!/usr/bin/env bash
# Builds etcd and kube-apiserver from the pinned wrapper modules into a cache keyed by version,
# so `--cluster local` has a real control plane without Docker or a distro package.
# Skipped when the cache already holds both binaries. Prints where they are.
#
#   tools/k8s/build.sh            # build what is missing
#   tools/k8s/build.sh --print    # only print the cache directory
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${WASMBED_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmbed/k8s}"

version_of() {  # the pinned upstream version in a wrapper's go.mod
    awk -v mod="$2" '$1 == mod && $2 ~ /^v/ {print $2; exit} $1 == "require" && $2 == mod {print $3; exit}' "$here/$1/go.mod"
}
apiserver_version="$(version_of kube-apiserver k8s.io/kubernetes)"
etcd_version="$(version_of etcd go.etcd.io/etcd/server/v3)"

if [[ "${1:-}" == "--print" ]]; then
    echo "$cache/etcd-$etcd_version/etcd"
    echo "$cache/kube-apiserver-$apiserver_version/kube-apiserver"
    exit 0
fi

if ! command -v kubectl >/dev/null; then  # the scenarios check status with the ordinary tool
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "k8s: installing kubectl (Debian package kubernetes-client)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            kubernetes-client >/dev/null
    else
        echo "k8s: kubectl missing; install it (Debian: apt-get install kubernetes-client)" >&2
    fi
fi

command -v go >/dev/null || { echo "build.sh: Go is not installed; install Go 1.25+ (https://go.dev/dl) or use --cluster kubeconfig with an existing cluster" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9

build() {  # build <wrapper dir> <binary name> <version> [extra ldflags]
    local out="$cache/$2-$3/$2"
    if [[ -x "$out" ]]; then
        echo "k8s: $2 $3 cached at $out"
        return
    fi
    echo "k8s: building $2 $3 (cold build takes minutes; cached afterwards in $cache)"
    local started=$SECONDS
    mkdir -p "$(dirname "$out")"
    (cd "$here/$1" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w ${4:-}" -o "$out.tmp" .)
    mv "$out.tmp" "$out"
    echo "k8s: built $2 $3 in $((SECONDS - started)) s -> $out"
}

build etcd etcd "$etcd_version"
# The API server derives its compatibility version from these; unset it says v0.0.0-master.
minor="${apiserver_version#v1.}"; minor="${minor%%.*}"
version_pkg=k8s.io/component-base/version
build kube-apiserver kube-apiserver "$apiserver_version" \
    "-X $version_pkg.gitVersion=$apiserver_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean"
