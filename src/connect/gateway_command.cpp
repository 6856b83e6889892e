#include "connect/gateway_command.hpp"

#include <charconv>
#include <map>

#include "common/errors.hpp"
#include "connect/tls_gateway.hpp"

namespace spark_slurm {

namespace {

const std::string kUsage =
    "usage: spark-slurm connect-gateway --listen ADDR:PORT --backend-port N --cert FILE "
    "--key FILE";

[[noreturn]] void usage_error(const std::string& problem) {
    throw UsageError("spark-slurm connect-gateway: " + problem + "\n" + kUsage);
}

std::uint16_t parse_port(const std::string& option, const std::string& text, bool zero_allowed) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value > 65535 ||
        (value == 0 && !zero_allowed))
        usage_error(option + " needs a port number (1-65535), not '" + text + "'");
    return static_cast<std::uint16_t>(value);
}

}  // namespace

GatewaySettings parse_gateway_arguments(const std::vector<std::string>& args) {
    std::map<std::string, std::string> values;
    for (std::size_t i = 0; i < args.size(); i += 2) {
        const std::string& option = args[i];
        if (option != "--listen" && option != "--backend-port" && option != "--cert" &&
            option != "--key")
            usage_error("unknown argument '" + option + "'");
        if (i + 1 >= args.size() || args[i + 1].empty()) usage_error(option + " needs a value");
        if (!values.emplace(option, args[i + 1]).second) usage_error(option + " given twice");
    }
    for (const char* required : {"--listen", "--backend-port", "--cert", "--key"})
        if (!values.count(required)) usage_error(std::string(required) + " is missing");

    // ADDR:PORT, or [IPv6]:PORT.
    const std::string& listen = values["--listen"];
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0)
        usage_error("--listen needs ADDR:PORT, not '" + listen + "'");
    std::string address = listen.substr(0, colon);
    if (address.size() > 2 && address.front() == '[' && address.back() == ']')
        address = address.substr(1, address.size() - 2);

    GatewaySettings settings;
    settings.listen_address = address;
    settings.listen_port = parse_port("--listen", listen.substr(colon + 1), true);
    settings.backend_port = parse_port("--backend-port", values["--backend-port"], false);
    settings.certificate_file = values["--cert"];
    settings.private_key_file = values["--key"];
    return settings;
}

int gateway_command(const std::vector<std::string>& args) {
    return run_tls_gateway(parse_gateway_arguments(args));
}

}  // namespace spark_slurm
