#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lxcdn::publish {

// The marker files of a build directory. Hidden names: the publisher never lays them out.
// The build job writes `.complete` last, when every other file is in place; `lxcdn validate` (or a
// real test server) writes `.validated` when the build passed validation. Only the existence of
// each counts; `.validated` written by lxcdn lists the files it checked, for people.
inline constexpr const char* complete_marker = ".complete";
inline constexpr const char* validated_marker = ".validated";

struct validation_report {
  std::vector<std::string> problems;  // empty: the build is valid; else one line per problem
  std::vector<std::string> checked;   // what was checked, one line each ("rootfs.squashfs: ...")
  bool ok() const { return problems.empty(); }
};

// The test stage's checks that need no container runtime, on the build directory `dir`, whose
// last five path components are <os>/<release>/<arch>/<variant>/<serial>:
//   - the files: a metadata tarball (incus.tar.xz or lxd.tar.xz) with at least one of
//     rootfs.squashfs, disk.qcow2, rootfs.tar.xz; or meta.tar.xz with rootfs.tar.xz (LXC); every
//     one a non-empty regular file;
//   - every .xz file an intact xz stream (`xz -t`), every tarball listable (`tar -t`);
//   - metadata.yaml present in the metadata tarball and agreeing with the path
//     (metadata_check.hpp);
//   - rootfs.squashfs with a sound superblock, disk.qcow2 with a sound header (image_headers.hpp).
// Runs xz and tar as child processes (xz-utils, tar). Never throws for a bad build (each problem
// is a line in the report); throws std::runtime_error only if a tool is missing.
validation_report validate_build(const std::filesystem::path& dir);

// validate_build, then on success writes dir/.validated (atomically) listing what was checked.
// On failure removes a stale dir/.validated, so a build that went bad is not taken.
validation_report validate_and_mark(const std::filesystem::path& dir);

}  // namespace lxcdn::publish
