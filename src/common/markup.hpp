// Text inside XML or HTML (the Hadoop configuration files, the UI's login page): the one
// escaping of the launcher, so that a job dir, a user name or a URL with '&', '<' or a quote
// cannot break the markup it is put in.
#pragma once

#include <string>

namespace spark_slurm {

// `text` with & < > " ' as character references: safe as element text and as a quoted
// attribute value, in XML and HTML alike.
std::string markup_escaped(const std::string& text);

}  // namespace spark_slurm
