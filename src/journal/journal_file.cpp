// One run per journal (SPEC §3): the journal must be a regular file, and a
// run holds flock(2) on it from start to exit.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "invent_dispatch/journal_records.hpp"
#include "journal_detail.hpp"

namespace invent_dispatch {
namespace {

std::string_view kind_of(mode_t mode) noexcept {
    if (S_ISFIFO(mode)) return "a FIFO or pipe";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

[[noreturn]] void refuse_kind(const std::string& path, mode_t mode) {
    throw journal_error(path + ": is " + std::string(kind_of(mode)) +
                        "; the results journal must be a regular file (--results PATH)");
}

// Who holds the flock on the file, from the kernel's own table (/proc/locks):
// nothing to go stale after kill -9, and no file of ours to race with.
// A line reads "1: FLOCK  ADVISORY  WRITE 4242 fe:00:10953697 0 EOF", the
// device in hex; waiters are marked "->".
std::optional<pid_t> lock_holder(const struct stat& file) {
    std::ifstream locks("/proc/locks");
    std::optional<pid_t> same_inode;   // another device numbering (overlay, btrfs)
    for (std::string line; std::getline(locks, line);) {
        std::istringstream fields(line);
        std::string number, type, mode, access, device;
        long pid = 0;
        fields >> number >> type;
        if (type == "->") continue;
        unsigned major_number = 0, minor_number = 0;
        unsigned long long inode = 0;
        fields >> mode >> access >> pid >> device;
        if (!fields || std::sscanf(device.c_str(), "%x:%x:%llu", &major_number, &minor_number, &inode) != 3 ||
            inode != file.st_ino || pid <= 0)
            continue;
        if (major_number == major(file.st_dev) && minor_number == minor(file.st_dev)) return static_cast<pid_t>(pid);
        if (!same_inode) same_inode = static_cast<pid_t>(pid);
    }
    return same_inode;
}

}   // namespace

journal_file::journal_file(std::string path) : path_(std::move(path)) {
    // Looked at before it is opened: opening a FIFO can block, a device can act.
    struct stat info {};
    if (::stat(path_.c_str(), &info) == 0) {
        if (!S_ISREG(info.st_mode)) refuse_kind(path_, info.st_mode);
    } else if (errno != ENOENT) {
        detail::throw_system_error(path_, "cannot open", errno);
    }
    // O_NONBLOCK: if it became a FIFO since, the open does not wait for a writer.
    fd_.reset(::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644));
    if (!fd_) detail::throw_system_error(path_, "cannot open", errno);
    // A throw below closes it: fd_ is a member already built.
    if (::fstat(fd_.get(), &info) != 0) detail::throw_system_error(path_, "cannot stat", errno);
    if (!S_ISREG(info.st_mode)) refuse_kind(path_, info.st_mode);
    int locked;
    do {
        locked = ::flock(fd_.get(), LOCK_EX | LOCK_NB);
    } while (locked != 0 && errno == EINTR);
    if (locked != 0 && errno == EWOULDBLOCK) {
        const auto holder = lock_holder(info);
        throw journal_error(
            path_ + ": another run is using this journal (" +
            (holder ? "PID " + std::to_string(*holder) : std::string("its PID is not visible from here")) +
            "); one run per journal: wait for it to end, or give this run another --results");
    }
    if (locked != 0) detail::throw_system_error(path_, "cannot lock", errno);
}

journal_file::~journal_file() = default;

}   // namespace invent_dispatch
