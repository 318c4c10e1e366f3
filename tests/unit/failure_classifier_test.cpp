// The failure classifier from stages, error codes and statuses alone.
#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include "invent_dispatch/errors.hpp"
#include "invent_dispatch/failure_classifier.hpp"

using namespace invent_dispatch;

namespace {

attempt_class class_of(attempt_stage stage, boost::system::error_code ec, int status = 0) {
    return classify_attempt(stage, ec, status).what;
}

}   // namespace

BOOST_AUTO_TEST_SUITE(failure_classifier)

BOOST_AUTO_TEST_CASE(answers_are_judged_by_status) {
    BOOST_TEST((class_of(attempt_stage::answered, {}, 201) == attempt_class::success));
    BOOST_TEST((class_of(attempt_stage::answered, {}, 200) == attempt_class::success));
    for (int status : {408, 429, 500, 502, 503, 504})
        BOOST_TEST((class_of(attempt_stage::answered, {}, status) == attempt_class::retry_status), status);
    for (int status : {400, 404, 409, 422, 501, 505, 304})
        BOOST_TEST((class_of(attempt_stage::answered, {}, status) == attempt_class::row_failure), status);
    BOOST_TEST((class_of(attempt_stage::answered, {}, 401) == attempt_class::auth_refused));
    BOOST_TEST((class_of(attempt_stage::answered, {}, 403) == attempt_class::auth_refused));
}

BOOST_AUTO_TEST_CASE(a_2xx_that_cannot_be_used_is_accepted_but_unusable) {
    // Not a Chat (not JSON, no id, gzip, 204), or framing that failed after
    // the status line (a body over the limit, cut short).
    for (auto e : {dispatch_errc::not_a_chat, dispatch_errc::bad_http_response, dispatch_errc::connection_lost,
                   dispatch_errc::response_timeout})
        for (int status : {200, 201, 204})
            BOOST_TEST((class_of(attempt_stage::answered, e, status) == attempt_class::accepted_unusable));
    // The same failures after a refusal: the refusal counts.
    BOOST_TEST(
        (class_of(attempt_stage::answered, dispatch_errc::bad_http_response, 503) == attempt_class::retry_status));
    BOOST_TEST(
        (class_of(attempt_stage::answered, dispatch_errc::bad_http_response, 400) == attempt_class::row_failure));
}

BOOST_AUTO_TEST_CASE(failures_before_the_request_left_are_retried_with_their_transport_class) {
    const std::pair<dispatch_errc, transport_failure> cases[] = {
        {dispatch_errc::resolve_failed, transport_failure::resolve},
        {dispatch_errc::connect_failed, transport_failure::connect},
        {dispatch_errc::connect_timeout, transport_failure::connect_timeout},
        {dispatch_errc::tls_handshake_failed, transport_failure::tls_handshake},
        {dispatch_errc::proxy_refused,
         transport_failure::proxy},   // CONNECT refused (403, 502): nothing reached the API
    };
    for (const auto& [e, transport] : cases) {
        const auto v = classify_attempt(attempt_stage::connect, e, 0);
        BOOST_TEST((v.what == attempt_class::retry_before_send));
        BOOST_TEST((v.transport == transport));
    }
    // A write that did not finish: not sent, but not a transport class of its own.
    const auto write = classify_attempt(attempt_stage::write, dispatch_errc::connect_failed, 0);
    BOOST_TEST((write.what == attempt_class::retry_before_send));
    BOOST_TEST((write.transport == transport_failure::none));
    // A foreign error code does not read as one of ours.
    const auto foreign =
        classify_attempt(attempt_stage::connect, boost::system::error_code(1, boost::system::generic_category()), 0);
    BOOST_TEST((foreign.transport == transport_failure::none));
}

BOOST_AUTO_TEST_CASE(a_request_sent_without_an_answer_is_ambiguous) {
    for (auto e : {dispatch_errc::response_timeout, dispatch_errc::connection_lost, dispatch_errc::bad_http_response})
        BOOST_TEST((class_of(attempt_stage::read, e) == attempt_class::ambiguous));
    BOOST_TEST((class_of(attempt_stage::read, boost::asio::error::connection_reset) == attempt_class::ambiguous));
}

BOOST_AUTO_TEST_CASE(stale_and_certificate_have_their_own_classes) {
    BOOST_TEST((class_of(attempt_stage::connect, dispatch_errc::stale_connection) == attempt_class::resend_stale));
    BOOST_TEST((class_of(attempt_stage::read, dispatch_errc::stale_connection) == attempt_class::resend_stale));
    const auto cert = classify_attempt(attempt_stage::connect, dispatch_errc::tls_verify_failed, 0);
    BOOST_TEST((cert.what == attempt_class::certificate));
    BOOST_TEST((cert.transport == transport_failure::none));   // its own breaker, not fail-fast
}

BOOST_AUTO_TEST_CASE(a_proxy_refusing_its_credentials_counts_like_a_refused_token) {
    // 407 (or 401) to CONNECT: wrong credentials fail every row, so several
    // in a row stop the batch; not a transport failure for --fail-fast.
    const auto v = classify_attempt(attempt_stage::connect, dispatch_errc::proxy_auth_required, 0);
    BOOST_TEST((v.what == attempt_class::auth_refused));
    BOOST_TEST((v.transport == transport_failure::none));
}

BOOST_AUTO_TEST_SUITE_END()
