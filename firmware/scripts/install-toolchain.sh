#!/usr/bin/env bash
# Install what the tests need from Debian's packages when any is missing: the firmware
# toolchain, the emulator, the fault tools (faketime), the compile sandbox (bubblewrap), the
# lab tools (gdb-multiarch, ser2net), NGINX (the gateway benchmark's peer) and OpenSSL's
# headers (its load generator), and for the report and browser tests Chromium and a
# Java runtime (the Allure command line runs on Java).
# Without root (or apt) it only says what to install; board scenarios then skip.
set -euo pipefail
need=()
command -v arm-none-eabi-gcc >/dev/null || need+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
[ -e /usr/lib/arm-none-eabi/newlib/thumb/v7e-m/nofp/libc_nano.a ] || need+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
command -v make >/dev/null || need+=(make)
command -v clang >/dev/null || need+=(clang)
command -v wasm-ld >/dev/null || need+=(lld)
# libFuzzer's runtime for the C fuzz targets (./run fuzz; firmware/tests/test_fuzzing.py)
if command -v clang >/dev/null; then
  [ -e "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a" ] || need+=(libclang-rt-dev)
else
  need+=(libclang-rt-dev)
fi
command -v faketime >/dev/null || need+=(faketime)  # clock-skew fault scenarios
# Rust apps: Debian's rustc and its wasm32 standard library (the compile service, hello_rust)
[ -x /usr/bin/rustc ] || need+=(rustc)
[ -d /usr/lib/rustlib/wasm32-unknown-unknown ] || need+=(libstd-rust-dev-wasm32)
command -v bwrap >/dev/null || need+=(bubblewrap)    # the compile sandbox
# lab boards (scenarios/lab): gdb flashes over a probe's GDB server, ser2net serves rfc2217
command -v gdb-multiarch >/dev/null || need+=(gdb-multiarch)
command -v ser2net >/dev/null || need+=(ser2net)
# the gateway benchmark's handshake peer (harness/nginx_peer.py)
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=(nginx libnginx-mod-stream)
# the gateway benchmark's load generator (firmware/loadgen) links the system's OpenSSL
[ -e /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
[ -x /usr/bin/chromium ] || need+=(chromium)          # report (and dashboard) browser tests
command -v java >/dev/null || need+=(default-jre-headless)  # the Allure command line
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "firmware toolchain missing; install: apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 0
fi
echo "installing the firmware toolchain: ${need[*]} (about 1 GB, once)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
