#!/usr/bin/env bash
# Renders icon.svg into every icon Tauri's bundlers use, all RGBA.
# Needs rsvg-convert (librsvg2-bin), ImageMagick and png2icns (icnsutils).
set -euo pipefail
cd "$(dirname "$0")"
magick=/usr/bin/convert   # /usr/local/bin/convert may be a stand-in on some machines

render() { # size output
  rsvg-convert -w "$1" -h "$1" icon.svg -o "$2.tmp.png"
  "$magick" "$2.tmp.png" -define png:color-type=6 "PNG32:$2"
  rm -f "$2.tmp.png"
}

render 512 icon.png
render 32 32x32.png
render 64 64x64.png
render 128 128x128.png
render 256 128x128@2x.png
for s in 30 44 71 89 107 142 150 284 310; do render "$s" "Square${s}x${s}Logo.png"; done
render 50 StoreLogo.png

# Windows: one .ico holding the sizes Explorer asks for.
for s in 16 24 48 256; do render "$s" "ico-$s.png"; done
"$magick" ico-16.png ico-24.png 32x32.png ico-48.png 64x64.png ico-256.png icon.ico
rm -f ico-*.png

# macOS: png2icns takes the sizes it knows (16, 32, 48, 128, 256, 512).
for s in 16 48; do render "$s" "icns-$s.png"; done
png2icns icon.icns icns-16.png 32x32.png icns-48.png 128x128.png 128x128@2x.png icon.png >/dev/null
rm -f icns-*.png
