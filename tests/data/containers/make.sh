#!/usr/bin/env bash
# Regenerates the container test videos (tests/test_containers.py) from the bundled demo: `bash tests/data/containers/make.sh`.
set -euo pipefail
cd "$(dirname "$0")"
demo=../../../assets/demo/demo.mp4
ff() { ffmpeg -hide_banner -loglevel error -y -ss 2 -i "$demo" -an -vf scale=320:240 "$@"; }
x264=(-c:v libx264 -pix_fmt yuv420p -preset veryfast)

ff -t 2 "${x264[@]}" camcorder.mts                                          # H.264 in MPEG-TS (AVCHD)
ff -t 2 -c:v libvpx -b:v 300k -deadline realtime -f webm -live 1 browser.webm  # as MediaRecorder writes it
ff -t 2 "${x264[@]}" -f h264 raw.h264                                       # elementary stream: no container
ff -t 2 -c:v mpeg2video -q:v 6 program_stream.mpg                         # MPEG-2 in MPEG-PS
ff -t 4 "${x264[@]}" short.ts
# Two 1 s recordings joined: the second's clock restarts 0.5 s after the first's start.
halves=$(mktemp -d)
trap 'rm -rf "$halves"' EXIT
ff -t 1 "${x264[@]}" "$halves/first.ts"
ff -ss 1 -t 1 "${x264[@]}" -output_ts_offset 0.5 "$halves/second.ts"
cat "$halves/first.ts" "$halves/second.ts" > clock_reset.ts
ff -frames:v 1 "${x264[@]}" one_frame.mp4
ff -frames:v 1 -q:v 4 still.jpg
