// Parses the command line and hands over to the command; nothing else.
#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include "invent_dispatch/config.hpp"
#include "invent_dispatch/contacts.hpp"
#include "invent_dispatch/demo.hpp"
#include "invent_dispatch/dispatcher.hpp"
#include "invent_dispatch/journal_records.hpp"
#include "invent_dispatch/journal_report.hpp"
#include "invent_dispatch/logging.hpp"
#include "invent_dispatch/mock.hpp"
#include "invent_dispatch/rows.hpp"
#include "invent_dispatch/version.hpp"

extern char** environ;

namespace {

invent_dispatch::environment read_environment() {
    invent_dispatch::environment env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view text(*entry);
        const auto equals = text.find('=');
        if (equals != std::string_view::npos)
            env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
    return env;
}

int run_command(const invent_dispatch::command_line& command) {
    using namespace invent_dispatch;
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    switch (command.kind) {
    case command_kind::help: std::cout << command.help_text; return exit_ok;
    case command_kind::version: std::cout << "invent-dispatch " INVENT_DISPATCH_VERSION "\n"; return exit_ok;
    case command_kind::validate: return validate_input(command.dispatch.input, command.dispatch.defaults, std::cout);
    case command_kind::contacts:
        return run_contacts(command.dispatch, command.contacts, contacts_context{&std::cout, &std::cerr, terminal});
    case command_kind::report: return run_report_command(command.report, std::cout, std::cerr);
    case command_kind::mock: return run_mock_command(command.mock);
    case command_kind::demo: return run_demo(std::cerr, terminal);
    case command_kind::run: return run_dispatch(command.dispatch, dispatch_context{&std::cerr, terminal, {}});
    }
    return exit_usage;
}

}   // namespace

int main(int argc, char* argv[]) {
    using namespace invent_dispatch;
    try {
        const auto command = parse_command_line(argc, argv, read_environment());
        configure_logging(command.dispatch.log_level, command.dispatch.log_file);
        return run_command(command);
    } catch (const usage_error& e) {
        std::cerr << "invent-dispatch: " << e.what() << "\n(see invent-dispatch --help)\n";
    } catch (const input_error& e) {
        std::cerr << "invent-dispatch: " << e.what() << "\n";
    } catch (const journal_error& e) {
        std::cerr << "invent-dispatch: " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "invent-dispatch: " << e.what() << "\n";
    }
    return exit_usage;
}
