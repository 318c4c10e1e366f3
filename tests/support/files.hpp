#pragma once
// Files for tests of every kind: a scratch folder of the test's own, and
// reading and writing a file's bytes exactly.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include <stdlib.h>

namespace test_support {

namespace fs = std::filesystem;

// A fresh folder under the temporary directory (mkdtemp: no name anyone
// could plant first), removed with everything in it when the test ends.
struct temp_dir {
    fs::path path;

    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "invent-test-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    fs::path operator/(const std::string& name) const { return path / name; }

    // Writes the bytes exactly as given and returns the file's path.
    std::string write(const std::string& name, std::string_view bytes) const {
        const auto file = path / name;
        std::ofstream out(file, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        BOOST_REQUIRE_MESSAGE(out, "cannot write " << file);
        return file.string();
    }
};

inline std::string read_all(std::ifstream& in) {
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The file's bytes; the test stops when it cannot be read.
inline std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
    return read_all(in);
}

// The same, or "" while there is no such file: for one another process
// writes (a child's stderr, a server's log) and a test polls.
inline std::string read_file_if_any(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return in ? read_all(in) : std::string();
}

inline void write_file(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    BOOST_REQUIRE_MESSAGE(out, "cannot write " << path);
}

}   // namespace test_support
