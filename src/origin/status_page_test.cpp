#include "origin/status_page.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "origin/mirrors_command.hpp"

namespace lxcdn::origin {
namespace {

status_row row() {
  status_row r;
  auto& m = r.entry.mirror;
  m.name = "uk<1>";
  m.https_url = "https://uk.example.org:8443/lxc";
  m.country = "GB";
  m.continent = "EU";
  m.place = "London, UK";
  m.capacity_mbps = 100000;
  m.operated_by = "Canonical & co";
  m.state = selection::operator_state::draining;
  r.entry.configured_state = selection::operator_state::active;
  r.entry.set_by_admin = true;
  r.entry.health.name = m.name;
  r.entry.health.state = health::health_state::up;
  r.entry.health.last_probe = 990;
  r.entry.health.last_ok = true;
  r.entry.health.last_reason = "ok";
  r.redirects_per_minute = 12.5;
  r.redirects_total = 40;
  return r;
}

TEST(StatusPage, HtmlListsTheMirrorEscaped) {
  auto text = render_status_html({row()}, 1000);
  for (const char* part : {"uk.example.org:8443", "London, UK", "100Gbps", "Canonical &amp; co",
                           "uk&lt;1&gt;", "draining (admin)", ">up<", "10 s ago", "12.5"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part;
  }
  EXPECT_EQ(text.find("uk<1>"), std::string::npos);
}

TEST(StatusPage, JsonHasEveryField) {
  auto v = boost::json::parse(render_status_json({row()}, 1000)).as_object();
  EXPECT_EQ(v.at("generated").as_int64(), 1000);
  auto m = v.at("mirrors").as_array().at(0).as_object();
  EXPECT_EQ(m.at("name").as_string(), "uk<1>");
  EXPECT_TRUE(m.at("http").is_null());
  EXPECT_EQ(m.at("state").as_string(), "draining");
  EXPECT_EQ(m.at("configured_state").as_string(), "active");
  EXPECT_EQ(m.at("health").as_string(), "up");
  EXPECT_EQ(m.at("last_check").as_int64(), 990);
  EXPECT_EQ(m.at("redirects_total").as_int64(), 40);
  EXPECT_DOUBLE_EQ(m.at("redirects_per_minute").to_number<double>(), 12.5);
  auto never = row();
  never.entry.health.last_probe = 0;
  auto n = boost::json::parse(render_mirror_json(never)).as_object();
  EXPECT_TRUE(n.at("last_check").is_null());
  EXPECT_TRUE(n.at("last_check_ok").is_null());
}

TEST(MirrorTable, FromTheListAndFromOneMirror) {
  auto list = render_mirror_table(render_status_json({row()}, 1000), 1000);
  EXPECT_NE(list.find("NAME"), std::string::npos);
  EXPECT_NE(list.find("uk<1>"), std::string::npos);
  EXPECT_NE(list.find("draining*"), std::string::npos);
  EXPECT_NE(list.find("10s ago"), std::string::npos);
  EXPECT_NE(render_mirror_table(render_mirror_json(row()), 1000).find("uk<1>"),
            std::string::npos);
  EXPECT_EQ(render_mirror_table("not json", 0), "");
}

TEST(MirrorTable, AdminUrl) {
  EXPECT_EQ(admin_url_of("127.0.0.1", 9180), "http://127.0.0.1:9180");
  EXPECT_EQ(admin_url_of("::1", 9180), "http://[::1]:9180");
}

}  // namespace
}  // namespace lxcdn::origin
