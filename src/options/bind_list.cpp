// --bind SRC[:DST[:ro]],...: Apptainer's bind syntax, validated for every source of options.
#include <filesystem>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "options/option_table.hpp"
#include "options/options.hpp"

namespace spark_slurm {

using option_table::reject;

std::string BindMount::spec() const {
    std::string text = source;
    if (destination != source || read_only) text += ":" + destination;
    if (read_only) text += ":ro";
    return text;
}

std::vector<BindMount> parse_bind_list(const std::string& text, const std::string& option,
                                       Command command) {
    auto bad = [&](const std::string& entry, const std::string& why) {
        reject(command, option + " '" + entry + "' " + why +
                            "; write SRC[:DST[:ro]] with absolute paths, comma-separated, e.g. " +
                            option + " /scratch/me/data or " + option +
                            " /scratch/me/data:/data:ro");
    };
    auto absolute = [](const std::string& path) {
        std::string normal = std::filesystem::path(path).lexically_normal().string();
        if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
        return normal;
    };
    std::vector<BindMount> binds;
    std::stringstream entries(text);
    std::string entry;
    while (std::getline(entries, entry, ',')) {
        if (entry.empty()) continue;
        std::vector<std::string> fields;
        std::stringstream parts(entry);
        std::string field;
        while (std::getline(parts, field, ':')) fields.push_back(field);
        if (entry.back() == ':') fields.push_back("");
        if (fields.size() > 3) bad(entry, "has more than three ':'-separated fields");
        BindMount bind;
        if (fields[0].empty() || fields[0].front() != '/')
            bad(entry, "does not start with an absolute source path");
        bind.source = absolute(fields[0]);
        bind.destination = bind.source;
        if (fields.size() >= 2) {
            if (fields[1].empty() || fields[1].front() != '/')
                bad(entry, "has a destination that is not an absolute path");
            bind.destination = absolute(fields[1]);
        }
        if (fields.size() == 3) {
            if (fields[2] == "ro") {
                bind.read_only = true;
            } else if (fields[2] != "rw") {
                bad(entry, "has the option '" + fields[2] + "' (only ro and rw are supported)");
            }
        }
        binds.push_back(bind);
    }
    if (binds.empty())
        reject(command,
               option + " is empty; name a directory, e.g. " + option + " /scratch/me/data");
    return binds;
}

}  // namespace spark_slurm
