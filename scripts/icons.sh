#!/bin/sh
# Makes the icon's PNG sizes and the Windows .ico from assets/icon.svg (the one drawing): run after editing it.
# Needs rsvg-convert (librsvg2-bin) and ImageMagick. The outputs are committed; builds only read them.
set -eu
cd "$(dirname "$0")/../assets"
mkdir -p icon
for size in 16 24 32 48 64 128 256; do
    rsvg-convert -w "$size" -h "$size" icon.svg -o "icon/wirepad-$size.png"
done
# Windows picks the size it needs from one .ico.
convert icon/wirepad-16.png icon/wirepad-24.png icon/wirepad-32.png icon/wirepad-48.png icon/wirepad-64.png \
    icon/wirepad-128.png icon/wirepad-256.png icon/wirepad.ico
