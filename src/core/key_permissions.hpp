#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxcdn {

// Who, besides the process and root, can read a secret file (a TLS private key, the admin
// token), judged from its permission bits and ownership. Ordered from the widest exposure down;
// a file exposed several ways gets the first that applies.
enum class key_exposure {
  other_users,    // mode o+r: every user of the machine
  foreign_group,  // mode g+r, and the file's group is neither the process's group nor one of
                  // its supplementary groups (so members of another group can read it)
  foreign_owner,  // mode u+r, and the owner is neither root nor the process's user
  none,           // only root, the process's user and the process's own groups can read it
};

// The stat fields the verdict needs.
struct file_access {
  mode_t mode = 0;  // st_mode (only the permission bits are looked at)
  uid_t uid = 0;    // st_uid
  gid_t gid = 0;    // st_gid
};

// The process that reads the file: effective uid and gid and the supplementary groups.
struct process_identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

// The verdict for `file` read by `process`. Pure. Root (uid 0) owning the file is never an
// exposure: root can read it anyway. The packaged convention, 0640 root:lxcdn read by a process
// running as lxcdn:lxcdn, is `none`; so are 0600 files of the process's own user.
key_exposure judge_key_permissions(const file_access& file, const process_identity& process);

// The calling process's effective uid, gid and supplementary groups.
process_identity current_process_identity();

// One log line for a secret file `path` (`what` names it, e.g. "TLS private key") that someone
// other than this process and root can read: the file, what is wrong, its mode and owner
// (names, or numbers when unknown) and the commands that fix it. nullopt when the file is fine
// or cannot be stat'ed (loading it reports that).
std::optional<std::string> key_permission_warning(const std::filesystem::path& path,
                                                  std::string_view what);

}  // namespace lxcdn
