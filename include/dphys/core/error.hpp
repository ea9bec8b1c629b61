// dphys/core/error.hpp — the library's error types. `config_error`: a configuration value broke
// a rule; its message names the field, the value, the rule (and the file the value came from).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace dphys {

/// Thrown when a configuration value is rejected: while reading JSON or command-line text, while
/// resolving a key, or by a validation rule. what() reads
///
///     config error: <field> = <value>: <rule>
///     config error: <file>: <field> = <value>: <rule>   (the value was read from <file>)
///     config error: <file>: <rule>                      (the whole file: unreadable, not JSON)
///
/// A value rejected at the top level of a document is reported with the field "(root)".
struct config_error : std::runtime_error {
  std::string field;  ///< dotted path, e.g. "env.num_bad_sources"; list elements "es.weights[2]"
  std::string value;  ///< the offending value as text (values read from JSON: as JSON)
  std::string rule;  ///< the rule broken: "<= env.num_sources (4)", "unknown key; valid keys: a, b"
  std::string file;  ///< the file the value came from; empty if none

  config_error(std::string field_path, std::string bad_value, std::string broken_rule,
               std::string source_file = {})
      : std::runtime_error(message(field_path, bad_value, broken_rule, source_file)),
        field(std::move(field_path)),
        value(std::move(bad_value)),
        rule(std::move(broken_rule)),
        file(std::move(source_file)) {}

  /// The text what() returns for these parts.
  static std::string message(const std::string& field, const std::string& value,
                             const std::string& rule, const std::string& file) {
    std::string text = "config error: ";
    if (!file.empty()) text += file + ": ";
    if (!field.empty() || !value.empty() || file.empty())
      text += (field.empty() ? "(root)" : field) + " = " + value + ": ";
    return text + rule;
  }
};

}  // namespace dphys
