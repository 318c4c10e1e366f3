// The same bytes read in 64 KiB reads and in tiny ones (1 to 8 bytes) give
// identical records, problems and fatal errors, for CSV and for JSONL: the
// fast path and the copying path must agree (issue 12 finding 5 was a
// difference in valid_utf8 between them).
#include "reader_records.hpp"

using namespace invent_dispatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input_cursor in(data, size);
    const auto mode = in.byte();
    const std::size_t tiny = 1 + mode % 8;
    const bool jsonl = mode & 0x80;
    const fuzz::memory_file file(in.rest());
    const auto read_with = [&](std::size_t read_size) {
        if (jsonl)
            return fuzz::read_all([&] {
                return std::make_unique<jsonl_reader>(input_file(file.path()), jsonl_options{read_size, 256});
            });
        return fuzz::read_all([&] {
            return std::make_unique<csv_reader>(input_file(file.path()), csv_options{',', read_size, 256});
        });
    };
    FUZZ_CHECK(read_with(default_read_size) == read_with(tiny));
    return 0;
}
