// dphys/nbody/csv.hpp — particles as CSV (spec G2): header `x,y,z,vx,vy,vz,mass`, one particle per
// line, every value at full double precision (max_digits10 significant digits, so a save/load
// round trip is bit-exact). save_csv writes atomically; load_csv rejects malformed input with a
// csv_error naming file, line, column and rule. No extension points. POSIX (atomic rename).
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <dphys/nbody/particles.hpp>
#include <dphys/run/atomic_file.hpp>

namespace dphys::nbody {

/// Malformed particle CSV. what() reads "<file>:<line>:<column>: <rule>" (line and column 1-based;
/// column 0 when the rule concerns a whole line or file).
struct csv_error : std::runtime_error {
  std::string file;
  std::size_t line = 0;
  std::size_t column = 0;
  std::string rule;
  csv_error(std::string f, std::size_t l, std::size_t c, std::string r)
      : std::runtime_error(f + ":" + std::to_string(l) + ":" + std::to_string(c) + ": " + r),
        file(std::move(f)),
        line(l),
        column(c),
        rule(std::move(r)) {}
};

inline constexpr std::string_view csv_header = "x,y,z,vx,vy,vz,mass";
inline constexpr std::array<std::string_view, 7> csv_columns{"x",  "y",  "z",   "vx",
                                                             "vy", "vz", "mass"};

/// The CSV text of p (header line, then one line per particle, '\n' line ends).
template <class T>
[[nodiscard]] std::string to_csv(const particles<T>& p) {
  std::string out(csv_header);
  out += '\n';
  char buf[64];
  for (std::size_t i = 0; i < p.size(); ++i) {
    const auto r = p.row(i);
    for (std::size_t k = 0; k < 7; ++k) {
      const auto res =
          std::to_chars(buf, buf + sizeof buf, static_cast<double>(r[k]),
                        std::chars_format::general, std::numeric_limits<double>::max_digits10);
      if (k) out += ',';
      out.append(buf, res.ptr);
    }
    out += '\n';
  }
  return out;
}

/// Writes p to `file` atomically (temp file + rename: a previous file survives any failure).
/// Throws run::io_error naming the file and the OS reason.
template <class T>
void save_csv(const particles<T>& p, const std::filesystem::path& file) {
  run::write_file_atomic(file, to_csv(p));
}

/// Parses CSV text; `file` names the source in error messages. Rules: the first line is exactly
/// the header (spaces around names allowed); every further non-blank line has 7 fields, each a
/// finite decimal number (std::from_chars syntax, surrounding spaces allowed); mass >= 0; at least
/// one particle. CRLF line ends are accepted. Throws csv_error.
inline particles<double> parse_csv(std::string_view text, const std::string& file = "<text>") {
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
      s.remove_suffix(1);
    return s;
  };
  particles<double> p;
  std::size_t line_no = 0;
  bool header_seen = false;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!header_seen) {
      // header: compare field by field so the message can name the column
      std::size_t col = 0;
      std::string_view rest = line;
      bool more = true;
      while (more) {
        const std::size_t comma = rest.find(',');
        const std::string_view name = trim(rest.substr(0, comma));
        more = comma != std::string_view::npos;
        rest.remove_prefix(more ? comma + 1 : rest.size());
        if (col >= csv_columns.size())
          throw csv_error(
              file, line_no, col + 1,
              "header has more than 7 columns; expected '" + std::string(csv_header) + "'");
        if (name != csv_columns[col])
          throw csv_error(file, line_no, col + 1,
                          "header column is '" + std::string(name) + "', expected '" +
                              std::string(csv_columns[col]) + "' (header must be '" +
                              std::string(csv_header) + "')");
        ++col;
      }
      if (col != csv_columns.size())
        throw csv_error(file, line_no, col + 1,
                        "header has " + std::to_string(col) + " columns; expected '" +
                            std::string(csv_header) + "'");
      header_seen = true;
      continue;
    }
    if (trim(line).empty()) continue;
    std::array<double, 7> row{};
    std::size_t col = 0;
    std::string_view rest = line;
    bool more = true;
    while (more) {
      const std::size_t comma = rest.find(',');
      const std::string_view field = trim(rest.substr(0, comma));
      more = comma != std::string_view::npos;
      rest.remove_prefix(more ? comma + 1 : rest.size());
      if (col >= 7)
        throw csv_error(file, line_no, col + 1, "more than 7 fields (x,y,z,vx,vy,vz,mass)");
      const std::string column_name(csv_columns[col]);
      double v = 0.0;
      const auto res = std::from_chars(field.data(), field.data() + field.size(), v);
      if (field.empty())
        throw csv_error(file, line_no, col + 1, column_name + ": empty field; expected a number");
      if (res.ec == std::errc::result_out_of_range)
        throw csv_error(file, line_no, col + 1,
                        column_name + ": '" + std::string(field) + "' is out of double range");
      if (res.ec != std::errc{} || res.ptr != field.data() + field.size())
        throw csv_error(file, line_no, col + 1,
                        column_name + ": '" + std::string(field) + "' is not a number");
      if (!std::isfinite(v))
        throw csv_error(file, line_no, col + 1,
                        column_name + ": '" + std::string(field) + "' is not finite");
      if (col == 6 && v < 0.0)
        throw csv_error(file, line_no, col + 1,
                        "mass: '" + std::string(field) + "' is negative; masses must be >= 0");
      row[col++] = v;
    }
    if (col != 7)
      throw csv_error(file, line_no, col + 1,
                      std::to_string(col) + " fields; expected 7 (x,y,z,vx,vy,vz,mass)");
    p.push_back(row);
  }
  if (!header_seen)
    throw csv_error(file, 1, 0, "empty file; expected header '" + std::string(csv_header) + "'");
  if (p.empty()) throw csv_error(file, line_no, 0, "no particles after the header");
  return p;
}

/// Reads particles from a CSV file (see parse_csv for the rules). Throws run::io_error if the file
/// cannot be read, csv_error if it is malformed.
inline particles<double> load_csv(const std::filesystem::path& file) {
  return parse_csv(run::read_file(file), file.string());
}

}  // namespace dphys::nbody
