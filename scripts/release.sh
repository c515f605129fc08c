#!/usr/bin/env bash
# Builds the release artifacts into dist/ (the names are a contract: docs/releases.md), checks them, and lists them
# with sizes:
#   wirepad-VERSION-x86_64-unknown-linux-gnu.tar.gz   binary, README, licences, .desktop file, icon
#   wirepad_VERSION_amd64.deb                         /usr/bin/wirepad, desktop entry, hicolor icons, Depends
#   wirepad-VERSION-x86_64-pc-windows-gnu.zip         wirepad.exe (icon + version info embedded), README, licences
# Binaries come from the `dist` profile (Cargo.toml: LTO, one codegen unit, stripped), each must be <= 20 MB.
# The .deb is made with dpkg-deb, Debian's own tool, which is on every Debian/Ubuntu machine (cargo-deb would be one
# more program to build first); dpkg-shlibdeps (dpkg-dev) computes the Depends of what the binary links.
# Windows: the shared tool ../shared/tools/windows (mingw-w64 + the Rust target; `setup` once, as root).
#
# Options (CI packages the builds it already made, to check the layout without an LTO build):
#   --no-build            package what the profiles below already built
#   --linux-profile P     cargo profile of the Linux binary (default dist; dev = target/debug)
#   --windows-profile P   same for wirepad.exe
#   --skip-windows        no .zip
#   --out DIR             where the artifacts go (default dist/)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
linux_profile=dist windows_profile=dist build=1 windows=1 out=$root/dist
while [ $# -gt 0 ]; do
  case $1 in
    --no-build) build=0 ;;
    --linux-profile) linux_profile=$2; shift ;;
    --windows-profile) windows_profile=$2; shift ;;
    --skip-windows) windows=0 ;;
    --out) out=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
  esac
  shift
done

tool=${WIREPAD_WINDOWS_TOOL:-$root/../shared/tools/windows}
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir = /* ]] || target_dir=$root/$target_dir
pkgid=$(cargo pkgid)
version=${pkgid##*[@#]}
max_bytes=20000000
start=$SECONDS
step() { printf '\n=== [%4ss] %s\n' "$((SECONDS - start))" "$*"; }
fail() { printf 'release.sh: FAIL: %s\n' "$*" >&2; exit 1; }
profile_dir() { if [ "$1" = dev ]; then echo debug; else echo "$1"; fi; }
# Files get the commit's time, so that the same commit packs the same bytes.
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH=$epoch

linux_bin=$target_dir/$(profile_dir "$linux_profile")/wirepad
windows_exe=$target_dir/x86_64-pc-windows-gnu/$(profile_dir "$windows_profile")/wirepad.exe

if [ "$build" = 1 ]; then
  step "Linux: cargo build --locked --profile $linux_profile"
  t=$SECONDS
  cargo build --locked --profile "$linux_profile" --bin wirepad
  echo "Linux build: $((SECONDS - t)) s"
  if [ "$windows" = 1 ]; then
    [ -x "$tool" ] || fail "$tool not found: it builds for Windows (or pass --skip-windows)"
    step "Windows: $tool build --locked --profile $windows_profile"
    t=$SECONDS
    "$tool" build --locked --profile "$windows_profile" --bin wirepad
    echo "Windows build: $((SECONDS - t)) s"
  fi
fi

step "checking the binaries"
[ -x "$linux_bin" ] || fail "$linux_bin is missing (build it, or drop --no-build)"
"$linux_bin" --version | grep -qE "^wirepad $version \(commit [0-9a-f]{12}\)$" ||
  fail "'$linux_bin --version' printed '$("$linux_bin" --version)', not 'wirepad $version (commit <12 hex>)'"
bins=("$linux_bin")
if [ "$windows" = 1 ]; then
  [ -f "$windows_exe" ] || fail "$windows_exe is missing"
  # The resources winresource embedded: the icon group and the version block naming our version.
  x86_64-w64-mingw32-objdump -h "$windows_exe" | grep -q '\.rsrc' || fail "$windows_exe has no resources"
  python3 - "$windows_exe" "$version (commit " <<'PY' || fail "$windows_exe carries no version information '$version'"
import sys
sys.exit(sys.argv[2].encode("utf-16-le") not in open(sys.argv[1], "rb").read())
PY
  bins+=("$windows_exe")
fi
for b in "${bins[@]}"; do
  profile=$linux_profile
  [ "$b" = "$windows_exe" ] && profile=$windows_profile
  size=$(stat -c %s "$b")
  echo "$b: $size bytes ($profile profile)"
  if [ "$profile" = dist ]; then
    [ "$size" -le "$max_bytes" ] || fail "$b is $size bytes, more than $max_bytes"
  fi
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"
docs=(README.md LICENSE-MIT LICENSE-APACHE)
# Tar and zip entries in a fixed order with fixed owners and times.
pack_tar() { tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$stage" -czf "$1" "$2"; }
stamp() { find "$1" -exec touch -h -d "@$epoch" {} +; }
# Binaries are packed stripped (`install -s`): a no-op for `dist`, which strips already; it keeps a layout check of a
# development build quick.

step "Linux: tar.gz"
name=wirepad-$version-x86_64-unknown-linux-gnu
mkdir -p "$stage/$name"
install -s -m 755 "$linux_bin" "$stage/$name/wirepad"
install -m 644 "${docs[@]}" assets/wirepad.desktop "$stage/$name/"
install -m 644 assets/fonts/OFL.txt "$stage/$name/LICENSE-font-OFL.txt"
install -m 644 assets/icon/wirepad-256.png "$stage/$name/wirepad.png"
install -m 644 assets/icon.svg "$stage/$name/wirepad.svg"
stamp "$stage/$name"
tarball=$out/$name.tar.gz
pack_tar "$tarball" "$name"

step "Linux: .deb (dpkg-deb)"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is needed for the .deb"
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps is needed for the .deb's Depends (apt-get install dpkg-dev)"
deb_root=$stage/deb
install -D -s -m 755 "$linux_bin" "$deb_root/usr/bin/wirepad"
install -D -m 644 assets/wirepad.desktop "$deb_root/usr/share/applications/wirepad.desktop"
for png in assets/icon/wirepad-*.png; do
  size=${png##*-}; size=${size%.png}
  install -D -m 644 "$png" "$deb_root/usr/share/icons/hicolor/${size}x${size}/apps/wirepad.png"
done
install -D -m 644 assets/icon.svg "$deb_root/usr/share/icons/hicolor/scalable/apps/wirepad.svg"
install -D -m 644 README.md "$deb_root/usr/share/doc/wirepad/README.md"
{
  printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: wirepad\n\n'
  printf 'Files: *\nCopyright: The Wirepad developers\nLicense: MIT or Apache-2.0\n\n'
  printf 'Files: assets/fonts/*\nComment: a subset of Noto Sans CJK SC, embedded in the binary\n'
  printf 'Copyright: %s\nLicense: OFL-1.1\n\n' "$(head -n1 assets/fonts/OFL.txt)"
  printf 'License: MIT\n'; sed 's/^$/./; s/^/ /' LICENSE-MIT; printf '\n'
  printf 'License: Apache-2.0\n'; sed 's/^$/./; s/^/ /' LICENSE-APACHE; printf '\n'
  printf 'License: OFL-1.1\n'; sed 's/^$/./; s/^/ /' assets/fonts/OFL.txt
} >"$stage/copyright"
install -D -m 644 "$stage/copyright" "$deb_root/usr/share/doc/wirepad/copyright"
# What the binary links (libc, libgcc), as dpkg-shlibdeps finds it...
mkdir -p "$stage/shlibs/debian"
printf 'Source: wirepad\n\nPackage: wirepad\nArchitecture: amd64\n' >"$stage/shlibs/debian/control"
linked=$(cd "$stage/shlibs" && dpkg-shlibdeps -O "$deb_root/usr/bin/wirepad" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$linked" ] || fail "dpkg-shlibdeps found no dependencies of the binary"
# ...and what the window dlopen()s, which no tool can see: X11 (winit, x11-dl, x11rb), xkbcommon, OpenGL/EGL
# (glutin), fontconfig (system fonts). Wayland, Vulkan (wgpu), Mesa's drivers and D-Bus are used when present.
window=libx11-6,libx11-xcb1,libxcursor1,libxi6,libxrender1,libxcb1,libxkbcommon0,libxkbcommon-x11-0,libgl1,libegl1
window="$window,libfontconfig1"
mkdir -p "$deb_root/DEBIAN"
cat >"$deb_root/DEBIAN/control" <<EOF
Package: wirepad
Version: $version
Architecture: amd64
Maintainer: The Wirepad developers <noreply@wirepad.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$deb_root" | cut -f1)
Depends: $linked, ${window//,/, }
Recommends: libwayland-client0, libwayland-egl1, libvulkan1, libgl1-mesa-dri, libegl-mesa0, mesa-vulkan-drivers, libdbus-1-3
Suggests: xdg-desktop-portal | zenity
Section: net
Priority: optional
Description: network debugging assistant (TCP/UDP, text and hex)
 Wirepad is a network debugging assistant in the spirit of NetAssist: a TCP
 server, TCP client or UDP endpoint that shows what arrives as text (UTF-8,
 GBK, Big5, Shift_JIS, ...) or hex, and sends text, hex or files, once or
 periodically, with a checksum and line ending. A window and a command line.
EOF
stamp "$deb_root"
deb=$out/wirepad_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$deb_root" "$deb" >/dev/null

if [ "$windows" = 1 ]; then
  step "Windows: zip"
  command -v zip >/dev/null || fail "zip is needed for the .zip"
  name=wirepad-$version-x86_64-pc-windows-gnu
  mkdir -p "$stage/$name"
  install -s --strip-program=x86_64-w64-mingw32-strip -m 644 "$windows_exe" "$stage/$name/wirepad.exe"
  install -m 644 "${docs[@]}" "$stage/$name/"
  install -m 644 assets/fonts/OFL.txt "$stage/$name/LICENSE-font-OFL.txt"
  stamp "$stage/$name"
  zipfile=$out/$name.zip
  rm -f "$zipfile"
  (cd "$stage" && find "$name" | LC_ALL=C sort | zip -q -X -9 "$zipfile" -@)
fi

step "checking the artifacts"
# The layout each must have; a file missing or extra fails.
expect() {
  local what=$1 got=$2; shift 2
  local want; want=$(printf '%s\n' "$@" | LC_ALL=C sort)
  [ "$(LC_ALL=C sort <<<"$got")" = "$want" ] || fail "$what: unexpected contents:"$'\n'"$got"$'\n'"want:"$'\n'"$want"
  echo "$what: $(wc -l <<<"$want") files as expected"
}
name=wirepad-$version-x86_64-unknown-linux-gnu
expect "$(basename "$tarball")" "$(tar -tzf "$tarball" | grep -v '/$')" \
  "$name/"{wirepad,README.md,LICENSE-MIT,LICENSE-APACHE,LICENSE-font-OFL.txt,wirepad.desktop,wirepad.png,wirepad.svg}
echo "--- dpkg-deb -I"; dpkg-deb -I "$deb"
echo "--- dpkg-deb -c"; dpkg-deb -c "$deb"
expect "$(basename "$deb")" "$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}')" \
  ./usr/bin/wirepad ./usr/share/applications/wirepad.desktop ./usr/share/doc/wirepad/{README.md,copyright} \
  ./usr/share/icons/hicolor/{16x16,24x24,32x32,48x48,64x64,128x128,256x256}/apps/wirepad.png \
  ./usr/share/icons/hicolor/scalable/apps/wirepad.svg
# Installed for real into a throwaway root (its database knows no other package, hence --force-depends).
inst=$stage/root
mkdir -p "$inst/var/lib/dpkg/updates" "$inst/var/lib/dpkg/info"
touch "$inst/var/lib/dpkg/status"
dpkg --root="$inst" --force-depends --force-not-root --log=/dev/null -i "$deb" >/dev/null 2>"$stage/dpkg.err" ||
  { cat "$stage/dpkg.err" >&2; fail "dpkg --root could not install $deb"; }
dpkg-query --admindir="$inst/var/lib/dpkg" -W -f='installed: ${Package} ${Version} ${Status}\n' wirepad
"$inst/usr/bin/wirepad" --version
command -v desktop-file-validate >/dev/null && desktop-file-validate "$inst/usr/share/applications/wirepad.desktop"
if [ "$windows" = 1 ]; then
  name=wirepad-$version-x86_64-pc-windows-gnu
  expect "$(basename "$zipfile")" "$(unzip -Z1 "$zipfile" | grep -v '/$')" \
    "$name/"{wirepad.exe,README.md,LICENSE-MIT,LICENSE-APACHE,LICENSE-font-OFL.txt}
fi

step "done in $((SECONDS - start)) s: $out"
for f in "$tarball" "$deb" ${zipfile:+"$zipfile"}; do
  printf '%10s bytes  %6s  %s\n' "$(stat -c %s "$f")" "$(du -h --apparent-size "$f" | cut -f1)" "$f"
done
