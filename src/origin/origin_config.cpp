#include "origin/origin_config.hpp"

#include <fmt/format.h>

#include "core/config_error.hpp"
#include "core/yaml_reader.hpp"
#include "net/listen_config.hpp"

namespace lxcdn::origin {

origin_config parse_origin_config(const std::string& yaml_text,
                                  const std::filesystem::path& source) {
  origin_config c;
  c.source = source;
  yaml_map top(parse_yaml(yaml_text, source), "", source);

  top.require("root");
  top.get("root", c.root);
  c.root = resolve_config_path(source, c.root);

  net::parse_listen_config(top, source, c.server);

  auto cc = top.child("cache_control");
  cc.get("images", c.cache_control.images);
  cc.get("streams", c.cache_control.streams);
  cc.get("other", c.cache_control.other);
  cc.finish();

  top.get("access_log", c.access_log);
  top.get("redirect_images_to", c.redirect_images_to);
  if (c.redirect_images_to.find("://") != std::string::npos ||
      c.redirect_images_to.ends_with("/")) {
    top.fail("redirect_images_to",
             "expected HOST[:PORT][/PREFIX] without scheme or trailing '/' (the client's scheme "
             "is kept)");
  }
  top.finish();
  return c;
}

origin_config load_origin_config(const std::filesystem::path& file) {
  return parse_origin_config(read_config_file(file), file);
}

}  // namespace lxcdn::origin
