// The TOML config file as any bytes, through the whole command line parser
// (`validate --config FILE`): a bad file is a usage error naming it, never a
// crash or another exception.
#include "fuzz_support.hpp"
#include "invent_dispatch/config.hpp"

using namespace invent_dispatch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fuzz::memory_file file(std::string_view(reinterpret_cast<const char*>(data), size));
    const char* argv[] = {"invent-dispatch", "validate", "contacts.csv", "--config", file.path().c_str()};
    try {
        parse_command_line(5, argv, {{"INVENT_API_TOKEN", "tok"}});
    } catch (const usage_error&) {
    }
    return 0;
}
