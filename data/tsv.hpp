#pragma once
// GLUE-style labelled TSV files for fine-tuning and evaluation: one example a line, fields split
// on tabs, no quoting (as GLUE's SST-2, CoLA, MRPC, RTE, STS-B files are written). Columns are
// chosen by header name ("sentence", "label") or by 0-based index ("1"), so any GLUE task (or
// data-cache/spam/*.tsv) reads with the right flags:
//   SST-2  header, text "sentence", label "label"           (the defaults for a single task)
//   RTE    header, text "sentence1" + "sentence2", "label"  (the defaults for a pair task)
//   CoLA   no header, text 3, label 1
//   STS-B  header, text "sentence1" + "sentence2", label "score" (a real number: regression)
// Blank lines are skipped; "\r\n" endings and a leading UTF-8 byte-order mark are accepted. A
// line with too few fields, an unknown column name or an empty label is an error naming the file
// and the line.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace electra {

struct LabelledExample {
  std::string text_a;
  std::optional<std::string> text_b;  // set for pair tasks
  std::string label;                  // as written ("spam", "1", "3.8"); empty when unlabelled
};

struct TsvColumns {
  bool has_header = true;
  std::string text_a = "sentence";  // a header name, or a 0-based index written in decimal
  std::string text_b;               // empty: single-sentence task
  std::string label = "label";      // empty: the file has no labels (prediction only)

  // The defaults for "single" (sentence, label) or "pair" (sentence1, sentence2, label); with
  // has_header = false the indices 0,1 or 0,1,2 instead. Any other task name is an error.
  static TsvColumns defaults_for(const std::string& task, bool has_header = true);
};

// Reads every example of `path`; errors name the file (and line).
std::vector<LabelledExample> read_labelled_tsv(const std::string& path, const TsvColumns& columns);

// The same from text already in memory; `source` names it in errors.
std::vector<LabelledExample> parse_labelled_tsv(const std::string& text, const TsvColumns& columns,
                                                const std::string& source);

// The distinct labels sorted by text, e.g. {"ham", "spam"}: the class ids of a fine-tuning run
// unless --labels gives an order (so "0"/"1" labels get ids 0/1, and ham/spam make spam class 1).
std::vector<std::string> distinct_labels(const std::vector<LabelledExample>& examples);

// "a,b,c" → {"a","b","c"}; empty entries and duplicates are errors naming the flag.
std::vector<std::string> split_label_list(const std::string& list, const std::string& flag_name);

}  // namespace electra
