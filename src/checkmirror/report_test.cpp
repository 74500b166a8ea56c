#include "checkmirror/report.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace lxcdn::checkmirror {
namespace {

report sample() {
  report r{"http://m.example", "https://m.example", "https://images.example.net", {}};
  r.checks.push_back({"http-reachable", true, "answered"});
  r.checks.push_back({"fast-miss", true, "0.010 s", true, 0.01});
  r.checks.push_back({"status", true, "not an lxcdn mirror (optional)", false});
  return r;
}

TEST(Report, PassesOnlyIfEveryRequiredCheckPassed) {
  auto r = sample();
  EXPECT_TRUE(report_passed(r));
  EXPECT_EQ(summary_line(r), "summary: ready: all 2 required checks passed");
  r.checks[2].passed = false;  // optional: does not count
  EXPECT_TRUE(report_passed(r));
  r.checks[0].passed = false;
  r.checks[1].passed = false;
  EXPECT_FALSE(report_passed(r));
  EXPECT_EQ(summary_line(r),
            "summary: NOT ready: 2 of 2 required checks failed: http-reachable, fast-miss");
  EXPECT_FALSE(report_passed(report{}));  // nothing checked is not a pass
}

TEST(Report, TextHasOneLinePerCheckThenTheSummary) {
  auto r = sample();
  r.checks[1].passed = false;
  auto text = render_text(r);
  EXPECT_NE(text.find("mirror http://m.example and https://m.example, origin "
                      "https://images.example.net\n"),
            std::string::npos);
  EXPECT_NE(text.find("\nPASS http-reachable: answered\nFAIL fast-miss: 0.010 s\n"
                      "PASS status: not an lxcdn mirror (optional)\n"
                      "summary: NOT ready: 1 of 2 required checks failed: fast-miss\n"),
            std::string::npos)
      << text;
}

TEST(Report, JsonCarriesEveryCheckAndTheVerdict) {
  auto doc = boost::json::parse(render_json(sample())).as_object();
  EXPECT_EQ(doc.at("passed"), true);
  EXPECT_EQ(doc.at("origin"), "https://images.example.net");
  EXPECT_EQ(doc.at("mirror").at("https"), "https://m.example");
  auto& checks = doc.at("checks").as_array();
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[1].at("name"), "fast-miss");
  EXPECT_DOUBLE_EQ(checks[1].at("seconds").as_double(), 0.01);
  EXPECT_FALSE(checks[0].as_object().contains("seconds"));
  EXPECT_EQ(checks[2].at("required"), false);
}

}  // namespace
}  // namespace lxcdn::checkmirror
