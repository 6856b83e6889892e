#include "common/ui_login.hpp"

#include "common/files.hpp"

namespace spark_slurm {

std::string ui_login_url(const std::string& base, const std::string& ui_token) {
    return base + "/?" + kUiLoginParameter + "=" + ui_token;
}

std::string ui_login_jars_dir() { return installed_file("share/spark-slurm/ui"); }

std::string ui_login_hadoop_jar() { return ui_login_jars_dir() + "/spark-slurm-ui-javax.jar"; }

}  // namespace spark_slurm
