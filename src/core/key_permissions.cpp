#include "core/key_permissions.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace lxcdn {

namespace {

std::string user_name(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return std::to_string(uid);
}

std::string group_name(gid_t gid) {
  std::vector<char> buf(16384);
  group gr{};
  group* found = nullptr;
  if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return found->gr_name;
  }
  return std::to_string(gid);
}

}  // namespace

key_exposure judge_key_permissions(const file_access& file, const process_identity& process) {
  if ((file.mode & S_IROTH) != 0) {
    return key_exposure::other_users;
  }
  bool own_group = file.gid == process.gid ||
                   std::find(process.groups.begin(), process.groups.end(), file.gid) !=
                       process.groups.end();
  if ((file.mode & S_IRGRP) != 0 && !own_group) {
    return key_exposure::foreign_group;
  }
  if ((file.mode & S_IRUSR) != 0 && file.uid != 0 && file.uid != process.uid) {
    return key_exposure::foreign_owner;
  }
  return key_exposure::none;
}

process_identity current_process_identity() {
  process_identity id{::geteuid(), ::getegid(), {}};
  int n = ::getgroups(0, nullptr);
  if (n > 0) {
    id.groups.resize(static_cast<std::size_t>(n));
    n = ::getgroups(n, id.groups.data());
    id.groups.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  return id;
}

std::optional<std::string> key_permission_warning(const std::filesystem::path& path,
                                                  std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  auto process = current_process_identity();
  auto verdict = judge_key_permissions({st.st_mode, st.st_uid, st.st_gid}, process);
  if (verdict == key_exposure::none) {
    return std::nullopt;
  }
  std::string owner = user_name(st.st_uid);
  std::string group = group_name(st.st_gid);
  std::string me = user_name(process.uid);
  std::string my_group = group_name(process.gid);
  std::string problem;
  switch (verdict) {
    case key_exposure::other_users:
      problem = "is readable by every user";
      break;
    case key_exposure::foreign_group:
      problem = fmt::format("is readable by group {}, which this process (user {}, group {}) is "
                            "not in",
                            group, me, my_group);
      break;
    case key_exposure::foreign_owner:
      problem = fmt::format("belongs to user {}, who can read it and is not this process's user {}",
                            owner, me);
      break;
    case key_exposure::none:
      break;
  }
  return fmt::format("{}: the {} {} (mode {:04o}, owner {}:{}); make it readable by this "
                     "service only: chown root:{} {} && chmod 0640 {}",
                     path.string(), what, problem, st.st_mode & 07777, owner, group, my_group,
                     path.string(), path.string());
}

}  // namespace lxcdn
