#include "publish/publish_config.hpp"

#include <gtest/gtest.h>

#include "core/config_error.hpp"

namespace lxcdn::publish {
namespace {

const char* minimal = R"(incoming: in
work: /srv/work
publish:
  targets: [/srv/a, "node2:/srv/b", rel]
signing:
  key: ABCDEF
)";

TEST(PublishConfig, MinimalWithDefaults) {
  auto c = parse_publish_config(minimal, "/etc/lxcdn/publish.yaml");
  EXPECT_EQ(c.incoming, "/etc/lxcdn/in");
  EXPECT_EQ(c.work, "/srv/work");
  EXPECT_EQ(c.targets, (std::vector<std::string>{"/srv/a", "node2:/srv/b", "/etc/lxcdn/rel"}));
  EXPECT_EQ(c.signing.key, "ABCDEF");
  EXPECT_EQ(c.retention.keep, 3u);
  EXPECT_EQ(c.retention.grace, std::chrono::hours(24));
  EXPECT_EQ(c.validation_required, std::vector<std::string>{"*"});
  EXPECT_TRUE(c.deltas);
  EXPECT_EQ(c.aliases.default_variant, "default");
}

TEST(PublishConfig, EverySection) {
  auto c = parse_publish_config(std::string(minimal) + R"(retention:
  keep: 2
  grace: 2h
  generations: 4
validation:
  required: [debian]
deltas: false
aliases:
  default_variant: cloud
  default_variants: ["alpine=default"]
  release_aliases: ["debian/bookworm=12"]
requirements:
  - match: centos/7
    set: ["cgroup=v1", "secureboot=false"]
)",
                                "p.yaml");
  EXPECT_EQ(c.retention.keep, 2u);
  EXPECT_EQ(c.retention.grace, std::chrono::hours(2));
  EXPECT_EQ(c.retention.generations, 4u);
  EXPECT_EQ(c.validation_required, std::vector<std::string>{"debian"});
  EXPECT_FALSE(c.deltas);
  EXPECT_EQ(c.aliases.default_variant, "cloud");
  EXPECT_EQ(c.aliases.os_default_variant.at("alpine"), "default");
  EXPECT_EQ(c.aliases.release_names.at("debian/bookworm"), "12");
  ASSERT_EQ(c.requirements.size(), 1u);
  EXPECT_EQ(c.requirements[0].set.at("cgroup"), "v1");
}

TEST(PublishConfig, ErrorsNameFileLineAndKey) {
  const std::pair<std::string, const char*> cases[] = {
      {"work: w\npublish: {targets: [a]}\nsigning: {key: k}\n", "incoming"},
      {std::string(minimal) + "retention:\n  keep: 0\n", "p.yaml:8: retention.keep"},
      {std::string(minimal) + "retention:\n  grace: soon\n", "retention.grace"},
      {std::string(minimal) + "aliases:\n  release_aliases: [\"bookworm=12\"]\n",
       "aliases.release_aliases"},
      {std::string(minimal) + "requirements:\n  - match: x\n    set: [novalue]\n",
       "requirements[0].set"},
      {std::string(minimal) + "targetz: [x]\n", "targetz"},
      {"incoming: i\nwork: w\npublish:\n  targets: []\nsigning: {key: k}\n", "publish.targets"},
  };
  for (const auto& [text, where] : cases) {
    try {
      parse_publish_config(text, "p.yaml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace lxcdn::publish
