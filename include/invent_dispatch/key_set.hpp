#pragma once
// A set of row keys that stores a 64-bit hash of each in an open-addressing
// table (8 bytes a slot, 11 to 23 bytes a key between 70% and 35% full), so
// a million-row input stays far below our memory target.
//
// Why storing only a hash is safe enough: two distinct keys are confused only
// when their 64-bit hashes are equal. For n keys the chance that any pair
// collides is about n^2 / 2^65: 3e-8 for a million keys, 3e-6 for ten
// million (for keys not crafted to collide: FNV-1a is no defence against
// that, but the input is the user's own). And a collision errs on the safe side: every set of keys we keep
// (already created, unknown, seen earlier in the input) makes a row *not* be
// sent, so a false positive skips a row (visible in the journal and summary),
// it never sends a chat twice. There are no false negatives.
#include <cstdint>
#include <string_view>
#include <vector>

namespace invent_dispatch {

// The hash key_set stores: stable_hash (FNV-1a 64) through the splitmix64
// finalizer. The finalizer is a bijection, so it adds no collisions; it
// spreads FNV's weak low bits over the whole word, which a power-of-two table
// indexes by.
std::uint64_t key_hash(std::string_view key) noexcept;

// A key as key_set stores it: hash it once when one key meets several sets.
class key_digest {
public:
    explicit key_digest(std::string_view key) noexcept;
    std::uint64_t value() const noexcept { return value_; }

private:
    std::uint64_t value_;
};

class key_set {
public:
    bool insert(std::string_view key) { return insert(key_digest(key)); }   // false when already present
    bool contains(std::string_view key) const noexcept { return contains(key_digest(key)); }
    void erase(std::string_view key) noexcept { erase(key_digest(key)); }
    bool insert(key_digest key);
    bool contains(key_digest key) const noexcept;
    void erase(key_digest key) noexcept;
    std::size_t size() const noexcept { return size_; }
    // Room for `keys` keys without a rebuild. Growing one step at a time
    // holds the old and the new table at once (1.5x the final size at the
    // peak); sizing it once, when the count is known, does not.
    void reserve(std::size_t keys);
    std::size_t capacity() const noexcept { return slots_.size(); }   // slots, not keys

private:
    friend class key_digest;
    // Slot values 0 (never used) and 1 (erased) are reserved; a hash that
    // lands on them is stored as 2 or 3, which only adds 2^-63 to the odds above.
    static constexpr std::uint64_t empty_slot = 0;
    static constexpr std::uint64_t erased_slot = 1;

    static constexpr std::size_t absent = static_cast<std::size_t>(-1);
    // The index of the slot holding `hash`, or absent.
    std::size_t find(std::uint64_t hash) const noexcept;
    void rehash(std::size_t capacity);

    std::vector<std::uint64_t> slots_;
    std::size_t size_ = 0;
    std::size_t tombstones_ = 0;
};

}   // namespace invent_dispatch
