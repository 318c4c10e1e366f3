// The row builder with fuzzed defaults (templates), field map and records
// (CSV or JSONL). Every valid row's body is strict UTF-8 JSON with only the
// documented keys, and its path has exactly the endpoint's segments, none of
// them empty or a dot segment, each decoding back to its id.
#include <boost/json.hpp>
#include <boost/url/decode_view.hpp>
#include <simdjson.h>

#include "fuzz_support.hpp"
#include "invent_dispatch/encoding.hpp"
#include "invent_dispatch/row_builder.hpp"

using namespace invent_dispatch;

namespace {

void check_body(const std::string& body) {
    FUZZ_CHECK(simdjson::validate_utf8(body));
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(body, ec);
    FUZZ_CHECK(!ec && parsed.is_object());
    for (const auto& [key, value] : parsed.as_object()) {
        if (key == "assistant_id" || key == "title") {
            FUZZ_CHECK(value.is_string() && !value.as_string().empty());
        } else {
            FUZZ_CHECK(key == "message" && value.is_array() && value.as_array().size() == 1);
            const auto& part = value.as_array()[0];
            FUZZ_CHECK(part.is_object());
            for (const auto& [part_key, part_value] : part.as_object()) {
                if (part_key == "type")
                    FUZZ_CHECK(part_value == "text");
                else if (part_key == "text")
                    FUZZ_CHECK(part_value.is_string());
                else
                    FUZZ_CHECK((part_key == "start_timestamp" || part_key == "end_timestamp") &&
                               part_value.is_number());
            }
        }
    }
}

void check_path(const chat_request& request) {
    std::string path;
    append_chat_path(path, request.key);
    std::vector<std::string_view> segments;
    std::string_view rest(path);
    while (true) {
        const auto slash = rest.find('/');
        segments.push_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    FUZZ_CHECK(segments.size() == 8);
    FUZZ_CHECK(segments[0].empty() && segments[1] == "orgs" && segments[3] == "contacts" && segments[5] == "channels" &&
               segments[7] == "chats");
    const std::string_view ids[] = {request.org_id, request.contact_id, request.channel_id};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto segment = segments[2 + 2 * i];
        FUZZ_CHECK(!segment.empty() && segment != "." && segment != "..");
        std::string decoded;
        for (const char c : boost::urls::decode_view(boost::urls::pct_string_view(segment))) decoded += c;
        FUZZ_CHECK(decoded == ids[i]);
    }
}

}   // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // title \x1F message \x1F org_id \x1F assistant_id \x1F map \x1F mode byte, then the records
    fuzz::input_cursor in(data, size);
    row_defaults defaults;
    defaults.title = in.until('\x1F');
    defaults.message = in.until('\x1F');
    defaults.org_id = in.until('\x1F');
    defaults.assistant_id = in.until('\x1F');
    std::vector<std::pair<std::string, std::string>> field_map;
    for (std::string_view map = in.until('\x1F'); !map.empty();) {
        const auto item = map.substr(0, map.find(';'));
        map.remove_prefix(std::min(map.size(), item.size() + 1));
        const auto equals = item.find('=');
        if (equals != std::string_view::npos) field_map.emplace_back(item.substr(0, equals), item.substr(equals + 1));
    }
    const bool jsonl = in.byte() & 1;
    const fuzz::memory_file file(in.rest());
    try {
        row_builder builder(defaults, field_map);
        std::unique_ptr<record_reader> reader;
        if (jsonl) {
            reader = std::make_unique<jsonl_reader>(input_file(file.path()), jsonl_options{});
        } else {
            auto csv = std::make_unique<csv_reader>(input_file(file.path()), csv_options{});
            builder.check_header(csv->header(), "fuzz.csv");
            reader = std::move(csv);
        }
        input_record record;
        built_row row;
        while (reader->next(record)) {
            builder.build(record, row);
            if (!row.valid) {
                FUZZ_CHECK(!row.reason.empty());
                continue;
            }
            check_body(row.request.body);
            check_path(row.request);
            FUZZ_CHECK(row.request.idempotency_key.size() == 64);
        }
    } catch (const input_error&) {
        // A bad template, map, default or header: refused before any row, as it should be.
    }
    return 0;
}
