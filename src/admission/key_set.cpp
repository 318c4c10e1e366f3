#include "invent_dispatch/key_set.hpp"

#include <algorithm>
#include <utility>

#include "invent_dispatch/encoding.hpp"

namespace invent_dispatch {
namespace {

constexpr std::size_t min_capacity = 16;

// Grow (or clean out tombstones) before used slots pass 70%: linear probing
// stays short below that.
bool over_load(std::size_t used, std::size_t capacity) noexcept {
    return used * 10 > capacity * 7;
}

}   // namespace

std::uint64_t key_hash(std::string_view key) noexcept {
    std::uint64_t z = stable_hash(key);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

key_digest::key_digest(std::string_view key) noexcept : value_(key_hash(key)) {
    if (value_ <= key_set::erased_slot) value_ += 2;
}

std::size_t key_set::find(std::uint64_t hash) const noexcept {
    if (slots_.empty()) return absent;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
        if (slots_[i] == hash) return i;
        if (slots_[i] == empty_slot) return absent;
    }
}

bool key_set::contains(key_digest key) const noexcept {
    return find(key.value()) != absent;
}

void key_set::erase(key_digest key) noexcept {
    const auto slot = find(key.value());
    if (slot == absent) return;
    slots_[slot] = erased_slot;
    --size_;
    ++tombstones_;
}

bool key_set::insert(key_digest key) {
    const auto hash = key.value();
    if (find(hash) != absent) return false;
    if (slots_.empty() || over_load(size_ + tombstones_ + 1, slots_.size())) {
        // Rebuild with live keys at most half the slots, so the next rebuild
        // is far away; when tombstones filled the table, that is often the
        // same size.
        auto capacity = slots_.empty() ? min_capacity : slots_.size();
        while ((size_ + 1) * 2 > capacity) capacity *= 2;
        rehash(capacity);
    }
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i] != empty_slot && slots_[i] != erased_slot) i = (i + 1) & mask;
    if (slots_[i] == erased_slot) --tombstones_;
    slots_[i] = hash;
    ++size_;
    return true;
}

void key_set::reserve(std::size_t keys) {
    auto capacity = std::max(min_capacity, slots_.size());
    while (over_load(keys + tombstones_, capacity)) capacity *= 2;
    if (capacity > slots_.size()) rehash(capacity);
}

void key_set::rehash(std::size_t capacity) {
    const auto previous = std::exchange(slots_, std::vector<std::uint64_t>(capacity, empty_slot));
    tombstones_ = 0;
    const std::size_t mask = capacity - 1;
    for (const auto hash : previous) {
        if (hash == empty_slot || hash == erased_slot) continue;
        std::size_t i = hash & mask;
        while (slots_[i] != empty_slot) i = (i + 1) & mask;
        slots_[i] = hash;
    }
}

}   // namespace invent_dispatch
