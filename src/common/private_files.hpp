// Files and directories that hold secrets (the job's secret in configs, keys, tokens, connection
// records), made one way everywhere: a file is written 0600 through a temporary file in its own
// directory and a rename, so that no reader ever sees half of it or a moment of a wider mode; a
// directory is 0700 and refused when it is a symbolic link or another user's, since the names are
// often predictable (/tmp/spark-slurm-JOBID-RANK) and someone else may have made them first; a
// read is bounded and does not follow a symbolic link. Every failure is a PrivateFileError that
// names the path and what to do, and keeps errno.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

#include "common/errors.hpp"

namespace spark_slurm {

struct PrivateFileError : LaunchError {
    PrivateFileError(const std::string& message, int error_number)
        : LaunchError(message), error_number(error_number) {}
    int error_number;  // errno of the failed call; 0 when the refusal is ours (owner, mode)
};

// Whether a file must survive a crash of the node right after the write (fsync of the file and
// its directory), or is scratch that dies with the job anyway.
enum class Durability { Synced, Scratch };

// Writes `content` to `path` with exactly `mode` (0600; 0700 for a script), atomically: a
// temporary file in the same directory (mkostemp, close-on-exec), fchmod, every byte, fsync when
// Synced, rename over `path`. The temporary file is removed on failure.
void write_private_file(const std::string& path, const std::string& content, mode_t mode = 0600,
                        Durability durability = Durability::Synced);

// What a private directory is for, for the messages of refusals: "{path} belongs to uid 65534,
// not to you (uid 1000): {purpose}; {fix}".
struct PrivateDirectoryUse {
    std::string purpose;  // "spark-slurm keeps clusters' connection details and secrets there"
    std::string fix;      // "move it away"
    // An own directory that group or others may use: made 0700 (true), or refused with the
    // chmod that fixes it (false: the user made it so, and may have reasons to know about).
    bool tighten_open_mode = true;
};

// Creates directory `path` with mode 0700 unless it exists (its parent must exist), then checks
// it: a real directory, not a symbolic link (O_NOFOLLOW), owned by the caller, closed to group
// and others. Refusals throw PrivateFileError.
void make_private_directory(const std::string& path, const PrivateDirectoryUse& use);

// The same checks on an existing directory, without creating or changing anything.
void check_private_directory(const std::string& path, const PrivateDirectoryUse& use);

// Makes a file another program wrote (under its umask) 0600: opened without following a
// symbolic link, refused unless it is a regular file of the caller's, then fchmod. For files
// this launcher does not write itself (fetchdt's delegation token).
void restrict_to_owner(const std::string& path);

// The content of regular file `path` of the caller's, without following a symbolic link;
// nullopt when it does not exist. Refuses another user's file, and one larger than `limit`
// bytes (a record or token is small; anything larger is not ours to load into memory).
std::optional<std::string> read_private_file(const std::string& path, std::size_t limit);

}  // namespace spark_slurm
