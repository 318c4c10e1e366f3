#include "invent_dispatch/encoding.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

namespace invent_dispatch {

void append_encoded_segment(std::string& out, std::string_view raw) {
    const auto old_size = out.size();
    const auto needed = boost::urls::encoded_size(raw, boost::urls::unreserved_chars);
    out.resize(old_size + needed);
    boost::urls::encode(out.data() + old_size, needed, raw, boost::urls::unreserved_chars);
}

std::string encode_segment(std::string_view raw) {
    std::string out;
    append_encoded_segment(out, raw);
    return out;
}

void append_chat_key(std::string& out, std::string_view org_id, std::string_view contact_id,
                     std::string_view channel_id) {
    append_encoded_segment(out, org_id);
    out += '/';
    append_encoded_segment(out, contact_id);
    out += '/';
    append_encoded_segment(out, channel_id);
}

std::string make_chat_key(std::string_view org_id, std::string_view contact_id, std::string_view channel_id) {
    std::string key;
    key.reserve(org_id.size() + contact_id.size() + channel_id.size() + 2);
    append_chat_key(key, org_id, contact_id, channel_id);
    return key;
}

bool split_chat_key(std::string_view key, std::string& org_id, std::string& contact_id, std::string& channel_id) {
    std::string* ids[] = {&org_id, &contact_id, &channel_id};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto slash = key.find('/');
        if ((slash == std::string_view::npos) != (i == 2)) return false;
        const auto segment = boost::urls::make_pct_string_view(key.substr(0, slash));
        if (!segment) return false;
        *ids[i] = segment->decode();
        key.remove_prefix(slash == std::string_view::npos ? key.size() : slash + 1);
    }
    return true;
}

void append_chat_path(std::string& out, std::string_view key) {
    const auto first = key.find('/');
    const auto second = key.find('/', first + 1);
    out += "/orgs/";
    out += key.substr(0, first);
    out += "/contacts/";
    out += key.substr(first + 1, second - first - 1);
    out += "/channels/";
    out += key.substr(second + 1);
    out += "/chats";
}

std::uint64_t stable_hash(std::string_view bytes) noexcept {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

}   // namespace invent_dispatch
