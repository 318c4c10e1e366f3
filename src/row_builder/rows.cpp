// The input stage as the dispatcher sees it: a reader feeding the row builder.
#include "invent_dispatch/rows.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <ostream>
#include <unistd.h>

#include <fmt/format.h>

#include "invent_dispatch/input.hpp"
#include "invent_dispatch/row_builder.hpp"
#include "invent_dispatch/unique_fd.hpp"

namespace invent_dispatch {

namespace {

std::string lower_extension(const std::string& path) {
    const auto slash = path.find_last_of('/');
    const auto dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
    std::string extension = path.substr(dot);
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension;
}

input_format format_of(const input_config& input) {
    if (input.format) return *input.format;
    const auto extension = lower_extension(input.path);
    if (extension == ".csv") return input_format::csv;
    if (extension == ".tsv") return input_format::tsv;
    if (extension == ".jsonl" || extension == ".ndjson") return input_format::jsonl;
    const auto name = input.path == "-" ? std::string("<stdin>") : input.path;
    throw input_error(fmt::format("{}: cannot tell the input format from {}; use --format csv|tsv|jsonl", name,
                                  extension.empty() ? "the name" : "\"" + extension + "\""));
}

char delimiter_of(const input_config& input, input_format format) {
    if (input.delimiter) return *input.delimiter;
    return format == input_format::tsv ? '\t' : ',';
}

// Standard input, which may be a pipe, becomes a temporary file read from its
// start: unlinked at once, so nothing is left behind however the run ends.
void spool_standard_input() {
    auto path = (std::filesystem::temp_directory_path() / "invent-dispatch-stdin-XXXXXX").string();
    // Closed however this ends (a read of stdin may throw too); fd 0 keeps its dup.
    const unique_fd spool(::mkostemp(path.data(), O_CLOEXEC));
    if (!spool)
        throw input_error(
            fmt::format("<stdin>: cannot create a temporary file to hold it ({}): {}", path, std::strerror(errno)));
    ::unlink(path.c_str());
    const auto fail = [&](const char* what) {
        const int error = errno;
        throw input_error(fmt::format("<stdin>: cannot {} its temporary copy in {}: {}", what,
                                      std::filesystem::path(path).parent_path().string(), std::strerror(error)));
    };
    input_file in("-");
    const auto buffer = std::make_unique<char[]>(default_read_size);
    while (const auto n = in.read(buffer.get(), default_read_size)) {
        for (std::size_t done = 0; done < n;) {
            const auto written = ::write(spool.get(), buffer.get() + done, n - done);
            if (written < 0 && errno == EINTR) continue;
            if (written < 0) fail("write");
            done += static_cast<std::size_t>(written);
        }
    }
    if (::lseek(spool.get(), 0, SEEK_SET) != 0 || ::dup2(spool.get(), STDIN_FILENO) < 0) fail("rewind");
}

class reader_rows final : public row_source {
public:
    reader_rows(const input_config& input, const row_defaults& defaults) : builder_(defaults, input.field_map) {
        const auto format = format_of(input);
        input_file file(input.path);
        name_ = file.display_name();
        if (format == input_format::jsonl) {
            reader_ = std::make_unique<jsonl_reader>(std::move(file), jsonl_options{});
            return;
        }
        auto csv = std::make_unique<csv_reader>(std::move(file), csv_options{delimiter_of(input, format)});
        builder_.check_header(csv->header(), name_);
        reader_ = std::move(csv);
    }

    bool next(built_row& out) override {
        if (!reader_->next(record_)) return false;
        builder_.build(record_, out);
        return true;
    }

    const std::string& display_name() const override { return name_; }

private:
    row_builder builder_;
    std::string name_;
    std::unique_ptr<record_reader> reader_;
    input_record record_;
};

}   // namespace

std::unique_ptr<row_source> open_rows(const input_config& input, const row_defaults& defaults) {
    return std::make_unique<reader_rows>(input, defaults);
}

// Progress only: an input that cannot be counted has no total, and open_rows
// is where an unreadable input is reported.
std::optional<std::uint64_t> count_rows(const input_config& input) {
    if (input.path == "-") return std::nullopt;
    try {
        const auto format = format_of(input);
        input_file file(input.path);
        return format == input_format::jsonl ? count_jsonl_records(file)
                                             : count_csv_records(file, delimiter_of(input, format));
    } catch (const input_error&) {
        return std::nullopt;
    }
}

int validate_input(const input_config& input, const row_defaults& defaults, std::ostream& out) {
    constexpr std::uint64_t problems_shown = 20;
    const auto rows = open_rows(input, defaults);
    built_row row;
    std::uint64_t total = 0;
    std::uint64_t invalid = 0;
    while (rows->next(row)) {
        ++total;
        if (row.valid) continue;
        if (++invalid <= problems_shown)
            out << rows->display_name() << ':' << row.request.line << ": " << row.reason << '\n';
    }
    if (invalid > problems_shown) out << "... and " << invalid - problems_shown << " more invalid rows\n";
    out << rows->display_name() << ": " << total << " rows, " << total - invalid << " valid, " << invalid
        << " invalid\n";
    return invalid == 0 ? 0 : 1;
}

int check_whole_input(const input_config& input, const row_defaults& defaults, std::ostream& out) {
    const bool standard_input = input.path == "-";
    if (standard_input) spool_standard_input();
    const int result = validate_input(input, defaults, out);
    if (standard_input && ::lseek(STDIN_FILENO, 0, SEEK_SET) != 0)
        throw input_error(fmt::format("<stdin>: cannot rewind its temporary copy: {}", std::strerror(errno)));
    return result;
}

}   // namespace invent_dispatch
