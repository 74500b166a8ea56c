#pragma once

#include <string>
#include <vector>

#include "checkmirror/verdicts.hpp"

namespace lxcdn::checkmirror {

// Everything one `lxcdn check-mirror` run found, in the order the checks ran. A value.
struct report {
  std::string mirror_http;   // base URLs tested
  std::string mirror_https;
  std::string origin;
  std::vector<check_result> checks;
};

// True if every required check passed (the exit status is 0 exactly then). Pure.
bool report_passed(const report& r);

// The summary line: "summary: ready: all N required checks passed" or
// "summary: NOT ready: K of N required checks failed: a, b". Pure.
std::string summary_line(const report& r);

// The text a volunteer sends to the operators: a heading naming what was tested, one
// "PASS|FAIL name: detail" line per check, then the summary line. Pure.
std::string render_text(const report& r);

// The same as one JSON object: {"mirror":{"http","https"},"origin","passed","summary",
// "checks":[{"name","passed","required","detail"[,"seconds"]}]}, newline-terminated. Pure.
std::string render_json(const report& r);

}  // namespace lxcdn::checkmirror
