#include <boost/test/unit_test.hpp>

#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "invent_dispatch/rows.hpp"
#include "support/files.hpp"

using namespace invent_dispatch;

namespace {

struct validation {
    int exit_code = -1;
    std::string output;
};

validation run_validate(const std::string& path, const row_defaults& defaults = {}, input_config input = {}) {
    input.path = path;
    std::ostringstream out;
    validation result;
    result.exit_code = validate_input(input, defaults, out);
    result.output = out.str();
    return result;
}

std::string fatal_message(const std::string& path, input_config input = {}) {
    input.path = path;
    std::ostringstream out;
    try {
        validate_input(input, {}, out);
    } catch (const input_error& e) {
        return e.what();
    }
    return "no input_error";
}

// Puts a file in the place of standard input while it lives.
class stdin_from {
public:
    explicit stdin_from(const std::string& path) : saved_(::dup(STDIN_FILENO)) {
        const int file = ::open(path.c_str(), O_RDONLY);
        ::dup2(file, STDIN_FILENO);
        ::close(file);
    }
    ~stdin_from() {
        ::dup2(saved_, STDIN_FILENO);
        ::close(saved_);
    }
    stdin_from(const stdin_from&) = delete;
    stdin_from& operator=(const stdin_from&) = delete;

private:
    int saved_;
};

}   // namespace

BOOST_AUTO_TEST_SUITE(validate)

BOOST_AUTO_TEST_CASE(clean_csv) {
    const test_support::temp_dir dir;
    const auto path = dir.write("clean.csv", "contact_id,channel_id,first_name\nc1,ch1,Ana\nc2,ch1,\"Bo, Jr.\"\n");
    row_defaults defaults;
    defaults.title = "Hi {{first_name}}";
    const auto result = run_validate(path, defaults);
    BOOST_TEST(result.exit_code == 0);
    BOOST_TEST(result.output == path + ": 2 rows, 2 valid, 0 invalid\n");
}

BOOST_AUTO_TEST_CASE(dirty_csv_names_each_line) {
    const test_support::temp_dir dir;
    const auto path = dir.write("dirty.csv", "contact_id,channel_id,first_name\n"
                                             "c1,ch1,Ana\n"
                                             ",ch1,Bo\n"
                                             "c3,\"multi\nline\",Cy\n"
                                             "c4,ch1\n"
                                             "c5,ch1,Di\n"
                                             "c6,ch1,\"open\n");
    row_defaults defaults;
    defaults.message = "Hi {{first_name}} from {{company}}";
    const auto result = run_validate(path, defaults);
    BOOST_TEST(result.exit_code == 1);
    BOOST_TEST(result.output ==
               path + ":2: unknown template variable {{company}} in the default message\n" + path +
                   ":3: contact_id is empty\n" + path + ":4: channel_id contains a control character\n" + path +
                   ":6: 2 fields where the header has 3\n" + path +
                   ":7: unknown template variable {{company}} in the default message\n" + path +
                   ":8: the quote opened on line 8 is never closed\n" + path + ": 6 rows, 0 valid, 6 invalid\n");
}

BOOST_AUTO_TEST_CASE(dirty_jsonl) {
    const test_support::temp_dir dir;
    const auto path = dir.write("dirty.jsonl", "{\"contact_id\":1,\"channel_id\":\"ch1\"}\n"
                                               "\n"
                                               "[1,2]\n"
                                               "{\"contact_id\":{\"id\":1},\"channel_id\":\"ch1\"}\n"
                                               "{\"contact_id\":\"c4\",\"channel_id\":\"ch1\",\"title\":true}\n"
                                               "{\"contact_id\":\"c5\",\"channel_id\":\"ch1\",\"title\":null}\n"
                                               "{\"contact_id\":\"c6\",\"channel_id\":\"ch1\",\"org_id\":7}\n");
    const auto result = run_validate(path);
    BOOST_TEST(result.exit_code == 1);
    BOOST_TEST(result.output == path + ":3: not a JSON object but an array\n" + path +
                                    ":4: contact_id is an object; expected a string or a number\n" + path +
                                    ":5: title is a boolean; expected a string or a number\n" + path +
                                    ":6: title is null; expected a string or a number\n" + path +
                                    ": 6 rows, 2 valid, 4 invalid\n");
}

BOOST_AUTO_TEST_CASE(only_the_first_twenty_problems_are_listed) {
    const test_support::temp_dir dir;
    std::string bytes = "contact_id,channel_id\n";
    for (int i = 0; i < 25; ++i) bytes += ",ch1\n";
    bytes += "c1,ch1\n";
    const auto path = dir.write("many.csv", bytes);
    const auto result = run_validate(path);
    BOOST_TEST(result.exit_code == 1);
    BOOST_TEST(result.output.find(path + ":21: contact_id is empty\n") != std::string::npos);
    BOOST_TEST(result.output.find(path + ":22:") == std::string::npos);
    BOOST_TEST(result.output.ends_with("... and 5 more invalid rows\n" + path + ": 26 rows, 1 valid, 25 invalid\n"));
}

BOOST_AUTO_TEST_CASE(format_and_delimiter_options) {
    const test_support::temp_dir dir;
    const auto path = dir.write("contacts.txt", "ContactID;channel_id\nc1;ch1\n");
    input_config input;
    input.format = input_format::csv;
    input.delimiter = ';';
    input.field_map = {{"contact_id", "ContactID"}};
    BOOST_TEST(run_validate(path, {}, input).exit_code == 0);
    const auto tsv = dir.write("contacts.TSV", "contact_id\tchannel_id\nc1\tch1\n");
    BOOST_TEST(run_validate(tsv).exit_code == 0);
    const auto ndjson = dir.write("contacts.ndjson", "{\"contact_id\":\"c1\",\"channel_id\":\"ch1\"}\n");
    BOOST_TEST(run_validate(ndjson).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(fatal_problems_throw) {
    const test_support::temp_dir dir;
    BOOST_TEST(fatal_message(dir.write("contacts.txt", "a,b\n")).find("cannot tell the input format") !=
               std::string::npos);
    BOOST_TEST(fatal_message("/nonexistent/contacts.csv").starts_with("/nonexistent/contacts.csv: cannot open"));
    const auto no_channel = dir.write("no_channel.csv", "contact_id,channel\nc1,ch1\n");
    BOOST_TEST(fatal_message(no_channel) == no_channel + ":1: the header has no channel_id column");
    input_config mapped;
    mapped.field_map = {{"contact_id", "ContactID"}};
    const auto unmapped = dir.write("unmapped.csv", "contact_id,channel_id\nc1,ch1\n");
    BOOST_TEST(fatal_message(unmapped, mapped) == unmapped + ":1: the header has no ContactID (contact_id) column");
    const auto empty = dir.write("empty.csv", "");
    BOOST_TEST(fatal_message(empty) == empty + ":1: missing header row (the input is empty)");
}

// "-" reads standard input: here a file put in its place for the test.
BOOST_AUTO_TEST_CASE(standard_input) {
    const test_support::temp_dir dir;
    const auto path = dir.write("piped.jsonl", "{\"contact_id\":\"c1\",\"channel_id\":\"ch1\"}\n[]\n");
    input_config input;
    input.format = input_format::jsonl;
    validation result;
    {
        const stdin_from file(path);
        result = run_validate("-", {}, input);
    }
    BOOST_TEST(result.exit_code == 1);
    BOOST_TEST(result.output == "<stdin>:2: not a JSON object but an array\n<stdin>: 2 rows, 1 valid, 1 invalid\n");
    BOOST_TEST(fatal_message("-").find("<stdin>: cannot tell the input format") == 0u);
}

BOOST_AUTO_TEST_CASE(shipped_examples_are_clean) {
    row_defaults defaults;
    defaults.assistant_id = "asst_demo";
    defaults.title = "Spring offer for {{first_name}} {{last_name}}";
    defaults.message = "Hi {{first_name}}! Tell me about {{company}}.";
    for (const auto* name : {"contacts.csv", "contacts.jsonl"}) {
        const auto result = run_validate(INVENT_SOURCE_DIR "/examples/" + std::string(name), defaults);
        BOOST_TEST(result.exit_code == 0, result.output);
    }
}

BOOST_AUTO_TEST_CASE(count_rows_for_progress) {
    const test_support::temp_dir dir;
    input_config csv;
    csv.path = dir.write("count.csv", "contact_id,channel_id\nc1,\"a\nb\"\nc2,ch2\n");
    BOOST_TEST(count_rows(csv).value_or(0) == 2u);
    input_config jsonl;
    jsonl.path = dir.write("count.jsonl", "{}\n\n{}\n");
    BOOST_TEST(count_rows(jsonl).value_or(0) == 2u);
    input_config standard_input;
    standard_input.path = "-";
    standard_input.format = input_format::csv;
    BOOST_TEST(!count_rows(standard_input).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
