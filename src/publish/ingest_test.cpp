#include "publish/ingest.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace lxcdn::publish {
namespace {

incoming_facts good() {
  incoming_facts f;
  f.rel = "debian/bookworm/amd64/default/20240101_05:24";
  f.identity = identity_from_path(f.rel);
  f.complete = true;
  f.validated = true;
  f.validation_required = true;
  f.selection.metadata = "incus.tar.xz";
  f.selection.roots = {simplestreams::root_kind::squashfs};
  return f;
}

TEST(DecideIngest, Table) {
  struct {
    const char* name;
    std::function<void(incoming_facts&)> mutate;
    ingest_action action;
    const char* reason;
  } cases[] = {
      {"good", [](incoming_facts&) {}, ingest_action::take, ""},
      {"not complete", [](incoming_facts& f) { f.complete = false; }, ingest_action::skip,
       "incomplete"},
      {"bad identity", [](incoming_facts& f) { f.identity = identity_from_path("a/b/sparc/d/20240101"); },
       ingest_action::skip, "sparc"},
      {"lxc only", [](incoming_facts& f) { f.lxc_only = true; }, ingest_action::skip, "LXC-only"},
      {"no root", [](incoming_facts& f) { f.selection.skip_reason = "incomplete build: no root"; },
       ingest_action::skip, "no root"},
      {"not validated", [](incoming_facts& f) { f.validated = false; }, ingest_action::skip,
       "not validated"},
      {"validation not required",
       [](incoming_facts& f) { f.validated = false; f.validation_required = false; },
       ingest_action::take, ""},
      {"published from these files",
       [](incoming_facts& f) { f.published = already_published::same_files; },
       ingest_action::remove_published, "already published"},
      {"published with other files",
       [](incoming_facts& f) { f.published = already_published::other_files; },
       ingest_action::skip, "never republished"},
      {"incomplete beats everything",
       [](incoming_facts& f) { f.complete = false; f.published = already_published::same_files; },
       ingest_action::skip, "incomplete"},
  };
  for (const auto& c : cases) {
    auto f = good();
    c.mutate(f);
    auto v = decide_ingest(f);
    EXPECT_EQ(v.action, c.action) << c.name;
    EXPECT_NE(v.reason.find(c.reason), std::string::npos) << c.name << ": " << v.reason;
  }
}

TEST(ValidationRequiredFor, StarAndNames) {
  EXPECT_TRUE(validation_required_for({"*"}, "debian"));
  EXPECT_TRUE(validation_required_for({"ubuntu", "debian"}, "debian"));
  EXPECT_FALSE(validation_required_for({"ubuntu"}, "debian"));
  EXPECT_FALSE(validation_required_for({}, "debian"));
}

TEST(PublishedName, MetadataIsAlwaysIncusTarXz) {
  EXPECT_EQ(published_name("lxd.tar.xz"), "incus.tar.xz");
  EXPECT_EQ(published_name("incus.tar.xz"), "incus.tar.xz");
  EXPECT_EQ(published_name("rootfs.squashfs"), "rootfs.squashfs");
}

}  // namespace
}  // namespace lxcdn::publish
