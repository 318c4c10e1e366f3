// The listing loop: one page at a time, each through the scheduler (rate
// grant, Retry-After pause, retry decision), over a page_transport.
#include "invent_dispatch/contacts.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/response_parser.hpp"
#include "invent_dispatch/retry_after.hpp"

namespace invent_dispatch {
namespace {

namespace net = boost::asio;
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

}   // namespace

std::string contacts_lister::describe_failure(const page_reply& reply, std::string_view body_problem) {
    if (reply.ec) return reply.detail.empty() ? reply.ec.message() : std::string(reply.detail);
    if (!body_problem.empty()) return fmt::format("HTTP {}: {}", reply.status, body_problem);
    const auto message = errors_.error_message(reply.body);
    return message.empty() ? fmt::format("HTTP {}", reply.status) : fmt::format("HTTP {}: {}", reply.status, message);
}

contacts_lister::contacts_lister(listing_options options, page_transport& transport, scheduler& pacing,
                                 page_sink on_page)
    : options_(std::move(options)),
      transport_(transport),
      scheduler_(pacing),
      on_page_(std::move(on_page)),
      listing_(options_.include_unsubscribed, options_.include_blocked) {}

void contacts_lister::stop() noexcept {
    stopping_ = true;
    if (timer_) timer_->cancel();
    transport_.close();
}

net::awaitable<bool> contacts_lister::wait_until(time_point when) {
    if (when > clock_type::now() && !stopping_) {
        timer_->expires_at(when);
        co_await timer_->async_wait(use_nothrow);
    }
    co_return !stopping_;
}

net::awaitable<listing_result> contacts_lister::run() {
    timer_.emplace(co_await net::this_coro::executor);
    append_header(text_, options_.format);
    while (!listing_.complete()) {
        const auto target = contacts_target(options_.base_path, options_.org_id, options_.query, listing_.next_page());
        unsigned attempts = 0;
        unsigned stale_retries = 0;
        for (;;) {
            // Connected before the grant, as in `run`: a handshake must not
            // push the request past its slot.
            page_reply reply;
            if (!transport_.is_open()) reply = co_await transport_.open();
            if (!reply.ec) {
                // A grant taken before a pause is taken again at its end, and
                // so is one the send window held (scheduler.hpp); the window's
                // wait comes last, and a pause may begin during it.
                bool may_send = co_await wait_until(scheduler_.reserve_send(clock_type::now()));
                while (may_send) {
                    const auto now = clock_type::now();
                    if (scheduler_.pause_end(now)) {
                        may_send = co_await wait_until(scheduler_.reserve_send(now));
                    } else if (const auto later = scheduler_.window_full_until(now)) {
                        may_send = co_await wait_until(*later);
                        if (may_send) may_send = co_await wait_until(scheduler_.reserve_send(clock_type::now()));
                    } else {
                        break;
                    }
                }
                if (!may_send) co_return listing_result{listing_result::kind::stopped, "stopped"};
                ++requests_;
                scheduler_.on_send(clock_type::now());
                reply = co_await transport_.get(target);
            }
            if (stopping_) co_return listing_result{listing_result::kind::stopped, "stopped"};
            ++attempts;

            std::string problem;
            const bool answered = !reply.ec && reply.status >= 200 && reply.status < 300;
            if (answered) problem = listing_.add_page(reply.body, reply.pagination_count, rows_);
            attempt_report attempt{
                classify_attempt(reply.stage,
                                 problem.empty() ? reply.ec : make_error_code(dispatch_errc::bad_http_response),
                                 reply.status),
                reply.status, std::nullopt};
            // A GET changes nothing on the server: an answer lost or broken
            // (a chat request's "unknown") is simply asked again.
            if (attempt.classified.what == attempt_class::ambiguous ||
                attempt.classified.what == attempt_class::accepted_unusable)
                attempt.classified.what = attempt_class::retry_before_send;
            if (!reply.retry_after.empty())
                attempt.retry_after = parse_retry_after(reply.retry_after, std::chrono::system_clock::now());
            const auto decision = scheduler_.on_attempt(attempt, attempts, clock_type::now(), stale_retries);
            if (decision.what == retry_decision::action::retry) {
                if (!decision.consumes_attempt) {
                    --attempts;   // nothing reached the server
                    ++stale_retries;
                }
                spdlog::debug("contacts page {}: attempt {} failed ({}), retrying", listing_.next_page(), attempts,
                              describe_failure(reply, problem));
                if (!co_await wait_until(decision.not_before))
                    co_return listing_result{listing_result::kind::stopped, "stopped"};
                continue;
            }
            if (answered && problem.empty()) break;
            const auto why = fmt::format("page {} failed after {} attempt{}: {}", listing_.next_page(), attempts,
                                         attempts == 1 ? "" : "s", describe_failure(reply, problem));
            const bool refused = !reply.ec && (reply.status == 401 || reply.status == 403);
            co_return listing_result{refused ? listing_result::kind::refused : listing_result::kind::failed, why};
        }
        for (const auto& row : rows_) append_row(text_, row, options_.format);
        on_page_(text_, listing_);
        text_.clear();
    }
    if (listing_.stalled())
        co_return listing_result{listing_result::kind::failed,
                                 fmt::format("page {} brought only contacts already read: the server seems to ignore "
                                             "paging, so the listing stops here",
                                             listing_.next_page() - 1)};
    co_return listing_result{listing_result::kind::complete, {}};
}

}   // namespace invent_dispatch
