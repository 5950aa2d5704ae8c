// Numeric flag checks: see flag_checks.hpp.
#include "tools/flag_checks.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

namespace electra::cli {
namespace {

constexpr std::int64_t no_maximum = std::numeric_limits<std::int64_t>::max();

// The value as a decimal integer, or the message saying why it is not one.
std::optional<std::string> integer_error(const std::string& text, std::int64_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range)
    return "'" + text + "' is out of range for an integer";
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    return "'" + text + "' is not an integer";
  return std::nullopt;
}

std::optional<std::string> number_error(const std::string& text, double& value) {
  char* end = nullptr;
  value = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() ||
      std::isspace(static_cast<unsigned char>(text[0])))
    return "'" + text + "' is not a number";
  if (!std::isfinite(value)) return "'" + text + "' is not a finite number";
  return std::nullopt;
}

std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string integer_rule(std::int64_t minimum, std::int64_t maximum) {
  if (maximum == no_maximum) {
    if (minimum == 1) return "must be a positive integer";
    if (minimum == 0) return "must be a non-negative integer";
    return "must be an integer ≥ " + std::to_string(minimum);
  }
  return "must be an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum);
}

// A finite number above `lower` (or at it, when inclusive) and at most `upper`.
CLI::Validator number_check(double lower, bool lower_inclusive, double upper, std::string rule) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        if (const auto error = number_error(text, value)) return *error;
        const bool above = lower_inclusive ? value >= lower : value > lower;
        if (!above || value > upper) return rule + ", got " + text;
        return {};
      },
      "");
}

}  // namespace

CLI::Validator integer_in(std::int64_t minimum, std::int64_t maximum) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        std::int64_t value = 0;
        if (const auto error = integer_error(text, value)) return *error;
        if (value < minimum || value > maximum)
          return integer_rule(minimum, maximum) + ", got " + text;
        return {};
      },
      "");
}

CLI::Validator positive_integer() { return integer_in(1, no_maximum); }
CLI::Validator non_negative_integer() { return integer_in(0, no_maximum); }

CLI::Validator number_in(double minimum, double maximum) {
  return number_check(
      minimum, true, maximum,
      "must be between " + format_number(minimum) + " and " + format_number(maximum));
}
CLI::Validator positive_number() {
  return number_check(0.0, false, std::numeric_limits<double>::max(), "must be a positive number");
}
CLI::Validator non_negative_number() {
  return number_check(0.0, true, std::numeric_limits<double>::max(),
                      "must be a non-negative number");
}

void add_numeric_syntax_checks(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();  // "INT", or "INT:…" with described checks
    auto is = [&](const std::string& name) {
      return type == name || type.rfind(name + ":", 0) == 0;
    };
    // transform(): runs before the command's own checks and may rewrite the value, which is then
    // what CLI11 converts — in decimal, whatever it would make of "010".
    if (is("INT")) {
      option->transform(CLI::Validator(
          [](std::string& text) -> std::string {
            std::int64_t value = 0;
            if (const auto error = integer_error(text, value)) return *error;
            text = std::to_string(value);
            return {};
          },
          ""));
    } else if (is("UINT")) {
      option->transform(CLI::Validator(
          [](std::string& text) -> std::string {
            if (!text.empty() && text[0] == '-')
              return "must be a non-negative integer, got " + text;
            std::uint64_t value = 0;
            const auto [end, error] =
                std::from_chars(text.data(), text.data() + text.size(), value);
            if (error == std::errc::result_out_of_range)
              return "'" + text + "' is out of range for an integer";
            if (text.empty() || error != std::errc() || end != text.data() + text.size())
              return "'" + text + "' is not an integer";
            text = std::to_string(value);
            return {};
          },
          ""));
    } else if (is("FLOAT")) {
      option->transform(CLI::Validator(
          [](std::string& text) -> std::string {
            double value = 0;
            return number_error(text, value).value_or("");
          },
          ""));
    }
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    add_numeric_syntax_checks(*sub);
}

}  // namespace electra::cli
