#include "simplestreams/write_index.hpp"

#include <gtest/gtest.h>

// Boost.JSON, header-only, compiled into this test binary only: an independent parser to check
// that what we write is valid JSON.
#include <boost/json/src.hpp>
#include <set>

#include "simplestreams/test_support.hpp"

namespace lxcdn::simplestreams {
namespace {

namespace fs = std::filesystem;
using testing::gunzip;
using testing::put_file;
using testing::read_file;
using testing::scratch_dir;
using testing::without_layout;

// Expected values computed by hand: printf 'meta1' | sha256sum, and so on.
constexpr auto sha_meta1 = "4a29ebb7b2af76679028ff9bd41fa145e10df1c2f45a31aa09b73f538a202ccb";
constexpr auto sha_squash1 = "94cb280bbea5691d14cea636af9a0289f730ceab443428f7b6eb67f08c8585a7";
constexpr auto sha_meta1_squash1 =
    "49d272ee20d12b75f1cf3d1aa9dff636d7717573ff5144d01f9a861effc5903a";
constexpr auto sha_meta2 = "20cf98864cc187deeb543dfa4ca27e62aeea465f18fbfefdaecec5783147b452";
constexpr auto sha_disk2 = "e6774d8cc6e76721d6a31920350b4c31830fd39602f15ee331b7851bfa0ddd0e";
constexpr auto sha_rootxz2 = "943c205d7a4327d9ba2effc27d006d44d3b61137caee413e1b31736903dd18d3";
constexpr auto sha_meta2_disk2 = "2c470af7ca3945ec5f9b4e1654ae49ac3411311c8e22dee19c4c209f6574eb68";
constexpr auto sha_meta2_rootxz2 =
    "96c69f44cb73e2e628b228e64a2080a6f85b3d0f143c6f6853fc5c37ef4d65d1";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// Two good builds, one per variant, and one of every kind of build that must be skipped.
void make_sample_tree(const fs::path& root) {
  auto product = root / "images/debian/12/amd64";
  put_file(product / "default/20240101_05:24/incus.tar.xz", "meta1");
  put_file(product / "default/20240101_05:24/rootfs.squashfs", "squash1");
  put_file(product / "default/20240101_05:24/SHA256SUMS", "ignored");
  put_file(product / "cloud/20240102/lxd.tar.xz", "meta2");
  put_file(product / "cloud/20240102/disk.qcow2", "disk2");
  put_file(product / "cloud/20240102/rootfs.tar.xz", "rootxz2");
  put_file(product / "cloud/20240102/meta.tar.xz", "lxc-only metadata");

  put_file(product / "default/2024bad1/incus.tar.xz", "meta3");  // not a date
  put_file(product / "default/2024bad1/rootfs.squashfs", "squash3");
  put_file(product / "default/20240230/incus.tar.xz", "meta4");  // no 30 February
  put_file(product / "default/20240230/rootfs.squashfs", "squash4");
  put_file(product / "default/20240103/incus.tar.xz", "meta5");       // no root
  put_file(product / "default/20240104/rootfs.squashfs", "squash6");  // no metadata
  put_file(root / "images/debian/12/sparc/default/20240101/incus.tar.xz", "meta7");
  put_file(root / "images/debian/12/sparc/default/20240101/rootfs.squashfs", "squash7");
  put_file(product / "default/.20240105.partial/incus.tar.xz", "hidden: ignored silently");
  put_file(root / "images/README", "plain files above the build level are ignored");
}

const std::string sample_index_json =
    R"({"format":"index:1.0","index":{"images":{"datatype":"image-downloads",)"
    R"("format":"products:1.0","path":"streams/v1/images.json",)"
    R"("products":["debian:12:amd64:cloud","debian:12:amd64:default"]}}})"
    "\n";

std::string sample_images_json() {
  auto text = without_layout(R"(
    {"content_id":"images","datatype":"image-downloads","format":"products:1.0","products":{
     "debian:12:amd64:cloud":{
      "aliases":"debian/12/cloud","arch":"amd64","os":"Debian","release":"12",
      "release_title":"12","requirements":{},"variant":"cloud","versions":{
       "20240102":{"items":{
        "disk.qcow2":{"ftype":"disk-kvm.img",
         "path":"images/debian/12/amd64/cloud/20240102/disk.qcow2","sha256":"DISK2","size":5},
        "incus.tar.xz":{"combined_disk-kvm-img_sha256":"META2DISK2",
         "combined_rootxz_sha256":"META2ROOTXZ2","combined_sha256":"META2ROOTXZ2",
         "ftype":"incus.tar.xz","path":"images/debian/12/amd64/cloud/20240102/lxd.tar.xz",
         "sha256":"META2","size":5},
        "lxd.tar.xz":{"combined_disk-kvm-img_sha256":"META2DISK2",
         "combined_rootxz_sha256":"META2ROOTXZ2","combined_sha256":"META2ROOTXZ2",
         "ftype":"lxd.tar.xz","path":"images/debian/12/amd64/cloud/20240102/lxd.tar.xz",
         "sha256":"META2","size":5},
        "root.tar.xz":{"ftype":"root.tar.xz",
         "path":"images/debian/12/amd64/cloud/20240102/rootfs.tar.xz","sha256":"ROOTXZ2",
         "size":7}}}}},
     "debian:12:amd64:default":{
      "aliases":"debian/12/default,debian/12","arch":"amd64","os":"Debian","release":"12",
      "release_title":"12","requirements":{},"variant":"default","versions":{
       "20240101_05:24":{"items":{
        "incus.tar.xz":{"combined_squashfs_sha256":"META1SQUASH1","ftype":"incus.tar.xz",
         "path":"images/debian/12/amd64/default/20240101_05:24/incus.tar.xz","sha256":"META1",
         "size":5},
        "lxd.tar.xz":{"combined_squashfs_sha256":"META1SQUASH1","ftype":"lxd.tar.xz",
         "path":"images/debian/12/amd64/default/20240101_05:24/incus.tar.xz","sha256":"META1",
         "size":5},
        "root.squashfs":{"ftype":"squashfs",
         "path":"images/debian/12/amd64/default/20240101_05:24/rootfs.squashfs",
         "sha256":"SQUASH1","size":7}}}}}}}
  )") + "\n";
  // Longest placeholders first, so META2 does not eat into META2DISK2.
  text = replace_all(text, "META2ROOTXZ2", sha_meta2_rootxz2);
  text = replace_all(text, "META2DISK2", sha_meta2_disk2);
  text = replace_all(text, "META1SQUASH1", sha_meta1_squash1);
  text = replace_all(text, "ROOTXZ2", sha_rootxz2);
  text = replace_all(text, "DISK2", sha_disk2);
  text = replace_all(text, "META2", sha_meta2);
  text = replace_all(text, "SQUASH1", sha_squash1);
  text = replace_all(text, "META1", sha_meta1);
  return text;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

TEST(WriteIndex, WritesTheExpectedDocuments) {
  scratch_dir tmp;
  make_sample_tree(tmp.path());
  auto summary = write_index(tmp.path());

  auto v1 = tmp.path() / "streams/v1";
  EXPECT_EQ(read_file(v1 / "index.json"), sample_index_json);
  EXPECT_EQ(read_file(v1 / "images.json"), sample_images_json());
  EXPECT_EQ(summary.products, 2u);
  EXPECT_EQ(summary.versions, 2u);
  EXPECT_EQ(summary.images, 3u);
}

TEST(WriteIndex, ReportsEachSkippedDirectoryWithItsReason) {
  scratch_dir tmp;
  make_sample_tree(tmp.path());
  auto summary = write_index(tmp.path());
  const std::string d = "images/debian/12/amd64/default/";
  EXPECT_EQ(summary.skipped,
            (std::vector<std::string>{
                d + "20240103: incomplete build: no rootfs.squashfs, disk.qcow2 or rootfs.tar.xz",
                d + "20240104: incomplete build: no metadata (incus.tar.xz or lxd.tar.xz)",
                d + "20240230: serial does not start with a valid YYYYMMDD date (clients would "
                    "drop it)",
                d + "2024bad1: serial does not start with a valid YYYYMMDD date (clients would "
                    "drop it)",
                "images/debian/12/sparc: unknown architecture \"sparc\" (not an LXD architecture "
                "name; clients would drop the product)",
            }));
}

TEST(WriteIndex, OutputIsValidJsonThatMatchesTheTree) {
  scratch_dir tmp;
  make_sample_tree(tmp.path());
  write_index(tmp.path());
  auto images = boost::json::parse(read_file(tmp.path() / "streams/v1/images.json"));
  auto index = boost::json::parse(read_file(tmp.path() / "streams/v1/index.json"));
  const auto& items = images.at("products")
                          .at("debian:12:amd64:default")
                          .at("versions")
                          .at("20240101_05:24")
                          .at("items");
  // Every item's path is relative to ROOT and its size a JSON integer equal to the file's size.
  for (const auto& [key, item] : items.as_object()) {
    auto path = tmp.path() / std::string(item.at("path").as_string());
    ASSERT_TRUE(item.at("size").is_int64()) << key;
    EXPECT_EQ(static_cast<std::uintmax_t>(item.at("size").as_int64()), fs::file_size(path));
  }
  EXPECT_EQ(index.at("index").at("images").at("products").as_array().size(), 2u);
}

TEST(WriteIndex, IsDeterministicAndLeavesNoTempFiles) {
  scratch_dir tmp;
  make_sample_tree(tmp.path());
  write_index(tmp.path());
  auto v1 = tmp.path() / "streams/v1";
  std::map<std::string, std::string> first;
  for (auto name : {"index.json", "index.json.gz", "images.json", "images.json.gz"}) {
    first[name] = read_file(v1 / name);
  }
  write_index(tmp.path());
  for (const auto& [name, bytes] : first) {
    EXPECT_EQ(read_file(v1 / name), bytes) << name;
  }
  EXPECT_EQ(names_in(v1), (std::set<std::string>{"images.json", "images.json.gz", "index.json",
                                                 "index.json.gz"}));
  EXPECT_EQ(names_in(tmp.path() / "streams"), std::set<std::string>{"v1"});
}

TEST(WriteIndex, GzipSiblingsHoldTheSameBytesAndAreNotOlder) {
  scratch_dir tmp;
  make_sample_tree(tmp.path());
  write_index(tmp.path());
  auto v1 = tmp.path() / "streams/v1";
  for (auto name : {"index.json", "images.json"}) {
    auto json = v1 / name;
    auto gz = v1 / (std::string(name) + ".gz");
    EXPECT_EQ(gunzip(read_file(gz)), read_file(json)) << name;
    EXPECT_GE(fs::last_write_time(gz), fs::last_write_time(json)) << name;
  }
}

TEST(WriteIndex, EmptyTreeGivesValidEmptyDocuments) {
  scratch_dir tmp;
  auto summary = write_index(tmp.path());  // no images/ at all
  auto v1 = tmp.path() / "streams/v1";
  EXPECT_EQ(read_file(v1 / "index.json"),
            R"({"format":"index:1.0","index":{"images":{"datatype":"image-downloads",)"
            R"("format":"products:1.0","path":"streams/v1/images.json","products":[]}}})"
            "\n");
  EXPECT_EQ(read_file(v1 / "images.json"),
            R"({"content_id":"images","datatype":"image-downloads","format":"products:1.0",)"
            R"("products":{}})"
            "\n");
  EXPECT_EQ(gunzip(read_file(v1 / "images.json.gz")), read_file(v1 / "images.json"));
  EXPECT_EQ(summary.products, 0u);
  EXPECT_TRUE(summary.skipped.empty());

  fs::create_directories(tmp.path() / "images/debian/12/amd64/default");
  EXPECT_EQ(write_index(tmp.path()).products, 0u);
}

TEST(WriteIndex, DuplicateFingerprintIsAnErrorNamingBothBuilds) {
  scratch_dir tmp;
  // The same bytes in two products (a rebuild copied under another release, say).
  for (auto dir : {"images/debian/12/amd64/default/20240101",
                   "images/debian/13/amd64/default/20240101_05:24"}) {
    put_file(tmp.path() / dir / "incus.tar.xz", "meta");
    put_file(tmp.path() / dir / "rootfs.squashfs", "squash");
  }
  try {
    write_index(tmp.path());
    FAIL() << "expected index_error";
  } catch (const index_error& e) {
    // printf 'metasquash' | sha256sum
    EXPECT_EQ(std::string(e.what()),
              "duplicate image fingerprint "
              "226ce41115792a93b9fc64c035f3bcc3d101b4a82f02c563b4edf0aeaa2b640c in "
              "images/debian/12/amd64/default/20240101 (rootfs.squashfs) and "
              "images/debian/13/amd64/default/20240101_05:24 (rootfs.squashfs): clients would "
              "fail with \"More than one match\"; remove one of the builds");
  }
  // Nothing was written.
  EXPECT_FALSE(fs::exists(tmp.path() / "streams"));
}

TEST(WriteIndex, SymlinksAreSkipped) {
  scratch_dir tmp;
  auto real = tmp.path() / "images/debian/12/amd64/default/20240101";
  put_file(real / "incus.tar.xz", "meta1");
  put_file(real / "rootfs.squashfs", "squash1");
  auto linked = tmp.path() / "images/debian/12/amd64/default/20240102";
  put_file(linked / "incus.tar.xz", "meta2");
  fs::create_symlink(real / "rootfs.squashfs", linked / "rootfs.squashfs");
  fs::create_directory_symlink(real, tmp.path() / "images/debian/12/amd64/default/20240103");

  auto summary = write_index(tmp.path());
  EXPECT_EQ(summary.versions, 1u);
  const std::string d = "images/debian/12/amd64/default/";
  EXPECT_EQ(summary.skipped,
            (std::vector<std::string>{
                d + "20240102: rootfs.squashfs is a symbolic link",
                d + "20240103: symbolic link (the index names only real files and directories)",
            }));
}

TEST(WriteIndex, RootMustBeADirectory) {
  scratch_dir tmp;
  EXPECT_THROW(write_index(tmp.path() / "missing"), index_error);
}

}  // namespace
}  // namespace lxcdn::simplestreams
