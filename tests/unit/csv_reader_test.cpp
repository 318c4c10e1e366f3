#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <boost/json.hpp>

#include "invent_dispatch/input.hpp"
#include "support/files.hpp"

using namespace invent_dispatch;

namespace {

struct csv_row {
    std::uint64_t line = 0;
    std::vector<std::string> values;
    std::string problem;
};

struct csv_contents {
    std::vector<std::string> header;
    std::vector<csv_row> rows;
};

csv_contents read_csv_file(const std::string& path, csv_options options = {}) {
    csv_reader reader(input_file(path), options);
    csv_contents contents{reader.header(), {}};
    input_record record;
    while (reader.next(record)) {
        csv_row row{record.line, {}, record.problem};
        for (const auto& field : record.fields) row.values.emplace_back(field.value);
        contents.rows.push_back(std::move(row));
    }
    return contents;
}

csv_contents read_csv(std::string_view bytes, csv_options options = {}) {
    const test_support::temp_dir dir;
    return read_csv_file(dir.write("input.csv", bytes), options);
}

using strings = std::vector<std::string>;

const std::string spectrum_dir = INVENT_SHARED_DIR "/conformance/csv-spectrum";

}   // namespace

BOOST_AUTO_TEST_SUITE(csv_reader)

// Every csv-spectrum case parses to exactly its JSON (header names as keys).
BOOST_AUTO_TEST_CASE(csv_spectrum_conformance) {
    std::size_t cases = 0;
    for (const auto& entry : std::filesystem::directory_iterator(spectrum_dir + "/csvs")) {
        const auto name = entry.path().stem().string();
        BOOST_TEST_CONTEXT("case " << name) {
            const auto expected =
                boost::json::parse(test_support::read_file(spectrum_dir + "/json/" + name + ".json")).as_array();

            const auto contents = read_csv_file(entry.path().string());
            BOOST_TEST_REQUIRE(contents.rows.size() == expected.size());
            for (std::size_t r = 0; r < expected.size(); ++r) {
                const auto& row = contents.rows[r];
                BOOST_TEST(row.problem == "");
                const auto& object = expected[r].as_object();
                BOOST_TEST_REQUIRE(row.values.size() == contents.header.size());
                BOOST_TEST(object.size() == contents.header.size());
                for (std::size_t c = 0; c < contents.header.size(); ++c)
                    BOOST_TEST(row.values[c] == std::string(object.at(contents.header[c]).as_string()));
            }
            ++cases;
        }
    }
    BOOST_TEST(cases == 11u);
}

BOOST_AUTO_TEST_CASE(tab_and_semicolon_delimiters) {
    const auto tsv = read_csv("a\tb\n1,2\t\"x\ty\"\n", csv_options{'\t'});
    BOOST_TEST(tsv.header == (strings{"a", "b"}));
    BOOST_TEST(tsv.rows.at(0).values == (strings{"1,2", "x\ty"}));

    const auto semicolons = read_csv("a;b\n\"1;2\";3,4\n", csv_options{';'});
    BOOST_TEST(semicolons.rows.at(0).values == (strings{"1;2", "3,4"}));
}

BOOST_AUTO_TEST_CASE(crlf_inside_quotes_is_kept_and_counted) {
    const auto contents = read_csv("a,b\r\n\"x\r\ny\",2\r\n3,4\r\n");
    BOOST_TEST_REQUIRE(contents.rows.size() == 2u);
    BOOST_TEST(contents.rows[0].values == (strings{"x\r\ny", "2"}));
    BOOST_TEST(contents.rows[0].line == 2u);
    BOOST_TEST(contents.rows[1].values == (strings{"3", "4"}));
    BOOST_TEST(contents.rows[1].line == 4u);
}

BOOST_AUTO_TEST_CASE(bom_is_dropped) {
    const auto contents = read_csv("\xEF\xBB\xBF"
                                   "contact_id,b\n1,2\n",
                                   csv_options{',', 4});
    BOOST_TEST(contents.header == (strings{"contact_id", "b"}));
    BOOST_TEST(contents.rows.at(0).values == (strings{"1", "2"}));
}

// Every way of cutting a 3-byte and a 4-byte character across reads,
// in quoted and unquoted fields.
BOOST_AUTO_TEST_CASE(multibyte_characters_split_across_reads) {
    const std::string euro = "\xE2\x82\xAC";   // U+20AC, 3 bytes
    const std::string emoji = "\xF0\x9F\x98\x80";   // U+1F600, 4 bytes
    const std::string bytes = "name,note\n" + euro + emoji + euro + ",\"" + emoji + euro + emoji + "\"\n";
    for (std::size_t read_size = 4; read_size <= 12; ++read_size) {
        BOOST_TEST_CONTEXT("read size " << read_size) {
            const auto contents = read_csv(bytes, csv_options{',', read_size});
            BOOST_TEST_REQUIRE(contents.rows.size() == 1u);
            BOOST_TEST(contents.rows[0].values == (strings{euro + emoji + euro, emoji + euro + emoji}));
            BOOST_TEST(contents.rows[0].problem == "");
        }
    }
}

BOOST_AUTO_TEST_CASE(missing_final_newline) {
    const auto contents = read_csv("a,b\n1,2\n3,\"4\"");
    BOOST_TEST_REQUIRE(contents.rows.size() == 2u);
    BOOST_TEST(contents.rows[1].values == (strings{"3", "4"}));
    BOOST_TEST(contents.rows[1].line == 3u);
}

BOOST_AUTO_TEST_CASE(unterminated_quote_at_end_of_file) {
    const auto contents = read_csv("a,b\n1,2\n3,\"open\nstill open\n");
    BOOST_TEST_REQUIRE(contents.rows.size() == 2u);
    BOOST_TEST(contents.rows[1].line == 3u);
    BOOST_TEST(contents.rows[1].problem == "the quote opened on line 3 is never closed");
}

BOOST_AUTO_TEST_CASE(too_few_and_too_many_fields) {
    const auto contents = read_csv("a,b,c\n1,2\n1,2,3,4\n1,2,3\n");
    BOOST_TEST_REQUIRE(contents.rows.size() == 3u);
    BOOST_TEST(contents.rows[0].problem == "2 fields where the header has 3");
    BOOST_TEST(contents.rows[1].problem == "4 fields where the header has 3");
    BOOST_TEST(contents.rows[2].problem == "");
}

// Memory stays bounded whatever a record holds: the excess is dropped.
BOOST_AUTO_TEST_CASE(overlong_record_is_a_problem) {
    const csv_options small{',', 16, 64};
    const auto contents = read_csv("a,b\n1,\"" + std::string(100, 'x') + "\"\n2,3\n", small);
    BOOST_TEST_REQUIRE(contents.rows.size() == 2u);
    BOOST_TEST(contents.rows[0].problem == "record longer than 64 bytes");
    BOOST_TEST(contents.rows[0].values.at(0).size() + contents.rows[0].values.at(1).size() <= 64u);
    BOOST_TEST(contents.rows[1].values == (strings{"2", "3"}));
    BOOST_TEST(contents.rows[1].line == 3u);

    const auto delimiters = read_csv("a,b\n\"1\"" + std::string(1000, ',') + "\n2,3\n", small);
    BOOST_TEST_REQUIRE(delimiters.rows.size() == 2u);
    BOOST_TEST(delimiters.rows[0].problem == "record longer than 64 bytes");
    BOOST_TEST(delimiters.rows[1].problem == "");

    const auto open_quote = read_csv("a,b\n1,\"" + std::string(1000, 'y') + "\n2,3\n", small);
    BOOST_TEST_REQUIRE(open_quote.rows.size() == 1u);
    BOOST_TEST(open_quote.rows[0].problem == "the quote opened on line 2 is never closed");
    BOOST_TEST(open_quote.rows[0].values.at(1).size() <= 64u);
}

// Issue 12 finding 10: a limit below one field end's size (8 bytes) read
// fields_.back() of an empty vector. The limit counts field bytes and
// delimiters, the same whether a record lies in one read or across many.
BOOST_AUTO_TEST_CASE(tiny_max_record_is_the_same_at_every_read_size) {
    for (std::size_t max_record = 0; max_record < 24; ++max_record) {
        for (const std::size_t read_size : {std::size_t{4}, std::size_t{5}, std::size_t{64}}) {
            BOOST_TEST_CONTEXT("max_record " << max_record << ", read size " << read_size) {
                const csv_options options{',', read_size, max_record};
                if (max_record < 3) {
                    BOOST_CHECK_THROW(read_csv("a,b\n1,2\n", options), input_error);
                    continue;
                }
                const auto contents = read_csv("a,b\n\"1\",2\n1,2,3,4,5,6,7,8,9\n", options);
                BOOST_TEST_REQUIRE(contents.rows.size() == 2u);
                BOOST_TEST(contents.rows[0].values == (strings{"1", "2"}));
                BOOST_TEST(contents.rows[0].problem == "");
                BOOST_TEST(contents.rows[1].problem ==
                           (max_record < 17 ? "record longer than " + std::to_string(max_record) + " bytes"
                                            : "9 fields where the header has 2"));
            }
        }
    }
}

// Issue 12 finding 5: a copied record's fields touch in memory, so checking
// them as one span let "\xD0" at the end of one field and "\x97" at the
// start of the next pass as a character.
BOOST_AUTO_TEST_CASE(invalid_utf8_is_found_in_quoted_records_too) {
    const test_support::temp_dir dir;
    for (const std::string row :
         {"\"c1\",ch,Hi\xD0,\x97there\n", "c1,ch,Hi\xD0,\x97there\n", "\"c1\",ch,Hi,\xD0\x97there\n"}) {
        BOOST_TEST_CONTEXT("row " << row) {
            invent_dispatch::csv_reader reader(input_file(dir.write("utf8.csv", "a,b,c,d\n" + row)), csv_options{});
            input_record record;
            BOOST_TEST_REQUIRE(reader.next(record));
            const bool whole_characters = row.find("Hi,") != std::string::npos;
            BOOST_TEST(record.valid_utf8 == whole_characters);
        }
    }
}

BOOST_AUTO_TEST_CASE(text_after_a_closing_quote_is_a_problem) {
    const auto contents = read_csv("a,b\n\"x\"y,2\n");
    BOOST_TEST(contents.rows.at(0).problem == "field 1: text after the closing quote");
}

BOOST_AUTO_TEST_CASE(quote_inside_an_unquoted_field_is_text) {
    const auto contents = read_csv("a,b\n5'10\",2\n");
    BOOST_TEST(contents.rows.at(0).values == (strings{"5'10\"", "2"}));
    BOOST_TEST(contents.rows.at(0).problem == "");
}

BOOST_AUTO_TEST_CASE(empty_fields) {
    const auto contents = read_csv("a,b,c\n,,\n\"\",x,\n");
    BOOST_TEST(contents.rows.at(0).values == (strings{"", "", ""}));
    BOOST_TEST(contents.rows.at(1).values == (strings{"", "x", ""}));
}

BOOST_AUTO_TEST_CASE(bad_headers_are_fatal) {
    const auto fails_with = [](std::string_view bytes, const std::string& message) {
        BOOST_TEST_CONTEXT("input " << bytes) {
            try {
                read_csv(bytes);
                BOOST_ERROR("no input_error");
            } catch (const input_error& e) {
                BOOST_TEST(std::string(e.what()).find(message) != std::string::npos, e.what());
            }
        }
    };
    fails_with("", ":1: missing header row");
    fails_with("\n\r\n", "missing header row");
    fails_with("a,b,a\n1,2,3\n", ":1: header: column \"a\" appears twice");
    fails_with("a,,c\n", ":1: header: column 2 has no name");
    fails_with("a,\"b\n", "header: the quote opened on line 1 is never closed");
    fails_with("a,\xFF\n", "header: column 2 is not valid UTF-8");
}

BOOST_AUTO_TEST_CASE(unreadable_file_is_fatal) {
    BOOST_CHECK_THROW(input_file("/nonexistent/contacts.csv"), input_error);
}

BOOST_AUTO_TEST_CASE(header_only_has_no_records) {
    BOOST_TEST(read_csv("a,b\n").rows.empty());
}

// A row's line is where it starts; quoted line breaks and blank lines count.
BOOST_AUTO_TEST_CASE(line_numbers_are_physical) {
    const auto contents = read_csv("a,b\n1,\"x\ny\nz\"\n\n2,3\r\n\r\n\"p\",\"q\nr\"\n4,5");
    BOOST_TEST_REQUIRE(contents.rows.size() == 4u);
    BOOST_TEST(contents.rows[0].line == 2u);
    BOOST_TEST(contents.rows[1].line == 6u);
    BOOST_TEST(contents.rows[2].line == 8u);
    BOOST_TEST(contents.rows[3].line == 10u);
}

// The same lines whatever the read size: records that straddle reads go the
// slow way, the others the fast way.
BOOST_AUTO_TEST_CASE(read_size_does_not_change_records) {
    const std::string bytes = "a,b\n1,2\n\"x\ny\",\"\"\"\"\n\n3,4\r\n5,6";
    const auto expected = read_csv(bytes);
    for (std::size_t read_size = 4; read_size < bytes.size(); ++read_size) {
        BOOST_TEST_CONTEXT("read size " << read_size) {
            const auto contents = read_csv(bytes, csv_options{',', read_size});
            BOOST_TEST_REQUIRE(contents.rows.size() == expected.rows.size());
            for (std::size_t i = 0; i < expected.rows.size(); ++i) {
                BOOST_TEST(contents.rows[i].values == expected.rows[i].values);
                BOOST_TEST(contents.rows[i].line == expected.rows[i].line);
            }
        }
    }
}

// Random fields (delimiters, quotes, CR, LF, multi-byte characters) written
// the RFC 4180 way come back exactly, whatever the read size.
BOOST_AUTO_TEST_CASE(random_round_trip) {
    std::mt19937 random(20240601);
    const std::vector<std::string> pieces = {
        "a", "Z", "0", " ", ",", ";", "\"", "\r", "\n", "\r\n", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "'"};
    const auto random_field = [&] {
        std::string field;
        for (auto n = random() % 6; n > 0; --n) field += pieces[random() % pieces.size()];
        return field;
    };
    const auto encode = [](const std::string& field) {
        if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
        std::string quoted = "\"";
        for (const char c : field) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        return quoted + "\"";
    };
    for (int round = 0; round < 20; ++round) {
        std::vector<std::vector<std::string>> expected;
        std::vector<std::uint64_t> lines;
        std::string bytes = "a,b,c\n";
        for (int row = 0; row < 30; ++row) {
            std::vector<std::string> values;
            for (int column = 0; column < 3; ++column) values.push_back(random_field());
            if (values == std::vector<std::string>{"", "", ""})
                values[0] = "x";   // an all-empty unquoted row would be a blank line
            lines.push_back(1 + static_cast<std::uint64_t>(std::count(bytes.begin(), bytes.end(), '\n')));
            bytes +=
                encode(values[0]) + "," + encode(values[1]) + "," + encode(values[2]) + (random() % 2 ? "\r\n" : "\n");
            expected.push_back(values);
        }
        const std::size_t read_size = 4 + random() % 40;
        BOOST_TEST_CONTEXT("round " << round << ", read size " << read_size) {
            const test_support::temp_dir dir;
            input_file file(dir.write("count.csv", bytes));
            BOOST_TEST(count_csv_records(file, ',') == expected.size());
            const auto contents = read_csv(bytes, csv_options{',', read_size});
            BOOST_TEST_REQUIRE(contents.rows.size() == expected.size());
            for (std::size_t i = 0; i < expected.size(); ++i) {
                BOOST_TEST(contents.rows[i].values == expected[i]);
                BOOST_TEST(contents.rows[i].line == lines[i]);
                BOOST_TEST(contents.rows[i].problem == "");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(count_is_quote_aware) {
    const test_support::temp_dir dir;
    input_file file(dir.write("count.csv", "a,b\n1,\"x\ny\"\n\n2,3\n4,\"\"\"\n\"\n"));
    BOOST_TEST(count_csv_records(file, ',') == 3u);
}

// A quote opens a quoted field only at a field's start, for the count as for
// the reader: the progress total must be the number of rows the reader gives.
BOOST_AUTO_TEST_CASE(count_quotes_as_the_reader_does) {
    const std::vector<std::pair<std::string, char>> inputs{
        {"a,b\n1,x\"y\n2,3\n", ','},   // a quote inside an unquoted field is text
        {"a,b\n\"1\"x\"y,2\n3,4\n", ','},   // text after a closing quote, quotes in it too
        {"a;b\n1;\"x\ny\"\n2,\"3\n4;5\n", ';'},   // only the delimiter makes a field start
        {"a,b\n1,\"x\"\"\ny\"\n2,\r\"\n", ','},   // "" inside quotes; a lone CR before a quote
    };
    for (const auto& [bytes, delimiter] : inputs) {
        BOOST_TEST_CONTEXT(bytes) {
            const test_support::temp_dir dir;
            input_file file(dir.write("count.csv", bytes));
            BOOST_TEST(count_csv_records(file, delimiter) == read_csv(bytes, csv_options{delimiter}).rows.size());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
