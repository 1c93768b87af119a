#!/usr/bin/env bash
# bench/gguf-inplace.sh [DIR] [LAYERS] [GENERATE] [ROUNDS]: a GGUF read in place (Q4_0 blocks run by
# the ggml block kernels) against our own uniform int4 g32 checkpoint of the same RTN codes, on a
# TinyLlama-1.1B-shaped synthetic model cut to LAYERS layers (default 2): per model one JVM, RssAnon
# grown by loading it, and greedy decode ms/token after a 16-token prompt (best and median of ROUNDS).
# The converted directory (what a .gguf --model was read through before) runs too. Both sides: 2 threads, F32 activations, F32 embeddings and head. Runs the pair twice, alternating.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-/tmp/shrink4j-bench/gguf-inplace}"; layers="${2:-2}"; gen="${3:-64}"; rounds="${4:-3}"
s4j="$root/shrink4j"
mkdir -p "$dir"
[[ -f "$dir/f32/config.json" ]] || "$s4j" synth --preset tinyllama-1.1b --layers "$layers" --seed 0 --dtype f32 --force "$dir/f32" >/dev/null
[[ -f "$dir/q4/config.json" ]] || "$s4j" quantize --method rtn --bits 4 --group-size 32 --sym --no-eval --quiet "$dir/f32" "$dir/q4"
[[ -f "$dir/q4.gguf" ]] || "$s4j" quantize --method rtn --bits 4 --group-size 32 --sym --no-eval --quiet --format gguf "$dir/f32" "$dir/q4.gguf"
# what a .gguf --model cost before it was read in place: the converted copy (Q4_0 widened to F32)
[[ -f "$dir/q4-converted/config.json" ]] || "$s4j" convert "$dir/q4.gguf" "$dir/q4-converted" >/dev/null
du -sm "$dir/q4.gguf" "$dir/q4" "$dir/q4-converted" | sed 's/^/# MiB on disk: /'
java=""
for c in "${SHRINK4J_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
  [[ -n "$c" && -x "$c" ]] || continue
  v="$("$c" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1)"
  if [[ "${v:-0}" -ge 25 ]]; then java="$c"; break; fi
done
[[ -n "$java" ]] || { echo "no JDK >= 25 (set SHRINK4J_JAVA)" >&2; exit 1; }
run() { "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dshrink4j.threads=2 -Xmx4g \
          -cp "$root/cli/target/shrink4j.jar" "$root/bench/gguf/GgufInPlace.java" "$1" "$gen" "$rounds" 2>/dev/null; }
echo -e "model\tRssAnon_MiB_before\tRssAnon_MiB_loaded\tcopied_MiB\tRssAnon_MiB_after_runs\tRssFile_MiB_after_runs\tdecode_ms_token_best\tdecode_ms_token_median"
for i in 1 2; do run "$dir/q4.gguf"; run "$dir/q4"; run "$dir/q4-converted"; done
