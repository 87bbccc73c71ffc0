#!/usr/bin/env bash
# Fetch the training photos listed in shared/data-sources.md (Debian wallpaper packages),
# unpacked (not installed) outside the repository (never commit the photos).
# Each package's copyright file is kept beside its photos.
#   scripts/fetch_training_photos.sh [DEST]   (default: $EXPLAINER_PHOTOS, else ~/.local/share/restoration-explainer/training_photos)
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-${EXPLAINER_PHOTOS:-${XDG_DATA_HOME:-$HOME/.local/share}/restoration-explainer/training_photos}}"
packages=(lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds plasma-workspace-wallpapers)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v apt-get >/dev/null; then
  echo "fetch_training_photos: apt-get is needed (Debian/Ubuntu)" >&2; exit 2
fi
(cd "$work" && apt-get download -o APT::Sandbox::User=root "${packages[@]}") || {
  echo "fetch_training_photos: apt-get download failed; try 'apt-get update' first" >&2; exit 2; }

mkdir -p "$dest"
for pkg in "${packages[@]}"; do
  deb=$(ls "$work"/"${pkg}"_*.deb)
  x="$work/x-$pkg"; mkdir -p "$x"; dpkg -x "$deb" "$x"
  out="$dest/$pkg"; mkdir -p "$out"
  cp "$x/usr/share/doc/$pkg/copyright" "$out/copyright"
  case "$pkg" in
    lomiri-wallpapers-16.04)
      # every photo except the abstract "umang" one
      find "$x/usr/share/backgrounds" -maxdepth 1 -name '*.jpg' ! -iname '*umang*' -exec cp {} "$out/" \; ;;
    lomiri-wallpapers-20.04)
      # its two photographs (the others are renders); gnome-backgrounds 43, ukui-wallpapers and
      # sway-backgrounds were checked too and carry renders only
      for name in Kleiber_by_Lukas_Baubkus Infinite-Sea_by_Aury88; do
        cp "$x/usr/share/backgrounds/$name.jpg" "$out/"
      done ;;
    mate-backgrounds)
      cp "$x"/usr/share/backgrounds/mate/nature/*.jpg "$out/" ;;
    plasma-workspace-wallpapers)
      # photos only (the other wallpapers are renders); the largest size of each
      for name in BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite \
                  OneStandsOut Path summer_1am; do
        dir="$x/usr/share/wallpapers/$name/contents/images"
        [ -d "$dir" ] || { echo "fetch_training_photos: $name missing in $pkg" >&2; continue; }
        best=$(ls "$dir" | grep -E '^[0-9]+x[0-9]+\.(jpg|png)$' | sort -t x -k1,1n | tail -1)
        cp "$dir/$best" "$out/$name.${best##*.}"
      done ;;
  esac
done
n=$(find "$dest" -name '*.jpg' -o -name '*.png' | wc -l)
echo "fetch_training_photos: $n photos in $dest (copyright files beside them)"
