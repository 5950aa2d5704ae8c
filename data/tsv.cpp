// GLUE-style TSV reading: see tsv.hpp.
#include "data/tsv.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "engine/error.hpp"

namespace electra {
namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

std::optional<std::size_t> parse_index(const std::string& text) {
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  // SIZE_MAX is no usable index: "index + 1 fields needed" would wrap to 0 and the field read
  // run past the line (--label-column 18446744073709551615; tools/fuzz/regressions/fuzz_tsv/).
  if (value == std::numeric_limits<std::size_t>::max()) return std::nullopt;
  return value;
}

// The field index a column spec designates: a header name, else a decimal index.
std::size_t resolve_column(const std::string& spec, const std::vector<std::string_view>* header,
                           const char* role, const std::string& source) {
  if (header) {
    const auto found = std::find(header->begin(), header->end(), spec);
    if (found != header->end()) return static_cast<std::size_t>(found - header->begin());
  }
  const std::optional<std::size_t> index = parse_index(spec);
  if (index) return *index;
  std::string names;
  if (header)
    for (std::string_view name : *header) names += (names.empty() ? "" : ", ") + std::string(name);
  throw_error("tsv: ", source, ": no ", role, " column '", spec, "'",
              header ? " in the header (" + names + ")"
                     : std::string(" (no header: give a 0-based index)"));
}

}  // namespace

TsvColumns TsvColumns::defaults_for(const std::string& task, bool has_header) {
  TsvColumns columns;
  columns.has_header = has_header;
  if (task == "single") {
    columns.text_a = has_header ? "sentence" : "0";
    columns.label = has_header ? "label" : "1";
  } else if (task == "pair") {
    columns.text_a = has_header ? "sentence1" : "0";
    columns.text_b = has_header ? "sentence2" : "1";
    columns.label = has_header ? "label" : "2";
  } else {
    throw_error("tsv: task '", task, "' is neither 'single' nor 'pair'");
  }
  return columns;
}

std::vector<LabelledExample> parse_labelled_tsv(const std::string& text, const TsvColumns& columns,
                                                const std::string& source) {
  std::vector<LabelledExample> examples;
  // A UTF-8 byte-order mark (Excel and Notepad write one) is not part of the first header name.
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  std::istringstream input(text.rfind(bom, 0) == 0 ? text.substr(bom.size()) : text);
  std::string line;
  std::vector<std::string> header_storage;
  std::vector<std::string_view> header;
  bool have_header = false;
  std::size_t a = 0, b = 0, label = 0, needed = 0;
  bool resolved = false;
  std::int64_t line_number = 0;
  while (std::getline(input, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (columns.has_header && !have_header) {
      for (std::string_view field : split_tabs(line)) header_storage.emplace_back(field);
      header.assign(header_storage.begin(), header_storage.end());
      have_header = true;
      continue;
    }
    if (!resolved) {
      const auto* names = columns.has_header ? &header : nullptr;
      a = resolve_column(columns.text_a, names, "text", source);
      needed = a + 1;
      if (!columns.text_b.empty()) {
        b = resolve_column(columns.text_b, names, "second text", source);
        needed = std::max(needed, b + 1);
      }
      if (!columns.label.empty()) {
        label = resolve_column(columns.label, names, "label", source);
        needed = std::max(needed, label + 1);
      }
      resolved = true;
    }
    const std::vector<std::string_view> fields = split_tabs(line);
    check(fields.size() >= needed, "tsv: ", source, ":", line_number, ": ", fields.size(),
          " tab-separated fields, the chosen columns need ", needed);
    LabelledExample example;
    example.text_a = std::string(fields[a]);
    if (!columns.text_b.empty()) example.text_b = std::string(fields[b]);
    if (!columns.label.empty()) {
      example.label = std::string(fields[label]);
      check(!example.label.empty(), "tsv: ", source, ":", line_number, ": empty label");
    }
    examples.push_back(std::move(example));
  }
  check(!examples.empty(), "tsv: ", source, ": no examples",
        have_header ? " after the header" : "");
  return examples;
}

std::vector<LabelledExample> read_labelled_tsv(const std::string& path, const TsvColumns& columns) {
  std::ifstream file(path, std::ios::binary);
  check(file.good(), "tsv: cannot open ", path);
  std::ostringstream text;
  text << file.rdbuf();
  return parse_labelled_tsv(text.str(), columns, path);
}

std::vector<std::string> distinct_labels(const std::vector<LabelledExample>& examples) {
  std::set<std::string> labels;
  for (const LabelledExample& example : examples) labels.insert(example.label);
  return {labels.begin(), labels.end()};
}

std::vector<std::string> split_label_list(const std::string& list, const std::string& flag_name) {
  std::vector<std::string> labels;
  std::set<std::string> seen;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = list.find(',', start);
    std::string label =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    check(!label.empty(), flag_name, " '", list, "': empty label");
    check(seen.insert(label).second, flag_name, " '", list, "': label '", label, "' repeated");
    labels.push_back(std::move(label));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return labels;
}

}  // namespace electra
