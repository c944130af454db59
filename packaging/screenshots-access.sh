#!/usr/bin/env bash
# screenshots-access.sh photographs the citizen kiosk window's
# accessibility settings: the attract screen, a form screen with the
# on-screen keyboard, and the review, at the smallest and the largest
# text size, in the usual and the high-contrast theme. It runs the
# ui/internal/shots tool under Xvfb (a real window, simulated devices, a
# temporary store), which walks the screens and waits at each for the
# photograph (xwd, then ImageMagick's convert), saved as
# docs/screenshots/access-SCREEN-sizeN[-contrast].png. Not part of
# `make test`: its pictures are for people to look at.
#
#   packaging/screenshots-access.sh [OUTDIR]     # default docs/screenshots
#
# Needs what packaging/install-deps.sh installs: xvfb, x11-apps (xwd),
# imagemagick and the en_US.UTF-8 locale.
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
mkdir -p "$out"
for cmd in Xvfb xwd convert; do
	command -v "$cmd" >/dev/null || { echo "screenshots-access: $cmd is missing: run packaging/install-deps.sh" >&2; exit 1; }
done

export PATH=/usr/local/go/bin:$PATH CGO_ENABLED=1
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/shots" ./ui/internal/shots

# A display of its own: Xvfb picks a free number and writes it on fd 3.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$work/display")"
echo "screenshots-access: Xvfb on $DISPLAY" >&2

# The tool says "shot NAME" when a screen is ready and goes on when it
# reads a line back.
mkfifo "$work/to" "$work/from"
LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8 "$work/shots" <"$work/to" >"$work/from" 2>"$work/shots.log" &
pids+=($!)
exec 4>"$work/to" 5<"$work/from"
while read -r what name <&5; do
	case $what in
	shot)
		xwd -root -silent | convert xwd:- png:"$out/access-$name.png"
		echo "screenshots-access: $out/access-$name.png" >&2
		echo >&4
		;;
	done) break ;;
	esac
done
exec 4>&- 5<&-
[ "${what:-}" = done ] || { echo "screenshots-access: the tool stopped:" >&2; cat "$work/shots.log" >&2; exit 1; }
cat "$work/shots.log" >&2
echo "screenshots-access: done; look at each one" >&2
