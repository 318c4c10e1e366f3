#pragma once
// Percent-encoding of path segments and the row key derived from it (SPEC §1, §4).
#include <cstdint>
#include <string>
#include <string_view>

namespace invent_dispatch {

// RFC 3986: unreserved characters kept, every other byte as %XX (upper case),
// so that no id can change the shape of the path.
void append_encoded_segment(std::string& out, std::string_view raw);
std::string encode_segment(std::string_view raw);

// "org/contact/channel", each segment encoded: unambiguous whatever the ids hold.
std::string make_chat_key(std::string_view org_id, std::string_view contact_id, std::string_view channel_id);
// The same appended to `out` (the row builder reuses its key's storage).
void append_chat_key(std::string& out, std::string_view org_id, std::string_view contact_id,
                     std::string_view channel_id);

// The three raw ids back from a key made by make_chat_key; false when `key`
// is not one (not three segments, or a bad %XX).
bool split_chat_key(std::string_view key, std::string& org_id, std::string& contact_id, std::string& channel_id);

// Appends "/orgs/{org}/contacts/{contact}/channels/{channel}/chats" for a key
// made by make_chat_key (its segments are already encoded).
void append_chat_path(std::string& out, std::string_view key);

// FNV-1a 64: fixed by definition, so shards agree across machines and builds.
std::uint64_t stable_hash(std::string_view bytes) noexcept;

}   // namespace invent_dispatch
