#include "invent_dispatch/input.hpp"
#include "invent_dispatch/trim.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <simdjson.h>

namespace invent_dispatch {

namespace ondemand = simdjson::ondemand;

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

bool is_blank(std::string_view line) noexcept {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

value_kind kind_of(ondemand::json_type type) noexcept {
    switch (type) {
    case ondemand::json_type::object: return value_kind::object;
    case ondemand::json_type::array: return value_kind::array;
    case ondemand::json_type::number: return value_kind::number;
    case ondemand::json_type::string: return value_kind::text;
    case ondemand::json_type::boolean: return value_kind::boolean;
    case ondemand::json_type::null: return value_kind::null;
    }
    return value_kind::null;
}

std::string describe(simdjson::error_code error) {
    if (error == simdjson::UTF8_ERROR) return "invalid UTF-8";
    return fmt::format("invalid JSON: {}", simdjson::error_message(error));
}

}   // namespace

// Lines are parsed where they lie in the buffer: the buffer holds a whole
// line of max_line bytes plus one read, and SIMDJSON_PADDING bytes of slack
// so that simdjson may read past the last line.
struct jsonl_reader::impl {
    impl(input_file f, jsonl_options o)
        : file(std::move(f)),
          options(o),
          capacity(o.max_line + o.read_size),
          buffer(std::make_unique<char[]>(capacity + simdjson::SIMDJSON_PADDING)),
          parser(o.max_line) {}

    bool next(input_record& out);
    bool read_more();
    void skip_long_line(input_record& out);
    void parse(std::string_view text, input_record& out);
    void collect_fields(ondemand::object& object, input_record& out);
    void note_names(input_record& out);

    input_file file;
    jsonl_options options;
    std::size_t capacity;
    std::unique_ptr<char[]> buffer;
    std::size_t begin = 0;   // unread data is buffer[begin, end)
    std::size_t end = 0;
    bool eof = false;
    std::uint64_t line = 0;   // the last line handed out
    std::uint64_t generation = 0;
    std::string previous_names;   // the last line's field names, length-prefixed
    ondemand::parser parser;
};

// Moves the unread tail to the front and appends one read; false at the end.
bool jsonl_reader::impl::read_more() {
    if (eof) return false;
    std::memmove(buffer.get(), buffer.get() + begin, end - begin);
    end -= begin;
    begin = 0;
    const auto n = file.read(buffer.get() + end, capacity - end);
    eof = n == 0;
    end += n;
    return !eof;
}

// The line at begin is longer than max_line: drop it up to its newline.
void jsonl_reader::impl::skip_long_line(input_record& out) {
    out.problem = fmt::format("line longer than {} bytes", options.max_line);
    for (;;) {
        const auto* newline = static_cast<const char*>(std::memchr(buffer.get() + begin, '\n', end - begin));
        if (newline) {
            begin = static_cast<std::size_t>(newline + 1 - buffer.get());
            return;
        }
        begin = end;
        if (!read_more()) return;
    }
}

bool jsonl_reader::impl::next(input_record& out) {
    for (;;) {
        const auto* first = buffer.get() + begin;
        const auto* newline = static_cast<const char*>(std::memchr(first, '\n', end - begin));
        const auto length = newline ? static_cast<std::size_t>(newline - first) : end - begin;
        if (!newline && !eof && length <= options.max_line) {
            read_more();
            continue;
        }
        if (!newline && eof && length == 0) return false;

        out.line = ++line;
        out.fields.clear();
        out.problem.clear();
        if (length > options.max_line) {
            skip_long_line(out);
            note_names(out);
            return true;
        }
        begin += length + (newline ? 1 : 0);
        std::string_view text(first, length);
        if (line == 1 && text.starts_with(utf8_bom)) text.remove_prefix(utf8_bom.size());
        if (is_blank(text)) continue;
        if (!newline)   // the last line: what follows it is stale, and simdjson may look
            std::memset(buffer.get() + end, ' ', simdjson::SIMDJSON_PADDING);
        parse(text, out);
        note_names(out);
        return true;
    }
}

void jsonl_reader::impl::parse(std::string_view text, input_record& out) {
    const auto room = capacity + simdjson::SIMDJSON_PADDING - static_cast<std::size_t>(text.data() - buffer.get());
    ondemand::document document;
    if (auto error = parser.iterate(text.data(), text.size(), room).get(document)) {
        out.problem = describe(error);
        return;
    }
    ondemand::json_type type;
    if (auto error = document.type().get(type)) {
        out.problem = describe(error);
        return;
    }
    if (type != ondemand::json_type::object) {
        out.problem = fmt::format("not a JSON object but {}", to_string(kind_of(type)));
        return;
    }
    ondemand::object object;
    if (auto error = document.get_object().get(object)) {
        out.problem = describe(error);
        return;
    }
    collect_fields(object, out);
    if (!out.problem.empty()) return;
    // On-Demand stops at the object's end; anything after it is an error too.
    const char* rest = nullptr;
    if (!document.current_location().get(rest)) out.problem = "invalid JSON: text after the object";
}

void jsonl_reader::impl::collect_fields(ondemand::object& object, input_record& out) {
    for (auto member : object) {
        input_field field;
        ondemand::value value;
        ondemand::json_type type;
        auto error = member.unescaped_key().get(field.name);
        if (!error) error = member.value().get(value);
        if (!error) error = value.type().get(type);
        if (!error) {
            field.kind = kind_of(type);
            if (type == ondemand::json_type::string) {
                error = value.get_string().get(field.value);
            } else if (type == ondemand::json_type::number) {
                // Kept as written: 1.50 stays 1.50, and a 30-digit id that no
                // machine number holds is still an id.
                field.value = trim_right(value.raw_json_token(), whitespace);
                if (!is_json_number(field.value)) error = simdjson::NUMBER_ERROR;
            }
        }
        if (error) {
            out.problem = describe(error);
            return;
        }
        out.fields.push_back(field);
    }
}

// Lines of one file mostly share their names in the same order: keeping the
// generation then spares the row builder its per-name lookups. The names are
// compared in place with the last line's copy, which is only rebuilt when
// they differ.
void jsonl_reader::impl::note_names(input_record& out) {
    out.valid_utf8 = true;   // simdjson validated the whole line
    std::size_t at = 0;
    bool same = true;
    for (const auto& field : out.fields) {
        std::uint32_t size = 0;
        if (at + sizeof size > previous_names.size()) {
            same = false;
            break;
        }
        std::memcpy(&size, previous_names.data() + at, sizeof size);
        at += sizeof size;
        if (size != field.name.size() || at + size > previous_names.size() ||
            std::memcmp(previous_names.data() + at, field.name.data(), size) != 0) {
            same = false;
            break;
        }
        at += size;
    }
    if (same && at == previous_names.size()) {
        out.names_generation = generation;
        return;
    }
    previous_names.clear();
    for (const auto& field : out.fields) {
        const auto size = static_cast<std::uint32_t>(field.name.size());
        previous_names.append(reinterpret_cast<const char*>(&size), sizeof size);
        previous_names += field.name;
    }
    out.names_generation = ++generation;
}

jsonl_reader::jsonl_reader(input_file file, jsonl_options options)
    : impl_(std::make_unique<impl>(std::move(file), options)) {}

jsonl_reader::~jsonl_reader() = default;

bool jsonl_reader::next(input_record& out) {
    return impl_->next(out);
}

}   // namespace invent_dispatch
