#include "origin/static_files.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <fstream>

namespace lxcdn::origin {
namespace {

namespace http = net::http;
namespace fs = std::filesystem;

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lxcdn_static_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "www/images/d/1/amd64/default/20240101_05:24");
    fs::create_directories(dir_ / "www/streams/v1");
    write("www/images/d/1/amd64/default/20240101_05:24/rootfs.squashfs", "0123456789");
    write("www/streams/v1/index.json", "{\"x\":1}");
    write("secret.txt", "top secret");
    fs::create_symlink(dir_ / "secret.txt", dir_ / "www/images/out");
    fs::create_symlink("../../secret.txt", dir_ / "www/images/rel-out");
    fs::create_symlink("d/1/amd64/default/20240101_05:24/rootfs.squashfs", dir_ / "www/images/in");
    root_.reset(::open((dir_ / "www").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& rel, const std::string& data) {
    std::ofstream(dir_ / rel, std::ios::binary) << data;
  }

  static_response get(const std::string& target,
                      std::initializer_list<std::pair<http::field, std::string>> headers = {},
                      http::verb method = http::verb::get) {
    http::request<http::empty_body> req{method, target, 11};
    for (auto& [f, v] : headers) {
      req.set(f, v);
    }
    return plan_static_response(root_.get(), cache_, req, true);
  }

  fs::path dir_;
  unique_fd root_;
  cache_control_config cache_;
};

TEST_F(StaticFiles, ServesFileWithValidatorsAndCaching) {
  auto r = get("/images/d/1/amd64/default/20240101_05%3A24/rootfs.squashfs");
  EXPECT_EQ(r.head.result(), http::status::ok);
  ASSERT_TRUE(r.file);
  EXPECT_EQ(r.length, 10u);
  EXPECT_EQ(r.head[http::field::content_length], "10");
  EXPECT_EQ(r.head[http::field::cache_control], cache_.images);
  EXPECT_FALSE(r.head[http::field::etag].empty());
  EXPECT_FALSE(r.head[http::field::last_modified].empty());
  EXPECT_FALSE(r.head_only);

  auto j = get("/streams/v1/index.json");
  EXPECT_EQ(j.head[http::field::content_type], "application/json");
  EXPECT_EQ(j.head[http::field::cache_control], cache_.streams);
}

TEST_F(StaticFiles, HeadHasLengthButNoBody) {
  auto r = get("//images/d/1/amd64/default/20240101_05:24//rootfs.squashfs", {}, http::verb::head);
  EXPECT_EQ(r.head.result(), http::status::ok);
  EXPECT_EQ(r.head[http::field::content_length], "10");
  EXPECT_TRUE(r.head_only);
}

TEST_F(StaticFiles, RefusesWhatLeavesTheRoot) {
  EXPECT_EQ(get("/images/out").head.result(), http::status::forbidden);
  EXPECT_EQ(get("/images/rel-out").head.result(), http::status::forbidden);
  EXPECT_EQ(get("/../secret.txt").head.result(), http::status::bad_request);
  EXPECT_EQ(get("/%2e%2e/secret.txt").head.result(), http::status::bad_request);
  EXPECT_EQ(get("/images/in").head.result(), http::status::ok);  // symlink inside the root
  EXPECT_EQ(get("/streams/v1/.index.json.tmp").head.result(), http::status::not_found);
  EXPECT_EQ(get("/images").head.result(), http::status::not_found);  // directory
  EXPECT_EQ(get("/nope").head.result(), http::status::not_found);
}

TEST_F(StaticFiles, MethodsOtherThanGetAndHead) {
  auto r = get("/streams/v1/index.json", {}, http::verb::post);
  EXPECT_EQ(r.head.result(), http::status::method_not_allowed);
  EXPECT_EQ(r.head[http::field::allow], "GET, HEAD");
}

TEST_F(StaticFiles, RangesAndConditionals) {
  const std::string path = "/images/in";
  auto r = get(path, {{http::field::range, "bytes=2-4"}});
  EXPECT_EQ(r.head.result(), http::status::partial_content);
  EXPECT_EQ(r.head[http::field::content_range], "bytes 2-4/10");
  EXPECT_EQ(r.offset, 2u);
  EXPECT_EQ(r.length, 3u);

  auto u = get(path, {{http::field::range, "bytes=10-"}});
  EXPECT_EQ(u.head.result(), http::status::range_not_satisfiable);
  EXPECT_EQ(u.head[http::field::content_range], "bytes */10");

  auto full = get(path);
  std::string etag(full.head[http::field::etag]);
  EXPECT_EQ(get(path, {{http::field::if_none_match, etag}}).head.result(),
            http::status::not_modified);
  EXPECT_EQ(get(path, {{http::field::if_modified_since,
                        std::string(full.head[http::field::last_modified])}})
                .head.result(),
            http::status::not_modified);
  // If-Range with a different tag: the whole file.
  EXPECT_EQ(get(path, {{http::field::range, "bytes=2-4"}, {http::field::if_range, "\"x\""}})
                .head.result(),
            http::status::ok);
}

TEST_F(StaticFiles, PrecompressedJson) {
  write("www/streams/v1/index.json.gz", "GZ");
  auto r = get("/streams/v1/index.json", {{http::field::accept_encoding, "gzip, deflate"}});
  EXPECT_EQ(r.head[http::field::content_encoding], "gzip");
  EXPECT_EQ(r.length, 2u);
  EXPECT_EQ(r.head[http::field::vary], "Accept-Encoding");
  auto plain = get("/streams/v1/index.json", {{http::field::accept_encoding, "gzip;q=0"}});
  EXPECT_EQ(plain.head[http::field::content_encoding], "");
  EXPECT_EQ(plain.length, 7u);
  EXPECT_NE(r.head[http::field::etag], plain.head[http::field::etag]);
}

TEST(AcceptsGzip, Values) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("gzipx"));
}

}  // namespace
}  // namespace lxcdn::origin
