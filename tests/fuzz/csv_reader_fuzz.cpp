// The CSV/TSV reader over any bytes, with a delimiter, read size and record
// limit taken from the input's first bytes.
#include "reader_records.hpp"

using namespace invent_dispatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input_cursor in(data, size);
    static constexpr char delimiters[] = {',', '\t', ';', '|'};
    csv_options options;
    options.delimiter = delimiters[in.byte() % 4];
    options.read_size = 1 + in.byte() % 64;
    if (const auto limit = in.byte(); limit < 128) options.max_record = limit;
    const fuzz::memory_file file(in.rest());
    fuzz::read_all([&] { return std::make_unique<csv_reader>(input_file(file.path()), options); });
    return 0;
}
