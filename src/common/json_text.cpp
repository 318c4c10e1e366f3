// JSON string escaping shared by everything that writes JSON by hand on a
// hot path (the journal, the mock's responses).
#include "invent_dispatch/json_text.hpp"

namespace invent_dispatch {
namespace {

// Length of the well-formed UTF-8 sequence at p (RFC 3629, table 3-7 of the
// Unicode standard: no overlongs, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
    const unsigned char lead = *p;
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;   // the range allowed for the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    } else {
        return 0;
    }
    if (static_cast<std::size_t>(end - p) < length || p[1] < low || p[1] > high) return 0;
    for (std::size_t i = 2; i < length; ++i)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return length;
}

void append_escaped_ascii(std::string& out, unsigned char c) {
    switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: {
        constexpr char hex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
        out.append(escaped, sizeof escaped);
    }
    }
}

bool needs_escape(unsigned char c) noexcept {
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

}   // namespace

void append_json_escaped(std::string& out, std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const end = p + text.size();
    while (p != end) {
        const auto* const run = p;
        while (p != end && !needs_escape(*p)) ++p;
        out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
        if (p == end) break;
        if (*p < 0x80) {
            append_escaped_ascii(out, *p++);
        } else if (const auto length = utf8_sequence_length(p, end)) {
            out.append(reinterpret_cast<const char*>(p), length);
            p += length;
        } else {
            out += "\xEF\xBF\xBD";   // U+FFFD REPLACEMENT CHARACTER
            ++p;
        }
    }
}

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    append_json_escaped(out, text);
    out += '"';
}

}   // namespace invent_dispatch
