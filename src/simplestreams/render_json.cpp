#include "simplestreams/render_json.hpp"

#include <map>
#include <string_view>

#include "simplestreams/json_writer.hpp"
#include "simplestreams/product_naming.hpp"

namespace lxcdn::simplestreams {

namespace {

// The fields every item carries, after any item-specific ones (which all sort before "ftype").
void write_file_fields(json_writer& w, std::string_view ftype, const file_digest& f) {
  w.member("ftype", ftype).member("path", f.path).member("sha256", f.sha256).member("size", f.size);
}

// The two metadata items: one ftype for LXD, one for Incus, identical otherwise
// (simplestreams-spec 1.4 and 6.9).
void write_metadata_item(json_writer& w, std::string_view ftype, const build& b) {
  std::map<std::string_view, std::string_view> combined;  // sorted field name -> fingerprint
  for (const auto& r : b.roots) {
    combined.emplace(format_of(r.kind).combined_field, r.combined_sha256);
    if (r.kind == root_kind::root_tar_xz) {
      combined.emplace("combined_sha256", r.combined_sha256);
    }
  }
  w.key(ftype).begin_object();
  for (const auto& [field, fingerprint] : combined) {
    w.member(field, fingerprint);
  }
  write_file_fields(w, ftype, b.metadata);
  w.end_object();
}

void write_items(json_writer& w, const build& b) {
  // Item keys in byte order: the metadata items interleave with the root and delta items.
  std::map<std::string, const root_item*> items;  // nullptr = a metadata or delta item
  std::map<std::string, const delta_item*> deltas;
  items.emplace("incus.tar.xz", nullptr);
  items.emplace("lxd.tar.xz", nullptr);
  for (const auto& r : b.roots) {
    items.emplace(format_of(r.kind).item_key, &r);
  }
  for (const auto& d : b.deltas) {
    auto key = "delta-" + d.base_serial + ".vcdiff";
    items.emplace(key, nullptr);
    deltas.emplace(key, &d);
  }
  w.key("items").begin_object();
  for (const auto& [item_key, root] : items) {
    if (auto d = deltas.find(item_key); d != deltas.end()) {
      w.key(item_key).begin_object().member("delta_base", d->second->base_serial);
      write_file_fields(w, "squashfs.vcdiff", d->second->file);
      w.end_object();
    } else if (root == nullptr) {
      write_metadata_item(w, item_key, b);
    } else {
      w.key(item_key).begin_object();
      write_file_fields(w, format_of(root->kind).ftype, root->file);
      w.end_object();
    }
  }
  w.end_object();
}

void write_product(json_writer& w, const product& p) {
  w.begin_object()
      .member("aliases", p.aliases ? *p.aliases : product_aliases(p.os, p.release, p.variant))
      .member("arch", p.arch)
      .member("os", os_title(p.os))
      .member("release", p.release)
      .member("release_title", p.release)
      .key("requirements")
      .begin_object();
  for (const auto& [k, v] : p.requirements) {
    w.member(k, v);
  }
  w.end_object()
      .member("variant", p.variant)
      .key("versions")
      .begin_object();
  for (const auto& [serial, b] : p.versions) {
    w.key(serial).begin_object();
    write_items(w, b);
    w.end_object();
  }
  w.end_object().end_object();
}

}  // namespace

std::string render_index_json(const catalog& c) {
  json_writer w;
  w.begin_object()
      .member("format", "index:1.0")
      .key("index")
      .begin_object()
      .key("images")
      .begin_object()
      .member("datatype", "image-downloads")
      .member("format", "products:1.0")
      .member("path", "streams/v1/images.json")
      .key("products")
      .begin_array();
  for (const auto& [name, p] : c.products) {
    w.string(name);
  }
  w.end_array().end_object().end_object().end_object();
  return w.take() + "\n";
}

std::string render_images_json(const catalog& c) {
  json_writer w;
  w.begin_object()
      .member("content_id", "images")
      .member("datatype", "image-downloads")
      .member("format", "products:1.0")
      .key("products")
      .begin_object();
  for (const auto& [name, p] : c.products) {
    w.key(name);
    write_product(w, p);
  }
  w.end_object().end_object();
  return w.take() + "\n";
}

}  // namespace lxcdn::simplestreams
