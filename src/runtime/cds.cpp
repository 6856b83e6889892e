#include "runtime/cds.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/log.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

constexpr const char* kMasterClass = "org.apache.spark.deploy.master.Master";
constexpr const char* kWorkerClass = "org.apache.spark.deploy.worker.Worker";
constexpr const char* kKdcProgram = "spark-slurm-kdc";
// Where, in the cache, the KDC keeps its compiled program (SPARK_SLURM_KDC_CLASSES).
constexpr const char* kKdcClassesDir = "kdc-classes";
// Bumped when the options or the naming change, so that older archives become stale.
constexpr const char* kFormat = "spark-slurm-cds-1";
// A dynamic archive starts with 0xf00baba8 (JDK 17 CDS_DYNAMIC_ARCHIVE_MAGIC), little-endian.
constexpr std::array<unsigned char, 4> kDynamicMagic{0xa8, 0xab, 0x0b, 0xf0};
// What the JVM logs (tags cds,dynamic) once it wrote an archive, and when it refuses one.
constexpr const char* kWrittenLine = "Written dynamic archive";
constexpr const char* kRejectedLine = "Unable to use shared archive";
// Archives of each daemon kept for other Java/Spark installs than the one that just wrote one
// (~55 MiB each).
constexpr std::size_t kOtherArchivesKept = 2;
// Temporary files older than this belong to a launcher that died before finish().
constexpr auto kStaleTemporary = std::chrono::hours(24);

std::string get(const Environment& environment, const std::string& name) {
    auto it = environment.find(name);
    return it == environment.end() ? "" : it->second;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string stat_line(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return path.string() + " missing\n";
    return fmt::format("{} {} {}\n", path.string(), st.st_size, st.st_mtim.tv_sec);
}

// The Java install behind JAVA_HOME, or behind the `java` on PATH.
std::string java_identity(const RuntimeSettings& settings) {
    std::error_code error;
    fs::path home = settings.java_home;
    if (home.empty()) {
        std::string java = find_on_path("java", settings.inherited);
        if (java.empty()) return "";
        home = fs::canonical(java, error).parent_path().parent_path();
        if (error) return "";
    }
    home = fs::canonical(home, error);
    if (error) return "";
    return home.string() + "\n" + read_file(home / "release") + stat_line(home / "lib/modules") +
           stat_line(home / "lib/server/libjvm.so");
}

// "name size mtime" of every jar in `dir`, sorted.
std::string jar_listing(const fs::path& dir) {
    std::vector<std::string> lines;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        if (entry.path().extension() == ".jar") lines.push_back(stat_line(entry.path()));
    }
    std::sort(lines.begin(), lines.end());
    std::string listing;
    for (const auto& line : lines) listing += line;
    return listing;
}

bool contains(const std::string& text, const char* what) {
    return text.find(what) != std::string::npos;
}

// The HDFS daemons and the KDC: their class path is the Hadoop install's, from its `hdfs` script.
bool on_hadoop_class_path(CdsTarget target) {
    return target == CdsTarget::Namenode || target == CdsTarget::Datanode ||
           target == CdsTarget::Kdc;
}

const char* options_variable(CdsTarget target) {
    switch (target) {
        case CdsTarget::SparkMaster:
            return "SPARK_MASTER_OPTS";
        case CdsTarget::SparkWorker:
            return "SPARK_WORKER_OPTS";
        case CdsTarget::Namenode:
            return "HDFS_NAMENODE_OPTS";
        case CdsTarget::Datanode:
            return "HDFS_DATANODE_OPTS";
        case CdsTarget::Kdc:
            return "SPARK_SLURM_KDC_OPTS";
    }
    return "";
}

// Why the HDFS daemons of `hadoop_home` cannot get archives ("" when they can).
std::string hdfs_cds_problem(const std::string& hadoop_home, const Environment& inherited) {
    if (hadoop_home.empty()) return "no HADOOP_HOME";
    if (!get(inherited, "HADOOP_CLASSPATH").empty())
        return "HADOOP_CLASSPATH is set; archives need the Hadoop jars first";
    if (!contains(read_file(fs::path(hadoop_home) / "bin/hdfs"), kHdfsJarsFirstMarker))
        return "its bin/hdfs puts conf directories before the jars, as Hadoop's own scripts "
               "do (the one of scripts/install-spark-hadoop does not)";
    return "";
}

std::string line_with(const std::string& text, const char* what) {
    auto at = text.find(what);
    if (at == std::string::npos) return "";
    auto begin = text.rfind('\n', at);
    begin = begin == std::string::npos ? 0 : begin + 1;
    auto end = text.find('\n', at);
    return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string host_name() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0) return "host";
    return name.data();
}

// A directory only its owner can write to (and read: archives show what a user ran).
std::string private_dir_problem(const fs::path& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return fmt::format("{}", std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) return "not a directory";
    if (st.st_uid != ::geteuid()) return "owned by another user";
    if ((st.st_mode & 077) != 0) return fmt::format("mode {:o}, not 700", st.st_mode & 0777);
    return "";
}

}  // namespace

const char* cds_file_stem(CdsTarget target) {
    switch (target) {
        case CdsTarget::SparkMaster:
            return "spark-master";
        case CdsTarget::SparkWorker:
            return "spark-worker";
        case CdsTarget::Namenode:
            return "hdfs-namenode";
        case CdsTarget::Datanode:
            return "hdfs-datanode";
        case CdsTarget::Kdc:
            return "kdc";
    }
    return "unknown";
}

const char* cds_display_name(CdsTarget target) {
    switch (target) {
        case CdsTarget::SparkMaster:
            return "spark master";
        case CdsTarget::SparkWorker:
            return "spark worker";
        case CdsTarget::Namenode:
            return "hdfs namenode";
        case CdsTarget::Datanode:
            return "hdfs datanode";
        case CdsTarget::Kdc:
            return "kerberos kdc";
    }
    return "unknown";
}

std::optional<CdsUse> cds_use(const Invocation& invocation) {
    if (invocation.install == Install::Hadoop && !invocation.command.empty() &&
        fs::path(invocation.command.front()).filename() == kKdcProgram)
        return CdsUse{CdsTarget::Kdc};
    if (!invocation.command.empty() || invocation.args.empty()) return std::nullopt;
    const std::string& first = invocation.args.front();
    if (invocation.install == Install::Spark && invocation.tool == "spark-class") {
        if (first == kMasterClass) return CdsUse{CdsTarget::SparkMaster};
        if (first == kWorkerClass) return CdsUse{CdsTarget::SparkWorker};
    }
    if (invocation.install == Install::Hadoop && invocation.tool == "hdfs") {
        if (first == "datanode" && invocation.args.size() == 1) return CdsUse{CdsTarget::Datanode};
        if (first == "namenode" && invocation.args.size() == 1) return CdsUse{CdsTarget::Namenode};
        if (first == "namenode" && invocation.args.at(1) == "-format")
            return CdsUse{CdsTarget::Namenode, CdsHelper::Format};
        if (first == "dfsadmin" || first == "fetchdt")
            return CdsUse{CdsTarget::Namenode, CdsHelper::Client};
    }
    return std::nullopt;
}

std::string cds_key(const CdsKeyInputs& inputs) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    auto add = [&hash](const std::string& text) {
        for (unsigned char c : text) {
            hash ^= c;
            hash *= 0x100000001b3ULL;
        }
        hash ^= 0xff;  // a separator no text contains, so that fields cannot shift
        hash *= 0x100000001b3ULL;
    };
    add(kFormat);
    add(cds_file_stem(inputs.target));
    add(inputs.java);
    add(inputs.class_path);
    add(inputs.jars);
    return fmt::format("{:016x}", hash);
}

std::string cds_archive_name(CdsTarget target, const std::string& key, std::uintmax_t size) {
    return fmt::format("{}-{}-{}.jsa", cds_file_stem(target), key, size);
}

std::optional<CdsArchiveName> parse_cds_archive_name(const std::string& name) {
    for (CdsTarget target : kCdsTargets) {
        const std::string stem = std::string(cds_file_stem(target)) + "-";
        if (name.rfind(stem, 0) != 0 || name.size() < stem.size() + 16 + 2 + 4 ||
            !name.ends_with(".jsa"))
            continue;
        std::string key = name.substr(stem.size(), 16);
        if (!std::all_of(key.begin(), key.end(),
                         [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }) ||
            name[stem.size() + 16] != '-')
            return std::nullopt;
        std::string size = name.substr(stem.size() + 17, name.size() - stem.size() - 17 - 4);
        if (size.empty() || size.size() > 15 || !std::all_of(size.begin(), size.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
            }))
            return std::nullopt;
        return CdsArchiveName{target, key, std::stoull(size)};
    }
    return std::nullopt;
}

std::vector<std::string> cds_jvm_options(CdsMode mode, const std::string& archive,
                                         const std::string& log_file) {
    if (mode == CdsMode::Use) {
        // auto: a refused archive costs a warning, never the start; Verify: a changed byte is
        // caught by the CRCs (~50 ms for 40 MiB) instead of crashing the JVM.
        return {"-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-XX:+VerifySharedSpaces",
                "-Xlog:cds=warning,cds+dynamic=warning:file=" + log_file};
    }
    // The dump's hundreds of "skipping class" warnings stay out of the daemon's log; the line
    // that says the archive was written goes to `log_file`.
    return {"-XX:ArchiveClassesAtExit=" + archive, "-XX:+VerifySharedSpaces", "-Xlog:cds*=error",
            "-Xlog:cds+dynamic=info:file=" + log_file};
}

std::string cds_class_path(CdsTarget target, const std::string& install_home) {
    return install_home + (on_hadoop_class_path(target) ? "/share/hadoop/lib/*" : "/jars/*");
}

void apply_cds(Invocation& invocation, const CdsUse& use,
               const std::vector<std::string>& jvm_options, const std::string& install_home) {
    const CdsTarget target = use.target;
    std::string& options =
        invocation.environment[use.helper == CdsHelper::Client ? "HADOOP_CLIENT_OPTS"
                                                               : options_variable(target)];
    for (const auto& option : jvm_options) options += (options.empty() ? "" : " ") + option;
    // Jars before the conf dirs that the scripts put first: the JVM cannot archive from a class
    // path with a non-empty directory ahead of the jars (and refuses the archive otherwise).
    if (on_hadoop_class_path(target)) {
        invocation.environment["HADOOP_CLASSPATH"] = cds_class_path(target, install_home);
        invocation.environment["HADOOP_USER_CLASSPATH_FIRST"] = "true";
    } else {
        invocation.environment["SPARK_DAEMON_CLASSPATH"] = cds_class_path(target, install_home);
    }
}

std::string cds_archive_problem(const std::string& path, std::uintmax_t expected_size,
                                uid_t owner) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    if (st.st_uid != owner) return "owned by another user";
    if (static_cast<std::uintmax_t>(st.st_size) != expected_size) {
        return fmt::format("{} bytes where {} were written (truncated or replaced)", st.st_size,
                           expected_size);
    }
    std::array<unsigned char, 4> magic{};
    std::ifstream in(path, std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(magic.data()), magic.size()) || magic != kDynamicMagic)
        return "not a dynamic CDS archive";
    return "";
}

std::string cds_cache_dir(const Environment& environment) {
    if (auto cache = get(environment, "XDG_CACHE_HOME"); !cache.empty() && cache.front() == '/')
        return cache + "/spark-slurm/cds";
    if (auto home = get(environment, "HOME"); !home.empty())
        return home + "/.cache/spark-slurm/cds";
    return "";
}

std::optional<CdsCache> CdsCache::open(const RuntimeSettings& settings) {
    if (settings.kind != RuntimeChoice::None) return std::nullopt;
    const std::string dir = cds_cache_dir(settings.inherited);
    if (dir.empty()) {
        log::info("CDS: off (no HOME for a cache of class archives)");
        return std::nullopt;
    }
    if (!get(settings.inherited, "SPARK_DAEMON_CLASSPATH").empty()) {
        log::info("CDS: off (SPARK_DAEMON_CLASSPATH is set; archives need the Spark jars first)");
        return std::nullopt;
    }
    std::error_code error;
    const fs::path cds(dir);
    for (const fs::path& level : {cds.parent_path().parent_path(), cds.parent_path(), cds}) {
        if (fs::exists(level, error)) continue;
        if (::mkdir(level.c_str(), 0700) != 0 && errno != EEXIST) {
            log::info("CDS: off (cannot create {}: {})", level.string(), std::strerror(errno));
            return std::nullopt;
        }
    }
    if (auto problem = private_dir_problem(cds); !problem.empty()) {
        log::warn("CDS: off: the class archive cache {} is not private ({}); chmod 700 it", dir,
                  problem);
        return std::nullopt;
    }
    std::string java = java_identity(settings);
    if (java.empty()) {
        log::info("CDS: off (cannot tell which Java install runs the daemons)");
        return std::nullopt;
    }
    return CdsCache(dir, std::move(java), settings.spark_home, settings.hadoop_home,
                    hdfs_cds_problem(settings.hadoop_home, settings.inherited));
}

Invocation CdsCache::with_kdc_classes(const Invocation& invocation) const {
    Invocation with = invocation;
    const fs::path classes = fs::path(dir_) / kKdcClassesDir;
    if (::mkdir(classes.c_str(), 0700) == 0 || errno == EEXIST)
        with.environment["SPARK_SLURM_KDC_CLASSES"] = classes.string();
    return with;
}

const std::string& CdsCache::install_home(CdsTarget target) const {
    return on_hadoop_class_path(target) ? hadoop_home_ : spark_home_;
}

Invocation CdsCache::prepare(const Invocation& invocation) {
    auto use = cds_use(invocation);
    if (!use) return invocation;
    if (on_hadoop_class_path(use->target) && !hdfs_problem_.empty()) {
        if (!hdfs_problem_told_) log::info("CDS: none for HDFS: {}", hdfs_problem_);
        hdfs_problem_told_ = true;
        // The KDC's compiled program needs no particular class path: it is kept all the same.
        return use->target == CdsTarget::Kdc ? with_kdc_classes(invocation) : invocation;
    }
    auto tmp = invocation.environment.find("TMPDIR");
    // The log file goes into an -Xlog option, whose syntax reserves these.
    if (tmp == invocation.environment.end() ||
        tmp->second.find_first_of(":,=\" ") != std::string::npos ||
        dir_.find_first_of(":,=\" ") != std::string::npos)
        return invocation;
    auto found = entries_.find(use->target);
    if (found == entries_.end())
        found = entries_.emplace(use->target, decide(use->target, tmp->second)).first;
    Entry& entry = found->second;
    Invocation with = use->target == CdsTarget::Kdc ? with_kdc_classes(invocation) : invocation;
    if (use->helper == CdsHelper::None) {
        apply_cds(with, *use, cds_jvm_options(entry.mode, entry.archive, entry.log_file),
                  install_home(use->target));
    } else if (entry.mode == CdsMode::Use) {
        // A run of a few seconds: it maps the daemon's archive, never writes one, since a
        // failed dump at exit would be a failed format or token fetch.
        entry.helper_log_file = tmp->second + "/cds-" + cds_file_stem(use->target) + "-helper.log";
        if (use->helper == CdsHelper::Format) {
            log::info("CDS: the namenode format maps the {}'s class archive",
                      cds_display_name(use->target));
        } else if (!client_helpers_told_) {
            // Once: dfsadmin runs every second or so until the datanodes are live.
            log::info("CDS: HDFS client helpers (dfsadmin, fetchdt) map the {}'s class archive",
                      cds_display_name(use->target));
            client_helpers_told_ = true;
        }
        apply_cds(with, *use, cds_jvm_options(CdsMode::Use, entry.archive, entry.helper_log_file),
                  install_home(use->target));
    }
    return with;
}

CdsCache::Entry CdsCache::decide(CdsTarget target, const std::string& log_dir) {
    const std::string class_path = cds_class_path(target, install_home(target));
    Entry entry;
    entry.key =
        cds_key({target, java_, class_path, jar_listing(fs::path(class_path).parent_path())});
    entry.log_file = log_dir + "/cds-" + cds_file_stem(target) + ".log";
    unsigned others = 0;
    std::error_code error;
    for (const auto& file : fs::directory_iterator(dir_, error)) {
        auto name = parse_cds_archive_name(file.path().filename().string());
        if (!name || name->target != target) continue;
        if (name->key != entry.key) {
            ++others;
            continue;
        }
        const std::string path = file.path().string();
        if (auto problem = cds_archive_problem(path, name->size, ::geteuid()); !problem.empty()) {
            log::warn("CDS: ignoring the class archive {} of the {}: {}; this run writes a new one",
                      path, cds_display_name(target), problem);
            fs::remove(file.path(), error);
            continue;
        }
        entry.mode = CdsMode::Use;
        entry.archive = path;
        log::info("CDS: the {} starts from the class archive {}", cds_display_name(target), path);
        return entry;
    }
    entry.mode = CdsMode::Dump;
    entry.archive = fmt::format("{}/{}-{}.tmp.{}.{}", dir_, cds_file_stem(target), entry.key,
                                host_name(), ::getpid());
    log::info("CDS: no class archive for the {}{}; it writes one when it stops (into {})",
              cds_display_name(target),
              others ? fmt::format(" (only for other Java or {} installs)",
                                   on_hadoop_class_path(target) ? "Hadoop" : "Spark")
                     : std::string(),
              dir_);
    return entry;
}

void CdsCache::keep(CdsTarget target, const Entry& entry) {
    std::error_code error;
    const auto size = fs::file_size(entry.archive, error);
    if (error || !cds_archive_problem(entry.archive, size, ::geteuid()).empty()) {
        fs::remove(entry.archive, error);
        log::info("CDS: the {} wrote no usable class archive; the next run tries again",
                  cds_display_name(target));
        return;
    }
    const fs::path final_path = fs::path(dir_) / cds_archive_name(target, entry.key, size);
    fs::rename(entry.archive, final_path, error);
    if (error) {
        log::info("CDS: could not keep the class archive of the {}: {}", cds_display_name(target),
                  error.message());
        fs::remove(entry.archive, error);
        return;
    }
    // Archives of this daemon for other keys belong to other installs (a user switching between
    // Spark versions, as sites offer them) or to one changed in place: the newest few stay.
    std::vector<std::pair<fs::file_time_type, fs::path>> others;
    for (const auto& file : fs::directory_iterator(dir_, error)) {
        auto name = parse_cds_archive_name(file.path().filename().string());
        if (name && name->target == target && name->key != entry.key)
            others.emplace_back(fs::last_write_time(file.path(), error), file.path());
    }
    std::sort(others.begin(), others.end(), std::greater<>());
    for (std::size_t i = kOtherArchivesKept; i < others.size(); ++i)
        fs::remove(others[i].second, error);
    log::info("CDS: kept the {}'s class archive ({} MiB) for later runs: {}",
              cds_display_name(target), size >> 20, final_path.string());
}

void CdsCache::forget_if_refused(CdsTarget target, const Entry& entry,
                                 const std::string& log_file) {
    std::error_code error;
    if (log_file.empty() || !fs::exists(log_file, error)) return;
    const std::string log = read_file(log_file);
    if (!contains(log, kRejectedLine) || !fs::exists(entry.archive, error)) return;
    fs::remove(entry.archive, error);
    log::warn(
        "CDS: the {}'s JVM refused the class archive {} ({}); removed it, the next run writes a "
        "new one",
        cds_display_name(target), entry.archive, line_with(log, kRejectedLine));
}

void CdsCache::finish() {
    std::error_code error;
    for (const auto& [target, entry] : entries_) {
        if (entry.mode == CdsMode::Use) {
            forget_if_refused(target, entry, entry.helper_log_file);
            forget_if_refused(target, entry, entry.log_file);
            continue;
        }
        if (!fs::exists(entry.log_file, error)) continue;  // never started
        if (contains(read_file(entry.log_file), kWrittenLine) && fs::exists(entry.archive, error)) {
            keep(target, entry);
        } else {
            fs::remove(entry.archive, error);
            log::info(
                "CDS: the {} wrote no class archive (it did not stop cleanly); the next run "
                "tries again",
                cds_display_name(target));
        }
    }
    const auto now = fs::file_time_type::clock::now();
    auto clear_stale = [&](const fs::path& dir, const std::string& marker) {
        for (const auto& file : fs::directory_iterator(dir, error)) {
            if (file.path().filename().string().find(marker) == std::string::npos) continue;
            auto written = fs::last_write_time(file.path(), error);
            if (!error && now - written > kStaleTemporary) fs::remove_all(file.path(), error);
        }
    };
    clear_stale(dir_, ".tmp.");
    // What a KDC killed while compiling left (spark-slurm-kdc's staging directories).
    clear_stale(fs::path(dir_) / kKdcClassesDir, ".compiling.");
}

}  // namespace spark_slurm
