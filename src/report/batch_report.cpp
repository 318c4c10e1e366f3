// Journals -> the report's tallies, in one pass per file. Each line is parsed
// in place with simdjson from a chunk buffer that keeps SIMDJSON_PADDING
// readable bytes past its end; only what the report shows is kept.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <ostream>
#include <set>
#include <simdjson.h>
#include <utility>

#include "invent_dispatch/journal_records.hpp"
#include "invent_dispatch/journal_report.hpp"
#include "invent_dispatch/key_set.hpp"
#include "invent_dispatch/unique_fd.hpp"

namespace invent_dispatch {
namespace {

namespace ondemand = simdjson::ondemand;

constexpr std::size_t final_outcome_count = 5;   // every outcome but `sending`

[[noreturn]] void throw_file_error(const std::string& path, std::string_view what, int error) {
    throw journal_error(fmt::format("{}: {}: {}", path, what, std::strerror(error)));
}

// Calls `on_line(text, capacity)` for each line of a file, the last one even
// without its '\n'; `capacity` counts the readable bytes from the line's
// start, padding included, as simdjson wants.
template <class OnLine>
void for_each_padded_line(const std::string& path, OnLine on_line) {
    const unique_fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) throw_file_error(path, "cannot open", errno);
    const int fd = file.get();
    std::vector<char> buffer(std::size_t{4} << 20);
    std::size_t begin = 0, end = 0;   // unscanned bytes
    const auto readable = [&] { return buffer.size() - simdjson::SIMDJSON_PADDING; };
    for (bool eof = false; !eof;) {
        if (begin > 0) {   // keep the partial line at the front
            std::memmove(buffer.data(), buffer.data() + begin, end - begin);
            end -= begin;
            begin = 0;
        }
        if (end == readable()) buffer.resize(buffer.size() * 2);   // a line longer than the buffer
        const auto n = ::read(fd, buffer.data() + end, readable() - end);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_file_error(path, "cannot read", errno);
        eof = n == 0;
        end += static_cast<std::size_t>(n);
        while (begin < end) {
            const auto* newline = static_cast<const char*>(std::memchr(buffer.data() + begin, '\n', end - begin));
            if (!newline && !eof) break;
            const auto length = newline ? static_cast<std::size_t>(newline - buffer.data()) - begin : end - begin;
            on_line(std::string_view(buffer.data() + begin, length), buffer.size() - begin);
            begin += length + (newline ? 1 : 0);
        }
    }
}

// The fields of one journal line the report reads (views die with the next parse).
struct journal_line {
    std::string_view journal;   // the header's "journal"
    std::string_view input;
    std::string_view event;
    std::optional<std::uint64_t> line;
    std::string_view key;
    std::string_view outcome_name;
    std::int64_t http_status = 0;
    std::int64_t attempts = 0;
    std::optional<double> latency_ms;
    std::string_view error;
    std::string_view at;
    std::string_view version;   // run_start's; the header's is a number
    std::string_view base_url;
    std::string_view shard;
    std::optional<std::int64_t> pid;
    std::optional<std::int64_t> exit_code;
    std::int64_t status = 0;
    std::string_view until;
};

// The fields read the same way, by name, as members of journal_line.
template <class Member>
using named_member = std::pair<std::string_view, Member journal_line::*>;
constexpr std::array<named_member<std::string_view>, 10> text_fields{{
    {"key", &journal_line::key},
    {"outcome", &journal_line::outcome_name},
    {"error", &journal_line::error},
    {"at", &journal_line::at},
    {"event", &journal_line::event},
    {"journal", &journal_line::journal},
    {"input", &journal_line::input},
    {"base_url", &journal_line::base_url},
    {"shard", &journal_line::shard},
    {"until", &journal_line::until},
}};
constexpr std::array<named_member<std::int64_t>, 3> int_fields{{
    {"http_status", &journal_line::http_status},
    {"attempts", &journal_line::attempts},
    {"status", &journal_line::status},
}};
constexpr std::array<named_member<std::optional<std::int64_t>>, 2> optional_int_fields{{
    {"pid", &journal_line::pid},
    {"exit_code", &journal_line::exit_code},
}};

template <class Member, std::size_t n>
Member journal_line::*member_named(const std::array<named_member<Member>, n>& fields, std::string_view name) {
    for (const auto& [field_name, member] : fields)
        if (field_name == name) return member;
    return nullptr;
}

// Fields in document order, whatever that order is; null reads as absent.
bool parse_line(ondemand::parser& parser, std::string_view text, std::size_t capacity, journal_line& out) {
    // Every field is read, so a line cut inside a value fails; one cut between
    // fields would pass without this: a whole record ends with its brace.
    const auto last = text.find_last_not_of(" \t\r");
    if (last == std::string_view::npos || text[last] != '}') return false;
    ondemand::document doc;
    ondemand::object object;
    if (parser.iterate(text.data(), text.size(), capacity).get(doc) || doc.get_object().get(object)) return false;
    for (auto field_result : object) {
        ondemand::field field;
        std::string_view name;
        if (std::move(field_result).get(field) || field.unescaped_key().get(name)) return false;
        ondemand::value value = field.value();
        bool is_null = false;
        if (value.is_null().get(is_null)) return false;
        if (is_null) continue;
        const auto text_of = [&](std::string_view& target) { return !value.get_string().get(target); };
        const auto int_of = [&](std::int64_t& target) { return !value.get_int64().get(target); };
        bool ok = true;
        if (const auto text_member = member_named(text_fields, name))
            ok = text_of(out.*text_member);
        else if (const auto int_member = member_named(int_fields, name))
            ok = int_of(out.*int_member);
        else if (const auto optional_member = member_named(optional_int_fields, name)) {
            std::int64_t v = 0;
            ok = int_of(v);
            out.*optional_member = v;
        } else if (name == "line") {
            std::uint64_t line = 0;
            ok = !value.get_uint64().get(line);
            out.line = line;
        } else if (name == "latency_ms") {
            double latency = 0;
            ok = !value.get_double().get(latency);
            out.latency_ms = latency;
        } else if (name == "version") {
            ondemand::json_type type;
            ok = !value.type().get(type);
            if (ok && type == ondemand::json_type::string) ok = text_of(out.version);
        }
        if (!ok) return false;
    }
    return true;
}

// Each row's latest final outcome, by a 64-bit digest of the row (its key and
// line): open addressing, one word a slot, the row's digest in the high 61
// bits and its outcome + 1 in the low 3 (so a used slot is never 0).
class row_outcomes {
public:
    void set(std::uint64_t row, outcome o) {
        if ((size_ + 1) * 10 > slots_.size() * 7) grow();
        place((row & ~low_bits) | (static_cast<std::uint64_t>(o) + 1));
    }
    std::array<std::uint64_t, final_outcome_count> counts() const {
        std::array<std::uint64_t, final_outcome_count> counts{};
        for (const auto slot : slots_)
            if (slot != 0) ++counts[(slot & low_bits) - 1];
        return counts;
    }

private:
    static constexpr std::uint64_t low_bits = 7;

    void place(std::uint64_t entry) {
        const auto mask = slots_.size() - 1;
        for (auto i = static_cast<std::size_t>(entry >> 3) & mask;; i = (i + 1) & mask) {
            auto& slot = slots_[i];
            if (slot == 0) ++size_;
            if (slot == 0 || (slot & ~low_bits) == (entry & ~low_bits)) {
                slot = entry;
                return;
            }
        }
    }
    void grow() {
        std::vector<std::uint64_t> old(std::max<std::size_t>(1024, slots_.size() * 2));
        old.swap(slots_);
        size_ = 0;
        for (const auto slot : old)
            if (slot != 0) place(slot);
    }
    std::vector<std::uint64_t> slots_;
    std::size_t size_ = 0;
};

std::uint64_t row_digest(std::string_view key, std::uint64_t line) noexcept {
    return key_hash(key) ^ (line * 0x9e3779b97f4a7c15ULL);
}

// The earliest and the latest `at` of a file, from its head and its tail:
// records are appended in completion order, so that is the file's span.
void widen_span(const std::string& path, std::optional<std::int64_t>& first, std::optional<std::int64_t>& last) {
    const unique_fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) return;   // the full read says why
    const int fd = file.get();
    constexpr std::size_t window = 64 << 10;
    std::string text(window, '\0');
    const auto stamps_in = [&](off_t offset) {
        std::vector<std::int64_t> stamps;
        const auto n = ::pread(fd, text.data(), window, offset);
        if (n <= 0) return stamps;
        const std::string_view view(text.data(), static_cast<std::size_t>(n));
        // `"at"` then `:` and a string, spaces allowed. Inside a JSON string a
        // quote is escaped, so this never matches a value's text.
        constexpr std::string_view marker = "\"at\"";
        for (auto at = view.find(marker); at != std::string_view::npos; at = view.find(marker, at + 1)) {
            auto start = view.find_first_not_of(" \t", at + marker.size());
            if (start == std::string_view::npos || view[start] != ':') continue;
            start = view.find_first_not_of(" \t", start + 1);
            if (start == std::string_view::npos || view[start] != '"') continue;
            const auto close = view.find('"', start + 1);
            if (close == std::string_view::npos) break;
            if (const auto ms = parse_utc_ms(view.substr(start + 1, close - start - 1))) stamps.push_back(*ms);
        }
        return stamps;
    };
    const auto size = ::lseek(fd, 0, SEEK_END);
    for (const auto offset : {off_t{0}, std::max<off_t>(0, size - static_cast<off_t>(window))}) {
        for (const auto ms : stamps_in(offset)) {
            first = first ? std::min(*first, ms) : ms;
            last = last ? std::max(*last, ms) : ms;
        }
    }
}

std::string joined(const std::set<std::string>& values) {
    std::string text;
    for (const auto& v : values) {
        if (v.empty()) continue;
        if (!text.empty()) text += ", ";
        text += v;
    }
    return text;
}

}   // namespace

struct batch_report::impl {
    std::vector<journal_file_facts> journals;
    std::vector<journal_run> runs;
    std::uint64_t runs_seen = 0;
    std::vector<rate_limit_pause> pauses;
    std::uint64_t pauses_seen = 0;
    std::vector<time_bucket> buckets;
    std::int64_t origin_ms = 0;
    std::int64_t width_ms = 0;
    std::uint64_t rows_without_time = 0;
    std::map<unsigned, std::uint64_t> attempts;
    std::vector<slow_row> slowest;   // a min-heap on latency while reading, sorted at the end
    error_tally errors;
    row_outcomes rows;
    std::uint64_t final_records = 0;
    std::map<int, std::uint64_t> by_status;
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
    latency_histogram latencies;
    duration_buckets durations;
    std::optional<std::int64_t> first_at, last_at;

    // Rows whose `sending` has no final record yet, per file.
    struct pending_send {
        std::uint64_t line;
        std::string key;
    };
    std::unordered_map<std::uint64_t, pending_send> pending;

    static bool slower(const slow_row& a, const slow_row& b) { return a.latency_ms > b.latency_ms; }

    void read(const std::string& path, std::ostream& warnings);
    void row_record(const journal_file_facts& file, const journal_line& r, outcome o);
    void event_record(const journal_file_facts& file, const journal_line& r);
    void final_record(const journal_file_facts& file, std::uint64_t line, std::string_view key, outcome o,
                      const journal_line* r);
};

void batch_report::impl::read(const std::string& path, std::ostream& warnings) {
    auto& file = journals.emplace_back();
    file.path = path;
    ondemand::parser parser;
    std::uint64_t line_number = 0;
    std::uint64_t first_bad_line = 0;
    bool header_seen = false;
    for_each_padded_line(path, [&](std::string_view text, std::size_t capacity) {
        ++line_number;
        if (text.find_first_not_of(" \t\r") == std::string_view::npos) return;
        journal_line r;
        const bool parsed = parse_line(parser, text, capacity, r);
        if (!header_seen) {
            if (!parsed || r.journal != "invent-dispatch")
                throw journal_error(fmt::format("{}:{}: not an invent-dispatch journal", path, line_number));
            header_seen = true;
            file.input = std::string(r.input);
            return;
        }
        std::optional<outcome> o;
        if (parsed && r.line) o = parse_outcome(r.outcome_name);
        if (parsed && !r.event.empty()) {
            event_record(file, r);
        } else if (o) {
            ++file.records;
            row_record(file, r, *o);
        } else {
            ++file.unreadable_lines;
            if (!first_bad_line) first_bad_line = line_number;
        }
    });
    if (!header_seen) throw journal_error(fmt::format("{}: empty, not an invent-dispatch journal", path));
    if (file.unreadable_lines)
        warnings << fmt::format("invent-dispatch: {}:{}: {} line{} that {} not a journal record, skipped\n", path,
                                first_bad_line, file.unreadable_lines, file.unreadable_lines == 1 ? "" : "s",
                                file.unreadable_lines == 1 ? "is" : "are");
    // Requests in flight when the file ends: the next run records them unknown, and so do we.
    std::vector<pending_send> left(pending.size());
    std::transform(pending.begin(), pending.end(), left.begin(), [](auto& p) { return std::move(p.second); });
    pending.clear();
    std::sort(left.begin(), left.end(), [](const auto& a, const auto& b) { return a.line < b.line; });
    for (const auto& send : left) final_record(file, send.line, send.key, outcome::unknown, nullptr);
}

void batch_report::impl::row_record(const journal_file_facts& file, const journal_line& r, outcome o) {
    const auto line = *r.line;
    const auto row = row_digest(r.key.empty() ? std::string_view(file.input) : r.key, line);
    if (o == outcome::sending) {
        pending.insert_or_assign(row, pending_send{line, std::string(r.key)});
        return;
    }
    pending.erase(row);
    final_record(file, line, r.key, o, &r);
}

void batch_report::impl::final_record(const journal_file_facts& file, std::uint64_t line, std::string_view key,
                                      outcome o, const journal_line* r) {
    ++final_records;
    rows.set(row_digest(key.empty() ? std::string_view(file.input) : key, line), o);
    const auto attempts_made = r ? static_cast<unsigned>(std::max<std::int64_t>(0, r->attempts)) : 0u;
    if (attempts_made > 0) {
        ++by_status[static_cast<int>(r->http_status)];
        requests += attempts_made;
        retries += attempts_made - 1;
        ++attempts[attempts_made];
    }
    std::optional<std::uint64_t> micros;
    if (r && r->latency_ms && r->http_status != 0) {
        micros = static_cast<std::uint64_t>(std::max(0.0, *r->latency_ms) * 1000.0 + 0.5);
        latencies.record(*micros);
        durations.record(*micros);
        if (slowest.size() < slowest_kept || *r->latency_ms > slowest.front().latency_ms) {
            slowest.push_back(
                {*r->latency_ms, line, std::string(key), o, static_cast<int>(r->http_status), std::string(r->at)});
            std::push_heap(slowest.begin(), slowest.end(), slower);
            if (slowest.size() > slowest_kept) {
                std::pop_heap(slowest.begin(), slowest.end(), slower);
                slowest.pop_back();
            }
        }
    }
    const std::string_view error = r ? r->error : std::string_view("request was in flight when the journal ends");
    if (counts_as_error(o) && !error.empty()) errors.add(error, fmt::format("line {} {}", line, key));

    const auto at = r ? parse_utc_ms(r->at) : std::nullopt;
    if (!at || buckets.empty()) {
        ++rows_without_time;
    } else {
        const auto index =
            std::clamp<std::int64_t>((*at - origin_ms) / width_ms, 0, static_cast<std::int64_t>(buckets.size()) - 1);
        auto& bucket = buckets[static_cast<std::size_t>(index)];
        ++bucket.outcomes[static_cast<std::size_t>(o)];
        if (micros) bucket.latencies.record(*micros);
    }
    if (at) {
        first_at = first_at ? std::min(*first_at, *at) : *at;
        last_at = last_at ? std::max(*last_at, *at) : *at;
    }
}

void batch_report::impl::event_record(const journal_file_facts& file, const journal_line& r) {
    const auto at = parse_utc_ms(r.at);
    if (r.event == "run_start") {
        if (++runs_seen > max_runs_kept) return;
        journal_run run;
        run.journal = file.path;
        run.start_ms = at;
        run.version = std::string(r.version);
        run.base_url = std::string(r.base_url);
        run.shard = std::string(r.shard);
        run.pid = r.pid;
        runs.push_back(std::move(run));
    } else if (r.event == "run_end") {
        // Ends the latest run of this file that has not ended.
        for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
            if (run->journal != file.path) continue;
            if (!run->end_ms && !run->exit_code) {
                run->end_ms = at;
                if (r.exit_code) run->exit_code = static_cast<int>(*r.exit_code);
            }
            break;
        }
    } else if (r.event == "pause") {
        ++pauses_seen;
        const auto until = parse_utc_ms(r.until);
        if (at && pauses.size() < max_pauses_kept)
            pauses.push_back({*at, until.value_or(*at), static_cast<int>(r.status)});
    }
}

batch_report::batch_report(const std::vector<std::string>& journals, std::ostream& warnings)
    : impl_(std::make_unique<impl>()) {
    std::optional<std::int64_t> first, last;
    for (const auto& path : journals) widen_span(path, first, last);
    if (first) {
        impl_->width_ms = bucket_width_for(*last - *first);
        impl_->origin_ms = *first - (*first % impl_->width_ms + impl_->width_ms) % impl_->width_ms;
        const auto count = (*last - impl_->origin_ms) / impl_->width_ms + 1;
        impl_->buckets.resize(static_cast<std::size_t>(count));
    }
    for (const auto& path : journals) impl_->read(path, warnings);
    std::sort(impl_->slowest.begin(), impl_->slowest.end(), impl::slower);
}

batch_report::~batch_report() = default;

std::int64_t batch_report::bucket_width_for(std::int64_t span_ms) noexcept {
    static constexpr std::array<std::int64_t, 20> widths{
        10,     20,     50,     100,     200,     500,     1'000,   2'000,     5'000,     10'000,
        15'000, 30'000, 60'000, 120'000, 300'000, 600'000, 900'000, 1'800'000, 3'600'000, 7'200'000};
    for (const auto w : widths)
        if (span_ms / w < static_cast<std::int64_t>(max_buckets)) return w;
    constexpr std::int64_t day = 86'400'000;   // beyond two hours a bucket: whole days
    return (span_ms / day / static_cast<std::int64_t>(max_buckets) + 1) * day;
}

batch_summary batch_report::summary() const {
    const auto& d = *impl_;
    batch_summary s;
    s.outcomes = d.rows.counts();
    s.by_status = d.by_status;
    s.requests = d.requests;
    s.retries = d.retries;
    s.rate_limit_pauses = d.pauses_seen;
    s.latencies = d.latencies;
    s.top_errors = d.errors.top(batch_summary::top_errors_shown);

    std::optional<std::int64_t> start = d.first_at, end = d.last_at;
    std::int64_t run_ms = 0;
    bool timed_runs = false;
    std::set<std::string> versions, inputs, base_urls;
    const journal_run* last_ended = nullptr;
    for (const auto& run : d.runs) {
        if (run.start_ms) start = start ? std::min(*start, *run.start_ms) : *run.start_ms;
        if (run.end_ms) {
            end = end ? std::max(*end, *run.end_ms) : *run.end_ms;
            if (!last_ended || *run.end_ms >= *last_ended->end_ms) last_ended = &run;
        }
        if (run.start_ms && run.end_ms) {
            run_ms += std::max<std::int64_t>(0, *run.end_ms - *run.start_ms);
            timed_runs = true;
        }
        versions.insert(run.version);
        base_urls.insert(run.base_url);
    }
    for (const auto& j : d.journals) inputs.insert(j.input);
    // Wall time: the runs' own durations when they say; else first to last record.
    if (timed_runs)
        s.wall_seconds = static_cast<double>(run_ms) / 1000.0;
    else if (start && end)
        s.wall_seconds = static_cast<double>(*end - *start) / 1000.0;
    const auto utc = [](std::int64_t ms) {
        return format_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
    };
    if (start) s.started_at = utc(*start);
    if (end) s.finished_at = utc(*end);
    s.version = joined(versions);
    s.input = joined(inputs);
    s.base_url = joined(base_urls);
    if (last_ended) s.exit_code = last_ended->exit_code;
    return s;
}

metrics_snapshot batch_report::metrics() const {
    const auto s = summary();
    metrics_snapshot m;
    m.input = s.input;
    m.rows_by_outcome = s.outcomes;
    m.requests_by_status = s.by_status;
    m.retries = s.retries;
    m.durations = impl_->durations;
    m.rate_limit_pauses = s.rate_limit_pauses;
    const journal_run* latest = nullptr;
    for (const auto& run : impl_->runs)
        if (run.start_ms && (!latest || *run.start_ms >= *latest->start_ms)) latest = &run;
    if (latest) {
        m.run_start_seconds = static_cast<double>(*latest->start_ms) / 1000.0;
        if (latest->end_ms) m.run_end_seconds = static_cast<double>(*latest->end_ms) / 1000.0;
        m.exit_code = latest->exit_code;
    }
    return m;
}

const std::vector<journal_file_facts>& batch_report::journals() const noexcept {
    return impl_->journals;
}
const std::vector<journal_run>& batch_report::runs() const noexcept {
    return impl_->runs;
}
std::uint64_t batch_report::runs_seen() const noexcept {
    return impl_->runs_seen;
}
const std::vector<rate_limit_pause>& batch_report::pauses() const noexcept {
    return impl_->pauses;
}
const std::vector<time_bucket>& batch_report::buckets() const noexcept {
    return impl_->buckets;
}
std::int64_t batch_report::buckets_origin_ms() const noexcept {
    return impl_->origin_ms;
}
std::int64_t batch_report::bucket_width_ms() const noexcept {
    return impl_->width_ms;
}
std::uint64_t batch_report::rows_without_time() const noexcept {
    return impl_->rows_without_time;
}
const std::map<unsigned, std::uint64_t>& batch_report::attempts_per_row() const noexcept {
    return impl_->attempts;
}
const std::vector<slow_row>& batch_report::slowest() const noexcept {
    return impl_->slowest;
}
std::vector<error_reason> batch_report::top_errors(std::size_t n) const {
    return impl_->errors.top(n);
}
std::uint64_t batch_report::final_records() const noexcept {
    return impl_->final_records;
}

}   // namespace invent_dispatch
