#pragma once
// Shared by the fuzz targets: the input as a file (readers and loaders take
// paths, as users' do), and a cursor that takes parameters off the front.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sys/mman.h>
#include <unistd.h>

namespace invent_dispatch::fuzz {

// Bytes in an anonymous in-memory file, reachable as /proc/self/fd/N.
class memory_file {
public:
    explicit memory_file(std::string_view bytes) : fd_(::memfd_create("fuzz-input", 0)) {
        if (fd_ < 0) throw std::runtime_error("memfd_create failed");
        std::size_t written = 0;
        while (written < bytes.size()) {
            const auto n = ::write(fd_, bytes.data() + written, bytes.size() - written);
            if (n <= 0) throw std::runtime_error("writing the fuzz input failed");
            written += static_cast<std::size_t>(n);
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~memory_file() { ::close(fd_); }
    memory_file(const memory_file&) = delete;
    memory_file& operator=(const memory_file&) = delete;
    const std::string& path() const noexcept { return path_; }

private:
    int fd_;
    std::string path_;
};

// Takes parameters off the front of the input; what is left is the payload.
class input_cursor {
public:
    input_cursor(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

    std::uint8_t byte() noexcept {
        if (rest_.empty()) return 0;
        const auto b = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return b;
    }
    // Up to the next separator byte (taken off too), or everything left.
    std::string_view until(char separator) noexcept {
        const auto at = rest_.find(separator);
        const auto part = rest_.substr(0, at);
        rest_.remove_prefix(at == std::string_view::npos ? rest_.size() : at + 1);
        return part;
    }
    std::string_view rest() const noexcept { return rest_; }

private:
    std::string_view rest_;
};

// A failed check is a crash: libFuzzer keeps the input that caused it.
[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    std::abort();
}

}   // namespace invent_dispatch::fuzz

#define FUZZ_CHECK(condition)                                                                                          \
    ((condition) ? static_cast<void>(0) : ::invent_dispatch::fuzz::check_failed(#condition, __FILE__, __LINE__))
