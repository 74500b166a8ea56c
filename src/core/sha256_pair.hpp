#pragma once

#include <cstdint>
#include <filesystem>
#include <system_error>

#include "core/sha256.hpp"

namespace lxcdn {

// Reads the file at `path` once and feeds every byte to both `a` and `b` (a root file's own
// sha256 and the combined fingerprint sha256(metadata ‖ root), simplestreams-spec 1.4).
//
// Files of `hash_pair_parallel_from` bytes or more are hashed on two threads, the caller's and one
// started for the call, each reading the whole file with pread(2) into its own 128 KiB buffer
// (small enough to stay in the core's cache between the copy and the hashing) and hashing it into
// one state. Two SHA-256 passes thus cost one pass of wall time when two cores are free (openssl
// dgst's speed on the same file); with one free core they cost two. The two passes share
// nothing, so they never wait on each other: sharing one read through a ring of 1 MiB chunks
// handed from thread to thread, as before, ran at 0.66x of openssl dgst (bench/publish, 1 GiB),
// against 1.08x now; the second read is a copy from the page cache, a tenth of a hash's cost.
// If the two passes read different sizes (the file changed under them), the result is an
// error, never two states of different bytes. Smaller files are read and hashed on the calling
// thread.
//
// Returns the byte count read in `*bytes_read` (the file's size at EOF), or the open/read error;
// on error the states hold an unspecified prefix.
std::error_code hash_file_into_both(const std::filesystem::path& path, sha256& a, sha256& b,
                                    std::uint64_t* bytes_read = nullptr);

// Files below this size are hashed on the calling thread: a thread costs more than it saves.
inline constexpr std::uint64_t hash_pair_parallel_from = 1 << 20;

}  // namespace lxcdn
