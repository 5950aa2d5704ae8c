// libFuzzer target: arbitrary bytes as a labelled TSV file (data/tsv.hpp), the input of
// `finetune` and `evaluate`, read the way they read it: columns by header name or by index,
// single or pair task, with or without labels, then the task's label set. The reader must either
// refuse the text with a one-line electra::Error or return examples that hold what the chosen
// columns promise.
//
// Input layout: byte 0 chooses the options (bit 0 header, bit 1 pair task, bit 2 unlabelled,
// bit 3 custom column specs); with bit 3 the first line holds "text_a<TAB>text_b<TAB>label"
// specs (names or 0-based indices, as --text-column style flags would); the rest is the file.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "data/tsv.hpp"
#include "engine/error.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();  // libFuzzer reports the input that got here
}

bool one_field(std::string_view text) {
  return text.find_first_of("\t\n") == std::string_view::npos;
}

electra::TsvColumns choose_columns(std::uint8_t options, std::string_view& rest) {
  electra::TsvColumns columns =
      electra::TsvColumns::defaults_for(options & 2 ? "pair" : "single", (options & 1) != 0);
  if (options & 4) columns.label.clear();
  if (options & 8) {
    const std::size_t end = std::min(rest.find('\n'), rest.size());
    const std::string_view specs = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    std::string* targets[] = {&columns.text_a, &columns.text_b, &columns.label};
    std::size_t start = 0;
    for (std::string* target : targets) {
      if (start > specs.size()) break;
      const std::size_t tab = std::min(specs.find('\t', start), specs.size());
      *target = std::string(specs.substr(start, tab - start));
      start = tab + 1;
    }
    if (columns.text_a.empty()) columns.text_a = "0";  // the CLI never passes an empty text column
  }
  return columns;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const electra::TsvColumns columns = choose_columns(data[0], rest);
  const std::string text(rest);
  std::vector<electra::LabelledExample> examples;
  try {
    examples = electra::parse_labelled_tsv(text, columns, "fuzz.tsv");
  } catch (const electra::Error& error) {
    require(std::strchr(error.what(), '\n') == nullptr);  // refused in one line
    return 0;
  }
  require(!examples.empty());
  require(examples.size() <=
          static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  for (const electra::LabelledExample& example : examples) {
    require(one_field(example.text_a));
    require(example.text_b.has_value() == !columns.text_b.empty());
    if (example.text_b) require(one_field(*example.text_b));
    require(one_field(example.label));
    require(example.label.empty() == columns.label.empty());
  }

  // The task's label set (finetune without --labels), and --labels giving the same set back.
  const std::vector<std::string> labels = electra::distinct_labels(examples);
  require(std::is_sorted(labels.begin(), labels.end()));
  require(std::adjacent_find(labels.begin(), labels.end()) == labels.end());
  for (const electra::LabelledExample& example : examples)
    require(std::binary_search(labels.begin(), labels.end(), example.label));
  if (columns.label.empty()) return 0;
  std::string list;
  for (const std::string& label : labels) {
    if (label.find(',') != std::string::npos) return 0;  // --labels cannot name such a label
    list += (list.empty() ? "" : ",") + label;
  }
  require(electra::split_label_list(list, "--labels") == labels);
  return 0;
}
