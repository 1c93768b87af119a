#!/usr/bin/env bash
# bench/tinyllama-prepare.sh [DIR]: the TinyLlama-1.1B-shaped files of the decode/prefill rows
# (bench/rows/model.tsv), written once under DIR (default /tmp/shrink4j-bench/tinyllama; ~11 GB):
#   f32/        synth --preset tinyllama-1.1b --seed 0 --dtype f32
#   f32.gguf    the same, converted (bit-identical F32)
#   q4/         RTN symmetric int4, group 32 (F32 embeddings and head), shrink4j format
#   q4.gguf     the same RTN run written as GGUF: its int4 g32 sym linears are Q4_0 blocks with the
#               same codes and F16 scales (RTN is deterministic), embeddings and head F32 as in q4/
#   q4h8/       q4 with the output head quantized too (--head-bits 8: int8 symmetric g32), embeddings F32
#   q4h8.gguf   the same as GGUF: Q4_0 linears, the head as Q8_0 blocks of the same codes
#   q4h4/       q4 with the head as int4 g32 symmetric (--head-bits 4; Q4_0 in q4h4.gguf)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-/tmp/shrink4j-bench/tinyllama}"
mkdir -p "$dir"
s4j="$root/shrink4j"
[[ -f "$dir/f32/config.json" ]] || "$s4j" synth --preset tinyllama-1.1b --seed 0 --dtype f32 --force "$dir/f32"
[[ -f "$dir/f32.gguf" ]] || "$s4j" convert --to gguf "$dir/f32" "$dir/f32.gguf"
[[ -f "$dir/q4/config.json" ]] || "$s4j" quantize --method rtn --bits 4 --group-size 32 --sym --no-eval --quiet "$dir/f32" "$dir/q4"
[[ -f "$dir/q4.gguf" ]] || "$s4j" quantize --method rtn --bits 4 --group-size 32 --sym --no-eval --quiet --format gguf "$dir/f32" "$dir/q4.gguf"
[[ -f "$dir/q4h8/config.json" ]] || "$s4j" quantize --method rtn --bits 4 --group-size 32 --sym --head-bits 8 --no-eval --quiet "$dir/f32" "$dir/q4h8"
[[ -f "$dir/q4h8.gguf" ]] || "$s4j" quantize --method rtn --bits 4 --group-size 32 --sym --head-bits 8 --no-eval --quiet --format gguf "$dir/f32" "$dir/q4h8.gguf"
[[ -f "$dir/q4h4/config.json" ]] || "$s4j" quantize --method rtn --bits 4 --group-size 32 --sym --head-bits 4 --no-eval --quiet "$dir/f32" "$dir/q4h4"
[[ -f "$dir/q4h4.gguf" ]] || "$s4j" quantize --method rtn --bits 4 --group-size 32 --sym --head-bits 4 --no-eval --quiet --format gguf "$dir/f32" "$dir/q4h4.gguf"
echo "$dir"
