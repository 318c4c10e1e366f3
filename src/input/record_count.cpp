#include "invent_dispatch/input.hpp"

#include <algorithm>
#include <cstring>

namespace invent_dispatch {

namespace {

// Calls on_chunk(first, last) for each read of the file.
template <class OnChunk>
void for_each_chunk(input_file& file, OnChunk on_chunk) {
    auto buffer = std::make_unique<char[]>(default_read_size);
    while (const auto n = file.read(buffer.get(), default_read_size))
        on_chunk(static_cast<const char*>(buffer.get()), buffer.get() + n);
}

// memchr, with "not found" as last.
const char* find(const char* first, const char* last, char c) noexcept {
    const auto* found = static_cast<const char*>(std::memchr(first, c, static_cast<std::size_t>(last - first)));
    return found ? found : last;
}

}   // namespace

// The reader's quoting rules (csv_reader.cpp), kept to what decides where a
// record ends: a quote opens a quoted field only at a field's start (after
// the delimiter or a line break); anywhere else it is text, as is everything
// after a closing quote up to the next delimiter. memchr does the scanning,
// so this runs at memory speed.
std::uint64_t count_csv_records(input_file& file, char delimiter) {
    enum class state { unquoted, quoted, quote_in_quoted };
    std::uint64_t records = 0;
    auto scan = state::unquoted;
    char previous = '\n';   // the byte before the current one (a line break at the start)
    bool content = false;   // the current record is not a blank line
    for_each_chunk(file, [&](const char* p, const char* end) {
        while (p != end) {
            switch (scan) {
            case state::quoted: {
                const char* quote = find(p, end, '"');
                if (quote == end) return;
                scan = state::quote_in_quoted;
                p = quote + 1;
                break;
            }
            case state::quote_in_quoted:
                if (*p == '"') {   // "" is one quote: still quoted
                    scan = state::quoted;
                    ++p;
                } else {
                    scan = state::unquoted;
                    previous = '"';
                }
                break;
            case state::unquoted: {
                const char* newline = find(p, end, '\n');
                const char* quote = find(p, newline, '"');
                while (quote != newline) {
                    const char before = quote == p ? previous : quote[-1];
                    if (before == delimiter || before == '\n') break;
                    quote = find(quote + 1, newline, '"');   // text inside an unquoted field
                }
                if (quote != newline) {
                    scan = state::quoted;
                    content = true;
                    p = quote + 1;
                    break;
                }
                content = content || std::any_of(p, newline, [](char c) { return c != '\r'; });
                if (newline == end) {
                    previous = end[-1];
                    return;
                }
                records += content;
                content = false;
                previous = '\n';
                p = newline + 1;
                break;
            }
            }
        }
    });
    records += content;
    return records > 0 ? records - 1 : 0;   // the header
}

std::uint64_t count_jsonl_records(input_file& file) {
    std::uint64_t records = 0;
    bool content = false;   // the current line is not blank
    for_each_chunk(file, [&](const char* p, const char* end) {
        while (p != end) {
            const char* newline = find(p, end, '\n');
            content = content || std::any_of(p, newline, [](char c) { return c != ' ' && c != '\t' && c != '\r'; });
            if (newline == end) return;
            records += content;
            content = false;
            p = newline + 1;
        }
    });
    return records + content;
}

}   // namespace invent_dispatch
