// The HTML report (SPEC §9): one file, inline CSS and SVG drawn here, no
// script and nothing fetched, so it opens anywhere and prints as it shows.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <ostream>
#include <set>

#include "invent_dispatch/journal_report.hpp"
#include "invent_dispatch/version.hpp"

namespace invent_dispatch {
namespace {

constexpr std::array<outcome, 5> final_outcomes{outcome::created, outcome::failed, outcome::invalid, outcome::skipped,
                                                outcome::unknown};
constexpr std::array<const char*, 5> outcome_colours{"#2f9e64", "#d9534f", "#e0a526", "#9aa3ad", "#7c5cc4"};

const char* colour_of(outcome o) {
    return outcome_colours[static_cast<std::size_t>(o)];
}

std::string escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' ? ' ' : c;
        }
    }
    return out;
}

// 1234567 -> "1,234,567".
std::string grouped(std::uint64_t n) {
    auto digits = std::to_string(n);
    for (auto i = static_cast<std::ptrdiff_t>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<std::size_t>(i), ",");
    return digits;
}

// Axis numbers: 0, 250, 1.5k, 2M.
std::string short_number(double v) {
    const double a = std::abs(v);
    if (a >= 1e6) return fmt::format("{:g}M", std::round(v / 1e5) / 10);
    if (a >= 1e4) return fmt::format("{:g}k", std::round(v / 1e2) / 10);
    if (a >= 100 || v == std::round(v)) return fmt::format("{:.0f}", v);
    if (a >= 1) return fmt::format("{:.1f}", v);
    return fmt::format("{:.2g}", v);
}

std::string milliseconds(double ms) {
    if (ms >= 10'000) return fmt::format("{:.1f} s", ms / 1000);
    if (ms >= 1000) return fmt::format("{:.2f} s", ms / 1000);
    if (ms >= 100) return fmt::format("{:.0f} ms", ms);
    if (ms >= 10) return fmt::format("{:.1f} ms", ms);
    return fmt::format("{:.2f} ms", ms);
}

std::string duration_text(double seconds) {
    if (seconds < 60) return fmt::format("{:.1f} s", seconds);
    const auto s = static_cast<std::int64_t>(seconds + 0.5);
    if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
    return fmt::format("{}h {:02}m {:02}s", s / 3600, s / 60 % 60, s % 60);
}

// Round steps for an axis from 0 to at least `top`: 1, 2 or 5 times a power of ten.
std::vector<double> ticks_up_to(double top, int wanted = 5) {
    if (!(top > 0)) top = 1;
    const double raw = top / wanted;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    double step = power;
    for (const double m : {1.0, 2.0, 5.0, 10.0})
        if (m * power >= raw) {
            step = m * power;
            break;
        }
    std::vector<double> ticks;
    for (double t = 0; t < top + step * 0.999; t += step) ticks.push_back(t);
    return ticks;
}

std::string utc_label(std::int64_t ms, bool with_date, bool with_millis) {
    const auto text = format_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
    // "2026-11-29T22:12:05.123Z"
    if (with_date) return text.substr(5, 5) + " " + text.substr(11, 5);
    return with_millis ? text.substr(11, 12) : text.substr(11, 8);
}

struct plot_area {
    double width = 960, height = 260;
    double left = 56, right = 16, top = 26, bottom = 34;
    double inner_width() const { return width - left - right; }
    double inner_height() const { return height - top - bottom; }
};

std::string svg_open(std::string_view chart, const plot_area& p, std::string_view label) {
    return fmt::format(R"(<svg class="chart" data-chart="{}" viewBox="0 0 {} {}" role="img" aria-label="{}" )"
                       R"(xmlns="http://www.w3.org/2000/svg">)",
                       chart, p.width, p.height, escaped(label));
}

// Horizontal grid lines and y labels for a linear axis from 0 to ticks.back().
std::string y_axis(const plot_area& p, const std::vector<double>& ticks, std::string_view unit) {
    std::string out;
    const double top_value = ticks.back();
    for (const double t : ticks) {
        const double y = p.top + p.inner_height() * (1 - t / top_value);
        out += fmt::format(R"(<line class="grid" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"/>)", p.left, p.width - p.right,
                           y, y);
        out += fmt::format(R"(<text class="tick" x="{}" y="{:.1f}" text-anchor="end">{}</text>)", p.left - 6, y + 4,
                           short_number(t));
    }
    out += fmt::format(R"(<text class="unit" x="{}" y="{}">{}</text>)", 4, 12, escaped(unit));
    return out;
}

class html_writer {
public:
    html_writer(const batch_report& report, std::ostream& out) : r_(report), out_(out), s_(report.summary()) {}
    void write();

private:
    void head();
    void header();
    void cards();
    void throughput();
    void latency_over_time();
    void latency_histogram_chart();
    void statuses();
    void retries();
    void errors();
    void slowest();
    void facts();
    std::string time_axis(const plot_area& p, std::int64_t from_ms, std::int64_t to_ms) const;
    std::string pause_bands(const plot_area& p, std::int64_t from_ms, std::int64_t to_ms) const;
    // Opens a section; without data it says why instead and closes it: false.
    bool open_section(std::string_view name, std::string_view title, bool has_data, std::string_view why);

    const batch_report& r_;
    std::ostream& out_;
    batch_summary s_;
};

void html_writer::write() {
    head();
    out_ << "<body><main>\n";
    header();
    cards();
    throughput();
    latency_over_time();
    out_ << R"(<div class="pair">)";
    latency_histogram_chart();
    statuses();
    out_ << "</div>\n";
    out_ << R"(<div class="pair">)";
    retries();
    facts();
    out_ << "</div>\n";
    errors();
    slowest();
    out_ << fmt::format(R"(<footer>Written by invent-dispatch {} at {} from {} journal{}.</footer>)",
                        INVENT_DISPATCH_VERSION, format_utc(std::chrono::system_clock::now()), r_.journals().size(),
                        r_.journals().size() == 1 ? "" : "s")
         << "\n</main></body></html>\n";
}

void html_writer::head() {
    out_ << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         << "<title>invent-dispatch report: " << escaped(s_.input.empty() ? "journals" : s_.input) << "</title>\n"
         << R"(<style>
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--panel:#f8f9fb;--accent:#3b6fd8}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:#fff;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:15px;margin:0 0 10px;color:#323f4b}
.sub{color:var(--muted);margin:0 0 18px;word-break:break-all}
section{border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:0 0 16px;background:#fff;break-inside:avoid}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.pair section{margin:0 0 16px;min-width:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:10px;margin:0 0 16px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--panel);border-top:4px solid var(--c,#cbd2d9)}
.card .n{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .p{color:var(--muted);font-size:12px}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:var(--line);stroke-width:1}
svg .axis{stroke:#9aa5b1;stroke-width:1}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--muted)}
svg .unit{font-weight:600}
svg .value{fill:var(--ink)}
svg .pause{fill:#f0a202;fill-opacity:.18;stroke:#f0a202;stroke-opacity:.6}
svg .pause-mark{fill:#c77c02}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:6px 0 0;color:var(--muted);font-size:12px}
.legend span::before{content:"";display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;background:var(--c);vertical-align:-1px}
.legend .line::before{height:3px;vertical-align:3px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.reason{word-break:break-word}
td code,.examples code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.examples{color:var(--muted);font-size:12px;margin-top:2px}
.note{color:var(--muted);font-size:12px;margin:6px 0 0}
.empty{color:var(--muted);padding:18px 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;word-break:break-all}
footer{color:var(--muted);font-size:12px;margin-top:20px}
@media (max-width:800px){.pair{grid-template-columns:1fr}}
@media print{main{max-width:none;padding:0}section{border-color:#ccc}.pair{grid-template-columns:1fr 1fr}
 body{-webkit-print-color-adjust:exact;print-color-adjust:exact}@page{margin:14mm}}
</style></head>
)";
}

void html_writer::header() {
    out_ << "<header><h1>invent-dispatch report</h1>\n<p class=\"sub\">"
         << escaped(s_.input.empty() ? "(input not recorded)" : s_.input);
    if (!s_.base_url.empty()) out_ << " &rarr; " << escaped(s_.base_url);
    if (!s_.started_at.empty())
        out_ << "<br>" << escaped(s_.started_at) << " &ndash; " << escaped(s_.finished_at) << " UTC";
    out_ << "</p></header>\n";
}

void html_writer::cards() {
    const auto rows = s_.rows();
    out_ << R"(<div class="cards" data-section="outcomes">)";
    for (const auto o : final_outcomes) {
        const auto n = s_.outcomes[static_cast<std::size_t>(o)];
        out_ << fmt::format(R"(<div class="card" style="--c:{}" data-outcome="{}"><div class="l">{}</div>)"
                            R"(<div class="n">{}</div><div class="p">{:.1f}% of {} rows</div></div>)",
                            colour_of(o), to_string(o), to_string(o), grouped(n),
                            rows ? 100.0 * static_cast<double>(n) / static_cast<double>(rows) : 0.0, grouped(rows));
    }
    const double rate = s_.wall_seconds > 0 ? static_cast<double>(s_.requests) / s_.wall_seconds : 0;
    out_ << fmt::format(R"(<div class="card"><div class="l">requests/s</div><div class="n">{}</div>)"
                        R"(<div class="p">{} requests in {}</div></div>)",
                        short_number(rate), grouped(s_.requests), duration_text(s_.wall_seconds));
    if (s_.latencies.count())
        out_ << fmt::format(R"(<div class="card"><div class="l">latency p50 / p99</div><div class="n">{}</div>)"
                            R"(<div class="p">p99 {} &middot; max {}</div></div>)",
                            milliseconds(static_cast<double>(s_.latencies.percentile(50)) / 1000),
                            milliseconds(static_cast<double>(s_.latencies.percentile(99)) / 1000),
                            milliseconds(static_cast<double>(s_.latencies.max()) / 1000));
    out_ << "</div>\n";
}

bool html_writer::open_section(std::string_view name, std::string_view title, bool has_data, std::string_view why) {
    out_ << fmt::format(R"(<section data-section="{}"><h2>{}</h2>)", name, title);
    if (has_data) return true;
    out_ << fmt::format(R"(<p class="empty">{}</p></section>)", escaped(why)) << '\n';
    return false;
}

std::string html_writer::time_axis(const plot_area& p, std::int64_t from_ms, std::int64_t to_ms) const {
    static constexpr std::array<std::int64_t, 21> steps{
        10,     20,     50,      100,     200,     500,     1'000,     2'000,     5'000,     10'000,    15'000,
        30'000, 60'000, 120'000, 300'000, 600'000, 900'000, 1'800'000, 3'600'000, 7'200'000, 21'600'000};
    const auto span = std::max<std::int64_t>(1, to_ms - from_ms);
    std::int64_t step = 86'400'000;
    for (const auto s : steps)
        if (span / s <= 8) {
            step = s;
            break;
        }
    const bool with_date = span > 86'400'000;
    const bool with_millis = step < 1000;
    std::string out = fmt::format(R"(<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>)", p.left, p.width - p.right,
                                  p.top + p.inner_height(), p.top + p.inner_height());
    for (auto t = (from_ms + step - 1) / step * step; t <= to_ms; t += step) {
        const double x = p.left + p.inner_width() * static_cast<double>(t - from_ms) / static_cast<double>(span);
        out += fmt::format(R"(<line class="axis" x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}"/>)", x, x,
                           p.top + p.inner_height(), p.top + p.inner_height() + 4);
        out += fmt::format(R"(<text class="tick" x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", x,
                           p.top + p.inner_height() + 17, utc_label(t, with_date, with_millis));
    }
    out += fmt::format(R"(<text class="unit" x="{}" y="{}" text-anchor="end">UTC</text>)", p.width - p.right,
                       p.height - 2);
    return out;
}

// Rate-limit pauses as shaded spans with a mark at the top of the plot.
std::string html_writer::pause_bands(const plot_area& p, std::int64_t from_ms, std::int64_t to_ms) const {
    std::string out;
    const auto span = static_cast<double>(std::max<std::int64_t>(1, to_ms - from_ms));
    const auto x_of = [&](std::int64_t ms) {
        return p.left + p.inner_width() * std::clamp(static_cast<double>(ms - from_ms) / span, 0.0, 1.0);
    };
    for (const auto& pause : r_.pauses()) {
        const double x0 = x_of(pause.at_ms);
        const double x1 = std::max(x_of(pause.until_ms), x0 + 2);
        const auto title = fmt::format("rate-limit pause ({}): {} until {}",
                                       pause.status ? std::to_string(pause.status) : "Retry-After",
                                       utc_label(pause.at_ms, false, true), utc_label(pause.until_ms, false, true));
        out += fmt::format(
            R"(<g data-pause="1"><title>{}</title><rect class="pause" x="{:.1f}" y="{}" width="{:.1f}" height="{}"/>)"
            R"(<path class="pause-mark" d="M{:.1f} {} l-5 -8 h10 z"/></g>)",
            escaped(title), x0, p.top, x1 - x0, p.inner_height(), x0, p.top, p.top);
    }
    return out;
}

void html_writer::throughput() {
    const auto& buckets = r_.buckets();
    if (!open_section("throughput", "Throughput over time, by outcome", !buckets.empty(),
                      "These journals carry no timestamps (written before records had \"at\")."))
        return;
    plot_area p;
    const double width_s = static_cast<double>(r_.bucket_width_ms()) / 1000.0;
    double top = 0;
    for (const auto& b : buckets) {
        double sum = 0;
        for (const auto n : b.outcomes) sum += static_cast<double>(n);
        top = std::max(top, sum / width_s);
    }
    const auto ticks = ticks_up_to(top);
    const auto from = r_.buckets_origin_ms();
    const auto to = from + r_.bucket_width_ms() * static_cast<std::int64_t>(buckets.size());
    out_ << svg_open("throughput", p, "rows finished per second over time, stacked by outcome")
         << y_axis(p, ticks, "rows/s");
    const double bar = p.inner_width() / static_cast<double>(buckets.size());
    const double gap = bar > 6 ? 1 : 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        double y = p.top + p.inner_height();
        const auto bucket_start = from + r_.bucket_width_ms() * static_cast<std::int64_t>(i);
        for (const auto o : final_outcomes) {
            const auto n = buckets[i].outcomes[static_cast<std::size_t>(o)];
            if (n == 0) continue;
            const double h = p.inner_height() * (static_cast<double>(n) / width_s) / ticks.back();
            y -= h;
            out_ << fmt::format(
                R"(<rect data-outcome="{}" x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="{}">)"
                R"(<title>{}: {} {} ({} rows/s)</title></rect>)",
                to_string(o), p.left + bar * static_cast<double>(i) + gap / 2, y, std::max(0.5, bar - gap), h,
                colour_of(o), utc_label(bucket_start, false, true), grouped(n), to_string(o),
                short_number(static_cast<double>(n) / width_s));
        }
    }
    // Over the bars: a pause is when few rows finish, so it would hide behind nothing.
    out_ << pause_bands(p, from, to) << time_axis(p, from, to) << "</svg>\n<div class=\"legend\">";
    for (const auto o : final_outcomes)
        out_ << fmt::format(R"(<span style="--c:{}">{}</span>)", colour_of(o), to_string(o));
    if (!r_.pauses().empty())
        out_ << fmt::format(R"(<span style="--c:#f0a202">rate-limit pause ({})</span>)", r_.pauses().size());
    out_ << "</div>";
    const auto width = r_.bucket_width_ms();
    out_ << fmt::format(R"(<p class="note">Buckets of {}.{}</p>)",
                        width < 1000        ? fmt::format("{} ms", width)
                        : width < 60'000    ? fmt::format("{} s", width / 1000)
                        : width < 3'600'000 ? fmt::format("{} min", width / 60'000)
                                            : fmt::format("{} h", width / 3'600'000),
                        r_.rows_without_time() ? fmt::format(" {} rows without a timestamp are not drawn.",
                                                             grouped(r_.rows_without_time()))
                                               : std::string());
    out_ << "</section>\n";
}

void html_writer::latency_over_time() {
    const auto& buckets = r_.buckets();
    const bool any = std::any_of(buckets.begin(), buckets.end(), [](const auto& b) { return b.latencies.count() > 0; });
    if (!open_section("latency-over-time", "Latency over time (p50, p90, p99)", any,
                      "No answered request carries a timestamp."))
        return;
    plot_area p;
    p.height = 230;
    struct line {
        double percentile;
        const char* name;
        const char* colour;
    };
    constexpr std::array<line, 3> lines{{{50, "p50", "#3b6fd8"}, {90, "p90", "#e08a1e"}, {99, "p99", "#c2334d"}}};
    double top = 0;
    for (const auto& b : buckets)
        if (b.latencies.count()) top = std::max(top, static_cast<double>(b.latencies.percentile(99)) / 1000);
    const auto ticks = ticks_up_to(top);
    const auto from = r_.buckets_origin_ms();
    const auto to = from + r_.bucket_width_ms() * static_cast<std::int64_t>(buckets.size());
    out_ << svg_open("latency-over-time", p, "latency percentiles over time") << y_axis(p, ticks, "ms")
         << pause_bands(p, from, to);
    const double step = p.inner_width() / static_cast<double>(buckets.size());
    for (const auto& l : lines) {
        // One path; an empty bucket breaks the line rather than drawing a fall to zero.
        std::string d;
        bool pen_down = false;
        std::string dots;
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            if (!buckets[i].latencies.count()) {
                pen_down = false;
                continue;
            }
            const double ms = static_cast<double>(buckets[i].latencies.percentile(l.percentile)) / 1000;
            const double x = p.left + step * (static_cast<double>(i) + 0.5);
            const double y = p.top + p.inner_height() * (1 - ms / ticks.back());
            d += fmt::format("{}{:.1f} {:.1f} ", pen_down ? "L" : "M", x, y);
            pen_down = true;
            dots += fmt::format(
                R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.2" fill="{}"><title>{} {}: {}</title></circle>)", x, y,
                l.colour, utc_label(from + r_.bucket_width_ms() * static_cast<std::int64_t>(i), false, true), l.name,
                milliseconds(ms));
        }
        out_ << fmt::format(
            R"(<path data-series="{}" d="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"/>)",
            l.name, d, l.colour);
        if (buckets.size() <= 120) out_ << dots;
    }
    out_ << time_axis(p, from, to) << "</svg>\n<div class=\"legend\">";
    for (const auto& l : lines) out_ << fmt::format(R"(<span class="line" style="--c:{}">{}</span>)", l.colour, l.name);
    out_ << "</div></section>\n";
}

void html_writer::latency_histogram_chart() {
    const auto& h = s_.latencies;
    if (!open_section("latency-histogram", "Latency histogram", h.count() > 0, "No request was answered.")) return;
    plot_area p;
    p.width = 520;
    p.height = 240;
    // Log-spaced bins from the fastest to the slowest answer: latencies span decades.
    const double lo = std::max(1.0, static_cast<double>(h.percentile(0)));
    const double hi = std::max(lo * 1.5, static_cast<double>(h.max()));
    constexpr int bins = 32;
    const double ratio = std::pow(hi / lo, 1.0 / bins);
    std::vector<std::uint64_t> counts(bins);
    std::uint64_t below = lo > 1 ? h.count_at_most(static_cast<std::uint64_t>(lo) - 1) : 0;
    for (int i = 0; i < bins; ++i) {
        const double upper = i + 1 == bins ? hi : lo * std::pow(ratio, i + 1);
        const auto at_most = h.count_at_most(static_cast<std::uint64_t>(upper));
        counts[static_cast<std::size_t>(i)] = at_most - std::min(at_most, below);
        below = std::max(below, at_most);
    }
    const auto top = static_cast<double>(*std::max_element(counts.begin(), counts.end()));
    const auto ticks = ticks_up_to(top, 4);
    out_ << svg_open("latency-histogram", p, "number of requests by latency, log scale")
         << y_axis(p, ticks, "requests");
    const double bar = p.inner_width() / bins;
    for (int i = 0; i < bins; ++i) {
        const auto n = counts[static_cast<std::size_t>(i)];
        if (!n) continue;
        const double hgt = p.inner_height() * static_cast<double>(n) / ticks.back();
        out_ << fmt::format(
            R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="#3b6fd8"><title>{} &ndash; {}: {} requests</title></rect>)",
            p.left + bar * i + 0.5, p.top + p.inner_height() - hgt, bar - 1, hgt,
            milliseconds(lo * std::pow(ratio, i) / 1000), milliseconds(lo * std::pow(ratio, i + 1) / 1000), grouped(n));
    }
    const double base = p.top + p.inner_height();
    out_ << fmt::format(R"(<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>)", p.left, p.width - p.right, base,
                        base);
    for (int i = 0; i <= bins; i += 8) {
        const double x = p.left + bar * i;
        out_ << fmt::format(R"(<text class="tick" x="{:.1f}" y="{}" text-anchor="{}">{}</text>)", x, base + 17,
                            i == bins ? "end" : "middle", milliseconds(lo * std::pow(ratio, i) / 1000));
    }
    // The percentiles as marks on the axis.
    for (const auto& [pct, name] : {std::pair{50.0, "p50"}, std::pair{99.0, "p99"}}) {
        const double v = static_cast<double>(h.percentile(pct));
        const double x =
            p.left + p.inner_width() * std::clamp(std::log(std::max(v, lo) / lo) / std::log(hi / lo), 0.0, 1.0);
        out_ << fmt::format(R"(<line x1="{:.1f}" x2="{:.1f}" y1="{}" y2="{}" stroke="#1f2933" stroke-dasharray="3 3"/>)"
                            R"(<text class="value" x="{:.1f}" y="{}" text-anchor="middle">{}</text>)",
                            x, x, p.top + 10, base, x, p.top + 6, name);
    }
    out_ << "</svg></section>\n";
}

void html_writer::statuses() {
    if (!open_section("statuses", "HTTP statuses", !s_.by_status.empty(), "No request reached the server.")) return;
    plot_area p;
    p.width = 520;
    p.left = 80;
    p.right = 60;
    p.top = 8;
    p.bottom = 8;
    const double row_height = 26;
    p.height = p.top + p.bottom + row_height * static_cast<double>(s_.by_status.size());
    std::uint64_t top = 0;
    for (const auto& [status, n] : s_.by_status) top = std::max(top, n);
    out_ << svg_open("statuses", p, "rows by the HTTP status of their last request");
    double y = p.top;
    for (const auto& [status, n] : s_.by_status) {
        const char* colour = status == 0 ? "#9aa3ad" : status < 300 ? "#2f9e64" : status < 500 ? "#e0a526" : "#d9534f";
        const double w = std::max(1.0, p.inner_width() * static_cast<double>(n) / static_cast<double>(top));
        const auto label = status ? std::to_string(status) : std::string("no answer");
        out_ << fmt::format(
            R"(<g data-status="{}"><text class="value" x="{}" y="{:.1f}" text-anchor="end">{}</text>)"
            R"(<rect x="{}" y="{:.1f}" width="{:.1f}" height="{}" rx="2" fill="{}"><title>{}: {} rows</title></rect>)"
            R"(<text x="{:.1f}" y="{:.1f}">{}</text></g>)",
            status, p.left - 8, y + 17, label, p.left, y + 4, w, row_height - 8, colour, label, grouped(n),
            p.left + w + 6, y + 17, grouped(n));
        y += row_height;
    }
    out_ << "</svg></section>\n";
}

void html_writer::retries() {
    const auto& attempts = r_.attempts_per_row();
    if (!open_section("retries", "Attempts per row", !attempts.empty(), "No row was sent.")) return;
    plot_area p;
    p.width = 520;
    p.height = 220;
    std::uint64_t top = 0;
    for (const auto& [a, n] : attempts) top = std::max(top, n);
    const auto ticks = ticks_up_to(static_cast<double>(top), 4);
    const unsigned most = attempts.rbegin()->first;
    out_ << svg_open("retries", p, "rows by the number of attempts they took") << y_axis(p, ticks, "rows");
    const double slot = p.inner_width() / most;
    const double base = p.top + p.inner_height();
    for (unsigned a = 1; a <= most; ++a) {
        const auto found = attempts.find(a);
        const auto n = found == attempts.end() ? 0 : found->second;
        const double x = p.left + slot * (a - 1);
        if (n) {
            const double h = std::max(1.0, p.inner_height() * static_cast<double>(n) / ticks.back());
            out_ << fmt::format(
                R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" rx="2" fill="{}"><title>{} attempt{}: {} rows</title></rect>)",
                x + slot * 0.15, base - h, slot * 0.7, h, a == 1 ? "#2f9e64" : "#e08a1e", a, a == 1 ? "" : "s",
                grouped(n));
        }
        if (most <= 20 || a % 5 == 0 || a == 1)
            out_ << fmt::format(R"(<text class="tick" x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", x + slot / 2,
                                base + 17, a);
    }
    out_ << fmt::format(R"(<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>)", p.left, p.width - p.right, base,
                        base)
         << "</svg>";
    out_ << fmt::format(R"(<p class="note">{} retries in all; 1 attempt means no retry.</p>)", grouped(s_.retries));
    out_ << "</section>\n";
}

void html_writer::errors() {
    const auto top = r_.top_errors(10);
    if (!open_section("errors", "Most frequent error reasons", !top.empty(), "No row failed.")) return;
    out_
        << R"(<table><thead><tr><th class="n">rows</th><th>reason, and the first rows that gave it</th></tr></thead><tbody>)";
    for (const auto& e : top) {
        out_ << fmt::format(R"(<tr><td class="n">{}{}</td><td class="reason">{}<div class="examples">)",
                            e.overcount ? "~" : "", grouped(e.count), escaped(e.reason));
        for (std::size_t i = 0; i < e.examples.size(); ++i)
            out_ << (i ? "<br>" : "") << "<code>" << escaped(e.examples[i]) << "</code>";
        out_ << "</div></td></tr>";
    }
    out_ << "</tbody></table></section>\n";
}

void html_writer::slowest() {
    const auto& rows = r_.slowest();
    if (!open_section("slowest", "Slowest rows", !rows.empty(), "No request was answered.")) return;
    out_
        << R"(<table><thead><tr><th class="n">latency</th><th>outcome</th><th class="n">HTTP</th><th>finished (UTC)</th><th class="n">input line</th><th>key</th></tr></thead><tbody>)";
    for (const auto& row : rows)
        out_ << fmt::format(
            R"(<tr><td class="n">{}</td><td><span style="color:{}">&#9632;</span> {}</td><td class="n">{}</td>)"
            R"(<td>{}</td><td class="n">{}</td><td><code>{}</code></td></tr>)",
            milliseconds(row.latency_ms), colour_of(row.result), to_string(row.result), row.http_status,
            escaped(row.at), row.line, escaped(row.key));
    out_ << "</tbody></table></section>\n";
}

void html_writer::facts() {
    out_ << R"(<section data-section="facts"><h2>The batch</h2><dl class="facts">)";
    const auto fact = [&](std::string_view name, const std::string& value) {
        out_ << "<dt>" << name << "</dt><dd>" << (value.empty() ? std::string("&ndash;") : escaped(value)) << "</dd>";
    };
    fact("input", s_.input);
    std::string journals;
    for (const auto& j : r_.journals())
        journals += fmt::format("{}{} ({} records{})", journals.empty() ? "" : "\n", j.path, grouped(j.records),
                                j.unreadable_lines ? fmt::format(", {} unreadable lines", j.unreadable_lines) : "");
    out_ << "<dt>journals</dt><dd style=\"white-space:pre-line\">" << escaped(journals) << "</dd>";
    fact("base URL", s_.base_url);
    fact("version", s_.version);
    fact("started", s_.started_at);
    fact("finished", s_.finished_at);
    fact("run time", s_.wall_seconds > 0 ? duration_text(s_.wall_seconds) : std::string());
    std::set<std::string> shards;
    for (const auto& run : r_.runs()) shards.insert(run.shard.empty() ? "none" : run.shard);
    std::string shard_text;
    for (const auto& s : shards) shard_text += (shard_text.empty() ? "" : ", ") + s;
    fact("shards", shard_text);
    fact("rows", fmt::format("{} ({} records)", grouped(s_.rows()), grouped(r_.final_records())));
    fact("exit code", s_.exit_code ? std::to_string(*s_.exit_code) : std::string());
    out_ << "</dl>";
    if (!r_.runs().empty()) {
        out_
            << R"(<table style="margin-top:10px"><thead><tr><th>run started</th><th>ended</th><th class="n">exit</th><th>shard</th></tr></thead><tbody>)";
        for (const auto& run : r_.runs()) {
            const auto when = [](const std::optional<std::int64_t>& ms) {
                if (!ms) return std::string("&ndash;");
                auto text = format_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(*ms)));
                text[10] = ' ';
                return text.substr(0, 19);   // "2026-11-29 22:12:05"
            };
            out_ << fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>", when(run.start_ms),
                                run.end_ms ? when(run.end_ms) : std::string("did not end"),
                                run.exit_code ? std::to_string(*run.exit_code) : "&ndash;",
                                run.shard.empty() ? "&ndash;" : escaped(run.shard));
        }
        out_ << "</tbody></table>";
        if (r_.runs_seen() > r_.runs().size())
            out_ << fmt::format(R"(<p class="note">and {} more runs.</p>)", r_.runs_seen() - r_.runs().size());
    }
    out_ << "</section>\n";
}

}   // namespace

void write_html_report(const batch_report& report, std::ostream& out) {
    html_writer(report, out).write();
}

}   // namespace invent_dispatch
