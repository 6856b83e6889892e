#include "control/control_protocol.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <initializer_list>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/hashing.hpp"
#include "common/overloaded.hpp"
#include "common/random.hpp"

namespace spark_slurm::control {

namespace {

using nlohmann::json;

constexpr std::size_t kNonceHexLength = 32;
constexpr std::size_t kMacHexLength = 64;

bool is_hex(const std::string& text, std::size_t length) {
    if (text.size() != length) return false;
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

// The object must hold exactly these keys besides "type": a message with more or fewer is not
// one this launcher sent.
bool has_exactly(const json& object, std::initializer_list<const char*> keys) {
    if (object.size() != keys.size() + 1) return false;
    for (const char* key : keys) {
        if (!object.contains(key)) return false;
    }
    return true;
}

std::optional<std::string> string_field(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return {};
    return it->get<std::string>();
}

std::optional<unsigned> unsigned_field(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number_unsigned()) return {};
    auto value = it->get<std::uint64_t>();
    if (value > 0xffffffffu) return {};
    return static_cast<unsigned>(value);
}

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length)) {
        throw LaunchError("while authenticating the control channel: HMAC-SHA256 failed");
    }
    return hex_encode(std::span<const unsigned char>(digest, length));
}

std::variant<Message, ParseFailure> from_json(const json& object) {
    const auto type = string_field(object, "type");
    if (!type) return ParseFailure{"no message type"};
    auto bad = [&](const char* why) {
        return ParseFailure{fmt::format("{} message {}", *type, why)};
    };

    if (*type == "challenge") {
        auto nonce = string_field(object, "nonce");
        if (!has_exactly(object, {"nonce"}) || !nonce || !is_hex(*nonce, kNonceHexLength))
            return bad("without a valid nonce");
        return Message{Challenge{*nonce}};
    }
    if (*type == "hello") {
        auto rank = unsigned_field(object, "rank");
        auto nonce = string_field(object, "nonce");
        auto mac = string_field(object, "mac");
        if (!has_exactly(object, {"rank", "nonce", "mac"}) || !rank || !nonce || !mac ||
            !is_hex(*nonce, kNonceHexLength) || !is_hex(*mac, kMacHexLength))
            return bad("malformed");
        return Message{Hello{*rank, *nonce, *mac}};
    }
    if (*type == "welcome") {
        auto mac = string_field(object, "mac");
        if (!has_exactly(object, {"mac"}) || !mac || !is_hex(*mac, kMacHexLength))
            return bad("malformed");
        return Message{Welcome{*mac}};
    }
    if (*type == "start") {
        auto daemon = string_field(object, "daemon");
        if (!has_exactly(object, {"daemon"}) || !daemon) return bad("malformed");
        return Message{StartDaemon{*daemon}};
    }
    if (*type == "daemon_restarting") {
        auto daemon = string_field(object, "daemon");
        auto status = string_field(object, "status");
        auto attempt = unsigned_field(object, "attempt");
        if (!has_exactly(object, {"daemon", "status", "attempt"}) || !daemon || !status || !attempt)
            return bad("malformed");
        return Message{DaemonRestarting{*daemon, *status, *attempt}};
    }
    if (*type == "daemon_exited") {
        auto daemon = string_field(object, "daemon");
        auto status = string_field(object, "status");
        auto log_tail = string_field(object, "log_tail");
        if (!has_exactly(object, {"daemon", "status", "log_tail"}) || !daemon || !status ||
            !log_tail)
            return bad("malformed");
        return Message{DaemonExited{*daemon, *status, *log_tail}};
    }
    if (*type == "start_failed") {
        auto reason = string_field(object, "reason");
        if (!has_exactly(object, {"reason"}) || !reason) return bad("malformed");
        return Message{StartFailed{*reason}};
    }
    if (!has_exactly(object, {})) return bad("with unexpected fields");
    if (*type == "ready") return Message{ClusterReady{}};
    if (*type == "stop") return Message{Stop{}};
    if (*type == "heartbeat") return Message{Heartbeat{}};
    if (*type == "stopped") return Message{Stopped{}};
    return ParseFailure{"unknown message type"};
}

}  // namespace

std::variant<Message, ParseFailure> parse_message(std::string_view line) {
    if (line.size() > kMaxLineBytes) return ParseFailure{"line too long"};
    // The JSON reader would stop at a NUL and take what came before it for the whole line.
    if (line.find('\0') != std::string_view::npos) return ParseFailure{"NUL byte in the line"};
    // No exceptions from the parser (allow_exceptions = false), and every field is checked for
    // its type before it is read, so nothing below can throw on what a peer sent; the catch is
    // for allocation failure alone.
    try {
        json object = json::parse(line.begin(), line.end(), nullptr, false);
        if (object.is_discarded()) return ParseFailure{"not JSON"};
        if (!object.is_object()) return ParseFailure{"not a JSON object"};
        return from_json(object);
    } catch (const std::exception& error) {
        return ParseFailure{std::string("unreadable: ") + error.what()};
    }
}

std::string serialize(const Message& message) {
    json object = std::visit(
        Overloaded{
            [](const Challenge& m) {
                return json{{"type", "challenge"}, {"nonce", m.nonce}};
            },
            [](const Hello& m) {
                return json{
                    {"type", "hello"}, {"rank", m.rank}, {"nonce", m.nonce}, {"mac", m.mac}};
            },
            [](const Welcome& m) {
                return json{{"type", "welcome"}, {"mac", m.mac}};
            },
            [](const StartDaemon& m) {
                return json{{"type", "start"}, {"daemon", m.daemon}};
            },
            [](const ClusterReady&) {
                return json{{"type", "ready"}};
            },
            [](const Stop&) {
                return json{{"type", "stop"}};
            },
            [](const Heartbeat&) {
                return json{{"type", "heartbeat"}};
            },
            [](const DaemonRestarting& m) {
                return json{{"type", "daemon_restarting"},
                            {"daemon", m.daemon},
                            {"status", m.status},
                            {"attempt", m.attempt}};
            },
            [](const DaemonExited& m) {
                std::string tail = m.log_tail.size() > kMaxLogTailBytes
                                       ? m.log_tail.substr(m.log_tail.size() - kMaxLogTailBytes)
                                       : m.log_tail;
                return json{{"type", "daemon_exited"},
                            {"daemon", m.daemon},
                            {"status", m.status},
                            {"log_tail", tail}};
            },
            [](const StartFailed& m) {
                return json{{"type", "start_failed"}, {"reason", m.reason}};
            },
            [](const Stopped&) {
                return json{{"type", "stopped"}};
            },
        },
        message);
    // Replace invalid UTF-8 (a daemon's log tail may hold any bytes) rather than throw.
    return object.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

const char* type_name(const Message& message) {
    return std::visit(Overloaded{
                          [](const Challenge&) { return "challenge"; },
                          [](const Hello&) { return "hello"; },
                          [](const Welcome&) { return "welcome"; },
                          [](const StartDaemon&) { return "start"; },
                          [](const ClusterReady&) { return "ready"; },
                          [](const Stop&) { return "stop"; },
                          [](const Heartbeat&) { return "heartbeat"; },
                          [](const DaemonRestarting&) { return "daemon_restarting"; },
                          [](const DaemonExited&) { return "daemon_exited"; },
                          [](const StartFailed&) { return "start_failed"; },
                          [](const Stopped&) { return "stopped"; },
                      },
                      message);
}

std::string fresh_nonce() { return random_hex(kNonceHexLength / 2); }

std::string hello_mac(const std::string& secret, unsigned rank, const std::string& leader_nonce,
                      const std::string& worker_nonce) {
    return hmac_sha256_hex(
        secret, fmt::format("spark-slurm hello|{}|{}|{}", rank, leader_nonce, worker_nonce));
}

std::string welcome_mac(const std::string& secret, unsigned rank, const std::string& leader_nonce,
                        const std::string& worker_nonce) {
    return hmac_sha256_hex(
        secret, fmt::format("spark-slurm welcome|{}|{}|{}", rank, leader_nonce, worker_nonce));
}

bool same_mac(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace spark_slurm::control
