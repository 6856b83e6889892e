#include "common/user_account.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "common/errors.hpp"

namespace spark_slurm {

namespace {

// getpwuid_r rather than getpwuid: the entry is ours, whatever another thread looks up. nullopt
// when the database has no entry for `uid` (or cannot be read).
std::optional<UserAccount> find_account(uid_t uid) {
    constexpr std::size_t kLargestBuffer = 1 << 20;
    const long suggested = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(suggested > 0 ? static_cast<std::size_t>(suggested) : 16384);
    passwd entry{};
    passwd* found = nullptr;
    int error;
    while ((error = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
           buffer.size() < kLargestBuffer) {
        buffer.resize(buffer.size() * 2);
    }
    if (error != 0 || !found) return std::nullopt;
    return UserAccount{found->pw_name ? found->pw_name : "", found->pw_dir ? found->pw_dir : ""};
}

}  // namespace

UserAccount user_account() {
    const uid_t uid = ::getuid();
    auto account = find_account(uid);
    if (!account || account->name.empty() || account->home.empty() ||
        account->home.front() != '/') {
        throw LaunchError(fmt::format(
            "cannot find your user name and home directory in the password database (uid {})",
            uid));
    }
    return *account;
}

std::string user_name_or_uid() { return user_name_of(::getuid()); }

std::string user_name_of(unsigned uid) {
    auto account = find_account(static_cast<uid_t>(uid));
    return account && !account->name.empty() ? account->name : std::to_string(uid);
}

}  // namespace spark_slurm
