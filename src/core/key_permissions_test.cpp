#include "core/key_permissions.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace lxcdn {
namespace {

constexpr uid_t root = 0;
constexpr uid_t lxcdn_uid = 998;
constexpr gid_t lxcdn_gid = 997;
constexpr uid_t bob = 1000;
constexpr gid_t ssl_cert = 110;

struct judge_case {
  const char* name;
  file_access file;
  process_identity process;
  key_exposure expected;
};

TEST(KeyPermissions, Table) {
  const process_identity service{lxcdn_uid, lxcdn_gid, {lxcdn_gid}};
  const process_identity service_in_ssl_cert{lxcdn_uid, lxcdn_gid, {lxcdn_gid, ssl_cert}};
  const process_identity as_root{root, root, {root}};
  const judge_case cases[] = {
      // The packaged convention: root owns it, the service's group reads it.
      {"packaged 0640 root:lxcdn", {S_IFREG | 0640, root, lxcdn_gid}, service, key_exposure::none},
      {"0600 root:root read by root", {S_IFREG | 0600, root, root}, as_root, key_exposure::none},
      {"0640 root:root read by root", {S_IFREG | 0640, root, root}, as_root, key_exposure::none},
      {"0600 owned by the service", {S_IFREG | 0600, lxcdn_uid, lxcdn_gid}, service,
       key_exposure::none},
      {"0400 owned by the service", {S_IFREG | 0400, lxcdn_uid, root}, service, key_exposure::none},
      // Every user.
      {"0644 root:lxcdn", {S_IFREG | 0644, root, lxcdn_gid}, service, key_exposure::other_users},
      {"0604 root:root", {S_IFREG | 0604, root, root}, as_root, key_exposure::other_users},
      {"0444 root:root", {S_IFREG | 0444, root, root}, as_root, key_exposure::other_users},
      {"0004 alone", {S_IFREG | 0004, root, lxcdn_gid}, service, key_exposure::other_users},
      {"0666 owned by bob: every user wins", {S_IFREG | 0666, bob, ssl_cert}, service,
       key_exposure::other_users},
      // Another group.
      {"0640 root:ssl-cert, not a member", {S_IFREG | 0640, root, ssl_cert}, service,
       key_exposure::foreign_group},
      {"0640 root:ssl-cert, supplementary member", {S_IFREG | 0640, root, ssl_cert},
       service_in_ssl_cert, key_exposure::none},
      {"0640 root:lxcdn read by root", {S_IFREG | 0640, root, lxcdn_gid}, as_root,
       key_exposure::foreign_group},
      {"0040 root:ssl-cert", {S_IFREG | 0040, root, ssl_cert}, service, key_exposure::foreign_group},
      {"0620 root:ssl-cert: write is not read", {S_IFREG | 0620, root, ssl_cert}, service,
       key_exposure::none},
      {"0602 root:root: write is not read", {S_IFREG | 0602, root, root}, service,
       key_exposure::none},
      // Another owner.
      {"0600 bob:lxcdn", {S_IFREG | 0600, bob, lxcdn_gid}, service, key_exposure::foreign_owner},
      {"0600 lxcdn:lxcdn read by root", {S_IFREG | 0600, lxcdn_uid, lxcdn_gid}, as_root,
       key_exposure::foreign_owner},
      {"0200 bob:lxcdn: no read bit", {S_IFREG | 0200, bob, lxcdn_gid}, service,
       key_exposure::none},
      {"0640 bob:ssl-cert: the group first", {S_IFREG | 0640, bob, ssl_cert}, service,
       key_exposure::foreign_group},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(judge_key_permissions(c.file, c.process), c.expected) << c.name;
  }
}

TEST(KeyPermissions, CurrentIdentityIsTheEffectiveOne) {
  auto id = current_process_identity();
  EXPECT_EQ(id.uid, ::geteuid());
  EXPECT_EQ(id.gid, ::getegid());
  EXPECT_EQ(static_cast<int>(id.groups.size()), ::getgroups(0, nullptr));
}

// The line names the file, the mode, the owner and the fix; an own file gets no line.
TEST(KeyPermissions, WarningLine) {
  auto dir = std::filesystem::temp_directory_path() / "lxcdn_key_permissions_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto key = dir / "key.pem";
  std::ofstream(key) << "not really a key\n";
  ::chmod(key.c_str(), 0600);
  EXPECT_EQ(key_permission_warning(key, "TLS private key"), std::nullopt);
  ::chmod(key.c_str(), 0644);
  auto line = key_permission_warning(key, "TLS private key");
  ASSERT_TRUE(line.has_value());
  EXPECT_NE(line->find(key.string() + ": the TLS private key is readable by every user (mode 0644, owner "),
            std::string::npos)
      << *line;
  EXPECT_NE(line->find("&& chmod 0640 " + key.string()), std::string::npos) << *line;
  EXPECT_EQ(key_permission_warning(dir / "missing.pem", "TLS private key"), std::nullopt);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lxcdn
