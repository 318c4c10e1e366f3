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

} // namespace

// Quotes and line breaks alone decide where a CSV record ends, whatever the
// delimiter; memchr does the scanning, so this runs at memory speed.
std::uint64_t count_csv_records(input_file& file) {
    std::uint64_t records = 0;
    bool in_quotes = false;
    bool content = false;   // the current record is not a blank line
    for_each_chunk(file, [&](const char* p, const char* end) {
        while (p != end) {
            if (in_quotes) {   // "" closes and reopens: still right
                const char* quote = find(p, end, '"');
                if (quote == end)
                    return;
                in_quotes = false;
                p = quote + 1;
                continue;
            }
            const char* newline = find(p, end, '\n');
            const char* quote = find(p, newline, '"');
            if (quote != newline) {
                in_quotes = true;
                content = true;
                p = quote + 1;
                continue;
            }
            content = content || std::any_of(p, newline, [](char c) { return c != '\r'; });
            if (newline == end)
                return;
            records += content;
            content = false;
            p = newline + 1;
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
            content = content ||
                      std::any_of(p, newline, [](char c) { return c != ' ' && c != '\t' && c != '\r'; });
            if (newline == end)
                return;
            records += content;
            content = false;
            p = newline + 1;
        }
    });
    return records + content;
}

} // namespace invent_dispatch
