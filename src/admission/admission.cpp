#include "invent_dispatch/admission.hpp"

#include "invent_dispatch/encoding.hpp"

namespace invent_dispatch {

bool in_shard(std::string_view key, shard_spec shard) noexcept {
    // stable_hash is fixed by definition, so every machine splits alike.
    return stable_hash(key) % shard.count == shard.index;
}

admission::admission(admission_config config, resume_state& resumed) : config_(config), resumed_(resumed) {}

admission_decision admission::admit(std::string_view key) {
    if (config_.shard && !in_shard(key, *config_.shard)) return admission_decision::other_shard;
    // Recorded before the resume checks: a key the journal answers for still
    // makes its later repeats in this input duplicates.
    const key_digest digest(key);
    const bool first_occurrence = config_.allow_duplicates || seen_.insert(digest);
    if (resumed_.created.contains(digest)) return admission_decision::already_created;
    if (!config_.retry_unknown && resumed_.unknown.contains(digest)) return admission_decision::already_unknown;
    if (!first_occurrence) return admission_decision::duplicate;
    return admission_decision::send;
}

void admission::expect_rows(std::uint64_t rows) {
    if (config_.allow_duplicates) return;
    // A shard keeps about 1/N of the rows; a few more leave room for an uneven split.
    const auto shards = config_.shard ? config_.shard->count : 1;
    seen_.reserve(static_cast<std::size_t>(rows / shards + rows / shards / 8 + 16));
}

bool admission::owns_invalid_line(std::uint64_t line) const noexcept {
    return !config_.shard || line % config_.shard->count == config_.shard->index;
}

}   // namespace invent_dispatch
