#!/usr/bin/env bash
# Formats tulip's C++ sources with clang-format 16 and the repository's
# .clang-format, or checks them (CI runs the check as the CTest docs.format).
# Usage: scripts/format.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
fmt="${CLANG_FORMAT:-clang-format-16}"
if ! command -v "$fmt" >/dev/null; then
  echo "format.sh: $fmt not found (scripts/deps.sh installs clang-format-16)" >&2
  exit 2
fi
# The tracked sources in a checkout; every source below the layers' folders otherwise.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- '*.hpp' '*.cpp' '*.h' '*.cc')
else
  mapfile -t files < <(find include src tests examples bench \( -name '*.hpp' -o -name '*.cpp' \) -print | sort)
fi
if [ "${1:-}" = --check ]; then
  # --dry-run -Werror prints each place that differs and fails.
  "$fmt" --dry-run -Werror "${files[@]}"
  echo "format.sh: ${#files[@]} files formatted as .clang-format says"
else
  "$fmt" -i "${files[@]}"
fi
