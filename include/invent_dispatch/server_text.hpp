#pragma once
// Text a server chose (an error message, a Chat's fields) on its way into a
// log line, the journal or an error: it may echo our token back, forge a log
// line with a newline or an escape sequence, or be megabytes long.
#include <cstddef>
#include <string>
#include <string_view>

namespace invent_dispatch {

inline constexpr std::size_t max_server_message = 512;   // bytes of a message kept
inline constexpr std::size_t max_chat_field = 1024;   // bytes of a Chat field kept

// The text made safe to print: the token (8 bytes or more), an Authorization header's value and
// a "Bearer <credential>" replaced by "[redacted]"; control characters
// (C0, DEL, C1) and bytes that are not UTF-8 escaped as \xHH; cut on a
// character boundary after max_server_message bytes, saying how long it was.
std::string clean_server_text(std::string_view text, std::string_view token);

// A Chat field the journal keeps: over max_chat_field bytes it is cut on a
// character boundary and ends with " [cut: N bytes]", so the record says so.
// True when it was cut.
bool cap_chat_field(std::string& value);

}   // namespace invent_dispatch
