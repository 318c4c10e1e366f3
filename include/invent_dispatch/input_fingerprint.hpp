#pragma once
// What an input held, so that a journal can recognise its input after a move
// to another folder, mount or host: the size, and the SHA-256 of the first MiB
// (enough to tell batches apart without reading millions of rows twice).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace invent_dispatch {

struct input_fingerprint {
    std::uint64_t size = 0;
    std::string digest;   // lower-case hex
    bool operator==(const input_fingerprint&) const = default;
};

inline constexpr std::size_t fingerprint_prefix = 1 << 20;

// nullopt for what cannot be read twice (standard input, a pipe). Throws
// input_error when the file cannot be read.
std::optional<input_fingerprint> fingerprint_input(const std::string& path);

}   // namespace invent_dispatch
