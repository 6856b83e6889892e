// The one implementation of private files and directories (see private_files.hpp for why each
// step is there). The checks work on an open descriptor (fstat, fchmod) rather than the path, so
// that nothing can swap the path between the check and the use.
#include "common/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/unique_fd.hpp"
#include "common/user_account.hpp"

namespace spark_slurm {

namespace {

[[noreturn]] void fail(const std::string& doing, const std::string& path, int error_number,
                       const std::string& fix = {}) {
    std::string message = "while " + doing + " " + path + ": " + std::strerror(error_number);
    if (!fix.empty()) message += "; " + fix;
    throw PrivateFileError(message, error_number);
}

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

std::string directory_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string file_name_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

void write_all(int fd, const std::string& content, const std::string& path) {
    const char* data = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        const ssize_t written = ::write(fd, data, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            fail("writing", path, errno, "is the disk full?");
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
}

// The directory open without following a symbolic link at its last component, with its status;
// the refusals name what is wrong and `use`'s fix.
UniqueFd open_private_directory(const std::string& path, const PrivateDirectoryUse& use,
                                struct stat& info) {
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
        const int error = errno;
        struct stat link {};
        if ((error == ELOOP || error == ENOTDIR) && ::lstat(path.c_str(), &link) == 0) {
            throw PrivateFileError(path + " is not a directory but " +
                                       (S_ISLNK(link.st_mode) ? "a symbolic link" : "a file") +
                                       " (made by " + user_name_of(link.st_uid) +
                                       "): " + use.purpose + "; " + use.fix,
                                   error);
        }
        fail("opening the private directory", path, error, use.fix);
    }
    if (::fstat(dir.get(), &info) != 0) fail("checking the private directory", path, errno);
    if (info.st_uid != ::getuid()) {
        throw PrivateFileError(path + " belongs to " + user_name_of(info.st_uid) + " (uid " +
                                   std::to_string(info.st_uid) + "), not to you (uid " +
                                   std::to_string(::getuid()) + "): " + use.purpose + "; " +
                                   use.fix,
                               0);
    }
    return dir;
}

[[noreturn]] void refuse_open_mode(const std::string& path, const struct stat& info,
                                   const PrivateDirectoryUse& use) {
    throw PrivateFileError(path + " is open to group or others (mode " + octal_mode(info.st_mode) +
                               "): " + use.purpose + "; run 'chmod 700 " + path + "'",
                           0);
}

}  // namespace

void write_private_file(const std::string& path, const std::string& content, mode_t mode,
                        Durability durability) {
    const std::string dir = directory_of(path);
    std::string temporary = dir + "/." + file_name_of(path) + ".XXXXXX";
    // mkostemp makes the file 0600 whatever the umask, so it is never readable by others.
    UniqueFd file(::mkostemp(temporary.data(), O_CLOEXEC));
    if (!file) fail("writing", path, errno, "is its directory there and writable?");
    try {
        if (::fchmod(file.get(), mode) != 0) fail("writing", path, errno);
        write_all(file.get(), content, path);
        if (durability == Durability::Synced && ::fsync(file.get()) != 0)
            fail("writing", path, errno, "is the disk full?");
        if (::close(file.release()) != 0) fail("writing", path, errno, "is the disk full?");
        if (::rename(temporary.c_str(), path.c_str()) != 0) fail("writing", path, errno);
    } catch (...) {
        ::unlink(temporary.c_str());
        throw;
    }
    if (durability == Durability::Synced) {
        // The rename is durable once the directory is synced; a failure here loses nothing a
        // reader could see.
        UniqueFd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (directory) ::fsync(directory.get());
    }
}

void make_private_directory(const std::string& path, const PrivateDirectoryUse& use) {
    const bool created = ::mkdir(path.c_str(), 0700) == 0;
    if (!created && errno != EEXIST)
        fail("creating the private directory", path, errno,
             "is its parent directory there and yours to write?");
    struct stat info {};
    UniqueFd dir = open_private_directory(path, use, info);
    if (!created && (info.st_mode & 077) != 0 && !use.tighten_open_mode) {
        refuse_open_mode(path, info, use);
    }
    // Exactly 0700: the umask may have taken bits off a new one, group or others may use an
    // old one (HDFS refuses data directories others can read).
    if ((info.st_mode & 07777) != 0700 && ::fchmod(dir.get(), 0700) != 0)
        fail("making the private directory (chmod 700)", path, errno);
}

void check_private_directory(const std::string& path, const PrivateDirectoryUse& use) {
    struct stat info {};
    UniqueFd dir = open_private_directory(path, use, info);
    if ((info.st_mode & 077) != 0) {
        refuse_open_mode(path, info, use);
    }
}

void restrict_to_owner(const std::string& path) {
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!file) {
        fail("protecting", path, errno, errno == ELOOP ? "it is a symbolic link; remove it" : "");
    }
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) fail("protecting", path, errno);
    if (!S_ISREG(info.st_mode) || info.st_uid != ::getuid())
        throw PrivateFileError(path + " is not a file of yours; remove it", 0);
    if (::fchmod(file.get(), 0600) != 0) fail("protecting (chmod 600)", path, errno);
}

std::optional<std::string> read_private_file(const std::string& path, std::size_t limit) {
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!file) {
        if (errno == ENOENT) return std::nullopt;
        fail("reading", path, errno, errno == ELOOP ? "it is a symbolic link; remove it" : "");
    }
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) fail("reading", path, errno);
    if (!S_ISREG(info.st_mode) || info.st_uid != ::getuid())
        throw PrivateFileError(path + " is not a file of yours; remove it", 0);
    std::string text;
    char buffer[8192];
    while (true) {
        const ssize_t got = ::read(file.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail("reading", path, errno);
        if (got == 0) break;
        if (text.size() + static_cast<std::size_t>(got) > limit) {
            throw PrivateFileError(path + " is larger than the " + std::to_string(limit) +
                                       " bytes such a file can have; remove it",
                                   EFBIG);
        }
        text.append(buffer, static_cast<std::size_t>(got));
    }
    return text;
}

}  // namespace spark_slurm
