#include "origin/static_files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "http/conditional.hpp"
#include "http/content_type.hpp"
#include "http/target.hpp"

namespace lxcdn::origin {

namespace bhttp = net::http;
namespace ours = lxcdn::http;

open_error open_below(int root_fd, std::string_view relative, open_file& out) {
  std::string rel(relative.empty() ? "." : relative);
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how));
  if (fd < 0) {
    switch (errno) {
      case ENOENT:
      case ENOTDIR:
      case ENAMETOOLONG:
        return open_error::not_found;
      case EXDEV:  // RESOLVE_BENEATH: the path (or a symlink in it) leads out of the root
      case ELOOP:
      case EACCES:
      case EPERM:
        return open_error::forbidden;
      default:
        return open_error::io;
    }
  }
  unique_fd owned(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return open_error::io;
  }
  if (!S_ISREG(st.st_mode)) {
    return S_ISDIR(st.st_mode) ? open_error::not_found : open_error::forbidden;
  }
  out.fd = std::move(owned);
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mtime = st.st_mtim.tv_sec;
  return open_error::none;
}

bool accepts_gzip(std::string_view ae) {
  while (!ae.empty()) {
    auto comma = ae.find(',');
    auto item = ae.substr(0, comma);
    ae = comma == std::string_view::npos ? std::string_view() : ae.substr(comma + 1);
    auto semi = item.find(';');
    auto coding = item.substr(0, semi);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
      coding.remove_prefix(1);
    }
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) {
      coding.remove_suffix(1);
    }
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") {
      continue;
    }
    if (semi == std::string_view::npos) {
      return true;
    }
    auto params = item.substr(semi + 1);
    auto q = params.find("q=");
    if (q == std::string_view::npos) {
      return true;
    }
    auto value = params.substr(q + 2);
    // q=0, q=0.0, q=0.000 refuse; anything else accepts.
    bool zero = !value.empty() && value.front() == '0';
    for (std::size_t i = 1; zero && i < value.size(); ++i) {
      char c = value[i];
      if (c == ' ' || c == '\t') {
        break;
      }
      zero = c == '.' || c == '0';
    }
    if (!zero) {
      return true;
    }
  }
  return false;
}

namespace {

static_response error_response(bhttp::status status, unsigned version, bool keep_alive,
                               bool head_only, std::string body) {
  return net::plan_text_response(status, version, keep_alive, head_only, std::move(body));
}

const std::string& cache_control_for(const cache_control_config& c, std::string_view path) {
  if (path.starts_with("/images/")) {
    return c.images;
  }
  if (path.starts_with("/streams/")) {
    return c.streams;
  }
  return c.other;
}

}  // namespace

static_response plan_static_response(int root_fd, const cache_control_config& cache,
                                     const bhttp::request<bhttp::empty_body>& req, bool keep_alive) {
  const unsigned version = req.version();
  const bool head_only = req.method() == bhttp::verb::head;
  if (req.method() != bhttp::verb::get && !head_only) {
    auto r = error_response(bhttp::status::method_not_allowed, version, keep_alive, false,
                            "method not allowed\n");
    r.head.set(bhttp::field::allow, "GET, HEAD");
    return r;
  }
  auto target = ours::normalize_target(req.target());
  if (target.error == ours::target_error::hidden) {
    return error_response(bhttp::status::not_found, version, keep_alive, head_only, "not found\n");
  }
  if (target.error != ours::target_error::none) {
    return error_response(bhttp::status::bad_request, version, keep_alive, head_only,
                          std::string(ours::to_string(target.error)) + "\n");
  }
  const std::string_view rel = std::string_view(target.path).substr(1);

  open_file file;
  switch (open_below(root_fd, rel, file)) {
    case open_error::none:
      break;
    case open_error::not_found:
      return error_response(bhttp::status::not_found, version, keep_alive, head_only, "not found\n");
    case open_error::forbidden:
      return error_response(bhttp::status::forbidden, version, keep_alive, head_only, "forbidden\n");
    case open_error::io:
      return error_response(bhttp::status::service_unavailable, version, keep_alive, head_only,
                            "temporarily unavailable\n");
  }

  static_response r;
  r.head = net::response_head{bhttp::status::ok, version};
  r.head.keep_alive(keep_alive);
  r.head.set(bhttp::field::content_type, ours::content_type_for(target.path));
  r.head.set(bhttp::field::cache_control, cache_control_for(cache, target.path));
  bool gzip = false;
  if (ours::is_json(target.path)) {
    r.head.set(bhttp::field::vary, "Accept-Encoding");
    if (accepts_gzip(req[bhttp::field::accept_encoding])) {
      // Precompressed sibling written by `lxcdn index`; a stale one (older than the JSON) is
      // ignored so a hand-edited index is never shadowed by an old .gz.
      open_file gz;
      if (open_below(root_fd, std::string(rel) + ".gz", gz) == open_error::none &&
          gz.mtime >= file.mtime) {
        file = std::move(gz);
        gzip = true;
        r.head.set(bhttp::field::content_encoding, "gzip");
      }
    }
  }
  std::string etag;
  if (gzip) {
    etag = ours::make_etag(file.size, file.mtime);
    etag.insert(etag.size() - 1, "-gz");
  }
  net::plan_file_body(r, req, std::move(file), std::move(etag));
  return r;
}

}  // namespace lxcdn::origin
