#include "invent_dispatch/input.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace invent_dispatch {

input_file::input_file(const std::string& path) {
    if (path == "-") {
        fd_ = STDIN_FILENO;
        name_ = "<stdin>";
        return;
    }
    name_ = path;
    owned_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned_) throw input_error(path + ": cannot open: " + std::strerror(errno));
    fd_ = owned_.get();
    // Read once, front to back: let the kernel read ahead and drop pages behind.
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

std::size_t input_file::read(char* dest, std::size_t size) {
    for (;;) {
        const auto n = ::read(fd_, dest, size);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) throw input_error(name_ + ": read failed: " + std::strerror(errno));
    }
}

std::string_view to_string(value_kind kind) noexcept {
    switch (kind) {
    case value_kind::text: return "a string";
    case value_kind::number: return "a number";
    case value_kind::object: return "an object";
    case value_kind::array: return "an array";
    case value_kind::boolean: return "a boolean";
    case value_kind::null: return "null";
    }
    return "a value";
}

}   // namespace invent_dispatch
