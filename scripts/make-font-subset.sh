#!/usr/bin/env bash
# Make assets/fonts/NotoSansSC-Regular-GB2312.otf: Noto Sans CJK SC Regular (Debian's fonts-noto-cjk) cut down to
# ASCII, Latin-1, CJK symbols and punctuation (U+3000-303F), halfwidth/fullwidth forms (U+FF00-FFEF) and every character
# of GB2312 (all 6763 hanzi plus its symbols, kana, Greek, Cyrillic, box drawing), so the window can show Chinese labels
# and received GBK/GB2312 text without depending on system fonts.
# Needs: fonts-noto-cjk (apt-get install fonts-noto-cjk) and fonttools (pip install fonttools).
# Usage: scripts/make-font-subset.sh [SOURCE.ttc] [OUTPUT.otf]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc}
out=${2:-$root/assets/fonts/NotoSansSC-Regular-GB2312.otf}
face=NotoSansCJKsc-Regular   # PostScript name of the Simplified Chinese face inside the collection

[ -f "$src" ] || { echo "make-font-subset: $src not found (apt-get install fonts-noto-cjk)" >&2; exit 1; }
python3 -c 'import fontTools' 2>/dev/null || { echo "make-font-subset: needs fonttools (pip install fonttools)" >&2; exit 1; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Which face of the .ttc is Simplified Chinese? (Debian's 2022 build: index 2; look it up rather than trust that.)
if [[ $src == *.ttc ]]; then
  number=$(python3 - "$src" "$face" <<'PY'
import sys
from fontTools.ttLib import TTCollection
for i, f in enumerate(TTCollection(sys.argv[1], lazy=True).fonts):
    if f["name"].getDebugName(6) == sys.argv[2]:
        print(i); break
else:
    sys.exit(f"no face named {sys.argv[2]} in {sys.argv[1]}")
PY
)
else
  number=0
fi

# The character list: every valid GB2312 two-byte code (rows 0xA1-0xF7, cells 0xA1-0xFE).
python3 - >"$tmp/gb2312.txt" <<'PY'
chars = []
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.append(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
print("".join(chars))
import sys
hanzi = sum(0x4E00 <= ord(c) <= 0x9FFF for c in chars)
print(f"{len(chars)} GB2312 characters, {hanzi} hanzi", file=sys.stderr)
PY

set -x
pyftsubset "$src" --font-number="$number" \
  --text-file="$tmp/gb2312.txt" \
  --unicodes="U+0020-007E,U+00A0-00FF,U+2010-2027,U+2030-203B,U+3000-303F,U+FF00-FFEF" \
  --layout-features=kern --no-hinting --name-IDs='*' --name-languages='*' \
  --output-file="$out"
set +x
ls -l "$out"
