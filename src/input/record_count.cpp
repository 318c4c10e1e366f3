#include "invent_dispatch/input.hpp"

namespace invent_dispatch {

namespace {

// Calls on_byte for every byte of the file, a read buffer at a time.
template <class OnByte>
void for_each_byte(input_file& file, OnByte on_byte) {
    auto buffer = std::make_unique<char[]>(default_read_size);
    while (const auto n = file.read(buffer.get(), default_read_size))
        for (std::size_t i = 0; i < n; ++i)
            on_byte(buffer[i]);
}

} // namespace

// Quotes and line breaks alone decide where a CSV record ends, whatever the delimiter.
std::uint64_t count_csv_records(input_file& file) {
    std::uint64_t records = 0;
    bool in_quotes = false;
    bool content = false;
    for_each_byte(file, [&](char c) {
        if (c == '"') {
            in_quotes = !in_quotes;   // "" toggles twice: still right
            content = true;
        } else if (c == '\n' && !in_quotes) {
            records += content;
            content = false;
        } else if (c != '\r') {
            content = true;
        }
    });
    records += content;
    return records > 0 ? records - 1 : 0;   // the header
}

std::uint64_t count_jsonl_records(input_file& file) {
    std::uint64_t records = 0;
    bool content = false;
    for_each_byte(file, [&](char c) {
        if (c == '\n') {
            records += content;
            content = false;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            content = true;
        }
    });
    return records + content;
}

} // namespace invent_dispatch
