# Debian 12's libslurm-dev ships slurm/slurm.h and libslurm.so but no pkg-config file.
# Provides Slurm::Slurm and Slurm_VERSION.
find_path(Slurm_INCLUDE_DIR NAMES slurm/slurm.h)
find_library(Slurm_LIBRARY NAMES slurm)
if(Slurm_INCLUDE_DIR AND EXISTS "${Slurm_INCLUDE_DIR}/slurm/slurm_version.h")
  file(STRINGS "${Slurm_INCLUDE_DIR}/slurm/slurm_version.h" _slurm_version_line
       REGEX "^#define SLURM_VERSION_NUMBER")
  string(REGEX MATCH "0x([0-9a-fA-F][0-9a-fA-F])([0-9a-fA-F][0-9a-fA-F])([0-9a-fA-F][0-9a-fA-F])" _
         "${_slurm_version_line}")
  math(EXPR _major "0x${CMAKE_MATCH_1}")
  math(EXPR _minor "0x${CMAKE_MATCH_2}")
  math(EXPR _micro "0x${CMAKE_MATCH_3}")
  set(Slurm_VERSION "${_major}.${_minor}.${_micro}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Slurm REQUIRED_VARS Slurm_LIBRARY Slurm_INCLUDE_DIR
                                  VERSION_VAR Slurm_VERSION)
if(Slurm_FOUND AND NOT TARGET Slurm::Slurm)
  add_library(Slurm::Slurm UNKNOWN IMPORTED)
  set_target_properties(Slurm::Slurm PROPERTIES IMPORTED_LOCATION "${Slurm_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${Slurm_INCLUDE_DIR}")
endif()
mark_as_advanced(Slurm_INCLUDE_DIR Slurm_LIBRARY)
