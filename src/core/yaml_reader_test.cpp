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

// Found by the yaml_config fuzzer: a tag with no text after it is an empty scalar, which was
// taken as an empty path (a TLS listener then had "no" key file until the TLS setup failed).
TEST(YamlReader, EmptyPathsAreRefusedWithTheirLine) {
  for (const char* value : {"!publilcerts/k", "\"\"", "''"}) {
    SCOPED_TRACE(value);
    const std::string doc = std::string("tls:\n  key: ") + value + "\n";
    EXPECT_EQ(error_of([&] {
                yaml_map m(parse_yaml(doc, "o.yaml"), "", "o.yaml");
                auto tls = m.child("tls");
                std::filesystem::path key;
                tls.get_path("key", key);
              }),
              "o.yaml:2: tls.key: expected a path, got an empty value");
  }
}

TEST(YamlReader, ReadsNumbersAndStringLists) {
  yaml_map m(parse_yaml("lat: 50.11\nlon: -8\nc: [DE, AT]\nd:\n  - FR\ne: NL\n", "t.yaml"), "",
             "t.yaml");
  double lat = 0, lon = 0, absent = 7.5;
  std::vector<std::string> c, d, e, f{"kept"};
  m.get("lat", lat);
  m.get("lon", lon);
  m.get("absent", absent);
  m.get("c", c);
  m.get("d", d);
  m.get("e", e);
  m.get("f", f);
  m.finish();
  EXPECT_DOUBLE_EQ(lat, 50.11);
  EXPECT_DOUBLE_EQ(lon, -8.0);
  EXPECT_DOUBLE_EQ(absent, 7.5);
  EXPECT_EQ(c, (std::vector<std::string>{"DE", "AT"}));
  EXPECT_EQ(d, (std::vector<std::string>{"FR"}));
  EXPECT_EQ(e, (std::vector<std::string>{"NL"}));
  EXPECT_EQ(f, (std::vector<std::string>{"kept"}));
}

TEST(YamlReader, NumberAndListErrorsNameTheKey) {
  auto read_double = [](const char* text) {
    return error_of([text] {
      yaml_map m(parse_yaml(text, "g.yaml"), "", "g.yaml");
      double v = 0;
      m.get("lat", v);
    });
  };
  EXPECT_EQ(read_double("x: 1\nlat: north\n"), "g.yaml:2: lat: expected a number, got 'north'");
  EXPECT_EQ(read_double("lat: 5.5.5\n"), "g.yaml:1: lat: expected a number, got '5.5.5'");
  EXPECT_EQ(read_double("lat: nan\n"), "g.yaml:1: lat: expected a number, got 'nan'");
  EXPECT_EQ(read_double("lat: [1]\n"), "g.yaml:1: lat: expected a number");
  auto read_list = [](const char* text) {
    return error_of([text] {
      yaml_map m(parse_yaml(text, "g.yaml"), "", "g.yaml");
      std::vector<std::string> v;
      m.get("c", v);
    });
  };
  EXPECT_EQ(read_list("c: {a: 1}\n"), "g.yaml:1: c: expected a list of strings");
  EXPECT_EQ(read_list("c: [DE, [AT]]\n"), "g.yaml:1: c: item 2: expected a string");
}

}  // namespace
}  // namespace lxcdn
