#!/bin/bash
# Quality tables on the trained second model (issue #17, docs/train.md): every quantizer at 2/3/4 bits,
# pruning at 50 % and 2:4, 2SSP at 25/37.5/50 %, low-rank at 50/75 % of the parameters. Calibration
# on training text, evaluation on the held-out split (scripts/prepare-train-text.sh makes both).
#   bench/train-quality-table.sh [MODEL] [SECTION...]     sections: gq quant prune lowrank (default all)
# Prints one TSV row per run: label, bits/weight (or kept share), held-out ppl before → after, ΔNLL, KL, time.
set -uo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-examples/llama-256-mix}; shift || true
SECTIONS=${*:-gq quant prune lowrank}
TT=target/train-text
[ -f $TT/heldout.txt ] || scripts/prepare-train-text.sh >/dev/null
# Calibration text: the first 40 KB of each training source (training split only).
[ -f $TT/calib.txt ] || for s in tinystories tinyshakespeare brown; do head -c 40000 $TT/$s-train.txt; echo; echo; done > $TT/calib.txt
OUT=${TMPDIR:-/tmp}/train-quality-out
COMMON="--calib $TT/calib.txt --samples 32 --seq-len 256 --eval $TT/heldout.txt --eval-seq-len 256 --max-windows 32 --quiet --force"
run() { # command label args...
  cmd=$1; label=$2; shift 2
  out=$(./shrink4j $cmd "$@" $COMMON $MODEL $OUT 2>&1)
  bits=$(echo "$out" | sed -n 's/.*block linears \([0-9.]*\) bits\/weight.*/\1/p' | head -1)
  ev=$(echo "$out" | grep -E "heldout" | sed -E 's/.*: ppl ([0-9.]+) → ([0-9.]+) \(ΔNLL ([-+0-9.]+) nats, KL ([0-9.]+).*/\1 → \2\t\3\t\4/' | head -1)
  t=$(echo "$out" | sed -n 's/.*total \([0-9.]*\) s.*/\1/p')
  echo -e "$cmd $label\t$bits\t$ev\t${t}s"
  echo "$out" | grep -iE "error|exception|refus" | head -2
}
for s in $SECTIONS; do case $s in
  gq) for b in 3 2 4; do run quantize "lnq $b-bit" --method lnq --bits $b; run quantize "guidedquant $b-bit" --method guidedquant --bits $b; done ;;
  quant) for b in 2 3 4; do for m in rtn gptq squeezellm guided-gptq; do run quantize "$m $b-bit" --method $m --bits $b; done; done ;;
  prune) for m in magnitude wanda sparsegpt; do
           run prune "$m 50%" --method $m --sparsity 0.5
           run prune "$m 2:4" --method $m --sparsity 0.5 --pattern 2:4
         done
         for sp in 0.25 0.375 0.5; do run prune "2ssp $sp" --method 2ssp --sparsity $sp; done ;;
  lowrank) for r in 0.5 0.75; do for m in svd whitened-svd lost; do run lowrank "$m P=$r" --method $m --params-ratio $r; done; done ;;
esac; done
