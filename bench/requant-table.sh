#!/bin/bash
# ReQuant quality table on the demo: calibrate on the first half of tinystories-valid, evaluate on the second half and tinyshakespeare.
# Every base (squeezellm, gptq, lnq, guidedquant) and its ReQuant version at 2, 3 and 4 bits, plus the 3-bit ablations.
# Prints one TSV row per run (docs/pqi.md keeps the last run in bench/requant-table-demo.tsv):
#   bench/requant-table.sh | tee bench/requant-table-demo.tsv
set -uo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# The split: calibration = the first half of the TinyStories text (to a story boundary), evaluation = the rest.
python3 -c "t=open('examples/text/tinystories-valid.txt').read(); c=t.index('\n\n', len(t)//2)
open('$TMP/ts-calib.txt','w').write(t[:c]); open('$TMP/ts-eval.txt','w').write(t[c+2:])"
COMMON="--calib $TMP/ts-calib.txt --samples 8 --seq-len 128 --eval $TMP/ts-eval.txt --eval examples/text/tinyshakespeare.txt --max-windows 16 --quiet --force"
run() { # label, args...
  label=$1; shift
  out=$(./shrink4j quantize "$@" $COMMON examples/stories260K "$TMP/out" 2>&1)
  bits=$(echo "$out" | sed -n 's/.*block linears \([0-9.]*\) bits\/weight.*/\1/p')
  ev=$(echo "$out" | grep -E "ts-eval|tinyshakespeare" | sed -E 's/.*(ts-eval|tinyshakespeare)[^:]*: ppl ([0-9.]+) → ([0-9.]+) \(ΔNLL ([-+0-9.]+) nats, KL ([0-9.]+).*/\1 \2 \3 \4 \5/' | tr '\n' ' ')
  t=$(echo "$out" | sed -n 's/.*total \([0-9.]*\) s.*/\1/p')
  echo -e "$label\t$bits\t$ev\t${t}s"
  echo "$out" | grep -iE "error|exception" | head -3
}
for b in 3 2 4; do
  for base in squeezellm gptq lnq guidedquant; do
    run "$base $b-bit" --method $base --bits $b
    run "requant/$base $b-bit" --method requant --base $base --bits $b --pqi-points 4
  done
  if [ $b = 3 ]; then
    run "ablation squeezellm 3: outliers only, adaptive" --method requant --base squeezellm --bits 3 --significant-ratio 0
    run "ablation squeezellm 3: outliers only, uniform" --method requant --base squeezellm --bits 3 --significant-ratio 0 --outlier-allocation uniform
    run "ablation squeezellm 3: significant only" --method requant --base squeezellm --bits 3 --outlier-ratio 0 --pqi-points 4
    run "ablation squeezellm 3: both, uniform" --method requant --base squeezellm --bits 3 --outlier-allocation uniform --pqi-points 4
  fi
done
