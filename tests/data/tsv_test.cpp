// GLUE-style TSV reading: columns by name and index, headers, pairs, bad input.
#include "data/tsv.hpp"

#include <doctest/doctest.h>

#include <string>

#include "engine/error.hpp"

using namespace electra;

TEST_CASE("tsv: single-sentence file with header by column name") {
  const auto examples = parse_labelled_tsv("sentence\tlabel\nit was good\t1\r\n\nit was bad\t0\n",
                                           TsvColumns::defaults_for("single"), "mem");
  REQUIRE(examples.size() == 2);
  CHECK(examples[0].text_a == "it was good");
  CHECK(examples[0].label == "1");
  CHECK_FALSE(examples[0].text_b.has_value());
  CHECK(examples[1].text_a == "it was bad");
  CHECK(examples[1].label == "0");  // '\r' stripped, blank line skipped
}

TEST_CASE("tsv: pair task, columns in any order, extra columns ignored") {
  const std::string text =
      "index\tsentence1\tsentence2\tlabel\n0\tA man eats.\tSomeone eats.\tentailment\n";
  const auto examples = parse_labelled_tsv(text, TsvColumns::defaults_for("pair"), "rte");
  REQUIRE(examples.size() == 1);
  CHECK(examples[0].text_a == "A man eats.");
  CHECK(examples[0].text_b.value() == "Someone eats.");
  CHECK(examples[0].label == "entailment");
}

TEST_CASE("tsv: no header, columns by index (CoLA layout)") {
  TsvColumns columns = TsvColumns::defaults_for("single", false);
  columns.text_a = "3";
  columns.label = "1";
  const auto examples = parse_labelled_tsv(
      "gj04\t1\t\tThe book was read.\ngj04\t0\t*\tRead book the.\n", columns, "cola");
  REQUIRE(examples.size() == 2);
  CHECK(examples[1].text_a == "Read book the.");
  CHECK(examples[1].label == "0");
}

TEST_CASE("tsv: a column index of SIZE_MAX is refused, not wrapped to column 0") {
  // Found by fuzz_tsv: index + 1 wrapped to 0 and the field read ran past the line.
  TsvColumns columns = TsvColumns::defaults_for("single", false);
  columns.label = "18446744073709551615";
  CHECK_THROWS_AS(parse_labelled_tsv("a\tb\n", columns, "f.tsv"), Error);
}

TEST_CASE("tsv: errors name the source, the line and the column") {
  const TsvColumns columns = TsvColumns::defaults_for("single");
  CHECK_THROWS_WITH_AS(parse_labelled_tsv("text\tlabel\nx\t1\n", columns, "f.tsv"),
                       doctest::Contains("no text column 'sentence'"), Error);
  CHECK_THROWS_WITH_AS(parse_labelled_tsv("sentence\tlabel\nx\t1\ny\n", columns, "f.tsv"),
                       doctest::Contains("f.tsv:3"), Error);
  CHECK_THROWS_WITH_AS(parse_labelled_tsv("sentence\tlabel\nx\t\n", columns, "f.tsv"),
                       doctest::Contains("empty label"), Error);
  CHECK_THROWS_WITH_AS(parse_labelled_tsv("sentence\tlabel\n", columns, "f.tsv"),
                       doctest::Contains("no examples"), Error);
  CHECK_THROWS_AS(TsvColumns::defaults_for("triple"), Error);
}

TEST_CASE("tsv: label lists and distinct labels") {
  CHECK(split_label_list("ham,spam", "--labels") == std::vector<std::string>{"ham", "spam"});
  CHECK_THROWS_WITH_AS(split_label_list("a,,b", "--labels"), doctest::Contains("empty label"),
                       Error);
  CHECK_THROWS_WITH_AS(split_label_list("a,b,a", "--labels"), doctest::Contains("repeated"), Error);
  const auto examples =
      read_labelled_tsv(std::string(ELECTRA_TEST_DATA_DIR) + "/labelled_sample.tsv",
                        TsvColumns::defaults_for("single"));
  CHECK(examples.size() == 200);
  CHECK(distinct_labels(examples) == std::vector<std::string>{"negative", "positive"});
}

TEST_CASE("tsv: a leading UTF-8 byte-order mark is skipped, with or without a header") {
  const std::string bom = "\xEF\xBB\xBF";
  const auto examples = parse_labelled_tsv(bom + "sentence\tlabel\nit was good\t1\n",
                                           TsvColumns::defaults_for("single"), "excel.tsv");
  REQUIRE(examples.size() == 1);
  CHECK(examples[0].text_a == "it was good");
  const auto headerless =
      parse_labelled_tsv(bom + "first\t0\n", TsvColumns::defaults_for("single", false), "mem");
  REQUIRE(headerless.size() == 1);
  CHECK(headerless[0].text_a == "first");  // not "\xEF\xBB\xBFfirst"
  // Only at the very start: inside a text it is data, kept as written.
  const auto inner = parse_labelled_tsv("sentence\tlabel\n" + bom + "x\t1\n",
                                        TsvColumns::defaults_for("single"), "mem");
  CHECK(inner[0].text_a == bom + "x");
}
