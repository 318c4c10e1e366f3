// The journal loader over (a) any file, and (b) the writer's own output for
// fuzzed rows, cut at any byte as a crash would leave it: that must always
// load (the torn tail repaired), and never count a chat the writer did not
// record as created.
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "fuzz_support.hpp"
#include "invent_dispatch/encoding.hpp"
#include "invent_dispatch/journal_writer.hpp"

using namespace invent_dispatch;

namespace {

// A private folder for the writer's files, in memory when /dev/shm exists.
const std::filesystem::path& scratch_folder() {
    static const std::filesystem::path folder = [] {
        const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
        std::string pattern = (base / "invent-journal-fuzz-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        return std::filesystem::path(pattern);
    }();
    return folder;
}

journal_options options_for(const std::string& path) {
    journal_options options;
    options.path = path;
    options.input_identity = "fuzz-input";
    return options;
}

void load_any_file(std::string_view bytes) {
    const fuzz::memory_file file(bytes);
    try {
        journal_file journal(file.path());
        load_journal(journal, options_for(file.path()));
    } catch (const journal_error&) {
        // Not a journal, another input's, or a bad line before the last: refused with a reason.
    }
}

void load_cut_output(fuzz::input_cursor& in) {
    const auto path = (scratch_folder() / "results.jsonl").string();
    std::filesystem::remove(path);
    std::set<std::string> created;
    std::vector<std::string> keys;
    {
        boost::asio::io_context io;
        journal_file journal(path);
        journal_writer writer(io.get_executor(), journal, options_for(path));
        for (std::uint64_t line = 2; !in.rest().empty() && line < 34; ++line) {
            const auto what = in.byte();
            keys.push_back(make_chat_key("c", in.until('\x1F'), "ch"));
            const auto& key = keys.back();
            const auto text = in.until('\x1F');
            if (what & 1) writer.append_sending(line, key);
            row_result r;
            r.line = line;
            r.key = key;
            r.contact_id = text;
            r.result = static_cast<outcome>((what >> 1) % 6);
            if (r.result == outcome::sending) continue;   // left dangling
            r.http_status = what;
            r.chat_id = text;
            r.error = text;
            r.attempts = what >> 4;
            r.latency_ms = what * 0.5;
            writer.append(r);
            if (r.result == outcome::created) created.insert(key);
        }
        writer.close();
    }
    const auto size = std::filesystem::file_size(path);
    const auto cut = size == 0 ? 0 : (static_cast<std::size_t>(in.byte()) << 8 | in.byte()) % (size + 1);
    std::filesystem::resize_file(path, cut);
    const auto load = [&] {
        journal_file journal(path);
        return load_journal(journal, options_for(path));
    };
    const auto state = load();
    FUZZ_CHECK(state.created.size() <= created.size());
    for (const auto& key : keys) FUZZ_CHECK(!state.created.contains(key) || created.count(key));
    const auto again = load();   // a repaired journal loads the same
    FUZZ_CHECK(again.created.size() == state.created.size() && !again.repaired_torn_line);
}

}   // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input_cursor in(data, size);
    if (in.byte() & 1)
        load_cut_output(in);
    else
        load_any_file(in.rest());
    return 0;
}
