// The hidden `connect-gateway` command's own small parser.
#include "connect/gateway_command.hpp"

#include <gtest/gtest.h>

#include "common/errors.hpp"

namespace spark_slurm {
namespace {

TEST(GatewayCommand, ParsesItsFourOptions) {
    auto settings = parse_gateway_arguments(
        {"--listen", "10.0.0.1:15002", "--backend-port", "40000", "--cert", "c", "--key", "k"});
    EXPECT_EQ(settings.listen_address, "10.0.0.1");
    EXPECT_EQ(settings.listen_port, 15002);
    EXPECT_EQ(settings.backend_port, 40000);
    EXPECT_EQ(settings.certificate_file, "c");
    EXPECT_EQ(settings.private_key_file, "k");
    auto v6 = parse_gateway_arguments(
        {"--key", "k", "--cert", "c", "--listen", "[fd00::1]:1", "--backend-port", "2"});
    EXPECT_EQ(v6.listen_address, "fd00::1");
}

// The leader's gateway process runs with these (docs/security.md gives the reasons): a change
// here is a change of what the documentation promises.
TEST(GatewayCommand, RunsWithTheDocumentedLimits) {
    auto settings = parse_gateway_arguments(
        {"--listen", "10.0.0.1:15002", "--backend-port", "40000", "--cert", "c", "--key", "k"});
    EXPECT_EQ(settings.handshake_limit, std::chrono::seconds(10));
    EXPECT_EQ(settings.idle_limit, std::chrono::minutes(10));
    EXPECT_EQ(settings.max_connections, 64u);
    EXPECT_EQ(settings.max_connections_per_peer, 16u);
    EXPECT_EQ(settings.quiet_before_evictable, std::chrono::seconds(60));
}

TEST(GatewayCommand, RejectsMalformedCommandLines) {
    const std::vector<std::string> good = {
        "--listen", "10.0.0.1:15002", "--backend-port", "40000", "--cert", "c", "--key", "k"};
    EXPECT_NO_THROW(parse_gateway_arguments(good));
    EXPECT_THROW(parse_gateway_arguments({}), UsageError);
    EXPECT_THROW(parse_gateway_arguments({good.begin(), good.end() - 2}), UsageError);  // no key
    EXPECT_THROW(parse_gateway_arguments({good.begin(), good.end() - 1}), UsageError);  // no value
    auto with = [&](std::size_t index, const std::string& value) {
        auto args = good;
        args[index] = value;
        return args;
    };
    EXPECT_THROW(parse_gateway_arguments(with(1, "10.0.0.1")), UsageError);
    EXPECT_THROW(parse_gateway_arguments(with(1, "10.0.0.1:70000")), UsageError);
    EXPECT_THROW(parse_gateway_arguments(with(3, "0")), UsageError);
    EXPECT_THROW(parse_gateway_arguments(with(3, "12x")), UsageError);
    EXPECT_THROW(parse_gateway_arguments(with(0, "--bogus")), UsageError);
    auto twice = good;
    twice.insert(twice.end(), {"--key", "k2"});
    EXPECT_THROW(parse_gateway_arguments(twice), UsageError);
}

}  // namespace
}  // namespace spark_slurm
