#!/usr/bin/env bash
# The Debian package on a fresh Debian 12: builds it (scripts/package.sh), makes a clean
# bookworm root with debootstrap from the package mirror, installs the package there with
# `apt-get install ./belladonna_*.deb` (apt resolves the dependencies), then runs the
# installed programs as a user would: `belladonna --version`, `belladonna protect` on a
# picture with a tiny model made outside the root, `belladonna verify` on the output, and
# the desktop app under Xvfb (a screenshot is kept). Finally `apt-get remove` must leave
# none of the package's files behind.
# Needs root (debootstrap, chroot, mounts), network to the mirror, Xvfb and ImageMagick's
# import on the host. About 2 minutes here, most of it downloading.
# Usage: scripts/test-package.sh [SCREENSHOT.png]
# Environment: BD_DEBIAN_MIRROR (default http://deb.debian.org/debian), BD_KEEP_ROOT=1 keeps
# the root for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
screenshot=${1:-build/package/gui-on-fresh-debian.png}
mirror=${BD_DEBIAN_MIRROR:-http://deb.debian.org/debian}

fail() { echo "test-package: $*" >&2; exit 1; }
step() { echo "test-package: $* ($(( SECONDS / 60 ))m$(( SECONDS % 60 ))s)"; }
# A machine that cannot make a root at all is not a failure of the package: exit 77 (the
# "skipped" status of automake and CTest) with the reason, which .ci/run prints.
skip() { echo "test-package: SKIPPED: $*" >&2; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (debootstrap, chroot and mounts)"
probe=$(mktemp -d)
mount -t tmpfs none "$probe" 2>/dev/null && umount "$probe" || { rmdir "$probe"; skip "this machine does not allow mounts"; }
rmdir "$probe"
for tool in debootstrap Xvfb import; do
  command -v $tool >/dev/null || fail "$tool is missing (scripts/setup.sh installs it)"
done
[[ -x build/bin/bd-make-tiny-model ]] || fail "build/bin/bd-make-tiny-model is missing (build the tests first)"

deb=$(scripts/package.sh | tail -n 1)
[[ -f $deb ]] || fail "scripts/package.sh made no package"
(( $(stat -c %s "$deb") < 5 * 1024 * 1024 )) || fail "$deb is over 5 MB"

root=$(mktemp -d "${TMPDIR:-/var/tmp}/bd-fresh-debian-XXXXXX")
xvfb_pid=""
cleanup() {
  [[ -n $xvfb_pid ]] && kill "$xvfb_pid" 2>/dev/null
  for m in tmp/.X11-unix dev/pts dev sys proc; do
    mountpoint -q "$root/$m" && umount -l "$root/$m"
  done
  if [[ ${BD_KEEP_ROOT:-0} == 1 ]]; then
    echo "test-package: root kept at $root"
  elif grep -q " $root/" /proc/mounts; then
    # Never delete through a mount that is still there: it would reach the host's /dev or /tmp.
    echo "test-package: mounts remain under $root; not deleting it" >&2
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT
in_root() { chroot "$root" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

step "debootstrap bookworm into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 \
  || { tail -20 "$root.debootstrap.log" >&2; fail "debootstrap failed"; }
rm -f "$root.debootstrap.log"
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

# What the test brings from outside: a picture and a tiny random-weight model.
mkdir -p "$root/tmp/bdtest/model"
made=$(build/bin/bd-make-tiny-model "$root/tmp/bdtest/model" | tail -n 1)
model=${made#"$root"}
cp samples/$(ls samples | grep -iE '\.png$' | head -n 1) "$root/tmp/bdtest/art.png"
cp "$deb" "$root/tmp/bdtest/"

step "apt-get install ./$(basename "$deb")"
in_root apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed in the fresh root"
in_root sh -c "cd /tmp/bdtest && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./$(basename "$deb")" \
  >"$root/tmp/apt.log" 2>&1 || { tail -30 "$root/tmp/apt.log" >&2; fail "apt-get install of the package failed"; }
in_root dpkg -L belladonna >"$root/tmp/bdtest/files.txt"
step "installed: $(grep -c . "$root/tmp/bdtest/files.txt") paths; $(in_root dpkg-query -W -f='${Installed-Size}' belladonna) KiB"

version=$(in_root belladonna --version)
[[ $version == "belladonna $(sed -n 's/^project(belladonna VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" ]] \
  || fail "belladonna --version printed '$version'"
echo "  $version"

step "belladonna protect"
in_root belladonna protect /tmp/bdtest/art.png -o /tmp/bdtest/out --model "$model" --target cat \
  --quality fast --device cpu --report /tmp/bdtest/report.json \
  || fail "belladonna protect failed in the fresh root"
[[ -s $root/tmp/bdtest/out/art-protected.png ]] || fail "protect wrote no out/art-protected.png"
in_root belladonna verify /tmp/bdtest/art.png /tmp/bdtest/out/art-protected.png --model "$model" \
  --target cat || fail "belladonna verify failed in the fresh root"

step "belladonna-gui under Xvfb"
display=:$(( 90 + RANDOM % 100 ))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -ac >/dev/null 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X${display#:} ]] && break; sleep 0.1; done
mkdir -p "$root/tmp/.X11-unix"
mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
# The app protects the picture it was given (--protect) and shows the result.
in_root env DISPLAY="$display" XDG_RUNTIME_DIR=/tmp belladonna-gui --model "$model" --target cat \
  --quality fast --device cpu --output /tmp/bdtest/gui-out --protect /tmp/bdtest/art.png \
  >"$root/tmp/gui.log" 2>&1 &
gui_pid=$!
for _ in $(seq 120); do [[ -s $root/tmp/bdtest/gui-out/art-protected.png ]] && break; sleep 0.5; done
sleep 3
kill -0 "$gui_pid" 2>/dev/null || { cat "$root/tmp/gui.log" >&2; fail "belladonna-gui exited"; }
[[ -s $root/tmp/bdtest/gui-out/art-protected.png ]] || fail "the desktop app wrote no protected copy"
mkdir -p "$(dirname "$screenshot")"
import -display "$display" -window root "$screenshot"
kill "$gui_pid"; wait "$gui_pid" 2>/dev/null || true
spread=$(convert "$screenshot" -format '%[fx:standard_deviation]' info:)
awk -v s="$spread" 'BEGIN { exit !(s > 0.02) }' || fail "the screenshot is blank ($spread)"
echo "  screenshot: $screenshot"

step "apt-get remove belladonna"
in_root apt-get remove -y -qq belladonna >"$root/tmp/remove.log" 2>&1 \
  || { cat "$root/tmp/remove.log" >&2; fail "apt-get remove failed"; }
left=""
while read -r path; do
  [[ -d $root$path && ! -L $root$path ]] && continue   # folders shared with other packages
  [[ -e $root$path || -L $root$path ]] && left+=" $path"
done <"$root/tmp/bdtest/files.txt"
[[ -z $left ]] || fail "apt-get remove left behind:$left"
# Nothing else of the package anywhere (what the runs above wrote in /tmp and in the home
# folder, the model cache and the app's settings, is the user's, not the package's).
stray=$(cd "$root" && find . -xdev \( -path ./tmp -o -path ./root -o -path ./proc \) -prune \
          -o -iname '*belladonna*' -print)
[[ -z $stray ]] || fail "files named belladonna remain after removal: $stray"
status=$(in_root dpkg-query -W -f='${db:Status-Abbrev}' belladonna 2>/dev/null || true)
[[ -z $status || $status == un* ]] || fail "dpkg still lists belladonna ($status)"
step "passed"
