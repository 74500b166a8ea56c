#pragma once

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>
#include <string>

#include "net/server_config.hpp"

namespace lxcdn::net {

// Builds a server TLS context: TLS 1.2 and 1.3 (LXD requires 1.3, older tools 1.2), modern
// ciphers, chain and key from PEM files. Throws config_error naming the file that failed.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const tls_files& files);

// The current server TLS context, replaced whole on reload (SIGHUP). Internally synchronized:
// any thread may call current() and reload(). Sessions keep the context they started with, so a
// reload never disturbs a connection in progress.
class tls_context_store {
 public:
  explicit tls_context_store(tls_files files);

  std::shared_ptr<boost::asio::ssl::context> current() const;

  // Re-reads the files. On failure the old context stays and the error text is returned;
  // on success returns an empty string.
  std::string reload();

 private:
  tls_files files_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by mutex_
};

}  // namespace lxcdn::net
