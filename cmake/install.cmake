# `cmake --install`: the `electra` binary, the four libraries with their headers, and a CMake
# package so that another project can write
#   find_package(electra CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE electra::autograd)   # or ::engine, ::models, ::data
# (tools/consumer/ is such a project; .ci/run builds it against an install). Kept here rather than
# in each folder's CMakeLists.txt: the targets are defined there, exported here.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ELECTRA_LIBRARIES electra_engine electra_autograd electra_data electra_models)
# Headers are included as "engine/tensor.hpp" (paths from the repository root); installed under
# include/electra/ so that folders named engine/ or models/ do not land in a shared include/.
set(ELECTRA_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/electra)
set(ELECTRA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/electra)

foreach(library ${ELECTRA_LIBRARIES})
  string(REPLACE "electra_" "" short_name ${library})
  set_target_properties(${library} PROPERTIES EXPORT_NAME ${short_name})
  add_library(electra::${short_name} ALIAS ${library})  # the same names inside this build
endforeach()
# engine/CMakeLists.txt adds the source root as a plain path, which an export may not carry:
# the same directory in the build tree, the installed header root in the package.
set_property(TARGET electra_engine PROPERTY INTERFACE_INCLUDE_DIRECTORIES
             $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
             $<INSTALL_INTERFACE:${ELECTRA_INSTALL_INCLUDEDIR}>)
# The static libraries list their private dependencies as link-only; electra_warnings (compile
# flags, nothing to link) is one of them, so it travels in the export set under this name.
set_target_properties(electra_warnings PROPERTIES EXPORT_NAME internal_warnings)

install(TARGETS electra RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${ELECTRA_LIBRARIES} electra_warnings EXPORT electra-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})  # headers: through electra::engine
foreach(folder engine autograd data models)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder} DESTINATION ${ELECTRA_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h" PATTERN "*.inc")
endforeach()
install(EXPORT electra-targets NAMESPACE electra:: DESTINATION ${ELECTRA_CMAKE_DIR})

# electraConfig.cmake finds what the libraries were built with (find_dependency), then the targets.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/electraConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/electraConfig.cmake
                              INSTALL_DESTINATION ${ELECTRA_CMAKE_DIR})
# 0.x: a minor version may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/electraConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/electraConfig.cmake
              ${PROJECT_BINARY_DIR}/electraConfigVersion.cmake
        DESTINATION ${ELECTRA_CMAKE_DIR})
