#!/bin/bash
# The eleven stock tracks of music while connecting and on hold (inventory 2 X-02), synthesized with
# SoX 14.4 so that none carries a third-party recording. Each is 8 s, 8 kHz mono 16-bit, made to loop,
# peaks at -6 dBFS. Run from this directory: `bash make-music.sh` (needs `apt-get install sox`).
# `pluck` starts from noise, so each run gives a slightly different take of the same notes.
set -euo pipefail
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
R=48000

# note FILE SECONDS KIND PITCH... : one event, every PITCH sounding together (KIND: pluck, sine, triangle, square).
note() {
  local out=$1 len=$2 kind=$3; shift 3
  local synth=() n=0
  for p in "$@"; do synth+=("$kind" "$p"); n=$((n + 1)); done
  if [ "$n" -eq 1 ]; then
    sox -r $R -c 1 -n -p synth "$len" "${synth[@]}" fade q 0.01 "$len" 0.05 > "$out"
  else
    local mix; mix=$(seq -s, 1 "$n")
    sox -r $R -c "$n" -n -p synth "$len" "${synth[@]}" remix "$mix" fade q 0.01 "$len" 0.05 > "$out"
  fi
}
rest() { sox -r $R -c 1 -n -p trim 0 "$1" > "$2"; }
# seq NAME KIND LEN "CHORD" ... : a sequence of events of one length ("-" is a rest).
sequence() {
  local name=$1 kind=$2 len=$3; shift 3
  local parts=() i=0
  for chord in "$@"; do
    i=$((i + 1))
    if [ "$chord" = "-" ]; then rest "$len" "$T/$name-$i.sox"; else
      # shellcheck disable=SC2086
      note "$T/$name-$i.sox" "$len" "$kind" $chord; fi
    parts+=("$T/$name-$i.sox")
  done
  sox "${parts[@]}" -p > "$T/$name.sox"
}
# finish NAME LAYER... : the layers mixed, 8 s, to 8 kHz, normalized.
finish() {
  local name=$1; shift
  if [ "$#" -eq 1 ]; then sox "$1" -p > "$T/$name-mix.sox"; else sox -m "$@" -p > "$T/$name-mix.sox"; fi
  sox -R "$T/$name-mix.sox" -D -b 16 -c 1 "$name.wav" trim 0 8 rate 8000 gain -n -6
}

# acoustic: plucked guitar chords G D Em C, 2 s each.
sequence acoustic pluck 2 "G3 B3 D4 G4" "D3 A3 D4 F#4" "E3 B3 E4 G4" "C3 G3 C4 E4"
finish acoustic "$T/acoustic.sox"

# beautiful: slow sine pads Fmaj7 and Cmaj7 with a gentle tremolo, 4 s each.
sequence beautiful sine 4 "F3 A3 C4 E4" "C3 E3 G3 B3"
sox "$T/beautiful.sox" -p tremolo 3 30 > "$T/beautiful-t.sox"
finish beautiful "$T/beautiful-t.sox"

# classical: an A minor arpeggio in sixteenths (0.25 s), then E major, as a harpsichord-like pluck.
sequence classical pluck 0.25 A3 C4 E4 A4 E4 C4 A3 C4 E4 A4 C5 A4 E4 C4 A3 E3 E3 G#3 B3 E4 B3 G#3 E3 G#3 B3 E4 G#4 E4 B3 G#3 E3 B2
finish classical "$T/classical.sox"

# corporate: bright triangle chords C F Am G, 1 s each, twice.
sequence corporate triangle 1 "C4 E4 G4" "F3 A3 C4" "G3 A#3 D4" "G3 B3 D4" "C4 E4 G4" "F3 A3 C4" "G3 A#3 D4" "G3 B3 D4"
finish corporate "$T/corporate.sox"

# country: boom-chick, a bass note then the chord, D G A D (0.5 s events).
sequence country pluck 0.5 D2 "D3 F#3 A3" A2 "D3 F#3 A3" G2 "G3 B3 D4" D2 "G3 B3 D4" A2 "A3 C#4 E4" E2 "A3 C#4 E4" D2 "D3 F#3 A3" A2 "D3 F#3 A3"
finish country "$T/country.sox"

# holiday: sleigh-bell sines, the "Jingle Bells" refrain (J. Pierpont, 1857, public domain).
sequence holiday sine 0.333333 E5 E5 E5 - E5 E5 E5 - E5 G5 C5 D5 E5 - - - F5 F5 F5 F5 F5 E5 E5 -
sox "$T/holiday.sox" -p tremolo 12 40 > "$T/holiday-t.sox"
finish holiday "$T/holiday-t.sox"

# latin: a son clave rhythm on G minor and D (0.25 s steps), plucked.
sequence latin pluck 0.25 "G3 A#3 D4" - - "G3 A#3 D4" - - "G3 A#3 D4" - - - "G3 A#3 D4" - "G3 A#3 D4" - - - \
  "F#3 A3 D4" - - "F#3 A3 D4" - - "F#3 A3 D4" - - - "F#3 A3 D4" - "F#3 A3 D4" - - -
finish latin "$T/latin.sox"

# modern_jazz: extended chords on sines, Dm9 G13 Cmaj9 A7#9, 2 s each.
sequence modern_jazz sine 2 "D3 F3 C4 E4" "G2 F3 B3 E4" "C3 E3 B3 D4" "A2 G3 C#4 C5"
finish modern_jazz "$T/modern_jazz.sox"

# nature: wind (filtered brown noise, swelling) and birdsong (rising sine chirps).
sox -r $R -c 1 -n -p synth 8 brownnoise gain -12 lowpass 600 tremolo 0.25 60 > "$T/wind.sox"
for i in 1 2 3; do sox -r $R -c 1 -n -p synth 0.12 sine 1800-3000 fade q 0.01 0.12 0.03 > "$T/chirp-$i.sox"; done
rest 0.9 "$T/gap1.sox"; rest 0.08 "$T/gap2.sox"; rest 2.4 "$T/gap3.sox"
sox "$T/gap1.sox" "$T/chirp-1.sox" "$T/gap2.sox" "$T/chirp-2.sox" "$T/gap2.sox" "$T/chirp-3.sox" "$T/gap3.sox" \
  "$T/chirp-1.sox" "$T/gap2.sox" "$T/chirp-2.sox" "$T/gap3.sox" -p pad 0 1 > "$T/birds.sox"
finish nature "$T/wind.sox" "$T/birds.sox"

# reggae: the skank, short chords on the off-beats over a bass, Bm A G (0.25 s steps).
sequence reggae-bass sine 0.5 B1 - B1 - A1 - A1 - G1 - G1 - B1 - B1 -
sequence reggae square 0.25 - "B3 D4 F#4" - "B3 D4 F#4" - "B3 D4 F#4" - "B3 D4 F#4" - "A3 C#4 E4" - "A3 C#4 E4" - "A3 C#4 E4" - "A3 C#4 E4" \
  - "G3 B3 D4" - "G3 B3 D4" - "G3 B3 D4" - "G3 B3 D4" - "B3 D4 F#4" - "B3 D4 F#4" - "B3 D4 F#4" - "B3 D4 F#4"
sox "$T/reggae.sox" -p gain -8 lowpass 1800 > "$T/reggae-soft.sox"
finish reggae "$T/reggae-bass.sox" "$T/reggae-soft.sox"

# world: a pentatonic melody plucked over a sine drone on D and A.
sox -r $R -c 2 -n -p synth 8 sine D3 sine A3 remix 1,2 gain -10 > "$T/drone.sox"
sequence world pluck 0.5 D4 E4 G4 A4 B4 A4 G4 E4 D4 - A4 B4 D5 B4 A4 -
finish world "$T/drone.sox" "$T/world.sox"
