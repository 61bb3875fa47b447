#!/usr/bin/env bash
# Shared by the edge scripts (check-embedded, build-c-lib, test-c, mcu-run): toolchain paths, apt installs, the runtime's sources.
# Sourced, not run: it only defines variables and functions.
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
set -euo pipefail

edge_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The Swift toolchain that compiles the runtime also provides clang, llvm-ar and the Embedded stdlib; all from one root.
swift_toolchain="$(cd "$(dirname "$(readlink -f "$(command -v swiftc)")")/.." && pwd)"
swift_clang="$swift_toolchain/bin/clang"
swift_llvm_ar="$swift_toolchain/bin/llvm-ar"
embedded_lib="$swift_toolchain/lib/swift/embedded"
kernel_dir="$edge_root/Sources/_MNISTQInt8Kernels"
runtime_dir="$edge_root/Sources/MNISTQRuntime"
preprocess_dir="$edge_root/Sources/MNISTQPreprocess"

# Every Swift file of the runtime, recursively (new subfolders are picked up), in a stable order.
runtime_swift_sources() {
  find "$runtime_dir" -name '*.swift' | LC_ALL=C sort
}

# Every Swift file of the preprocessing core (MNISTQPreprocess: no imports; the browser build preprocesses with it).
preprocess_swift_sources() {
  find "$preprocess_dir" -name '*.swift' | LC_ALL=C sort
}

# Every C file of the kernel target.
kernel_c_sources() {
  find "$kernel_dir" -name '*.c' | LC_ALL=C sort
}

# Installs the Debian packages given when their dpkg status says they are missing; apt-get update runs once per call.
edge_apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Writes DIR/module.modulemap for _MNISTQInt8Kernels the way SwiftPM does for a C target: an umbrella header when
# include/ has one named after the module, else the include folder as an umbrella directory. It points at the real
# headers, so Embedded builds see exactly what `swift build` sees.
write_kernel_modulemap() {
  local dir="$1" include="$kernel_dir/include"
  mkdir -p "$dir"
  if [ -f "$include/_MNISTQInt8Kernels.h" ]; then
    printf 'module _MNISTQInt8Kernels {\n    umbrella header "%s"\n    export *\n}\n' "$include/_MNISTQInt8Kernels.h" >"$dir/module.modulemap"
  else
    printf 'module _MNISTQInt8Kernels {\n    umbrella "%s"\n    export *\n}\n' "$include" >"$dir/module.modulemap"
  fi
}

# The Swift compile of the runtime in Embedded mode: swiftc flags common to every target (EMBEDDED-NOTES §1); each
# script adds its optimisation level (-Osize for microcontrollers, -O for the host library).
embedded_swift_flags=(-enable-experimental-feature Embedded -swift-version 6 -wmo -parse-as-library -package-name mnistq -module-name MNISTQRuntime)

# Path of the native `mnistq` CLI, the reference every edge build is compared with: $MNISTQ_BIN when set (tools/test
# passes the one it just built), else a release build in .build-edge (build log on stderr).
edge_mnistq_binary() {
  if [ -n "${MNISTQ_BIN:-}" ]; then
    [ -x "$MNISTQ_BIN" ] || { echo "MNISTQ_BIN=$MNISTQ_BIN is not an executable" >&2; return 1; }
    echo "$MNISTQ_BIN"
    return 0
  fi
  # The flags of README's release build; -target-cpu native only changes speed, never a score.
  local flags=(-c release -Xswiftc -target-cpu -Xswiftc native --scratch-path "$edge_root/.build-edge")
  (cd "$edge_root" && swift build "${flags[@]}" --product mnistq >&2)
  echo "$(cd "$edge_root" && swift build "${flags[@]}" --show-bin-path)/mnistq"
}

# The native runtime's results for FILE (raw or IDX, no preprocessing, one job), one line per image in the C sample's
# format: `name digit s0 … s9`, then the out-of-distribution score when the model has one. Rows that are not "ok" or
# "unsure" (errors) are dropped, so a count check catches them.
#   native_score_lines MNISTQ MODEL FILE
native_score_lines() {
  "$1" classify "$3" --model "$2" --no-preprocess --format json --jobs 1 --no-progress 2>/dev/null |
    awk '/"status":"(ok|unsure)"/ {
      match($0, /"path":"[^"]*"/); path = substr($0, RSTART + 8, RLENGTH - 9)
      match($0, /"digit":-?[0-9]+/); digit = substr($0, RSTART + 8, RLENGTH - 8)
      match($0, /"scores":\[[^]]*\]/); scores = substr($0, RSTART + 10, RLENGTH - 11); gsub(/,/, " ", scores)
      ood = ""
      if (match($0, /"ood_score":-?[0-9]+/)) ood = " " substr($0, RSTART + 12, RLENGTH - 12)
      print path, digit, scores ood }'
}
