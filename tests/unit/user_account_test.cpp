// The calling user from the password database: whoever runs the tests has an entry.
#include "common/user_account.hpp"

#include <gtest/gtest.h>

namespace spark_slurm {
namespace {

TEST(UserAccount, TheCallingUsersNameAndAbsoluteHome) {
    const UserAccount account = user_account();
    EXPECT_FALSE(account.name.empty());
    ASSERT_FALSE(account.home.empty());
    EXPECT_EQ(account.home.front(), '/');
    EXPECT_EQ(user_name_or_uid(), account.name);
}

}  // namespace
}  // namespace spark_slurm
