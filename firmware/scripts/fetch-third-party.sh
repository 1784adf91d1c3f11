#!/usr/bin/env bash
# Fetch the firmware's third-party C sources into firmware/third_party/ (git-ignored),
# each pinned by sha256. Idempotent: a verified download is not fetched again.
#   wasm3   from PyPI's pywasm3 sdist (it carries wasm3's C sources), plus our patches/
#   wolfSSL from Debian's source package (with Debian's patches applied by dpkg-source)
set -euo pipefail
fw=$(cd "$(dirname "$0")/.." && pwd)
tp="$fw/third_party"
dl="$tp/downloads"
mkdir -p "$dl"
exec 9>"$tp/.fetch.lock"
flock 9  # parallel builds (pytest -n) fetch once, the others wait for it

WASM3_SDIST=pywasm3-0.5.0.tar.gz
WASM3_SHA256=5a47c8a39f7f6ae71b3316b2e5d86c9d0db6e771a65f09a86e4d4aa3a19aefcc
WOLFSSL_VERSION=5.5.4-2+deb12u3
WOLFSSL_ORIG=wolfssl_5.5.4.orig.tar.gz
WOLFSSL_ORIG_SHA256=b7ee150e49def77c765bc02aac92ddeb0bebefd4cb12aa263d8f95e405221fb8
WOLFSSL_DEBIAN=wolfssl_${WOLFSSL_VERSION}.debian.tar.xz
WOLFSSL_DEBIAN_SHA256=79565eb855d557eb062cb88b033b6fe96e2a6e598236021b81b9840bef5ab6f4
WOLFSSL_DSC=wolfssl_${WOLFSSL_VERSION}.dsc
WOLFSSL_DSC_SHA256=41cc3bce69a14214cc16f03f87e1292d8a2f95c03bbf94f49ca36b010989a81a

verify() {  # file sha256
  echo "$2  $1" | sha256sum --check --status || {
    echo "fetch: $1 does not match its pinned sha256 ($2); delete it and retry" >&2
    exit 3
  }
}

python=${PYTHON:-python3}
if [ ! -d "$tp/wasm3" ]; then
  [ -f "$dl/$WASM3_SDIST" ] || "$python" -m pip download --quiet --no-deps \
    --no-binary :all: "pywasm3==0.5.0" -d "$dl"
  verify "$dl/$WASM3_SDIST" "$WASM3_SHA256"
  rm -rf "$tp/wasm3.tmp" && mkdir -p "$tp/wasm3.tmp"
  tar -xzf "$dl/$WASM3_SDIST" -C "$tp/wasm3.tmp" pywasm3-0.5.0/wasm3
  for p in "$fw"/patches/wasm3-*.patch; do  # our patches, applied on top
    patch --quiet -p1 -d "$tp/wasm3.tmp/pywasm3-0.5.0/wasm3" < "$p"
  done
  mv "$tp/wasm3.tmp/pywasm3-0.5.0/wasm3" "$tp/wasm3" && rm -rf "$tp/wasm3.tmp"
  echo "fetch: wasm3 sources from $WASM3_SDIST (with patches/wasm3-*.patch)"
fi

if [ ! -d "$tp/wolfssl" ]; then
  if [ ! -f "$dl/$WOLFSSL_DSC" ]; then
    apt_dir="$dl/apt"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    cat > "$apt_dir/sources.list" <<SRC
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
SRC
    apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")
    apt-get "${apt_opts[@]}" -qq update
    (cd "$dl" && apt-get "${apt_opts[@]}" -qq source --download-only "wolfssl=$WOLFSSL_VERSION")
  fi
  verify "$dl/$WOLFSSL_ORIG" "$WOLFSSL_ORIG_SHA256"
  verify "$dl/$WOLFSSL_DEBIAN" "$WOLFSSL_DEBIAN_SHA256"
  verify "$dl/$WOLFSSL_DSC" "$WOLFSSL_DSC_SHA256"
  command -v dpkg-source >/dev/null || { echo "fetch: needs dpkg-source (apt-get install dpkg-dev)" >&2; exit 2; }
  rm -rf "$tp/wolfssl"
  (cd "$dl" && dpkg-source --no-check -x "$WOLFSSL_DSC" "$tp/wolfssl" >/dev/null)
  rm -f "$tp"/wolfssl_*.orig.tar.gz  # dpkg-source leaves a link beside the tree
  echo "fetch: wolfSSL $WOLFSSL_VERSION (Debian source, patches applied)"
fi
