// examples/common/plot_script.hpp — runs one of dphys's plot scripts (tools/*.py) from an example
// program. A missing interpreter, script or matplotlib is not an error of the run: the caller
// prints the reason as a warning and goes on.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace example {

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

/// Runs `python script args...`; returns "" on success, else why the figure was not drawn.
inline std::string run_plot_script(const std::string& python, const std::filesystem::path& script,
                                   const std::vector<std::string>& args) {
  std::error_code ec;
  if (script.empty() || !std::filesystem::is_regular_file(script, ec))
    return "plot script not found (" + script.string() + ")";
  if (!std::filesystem::exists(python, ec)) return "no python at " + python;
  std::string cmd = shell_quote(python) + " " + shell_quote(script.string());
  for (const auto& a : args) cmd += " " + shell_quote(a);
  std::fflush(stdout);
  const int rc = std::system(cmd.c_str());
  if (rc != 0)
    return "the plot script failed (exit status " + std::to_string(rc) +
           "; status 3 = matplotlib missing)";
  return "";
}

}  // namespace example
