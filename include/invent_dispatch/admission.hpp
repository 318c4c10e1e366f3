#pragma once
// Admission: which built rows are sent at all (SPEC §4, §6): the resume set,
// in-input duplicates, and --shard.
#include <cstdint>
#include <optional>
#include <string_view>

#include "invent_dispatch/key_set.hpp"
#include "invent_dispatch/resume_state.hpp"

namespace invent_dispatch {

struct shard_spec {
    std::uint32_t index = 0;   // K
    std::uint32_t count = 1;   // N
};

struct admission_config {
    bool retry_unknown = false;
    bool allow_duplicates = false;
    std::optional<shard_spec> shard;
};

enum class admission_decision {
    send,
    other_shard,   // not ours: no record at all
    already_created,   // resumed: the journal says created
    already_unknown,   // resumed: unknown, and --retry-unknown not given
    duplicate,   // the key came earlier in this input: skipped (duplicate)
};

class admission {
public:
    admission(admission_config config, resume_state& resumed);
    admission_decision admit(std::string_view key);
    // The input holds this many rows: the duplicate check sizes its set once.
    void expect_rows(std::uint64_t rows);
    // An invalid row has no reliable key: shard K of N owns lines with line % N == K.
    bool owns_invalid_line(std::uint64_t line) const noexcept;

private:
    admission_config config_;
    resume_state& resumed_;
    key_set seen_;
};

bool in_shard(std::string_view key, shard_spec shard) noexcept;

}   // namespace invent_dispatch
