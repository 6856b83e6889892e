// The job's secret and Connect token through the shared job dir instead of the plan's broadcast:
// what the leader writes (modes, content), what the other ranks accept (the broadcast's
// fingerprints), and the errors a rank gets when the files are missing, changed, not private or
// not where they should be — each naming the path and the fix.
#include "rendezvous/job_secrets.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/errors.hpp"
#include "fixtures.hpp"
#include "plan/plan_json.hpp"

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class JobSecretsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/spark-slurm-secrets-test-XXXXXX";
        base_ = ::mkdtemp(pattern);
        auto inputs = testing::synthetic_inputs(3, {16, 64ull << 30});
        inputs.job_dir = base_ + "/job";  // not there yet: the leader makes it
        inputs.options.connect = true;
        inputs.connect_token = "a-connect-token-of-this-run";
        plan_ = make_plan(inputs);
    }
    void TearDown() override { fs::remove_all(base_); }

    // What another rank has after the broadcast: the plan without its secrets, and the
    // fingerprints.
    Plan received() const { return plan_from_json(broadcast()); }
    nlohmann::json broadcast() const { return plan_to_json(plan_, SecretHandling::Fingerprint); }
    void read_back(Plan& plan) const {
        const auto document = broadcast();
        read_job_secrets(plan, document.at("secret_fingerprint"),
                         document.value("connect_token_fingerprint", std::string()));
    }
    std::string read_error() const {
        Plan plan = received();
        try {
            read_back(plan);
        } catch (const LaunchError& error) {
            return error.what();
        }
        ADD_FAILURE() << "read without an error";
        return "";
    }
    static unsigned mode_of(const std::string& path) {
        struct stat info {};
        EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
        return info.st_mode & 0777;
    }

    std::string base_;
    Plan plan_;
};

TEST_F(JobSecretsTest, TheLeaderWritesThemPrivateAndTheOthersReadThemBack) {
    write_job_secrets(plan_);
    const JobSecretFiles files = job_secret_files(plan_);
    EXPECT_EQ(files.directory, plan_.job_dir + "/credentials");  // with the keytabs
    EXPECT_EQ(mode_of(files.directory), 0700u);
    EXPECT_EQ(mode_of(files.secret), 0600u);
    EXPECT_EQ(mode_of(files.connect_token), 0600u);

    Plan plan = received();
    EXPECT_EQ(plan.secret, "");
    read_back(plan);
    EXPECT_EQ(plan.secret, plan_.secret);
    EXPECT_EQ(plan.connect_token, plan_.connect_token);
}

TEST_F(JobSecretsTest, ARewriteFixesAnOlderRunsLooseModes) {
    const JobSecretFiles files = job_secret_files(plan_);
    fs::create_directories(files.directory);
    fs::permissions(files.directory, fs::perms(0755), fs::perm_options::replace);
    std::ofstream(files.secret) << "an older run's";
    fs::permissions(files.secret, fs::perms(0644), fs::perm_options::replace);
    write_job_secrets(plan_);
    EXPECT_EQ(mode_of(files.directory), 0700u);
    EXPECT_EQ(mode_of(files.secret), 0600u);
    Plan plan = received();
    read_back(plan);
    EXPECT_EQ(plan.secret, plan_.secret);
}

TEST_F(JobSecretsTest, WithoutConnectThereIsNoTokenFile) {
    write_job_secrets(plan_);  // this run with Connect, the next one without
    plan_.connect = false;
    plan_.connect_token.clear();
    write_job_secrets(plan_);
    EXPECT_FALSE(fs::exists(job_secret_files(plan_).connect_token));
    Plan plan = received();
    read_back(plan);
    EXPECT_EQ(plan.secret, plan_.secret);
    EXPECT_EQ(plan.connect_token, "");
}

TEST_F(JobSecretsTest, AFileThatDoesNotMatchTheFingerprintIsAnErrorNamingIt) {
    write_job_secrets(plan_);
    const JobSecretFiles files = job_secret_files(plan_);
    std::ofstream(files.connect_token, std::ios::trunc) << "another run's token";
    const std::string error = read_error();
    EXPECT_THAT(error, HasSubstr(files.connect_token));
    EXPECT_THAT(error, HasSubstr("fingerprint"));
    EXPECT_THAT(error, HasSubstr("--job-dir"));
}

TEST_F(JobSecretsTest, AMissingFileIsAnErrorNamingItAndTheFix) {
    // A node-local job dir: the leader wrote it on its own node only.
    const std::string error = read_error();
    EXPECT_THAT(error, HasSubstr(job_secret_files(plan_).directory));
    EXPECT_THAT(error, HasSubstr("every node of the job shares"));
    write_job_secrets(plan_);
    fs::remove(job_secret_files(plan_).secret);
    EXPECT_THAT(read_error(),
                HasSubstr("cannot read the job's secrets from " + job_secret_files(plan_).secret));
}

TEST_F(JobSecretsTest, FilesOthersCanReadAreRefused) {
    write_job_secrets(plan_);
    const JobSecretFiles files = job_secret_files(plan_);
    fs::permissions(files.secret, fs::perms(0644), fs::perm_options::replace);
    EXPECT_THAT(read_error(), HasSubstr("other users may read it (mode 644)"));
    fs::permissions(files.secret, fs::perms(0600), fs::perm_options::replace);
    fs::permissions(files.directory, fs::perms(0755), fs::perm_options::replace);
    EXPECT_THAT(read_error(), HasSubstr("chmod 700 " + files.directory));
}

TEST_F(JobSecretsTest, SymbolicLinksAreNotFollowed) {
    const JobSecretFiles files = job_secret_files(plan_);
    fs::create_directories(plan_.job_dir);
    fs::create_directories(base_ + "/elsewhere");
    fs::create_directory_symlink(base_ + "/elsewhere", files.directory);
    try {
        write_job_secrets(plan_);
        ADD_FAILURE() << "wrote through a symbolic link";
    } catch (const LaunchError& error) {
        EXPECT_THAT(error.what(), HasSubstr("not a symbolic link"));
    }
    EXPECT_TRUE(fs::is_empty(base_ + "/elsewhere"));

    fs::remove(files.directory);
    write_job_secrets(plan_);
    fs::remove(files.secret);
    fs::create_symlink(files.connect_token, files.secret);
    EXPECT_THAT(read_error(), HasSubstr(files.secret));
}

}  // namespace
}  // namespace spark_slurm
