#include "net/file_response.hpp"

#include "http/conditional.hpp"
#include "http/http_date.hpp"
#include "http/range.hpp"

namespace lxcdn::net {

planned_response plan_text_response(http::status status, unsigned version, bool keep_alive,
                                    bool head_only, std::string body) {
  planned_response r;
  r.head = response_head{status, version};
  r.head.set(http::field::content_type, "text/plain; charset=utf-8");
  r.head.set(http::field::content_length, std::to_string(body.size()));
  r.head.keep_alive(keep_alive);
  r.body = std::move(body);
  r.head_only = head_only;
  return r;
}

void plan_file_body(planned_response& r, const http::request<http::empty_body>& req,
                    open_file file, std::string etag) {
  lxcdn::http::validators v{etag.empty() ? lxcdn::http::make_etag(file.size, file.mtime)
                                         : std::move(etag),
                            file.mtime};
  r.head.set(http::field::etag, v.etag);
  r.head.set(http::field::last_modified, lxcdn::http::format_http_date(file.mtime));
  r.head.set(http::field::accept_ranges, "bytes");
  const bool head_only = req.method() == http::verb::head;

  lxcdn::http::preconditions pre{req[http::field::if_none_match],
                                 req[http::field::if_modified_since], req[http::field::if_range]};
  if (lxcdn::http::is_not_modified(pre, v)) {
    r.head.result(http::status::not_modified);
    r.head.erase(http::field::content_type);
    r.head.erase(http::field::content_encoding);
    r.head_only = true;
    return;
  }
  r.offset = 0;
  r.length = file.size;
  auto range_header = req[http::field::range];
  if (!range_header.empty() && lxcdn::http::if_range_allows(pre, v)) {
    auto d = lxcdn::http::resolve_range(range_header, file.size);
    if (d.kind == lxcdn::http::range_kind::unsatisfiable) {
      bool keep = r.head.keep_alive();
      r = plan_text_response(http::status::range_not_satisfiable, req.version(), keep, head_only,
                             "range not satisfiable\n");
      r.head.set(http::field::content_range, "bytes */" + std::to_string(file.size));
      return;
    }
    if (d.kind == lxcdn::http::range_kind::partial) {
      r.head.result(http::status::partial_content);
      r.head.set(http::field::content_range, "bytes " + std::to_string(d.first) + "-" +
                                                 std::to_string(d.last) + "/" +
                                                 std::to_string(file.size));
      r.offset = d.first;
      r.length = d.length();
    }
  }
  r.head.set(http::field::content_length, std::to_string(r.length));
  r.head_only = head_only;
  r.file = std::move(file);
}

boost::asio::awaitable<boost::system::error_code> write_planned(response_sink& sink,
                                                                planned_response& r) {
  bool has_body = !r.head_only && (r.file ? r.length > 0 : !r.body.empty());
  auto ec = co_await sink.write_head(r.head, has_body);
  if (ec || !has_body) {
    co_return ec;
  }
  if (r.file) {
    co_return co_await sink.write_file(r.file->fd.get(), r.file->base + r.offset, r.length);
  }
  co_return co_await sink.write_body(boost::asio::buffer(r.body));
}

}  // namespace lxcdn::net
