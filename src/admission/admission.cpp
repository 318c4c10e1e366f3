#include "invent_dispatch/admission.hpp"

#include "invent_dispatch/encoding.hpp"

namespace invent_dispatch {

bool in_shard(std::string_view key, shard_spec shard) noexcept {
    // stable_hash is fixed by definition, so every machine splits alike.
    return stable_hash(key) % shard.count == shard.index;
}

admission::admission(admission_config config, resume_state& resumed)
    : config_(config), resumed_(resumed) {}

admission_decision admission::admit(std::string_view key) {
    if (config_.shard && !in_shard(key, *config_.shard)) return admission_decision::other_shard;
    // Recorded before the resume checks: a key the journal answers for still
    // makes its later repeats in this input duplicates.
    const key_digest digest(key);
    const bool first_occurrence = config_.allow_duplicates || seen_.insert(digest);
    if (resumed_.created.contains(digest)) return admission_decision::already_created;
    if (!config_.retry_unknown && resumed_.unknown.contains(digest))
        return admission_decision::already_unknown;
    if (!first_occurrence) return admission_decision::duplicate;
    return admission_decision::send;
}

bool admission::owns_invalid_line(std::uint64_t line) const noexcept {
    return !config_.shard || line % config_.shard->count == config_.shard->index;
}

} // namespace invent_dispatch
