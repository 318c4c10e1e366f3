#pragma once
// Every record a reader gives, copied out of its views: for the reader
// targets' invariants and the differential target's comparison.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "fuzz_support.hpp"
#include "invent_dispatch/input.hpp"

namespace invent_dispatch::fuzz {

struct copied_record {
    std::uint64_t line = 0;
    std::vector<std::string> names;
    std::vector<std::string> values;
    std::vector<value_kind> kinds;
    bool valid_utf8 = false;
    std::string problem;
    bool operator==(const copied_record&) const = default;
};

struct reading {
    std::optional<std::string> fatal;   // the input_error, when the reader gave up
    std::vector<copied_record> records;
    bool operator==(const reading&) const = default;
};

// Reads everything; checks what holds for any input: lines only grow, and a
// record said to be valid UTF-8 is.
inline reading read_all(const std::function<std::unique_ptr<record_reader>()>& open) {
    reading result;
    try {
        const auto reader = open();
        input_record record;
        std::uint64_t last_line = 0;
        while (reader->next(record)) {
            copied_record copy{record.line, {}, {}, {}, record.valid_utf8, record.problem};
            FUZZ_CHECK(record.line > last_line);
            last_line = record.line;
            for (const auto& field : record.fields) {
                FUZZ_CHECK(!record.valid_utf8 || simdjson::validate_utf8(field.value));
                FUZZ_CHECK(!record.valid_utf8 || simdjson::validate_utf8(field.name));
                copy.names.emplace_back(field.name);
                copy.values.emplace_back(field.value);
                copy.kinds.push_back(field.kind);
            }
            result.records.push_back(std::move(copy));
        }
    } catch (const input_error& e) {
        result.fatal = e.what();
    }
    return result;
}

}   // namespace invent_dispatch::fuzz
