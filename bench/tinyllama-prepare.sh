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
#   q4km.gguf   llama.cpp's own Q4_K_M of f32.gguf (llama_model_quantize: Q4_K linears, Q6_K for some
#               attn_v/ffn_down and the head, Q4_K embeddings), read in place by shrink4j (K-quant kernels)
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
if [[ ! -f "$dir/q4km.gguf" ]]; then
  jar="$root/bench/target/benchmarks.jar"
  [[ -f "$jar" ]] || (cd "$root" && mvn -B -q -pl bench -am package -DskipTests)
  java=""
  for c in "${SHRINK4J_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" /usr/lib/jvm/*/bin/java "$(command -v java || true)"; do
    [[ -n "$c" && -x "$c" ]] || continue
    v="$("$c" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1)"
    if [[ "${v:-0}" -ge 25 ]]; then java="$c"; break; fi
  done
  [[ -n "$java" ]] || { echo "no JDK >= 25 (set SHRINK4J_JAVA)" >&2; exit 1; }
  "$java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.shrink4j.bench.model.LlamaCppQuantize "$dir/f32.gguf" "$dir/q4km.gguf.tmp" Q4_K_M 2
  mv "$dir/q4km.gguf.tmp" "$dir/q4km.gguf"
fi
echo "$dir"
