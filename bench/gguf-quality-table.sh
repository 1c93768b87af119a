#!/bin/bash
# Quality at equal size, same format, same engine (issue 15): llama.cpp's own Q4_0/Q4_1 of the demo
# against shrink4j RTN, GPTQ and guided-GPTQ written as Q4_0/Q4_1, every file scored by llama.cpp
# (its libraries through FFM, fetched by the test helpers into ~/.cache/shrink4j): ΔNLL against the
# F32 export and KL(F32 ‖ file). Calibrate on the first half of tinystories-valid, evaluate its
# second half and tinyshakespeare. Prints a Markdown table. Usage: bench/gguf-quality-table.sh [WORK]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-$(mktemp -d /tmp/gguf-quality.XXXXXX)}
mkdir -p "$WORK"
# The split: calibration = the first half of the TinyStories text (to a story boundary), evaluation = the rest.
python3 -c "import sys; t=open('examples/text/tinystories-valid.txt').read(); c=t.index('\n\n', len(t)//2)
open(sys.argv[1]+'/calib.txt','w').write(t[:c]); open(sys.argv[1]+'/heldout.txt','w').write(t[c+2:])" "$WORK"
ENTRIES=()
for m in rtn gptq guided-gptq; do
  for t in Q4_0 Q4_1; do
    sym=""; [ $t = Q4_0 ] && sym="--sym"
    ./shrink4j quantize --method $m --bits 4 $sym --group-size 32 --calib "$WORK/calib.txt" --samples 64 --seq-len 256 \
      --no-eval --quiet --force examples/stories260K "$WORK/$m-$t" >/dev/null
    ENTRIES+=("$m=$t=$WORK/$m-$t")
  done
done
mvn -B -q -o -pl model -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$WORK/cp.txt" >/dev/null
CP=model/target/test-classes:model/target/classes:tensors/target/test-classes:tensors/target/classes:$(cat "$WORK/cp.txt")
# A JDK 25 (the launcher's rule, shortened): SHRINK4J_JAVA, JAVA_HOME, PATH, /usr/lib/jvm.
JAVA=""
for c in "${SHRINK4J_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
  [ -n "$c" ] && [ -x "$c" ] || continue
  v=$("$c" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1)
  if [ "${v:-0}" -ge 25 ]; then JAVA=$c; break; fi
done
[ -n "$JAVA" ] || { echo "no JDK >= 25 found" >&2; exit 1; }
"$JAVA" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$CP" dev.shrink4j.model.gguf.GgufQualityTable \
  examples/stories260K "$WORK" 256 24 "$WORK/heldout.txt,examples/text/tinyshakespeare.txt" "${ENTRIES[@]}"
