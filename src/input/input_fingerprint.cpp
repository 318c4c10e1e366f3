#include <openssl/evp.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "invent_dispatch/input.hpp"
#include "invent_dispatch/input_fingerprint.hpp"

namespace invent_dispatch {

std::optional<input_fingerprint> fingerprint_input(const std::string& path) {
    if (path == "-") return std::nullopt;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) throw input_error(path + ": cannot open: " + std::strerror(errno));
    if (!S_ISREG(info.st_mode)) return std::nullopt;   // reading ahead would eat the rows
    input_file file(path);
    const auto prefix = std::make_unique_for_overwrite<char[]>(fingerprint_prefix);
    std::size_t filled = 0;
    while (filled < fingerprint_prefix) {
        const auto n = file.read(prefix.get() + filled, fingerprint_prefix - filled);
        if (n == 0) break;
        filled += n;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_size = 0;
    if (EVP_Digest(prefix.get(), filled, digest, &digest_size, EVP_sha256(), nullptr) != 1)
        throw input_error(path + ": cannot compute its SHA-256");
    input_fingerprint fingerprint{static_cast<std::uint64_t>(info.st_size), {}};
    constexpr char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < digest_size; ++i) {
        fingerprint.digest += hex[digest[i] >> 4];
        fingerprint.digest += hex[digest[i] & 15];
    }
    return fingerprint;
}

}   // namespace invent_dispatch
