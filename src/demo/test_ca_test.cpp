#include "demo/test_ca.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "demo/test_support.hpp"

namespace lxcdn::demo {
namespace {

using test_support::slurp;

namespace fs = std::filesystem;

class TestCa : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lxcdn_test_ca_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  const std::vector<std::string> hosts_{"127.0.0.1", "::1", "localhost"};
};

TEST_F(TestCa, MakesACaAndAServerCertificateForEveryHost) {
  auto f = ensure_test_ca(dir_, hosts_);
  EXPECT_EQ(f.ca_certificate, dir_ / "ca.crt");
  EXPECT_TRUE(server_certificate_fits(f, hosts_));
  EXPECT_FALSE(server_certificate_fits(f, {"example.org"}));
  EXPECT_FALSE(server_certificate_fits(f, {"192.0.2.1"}));
  // The chain file holds the leaf, then the CA.
  auto chain = slurp(f.certificate);
  auto ca = slurp(f.ca_certificate);
  EXPECT_TRUE(chain.ends_with(ca));
  EXPECT_GT(chain.size(), ca.size() + 100);
  for (const auto& key : {f.key, f.ca_key}) {
    struct stat st {};
    ASSERT_EQ(::stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
}

TEST_F(TestCa, ReusesFilesThatStillFit) {
  auto f = ensure_test_ca(dir_, hosts_);
  auto ca = slurp(f.ca_certificate);
  auto cert = slurp(f.certificate);
  ensure_test_ca(dir_, hosts_);
  EXPECT_EQ(slurp(f.ca_certificate), ca);
  EXPECT_EQ(slurp(f.certificate), cert);
}

TEST_F(TestCa, NewHostKeepsTheCaButReissuesTheServerCertificate) {
  auto f = ensure_test_ca(dir_, hosts_);
  auto ca = slurp(f.ca_certificate);
  auto cert = slurp(f.certificate);
  auto more = hosts_;
  more.push_back("192.0.2.7");
  ensure_test_ca(dir_, more);
  EXPECT_EQ(slurp(f.ca_certificate), ca);  // a CA a client already trusts stays valid
  EXPECT_NE(slurp(f.certificate), cert);
  EXPECT_TRUE(server_certificate_fits(f, more));
}

TEST_F(TestCa, LostCaKeyMeansANewCaAndServerCertificate) {
  auto f = ensure_test_ca(dir_, hosts_);
  auto ca = slurp(f.ca_certificate);
  fs::remove(f.ca_key);
  ensure_test_ca(dir_, hosts_);
  EXPECT_NE(slurp(f.ca_certificate), ca);
  EXPECT_TRUE(server_certificate_fits(f, hosts_));
}

TEST_F(TestCa, ServerCertificateFromAnotherCaDoesNotFit) {
  auto f = ensure_test_ca(dir_, hosts_);
  auto other = ensure_test_ca(dir_ / "other", hosts_);
  fs::copy_file(other.certificate, f.certificate, fs::copy_options::overwrite_existing);
  fs::copy_file(other.key, f.key, fs::copy_options::overwrite_existing);
  EXPECT_FALSE(server_certificate_fits(f, hosts_));
  ensure_test_ca(dir_, hosts_);
  EXPECT_TRUE(server_certificate_fits(f, hosts_));
}

}  // namespace
}  // namespace lxcdn::demo
