#include "cds/cds.hpp"

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

#include "common/files.hpp"
#include "common/job_environment.hpp"
#include "common/log.hpp"
#include "common/private_files.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

// Where, in the cache, the KDC keeps its compiled program (SPARK_SLURM_KDC_CLASSES).
constexpr const char* kKdcClassesDir = "kdc-classes";
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

std::string file_text(const fs::path& path) { return read_text(path).value_or(""); }

bool contains(const std::string& text, const char* what) {
    return text.find(what) != std::string::npos;
}

// The KDC's source (SPARK_SLURM_KDC_SOURCE), by content; "" for every other program.
std::string program_identity(const Invocation& invocation) {
    auto source = invocation.environment.find("SPARK_SLURM_KDC_SOURCE");
    return source == invocation.environment.end() ? "" : file_text(source->second);
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

// Only its owner may write to the cache (and read it: archives show what a user ran). An open
// one is reported, not tightened: CDS is an optimisation, and the user chose that mode.
const PrivateDirectoryUse kCacheUse{"spark-slurm keeps the class archives its JVMs load there",
                                    "move it away", false};

}  // namespace

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
    if (auto cache = environment_value(environment, "XDG_CACHE_HOME");
        !cache.empty() && cache.front() == '/')
        return cache + "/spark-slurm/cds";
    if (auto home = environment_value(environment, "HOME"); !home.empty())
        return home + "/.cache/spark-slurm/cds";
    return "";
}

std::optional<CdsCache> CdsCache::open(const RuntimeSettings& settings,
                                       const ImageInstalls& image) {
    CdsInstallsLookup lookup = find_cds_installs(settings, image);
    if (!lookup.installs) {
        log::info("CDS: off ({})", lookup.off_reason);
        return std::nullopt;
    }
    const std::string dir = cds_cache_dir(settings.inherited);
    if (dir.empty()) {
        log::info("CDS: off (no HOME for a cache of class archives)");
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
    try {
        check_private_directory(dir, kCacheUse);
    } catch (const PrivateFileError& not_private) {
        log::warn("CDS: off: the class archive cache is not private: {}", not_private.what());
        return std::nullopt;
    }
    return CdsCache(dir, std::move(*lookup.installs));
}

Invocation CdsCache::with_kdc_classes(const Invocation& invocation) const {
    Invocation with = invocation;
    const fs::path classes = fs::path(dir_) / kKdcClassesDir;
    if (::mkdir(classes.c_str(), 0700) == 0 || errno == EEXIST)
        with.environment["SPARK_SLURM_KDC_CLASSES"] = classes.string();
    return with;
}

const std::string& CdsCache::install_home(CdsTarget target) const {
    return cds_on_hadoop_class_path(target) ? installs_.hadoop_home : installs_.spark_home;
}

Invocation CdsCache::prepare(const Invocation& given) {
    auto use = cds_use(given);
    if (!use) return given;
    Invocation invocation = given;
    // A JVM in an image writes and maps its archive, and the KDC keeps its program, in the cache.
    if (installs_.in_image) invocation.binds.push_back(dir_);
    if (cds_on_hadoop_class_path(use->target) && !installs_.hdfs_problem.empty()) {
        if (!hdfs_problem_told_) log::info("CDS: none for HDFS: {}", installs_.hdfs_problem);
        hdfs_problem_told_ = true;
        // The KDC's compiled program needs no particular class path: it is kept all the same.
        return use->target == CdsTarget::Kdc ? with_kdc_classes(invocation) : invocation;
    }
    auto tmp = invocation.environment.find("TMPDIR");
    if (tmp == invocation.environment.end() || !usable_in_jvm_option(tmp->second) ||
        !usable_in_jvm_option(dir_))
        return invocation;
    auto found = entries_.find(use->target);
    if (found == entries_.end())
        found = entries_
                    .emplace(use->target,
                             decide(use->target, tmp->second, program_identity(invocation)))
                    .first;
    Entry& entry = found->second;
    Invocation with = use->target == CdsTarget::Kdc ? with_kdc_classes(invocation) : invocation;
    if (use->helper == CdsHelper::None) {
        apply_cds(with, *use, cds_jvm_options(entry.mode, entry.archive, entry.log_file),
                  install_home(use->target));
        // Seen: a namenode writing its archive in an image at teardown, through squashfuse,
        // needed more than the usual 10 s (and, killed, left the mount's process behind); one
        // from a host install too, on a busy machine (killed, it writes no archive at all).
        if (entry.mode == CdsMode::Dump)
            with.stop_grace = installs_.in_image ? kCdsImageDumpGrace : kCdsHostDumpGrace;
        with.writes_at_exit = entry.mode == CdsMode::Dump;
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

std::string CdsCache::key_of(CdsTarget target, const std::string& program) const {
    const std::string class_path = cds_class_path(target, install_home(target));
    // An image's jars are part of the image; its paths are not the host's.
    const std::string jars =
        installs_.in_image ? "" : host_jar_listing(fs::path(class_path).parent_path());
    const std::string& identity =
        cds_on_hadoop_class_path(target) ? installs_.hadoop_identity : installs_.spark_identity;
    return cds_key({target, identity, class_path, jars, program});
}

std::string CdsCache::image_refused_marker(CdsTarget target, const std::string& key) const {
    return fmt::format("{}/{}-{}.image-refused", dir_, cds_file_stem(target), key);
}

std::optional<std::string> CdsCache::image_archive(CdsTarget target, const std::string& key) const {
    const std::string name = std::string(cds_file_stem(target)) + ".jsa";
    for (const std::string& path : installs_.image_archives) {
        if (fs::path(path).filename() != name) continue;
        std::error_code error;
        if (fs::exists(image_refused_marker(target, key), error)) return std::nullopt;
        return path;
    }
    return std::nullopt;
}

CdsCache::Entry CdsCache::decide(CdsTarget target, const std::string& log_dir,
                                 const std::string& program) {
    Entry entry;
    entry.key = key_of(target, program);
    entry.log_file = log_dir + "/cds-" + cds_file_stem(target) + ".log";
    if (auto built_in = image_archive(target, entry.key)) {
        entry.mode = CdsMode::Use;
        entry.archive = *built_in;
        entry.from_image = true;
        log::info("CDS: the {} starts from the image's class archive {}", cds_display_name(target),
                  *built_in);
        return entry;
    }
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
    if (target == CdsTarget::SparkApp) {
        entry.class_list = log_dir + "/cds-" + cds_file_stem(target) + ".classlist";
        log::info(
            "CDS: no class archive for the {}; the driver records the classes it loads, and one "
            "is written from them after the job (into {})",
            cds_display_name(target), dir_);
        return entry;
    }
    log::info("CDS: no class archive for the {}{}; it writes one when it stops (into {})",
              cds_display_name(target),
              others ? fmt::format(" (only for other Java or {} installs)",
                                   cds_on_hadoop_class_path(target) ? "Hadoop" : "Spark")
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
    // Another of this key was written by a job that ran alongside: one is enough (a JVM mapping
    // it keeps its mapping).
    std::vector<std::pair<fs::file_time_type, fs::path>> others;
    for (const auto& file : fs::directory_iterator(dir_, error)) {
        auto name = parse_cds_archive_name(file.path().filename().string());
        if (!name || name->target != target || file.path() == final_path) continue;
        if (name->key == entry.key)
            fs::remove(file.path(), error);
        else
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
    const std::string log = file_text(log_file);
    if (!contains(log, kRejectedLine)) return;
    if (entry.from_image) {
        // The image cannot change: this user's later jobs write an archive of their own.
        const std::string marker = image_refused_marker(target, entry.key);
        if (fs::exists(marker, error)) return;
        std::ofstream{marker};
        log::warn(
            "CDS: the {}'s JVM refused the image's class archive {} ({}); this user's later "
            "jobs write one of their own into {}",
            cds_display_name(target), entry.archive, line_with(log, kRejectedLine), dir_);
        return;
    }
    if (!fs::exists(entry.archive, error)) return;
    fs::remove(entry.archive, error);
    log::warn(
        "CDS: the {}'s JVM refused the class archive {} ({}); removed it, the next run writes a "
        "new one",
        cds_display_name(target), entry.archive, line_with(log, kRejectedLine));
}

void CdsCache::finish() {
    std::error_code error;
    for (const auto& [target, entry] : entries_) {
        if (entry.mode == CdsMode::Use && target == CdsTarget::SparkApp) {
            // Refused for a class path the user changed, most likely: kept for other drivers.
            if (fs::exists(entry.log_file, error)) {
                const std::string log = file_text(entry.log_file);
                if (contains(log, kRejectedLine))
                    log::info(
                        "CDS: the driver ran without the class archive {} ({}); a driver "
                        "class path of its own (--driver-class-path) does that",
                        entry.archive, line_with(log, kRejectedLine));
            }
            continue;
        }
        if (entry.mode == CdsMode::Use) {
            forget_if_refused(target, entry, entry.helper_log_file);
            forget_if_refused(target, entry, entry.log_file);
            continue;
        }
        if (!fs::exists(entry.log_file, error)) continue;  // never started
        if (contains(file_text(entry.log_file), kWrittenLine) && fs::exists(entry.archive, error)) {
            keep(target, entry);
        } else if (target == CdsTarget::SparkApp) {
            fs::remove(entry.archive, error);
            log::info("CDS: no class archive was written for the {}; the next run tries again",
                      cds_display_name(target));
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
