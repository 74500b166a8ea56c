#include "core/yaml_reader.hpp"

#include <gtest/gtest.h>

#include "core/config_error.hpp"

namespace lxcdn {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(YamlReader, ReadsTypedValuesAndKeepsDefaults) {
  yaml_map m(parse_yaml("a: hello\nb: true\nc: 42\nd: 5s\n", "t.yaml"), "", "t.yaml");
  std::string a;
  bool b = false;
  unsigned c = 0;
  std::chrono::milliseconds d{0}, e{7};
  m.get("a", a);
  m.get("b", b);
  m.get("c", c);
  m.get_duration("d", d);
  m.get_duration("e", e);
  m.finish();
  EXPECT_EQ(a, "hello");
  EXPECT_TRUE(b);
  EXPECT_EQ(c, 42u);
  EXPECT_EQ(d, std::chrono::seconds(5));
  EXPECT_EQ(e, std::chrono::milliseconds(7));
}

TEST(YamlReader, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of([] {
              yaml_map m(parse_yaml("x: 1\nlimits:\n  timeout: soon\n", "o.yaml"), "", "o.yaml");
              auto l = m.child("limits");
              std::chrono::milliseconds d{};
              l.get_duration("timeout", d);
            }),
            "o.yaml:3: limits.timeout: expected a duration like 10s, 500ms, 2m, 1h or 3d, got "
            "'soon'");
  EXPECT_EQ(error_of([] {
              yaml_map m(parse_yaml("root: /x\nlisen: []\n", "o.yaml"), "", "o.yaml");
              std::string r;
              m.get("root", r);
              m.finish();
            }),
            "o.yaml:2: lisen: unknown key");
  EXPECT_EQ(error_of([] { parse_yaml("a: [1, 2\nb: c\n", "bad.yaml"); }).substr(0, 11),
            "bad.yaml:2:");
  EXPECT_EQ(error_of([] { load_yaml_file("/nonexistent/x.yaml"); }),
            "/nonexistent/x.yaml: cannot read config file");
}

}  // namespace
}  // namespace lxcdn
