#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "invent_dispatch/input.hpp"
#include "invent_dispatch/rows.hpp"
#include "support/files.hpp"

using namespace invent_dispatch;

namespace {

struct jsonl_line {
    std::uint64_t line = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<value_kind> kinds;
    std::string problem;
};

std::vector<jsonl_line> read_jsonl(std::string_view bytes, jsonl_options options = {}) {
    const test_support::temp_dir dir;
    jsonl_reader reader(input_file(dir.write("input.jsonl", bytes)), options);
    std::vector<jsonl_line> lines;
    input_record record;
    while (reader.next(record)) {
        jsonl_line line{record.line, {}, {}, record.problem};
        for (const auto& field : record.fields) {
            line.fields.emplace_back(field.name, field.value);
            line.kinds.push_back(field.kind);
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

using fields = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view good_line = R"({"contact_id":"c1","channel_id":"ch1"})";

}   // namespace

BOOST_AUTO_TEST_SUITE(jsonl_reader)

BOOST_AUTO_TEST_CASE(strings_and_numbers_as_written) {
    const auto lines = read_jsonl(
        R"({"contact_id":12345,"channel_id":"ch\"1\u00e9","n":-1.50e3 ,"big":123456789012345678901234567890})"
        "\n");
    BOOST_TEST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0].problem == "");
    BOOST_TEST(lines[0].fields == (fields{{"contact_id", "12345"},
                                          {"channel_id", "ch\"1\xC3\xA9"},
                                          {"n", "-1.50e3"},
                                          {"big", "123456789012345678901234567890"}}));
    BOOST_TEST((lines[0].kinds[0] == value_kind::number));
    BOOST_TEST((lines[0].kinds[1] == value_kind::text));
}

BOOST_AUTO_TEST_CASE(blank_lines_are_skipped_and_lines_counted) {
    const auto lines =
        read_jsonl(std::string("\n") + std::string(good_line) + "\r\n  \t\n\n" + std::string(good_line) + "\n\n");
    BOOST_TEST_REQUIRE(lines.size() == 2u);
    BOOST_TEST(lines[0].line == 2u);
    BOOST_TEST(lines[1].line == 5u);
    BOOST_TEST(lines[0].problem == "");
    BOOST_TEST(lines[1].problem == "");
}

BOOST_AUTO_TEST_CASE(bom_and_missing_final_newline) {
    const auto lines = read_jsonl("\xEF\xBB\xBF" + std::string(good_line) + "\n" + std::string(good_line));
    BOOST_TEST_REQUIRE(lines.size() == 2u);
    BOOST_TEST(lines[0].problem == "");
    BOOST_TEST(lines[1].problem == "");
    BOOST_TEST(lines[1].line == 2u);
}

// Nested values, booleans and null are reported with their kind; the row
// builder decides where they are not allowed.
BOOST_AUTO_TEST_CASE(other_kinds_are_reported) {
    const auto lines = read_jsonl(R"({"a":{"x":1},"b":[1,2],"c":true,"d":null,"e":"s"})"
                                  "\n");
    BOOST_TEST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0].problem == "");
    BOOST_TEST((lines[0].kinds == std::vector<value_kind>{value_kind::object, value_kind::array, value_kind::boolean,
                                                          value_kind::null, value_kind::text}));
}

BOOST_AUTO_TEST_CASE(each_kind_of_bad_line) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"("just a string")", "not a JSON object but a string"},
        {"42", "not a JSON object but a number"},
        {R"([{"contact_id":"c1"}])", "not a JSON object but an array"},
        {"null", "not a JSON object but null"},
        {R"({"contact_id":"c1",})", "invalid JSON"},
        {R"({"contact_id":"c1"} {"x":1})", "invalid JSON"},
        {R"({"contact_id":"c1"}})", "invalid JSON: text after the object"},
        {R"({"contact_id":"c1)", "invalid JSON"},
        {"{\"contact_id\":\"\xFF\xFE\"}", "invalid UTF-8"},
    };
    std::string bytes;
    for (const auto& [line, problem] : cases) bytes += line + "\n" + std::string(good_line) + "\n";
    const auto lines = read_jsonl(bytes);
    BOOST_TEST_REQUIRE(lines.size() == 2 * cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        BOOST_TEST_CONTEXT("line " << cases[i].first) {
            BOOST_TEST(lines[2 * i].line == 2 * i + 1);
            BOOST_TEST(lines[2 * i].problem.starts_with(cases[i].second), lines[2 * i].problem);
            BOOST_TEST(lines[2 * i + 1].problem == "");   // the next line reads fine
        }
    }
}

BOOST_AUTO_TEST_CASE(overlong_line_is_invalid_and_reading_goes_on) {
    const std::string long_value(1024 * 1024 + 10, 'x');
    const auto bytes =
        std::string(good_line) + "\n{\"contact_id\":\"" + long_value + "\"}\n" + std::string(good_line) + "\n";
    for (const auto read_size : {default_read_size, std::size_t{1000}}) {
        const auto lines = read_jsonl(bytes, jsonl_options{read_size, 1024 * 1024});
        BOOST_TEST_REQUIRE(lines.size() == 3u);
        BOOST_TEST(lines[1].line == 2u);
        BOOST_TEST(lines[1].problem == "line longer than 1048576 bytes");
        BOOST_TEST(lines[2].line == 3u);
        BOOST_TEST(lines[2].problem == "");
    }
}

// A line of exactly max_line bytes is still read, across many small reads.
BOOST_AUTO_TEST_CASE(longest_allowed_line_is_read) {
    const std::size_t max_line = 4096;
    std::string line = "{\"contact_id\":\"";
    line += std::string(max_line - line.size() - 2, 'y') + "\"}";
    const auto lines = read_jsonl(line + "\n" + std::string(good_line) + "\n", jsonl_options{7, max_line});
    BOOST_TEST_REQUIRE(lines.size() == 2u);
    BOOST_TEST(lines[0].problem == "");
    BOOST_TEST(lines[0].fields.at(0).second.size() == max_line - 17);
}

// JSONTestSuite's must-reject files (those on one line), each as a line
// between good ones: each is a bad record or, if blank, no record.
BOOST_AUTO_TEST_CASE(json_test_suite_rejects) {
    const std::string suite = INVENT_SHARED_DIR "/conformance/jsontestsuite/test_parsing";
    std::size_t tried = 0;
    for (const auto& entry : std::filesystem::directory_iterator(suite)) {
        const auto name = entry.path().filename().string();
        if (!name.starts_with("n_")) continue;
        const auto bad = test_support::read_file(entry.path());
        if (bad.find_first_of("\r\n") != std::string::npos) continue;
        BOOST_TEST_CONTEXT("file " << name) {
            const auto lines = read_jsonl(std::string(good_line) + "\n" + bad + "\n" + std::string(good_line) + "\n");
            const bool blank = bad.find_first_not_of(" \t") == std::string::npos;
            BOOST_TEST_REQUIRE(lines.size() == (blank ? 2u : 3u));
            if (!blank) {
                BOOST_TEST(lines[1].problem != "");
                BOOST_TEST(lines[1].line == 2u);
            }
            BOOST_TEST(lines.back().problem == "");
            BOOST_TEST(lines.back().line == 3u);
        }
        ++tried;
    }
    BOOST_TEST(tried > 150u);
}

BOOST_AUTO_TEST_CASE(count_skips_blank_lines) {
    const test_support::temp_dir dir;
    input_file file(dir.write("count.jsonl", "{}\n\n  \r\n{}\n{}"));
    BOOST_TEST(count_jsonl_records(file) == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
