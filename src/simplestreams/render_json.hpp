#pragma once

#include <string>

#include "simplestreams/catalog.hpp"

namespace lxcdn::simplestreams {

// Pure renderings of a catalog as the two simplestreams documents (simplestreams-spec 1.2, 1.3,
// matching lxc-ci's bin/jenkins-import-images). Compact JSON, object keys in byte order, one
// trailing newline, no timestamps: the same catalog always gives the same bytes.

// streams/v1/index.json: one entry "images" (datatype image-downloads, format products:1.0, path
// streams/v1/images.json) whose `products` lists every product name in byte order (empty for an
// empty catalog, which clients skip).
std::string render_index_json(const catalog& c);

// streams/v1/images.json: content_id "images", datatype image-downloads, format products:1.0 and
// the products map. Each product has aliases, arch, os, release, release_title, requirements
// (always {}), variant and versions; each version has `items`:
//   incus.tar.xz and lxd.tar.xz  the metadata file (same path, sha256, size) with ftype equal to
//                                the key and, per root present, its combined_*_sha256 field
//                                (root.tar.xz also sets combined_sha256, the older field name)
//   root.squashfs / disk.qcow2 / root.tar.xz   ftype squashfs / disk-kvm.img / root.tar.xz
// Every item has ftype, path (relative to ROOT), sha256 and size (a JSON integer).
std::string render_images_json(const catalog& c);

}  // namespace lxcdn::simplestreams
