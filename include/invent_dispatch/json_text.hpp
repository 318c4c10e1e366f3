#pragma once
// JSON text written by hand, where a library would cost a temporary per value.
#include <string>
#include <string_view>

namespace invent_dispatch {

// Appends `text` escaped for a JSON string (without the quotes): quotes,
// backslash and control characters escaped, valid UTF-8 passed through, and
// each byte of an invalid UTF-8 sequence replaced by U+FFFD, so the output is
// valid JSON whatever a server or an input file put in it.
void append_json_escaped(std::string& out, std::string_view text);

// The same between quotes: a JSON string literal.
void append_json_string(std::string& out, std::string_view text);

}   // namespace invent_dispatch
