#include "invent_dispatch/server_text.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <simdjson.h>

namespace invent_dispatch {
namespace {

constexpr std::string_view redacted = "[redacted]";
// A real token is long; a short one (a test's "t") would redact every word.
constexpr std::size_t min_token_to_redact = 8;

bool starts_with_nocase(std::string_view text, std::size_t at, std::string_view word) noexcept {
    if (text.size() - at < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i]) return false;
    return true;
}

// RFC 6750's b64token: what a bearer credential is made of.
bool is_credential_char(char c) noexcept {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~+/=").find(c) != std::string_view::npos;
}

// Where a header value echoed in text ends: a line break, or the quote,
// comma or brace of the JSON or list it sits in.
bool ends_header_value(char c) noexcept {
    return std::string_view("\r\n\"',}").find(c) != std::string_view::npos;
}

std::string redact(std::string_view text, std::string_view token) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (token.size() >= min_token_to_redact && text.compare(i, token.size(), token) == 0) {
            out += redacted;
            i += token.size();
        } else if (starts_with_nocase(text, i, "authorization")) {
            out += text.substr(i, 13);
            i += 13;
            const auto value = text.find_first_not_of("\"': =\t", i);
            out += text.substr(i, (value == std::string_view::npos ? text.size() : value) - i);
            i = value == std::string_view::npos ? text.size() : value;
            const auto start = i;
            while (i < text.size() && !ends_header_value(text[i])) ++i;
            if (i > start) out += redacted;
        } else if (starts_with_nocase(text, i, "bearer") && i + 6 < text.size() &&
                   (text[i + 6] == ' ' || text[i + 6] == '\t')) {
            auto credential = text.find_first_not_of(" \t", i + 6);
            if (credential == std::string_view::npos) credential = text.size();
            out += text.substr(i, credential - i);
            i = credential;
            const auto start = i;
            while (i < text.size() && is_credential_char(text[i])) ++i;
            if (i > start) out += redacted;
        } else {
            out += text[i++];
        }
    }
    return out;
}

// The length of the UTF-8 character at text[i], or 0 when the bytes there are
// not one.
std::size_t character_length(std::string_view text, std::size_t i) noexcept {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || text.size() - i < length) return 0;
    return simdjson::validate_utf8(text.data() + i, length) ? length : 0;
}

bool is_control(std::string_view character) noexcept {
    const auto first = static_cast<unsigned char>(character[0]);
    if (character.size() == 1) return first < 0x20 || first == 0x7F;
    return character.size() == 2 && first == 0xC2 && static_cast<unsigned char>(character[1]) < 0xA0;
}

// The longest prefix of valid UTF-8 text of at most limit bytes.
std::size_t character_boundary(std::string_view text, std::size_t limit) noexcept {
    limit = std::min(limit, text.size());
    while (limit > 0 && limit < text.size() && (static_cast<unsigned char>(text[limit]) & 0xC0) == 0x80) --limit;
    return limit;
}

}   // namespace

std::string clean_server_text(std::string_view text, std::string_view token) {
    const auto visible = redact(text, token);
    std::string out;
    std::size_t i = 0;
    while (i < visible.size()) {
        const auto length = character_length(visible, i);
        const auto character = std::string_view(visible).substr(i, std::max<std::size_t>(length, 1));
        const bool escape = length == 0 || is_control(character);
        const auto width = escape ? 4 * character.size() : character.size();
        if (out.size() + width > max_server_message) break;
        if (escape)
            for (const char c : character) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
            out += character;
        i += character.size();
    }
    if (i < visible.size()) out += fmt::format("... [cut: {} bytes]", text.size());
    return out;
}

bool cap_chat_field(std::string& value) {
    if (value.size() <= max_chat_field) return false;
    const auto size = value.size();
    value.resize(character_boundary(value, max_chat_field));
    value += fmt::format(" [cut: {} bytes]", size);
    value.shrink_to_fit();   // a reused buffer must not keep a huge field's memory
    return true;
}

}   // namespace invent_dispatch
