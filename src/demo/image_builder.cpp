#include "demo/image_builder.hpp"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "demo/tool_runner.hpp"

namespace lxcdn::demo {

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& content, unsigned mode) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    throw std::runtime_error("cannot write " + p.string());
  }
  fs::permissions(p, static_cast<fs::perms>(mode));
}

// Creates the staging tree for the root filesystem. Modes are set explicitly (the umask must not
// leak into the image).
void materialise(const std::vector<rootfs_entry>& entries, const fs::path& root) {
  fs::create_directories(root);
  fs::permissions(root, static_cast<fs::perms>(0755));
  for (const auto& e : entries) {
    auto p = root / e.path;
    switch (e.type) {
      case rootfs_entry::kind::directory:
        fs::create_directory(p);
        fs::permissions(p, static_cast<fs::perms>(e.mode));
        break;
      case rootfs_entry::kind::file:
        write_file(p, e.data, e.mode);
        break;
      case rootfs_entry::kind::host_file:
        fs::copy_file(e.data, p, fs::copy_options::overwrite_existing);
        fs::permissions(p, static_cast<fs::perms>(e.mode));
        break;
      case rootfs_entry::kind::symlink:
        fs::create_symlink(e.data, p);
        break;
    }
  }
}

}  // namespace

bool is_static_elf(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh) ||
      std::string_view(reinterpret_cast<const char*>(eh.e_ident), 4) != ELFMAG ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
    throw std::runtime_error(path.string() + " is not a 64-bit ELF executable");
  }
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * sizeof ph));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) {
      throw std::runtime_error(path.string() + ": truncated ELF program headers");
    }
    if (ph.p_type == PT_INTERP) {
      return false;
    }
  }
  return true;
}

build_tools find_build_tools() {
  build_tools t;
  t.tar = require_tool("tar", "tar");
  t.xz = require_tool("xz", "xz-utils");
  t.mksquashfs = require_tool("mksquashfs", "squashfs-tools");
  t.busybox = require_tool("busybox", "busybox-static");
  if (!is_static_elf(t.busybox)) {
    throw std::runtime_error("`busybox` at " + t.busybox.string() +
                             " is dynamically linked; install the Debian package busybox-static");
  }
  return t;
}

built_image build_image(const image_spec& image, const std::vector<rootfs_entry>& rootfs,
                        const fs::path& www, const fs::path& scratch, const build_tools& tools) {
  const auto stage =
      scratch / (image.os + "-" + image.release + "-" + image.arch + "-" + image.variant);
  fs::remove_all(stage);
  fs::create_directories(stage);
  const std::string mtime = std::to_string(image.creation_date);

  const auto meta = stage / "meta";
  fs::create_directories(meta / "templates");
  fs::permissions(meta, static_cast<fs::perms>(0755));
  fs::permissions(meta / "templates", static_cast<fs::perms>(0755));
  write_file(meta / "metadata.yaml", render_metadata_yaml(image), 0644);
  for (const auto& t : metadata_templates()) {
    write_file(meta / t.path, t.content, 0644);
  }
  const auto tarball = stage / "incus.tar";
  run_tool(tools.tar, {"--create", "--file", tarball.string(), "--directory", meta.string(),
                       "--format=gnu", "--sort=name", "--mtime=@" + mtime, "--owner=0", "--group=0",
                       "--numeric-owner", "metadata.yaml", "templates"});
  // -T1: multi-threaded xz writes different (block-split) output; one thread is reproducible.
  run_tool(tools.xz, {"-T1", "--force", "--check=crc64", tarball.string()});

  materialise(rootfs, stage / "rootfs");
  const auto squashfs = stage / "rootfs.squashfs";
  run_tool(tools.mksquashfs,
           {(stage / "rootfs").string(), squashfs.string(), "-noappend", "-comp", "xz", "-all-root",
            "-no-xattrs", "-all-time", mtime, "-mkfs-time", mtime, "-no-progress", "-quiet"});

  const auto out = image_directory(www, image);
  fs::create_directories(out);
  built_image result{out / "incus.tar.xz", out / "rootfs.squashfs"};
  fs::rename(stage / "incus.tar.xz", result.metadata);
  fs::rename(squashfs, result.rootfs);
  fs::remove_all(stage);
  return result;
}

}  // namespace lxcdn::demo
