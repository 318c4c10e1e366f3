#pragma once
// A set of row keys that costs 8 bytes a key: it stores a 64-bit hash of each
// (open addressing), so a million-row input stays far below our memory target.
// A false positive needs two of the keys to share 64 bits of hash.
#include <cstdint>
#include <string_view>
#include <vector>

namespace invent_dispatch {

class key_set {
public:
    bool insert(std::string_view key);   // false when already present
    bool contains(std::string_view key) const noexcept;
    void erase(std::string_view key) noexcept;
    std::size_t size() const noexcept { return size_; }

private:
    std::vector<std::uint64_t> slots_;
    std::size_t size_ = 0;
    std::size_t tombstones_ = 0;
};

} // namespace invent_dispatch
