#pragma once
// Checks on numeric flag values, for `->check(...)`. CLI11's own (CLI::PositiveNumber, Range)
// print their bounds with std::to_string — a 309-digit DBL_MAX — and call a non-number "not in
// range"; these name the rule and echo the value as typed. CLI11 prefixes the option's name:
//   --batch: must be a positive integer, got 0
//   --lr: 'abc' is not a number
#include <CLI/CLI.hpp>
#include <cstdint>

namespace electra::cli {

CLI::Validator integer_in(std::int64_t minimum, std::int64_t maximum);
CLI::Validator positive_integer();                         // ≥ 1
CLI::Validator non_negative_integer();                     // ≥ 0
CLI::Validator number_in(double minimum, double maximum);  // finite, inclusive bounds
CLI::Validator positive_number();                          // finite, > 0
CLI::Validator non_negative_number();                      // finite, ≥ 0

// Gives every integer (INT, UINT) or floating-point (FLOAT) option of `app` and its subcommands
// the syntax check of its type, run before the command's own checks: an option without a range
// still refuses "abc" or "1.5" in those words (not CLI11's "Could not convert"), an unsigned one
// refuses "-1" (which CLI11 would wrap to 2^64-1), and integers are passed on in plain decimal
// (CLI11 alone reads "010" as octal 8 and "0x10" as 16).
void add_numeric_syntax_checks(CLI::App& app);

}  // namespace electra::cli
