// The calling user as the password database knows them. The home comes from there rather than
// from $HOME, which a script may change, so that the login node and the compute nodes agree on
// where a user's spark-slurm files are.
#pragma once

#include <string>

namespace spark_slurm {

struct UserAccount {
    std::string name;
    std::string home;  // an absolute path, as the database has it
};

// The entry of getuid(). Throws LaunchError naming the uid when the database has none, or one
// without a name or an absolute home directory.
UserAccount user_account();

// The calling user's name, else their uid as a number: for what only names the user (the job's
// HDFS superuser, a record's owner), which need not fail for want of an entry.
std::string user_name_or_uid();
// The same for any uid (another user named in an error).
std::string user_name_of(unsigned uid);

}  // namespace spark_slurm
